"""Reading and writing whole image files: the format dispatch over :mod:`~midnet.io.tiff`,
:mod:`~midnet.io.raster` and the vendor :mod:`~midnet.io.sidecar` files.

Why a module of its own: the format modules build :class:`~midnet.io.images.ImageFile` objects,
so the dispatch that calls them cannot live beside that class without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

from midnet.io import raster, sidecar, tiff
from midnet.io.atomic import atomic_write
from midnet.io.images import ImageFile, image_format

__all__ = ["read_image", "write_image"]


def read_image(path: str | Path) -> ImageFile:
    """Read ``path`` (TIFF, PNG, JPEG, BMP) with its metadata; one-line ValueError if unreadable."""
    path = Path(path)
    fmt = image_format(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        image = tiff.read_tiff(path) if fmt == "tiff" else raster.read_raster(path, fmt)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: cannot read image ({_one_line(exc)}); "
                         f"check the file is a valid {fmt.upper()}") from exc
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the same user error
        raise ValueError(f"{path}: cannot read image ({type(exc).__name__}: {_one_line(exc)}); "
                         f"check the file is a valid {fmt.upper()}") from exc
    found = sidecar.find_sidecar(path)
    if found is not None:
        image.metadata["sidecar"] = found
        image.metadata["sidecar_text"] = sidecar.read_text(found)
    return image


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def write_image(path: str | Path, image: ImageFile, *, note: str | None = None,
                overwrite: bool = False) -> Path:
    """Write ``image`` to ``path`` in ``image.format`` with its metadata, atomically.

    ``note`` (tool, version, model) goes where it overwrites no vendor metadata: the TIFF
    Software tag if empty else ProcessingSoftware, a PNG ``Software`` text chunk (else
    ``midnet``), the JPEG EXIF Software (else ProcessingSoftware). BMP has no place for it.
    """
    path = Path(path)
    if image_format(path) != image.format:
        raise ValueError(f"{path}: output suffix does not match the input's format {image.format}")
    if image.format == "tiff":
        return atomic_write(path, lambda tmp: tiff.write_tiff(tmp, image, note), overwrite=overwrite)
    return atomic_write(path, lambda tmp: raster.write_raster(tmp, image, note), overwrite=overwrite)
