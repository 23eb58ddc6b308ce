"""A tiny synthetic pair set and a tiny training config shared by the training tests."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from midnet.data.synthetic import write_synthetic_pairs
from midnet.training import load_config


@pytest.fixture(scope="session")
def tiny_pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 source images x 2 crops of 48x48 with an 6-row data bar."""
    return write_synthetic_pairs(tmp_path_factory.mktemp("pairs"), groups=3, per_group=2,
                                 size=(48, 48), databar_rows=6)


@pytest.fixture()
def tiny_config(tiny_pairs: Path) -> dict:
    cfg = load_config(None, [f"data.root={tiny_pairs}"])
    cfg["model"]["name"] = "midnet-tiny"
    cfg["data"].update(crop_size=32, batch_size=2, val_groups=["3-1"])
    cfg["train"].update(max_steps=6, val_every=3, log_every=1, accelerator="cpu", progress_bar=False)
    return copy.deepcopy(cfg)
