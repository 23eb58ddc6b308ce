"""The shipped PSF-aware preview: registered opt-in, loads offline as the trained weights, never the default."""

from __future__ import annotations

from pathlib import Path

import torch

from midnet import models
from midnet.models.psf_aware import PSFAwareMIDNet

REPO = Path(__file__).resolve().parents[2]


def test_psf_preview_is_registered_opt_in() -> None:
    assert models.PSF_MODEL == "sem-psf-preview" and models.PSF_MODEL in models.available(trained=True)
    assert models.DEFAULT_MODEL == "sem-general"
    assert models.is_psf_aware("sem-psf-preview") and not models.is_psf_aware(models.DEFAULT_MODEL)
    entry = models.entry("sem-psf-preview")
    assert entry.arch == "midnet-psf-tiny" and entry.weights_path.is_file()
    assert entry.weights_path.stat().st_size < 3 * 1024 * 1024  # small enough to ship
    assert "docs/models/sem-psf-preview.md" in entry.description


def test_psf_preview_loads_the_trained_weights() -> None:
    """Not an untrained network: the shipped file is the CPU run's export, and training moved
    the last convolution off its zero start."""
    net = models.load_model("sem-psf-preview")
    assert isinstance(net, PSFAwareMIDNet) and models.is_psf_aware(net)
    assert float(net.backbone.ending.weight.abs().sum()) > 0
    kept = REPO / "checkpoints" / "sem-psf-cpu-tiny.safetensors"
    if kept.is_file():  # the checkpoint the card names, where the repository holds it
        same = models.load_model(kept)
        assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), same.state_dict().values()))



def test_model_card_says_preview_and_gives_its_command() -> None:
    card = (REPO / "docs" / "models" / "sem-psf-preview.md").read_text(encoding="utf-8")
    assert "17 minutes on 2 CPU cores" in card and "preview" in card.lower()
    assert "python -m midnet.benchmark.heldout" in card and "benchmarks/psf_steer.py" in card
    assert "27.17" in card  # the σ = 2 row of docs/results/psf-aware-cpu/summary.md
    summary = (REPO / "docs" / "results" / "psf-aware-cpu" / "summary.md").read_text(encoding="utf-8")
    assert "| psf-tiny | 29.30 / 0.6947 | 27.17 / 0.5732 |" in summary
