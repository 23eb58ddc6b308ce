"""Our NAFNet against outputs of the official megvii-research/NAFNet code (fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open

from midnet import models
from midnet.models.nafnet import NAFNet

FIXTURES = Path(__file__).parents[1] / "fixtures" / "official"


def _fixture():
    with safe_open(str(FIXTURES / "nafnet_small.safetensors"), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    cfg = json.loads(meta["config"])
    state = {k[len("state."):]: v for k, v in tensors.items() if k.startswith("state.")}
    return cfg, json.loads(meta["train_size"]), state, tensors


def _ours(cfg):
    cfg = dict(cfg)
    return NAFNet(in_channels=cfg.pop("img_channel"), **cfg).eval()


def test_official_state_dict_loads_strictly_and_matches_output():
    cfg, _, state, t = _fixture()
    net = _ours(cfg)
    net.load_state_dict(state, strict=True)
    with torch.no_grad():
        y = net(t["x_plain"])
    assert y.shape == t["y_plain"].shape
    assert (y - t["y_plain"]).abs().max().item() < 1e-5


def test_tlc_matches_official_nafnet_local():
    cfg, train_size, state, t = _fixture()
    net = _ours(cfg)
    net.load_state_dict(state, strict=True)
    models.enable_tlc(net, train_size=tuple(train_size[-2:]))
    assert models.tlc_enabled(net)
    with torch.no_grad():
        y = net(t["x_tlc"])
    err_tlc = (y - t["y_tlc"]).abs().max().item()
    assert err_tlc < 1e-5
    # TLC really changes the result at this size: global pooling is far further from the
    # official TLC output than our TLC is (so the comparison above is not vacuous)
    models.disable_tlc(net)
    with torch.no_grad():
        y_global = net(t["x_tlc"])
    err_global = (y_global - t["y_tlc"]).abs().max().item()
    assert err_global > 1e-5 and err_global > 20 * err_tlc


def test_width32_has_official_names_and_shapes():
    official = json.loads((FIXTURES / "nafnet_width32_shapes.json").read_text())
    ours = {k: list(v.shape) for k, v in models.create("nafnet-width32", in_channels=3).state_dict().items()}
    assert ours == official


def test_official_format_checkpoint_loads_strictly_into_width32(tmp_path):
    """An official-format file (weights under 'params') with random weights: strict load + same output."""
    official = json.loads((FIXTURES / "nafnet_width32_shapes.json").read_text())
    g = torch.Generator().manual_seed(0)
    state = {k: torch.randn(*shape, generator=g) * 0.05 for k, shape in official.items()}
    path = tmp_path / "NAFNet-GoPro-width32.pth"
    torch.save({"params": state}, path)
    net = models.create("nafnet-width32", in_channels=3, checkpoint=path, strict=True).eval()
    ref = models.create("nafnet-width32", in_channels=3).eval()
    ref.load_state_dict(state, strict=True)
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert torch.equal(net(x), ref(x))
    # load_model recognises the configuration from the shapes alone
    inferred = models.load_model(path)
    assert inferred.midnet_config["width"] == 32 and inferred.midnet_config["enc_blk_nums"] == [1, 1, 1, 28]
