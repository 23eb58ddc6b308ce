"""Pixel size from each vendor's metadata, in nanometres, and None when nothing records it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from midnet.io import read_image
from midnet.io.pixel_size import pixel_size


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
    found = pixel_size(read_image(_tiff(tmp_path / "a.tif", code, text)))
    assert (found.y_nm, found.x_nm) == pytest.approx(expected)
    assert found.source.startswith(source)


def test_jeol_sidecar_marker_over_bar_length(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "b.tif")
    (tmp_path / "b.txt").write_text("$CM_FULL_SIZE 48 24\n$$SM_MICRON_BAR 120\n$$SM_MICRON_MARKER 1um\n")
    found = pixel_size(read_image(tmp_path / "b.tif"))
    assert found is not None and found.x_nm == pytest.approx(1000 / 120)


def test_plain_resolution_tags_are_not_a_pixel_size(tmp_path):
    """Vendors write screen dpi into XResolution: without a unit from ImageJ it means nothing."""
    path = tmp_path / "c.tif"
    tifffile.imwrite(path, np.zeros((32, 48), np.uint8), resolution=(72, 72))
    assert pixel_size(read_image(path)) is None


def test_imagej_unit_and_resolution(tmp_path):
    path = tmp_path / "d.tif"
    tifffile.imwrite(path, np.zeros((32, 48), np.uint8), imagej=True, resolution=(1 / 0.05, 1 / 0.05),
                     metadata={"unit": "um"})
    found = pixel_size(read_image(path))
    assert found is not None and found.x_nm == pytest.approx(50.0, rel=1e-4)
