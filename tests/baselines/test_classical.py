"""Classical baselines on synthetic Gaussian blur: the fit must find the blur and help."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from midnet.baselines.classical import (
    TRUNCATE,
    Restorer,
    RichardsonLucy,
    UnsharpMask,
    UnsupervisedWiener,
    Wiener,
    classical_methods,
    fitting_patches,
    psnr_float,
)
from midnet.psf.kernels import gaussian_kernel

TRUE_SIGMA = 2.0
SIGMAS = (1.0, 1.41, 2.0, 2.83, 4.0)


def _pair(seed: int, size: int = 64, noise: float = 0.003) -> tuple[np.ndarray, np.ndarray]:
    """A random texture (smoothed noise in [0.1, 0.9]) and its Gaussian-blurred, noisy copy."""
    rng = np.random.default_rng(seed)
    sharp = ndimage.gaussian_filter(rng.random((size, size)), 1.0)
    sharp = (sharp - sharp.min()) / (sharp.max() - sharp.min()) * 0.8 + 0.1
    blurry = ndimage.convolve(sharp, gaussian_kernel(TRUE_SIGMA, truncate=TRUNCATE), mode="reflect")
    return np.clip(blurry + noise * rng.standard_normal(sharp.shape), 0, 1), sharp


@pytest.fixture(scope="module")
def train_pairs():
    return [_pair(seed) for seed in range(3)]


@pytest.fixture(scope="module")
def test_pair():
    return _pair(99)


def _gain(method, pair) -> float:
    blurry, sharp = pair
    return psnr_float(method(blurry), sharp) - psnr_float(blurry, sharp)


def _steps_from_truth(sigma: float) -> float:
    return abs(math.log(sigma / TRUE_SIGMA, math.sqrt(2)))


def test_wiener_recovers_sigma_and_improves(train_pairs, test_pair):
    w = Wiener(grid={"sigma": SIGMAS, "balance": (0.001, 0.01, 0.1)}).fit(train_pairs)
    assert w.fitted and _steps_from_truth(w.params["sigma"]) <= 1.01
    assert "sigma" not in w.at_grid_edge()
    assert _gain(w, test_pair) > 1.0
    # the fit really discriminates: the true σ scores clearly better than a wrong one
    best_balance = w.params["balance"]
    assert w.scores[(2.0, best_balance)] > w.scores[(4.0, best_balance)] + 1.0


def test_richardson_lucy_recovers_sigma_and_improves(train_pairs, test_pair):
    rl = RichardsonLucy(grid={"sigma": SIGMAS, "num_iter": (10, 30)}).fit(train_pairs)
    assert _steps_from_truth(rl.params["sigma"]) <= 1.01
    assert _gain(rl, test_pair) > 1.0


def test_unsupervised_wiener_and_unsharp_mask_improve(train_pairs, test_pair):
    uw = UnsupervisedWiener(grid={"sigma": (1.0, 2.0, 4.0)}).fit(train_pairs)
    assert _gain(uw, test_pair) > 1.0
    assert repr(uw(test_pair[0]).sum()) == repr(uw(test_pair[0]).sum())  # seeded: repeatable
    um = UnsharpMask(grid={"radius": (1.0, 2.0, 4.0), "amount": (0.5, 1.0, 2.0)}).fit(train_pairs)
    assert _gain(um, test_pair) > 0.5


def test_factory_gives_named_protocol_conforming_methods(test_pair):
    methods = classical_methods()
    assert list(methods) == ["unsharp-mask", "wiener", "richardson-lucy", "unsupervised-wiener"]
    for name, method in methods.items():
        assert isinstance(method, Restorer) and method.name == name
    blurry = test_pair[0]
    out = methods["wiener"](blurry)  # unfitted methods run with their defaults
    assert out.shape == blurry.shape and out.min() >= 0 and out.max() <= 1
    assert "not fitted" in methods["wiener"].describe()


def test_bad_inputs_get_clear_errors(test_pair):
    blurry, sharp = test_pair
    with pytest.raises(ValueError, match="grey"):
        Wiener()(np.stack([blurry] * 3, axis=-1))
    with pytest.raises(ValueError, match="float"):
        Wiener()((blurry * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="no training pairs"):
        Wiener().fit([])
    with pytest.raises(ValueError, match="differ in shape"):
        Wiener().fit([(blurry, sharp[:10])])
    with pytest.raises(ValueError, match="widths must be > 0"):
        Wiener().restore(blurry, sigma=0, balance=0.1)


def test_fitting_patches_cover_every_pair():
    pairs = [(np.full((300, 400), i, float), np.full((300, 400), i, float)) for i in range(4)]
    patches = fitting_patches(pairs, patch=128, max_patches=8)
    assert len(patches) == 8 and all(b.shape == (128, 128) for b, _ in patches)
    assert {float(b[0, 0]) for b, _ in patches} == {0.0, 1.0, 2.0, 3.0}


def test_benchmark_script_runs_on_real_frames(sem_data, capsys):
    """benchmarks/classical_baselines.py end to end, at a tiny fitting budget."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "classical_baselines.py"
    spec = importlib.util.spec_from_file_location("classical_baselines", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(["--data", str(sem_data), "--train", "1", "--test", "7", "--patches", "1", "--patch", "64",
                 "--methods", "unsharp-mask"])
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"blurry-input", "unsharp-mask"}
    assert 10 < float(rows["blurry-input"][1]) < 40 and 0 < float(rows["blurry-input"][2]) <= 1
