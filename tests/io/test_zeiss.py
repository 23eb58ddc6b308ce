"""Zeiss SmartSEM palette TIFFs (issue 11, points 1-2): grey-ramp palettes whose every 9th entry is
an overlay colour, the CZ_SEM tags, and a data bar found from the image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from midnet.io import read_image
from midnet.io.databar import databar_report, detect_databar
from midnet.io.palette import OverlayPalette, is_grey_with_overlays

#: the overlay entries seen in SmartSEM files: 9, 18, ..., 243
OVERLAY = np.arange(9, 244, 9)
CZ_SEM = b"\x00\x00\x01\x00AP_MAG\x00Mag = 8.00 K X\x00DP_DETECTOR\x00Signal A = SE2\x00" * 20
CZ_SEM_2 = "".join(f"{v:>14.6e}" for v in (0, 0, 0, 1.953125e-08, 5716.48, 6)).encode("latin-1")


def zeiss_colormap() -> np.ndarray:
    """(3, 256) uint16: grey ramp, overlay colours at every 9th index."""
    ramp = (np.arange(256) * 257).astype(np.uint16)
    colormap = np.stack([ramp, ramp, ramp])
    rng = np.random.default_rng(7)
    for index in OVERLAY:
        colormap[:, index] = rng.choice([0, 65535], 3)
        colormap[int(rng.integers(0, 3)), index] = 32768  # never grey
    return colormap


def zeiss_indices(frame, height: int = 120, width: int = 160, bar: int = 24) -> np.ndarray:
    """A SmartSEM frame: image data on ramp indices, a measurement overlay in the image, and a
    bar (one-pixel overlay line, black band, white and overlay-coloured text, a scale bar)."""
    grey = frame(height, width, 0, np.uint8)
    palette = OverlayPalette.from_palette(zeiss_colormap().T)
    indices = palette.nearest_grey[grey]  # the image data never uses the overlay entries
    indices[20, 30:90] = 18  # a measurement line drawn on the specimen
    indices[height - bar:] = 0
    indices[height - bar] = 243  # the bar's one-pixel boundary line, in an overlay colour
    for x in range(6, width - 30, 10):
        indices[height - bar + 5:height - bar + 11, x:x + 5] = 255
        indices[height - bar + 14:height - bar + 19, x + 2:x + 7] = 9
    indices[height - 5:height - 3, width - 28:width - 4] = 255  # scale bar
    return indices


def write_zeiss(path: Path, indices: np.ndarray) -> None:
    tifffile.imwrite(path, indices, photometric="palette", colormap=zeiss_colormap(),
                     resolution=(1, 1), resolutionunit=1, software=False, metadata=None,
                     extratags=[(274, 3, 1, 1, True), (339, 3, 1, 1, True),
                                (34118, 2, len(CZ_SEM), CZ_SEM, True),
                                (34119, 2, len(CZ_SEM_2), CZ_SEM_2, True)])


def _tags(path: Path) -> dict[int, object]:
    """code -> raw value bytes of every tag of page 0 (the values of the structural ones, which
    may be stored as SHORT or LONG), except the strip layout."""
    out: dict[int, object] = {}
    with tifffile.TiffFile(path) as tif:
        for tag in tif.pages[0].tags:
            if tag.code in (273, 279, 278):
                continue
            if tag.code in (256, 257, 320):
                out[tag.code] = str(tag.value)
                continue
            tif.filehandle.seek(tag.valueoffset)
            out[tag.code] = tif.filehandle.read(tag.valuebytecount)
    return out


def test_the_overlay_palette_is_recognised_and_mapped_to_the_nearest_grey() -> None:
    colormap = zeiss_colormap()
    assert is_grey_with_overlays(colormap.T)
    palette = OverlayPalette.from_palette(colormap.T)
    np.testing.assert_array_equal(palette.overlay, OVERLAY)
    assert palette.nearest_grey[9] in (8, 10) and palette.nearest_grey[10] == 10
    assert not np.isin(palette.nearest_grey, OVERLAY).any()
    rng = np.random.default_rng(0)
    assert not is_grey_with_overlays(rng.integers(0, 65535, (256, 3)))


def test_synthetic_zeiss_file_round_trips(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "zeiss.tif", tmp_path / "out" / "zeiss.tif"
    indices = zeiss_indices(frame)
    write_zeiss(src, indices)
    image = read_image(src)
    np.testing.assert_array_equal(image.array, indices)  # raw indices, colour map not applied
    assert detect_databar(image) == 24

    deblurrer.deblur_file(src, dst)
    with tifffile.TiffFile(dst) as tif:
        page = tif.pages[0]
        assert page.photometric == tifffile.PHOTOMETRIC.PALETTE
        np.testing.assert_array_equal(page.colormap, zeiss_colormap())
        out = page.asarray()
    assert out.shape == indices.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[-24:], indices[-24:])  # the bar, byte for byte
    area, original = out[:-24], indices[:-24]
    assert np.mean(area != original) > 0.3  # the image area was restored
    overlay_in = np.isin(original, OVERLAY)
    np.testing.assert_array_equal(area[overlay_in], original[overlay_in])  # the measurement line
    assert not np.isin(area[~overlay_in], OVERLAY).any()  # overlay colours only where they were
    before, after = _tags(src), _tags(dst)
    assert set(after) == set(before) | {305}  # every tag kept, plus the processing note
    for code in before:
        assert after[code] == before[code], code
    assert b"midnet" in after[305]  # type: ignore[operator]


def test_pillow_would_change_the_bar(tmp_path: Path, frame) -> None:
    """Why tifffile: Pillow converts such files to RGB through the colour map."""
    from PIL import Image

    src = tmp_path / "zeiss.tif"
    indices = zeiss_indices(frame)
    write_zeiss(src, indices)
    with Image.open(src) as im:
        grey = np.asarray(im.convert("L"))
    assert not np.array_equal(grey[-24:], indices[-24:])
    np.testing.assert_array_equal(read_image(src).array[-24:], indices[-24:])


def test_overlay_rows_keep_a_bar_with_little_black(tmp_path: Path, frame) -> None:
    """A bar drawn mostly in overlay colours is still kept whole, from its overlay rows."""
    src = tmp_path / "zeiss.tif"
    indices = zeiss_indices(frame)
    indices[-24:] = 120  # mid-grey band: not a black/white bar by its pixels
    indices[-24] = 243
    indices[-18:-12, 4:150:7] = 9
    write_zeiss(src, indices)
    found = databar_report(read_image(src))
    assert found.rows == 24 and found.source == "overlay"
