"""Fixtures for the inference tests: a tiny registry model whose blocks are switched on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn


def active_tiny_model(name: str = "midnet-tiny", seed: int = 0) -> nn.Module:
    """A registry tiny model with its NAFNet layer scales (beta, gamma) drawn at random.

    Why: NAFNet initialises those scales to zero, so a freshly created model is almost a plain
    linear conv net; with them on, the blocks' global channel attention (which makes tiles
    disagree with the whole image) is exercised as in a trained model.
    """
    from midnet.models import create

    torch.manual_seed(seed)
    model = create(name).eval()
    with torch.no_grad():
        for pname, param in model.named_parameters():
            if pname.endswith(("beta", "gamma")):
                param.normal_(0.0, 0.5)
    return model


def microstructure(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth grain-like float32 image in [0, 1] with a little noise (not pure noise)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.random((height, width)), 3)
    img = (img - img.min()) / (img.max() - img.min())
    return np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)


@pytest.fixture(scope="session")
def tiny_model() -> nn.Module:
    return active_tiny_model()


@pytest.fixture(scope="session")
def make_image():
    """Factory fixture: ``make_image(height, width, seed=0)`` -> `microstructure` image."""
    return microstructure
