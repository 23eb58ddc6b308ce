"""Reading and writing whole image files: the format dispatch over :mod:`~midnet.io.tiff`,
:mod:`~midnet.io.raster` and the vendor :mod:`~midnet.io.sidecar` files, and the facts of each
page (:func:`page_info`), decided here once so that no consumer decides them again.

Why a module of its own: the format modules build :class:`~midnet.io.images.ImageFile` objects,
so the dispatch that calls them cannot live beside that class without an import cycle.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from dataclasses import replace
from typing import Any

from midnet.io import raster, sidecar, tiff
from midnet.io.atomic import atomic_write
from midnet.io.bitdepth import value_range
from midnet.io.databar import databar_report
from midnet.io.images import ImageFile, image_format
from midnet.io.pageinfo import DataBar, PageInfo, parse_databar
from midnet.io.vendors import imagej_pixel_size, page_vendor

__all__ = ["folder_files", "page_info", "read_image", "sniff_format", "write_image"]

log = logging.getLogger(__name__)


def folder_files(folder: Path, recursive: bool) -> tuple[list[Path], list[Path]]:
    """(files, broken links) in ``folder``, sorted; with ``recursive`` its sub-folders too.

    Why not ``Path.rglob``: it lists a symlinked sub-folder but does not enter it, and drops a
    broken link without a word, so a folder of links to the microscope's share restored nothing
    and said nothing. Here a linked sub-folder is entered once (a link back up is not followed
    again), and broken links come back for the caller to report.
    """
    files: list[Path] = []
    broken: list[Path] = []
    seen = {folder.resolve()}
    stack = [folder]
    while stack:
        current = stack.pop()
        for entry in sorted(current.iterdir()):
            if entry.is_symlink() and not entry.exists():
                broken.append(entry)
            elif entry.is_dir():
                target = entry.resolve()
                if recursive and target not in seen:
                    seen.add(target)
                    stack.append(entry)
            elif entry.is_file():
                files.append(entry)
    return sorted(files), sorted(broken)


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


def read_image(path: str | Path, *, databar: Any = "auto") -> ImageFile:
    """Read ``path`` (TIFF, PNG, JPEG, BMP) with its metadata and the facts of every page
    (``info``, see :func:`page_info`); one-line ValueError if unreadable.

    ``databar``: ``"auto"`` (the page's metadata, overlay, else pixels), or the user's setting
    (rows; ``"none"``/0), which is then the answer, without detection.
    The format is taken from the file's content, so a BMP saved as ``.png`` is read as the BMP
    it is (and written back as one, under its name); the suffix only selects which files are
    images. Errors always name the file, never a decoder's internal buffer.
    """
    path = Path(path)
    try:
        setting = parse_databar(databar)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
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
    return replace(image, info=tuple(page_info(image, i, setting) for i in range(len(image.pages))))


def page_info(image: ImageFile, index: int = 0, databar: Any = "auto") -> PageInfo:
    """The facts of page ``index``: vendor (`midnet.io.vendors.page_vendor`), value of white
    (`midnet.io.bitdepth.value_range`), pixel size (the vendor's, else ImageJ's), palette, and
    data bar (``databar`` rows if given, else `midnet.io.databar.databar_report`, which needs
    the value of white and the vendor's answer, so it comes last)."""
    page, meta = image.pages[index], image.page_meta(index)
    vendor = page_vendor(meta, image.metadata.get("sidecar_text"), page.shape)
    white, white_source = value_range(page, meta, vendor_bits=vendor.bits if vendor else None)
    setting = parse_databar(databar)
    if setting == "auto":
        bar = databar_report(image, index, max_value=white or None,
                             metadata_rows=vendor.databar_rows if vendor else None)
    else:
        bar = DataBar(setting, "user")
    size = vendor.pixel_size if vendor is not None and vendor.pixel_size is not None else None
    if size is None and "tiff_pages" in image.metadata:
        size = imagej_pixel_size(meta)
    return PageInfo(white=white or None, white_source=white_source, databar=bar, pixel_size=size,
                    palette=meta.get("palette"), vendor=vendor)


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
    path = Path(path)
    if image_format(path) != image.format and path.suffix.lower() != image.path.suffix.lower():
        raise ValueError(f"{path}: output suffix does not match the input's format {image.format}")
    if image.format == "tiff":
        return atomic_write(path, lambda tmp: tiff.write_tiff(tmp, image, note), overwrite=overwrite)
    return atomic_write(path, lambda tmp: raster.write_raster(tmp, image, note), overwrite=overwrite)
