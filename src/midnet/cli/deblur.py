"""``midnet deblur``: restore the files a microscope wrote, keeping format, metadata and data bar.

Inputs are files, folders (their image files; ``--recursive`` for sub-folders) and glob
patterns; each output keeps its input's name and sub-path under OUTDIR. A file that cannot be
read or written gets one error line and the batch goes on; the exit code is 1 when any failed.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

import click

from midnet.cli.options import (databar_option, device_option, model_option, parse_databar, tile_option,
                                tlc_option, tlc_value, usage_error)
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


def collect_inputs(inputs: tuple[str, ...], recursive: bool, outdir: Path
                   ) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(source, relative output path) pairs, and one-line errors for inputs that match nothing.

    Files inside ``outdir`` are skipped when scanning folders, so that a rerun with OUTDIR
    inside the input folder does not restore its own outputs.
    """
    pairs: list[tuple[Path, Path]] = []
    errors: list[str] = []
    out_resolved = outdir.resolve()

    def inside_outdir(path: Path) -> bool:
        return out_resolved in path.resolve().parents

    for item in inputs:
        path = Path(item)
        if path.is_file():
            pairs.append((path, Path(path.name)))
        elif path.is_dir():
            found = path.rglob("*") if recursive else path.iterdir()
            for file in sorted(found):
                if _is_image(file) and not inside_outdir(file):
                    pairs.append((file, file.relative_to(path)))
        elif _GLOB_CHARS & set(item):
            base = _glob_base(item)
            matches = [Path(m) for m in sorted(glob.glob(item, recursive=recursive))]
            matches = [m for m in matches if _is_image(m) and not inside_outdir(m)]
            if not matches:
                errors.append(f"{item}: no image files match this pattern")
            pairs.extend((m, m.relative_to(base)) for m in matches)
        else:
            errors.append(f"{item}: no such file or folder")
    return pairs, errors


@click.command("deblur")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", "outdir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the restored files.")
@model_option()
@device_option()
@tile_option()
@tlc_option()
@click.option("--overlap", type=click.IntRange(min=0), default=None,
              help="Tile overlap in pixels [default: max(32, tile/8)].")
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True,
              help="Tiles per forward pass.")
@databar_option("Rows of the bottom info band to copy unchanged: auto, none or a number.")
@click.option("--recursive", is_flag=True, help="Also restore images in sub-folders of folder inputs.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
def command(inputs: tuple[str, ...], outdir: Path, model: str | None, device: str, tile: int, tlc: int,
            overlap: int | None, batch_size: int, databar: str | int, recursive: bool,
            overwrite: bool) -> None:
    """Deblur SEM images: INPUT... are files, folders or glob patterns."""
    from tqdm import tqdm

    from midnet.inference.deblurrer import Deblurrer

    pairs, errors = collect_inputs(inputs, recursive, outdir)
    if not pairs and errors:
        raise click.ClickException("; ".join(errors))
    try:
        deblurrer = Deblurrer.from_pretrained(model, device=device, tile=tile or None,
                                              overlap=overlap, batch_size=batch_size, tlc=tlc_value(tlc))
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise usage_error(exc) from None
    for message in errors:
        click.echo(f"error: {message}", err=True)
    failed = [message.split(":")[0] for message in errors]
    seen: dict[Path, Path] = {}
    done = 0
    bar = tqdm(pairs, unit="file", desc="deblur", file=sys.stderr, disable=None)
    for src, rel in bar:
        dst = outdir / rel
        try:
            if dst in seen and seen[dst].resolve() == src.resolve():
                continue  # the same file named twice (e.g. as a file and inside a folder)
            if dst in seen:
                raise ValueError(f"same output name as {seen[dst]}; restore them into separate folders")
            seen[dst] = src
            deblurrer.deblur_file(src, dst, databar=databar, overwrite=overwrite)
            done += 1
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            message = " ".join(str(exc).split())
            if not message.startswith(str(src)):
                message = f"{src}: {message}"
            tqdm.write(f"error: {message}", file=sys.stderr)
            failed.append(str(src))
    bar.close()
    total = len(pairs) + len(errors)
    click.echo(f"restored {done} of {total} input(s) into {outdir} with {deblurrer.model_name}")
    if failed:
        click.echo(f"{len(failed)} failed: {', '.join(failed)}", err=True)
        sys.exit(1)
