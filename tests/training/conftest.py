"""A tiny synthetic pair set and a tiny training config shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from midnet.data.synthetic import write_synthetic_pairs
from midnet.training import TrainConfig, load_config


@pytest.fixture(scope="session")
def tiny_pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 source images x 2 crops of 48x48 with an 6-row data bar."""
    return write_synthetic_pairs(tmp_path_factory.mktemp("pairs"), groups=3, per_group=2,
                                 size=(48, 48), databar_rows=6)


@pytest.fixture()
def tiny_config(tiny_pairs: Path) -> TrainConfig:
    return load_config(None, [f"data.root={tiny_pairs}", "model.name=midnet-tiny", "data.crop_size=32",
                              "data.batch_size=2", "data.val_groups=[3-1]", "train.max_steps=6", "train.val_every=3",
                              "train.log_every=1", "train.accelerator=cpu", "train.progress_bar=false"])
