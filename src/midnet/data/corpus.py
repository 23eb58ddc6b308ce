"""Sharp SEM micrographs for synthetic-defocus training, grouped by source and split by source.

Why by source: images from one repository share microscope, detector, material and operator;
a validation figure is only honest for microscopes and materials a model never saw, so whole
sources (top-level folders) are held out, never single images.

A corpus folder holds ``<source>/<...>/<image>`` files and optionally an ``inventory.tsv``
(columns ``relative_path`` and ``databar_rows``) naming the rows at the bottom that are not
specimen (the info bar; for an inset box, every row from the box down). Those rows are cut off
before an image is used.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from midnet.data.channels import to_model_channels
from midnet.io import SUFFIXES, read_image


@dataclass
class SharpImage:
    """One sharp grey image in [0, 1] (H, W), with the source it belongs to."""

    source: str
    name: str
    image: np.ndarray


def read_inventory(path: str | Path) -> dict[str, int]:
    """``relative_path -> databar_rows`` from an inventory TSV."""
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        missing = {"relative_path", "databar_rows"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: inventory lacks column(s) {sorted(missing)}; it needs "
                             f"relative_path and databar_rows")
        return {row["relative_path"]: int(row["databar_rows"] or 0) for row in reader}


def grey_unit(array: np.ndarray) -> np.ndarray:
    """Any grey/RGB(A) image -> float32 (H, W) in [0, 1].

    8-bit data is scaled by 255. Deeper data (12/14-bit detectors stored in 16-bit containers,
    floats) is stretched between its 0.01 % and 99.99 % quantiles, because a sharp training
    target only needs a faithful shape, not the detector's absolute scale."""
    grey = to_model_channels(array, 1)[0]
    if array.dtype != np.uint8:
        lo, hi = np.quantile(grey, [1e-4, 1 - 1e-4])
        grey = np.clip((grey - lo) / max(hi - lo, 1e-6), 0, 1)
    return grey.astype(np.float32)


def list_corpus(root: str | Path) -> list[Path]:
    """Every image file below ``root`` (sorted, so that sample indices are stable)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: corpus folder not found; pass the folder that holds the "
                                f"sharp images (one sub-folder per source)")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"{root}: no images ({', '.join(sorted(SUFFIXES))}) found in the corpus folder")
    return files


def source_of(relative: Path) -> str:
    """A file's source is its top-level folder (``.`` for files directly in the root)."""
    return relative.parts[0] if len(relative.parts) > 1 else "."


def load_corpus(root: str | Path, *, sources: Iterable[str] | None = None,
                exclude_sources: Iterable[str] = (), inventory: str | Path | None = None,
                min_size: int = 0) -> list[SharpImage]:
    """Load the corpus's images (data bars cut off), optionally only some sources.

    ``inventory`` defaults to ``root/inventory.tsv`` when it exists; files it does not list get
    their bar from `midnet.io.read_image` (the page's `PageInfo`). Images whose remaining
    specimen area is smaller than ``min_size`` on a side are an error naming the file."""
    root = Path(root)
    inv_path = Path(inventory) if inventory else root / "inventory.tsv"
    bars = read_inventory(inv_path) if inv_path.is_file() else {}
    wanted = set(sources) if sources is not None else None
    excluded = set(exclude_sources)
    images = []
    for path in list_corpus(root):
        rel = path.relative_to(root)
        src = source_of(rel)
        if (wanted is not None and src not in wanted) or src in excluded:
            continue
        # the inventory's count, else the page's own answer (as `midnet deblur` uses)
        image = read_image(path, databar=bars.get(rel.as_posix(), "auto"))
        grey = grey_unit(image.array)
        rows = image.info[0].databar.rows
        if rows:
            grey = grey[: grey.shape[0] - rows]
        if min(grey.shape) < min_size:
            raise ValueError(f"{path}: specimen area {grey.shape[1]}x{grey.shape[0]} is smaller than "
                             f"the crop size {min_size}; lower the crop size or drop the file")
        images.append(SharpImage(src, rel.as_posix(), np.ascontiguousarray(grey)))
    found = {im.source for im in images}
    if wanted is not None and wanted - found:
        raise ValueError(f"{root}: source folder(s) {sorted(wanted - found)} not found; "
                         f"sources here: {sorted({source_of(p.relative_to(root)) for p in list_corpus(root)})}")
    return images


def corpus_sources(images: Sequence[SharpImage]) -> list[str]:
    return sorted({im.source for im in images})
