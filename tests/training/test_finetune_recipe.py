"""Issue 21: the sem-jeol-alloy fine-tune recipe runs as written from a pip install. Its config
builds the shipped sem-general's architecture and starts from those weights by name (no
``src/`` path, which an installed package does not have)."""

from __future__ import annotations

import torch

from midnet import models
from midnet.config import compose
from midnet.config.train import TrainConfig


def test_recipe_config_starts_from_the_shipped_general_weights():
    cfg = compose(TrainConfig, "sem-jeol-alloy")
    net = models.create(cfg.model.name, in_channels=cfg.model.in_channels, checkpoint=cfg.model.checkpoint)
    report = net.midnet_load_report
    shipped = models.load_model("sem-general")
    assert cfg.model.checkpoint == "sem-general"
    assert not getattr(report, "mismatched", None), report
    for (name, a), (_, b) in zip(net.state_dict().items(), shipped.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
