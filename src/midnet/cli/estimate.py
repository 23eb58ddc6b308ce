"""``midnet estimate FILE|FOLDER``: how blurred and how noisy each image is, without a reference.

For each image (first page, data bar left out, scaled by the detector's bit depth): the PSF
family and σ-equivalent width (`midnet.psf.kernels` defines it), astigmatism, the noise at
mid-grey in the file's grey levels and the probability that the image is in focus, as a table,
or as JSON records with ``--json``. ``--map DIR`` writes, per file, a float32 TIFF of the
PSF width (px) over the image (``<name>_psf_sigma.tif``), from a per-region estimate: tilted
specimens and FIB cross-sections are in focus along one line only.

An input that holds no image (an empty folder, a missing path) is a usage error (exit 2); a
file that cannot be read or estimated gets one error line naming it, the others go on, and
the exit code is 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from midnet.cli.options import failure, usage_error
from midnet.io.files import folder_files
from midnet.io.images import SUFFIXES

_SUPPORTED = "TIFF, PNG, JPEG or BMP (" + ", ".join(sorted(SUFFIXES)) + ")"


def collect(inputs: tuple[str, ...], recursive: bool) -> list[Path]:
    """The image files named or held by ``inputs``; a usage error for one that holds none."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found, broken = folder_files(path, recursive)
            for link in broken:
                click.echo(f"skipped (broken link): {link}", err=True)
            images = [f for f in found if f.suffix.lower() in SUFFIXES and not f.name.startswith(".")]
            if not images:
                raise usage_error(f"{item}: folder holds no image files; expected {_SUPPORTED}"
                                  + ("" if recursive else "; pass --recursive for sub-folders"))
            files.extend(images)
        else:
            raise usage_error(f"{item}: no such file or folder")
    return files


def write_map(est, image_shape: tuple[int, int], path: Path, overwrite: bool) -> Path:  # type: ignore[no-untyped-def]
    """The per-region widths, interpolated to the image (estimated area), as a float32 TIFF."""
    import tifffile
    from scipy import ndimage

    from midnet.io.atomic import atomic_write

    h, w = image_shape
    if est.sigma_map is None:  # image smaller than a map region: the whole-image width everywhere
        full = np.full((h, w), est.psf.sigma_px, np.float32)
    else:
        cy, cx = est.map_centres
        rows = np.interp(np.arange(h), cy, np.arange(len(cy)))
        cols = np.interp(np.arange(w), cx, np.arange(len(cx)))
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        full = ndimage.map_coordinates(est.sigma_map, [rr, cc], order=1, mode="nearest").astype(np.float32)
    return atomic_write(path, lambda tmp: tifffile.imwrite(
        tmp, full, description=json.dumps({"what": "PSF sigma-equivalent width, px", "source": est.file})),
        overwrite=overwrite)


def _table(records: list[dict]) -> str:
    head = f"{'file':<32} {'family':<10} {'sigma_px':>8} {'minor':>6} {'angle':>6} {'noise':>7} {'in_focus':>8}"
    lines = [head, "-" * len(head)]
    for r in records:
        name = r["file"] if len(r["file"]) <= 32 else "…" + r["file"][-31:]
        lines.append(f"{name:<32} {r['family']:<10} {r['sigma_px']:>8.2f} {r['sigma_minor_px']:>6.2f} "
                     f"{r['angle_deg']:>6.1f} {r['noise_sigma']:>7.2f} {r['in_focus']:>8.2f}")
    return "\n".join(lines)


@click.command("estimate")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE|FOLDER...")
@click.option("--json", "as_json", is_flag=True, help="One JSON list of records instead of the table.")
@click.option("--map", "map_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write a PSF-width map (float32 TIFF, px) per file into this folder.")
@click.option("--overwrite", is_flag=True, help="Replace existing map files.")
@click.option("--recursive", is_flag=True, help="Look into sub-folders of folders.")
@click.option("--method", type=click.Choice(["spectral", "learned", "hybrid"]), default="spectral", show_default=True,
              help="The PSF estimator: the spectral fit, the learned CNN, or both (the spectral fit's astigmatism, "
                   "else the CNN); accuracy of each in docs/results/psf-estimation.")
def command(inputs: tuple[str, ...], as_json: bool, map_dir: Path | None, overwrite: bool, recursive: bool,
            method: str) -> None:
    """Estimate blur (PSF family, width, astigmatism), noise and focus of SEM images.

    Widths are σ-equivalent in px (the Gaussian σ with the same MTF50); noise is σ at
    mid-grey in grey levels of the file's range; in_focus is a probability.
    """
    from midnet.psf.api import estimate_file

    files = collect(inputs, recursive)
    if map_dir is not None and map_dir.exists() and not map_dir.is_dir():
        raise usage_error(f"{map_dir}: --map must be a folder")
    records: list[dict] = []
    errors: list[str] = []
    for path in files:
        try:
            est = estimate_file(path, with_map=map_dir is not None, method=method)
            record = est.as_dict()
            if map_dir is not None:
                from midnet.io import read_image  # the map is image-sized: its specimen area

                shape = read_image(path, databar=0).array.shape[:2]
                out = write_map(est, shape, map_dir / f"{path.stem}_psf_sigma.tif", overwrite)
                record["map"] = str(out)
        except (ValueError, OSError) as exc:
            errors.append(" ".join(str(exc).split()))
            if len(files) > 1:  # a single file's error is the command's own message
                click.echo(f"Error: {errors[-1]}", err=True)
            continue
        records.append(record)
    if as_json:
        click.echo(json.dumps(records, indent=1))
    elif records:
        click.echo(_table(records))
    if errors:
        raise failure(f"{len(errors)} of {len(files)} file(s) failed" if len(files) > 1 else errors[0])
