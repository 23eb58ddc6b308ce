"""One parser per vendor (`midnet.io.vendors`): pixel size in nanometres, data bar and bit depth
from each vendor's metadata, as `read_image` puts them into the page's `PageInfo`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from midnet.io import PixelSize, read_image


def pixel_size(path: Path) -> PixelSize | None:
    return read_image(path).info[0].pixel_size


def _tiff(path: Path, code: int, text: str) -> Path:
    raw = text.encode("latin-1")  # Zeiss writes a latin-1 micro sign: an UNDEFINED-type tag
    tifffile.imwrite(path, np.zeros((32, 48), np.uint8), extratags=[(code, 7, len(raw), raw, True)])
    return path


@pytest.mark.parametrize("code, text, expected, source", [
    (34682, "[Scan]\nPixelWidth=4.2e-009\nPixelHeight=4.4e-009\n", (4.4, 4.2), "FEI"),
    (34118, "AP_PIXEL_SIZE\r\nPixel Size = 19.53 nm\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 9.766 nm\r\n",
     (9.766, 9.766), "Zeiss"),
    (34118, "AP_PIXEL_SIZE\r\nPixel Size = 1.5 \u00b5m\r\n", (1500.0, 1500.0), "Zeiss"),
    (50431, "Device=TESCAN\nPixelSizeX=2.5e-08\nPixelSizeY=2.5e-08\n", (25.0, 25.0), "Tescan"),
])
def test_vendor_pixel_size(tmp_path, code, text, expected, source):
    found = pixel_size(_tiff(tmp_path / "a.tif", code, text))
    assert (found.y_nm, found.x_nm) == pytest.approx(expected)
    assert found.source.startswith(source)


def test_jeol_sidecar_marker_over_bar_length(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "b.tif")
    (tmp_path / "b.txt").write_text("$CM_FULL_SIZE 48 24\n$$SM_MICRON_BAR 120\n$$SM_MICRON_MARKER 1um\n")
    found = pixel_size(tmp_path / "b.tif")
    assert found is not None and found.x_nm == pytest.approx(1000 / 120)


def test_plain_resolution_tags_are_not_a_pixel_size(tmp_path):
    """Vendors write screen dpi into XResolution: without a unit from ImageJ it means nothing."""
    path = tmp_path / "c.tif"
    tifffile.imwrite(path, np.zeros((32, 48), np.uint8), resolution=(72, 72))
    assert pixel_size(path) is None


def test_imagej_unit_and_resolution(tmp_path):
    path = tmp_path / "d.tif"
    tifffile.imwrite(path, np.zeros((32, 48), np.uint8), imagej=True, resolution=(1 / 0.05, 1 / 0.05),
                     metadata={"unit": "um"})
    found = pixel_size(path)
    assert found is not None and found.x_nm == pytest.approx(50.0, rel=1e-4)


@pytest.mark.parametrize("code, text, vendor, bits, rows", [
    (34682, "[Image]\nResolutionY=20\n[Scan]\nPixelWidth=1e-9\n", "FEI/Thermo", None, 12),
    (34118, "AP_PIXEL_SIZE\r\nPixel Size = 2 nm\r\n", "Zeiss", None, None),
    (50431, "\x00\x01bin[MAIN]\r\nImageStripSize=5\r\nImageBitDepth=12\r\n", "Tescan", 12, 5),
])
def test_each_tiff_vendor_gives_its_facts(tmp_path, code, text, vendor, bits, rows):
    found = read_image(_tiff(tmp_path / "v.tif", code, text)).info[0].vendor
    assert (found.name, found.bits, found.databar_rows) == (vendor, bits, rows)
    assert found.fields  # the vendor's own fields, as parsed


def test_fei_and_zeiss_fields_are_tifffiles_parse(tmp_path):
    """The FEI and Zeiss fields are what tifffile's own readers make of the tags."""
    path = _tiff(tmp_path / "f.tif", 34682, "[Image]\nResolutionY=20\n")
    with tifffile.TiffFile(path) as tif:
        assert read_image(path).info[0].vendor.fields == tif.fei_metadata
    path = _tiff(tmp_path / "z.tif", 34118, "AP_PIXEL_SIZE\r\nPixel Size = 2 nm\r\n")
    with tifffile.TiffFile(path) as tif:
        assert read_image(path).info[0].vendor.fields == tif.sem_metadata


def test_sidecar_vendors_give_bar_and_pixel_size(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "j.bmp")
    (tmp_path / "j.txt").write_text("$CM_FORMAT JEOL/SEM\n$CM_FULL_SIZE 48 24\n$$SM_MICRON_BAR 96\n"
                                    "$$SM_MICRON_MARKER 2um\n")
    jeol = read_image(tmp_path / "j.bmp").info[0]
    assert (jeol.vendor.name, jeol.vendor.databar_rows) == ("JEOL", 8)
    assert jeol.pixel_size.x_nm == pytest.approx(2000 / 96)
    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "h.tif")
    (tmp_path / "h.txt").write_text("[SemImageFile]\r\nDataSize=48x30\r\nPixelSize=4.5\r\n")
    hitachi = read_image(tmp_path / "h.tif").info[0]
    assert (hitachi.vendor.name, hitachi.vendor.databar_rows, hitachi.pixel_size.x_nm) == ("Hitachi", 2, 4.5)
    (tmp_path / "n.txt").write_text("my notes\n")  # not an instrument's sidecar: no vendor
    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "n.png")
    assert read_image(tmp_path / "n.png").info[0].vendor is None
