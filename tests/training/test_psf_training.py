"""Training with the synthetic degradation made on the training device, PSF-aware and blind."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy import ndimage

from midnet import models
from midnet.config import ConfigError
from midnet.data import degrade_torch
from midnet.training import load_config
from midnet.training.module import DeblurModule, net_and_loss
from midnet.training.run import train


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, write_toy_corpus) -> Path:
    return write_toy_corpus(tmp_path_factory.mktemp("corpus"), 1.5)


def _config(corpus: Path, *sets: str):
    return load_config("sem-psf", [f"synthetic.corpus={corpus}", "synthetic.val_sources=[held-out]",
                                   "synthetic.val_crop=48", "data.crop_size=32", "data.batch_size=4",
                                   "data.num_workers=0", "train.max_time_min=null", "train.log_every=1",
                                   *sets])


def _module_with_step(cfg, step: int) -> DeblurModule:
    module = DeblurModule(cfg)
    module._trainer = SimpleNamespace(training=True, global_rank=0, global_step=step)  # what the hook reads
    return module


def _sharp_batch(b: int = 4, n: int = 32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    sharp = (torch.rand(b, 1, n, n, generator=g) > 0.5).float() * 0.6 + 0.2
    return {"input": sharp.clone(), "target": sharp.clone(), "mask": torch.ones_like(sharp),
            "synthetic": torch.tensor([True] * (b - 1) + [False])}


def test_config_refuses_psf_model_without_on_device(corpus: Path) -> None:
    with pytest.raises(ConfigError, match="on_device"):
        _config(corpus, "synthetic.on_device=false")
    with pytest.raises(Exception, match="kernel_radius"):  # a BatchRanges key without on_device
        _config(corpus, "model.name=midnet-tiny", "synthetic.on_device=false",
                "synthetic.degradation={kernel_radius: 32}")
    assert _config(corpus, "synthetic.degradation={kernel_radius: 32}").synthetic.on_device


def test_device_degradation_is_a_function_of_the_step(corpus: Path) -> None:
    """Resuming reproduces the batches: the same step degrades the same way, another differently;
    a real-pair row (synthetic False) passes untouched; the PSF-aware model gets PSF and noise."""
    cfg = _config(corpus)
    a = _module_with_step(cfg, 7).on_after_batch_transfer(_sharp_batch(), 0)
    b = _module_with_step(cfg, 7).on_after_batch_transfer(_sharp_batch(), 0)
    c = _module_with_step(cfg, 8).on_after_batch_transfer(_sharp_batch(), 0)
    assert torch.equal(a["input"], b["input"]) and torch.equal(a["psf"], b["psf"])
    assert not torch.equal(a["input"], c["input"])
    assert torch.equal(a["input"][-1], _sharp_batch()["input"][-1])
    assert a["psf"].shape == (4, 4) and a["noise_sigma"].shape == (4,) and "synthetic" not in a
    assert float(a["noise_sigma"].max()) <= 36 / 255  # [0, 1] units, not grey levels
    blind = _module_with_step(_config(corpus, "model.name=midnet-tiny"), 7).on_after_batch_transfer(_sharp_batch(), 0)
    assert "psf" not in blind and torch.equal(blind["input"], a["input"])


def _fixed_loss(net: torch.nn.Module, cfg) -> float:
    """The loss on one fixed degraded batch of corpus-like crops (the same for every call)."""
    g = torch.Generator().manual_seed(3)
    x = ndimage.gaussian_filter(np.random.default_rng(5).random((8, 32, 32)), (0, 1.5, 1.5))
    sharp = torch.from_numpy(((x > np.median(x)) * 0.6 + 0.2).astype(np.float32))[:, None]
    d = degrade_torch.degrade_batch(sharp, degrade_torch.generator_for(3, 0), cfg.synthetic.ranges())
    del g
    with torch.no_grad():
        total, _ = net_and_loss(net, DeblurModule(cfg).loss_fn, d.blurry, d.target, torch.ones_like(sharp),
                                psf=d.given_psf, noise_sigma=d.given_noise_sigma / 255.0)
    return float(total)


def test_short_psf_aware_run_lowers_the_loss_and_round_trips(tmp_path: Path, corpus: Path) -> None:
    torch.manual_seed(0)
    cfg = _config(corpus, "train.max_steps=40", "optim.lr=2e-3")
    result = train(cfg, tmp_path / "run")
    assert result.exported is not None and result.exported.is_file()
    trained = models.load_model(result.exported)
    assert getattr(trained, "psf_aware", False) and trained.midnet_name == "midnet-psf-tiny"
    start = models.create("midnet-psf-tiny")
    before, after = _fixed_loss(start, cfg), _fixed_loss(trained, cfg)
    assert after < before, (before, after)
    # the Lightning checkpoint loads too, with the same weights as the exported file
    from_ckpt = models.load_model(result.last_checkpoint)
    x = torch.rand(1, 1, 32, 32)
    psf = torch.tensor([[0.0, 2.0, 2.0, 0.0]])
    assert torch.allclose(from_ckpt(x, psf=psf, noise_sigma=torch.tensor([0.01])),
                          trained(x, psf=psf, noise_sigma=torch.tensor([0.01])), atol=1e-6)


def test_blind_model_trains_on_device_too(tmp_path: Path, corpus: Path) -> None:
    cfg = _config(corpus, "model.name=midnet-tiny", "train.max_steps=3")
    result = train(cfg, tmp_path / "run")
    assert result.exported is not None and result.exported.is_file()
