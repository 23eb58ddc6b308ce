"""`midnet data ...`: download, find (`path`) and verify the published MIDNet SEM pairs.

The commands are thin wrappers over :mod:`midnet.sample_data`; they turn its reports into a
readable summary and a non-zero exit status when something is wrong, so scripts and CI can
rely on them.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="data")
def command() -> None:
    """Download the published MIDNet SEM pairs, print their folder (path), verify them, rebuild frames."""


@command.command("download")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to fill (default: the cache, ~/.cache/midnet/midnet-sem or $XDG_CACHE_HOME).",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="G",
    help="Only this source image (e.g. 7 or 7-1); repeatable. Default: all nine.",
)
@click.option(
    "--url",
    "base_url",
    default=None,
    metavar="URL",
    help="Base URL of a mirror (default: $MIDNET_DATA_URL, else the pinned GitHub commit).",
)
@click.option("--attempts", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Tries per file before giving up.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="Network timeout per request, seconds.")
# Deprecated: pooch now sets the wait between tries (1 s, 2 s, ...: the old default).
@click.option("--retry-wait", default=None, type=click.FloatRange(0), hidden=True)
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the summary.")
def download_command(
    dest: Path | None,
    groups: tuple[str, ...],
    base_url: str | None,
    attempts: int,
    timeout: float,
    retry_wait: float | None,
    quiet: bool,
) -> None:
    """Fetch the published crops, verify each by SHA-256 and rebuild the full frames.

    Files already present with the right hash are skipped, so running it again downloads
    nothing. Exits with status 1 and names the files that could not be fetched.
    """
    import sys

    from midnet.sample_data.download import OfflineError, download

    def log(message: str) -> None:
        if not (quiet and message.startswith("[")):
            click.echo(message, err=True)

    if retry_wait is not None:
        click.echo("note: --retry-wait is ignored (deprecated): the wait between tries is "
                   "1 s, 2 s, ...; drop the option", err=True)
    try:
        report = download(
            dest,
            base_url=base_url,
            groups=list(groups) or None,
            attempts=attempts,
            timeout=timeout,
            progressbar=not quiet and sys.stderr.isatty(),
            log=log,
        )
    except OfflineError as error:
        raise click.ClickException(f"download failed: {error}") from None
    except (ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(report.summary())
    _note_env_override(report.dest)
    if not report.ok:
        raise SystemExit(1)


def _note_env_override(dest: Path) -> None:
    """Warn when $MIDNET_DATA points elsewhere: the other commands will not use this copy."""
    import os

    from midnet.sample_data.paths import ENV_DATA

    value = os.environ.get(ENV_DATA, "").strip()
    if value and Path(value).expanduser().absolute() != Path(dest).absolute():
        click.echo(
            f"note: {ENV_DATA}={value} is set, so midnet commands use that folder, not {dest}",
            err=True,
        )


@command.command("path")
@click.option("--download", "fetch", is_flag=True,
              help="Fetch the data into the cache first if it is missing.")
def path_command(fetch: bool) -> None:
    """Print the data folder every command uses ($MIDNET_DATA, else the download cache)."""
    from midnet.sample_data.paths import data_root

    try:
        root = data_root(download=fetch, log=lambda m: click.echo(m, err=True))
    except (OSError, RuntimeError) as error:  # OSError: not found, offline
        raise click.ClickException(str(error)) from None
    click.echo(str(root))


@command.command("verify")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--group", "groups", multiple=True, metavar="G",
              help="Only this source image (e.g. 7); repeatable.")
@click.option("--complete", is_flag=True,
              help="Also fail when published files are missing (default: a partial copy is fine).")
@click.option("--no-frames", is_flag=True, help="Skip comparing frames with a rebuild from crops.")
def verify_command(
    folder: Path | None, groups: tuple[str, ...], complete: bool, no_frames: bool
) -> None:
    """Check the SHA-256 of every published crop in FOLDER (default: the data folder).

    Each frame is also compared pixel for pixel with the stitch of its crops. Exits with
    status 1 when a crop is corrupt or a frame differs (or, with --complete, is missing).
    """
    from midnet.sample_data.paths import data_root
    from midnet.sample_data.verify import verify_folder

    try:
        root = folder if folder is not None else data_root()
        report = verify_folder(root, groups=list(groups) or None, check_frames=not no_frames)
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None

    frame_states = list(report.frames.values())
    click.echo(f"folder: {report.root}")
    click.echo(
        f"crops: {len(report.good)} verified, {len(report.corrupt)} corrupt, "
        f"{len(report.missing)} missing"
    )
    if not no_frames:
        click.echo(
            f"frames: {frame_states.count('matches')} match their crops, "
            f"{frame_states.count('differs')} differ, {frame_states.count('missing')} missing"
        )
    for name in report.corrupt:
        click.echo(f"  corrupt: {name} (wrong SHA-256; `midnet data download --dest {root}` refetches it)")
    for name, state in sorted(report.frames.items()):
        if state == "differs":
            click.echo(f"  frame differs from its crops: {name}")
    missing_frames = [n for n, s in report.frames.items() if s == "missing"]
    failed = not report.ok or (complete and (report.missing or missing_frames))
    if complete:
        for name in report.missing + missing_frames:
            click.echo(f"  missing: {name}")
    if failed:
        raise SystemExit(1)
    click.echo("OK")


@command.command("frames")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--group", "groups", multiple=True, metavar="G",
              help="Only this source image (e.g. 7); repeatable. Default: every complete one.")
@click.option("--overwrite", "replace", is_flag=True,
              help="Rewrite frames that differ from their crops (default: report and keep them).")
@click.option("--replace", "replace_old", is_flag=True, hidden=True)
def frames_command(folder: Path, groups: tuple[str, ...], replace: bool, replace_old: bool) -> None:
    """Rebuild the full 1280x1024 frames of FOLDER from its verified crops.

    Useful for a copy of the crops made by hand. Existing frames are never overwritten unless
    --overwrite is given (the word every midnet command uses; --replace still works, with a
    deprecation message).
    """
    if replace_old:
        click.echo("--replace is deprecated and will be removed; use --overwrite", err=True)
        replace = True
    from midnet.sample_data import frames as fr
    from midnet.sample_data.verify import verify_folder

    try:
        report = verify_folder(folder, groups=list(groups) or None)
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    written = 0
    differs: list[str] = []
    for relframe, state in sorted(report.frames.items()):
        kind, name = Path(relframe).parts[-2:]
        group = Path(name).stem
        if state == "missing":
            crops = {f"{kind}/{fr.crop_name(group, i)}" for i in range(1, fr.CROPS_PER_FRAME + 1)}
            if crops <= set(report.good):
                fr.ensure_frame(folder, kind, group)
                written += 1
        elif state == "differs":
            if replace:
                fr.ensure_frame(folder, kind, group)
                written += 1
            else:
                differs.append(relframe)
    click.echo(f"frames written: {written}")
    if report.corrupt:
        click.echo("corrupt crops (frames not built): " + ", ".join(report.corrupt))
    if differs:
        click.echo("frames that differ from their crops (kept; use --overwrite): " + ", ".join(differs))
    if report.corrupt or differs:
        raise SystemExit(1)
