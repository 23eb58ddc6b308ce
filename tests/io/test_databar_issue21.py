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
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy.ndimage import gaussian_filter

from midnet.io import read_image
from midnet.io.databar import databar_report, detect_databar_array

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


def tem_grid(seed: int, pitch: int = 170, bar: int = 40) -> np.ndarray:
    """A TEM grid: bright textured grid bars around square holes, most of them empty (black)
    and some covered by a film: about three quarters of the rows are mostly black."""
    img = specimen(seed, 0.45, 0.95, 1.5)
    film = specimen(seed + 1, 0.2, 0.6, 3.0)
    rng = np.random.default_rng(seed + 2)
    for y in range(bar // 2, HEIGHT, pitch):
        for x in range(bar // 2, WIDTH, pitch):
            hole = (slice(y, y + pitch - bar), slice(x, x + pitch - bar))
            img[hole] = film[hole] if rng.random() < 0.25 else rng.uniform(0, 0.02, film[hole].shape)
    return img


def vacuum_above(seed: int) -> np.ndarray:
    """A cross-section's edge: the top 40 % of the frame is empty (black, noisy) vacuum."""
    img = specimen(seed)
    img[:int(0.4 * HEIGHT)] = np.random.default_rng(seed).uniform(0, 0.03, (int(0.4 * HEIGHT), WIDTH))
    return img


def layer_near_bottom(seed: int, level: float, top: int = 726, bottom: int = 760) -> np.ndarray:
    """A saturated (``level`` 1) or empty (0) layer crossing the frame just above its bottom,
    with textured pores or particles in it and specimen below it: no data bar."""
    rng = np.random.default_rng(seed)
    img = specimen(seed)
    x = np.arange(WIDTH)
    upper = top + np.sin(x / rng.uniform(30, 90)) + rng.normal(0, 0.3, WIDTH)
    lower = bottom + np.sin(x / rng.uniform(30, 90) + 1)
    y = np.arange(HEIGHT)[:, None]
    inside = (y >= upper[None]) & (y < lower[None])
    img[inside] = level
    pores = np.zeros_like(inside)
    for _ in range(40):
        cy, cx, r = int(rng.integers(top, bottom)), int(rng.integers(0, WIDTH)), int(rng.integers(2, 7))
        pores[max(0, cy - r):cy + r, max(0, cx - r):cx + r] = True
    texture = specimen(seed + 5, min(1 - level, 0.5), max(1 - level, 0.5), 1.0)
    img[pores & inside] = texture[pores & inside]
    return img


def particles_on_black(seed: int) -> np.ndarray:
    """Particles on a black substrate, the whole frame (about half of it black)."""
    keep = gaussian_filter(np.random.default_rng(seed).random((HEIGHT, WIDTH)), 3) > 0.53
    return np.where(keep, specimen(seed), 0.0)


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


def dense_zeiss_bar(rows: int = 96, separator: int = 3) -> np.ndarray:
    """(rows, WIDTH) float: a white separator line over a black bar filled with three lines of
    bold, anti-aliased white text and a scale bar; most text rows are under half black."""
    bar = Image.new("L", (WIDTH, rows), 0)
    draw = ImageDraw.Draw(bar)
    draw.rectangle([0, 0, WIDTH - 1, separator - 1], fill=255)
    draw.line([12, rows - 20, 12 + WIDTH // 10, rows - 20], fill=255, width=4)
    draw.text((14, rows - 50), "200 nm", fill=255, font=ImageFont.load_default(size=22))
    write_text_lines(draw, (24 + WIDTH // 10, separator + 4, WIDTH - 8, rows - 4), 3, 22, 255)
    bold = np.asarray(bar.filter(ImageFilter.MaxFilter(3)), dtype=np.float64) / 255
    bold[:separator] = 1.0  # the filter thickens the line by a row: keep it at `separator` rows
    bold[separator] = 0.0
    return bold


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


def with_bar(img: np.ndarray, bar: np.ndarray) -> np.ndarray:
    out = img.copy()
    out[-len(bar):] = bar
    return out


@pytest.mark.parametrize("scene", ["tem_grid", "vacuum_above"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_dense_bar_under_a_specimen_with_large_black_areas(scene: str, dtype) -> None:
    img = with_bar(tem_grid(0) if scene == "tem_grid" else vacuum_above(0), dense_zeiss_bar(96))
    text_rows = np.mean(img[-92:] <= 0.06, axis=1)
    assert np.mean(text_rows < 0.5) > 0.3  # the bar is dense with text ...
    assert np.mean(np.mean(img[:-96] <= 0.06, axis=1) >= 0.5) > 0.3  # ... and the specimen black
    array = u8(img) if dtype == np.uint8 else np.rint(img * 65535).astype(np.uint16)
    assert abs(detect_databar_array(array) - 96) <= 1


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


NO_BAR = {
    "texture-fine": lambda: specimen(10, sigma=1.5),
    "texture-coarse": lambda: specimen(11, sigma=6.0),
    "dark-texture": lambda: specimen(12, lo=-0.1, hi=0.4, sigma=4.0),
    "dark-particles": lambda: particles_on_black(13),
    "tem-grid": lambda: tem_grid(14),
    "vacuum-above": lambda: vacuum_above(15),
    "saturated-layer": lambda: layer_near_bottom(16, 1.0),
    "empty-layer": lambda: layer_near_bottom(17, 0.0),
}


@pytest.mark.parametrize("kind", sorted(NO_BAR))
def test_specimen_without_a_bar_gets_none(kind: str) -> None:
    assert detect_databar_array(u8(NO_BAR[kind]())) == 0


def test_inset_box_with_text_at_its_side_is_still_a_box() -> None:
    """A Philips/FEI XL30-style box (specimen left, right and below it) whose first glyph
    starts one column inside its side: the side check must not need a plain margin there."""
    img = specimen(20)[:400, :600]
    img[340:380, 40:560] = 0.0
    for x in range(41, 540, 9):
        img[346:370, x:x + 5] = 1.0  # tall glyphs: the columns through them are mostly text
    found = detect_databar_array(u8(img))
    assert found == 60  # from the box's top to the bottom: the 20 specimen rows below are kept
