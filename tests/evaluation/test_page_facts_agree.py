"""Issue 21, section 6: the facts of a page (value of white, data bar) are decided once by
`midnet.io.read_image`, so `midnet deblur`, `evaluate`'s restoration and training masks agree on
a 12-bit TIFF, a 10-bit PNG (sBIT) and a JEOL pair with its sidecar. (The napari widget's restore
path is checked against the same `midnet deblur` file in tests/napari/test_widget.py.)"""

from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image
from scipy.ndimage import gaussian_filter

from midnet import Deblurrer
from midnet.cli.main import cli
from midnet.data import PairStore, list_pairs
from midnet.evaluation import load_pair, restore
from midnet.evaluation.folder import evaluate_folder
from midnet.io import png_chunks, read_image, to_float

BAR = 16


def _frame(bits: int, seed: int, bar: int = BAR, height: int = 96, width: int = 128) -> np.ndarray:
    """A textured uint16 frame using ``bits`` bits, with a black data bar holding white text."""
    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.random((height, width)), 2.0)
    img = 0.15 + 0.7 * (img - img.min()) / (img.max() - img.min())
    if bar:
        img[-bar:] = 0.0
        img[-bar + 4:-bar + 9, 4:120:10] = 1.0
    return np.rint(img * ((1 << bits) - 1)).astype(np.uint16)


def _write(path: Path, array: np.ndarray, bits: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".tif":
        tifffile.imwrite(path, array)  # no bit-depth tag: the data decide 4095
    else:  # a 16-bit PNG whose sBIT chunk says ``bits`` significant bits
        encoded = imagecodecs.png_encode(array)
        cut = encoded.index(b"IDAT") - 4
        path.write_bytes(encoded[:cut] + png_chunks.make_chunk(b"sBIT", bytes([bits])) + encoded[cut:])
    return path


@pytest.fixture(scope="module")
def deblurrer() -> Deblurrer:
    return Deblurrer.from_pretrained(device="cpu", backend="eager", tile=0)


@pytest.mark.parametrize("name, bits, white", [("f12.tif", 12, 4095), ("f10.png", 10, 1023)])
def test_deblur_evaluate_and_training_agree(tmp_path: Path, deblurrer: Deblurrer, name: str, bits: int,
                                            white: int) -> None:
    blurry = _write(tmp_path / "blur" / name, _frame(bits, 0), bits)
    sharp = _write(tmp_path / "sharp" / name, _frame(bits, 1), bits)
    info = read_image(blurry).info[0]
    assert (info.white, info.databar.rows) == (white, BAR)

    # midnet deblur: the file it writes
    res = CliRunner().invoke(cli, ["deblur", str(blurry), "--out", str(tmp_path / "out"), "--device", "cpu",
                                   "--backend", "eager", "--tile", "0", "-q"])
    assert res.exit_code == 0, res.output
    written = read_image(tmp_path / "out" / name).array
    assert written.max() <= white
    np.testing.assert_array_equal(written, deblurrer(read_image(blurry).array, databar=BAR, max_value=white))

    # evaluate: restores exactly that file, and scores on the value of white
    pair = load_pair(blurry, sharp)
    assert (pair.white, pair.restore_rows, pair.databar_rows) == (white, BAR, BAR)
    np.testing.assert_array_equal(restore(deblurrer, pair), written)
    doc = evaluate_folder(deblurrer, tmp_path / "blur", tmp_path / "sharp", tmp_path / "eval", panels=0,
                          registered=False)
    area = slice(0, written.shape[0] - BAR)
    mse = np.mean((written[area].astype(np.float64) - pair.sharp[area]) ** 2)
    assert doc["images"][0]["psnr"] == pytest.approx(10 * np.log10(white**2 / mse), abs=1e-9)

    # training: the same rows masked, the input scaled by the same value of white
    (item,) = list_pairs(tmp_path / "blur", tmp_path / "sharp")
    x, y, mask = PairStore([item]).load(0)
    assert int((mask[0] == 0).all(axis=1).sum()) == pair.databar_rows
    np.testing.assert_array_equal(x[0], to_float(pair.blurry, white))
    assert 0.5 < x.max() <= 1.0  # not 16 times too dark


def test_jeol_pair_training_mask_equals_its_scoring_rows(tmp_path: Path) -> None:
    """The bar of a JEOL pair comes from its sidecars ($CM_FULL_SIZE), the pixels show none."""
    for side, seed in (("blur", 0), ("sharp", 1)):
        (tmp_path / side).mkdir()
        Image.fromarray((_frame(8, seed, bar=0) & 255).astype(np.uint8)).save(tmp_path / side / "j.bmp")
        (tmp_path / side / "j.txt").write_text("$CM_FORMAT JEOL/SEM\n$CM_FULL_SIZE 128 72\n$CM_MAG 8000\n")
    info = read_image(tmp_path / "blur" / "j.bmp").info[0]
    assert (info.vendor.name, info.databar.rows, info.databar.source) == ("JEOL", 24, "metadata")
    pair = load_pair(tmp_path / "blur" / "j.bmp", tmp_path / "sharp" / "j.bmp")
    (item,) = list_pairs(tmp_path / "blur", tmp_path / "sharp")
    mask = PairStore([item]).load(0)[2][0]
    np.testing.assert_array_equal(mask > 0, pair.keep)
    assert pair.databar_rows == 24
