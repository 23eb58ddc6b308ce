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
import re
from typing import Any

import numpy as np

from midnet.io.atomic import atomic_write

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


#: leading bytes of each format, for reading files by their content
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"II+\x00", "tiff"), (b"MM\x00+", "tiff"),
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"BM", "bmp"),
)


def sniff_format(path: Path) -> str | None:
    """The format the file's first bytes announce (None: none midnet reads)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    return None


def read_image(path: str | Path) -> ImageFile:
    """Read ``path`` (TIFF, PNG, JPEG, BMP) with its metadata; one-line ValueError if unreadable.

    The format is taken from the file's content, so a BMP saved as ``.png`` is read as the BMP
    it is (and written back as one, under its name); the suffix only selects which files are
    images. Errors always name the file, never a decoder's internal buffer.
    """
    from midnet.io import raster, sidecar, tiff

    path = Path(path)
    fmt = image_format(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: empty file (0 bytes); the transfer or save was interrupted, copy it again")
    content = sniff_format(path)
    if content is None:
        raise ValueError(f"{path}: cannot read image (its content is not TIFF, PNG, JPEG or BMP); "
                         f"check the file is a valid {fmt.upper()}")
    if content != fmt:
        log.info("%s: content is %s, not %s as the name says; reading it as %s",
                 path, content.upper(), fmt.upper(), content.upper())
        fmt = content
    try:
        image = tiff.read_tiff(path) if fmt == "tiff" else raster.read_raster(path, fmt)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: cannot read image ({_one_line(exc, path)}); "
                         f"check the file is a complete, valid {fmt.upper()} ({size} bytes)") from exc
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the same user error
        raise ValueError(f"{path}: cannot read image ({type(exc).__name__}: {_one_line(exc, path)}); "
                         f"check the file is a complete, valid {fmt.upper()} ({size} bytes)") from exc
    found = sidecar.find_sidecar(path)
    if found is not None:
        image.metadata["sidecar"] = found
        image.metadata["sidecar_text"] = sidecar.read_text(found)
    return image


def _one_line(exc: BaseException, path: Path | None = None) -> str:
    """The message on one line, a decoder's ``<_io.BytesIO object at ...>`` replaced by the name."""
    text = " ".join(str(exc).split())
    if path is not None:
        text = re.sub(r"<_io\.\w+ (object )?(at 0x[0-9a-f]+|name=[^>]*)>", path.name, text)
    return text[:200] or type(exc).__name__


def write_image(path: str | Path, image: ImageFile, *, note: str | None = None,
                overwrite: bool = False) -> Path:
    """Write ``image`` to ``path`` in ``image.format`` with its metadata, atomically.

    ``note`` (tool, version, model) goes where it overwrites no vendor metadata: the TIFF
    Software tag if empty else ProcessingSoftware, a PNG ``Software`` text chunk (else
    ``midnet``), the JPEG EXIF Software (else ProcessingSoftware). BMP has no place for it.
    """
    from midnet.io import raster, tiff

    path = Path(path)
    if image_format(path) != image.format and path.suffix.lower() != image.path.suffix.lower():
        raise ValueError(f"{path}: output suffix does not match the input's format {image.format}")
    if image.format == "tiff":
        return atomic_write(path, lambda tmp: tiff.write_tiff(tmp, image, note), overwrite=overwrite)
    return atomic_write(path, lambda tmp: raster.write_raster(tmp, image, note), overwrite=overwrite)


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
