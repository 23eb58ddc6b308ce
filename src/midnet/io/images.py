"""Reading and writing microscope image files: pixels in their native dtype plus metadata.

`read_image` returns an `ImageFile` whose `pages` are the image planes (one for PNG/JPEG/BMP,
one per IFD for TIFF), whose `info` holds the facts of each page (value of white, data bar,
pixel size, palette, vendor: `midnet.io.pageinfo.PageInfo`, decided once there) and whose
`metadata` holds everything `write_image` needs to write a restored copy that fits back into
the user's workflow: same format, size, dtype, vendor tags, descriptions, resolution, palette,
compression; see `midnet.io.tiff` and `midnet.io.raster`.

`SUFFIXES` is the one list of file types: `deblur`, training pairs, the corpus, `estimate` and
the napari reader all take it from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
import logging
from typing import Any

import numpy as np

from midnet.io.pageinfo import PageInfo

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
    #: the facts of each page, decided by `read_image` (empty for an ImageFile built by hand)
    info: tuple[PageInfo, ...] = ()

    def __post_init__(self) -> None:
        if not self.pages:
            self.pages = [self.array]

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    def page_meta(self, index: int = 0) -> dict[str, Any]:
        """What the reader kept for page ``index`` (a TIFF page's tags; the whole metadata of a
        PNG, JPEG or BMP, which have one page)."""
        pages = self.metadata.get("tiff_pages")
        return pages[index] if pages else self.metadata

    def with_databar(self, setting: Any) -> ImageFile:
        """A copy whose pages' data bar is the user's ``setting`` (``"auto"``: as read)."""
        return replace(self, info=tuple(page.with_databar(setting) for page in self.info))

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


def _below_dtype(white: int | None, dtype: np.dtype) -> bool:
    """Whether ``white`` is a value of white smaller than the unsigned ``dtype``'s maximum."""
    return bool(white) and np.issubdtype(dtype, np.unsignedinteger) and white < np.iinfo(dtype).max


def to_float(array: np.ndarray, white: int | None = None) -> np.ndarray:
    """Scale to float32 [0, 1] by the dtype's range (uint8 /255, uint16 /65535, floats as is),
    or by ``white``, the page's value of white (`midnet.io.pageinfo.PageInfo.white`: 4095 for
    a 12-bit detector in a 16-bit file)."""
    if _below_dtype(white, array.dtype):
        return array.astype(np.float32) / float(white)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32)
    if array.dtype == bool:
        return array.astype(np.float32)
    raise ValueError(f"unsupported image dtype {array.dtype}")


def from_float(x: np.ndarray, dtype: np.dtype, white: int | None = None) -> np.ndarray:
    """Inverse of `to_float`: clip to the dtype's range (or to ``white``) and round (never wraps)."""
    dtype = np.dtype(dtype)
    if _below_dtype(white, dtype):
        return np.clip(np.rint(np.asarray(x, dtype=np.float64) * white), 0, white).astype(dtype)
    if dtype == np.uint8:
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.clip(np.rint(x * 65535.0), 0, 65535).astype(np.uint16)
    if np.issubdtype(dtype, np.floating):
        return x.astype(dtype)
    raise ValueError(f"unsupported image dtype {dtype}")
