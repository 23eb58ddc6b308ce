"""psnr/ssim against scikit-image on random and real SEM images; quantisation and masks."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from midnet.metrics import gaussian_window_1d, psnr, quantize, rows_mask, ssim


def _data_root() -> Path:
    env = os.environ.get("MIDNET_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data" / "midnet-sem"


DATA = _data_root()
needs_data = pytest.mark.skipif(
    not (DATA / "blur").is_dir(),
    reason=f"real SEM pairs not found at {DATA} (set MIDNET_DATA to a copy of shared/data/midnet-sem)",
)


def skimage_ssim(a: np.ndarray, b: np.ndarray, data_range: float, rows: slice = slice(None)) -> float:
    """Reference: scikit-image's Gaussian SSIM map, cropped by 5 px (BasicSR's valid region), averaged."""
    channel_axis = 2 if a.ndim == 3 else None
    _, smap = structural_similarity(
        a, b, data_range=data_range, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, full=True, channel_axis=channel_axis,
    )
    return float(smap[5:-5, 5:-5][rows].mean())


def _noisy_pair(shape, seed=0, top=255, dtype=np.uint8, noise=12.0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, top + 1, shape).astype(dtype)
    b = np.clip(a + rng.normal(0, noise * top / 255, shape), 0, top).round().astype(dtype)
    return a, b


@pytest.mark.parametrize("shape", [(37, 52), (40, 33, 3)])
def test_ssim_and_psnr_match_skimage_on_random_uint8(shape):
    a, b = _noisy_pair(shape)
    assert ssim(a, b, data_range=255) == pytest.approx(skimage_ssim(a, b, 255), rel=1e-6)
    assert psnr(a, b, data_range=255) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), rel=1e-10)


def test_ssim_and_psnr_match_skimage_on_uint16():
    a, b = _noisy_pair((30, 41), seed=1, top=65535, dtype=np.uint16, noise=20)
    assert ssim(a, b, data_range=65535) == pytest.approx(skimage_ssim(a, b, 65535), rel=1e-6)
    assert psnr(a, b, data_range=65535) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=65535), rel=1e-10)


def test_window_is_normalised_gaussian_sigma_1_5():
    g = gaussian_window_1d()
    assert g.shape == (11,) and g.sum() == pytest.approx(1.0)
    assert g[6] / g[5] == pytest.approx(math.exp(-1 / (2 * 1.5**2)))


def test_float_input_is_quantised_like_basicsr():
    rng = np.random.default_rng(2)
    x = (rng.random((24, 24)) * 1.2 - 0.1).astype(np.float32)  # leaves [0, 1] on both sides
    basicsr = (np.clip(x, 0, 1) * 255.0).round().astype(np.uint8)  # tensor2img's rule
    np.testing.assert_array_equal(quantize(x), basicsr)
    y = quantize(np.clip(x + 0.02, 0, 1))
    # floats on the 0..255 scale are rounded before measuring, so they equal the uint8 result
    assert psnr(basicsr.astype(np.float64) + 0.3, y, data_range=255) == psnr(basicsr, y, data_range=255)
    assert ssim(basicsr.astype(np.float64) - 0.4, y, data_range=255) == ssim(basicsr, y, data_range=255)


def test_quantize_16_bit_and_torch_tensor():
    import torch

    x = torch.tensor([[0.0, 0.5, 1.0, 1.5]])
    np.testing.assert_array_equal(quantize(x, np.uint16), np.array([[0, 32768, 65535, 65535]], dtype=np.uint16))


def test_bad_inputs_raise_clear_errors():
    a, b = _noisy_pair((20, 20))
    with pytest.raises(ValueError, match="quantise them first"):
        psnr(a / 255.0, b / 255.0, data_range=255)
    with pytest.raises(ValueError, match="outside"):
        psnr(a.astype(np.uint16) * 300, b.astype(np.uint16), data_range=255)
    with pytest.raises(ValueError, match="same"):
        ssim(a, b[:, :19], data_range=255)
    with pytest.raises(ValueError, match="at least 11"):
        ssim(a[:10], b[:10], data_range=255)


def test_unquantised_float_metric_with_unit_range():
    a, b = _noisy_pair((25, 26), seed=3)
    fa, fb = a / 255.0, b / 255.0
    assert ssim(fa, fb, data_range=1.0) == pytest.approx(skimage_ssim(fa, fb, 1.0), rel=1e-6)
    assert psnr(fa, fb, data_range=1.0) == pytest.approx(psnr(a, b, data_range=255), rel=1e-9)


def test_identical_images():
    a, _ = _noisy_pair((16, 16))
    assert psnr(a, a, data_range=255) == math.inf
    assert ssim(a, a, data_range=255) == pytest.approx(1.0)


def test_mask_psnr_and_ssim_leave_rows_out():
    a, b = _noisy_pair((60, 40), seed=4)
    b[45:] = 255 - b[45:]  # a "data bar" that differs completely
    mask = rows_mask(a.shape, slice(45, 60))
    assert psnr(a, b, data_range=255, mask=mask) == pytest.approx(peak_signal_noise_ratio(a[:45], b[:45], data_range=255))
    # valid-map rows r-5 with the whole window (rows r-5..r+5) above row 45: r <= 39, map rows 0..34
    assert ssim(a, b, data_range=255, mask=mask) == pytest.approx(skimage_ssim(a, b, 255, slice(0, 35)), rel=1e-6)
    assert ssim(a, b, data_range=255, mask=mask) > ssim(a, b, data_range=255) + 0.05


def test_rows_mask_default_is_sem_data_bar():
    m = rows_mask((1024, 1280, 3))
    assert m.shape == (1024, 1280) and m[:960].all() and not m[960:].any()


@needs_data
def test_real_crop_pair_matches_skimage():
    name = "1-1_s006.png"
    blur = np.asarray(Image.open(DATA / "blur" / name))[..., :3]  # RGBA: drop alpha
    sharp = np.asarray(Image.open(DATA / "sharp" / name))[..., :3]
    assert ssim(blur, sharp, data_range=255) == pytest.approx(skimage_ssim(blur, sharp, 255), rel=1e-6)
    assert psnr(blur, sharp, data_range=255) == pytest.approx(peak_signal_noise_ratio(sharp, blur, data_range=255), rel=1e-10)


@needs_data
def test_real_frame_without_data_bar_matches_skimage():
    blur = np.asarray(Image.open(DATA / "frames" / "blur" / "1-1.png"))
    sharp = np.asarray(Image.open(DATA / "frames" / "sharp" / "1-1.png"))
    mask = rows_mask(blur.shape)
    got = ssim(blur, sharp, data_range=255, mask=mask)
    assert got == pytest.approx(skimage_ssim(blur, sharp, 255, slice(0, 950)), rel=1e-6)
    assert psnr(blur, sharp, data_range=255, mask=mask) == pytest.approx(
        peak_signal_noise_ratio(sharp[:960], blur[:960], data_range=255), rel=1e-10
    )
