"""The bundled default model: loads offline, restores any array, and beats the blurry input
and the best classical baseline on the held-out published frame 7-1 (image area)."""

from __future__ import annotations

import numpy as np
import pytest

from midnet import Deblurrer
from midnet.inference import default_model_path


def test_bundled_weights_ship_with_the_package_and_load_offline():
    path = default_model_path()
    assert path.is_file() and path.stat().st_size < 20 * 1024 * 1024
    d = Deblurrer.from_pretrained(device="cpu")
    out = d(np.full((70, 90), 128, np.uint8))
    assert out.shape == (70, 90) and out.dtype == np.uint8


def test_demo_beats_blurry_input_and_fitted_wiener(sem_data, tmp_path, monkeypatch):
    from midnet.baselines.classical import Wiener
    from midnet.evaluation import load_pair, restore_with, score_pair
    from midnet.evaluation.demo import run_demo

    monkeypatch.setenv("MIDNET_DATA", str(sem_data))
    result = run_demo(tmp_path, device="cpu")
    assert (tmp_path / "7-1_comparison.png").stat().st_size > 10_000
    assert result.image_rows == 960   # SOURCE.md: rows 960..1023 are the data bar
    pair = load_pair(sem_data / "frames" / "blur" / "7-1.png", sem_data / "frames" / "sharp" / "7-1.png")
    blurry, sharp = pair.blurry.astype(np.float64), pair.sharp.astype(np.float64)
    assert result.psnr_blurry == pytest.approx(10 * np.log10(255**2 / np.mean((blurry[:960] - sharp[:960]) ** 2)))
    # Wiener with the parameters fitted on frames 1-6 (benchmarks/classical_baselines.py)
    wiener = score_pair(restore_with(Wiener(params={"sigma": 5.65685, "balance": 1000.0}), pair), pair)
    psnr_wiener, ssim_wiener = wiener.psnr, wiener.ssim
    assert result.psnr_restored > result.psnr_blurry + 0.5
    assert result.psnr_restored > psnr_wiener
    assert result.ssim_restored > ssim_wiener
