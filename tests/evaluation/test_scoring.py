"""The one scoring rule (midnet.evaluation.scoring) on small arrays, against scikit-image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from midnet.evaluation import EvalPair, load_pair, register_pair, restore_with, score, score_pair, score_registered


def _images(dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    a = rng.integers(0, top, (48, 40), dtype=np.int64).astype(dtype)
    b = np.clip(a.astype(np.int64) + rng.integers(-top // 20, top // 20, a.shape), 0, top).astype(dtype)
    return a, b


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_data_is_scored_on_its_own_scale_without_the_bar(dtype) -> None:
    a, b = _images(dtype)
    top = np.iinfo(dtype).max
    s = score(a, b, databar_rows=8)
    assert s.psnr == pytest.approx(peak_signal_noise_ratio(b[:-8], a[:-8], data_range=top), abs=1e-9)
    ssim = structural_similarity(b[:-8], a[:-8], data_range=top, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)
    assert s.ssim == pytest.approx(ssim, abs=1e-6)


def test_float_data_needs_an_explicit_range() -> None:
    a, b = (x.astype(np.float32) / 255 for x in _images(np.uint8))
    with pytest.raises(ValueError, match="no natural value range; pass data_range"):
        score(a, b)
    assert score(a, b, data_range=1.0).psnr == pytest.approx(peak_signal_noise_ratio(b, a, data_range=1.0), abs=1e-4)


def test_alpha_is_not_scored_and_dtypes_must_match() -> None:
    a, b = _images(np.uint8)
    alpha = np.zeros_like(a)
    assert score(np.dstack([a, alpha]), np.dstack([b, alpha + 255])).psnr == pytest.approx(score(a, b).psnr)
    with pytest.raises(ValueError, match="differ in dtype"):
        score(a, b.astype(np.uint16))


def test_restore_with_rounds_like_the_paper_and_keeps_the_bar() -> None:
    x = np.full((10, 4), 100, np.uint8)
    pair = EvalPair("p", x, x, 2, 2)
    # 0.5 / 255 * 255 = 0.5 rounds half to even -> 0; 1.5 -> 2 (BasicSR: numpy/torch round)
    out = restore_with(lambda im: np.where(np.arange(im.shape[1]) < 2, 0.5, 1.5) / 255.0 + 0 * im, pair)
    assert out.dtype == np.uint8
    assert out[:8, :2].tolist() == [[0, 0]] * 8 and out[:8, 2:].tolist() == [[2, 2]] * 8
    assert np.all(out[8:] == 100)


def test_load_pair_finds_the_bar_with_the_io_detector(tmp_path: Path) -> None:
    from midnet.data.synthetic import write_synthetic_pairs

    root = write_synthetic_pairs(tmp_path, groups=1, per_group=1, size=(48, 40), databar_rows=8)
    pair = load_pair(root / "blur" / "1-1_s001.png", root / "sharp" / "1-1_s001.png")
    assert (pair.restore_rows, pair.databar_rows) == (8, 8)
    blurry = np.asarray(Image.open(root / "blur" / "1-1_s001.png"))
    assert score_pair(pair.blurry, pair).psnr == pytest.approx(score(blurry, pair.sharp, databar_rows=8).psnr)
    assert load_pair(root / "blur" / "1-1_s001.png", root / "sharp" / "1-1_s001.png", databar=0).databar_rows == 0


def test_registered_score_undoes_the_move_between_the_captures() -> None:
    """A blurry capture moved by 9 px: the plain score punishes an exact copy of the sharp scene
    moved the same way; the registered one finds the move (on the captures) and scores the content."""
    from scipy import ndimage

    rng = np.random.default_rng(2)
    scene = ndimage.gaussian_filter(rng.random((300, 360)), 2.0)
    scene = (255 * (scene - scene.min()) / np.ptp(scene)).astype(np.uint8)
    sharp, moved = scene[20:280, 20:340].copy(), scene[20:280, 11:331].copy()   # moved[x] = sharp[x - 9]
    sharp[-20:], moved[-20:] = 255, 0                                              # different bars
    blurry = ndimage.gaussian_filter(moved, 1.5)
    pair = EvalPair("p", blurry, sharp, restore_rows=20, databar_rows=20)
    stats = register_pair(pair).stats()          # the blurry capture holds sharp[x] at x + 9
    assert (stats["median_shift_y"], stats["median_shift_x"]) == pytest.approx((0.0, 9.0), abs=0.2)
    assert score_pair(moved, pair).psnr < 25
    assert score_registered(moved, pair).psnr > 45
    assert score_registered(blurry, pair).psnr < score_registered(moved, pair).psnr
