"""Fixtures for the file tests: synthetic SEM frames with a data bar, and a tiny deblurrer."""

from __future__ import annotations

import numpy as np
import pytest


def sem_frame(height: int = 96, width: int = 128, bar: int = 16, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    """A grain-like micrograph whose bottom ``bar`` rows are a black band with white 'text'."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.random((height, width)), 2.5)
    img = 0.15 + 0.7 * (img - img.min()) / (img.max() - img.min())
    img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1)
    if bar:
        img[height - bar:] = 0.0
        for x in range(4, width - 8, 12):  # glyph-like blocks on two text lines
            img[height - bar + 3:height - bar + 7, x:x + 5] = 1.0
            if bar >= 14:
                img[height - bar + 9:height - bar + 13, x + 2:x + 6] = 1.0
    if np.issubdtype(dtype, np.floating):
        return img.astype(dtype)
    return np.rint(img * np.iinfo(dtype).max).astype(dtype)


@pytest.fixture(scope="session")
def frame():
    """Factory fixture: ``frame(height, width, bar, dtype, seed)`` -> `sem_frame` array."""
    return sem_frame


@pytest.fixture(scope="session")
def deblurrer():
    import torch

    from midnet import Deblurrer
    from midnet.models import create

    torch.manual_seed(0)
    return Deblurrer(create("midnet-tiny"), device="cpu", tile=64, overlap=32)
