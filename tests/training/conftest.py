"""A tiny synthetic pair set and a tiny training config shared by the training tests."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from midnet.data.synthetic import write_synthetic_pairs
from midnet.training import TrainConfig, load_config


def _write_tiny_pairs(root: Path, suffix: str = ".png") -> Path:
    """3 source images x 2 crops of 48x48 with a 6-row data bar, saved as ``suffix`` files."""
    write_synthetic_pairs(root, groups=3, per_group=2, size=(48, 48), databar_rows=6)
    if suffix != ".png":
        for png in sorted(root.glob("*/*.png")):
            Image.open(png).save(png.with_suffix(suffix))
            png.unlink()
    return root


@pytest.fixture(scope="session")
def tiny_pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny pair set as PNG files."""
    return _write_tiny_pairs(tmp_path_factory.mktemp("pairs"))


@pytest.fixture(scope="session")
def write_tiny_pairs() -> Callable[[Path, str], Path]:
    """The tiny pair set's writer, for other file types."""
    return _write_tiny_pairs


@pytest.fixture()
def tiny_config(tiny_pairs: Path) -> TrainConfig:
    return load_config(None, [f"data.root={tiny_pairs}", "model.name=midnet-tiny", "data.crop_size=32",
                              "data.batch_size=2", "data.val_groups=[3-1]", "train.max_steps=6", "train.val_every=3",
                              "train.log_every=1", "train.accelerator=cpu", "train.progress_bar=false"])


def _write_toy_corpus(root: Path, smooth: float) -> Path:
    """A sharp corpus of three sources (train-a, train-b, held-out), two 96 px two-level images
    each, edges softened by ``smooth`` px."""
    rng = np.random.default_rng(0)
    for src in ("train-a", "train-b", "held-out"):
        (root / src).mkdir(parents=True)
        for i in range(2):
            x = ndimage.gaussian_filter(rng.random((96, 96)), smooth)
            x = ((x > np.median(x)) * 150 + 50 + rng.normal(0, 2, x.shape)).clip(0, 255).astype(np.uint8)
            Image.fromarray(x).save(root / src / f"{i}.png")
    return root


@pytest.fixture(scope="session")
def write_toy_corpus() -> Callable[[Path, float], Path]:
    """The toy sharp-corpus writer the synthetic-training tests share."""
    return _write_toy_corpus
