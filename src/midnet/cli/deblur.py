"""``midnet deblur``: restore the files a microscope wrote, keeping format, metadata and data bar.

Inputs are files, folders (their image files; ``--recursive`` for sub-folders) and glob
patterns; each output keeps its input's name and sub-path under OUTDIR. A file that cannot be
read or written gets one error line and the batch goes on; the exit code is 1 when any failed.
The loop itself (pipelined, resumable with ``--skip-existing``, stopped cleanly by Ctrl-C or
SIGTERM with exit code 130/143 and "N of M done") is `midnet.cli.batch`; its progress lines,
on a terminal or in a log, `midnet.cli.progress`.

Mistakes that would make the whole run a no-op or waste it are usage errors, reported in one
line with exit code 2 before any model is loaded: inputs that hold no image file (an empty
folder, only other file types, only files whose content is no image), an output folder that is one of the input folders, and an
output folder that cannot be created or written to.

``--psf auto|SPEC|none`` steers a PSF-aware model (issue 18): without ``--model`` it loads
``sem-psf-preview``; each file's PSF (estimated or given) is printed and kept in the output's
processing note. ``--psf-map`` estimates a PSF per tile (blur that varies across the frame).
A bad spec, or a PSF given to a blind model, is a usage error.
"""

from __future__ import annotations

import glob
import os
import sys
import time
import uuid
from pathlib import Path

import click

from midnet.cli.batch import BatchResult, plan_jobs, run_batch
from midnet.cli.options import (databar_option, device_option, model_option, parse_databar, tile_option,
                                tlc_option, tlc_value, usage_error)
from midnet.cli.progress import BatchProgress
from midnet.cli.psf_option import blind_model_note, check_psf_options, psf_options
from midnet.cli.signals import exit_code, stop_on_signals
from midnet.cli.deblur_cluster import cluster_options, needs_cluster_path, run_cluster
from midnet.io.files import folder_files
from midnet.io.images import SUFFIXES

_GLOB_CHARS = set("*?[")
__all__ = ["command", "collect_inputs", "parse_databar"]


def _glob_base(pattern: str) -> Path:
    """The leading folders of ``pattern`` before the first component with a wildcard."""
    parts = []
    for part in Path(pattern).parts:
        if _GLOB_CHARS & set(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith(".")


def _is_candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".")


def collect_inputs(inputs: tuple[str, ...], recursive: bool, outdir: Path,
                   skipped: list[Path] | None = None) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(source, relative output path) pairs, and one-line errors for inputs that match nothing.

    Files inside ``outdir`` are skipped when scanning folders, so that a rerun with OUTDIR
    inside the input folder does not restore its own outputs. Files of folders and patterns
    that are not images by their suffix, and broken links, are appended to ``skipped``.
    """
    pairs: list[tuple[Path, Path]] = []
    errors: list[str] = []
    skipped = skipped if skipped is not None else []
    out_resolved = outdir.resolve()

    def inside_outdir(path: Path) -> bool:
        return out_resolved in path.resolve().parents

    for item in inputs:
        path = Path(item)
        if path.is_file():
            pairs.append((path, Path(path.name)))
        elif path.is_dir():
            found, broken = folder_files(path, recursive)
            skipped.extend(broken)
            files = [f for f in found if _is_candidate(f) and not inside_outdir(f)]
            images = [f for f in files if _is_image(f)]
            stems = {(f.parent, f.stem) for f in images}  # JEOL/Hitachi .txt sidecars are no skips
            skipped.extend(f for f in files if not _is_image(f) and (f.parent, f.stem) not in stems)
            if not images:
                what = "is empty" if not files else f"holds no image files ({len(files)} other files)"
                deeper = "" if recursive else "; pass --recursive for sub-folders"
                errors.append(f"{item}: folder {what}; expected {_SUPPORTED}{deeper}")
            pairs.extend((f, f.relative_to(path)) for f in images)
        elif _GLOB_CHARS & set(item):
            base = _glob_base(item)
            matches = [Path(m) for m in sorted(glob.glob(item, recursive=recursive))]
            matches = [m for m in matches if _is_candidate(m) and not inside_outdir(m)]
            skipped.extend(m for m in matches if not _is_image(m))
            matches = [m for m in matches if _is_image(m)]
            if not matches:
                errors.append(f"{item}: no image files match this pattern")
            pairs.extend((m, m.relative_to(base)) for m in matches)
        else:
            errors.append(f"{item}: no such file or folder")
    return pairs, errors


#: a job of at least this many megapixels compiles the model when no compiled copy is cached
#: (compiling costs about a minute on a 2-core CPU and then saves about half of every forward)
COMPILE_MIN_MEGAPIXELS = 50.0


def _megapixels(path: Path) -> float:
    """A cheap size estimate from the file size (2 bytes per pixel), without decoding."""
    try:
        return path.stat().st_size / 2e6
    except OSError:
        return 0.0


_SUPPORTED = "TIFF, PNG, JPEG or BMP (" + ", ".join(sorted(SUFFIXES)) + ")"


def _has_image_content(path: Path) -> bool:
    """Whether the file starts like an image midnet reads (8 bytes read; decoding comes later)."""
    from midnet.io.files import sniff_format

    try:
        return sniff_format(path) is not None
    except OSError:
        return False


def _usage_error(message: str) -> None:
    """One line on stderr in click's error style, exit code 2 (a usage error: nothing was restored)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def output_is_an_input_folder(outdir: Path, inputs: tuple[str, ...]) -> str | None:
    """Why OUTDIR cannot be used because it is where inputs are (one line), or None."""
    resolved = outdir.resolve()
    for item in inputs:
        path = Path(item)
        folder = path if path.is_dir() else path.parent if path.is_file() else None
        if folder is not None and folder.resolve() == resolved:
            return (f"{outdir}: output folder is the input folder {item}; restored files would sit "
                    "beside (or replace) the originals; choose another --out folder")
    return None


def check_output_folder(outdir: Path) -> str | None:
    """Why OUTDIR cannot be written (one line), or None: checked before any restoration runs.

    Nothing is created: the probe goes into OUTDIR if it exists, else into its nearest existing
    parent (where OUTDIR will be made), so a refused run leaves no empty folder behind."""
    target = outdir
    while not target.exists():
        if target.parent == target:
            break
        target = target.parent
    if not target.is_dir():
        return f"{outdir}: cannot create the output folder ({target} is not a folder); choose another --out"
    probe = target / f".midnet-write-test-{uuid.uuid4().hex[:8]}"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"midnet")
    except OSError as exc:
        return (f"{outdir}: output folder is not writable ({exc.strerror or exc}); "
                "choose another --out or fix its permissions")
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass
    return None


@click.command("deblur")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", "outdir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the restored files.")
@model_option()
@device_option()
@click.option("--backend", type=click.Choice(["auto", "compiled", "eager"]), default="auto", show_default=True,
              help="compiled: an ahead-of-time compiled model, cached on disk after its first use "
                   "(about 2x faster on a CPU); auto: compiled when cached or when the job is large; "
                   "eager: plain PyTorch.")
@tile_option()
@tlc_option()
@click.option("--overlap", type=click.IntRange(min=0), default=None,
              help="Tile overlap in pixels [default: the model's measured effective receptive field].")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Tiles per forward pass [default: as many as fit the memory budget, at most 16].")
@databar_option("Rows of the bottom info band to copy unchanged: auto, none or a number.")
@psf_options()
@cluster_options()
@click.option("--recursive", is_flag=True, help="Also restore images in sub-folders of folder inputs.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--skip-existing", is_flag=True,
              help="Leave files whose output exists alone (finish an interrupted batch); each is reported as skipped.")
@click.option("--verbose", "-v", is_flag=True, help="List the files skipped for their type.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary (errors are still printed).")
def command(inputs: tuple[str, ...], outdir: Path, model: str | None, device: str, backend: str,
            tile: int | None, tlc: int | None, overlap: int | None, batch_size: int | None, databar: str | int,
            psf: str | None, psf_map: bool, noise: float | None, cluster: str | None, resume: bool, chunk: int | None, recursive: bool,
            overwrite: bool, skip_existing: bool, verbose: bool, quiet: bool) -> None:
    """Deblur SEM images: INPUT... are files, folders or glob patterns.

    Off a terminal (a log, nohup, CI) progress is one line per file and, within a long image,
    one line a minute; Ctrl-C or SIGTERM stop after the files in hand are written and say how
    many are done (exit 130 or 143); rerun with --skip-existing to finish.
    """
    start = time.perf_counter()
    if overwrite and skip_existing:
        _usage_error("--overwrite and --skip-existing contradict each other; pass one of them")
    if check_psf_options(psf, psf_map):
        _usage_error(check_psf_options(psf, psf_map))
    if cluster or resume or needs_cluster_path(inputs, recursive):  # Dask: clusters, large images (issue 20)
        problem = output_is_an_input_folder(outdir, inputs)
        if problem:
            _usage_error(problem)
        sys.exit(run_cluster(inputs, outdir, cluster=cluster, resume=resume, chunk=chunk, recursive=recursive,
                             overwrite=overwrite, quiet=quiet, verbose=verbose, databar=databar, model=model,
                             device=device, backend=backend, tile=tile, tlc=tlc, overlap=overlap,
                             batch_size=batch_size, psf=psf, noise=noise, collect=collect_inputs, check_output=check_output_folder))
    result = BatchResult()
    progress: BatchProgress | None = None
    with stop_on_signals():
        try:
            pairs, errors, skipped = _checked_inputs(inputs, outdir, recursive)
            result.jobs = len(pairs)
            deblurrer = _load(model, device, backend, tile, overlap, batch_size, tlc, pairs, quiet,
                              psf=psf, psf_map=psf_map, noise=noise)
            note = blind_model_note(deblurrer.model_name, psf, psf_map, deblurrer.psf_aware)
            if note:
                click.echo(note, err=True)
            progress = BatchProgress(len(pairs) + len(errors), quiet=quiet)
            for message in errors:
                progress.echo(f"error: {message}")
            result.failed += [message.split(":")[0] for message in errors]

            def report(src: Path, exc: BaseException) -> None:
                progress.echo(f"error: {src}: {exc}")
                result.failed.append(str(src))

            jobs = plan_jobs(pairs, outdir, report)
            run_batch(deblurrer, jobs, databar=databar, overwrite=overwrite, skip_existing=skip_existing,
                      progress=progress, result=result)
        except KeyboardInterrupt as exc:
            if progress is not None:
                progress.close()
            how = "Ctrl-C" if exit_code(exc) == 130 else str(exc)
            hint = "; rerun with --skip-existing to restore the rest" if result.jobs > result.done else ""
            click.echo(f"interrupted ({how}): {result.done} of {result.jobs} done in {outdir}{hint}", err=True)
            sys.exit(exit_code(exc))
    progress.close()
    seconds = time.perf_counter() - start
    total = len(pairs) + len(errors)
    notes = []
    if result.skipped:
        notes.append(f"{result.skipped} skipped (output exists)")
    broken = [p for p in skipped if p.is_symlink() and not p.exists()]
    if len(skipped) > len(broken):
        notes.append(f"{len(skipped) - len(broken)} other file(s) skipped (not an image type)")
    if broken:
        notes.append(f"{len(broken)} broken link(s) skipped")
    if not quiet:
        rate = result.megapixels / seconds if seconds > 0 else 0.0
        note = "".join(f"; {n}" for n in notes)
        click.echo(f"restored {result.restored} of {total} input(s) into {outdir} with {deblurrer.model_name} "
                   f"in {seconds:.1f} s ({rate:.2f} MP/s, {deblurrer.execution}){note}")
    for path in broken:  # always named: a link that points nowhere is a mistake to fix
        click.echo(f"skipped (broken link to {os.readlink(path)}): {path}", err=True)
    if verbose:
        for path in skipped:
            if path not in broken:
                click.echo(f"skipped (not an image type): {path}", err=True)
    if result.failed:
        click.echo(f"{len(result.failed)} failed: {', '.join(result.failed)}", err=True)
        sys.exit(1)


def _checked_inputs(inputs: tuple[str, ...], outdir: Path,
                    recursive: bool) -> tuple[list[tuple[Path, Path]], list[str], list[Path]]:
    """(pairs, errors, files skipped for their type), or a usage error (exit 2) before any work."""
    problem = output_is_an_input_folder(outdir, inputs)
    if problem:
        _usage_error(problem)
    skipped: list[Path] = []
    pairs, errors = collect_inputs(inputs, recursive, outdir, skipped)
    if not pairs:
        _usage_error("; ".join(errors) or "no image files among the inputs")
    if not any(_has_image_content(src) for src, _ in pairs):
        names = ", ".join(str(src) for src, _ in pairs[:3]) + (" ..." if len(pairs) > 3 else "")
        _usage_error(f"no readable image among the {len(pairs)} input file(s) ({names}): each is empty "
                     "or not TIFF, PNG, JPEG or BMP inside")
    problem = check_output_folder(outdir)
    if problem:
        _usage_error(problem)
    return pairs, errors, skipped


def _load(model: str | None, device: str, backend: str, tile: int | None, overlap: int | None,
          batch_size: int | None, tlc: int | None, pairs: list[tuple[Path, Path]], quiet: bool, *,
          psf: str | None = None, psf_map: bool = False, noise: float | None = None):
    """The Deblurrer, prepared (compiled when the job is large, `COMPILE_MIN_MEGAPIXELS`)."""
    from midnet.inference.deblurrer import Deblurrer

    try:
        deblurrer = Deblurrer.from_pretrained(model, device=device, tile=tile, overlap=overlap,
                                              batch_size=batch_size, tlc=tlc_value(tlc),
                                              backend="eager" if backend == "eager" else "auto",
                                              psf=psf, psf_map=psf_map, noise=noise)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise usage_error(exc) from None
    if not quiet:
        deblurrer.notify = lambda message: click.echo(message, err=True)
    big_job = sum(_megapixels(src) for src, _ in pairs) >= COMPILE_MIN_MEGAPIXELS
    deblurrer.prepare(compile_if_missing=backend == "compiled" or big_job)
    return deblurrer
