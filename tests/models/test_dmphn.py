"""Our one-module DMPHN 1-2-4 against the official DMPHN-cvpr19 modules and script."""

from __future__ import annotations

import pytest
import torch
from _official_fixture import full_shapes, parameter_count_on_meta, read_case, shapes_on_meta

from midnet import models
from midnet.models.dmphn import DMPHN124, load_official_dmphn
from midnet.models.zoo_baselines import load_official_weights


def _write_official_pkls(state: dict[str, torch.Tensor], folder) -> None:
    """Split our prefixed state dict into the six per-module .pkl files the official scripts save."""
    modules: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        name, rest = key.split(".", 1)
        modules.setdefault(name, {})[rest] = value
    assert len(modules) == 6
    for name, sd in modules.items():
        torch.save(sd, folder / f"{name}.pkl")


def test_official_pkl_files_load_strictly_and_match_output(tmp_path):
    config, state, t = read_case("dmphn_reduced")
    _write_official_pkls(state, tmp_path)
    net = load_official_dmphn(DMPHN124(**config).eval(), tmp_path)
    with torch.no_grad():
        y = net(t["input"])
    assert y.shape == t["output"].shape
    assert (y - t["output"]).abs().max().item() < 1e-4
    assert (t["output"] - t["input"]).abs().max().item() > 1e-2
    # the prefixed state dict also loads directly, and the registry model takes the folder
    DMPHN124(**config).load_state_dict(state, strict=True)
    created = load_official_weights(models.create("dmphn-1-2-4", in_channels=3, width=4).eval(), tmp_path)
    with torch.no_grad():
        assert (created(t["input"]) - t["output"]).abs().max().item() < 1e-4


def test_missing_official_file_is_named(tmp_path):
    _, state, _ = read_case("dmphn_reduced")
    _write_official_pkls(state, tmp_path)
    (tmp_path / "decoder_lv2.pkl").unlink()
    with pytest.raises(ValueError, match="decoder_lv2"):
        load_official_dmphn(DMPHN124(in_channels=3, width=4), tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_official_dmphn(DMPHN124(in_channels=3, width=4), tmp_path / "nope")


def test_full_config_has_official_names_shapes_and_count():
    build = lambda: models.create("dmphn-1-2-4", in_channels=3)  # noqa: E731
    assert shapes_on_meta(build) == full_shapes("dmphn")
    assert parameter_count_on_meta(build) == 5_424_393  # "about 5.42 M"


@pytest.mark.parametrize("size", [(20, 12), (8, 8), (3, 7)])
def test_grey_any_size_round_trips_shape(size):
    net = models.create("dmphn-1-2-4", width=4).eval()
    x = torch.rand(1, 1, *size)
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
