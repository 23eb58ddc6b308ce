"""Our HINet against the official megvii-model/HINet code (fixtures from generate.py)."""

from __future__ import annotations

import pytest
import torch
from _official_fixture import full_shapes, parameter_count_on_meta, read_case, shapes_on_meta

from midnet import models
from midnet.models.hinet import HINet
from midnet.models.zoo_baselines import load_official_weights


def _ours(config: dict) -> HINet:
    config = dict(config)
    return HINet(in_channels=config.pop("in_chn"), **config).eval()


def test_official_state_dict_loads_strictly_and_matches_both_stages():
    config, state, t = read_case("hinet_reduced")
    net = _ours(config)
    net.load_state_dict(state, strict=True)
    with torch.no_grad():
        stage1, stage2 = net.forward_stages(t["input"])
        y = net(t["input"])
    assert (stage1 - t["output_stage1"]).abs().max().item() < 1e-4
    assert (stage2 - t["output"]).abs().max().item() < 1e-4
    assert torch.equal(y, stage2)
    # the comparison is not vacuous: the network changes its input noticeably
    assert (t["output"] - t["input"]).abs().max().item() > 1e-2


def test_official_pth_loads_through_create(tmp_path):
    config, state, t = read_case("hinet_reduced")
    path = tmp_path / "HINet-reduced.pth"
    torch.save({"params": state}, path)
    overrides = {k: v for k, v in config.items() if k != "in_chn"}
    net = models.create("hinet", in_channels=3, checkpoint=path, strict=True, **overrides).eval()
    with torch.no_grad():
        assert (net(t["input"]) - t["output"]).abs().max().item() < 1e-4
    # our own loader (no channel adaptation, strict) gives the same network
    again = load_official_weights(models.create("hinet", in_channels=3, **overrides).eval(), path)
    with torch.no_grad():
        assert torch.equal(again(t["input"]), net(t["input"]))
    # a wrong configuration is refused, not silently half-loaded
    with pytest.raises(RuntimeError):
        load_official_weights(models.create("hinet", in_channels=3, **{**overrides, "hin_position_left": 0}), path)


def test_gopro_config_has_official_names_and_shapes():
    assert shapes_on_meta(lambda: models.create("hinet", in_channels=3)) == full_shapes("hinet")


def test_parameter_counts():
    # GoPro option file (HIN at depths 3-4), as the official code builds it
    assert parameter_count_on_meta(lambda: models.create("hinet", in_channels=3)) == 88_668_806
    # the official class defaults (HIN at every depth) give the often-quoted 88,669,702:
    # the 896 extra parameters are the HIN affine weights of depths 0-2 in both stages
    assert parameter_count_on_meta(lambda: HINet(in_channels=3, hin_position_left=0)) == 88_669_702


@pytest.mark.parametrize("size", [(17, 30), (16, 16), (5, 9)])
def test_grey_any_size_round_trips_shape(size):
    net = models.create("hinet", wf=4, depth=3).eval()
    x = torch.rand(2, 1, *size)
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_official_checkpoint_reader_errors_name_the_file(tmp_path):
    from midnet.models.baseline_utils import load_official_checkpoint
    from midnet.models.checkpoints import unwrap_state_dict

    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_official_checkpoint(tmp_path / "missing.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"params": {"epoch": 3}}, bad)
    with pytest.raises(ValueError, match="bad.pth"):
        load_official_checkpoint(bad)
    assert list(unwrap_state_dict({"params_ema": {"module.w": torch.ones(1)}})) == ["w"]
