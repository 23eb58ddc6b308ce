"""The learned blur estimator's training loop runs, learns on a fixed batch, and writes weights
that `midnet.psf.learned.LearnedBlurEstimator` loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from midnet.data.corpus import SharpImage
from midnet.data.degrade_torch import BatchRanges, degrade_batch, generator_for
from midnet.psf.kernels import PSF
from midnet.psf.learned import BlurNet, LearnedBlurEstimator, normalise
from midnet.training.blur_estimator import RANGES, crops, targets_loss, train
from specimens import textured


def _images() -> list[SharpImage]:
    return [SharpImage("gen", f"g{i}.tif", textured((160, 200), seed=i).astype(np.float32)) for i in range(3)]


def test_a_short_run_writes_weights_the_estimator_loads(tmp_path: Path) -> None:
    out = train(_images(), tmp_path / "est.safetensors", steps=3, batch=4, minutes=5, log_every=1)
    est = LearnedBlurEstimator.load(out)
    psf, focus = est.predict(PSF("gaussian", 2.0).blur(textured((128, 160), seed=9)))
    assert isinstance(psf, PSF) and 0.0 <= focus <= 1.0


def test_the_loss_falls_on_a_fixed_batch() -> None:
    """The network can fit what the loss asks (this failed before batch norm was added)."""
    torch.manual_seed(0)
    sharp = crops(_images(), 16, np.random.default_rng(0))
    b = degrade_batch(sharp, generator_for(0, 0), BatchRanges.from_dict(RANGES))
    valid = b.blurry.std(dim=(1, 2, 3)) > 0.01
    net = BlurNet(8)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    x = normalise(b.blurry)
    first = float(targets_loss(net(x), b.psf, valid))
    for _ in range(60):
        loss = targets_loss(net(x), b.psf, valid)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.6 * first


def test_missing_weights_name_the_file_and_the_fix(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(FileNotFoundError, match="train_psf_estimator"):
        LearnedBlurEstimator.load(tmp_path / "none.safetensors")
