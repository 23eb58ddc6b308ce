"""Our Restormer against the official swz30/Restormer code (fixtures from generate.py)."""

from __future__ import annotations

import pytest
import torch
from _official_fixture import full_shapes, parameter_count_on_meta, read_case, shapes_on_meta

from midnet import models
from midnet.models.restormer import Restormer


def _ours(config: dict) -> Restormer:
    if config["dual_pixel_task"] or config["inp_channels"] != config["out_channels"]:
        raise AssertionError("fixture uses a variant we do not implement")
    return Restormer(in_channels=config["inp_channels"], dim=config["dim"], num_blocks=config["num_blocks"],
                     num_refinement_blocks=config["num_refinement_blocks"], heads=config["heads"],
                     ffn_expansion_factor=config["ffn_expansion_factor"], bias=config["bias"],
                     layer_norm_type=config["LayerNorm_type"]).eval()


@pytest.mark.parametrize("case", ["restormer_reduced", "restormer_reduced_biasfree"])
def test_official_state_dict_loads_strictly_and_matches_output(case):
    config, state, t = read_case(case)
    net = _ours(config)
    net.load_state_dict(state, strict=True)
    with torch.no_grad():
        y = net(t["input"])
    assert y.shape == t["output"].shape
    assert (y - t["output"]).abs().max().item() < 1e-4
    assert (t["output"] - t["input"]).abs().max().item() > 1e-2


def test_official_pth_loads_through_create(tmp_path):
    config, state, t = read_case("restormer_reduced")
    path = tmp_path / "restormer-reduced.pth"
    torch.save({"params": state}, path)
    net = models.create("restormer", in_channels=3, checkpoint=path, strict=True, dim=config["dim"],
                        num_blocks=config["num_blocks"], num_refinement_blocks=config["num_refinement_blocks"]).eval()
    with torch.no_grad():
        assert (net(t["input"]) - t["output"]).abs().max().item() < 1e-4


def test_motion_deblurring_config_has_official_names_shapes_and_count():
    build = lambda: models.create("restormer", in_channels=3)  # noqa: E731
    assert shapes_on_meta(build) == full_shapes("restormer")
    assert parameter_count_on_meta(build) == 26_126_644


@pytest.mark.parametrize("size", [(13, 21), (8, 8), (3, 5)])
def test_grey_any_size_round_trips_shape(size):
    net = models.create("restormer", dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1).eval()
    x = torch.rand(1, 1, *size)
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_bad_layer_norm_type_is_rejected():
    with pytest.raises(ValueError, match="LayerNorm_type"):
        Restormer(dim=8, layer_norm_type="Batch")
