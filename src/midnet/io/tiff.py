"""TIFF pages and tags through tifffile: every page restored, vendor metadata copied byte for byte.

Copied tags (raw bytes, so a vendor's own parser reads the output exactly as the input):
FEI/Thermo (34682, 34680), Zeiss (34118), Tescan (50431), ImageJ (50838, 50839), the text tags
(ImageDescription with ImageJ/OME content, DocumentName, Make, Model, PageName, DateTime,
Artist, HostComputer, Copyright, Software, ProcessingSoftware) and the resolution tags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from midnet.io.images import ImageFile, is_grey_ramp

#: vendor tags that hold SEM metadata, by code
VENDOR_TAGS: dict[int, str] = {34682: "FEI_HELIOS", 34680: "FEI_SFEG", 34118: "CZ_SEM", 50431: "TESCAN"}
#: other tags copied verbatim (text and ImageJ metadata); 270/305/11 are handled separately
TEXT_TAGS = (269, 271, 272, 285, 306, 315, 316, 33432, 50838, 50839)
TAG_DESCRIPTION, TAG_SOFTWARE, TAG_PROCESSING_SOFTWARE = 270, 305, 11
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
    count = tag.count
    return (tag.code, int(tag.dtype), count, tuple(values.tolist()), True)


def _text(tag: tifffile.TiffTag | None) -> str | None:
    if tag is None:
        return None
    value = tag.value
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\x00")
    return str(value)


def read_tiff(path: Path) -> ImageFile:
    pages: list[np.ndarray] = []
    page_meta: list[dict[str, Any]] = []
    with tifffile.TiffFile(path) as tif:
        if not tif.pages:
            raise ValueError("no image pages; the file is truncated or not a TIFF")
        for index, page in enumerate(tif.pages):
            page = tif.pages[index]
            tags = page.tags
            data = page.asarray()
            meta: dict[str, Any] = {
                "photometric": int(page.photometric),
                "planarconfig": int(page.planarconfig),
                "compression": int(page.compression),
                "extrasamples": tuple(int(e) for e in page.extrasamples),
                "description": _text(tags.get(TAG_DESCRIPTION)),
                "software": _text(tags.get(TAG_SOFTWARE)),
                "processing_software": _text(tags.get(TAG_PROCESSING_SOFTWARE)),
                "resolution": None,
                "resolutionunit": None,
                "colormap": None,
                "extratags": [],
                "vendor": {},
            }
            if 282 in tags and 283 in tags:
                meta["resolution"] = (tags[282].value, tags[283].value)
                meta["resolutionunit"] = int(tags[296].value) if 296 in tags else 2
            for code in (*VENDOR_TAGS, *TEXT_TAGS):
                if code in tags:
                    entry = _raw_tag(tif, tags[code])
                    meta["extratags"].append(entry)
                    if code in VENDOR_TAGS:
                        meta["vendor"][code] = entry[3]
            if page.photometric == tifffile.PHOTOMETRIC.PALETTE:
                colormap = np.asarray(page.colormap)
                if not is_grey_ramp(colormap.T):
                    raise ValueError(f"{path}: colour-palette TIFF (not a grey ramp) is not supported; "
                                     "save it as RGB or greyscale first")
                meta["colormap"] = colormap
            if data.ndim == 3 and page.planarconfig == tifffile.PLANARCONFIG.SEPARATE:
                data = np.moveaxis(data, 0, -1)
            if data.ndim not in (2, 3):
                raise ValueError(f"{path}: page {index} has shape {data.shape}; expected a 2-D image")
            pages.append(data)
            page_meta.append(meta)
    metadata = {"tiff_pages": page_meta, "vendor": page_meta[0]["vendor"]}
    return ImageFile(path, pages[0], "tiff", metadata, pages)


def write_tiff(path: Path, image: ImageFile, note: str | None) -> None:
    with tifffile.TiffWriter(path, bigtiff=sum(p.nbytes for p in image.pages) > 2**31) as tw:
        for data, meta in zip(image.pages, image.metadata["tiff_pages"]):
            extratags = list(meta["extratags"])
            software = meta["software"]
            if note:
                if software is None:
                    software = note
                elif meta["processing_software"] is None:
                    extratags.append((TAG_PROCESSING_SOFTWARE, 2, 0, note, True))
            if meta["processing_software"] is not None:
                extratags.append((TAG_PROCESSING_SOFTWARE, 2, 0, meta["processing_software"], True))
            kwargs: dict[str, Any] = {}
            planar = meta["planarconfig"] == 2 and data.ndim == 3
            if planar:
                data = np.moveaxis(data, -1, 0)
                kwargs["planarconfig"] = "separate"
            elif data.ndim == 3:
                kwargs["planarconfig"] = "contig"
            if meta["colormap"] is not None:
                kwargs["colormap"] = meta["colormap"]
            if meta["extrasamples"]:
                kwargs["extrasamples"] = meta["extrasamples"]
            if meta["resolution"] is not None:
                kwargs["resolution"] = meta["resolution"]
                kwargs["resolutionunit"] = meta["resolutionunit"]
            compression = meta["compression"] if meta["compression"] in _WRITABLE_COMPRESSION else 1
            tw.write(data, photometric=meta["photometric"], compression=compression or None,
                     description=meta["description"], software=software or False,
                     metadata=None, extratags=extratags, **kwargs)
