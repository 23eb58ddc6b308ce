"""12- and 14-bit detectors in 16-bit files are scaled by their real range (issue 11, point 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from midnet.io import read_image
from midnet.io.bitdepth import value_range


def _range(path: Path) -> tuple[int, str]:
    info = read_image(path).info[0]
    return info.white, info.white_source


def test_range_is_decided_in_the_documented_order(tmp_path: Path, frame) -> None:
    data = frame(64, 80, 0, np.uint16) >> 4  # 12-bit values
    tifffile.imwrite(tmp_path / "bits.tif", data, bitspersample=12)
    assert _range(tmp_path / "bits.tif") == (4095, "BitsPerSample")
    tifffile.imwrite(tmp_path / "smax.tif", data, extratags=[(341, 3, 1, 16383, True)])
    assert _range(tmp_path / "smax.tif") == (16383, "SMaxSampleValue")  # wins over the data
    tescan = b"[MAIN]\r\nImageBitDepth=14\r\n"
    tifffile.imwrite(tmp_path / "vendor.tif", data, extratags=[(50431, 7, len(tescan), tescan, True)])
    assert _range(tmp_path / "vendor.tif") == (16383, "vendor metadata")
    tifffile.imwrite(tmp_path / "data12.tif", data)
    assert _range(tmp_path / "data12.tif") == (4095, "data")
    tifffile.imwrite(tmp_path / "data14.tif", data * 4)
    assert _range(tmp_path / "data14.tif") == (16383, "data")
    tifffile.imwrite(tmp_path / "data16.tif", data * 16)
    assert _range(tmp_path / "data16.tif") == (65535, "dtype")
    assert value_range(np.zeros((4, 4), np.uint8)) == (255, "dtype")
    assert value_range(np.zeros((4, 4), np.float32)) == (0, "float")


def test_packed_12_bit_tiff_stays_12_bit(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "p.tif", tmp_path / "o" / "p.tif"
    data = frame(96, 128, 16, np.uint16) >> 4
    tifffile.imwrite(src, data, bitspersample=12)
    deblurrer.deblur_file(src, dst)
    with tifffile.TiffFile(dst) as tif:
        assert tif.pages[0].bitspersample == 12
        out = tif.pages[0].asarray()
    assert out.max() <= 4095
    np.testing.assert_array_equal(out, deblurrer(data, databar=16, max_value=4095))
    np.testing.assert_array_equal(out[-16:], data[-16:])


def test_12_bit_frame_restores_like_its_8_bit_twin(tmp_path: Path) -> None:
    """Frame 7-1 (the crop shipped for the demo) x16 in a 16-bit TIFF vs the 8-bit original,
    through the bundled model: the same picture (>= 40 dB apart), never above 4095."""
    from midnet import Deblurrer
    from midnet.evaluation.demo import packaged_pair
    from midnet.metrics import psnr

    eight = read_image(packaged_pair()[0]).array
    twelve = eight.astype(np.uint16) * 16
    tifffile.imwrite(tmp_path / "f8.tif", eight)
    tifffile.imwrite(tmp_path / "f12.tif", twelve)
    deblurrer = Deblurrer.from_pretrained(device="cpu")
    deblurrer.deblur_file(tmp_path / "f8.tif", tmp_path / "out" / "f8.tif")
    deblurrer.deblur_file(tmp_path / "f12.tif", tmp_path / "out" / "f12.tif")
    out8 = tifffile.imread(tmp_path / "out" / "f8.tif")
    out12 = tifffile.imread(tmp_path / "out" / "f12.tif")
    assert out12.dtype == np.uint16 and out12.max() <= 4095
    np.testing.assert_array_equal(out12[-64:], twelve[-64:])  # the bar, untouched
    area = slice(0, eight.shape[0] - 64)
    assert psnr(out12[area] / 4095.0, out8[area] / 255.0, data_range=1.0) >= 40.0
    assert psnr(out8[area] / 255.0, eight[area] / 255.0, data_range=1.0) < 40.0  # it did restore
    # scaled by 65535 (the old behaviour) the model sees a near-black frame: far from the twin
    wrong = deblurrer(twelve, databar=64, max_value=65535)
    assert psnr(wrong[area] / 4095.0, out8[area] / 255.0, data_range=1.0) < 40.0


def test_png_sbit_gives_the_range(tmp_path: Path, deblurrer, frame) -> None:
    import imagecodecs

    from midnet.io import png_chunks

    data = frame(96, 128, 16, np.uint16) >> 4
    encoded = imagecodecs.png_encode(data)
    sbit = png_chunks.make_chunk(b"sBIT", bytes([12]))
    cut = encoded.index(b"IDAT") - 4
    (tmp_path / "s.png").write_bytes(encoded[:cut] + sbit + encoded[cut:])
    assert _range(tmp_path / "s.png") == (4095, "sBIT")
    deblurrer.deblur_file(tmp_path / "s.png", tmp_path / "o" / "s.png")
    out = imagecodecs.png_decode((tmp_path / "o" / "s.png").read_bytes())
    assert out.dtype == np.uint16 and out.max() <= 4095
    assert b"sBIT" in (tmp_path / "o" / "s.png").read_bytes()  # the chunk is kept
