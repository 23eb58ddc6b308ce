"""The facts of one page, decided once by `midnet.io.read_image`: what every consumer reads.

Why: the value of white, the data bar, the pixel size, the palette and the vendor fields of a
page used to be decided again by each consumer (deblur, the napari widget, scoring, training
masks, the blur estimate), each with its own rule, and they disagreed (a 12-bit frame went into
the napari widget 16 times too dark; training skipped BMP pairs `deblur` accepted). Now
`read_image` fills `ImageFile.info` with one `PageInfo` per page and every consumer reads it.

Which function computes each fact (docs/design.md, "Facts of a page"): the value of white
`midnet.io.bitdepth.page_white`; the data bar `midnet.io.databar.databar_report` (metadata,
overlay, pixels) or the user's setting (`parse_databar`, the one parser of ``--databar`` and
``databar_rows``); pixel size and vendor fields `midnet.io.vendors.page_vendor`; the palette
the page's `midnet.io.palette.OverlayPalette` as the TIFF, PNG or BMP reader built it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from midnet.io.palette import OverlayPalette

__all__ = ["DataBar", "DataBarSetting", "PageInfo", "PixelSize", "Vendor", "keep_mask", "pair_databar_rows",
           "parse_databar"]

#: a data-bar setting: ``"auto"`` (the page's own answer) or a number of bottom rows (0: none)
DataBarSetting = int | Literal["auto"]


@dataclass(frozen=True)
class DataBar:
    """A data-bar answer: ``rows`` at the bottom, where it came from, and any doubt."""

    rows: int
    source: str  # "metadata", "pixels", "overlay", "user", "none"
    unsure: str = ""


@dataclass(frozen=True)
class PixelSize:
    """Pixel height and width in nanometres, and where they were read from."""

    y_nm: float
    x_nm: float
    source: str


@dataclass(frozen=True)
class Vendor:
    """What a microscope's own metadata says about a page (`midnet.io.vendors` parses it).

    ``fields`` are the vendor's fields as parsed (tifffile's dictionaries for FEI/Thermo and
    Zeiss; ``key -> text`` for Tescan, JEOL and Hitachi). ``bits``, ``databar_rows`` and
    ``pixel_size`` are None where the vendor does not record them.
    """

    name: str  # "FEI/Thermo", "Zeiss", "Tescan", "JEOL", "Hitachi"
    fields: dict[str, Any]
    bits: int | None = None
    databar_rows: int | None = None
    pixel_size: PixelSize | None = None


@dataclass(frozen=True, eq=False)
class PageInfo:
    """The facts of one page (module docstring). ``white`` is None for float pages."""

    white: int | None
    white_source: str
    databar: DataBar
    pixel_size: PixelSize | None = None
    palette: OverlayPalette | None = None
    vendor: Vendor | None = None

    def with_databar(self, setting: Any) -> PageInfo:
        """This page with the user's data-bar setting (``"auto"``: unchanged)."""
        rows = parse_databar(setting)
        return self if rows == "auto" else replace(self, databar=DataBar(rows, "user"))


def parse_databar(value: Any) -> DataBarSetting:
    """The one reading of a data-bar setting: ``"auto"``; ``"none"``, None, False or 0 -> 0; a
    row count (int or digits) -> that many rows. Anything else is a one-line ValueError."""
    if value is None or value is False:
        return 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("auto", "none"):
            return "auto" if text == "auto" else 0
        if not text.isdigit():
            raise ValueError(f"data bar {value!r}: use auto, none or a number of rows (e.g. 64)")
        return int(text)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise ValueError(f"data bar {value!r}: use auto, none or a number of rows >= 0 (e.g. 64)")


def keep_mask(height: int, width: int, databar_rows: int) -> np.ndarray:
    """Boolean (H, W): True where a pixel counts, False on the bottom ``databar_rows`` rows.

    The one mask of the data bar: scoring leaves these pixels out and training masks them in
    the loss (`midnet.data.databar.valid_mask`), so both count the same pixels."""
    keep = np.ones((height, width), dtype=bool)
    if databar_rows > 0:
        keep[max(0, height - databar_rows):] = False
    return keep


def pair_databar_rows(*pages: PageInfo) -> int:
    """Rows left out of a pair's loss and score: the taller bar of its files (their texts differ).

    One rule for scoring (`midnet.evaluation.scoring.load_pair`) and training masks
    (`midnet.data.sampling.PairStore`)."""
    return max((page.databar.rows for page in pages), default=0)
