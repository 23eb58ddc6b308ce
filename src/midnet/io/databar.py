"""The microscope's data bar: the info band (scale bar, kV, magnification...) at the image bottom.

It is passed through byte for byte, because the model was not trained on text and would blur
or invent it. `detect_databar` takes the height from the instrument's metadata when it is
there (FEI/Thermo: image height minus ``[Image] ResolutionY`` in tag 34682/34680; Tescan:
``ImageStripSize`` in tag 50431; JEOL: height minus the second number of ``$CM_FULL_SIZE`` in
the sidecar) and otherwise from the pixels with `detect_databar_array`.
"""

from __future__ import annotations

import configparser
import re

import numpy as np

from midnet.io.images import ImageFile
from midnet.io.sidecar import jeol_fields

#: the heuristic looks for a bar no taller than this fraction of the image
MAX_FRACTION = 1 / 3
#: a bar row has at least this fraction of its pixels at the bar's background level
ROW_BACKGROUND = 0.5
#: values within this fraction of the full range count as "at the background level"
LEVEL_TOLERANCE = 0.02


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace")
    return str(value)


def fei_resolution_y(text: str) -> int | None:
    """``[Image] ResolutionY`` of FEI/Thermo INI metadata, or None."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text.replace("\x00", ""))
        return int(parser["Image"]["ResolutionY"])
    except (configparser.Error, KeyError, ValueError):
        return None


def databar_from_metadata(image: ImageFile, page: int = 0) -> int | None:
    """Data bar rows from the file's metadata, or None when the metadata does not say."""
    height = image.pages[page].shape[0]
    pages_meta = image.metadata.get("tiff_pages")
    vendor = pages_meta[page]["vendor"] if pages_meta else {}
    for code in (34682, 34680):
        if code in vendor:
            res_y = fei_resolution_y(_text(vendor[code]))
            if res_y is not None and 0 < res_y <= height:
                return height - res_y
    if 50431 in vendor:
        match = re.search(r"ImageStripSize\s*=\s*(\d+)", _text(vendor[50431]))
        if match and int(match.group(1)) < height:
            return int(match.group(1))
    text = image.metadata.get("sidecar_text")
    if text:
        size = jeol_fields(text).get("CM_FULL_SIZE", "").split()
        if len(size) == 2 and size[1].isdigit() and 0 < int(size[1]) <= height:
            return height - int(size[1])
    return None


def detect_databar(image: ImageFile, page: int = 0) -> int:
    """Rows at the bottom of page ``page`` that form the data bar (0 when there is none)."""
    rows = databar_from_metadata(image, page)
    if rows is not None:
        return rows
    return detect_databar_array(image.pages[page])


def _grey(array: np.ndarray) -> np.ndarray:
    """(H, W) float in [0, 1]: colour averaged, alpha dropped, scaled by the dtype or the data."""
    if array.ndim == 3:
        colour = array[..., :-1] if array.shape[2] in (2, 4) else array
        array = colour.mean(axis=2) if colour.shape[2] > 1 else colour[..., 0]
    a = array.astype(np.float64)
    if np.issubdtype(array.dtype, np.integer) and array.dtype.itemsize <= 2:
        info = np.iinfo(array.dtype)
        return (a - info.min) / (info.max - info.min)
    finite = a[np.isfinite(a)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    return np.nan_to_num((a - lo) / ((hi - lo) or 1.0))


def detect_databar_array(array: np.ndarray) -> int:
    """Heuristic data bar height from the pixels alone (0 when there is no bar).

    A bar is a bottom band of a uniform background level with sparse text: walking up from the
    bottom row, each row has at least half its pixels at the background level (the most common
    level of the bottom rows). The band is accepted only when (1) it ends below
    ``MAX_FRACTION`` of the height with a sharp edge, (2) it holds some text (rows with 1-50 %
    off-background pixels) and some plain background rows, and (3) the image above it does
    not share that property (a dark specimen with sparse bright particles is not a bar).
    """
    grey = _grey(np.asarray(array))
    height = grey.shape[0]
    if height < 16 or grey.shape[1] < 16:
        return 0
    bottom = grey[-4:].ravel()
    levels = np.round(bottom / LEVEL_TOLERANCE)
    values, counts = np.unique(levels, return_counts=True)
    background = values[np.argmax(counts)] * LEVEL_TOLERANCE
    at_bg = np.mean(np.abs(grey - background) <= LEVEL_TOLERANCE, axis=1)
    limit = int(height * MAX_FRACTION)
    rows = 0
    while rows < limit and at_bg[height - 1 - rows] >= ROW_BACKGROUND:
        rows += 1
    if rows < 4 or rows >= limit:
        return 0
    band = at_bg[height - rows:]
    has_text = np.any((band < 0.99) & (band >= ROW_BACKGROUND))
    has_plain = np.any(band >= 0.99)
    above = at_bg[: height - rows]
    image_like = np.mean(above >= ROW_BACKGROUND) < 0.1
    return rows if has_text and has_plain and image_like else 0
