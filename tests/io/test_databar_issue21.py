"""Data-bar detection on Zeiss files from other microscopes (issue 21), on synthetic frames.

Each case reproduces a failure the issue found: a bar dense with text under a specimen with
large black areas (missed: restored like the specimen), a framed Zeiss bar in a palette file
whose image data uses the palette's overlay entries (the overlay rule claimed the bottom third),
and specimens without a bar (a saturated or empty layer near the bottom was taken for an inset
box). The frames are drawn here; no corpus image is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import gaussian_filter

from midnet.io import read_image
from midnet.io.databar import databar_report

HEIGHT, WIDTH = 768, 1024  # a common Zeiss frame: its bottom third is 256 rows
FIELDS = ["EHT = 5.00 kV", "WD = 8.5 mm", "Mag = 10.00 K X", "Signal A = InLens", "Date :12 Mar 2024",
          "Time :14:02:11", "Photo No. = 1234", "Stage at T = 0.0 deg", "Aperture Size = 30.00 um",
          "File Name = grid_0001.tif", "Width = 11.43 um", "Noise Reduction = Line Int."]


def specimen(seed: int, lo: float = 0.15, hi: float = 0.85, sigma: float = 2.5) -> np.ndarray:
    """(HEIGHT, WIDTH) float in [0, 1]: grain-like texture between ``lo`` and ``hi``, with noise."""
    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.random((HEIGHT, WIDTH)), sigma)
    img = lo + (hi - lo) * (img - img.min()) / np.ptp(img)
    return np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1)


def write_text_lines(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], lines: int, size: int,
                     ink: int) -> None:
    """Fill ``box`` (x0, y0, x1, y1) with ``lines`` lines of Zeiss data-zone fields."""
    font = ImageFont.load_default(size=size)
    x0, y0, x1, y1 = box
    step = (y1 - y0) // lines
    k = 0
    for line in range(lines):
        x = x0
        while x + draw.textlength(FIELDS[k % len(FIELDS)], font=font) <= x1:
            draw.text((x, y0 + line * step), FIELDS[k % len(FIELDS)], fill=ink, font=font)
            x += draw.textlength(FIELDS[k % len(FIELDS)], font=font) + size
            k += 1


def framed_zeiss_bar(rows: int = 78) -> np.ndarray:
    """(rows, WIDTH) palette indices: a Zeiss data zone in a white frame (4-row top and bottom
    lines, 2-column sides, dividers), black inside, white text and scale bar (not
    anti-aliased, as SmartSEM draws it) and a logo box in an overlay colour."""
    bar = Image.new("L", (WIDTH, rows), 0)
    draw = ImageDraw.Draw(bar)
    draw.fontmode = "1"
    draw.rectangle([0, 0, WIDTH - 1, 3], fill=255)
    draw.rectangle([0, rows - 4, WIDTH - 1, rows - 1], fill=255)
    draw.rectangle([0, 0, 1, rows - 1], fill=255)
    draw.rectangle([WIDTH - 2, 0, WIDTH - 1, rows - 1], fill=255)
    logo = WIDTH - 2 * rows - 10
    draw.rectangle([logo, 12, WIDTH - 12, rows - 12], fill=int(OVERLAY[-1]))
    draw.text((logo + 20, rows // 2 - 14), "ZEISS", fill=255, font=ImageFont.load_default(size=26))
    draw.line([14, rows - 22, 14 + WIDTH // 10, rows - 22], fill=255, width=4)
    draw.text((16, 14), "200 nm", fill=255, font=ImageFont.load_default(size=20))
    for x in (40 + WIDTH // 10, 600):
        draw.rectangle([x, 4, x + 1, rows - 5], fill=255)
    write_text_lines(draw, (50 + WIDTH // 10, 14, 590, rows - 10), 2, 18, 255)
    write_text_lines(draw, (612, 14, logo - 10, rows - 10), 2, 18, 255)
    return np.asarray(bar)


#: the overlay entries of a SmartSEM palette: 9, 18, ..., 243
OVERLAY = np.arange(9, 244, 9)


def zeiss_palette() -> np.ndarray:
    """(3, 256) uint16 colour map: a grey ramp with colours at the overlay entries."""
    ramp = (np.arange(256) * 257).astype(np.uint16)
    colormap = np.stack([ramp, ramp, ramp])
    colormap[:, OVERLAY] = np.array([[0], [24000], [52000]], dtype=np.uint16)  # Zeiss blue
    return colormap


def u8(img: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(img, 0, 1) * 255).astype(np.uint8)


def test_framed_zeiss_bar_leaves_no_specimen_rows_unrestored(tmp_path: Path) -> None:
    """The image data uses every palette index, the overlay entries too (as the raw data of
    real SmartSEM files do), so overlay-coloured pixels are all over the specimen: they must
    not pull the bar up to the bottom third (256 rows)."""
    indices = u8(specimen(3))
    bar = framed_zeiss_bar(78)
    indices[-78:] = bar
    assert np.isin(indices[:-78], OVERLAY).mean() > 0.05
    path = tmp_path / "zeiss.tif"
    tifffile.imwrite(path, indices, photometric="palette", colormap=zeiss_palette())
    found = databar_report(read_image(path))
    assert abs(found.rows - 78) <= 1, found


def test_overlay_rows_still_give_a_bar_when_only_the_overlay_uses_them(tmp_path: Path) -> None:
    """Image data on the grey entries only: the overlay-coloured logo is the bar's, and the
    bar (with its frame) is found in full."""
    grey = u8(specimen(4))
    indices = np.where(np.isin(grey, OVERLAY), grey + 1, grey).astype(np.uint8)
    indices[-78:] = framed_zeiss_bar(78)
    path = tmp_path / "zeiss.tif"
    tifffile.imwrite(path, indices, photometric="palette", colormap=zeiss_palette())
    assert abs(databar_report(read_image(path)).rows - 78) <= 1
