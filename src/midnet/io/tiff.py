"""TIFF pages and tags through tifffile: every page restored, every tag of every page kept.

Every tag that tifffile does not write itself is copied as its original bytes, so a vendor's
own parser reads the output exactly as the input: Zeiss (34118, 34119), FEI/Thermo (34682,
34680), Tescan (50431), ImageJ (50838, 50839), Orientation, PageNumber, SMaxSampleValue, text
tags, private tags. The structural tags (size, strips, compression, colour map, sample format,
NewSubfileType, resolution, description) are written from what was read, with the same values;
the EXIF and GPS directories are re-attached by `midnet.io.tiff_subifd`. The file keeps its
byte order and classic/BigTIFF layout.

Palette pages: a palette that is a grey ramp with a few overlay colours (Zeiss SmartSEM) is
read as raw indices and written back with the same colour map, see `midnet.io.palette`.

Vendor metadata is parsed by tifffile's own readers (the ones behind `TiffFile.fei_metadata`
and `TiffFile.sem_metadata`), page by page, into ``fei`` and ``cz_sem``; `midnet.io.vendors`
reads the facts from them.

The processing note never replaces what the vendor wrote: it goes into Software when that tag
is absent, else into ProcessingSoftware when that is absent, else it is appended to
ProcessingSoftware after a "; ".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from midnet.io.images import ImageFile
from midnet.io.palette import OverlayPalette, is_grey_with_overlays
from midnet.io.tiff_subifd import (
    SUBIFD_TAGS,
    Fixup,
    finish_tags,
    placeholder_codes,
    placeholder_tag,
    read_subifd,
    subifd_offset,
)

log = logging.getLogger(__name__)

#: vendor tags that hold SEM metadata, by code
VENDOR_TAGS: dict[int, str] = {34682: "FEI_HELIOS", 34680: "FEI_SFEG", 34118: "CZ_SEM", 34119: "CZ_SEM2",
                               50431: "TESCAN"}
TAG_DESCRIPTION, TAG_SOFTWARE, TAG_PROCESSING_SOFTWARE = 270, 305, 11
#: tags written from parsed values (not copied raw): tifffile writes them from the arguments
_WRITTEN = {254, 270, 282, 283, 296, 305, 11, 320, 347, 530, 532} | set(tifffile.TIFF.TAG_FILTERED)
#: structural tags kept through a placeholder when tifffile leaves them out (default values)
_KEEP_STRUCTURAL = (284, 339)
#: compressions tifffile can write back (others are written uncompressed)
_WRITABLE_COMPRESSION = {1, 5, 8, 32773, 32946, 50000, 34925}
#: numpy formats of numeric TIFF tag types (rationals are pairs of 32-bit integers)
_NUMERIC = {3: "H", 4: "I", 5: "I", 8: "h", 9: "i", 10: "i", 11: "f", 12: "d", 16: "Q", 17: "q", 6: "b"}


def _raw_tag(tif: tifffile.TiffFile, tag: tifffile.TiffTag) -> tuple[int, int, int, Any, bool]:
    """The tag as a tifffile ``extratags`` entry, with its original bytes (not tifffile's parse)."""
    fh = tif.filehandle
    fh.seek(tag.valueoffset)
    raw = fh.read(tag.valuebytecount)
    if tag.dtype in (1, 2, 7):
        return (tag.code, int(tag.dtype), len(raw), raw, True)
    fmt = _NUMERIC.get(int(tag.dtype))
    if fmt is None:
        return (tag.code, 7, len(raw), raw, True)
    values = np.frombuffer(raw, dtype=np.dtype(fmt).newbyteorder(tif.byteorder))
    return (tag.code, int(tag.dtype), tag.count, tuple(values.tolist()), True)


def _writable_entries(meta: dict[str, Any], bigtiff: bool
                      ) -> tuple[list[tuple[int, int, int, Any, bool]], dict[int, Fixup]]:
    """(extratags for tifffile, placeholder fixups) for one page's copied tags.

    tifffile terminates ASCII values with one NUL, omits default-valued structural tags and
    cannot write sub-directories, so an ASCII value that does not end in exactly one NUL,
    SampleFormat/PlanarConfiguration and the EXIF/GPS directories go in under placeholder
    codes that `midnet.io.tiff_subifd.finish_tags` turns into the real tags afterwards.
    """
    used = {entry[0] for entry in meta["extratags"]}
    free = placeholder_codes(used)
    extratags = []
    fixups: dict[int, Fixup] = {}
    for code, dtype, count, value, _ in meta["extratags"]:
        if dtype == 2 and value.endswith(b"\x00") and not value.endswith(b"\x00\x00"):
            extratags.append((code, 2, count - 1, value[:-1], True))  # tifffile adds the NUL back
        elif dtype == 2 or code in _KEEP_STRUCTURAL:
            placeholder = next(free)
            fixups[placeholder] = (code, dtype, None)
            extratags.append((placeholder, 7 if dtype == 2 else dtype, count, value, True))
        else:
            extratags.append((code, dtype, count, value, True))
    for code, entries in meta["subifds"].items():
        placeholder = next(free)
        fixups[placeholder] = (code, 0, entries)
        extratags.append(placeholder_tag(placeholder, bigtiff))
    return extratags, fixups


def _text(tag: tifffile.TiffTag | None) -> str | None:
    if tag is None:
        return None
    value = tag.value
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\x00")
    return str(value)


def _raw_text(tif: tifffile.TiffFile, tag: tifffile.TiffTag | None) -> bytes | None:
    """An ASCII tag's bytes as stored (`_raw_tag`), without the terminating NUL(s)."""
    return None if tag is None else _raw_tag(tif, tag)[3].rstrip(b"\x00")


def _parsed(tags: tifffile.TiffTags, *codes: int) -> dict[str, Any] | None:
    """tifffile's parse of vendor tags ``codes`` merged (None when none is there or parses)."""
    found: dict[str, Any] = {}
    for code in codes:
        value = tags.valueof(code)
        if isinstance(value, dict):
            found.update(value)
    return found or None


def _page_meta(tif: tifffile.TiffFile, page: tifffile.TiffPage, path: Path, index: int) -> dict[str, Any]:
    tags = page.tags
    meta: dict[str, Any] = {
        "photometric": int(page.photometric),
        "planarconfig": int(page.planarconfig),
        "compression": int(page.compression),
        "predictor": int(page.predictor),
        "subfiletype": int(tags[254].value) if 254 in tags else None,
        "extrasamples": tuple(int(e) for e in page.extrasamples),
        "bitspersample": int(page.bitspersample),
        "smaxsamplevalue": None,
        "description": _text(tags.get(TAG_DESCRIPTION)),
        # written back byte for byte: an OME-XML description is UTF-8 ("µm"), which tifffile
        # refuses as a str (7-bit ASCII only) but writes unchanged as bytes
        "description_bytes": _raw_text(tif, tags.get(TAG_DESCRIPTION)),
        "software": _text(tags.get(TAG_SOFTWARE)),
        "processing_software": _text(tags.get(TAG_PROCESSING_SOFTWARE)),
        "resolution": None,
        "resolutionunit": None,
        "palette": None,
        "overlay_pixels": None,
        "extratags": [],
        "subifds": {},
        "vendor": {},
        "fei": _parsed(tags, 34680, 34682),  # FEI_SFEG, then FEI_HELIOS (as TiffFile.fei_metadata)
        "cz_sem": _parsed(tags, 34118),      # Zeiss CZ_SEM (as TiffFile.sem_metadata)
    }
    for code in (341, 281):  # SMaxSampleValue, MaxSampleValue: the largest the detector gives
        if code in tags and meta["smaxsamplevalue"] is None:
            value = tags[code].value
            meta["smaxsamplevalue"] = max(value) if isinstance(value, tuple) else value
    if 282 in tags and 283 in tags:
        meta["resolution"] = (tags[282].value, tags[283].value)
        meta["resolutionunit"] = int(tags[296].value) if 296 in tags else 2
    for tag in tags:
        code = tag.code
        if code in SUBIFD_TAGS:
            entry_value = tag.offset + (12 if tif.is_bigtiff else 8)  # tifffile's valueoffset follows it
            try:
                offset = subifd_offset(tif.filehandle, entry_value, tif.byteorder, tif.is_bigtiff)
                meta["subifds"][code] = read_subifd(tif.filehandle, offset, tif.byteorder, tif.is_bigtiff)
            except Exception as exc:  # noqa: BLE001 - a broken EXIF block must not lose the image
                log.warning("%s: page %d: tag %d (sub-directory) unreadable, not copied: %s",
                            path, index + 1, code, exc)
            continue
        if code in _KEEP_STRUCTURAL:
            meta["extratags"].append(_raw_tag(tif, tag))
            continue
        if code in _WRITTEN:
            continue
        if int(tag.dtype) in (13, 18):
            log.warning("%s: page %d: tag %d points to a directory midnet cannot copy; left out",
                        path, index + 1, code)
            continue
        entry = _raw_tag(tif, tag)
        meta["extratags"].append(entry)
        if code in VENDOR_TAGS:
            meta["vendor"][code] = entry[3]
    return meta


def _read_palette(page: tifffile.TiffPage, data: np.ndarray, meta: dict[str, Any], path: Path) -> None:
    colormap = np.asarray(page.colormap)
    if not is_grey_with_overlays(colormap.T):
        raise ValueError(f"{path}: colour-palette TIFF (not a grey ramp with overlay colours) is not "
                         "supported; save it as RGB or greyscale first")
    palette = OverlayPalette.from_palette(colormap.T)
    meta["palette"] = palette
    if palette.overlay.size:
        positions = np.flatnonzero(palette.overlay_mask(data))
        meta["overlay_pixels"] = (positions, data.reshape(-1)[positions].copy())


def read_tiff(path: Path) -> ImageFile:
    pages: list[np.ndarray] = []
    page_meta: list[dict[str, Any]] = []
    with tifffile.TiffFile(path) as tif:
        if not tif.pages:
            raise ValueError("no image pages; the file is truncated or not a TIFF")
        for index in range(len(tif.pages)):
            page = tif.pages[index]
            meta = _page_meta(tif, page, path, index)
            try:
                data = page.asarray()
            except Exception as exc:  # noqa: BLE001 - name the page, the caller names the file
                raise ValueError(f"page {index + 1} of {len(tif.pages)} cannot be decoded "
                                 f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") from exc
            if page.photometric == tifffile.PHOTOMETRIC.PALETTE:
                _read_palette(page, data, meta, path)
            if data.ndim == 3 and page.planarconfig == tifffile.PLANARCONFIG.SEPARATE:
                data = np.moveaxis(data, 0, -1)
            if data.ndim not in (2, 3):
                raise ValueError(f"{path}: page {index + 1} has shape {data.shape}; expected a 2-D image")
            pages.append(data)
            page_meta.append(meta)
        byteorder, bigtiff = tif.byteorder, tif.is_bigtiff
    metadata = {"tiff_pages": page_meta, "vendor": page_meta[0]["vendor"], "byteorder": byteorder,
                "bigtiff": bigtiff}
    return ImageFile(path, pages[0], "tiff", metadata, pages)


def _note_tags(meta: dict[str, Any], note: str | None) -> tuple[str | None, str | None]:
    """(Software, ProcessingSoftware) with the note added where it replaces nothing."""
    software, processing = meta["software"], meta["processing_software"]
    if note:
        if software is None:
            software = note
        elif processing is None:
            processing = note
        elif note not in processing:
            processing = f"{processing}; {note}"
    return software, processing


def write_tiff(path: Path, image: ImageFile, note: str | None) -> None:
    pages_meta = image.metadata["tiff_pages"]
    bigtiff = bool(image.metadata.get("bigtiff")) or sum(p.nbytes for p in image.pages) > 2**31
    byteorder = image.metadata.get("byteorder", "<")
    all_fixups: list[dict[int, Fixup]] = []
    with tifffile.TiffWriter(path, bigtiff=bigtiff, byteorder=byteorder) as tw:
        for data, meta in zip(image.pages, pages_meta):
            extratags, fixups = _writable_entries(meta, bigtiff)
            all_fixups.append(fixups)
            software, processing = _note_tags(meta, note)
            if processing is not None:
                extratags.append((TAG_PROCESSING_SOFTWARE, 2, 0, processing, True))
            kwargs: dict[str, Any] = {}
            if data.ndim == 3 and meta["planarconfig"] == 2:
                data = np.moveaxis(data, -1, 0)
                kwargs["planarconfig"] = "separate"
            elif data.ndim == 3:
                kwargs["planarconfig"] = "contig"
            if meta["palette"] is not None:
                data = meta["palette"].conform(data, meta["overlay_pixels"])
                kwargs["colormap"] = meta["palette"].colours.T
            if meta["extrasamples"]:
                kwargs["extrasamples"] = meta["extrasamples"]
            if meta["resolution"] is not None:
                kwargs["resolution"] = meta["resolution"]
                kwargs["resolutionunit"] = meta["resolutionunit"]
            if meta["subfiletype"] is not None:
                kwargs["subfiletype"] = meta["subfiletype"]
            compression = meta["compression"] if meta["compression"] in _WRITABLE_COMPRESSION else 1
            if data.dtype.kind in "ui" and meta["bitspersample"] < data.dtype.itemsize * 8:
                kwargs["bitspersample"] = meta["bitspersample"]  # packed 12/14-bit stays packed
                compression = 1  # tifffile packs only uncompressed data
            if compression != 1 and meta["predictor"] > 1:
                kwargs["predictor"] = meta["predictor"]
            tw.write(data, photometric=meta["photometric"], compression=compression or None,
                     description=meta.get("description_bytes") or meta["description"], software=software or False,
                     metadata=None, extratags=extratags, **kwargs)
    finish_tags(path, all_fixups)
