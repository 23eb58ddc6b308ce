"""`read_image` decides the facts of each page once (`PageInfo`); the setting parser and the
data-bar mask are the project's only ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from midnet.io import keep_mask, pair_databar_rows, parse_databar, read_image
from midnet.io.palette import OverlayPalette


@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("AUTO", "auto"), ("none", 0), (None, 0),
                                             (0, 0), ("64", 64), (12, 12), (np.int64(3), 3)])
def test_one_parser_for_the_data_bar_setting(value, expected) -> None:
    assert parse_databar(value) == expected


@pytest.mark.parametrize("value", ["bottom", -1, "-3", 2.5, True])
def test_bad_settings_say_what_to_give(value) -> None:
    with pytest.raises(ValueError, match="use auto, none or a number of rows"):
        parse_databar(value)


def test_keep_mask_leaves_out_the_bottom_rows() -> None:
    mask = keep_mask(6, 3, 2)
    assert mask.dtype == bool and mask[:4].all() and not mask[4:].any()
    assert keep_mask(4, 2, 0).all() and not keep_mask(4, 2, 9).any()


def test_every_page_gets_its_facts_and_the_user_setting_wins(tmp_path: Path, frame) -> None:
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.stack([frame(96, 128, 16, np.uint16) >> 4, frame(96, 128, 0, np.uint16) >> 4]))
    image = read_image(path)
    assert [(p.white, p.white_source) for p in image.info] == [(4095, "data")] * 2
    assert [(p.databar.rows, p.databar.source) for p in image.info] == [(16, "pixels"), (0, "none")]
    user = read_image(path, databar=7)
    assert [(p.databar.rows, p.databar.source) for p in user.info] == [(7, "user")] * 2
    assert [p.databar.rows for p in image.with_databar("none").info] == [0, 0]
    assert image.with_databar("auto").info == image.info
    assert pair_databar_rows(*image.info) == 16
    with pytest.raises(ValueError, match="stack.tif: data bar 'x'"):
        read_image(path, databar="x")


def test_float_pages_have_no_value_of_white(tmp_path: Path, frame) -> None:
    tifffile.imwrite(tmp_path / "f.tif", frame(96, 128, 16, np.float32))
    info = read_image(tmp_path / "f.tif").info[0]
    assert (info.white, info.white_source) == (None, "float")


def test_one_overlay_palette_type_for_tiff_png_and_bmp(tmp_path: Path) -> None:
    """A grey ramp with overlay colours reads as the same `OverlayPalette` in every format, and
    the page's `PageInfo.palette` is it; writing puts the same colours back."""
    from midnet.io import write_image

    ramp = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    ramp[9::9] = (255, 0, 0)  # overlay entries, as SmartSEM's
    indices = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (64, 1))
    tifffile.imwrite(tmp_path / "p.tif", indices, photometric="palette",
                     colormap=ramp.T.astype(np.uint16) * 257)
    for suffix in (".png", ".bmp"):
        im = Image.fromarray(indices, "P")
        im.putpalette(ramp.reshape(-1).tolist())
        im.save(tmp_path / f"p{suffix}")
    for suffix in (".tif", ".png", ".bmp"):
        image = read_image(tmp_path / f"p{suffix}")
        palette = image.info[0].palette
        assert isinstance(palette, OverlayPalette) and palette is image.page_meta(0)["palette"]
        np.testing.assert_array_equal(palette.overlay, np.arange(9, 256, 9))
        np.testing.assert_array_equal(palette.colours // (257 if suffix == ".tif" else 1), ramp)
        out = write_image(tmp_path / "out" / f"p{suffix}", image)
        np.testing.assert_array_equal(read_image(out).info[0].palette.colours, palette.colours)
