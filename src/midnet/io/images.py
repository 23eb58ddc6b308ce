"""Reading and writing microscope image files: pixels in their native dtype plus metadata.

`read_image` returns an `ImageFile` whose `pages` are the image planes (one for PNG/JPEG/BMP,
one per IFD for TIFF) and whose `metadata` holds everything `write_image` needs to write a
restored copy that fits back into the user's workflow: same format, size, dtype, vendor tags,
descriptions, resolution, palette, compression; see `midnet.io.tiff` and `midnet.io.raster`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: file suffixes `read_image` understands, by format
SUFFIXES: dict[str, str] = {
    ".tif": "tiff", ".tiff": "tiff", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg",
    ".bmp": "bmp",
}


@dataclass
class ImageFile:
    """One image file: ``array`` is the first page, ``pages`` all of them (multi-page TIFF)."""

    path: Path
    array: np.ndarray
    format: str
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.pages:
            self.pages = [self.array]

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    def with_pages(self, pages: Sequence[np.ndarray]) -> ImageFile:
        """A copy holding new pixel ``pages`` (same count, shapes and dtypes) and this metadata."""
        pages = list(pages)
        if len(pages) != len(self.pages):
            raise ValueError(f"{self.path}: expected {len(self.pages)} pages, got {len(pages)}")
        for old, new in zip(self.pages, pages):
            if old.shape != new.shape or old.dtype != new.dtype:
                raise ValueError(f"{self.path}: page {old.shape} {old.dtype} replaced by "
                                 f"{new.shape} {new.dtype}; shape and dtype must be kept")
        return replace(self, array=pages[0], pages=pages)


def image_format(path: str | Path) -> str:
    """The format name for ``path``'s suffix, or a ValueError naming the supported ones."""
    path = Path(path)
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; supported: "
                         f"{', '.join(sorted(SUFFIXES))}") from None


def to_float(array: np.ndarray) -> np.ndarray:
    """Scale to float32 [0, 1] by the dtype's range (uint8 /255, uint16 /65535, floats as is)."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32)
    if array.dtype == bool:
        return array.astype(np.float32)
    raise ValueError(f"unsupported image dtype {array.dtype}")


def from_float(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Inverse of `to_float`: clip to the dtype's range and round (never wraps)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.clip(np.rint(x * 65535.0), 0, 65535).astype(np.uint16)
    if np.issubdtype(dtype, np.floating):
        return x.astype(dtype)
    raise ValueError(f"unsupported image dtype {dtype}")


def is_grey_ramp(palette: np.ndarray) -> bool:
    """True when a palette (N, 3) is a grey ramp, overlay colours allowed (see `midnet.io.palette`)."""
    from midnet.io.palette import is_grey_with_overlays

    return is_grey_with_overlays(palette)
