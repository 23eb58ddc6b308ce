"""Data bar detection: from vendor metadata, and from the pixels on real and synthetic frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from midnet.io import read_image
from midnet.io.databar import detect_databar, detect_databar_array


def test_real_frames_have_a_64_row_bar(sem_data: Path) -> None:
    frames = sorted((sem_data / "frames").glob("*/*.png"))
    if not frames:
        pytest.skip("no full frames in the data folder")
    for path in frames:
        image = read_image(path)
        assert detect_databar(image) == 64, path
        assert detect_databar_array(image.array[:960]) == 0, path  # the frame without its bar


def test_synthetic_bar_detected_in_each_dtype(frame) -> None:
    for dtype in (np.uint8, np.uint16, np.float32):
        assert detect_databar_array(frame(96, 128, 16, dtype)) == 16


def test_bright_bar_with_dark_text(frame) -> None:
    array = frame(96, 128, 20, np.uint8)
    array[-20:] = 255 - array[-20:]
    assert detect_databar_array(array) == 20


@pytest.mark.parametrize("kind", ["noise", "microstructure", "dark_with_particles", "flat_bottom"])
def test_no_bar_gives_zero(frame, kind: str) -> None:
    rng = np.random.default_rng(1)
    if kind == "noise":
        array = rng.integers(0, 256, (96, 128), dtype=np.uint8)
    elif kind == "microstructure":
        array = frame(96, 128, 0, np.uint8)
    elif kind == "dark_with_particles":  # black substrate with sparse bright particles
        array = np.zeros((96, 128), np.uint8)
        for _ in range(60):
            y, x = rng.integers(0, 92, 2)
            array[y:y + 4, x:x + 4] = 230
    else:  # a plain dark strip with no text is shadow, not a data bar
        array = frame(96, 128, 0, np.uint8)
        array[-12:] = 0
    assert detect_databar_array(array) == 0


def test_fei_metadata_gives_bar(tmp_path: Path, frame) -> None:
    path = tmp_path / "fei.tif"
    ini = "[User]\r\nDate=01/02/2024\r\n[Image]\r\nResolutionX=128\r\nResolutionY=80\r\n"
    tifffile.imwrite(path, frame(96, 128, 0), extratags=[(34682, "s", 0, ini, True)])
    assert detect_databar(read_image(path)) == 16  # metadata wins over the (absent) pixels
    assert read_image(path).info[0].databar.source == "metadata"


def test_tescan_metadata_gives_bar(tmp_path: Path, frame) -> None:
    path = tmp_path / "tescan.tif"
    text = b"\x00\x01binary header[MAIN]\r\nDevice=MIRA\r\nImageStripSize=12\r\n"
    tifffile.imwrite(path, frame(96, 128, 12), extratags=[(50431, 7, len(text), text, True)])
    assert detect_databar(read_image(path)) == 12


def test_jeol_sidecar_gives_bar(tmp_path: Path, frame) -> None:
    from PIL import Image

    path = tmp_path / "jeol.bmp"
    Image.fromarray(frame(96, 128, 24)).save(path)
    (tmp_path / "jeol.txt").write_text("$CM_FORMAT JEOL/SEM\n$CM_FULL_SIZE 128 72\n$CM_MAG 8000\n")
    assert detect_databar(read_image(path)) == 24


def test_hitachi_sidecar_gives_bar(tmp_path: Path, frame) -> None:
    path = tmp_path / "hitachi.tif"
    tifffile.imwrite(path, frame(96, 128, 0))  # no bar in the pixels: the sidecar decides
    (tmp_path / "hitachi.txt").write_text("[SemImageFile]\r\nInstructName=SU8230\r\nDataSize=128x80\r\n")
    assert detect_databar(read_image(path)) == 16


def test_unsure_keeps_more_rows_and_says_so(tmp_path: Path, frame, caplog) -> None:
    """Metadata that claims a shorter bar than the image shows: the taller one is kept, logged."""
    import logging

    from midnet.io.databar import databar_report

    path = tmp_path / "fei.tif"
    ini = "[User]\r\nDate=01/02/2024\r\n[Image]\r\nResolutionX=128\r\nResolutionY=86\r\n"
    tifffile.imwrite(path, frame(96, 128, 16), extratags=[(34682, "s", 0, ini, True)])
    with caplog.at_level(logging.WARNING, logger="midnet.io.databar"):
        found = databar_report(read_image(path))
    assert found.rows == 16 and "metadata says 10 rows" in found.unsure
    assert "fei.tif" in caplog.text and "keeping 16" in caplog.text


def test_inset_box_keeps_the_rows_below_it(frame) -> None:
    """A Philips/FEI XL30-style info box that stops short of the bottom and the image edges."""
    from midnet.io.databar import find_databar

    array = frame(200, 160, 0, np.uint8)
    array[150:190, 10:150] = 0  # 10 specimen rows below the box
    for x in range(16, 140, 9):
        array[158:166, x:x + 5] = 255
    found = find_databar(array)
    assert found.rows == 50 and "inset" in found.unsure
