"""Registry, parameter counts, shapes, gates, checkpoints and channel adaptation."""

from __future__ import annotations

import pytest
import torch

from midnet import models
from midnet.models.attention_gate import AttentionGate
from midnet.models.nafnet import MIDNet, NAFNet


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_paper_parameter_counts():
    assert n_params(models.create("nafnet-width32", in_channels=3)) == 17_111_907
    # the paper's 17.3 M, exactly: NAFNet width 32 plus the four attention gates
    assert n_params(models.create("midnet-paper", in_channels=3)) == 17_286_951


def test_registry_lists_required_names():
    names = models.available()
    for required in ("nafnet-width32", "nafnet-width64", "midnet-paper", "midnet-compact", "midnet-small", "midnet-tiny"):
        assert required in names
    with pytest.raises(KeyError, match="unknown model"):
        models.create("no-such-net")
    with pytest.raises(TypeError, match="no option"):
        models.create("midnet-tiny", widht=3)


@pytest.mark.parametrize("name", ["midnet-tiny", "nafnet-tiny"])
def test_odd_sizes_keep_shape_under_inference_mode(name):
    net = models.create(name).eval()
    x = torch.rand(1, 1, 333, 517)
    with torch.inference_mode():
        y = net(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_fresh_blocks_are_identities_because_of_skip_init():
    """beta = gamma = 0 at initialisation: every NAFBlock starts as the identity (skip-init)."""
    net = models.create("midnet-tiny")
    block = net.encoders[0][0]
    x = torch.randn(2, block.norm1.weight.numel(), 8, 8)
    assert torch.equal(block(x), x)


def test_attention_gate_matches_equations():
    torch.manual_seed(0)
    gate = AttentionGate(4, 4, 3)
    xa, xb = torch.randn(2, 4, 5, 6), torch.randn(2, 4, 5, 6)
    wa, ba = gate.W_a.weight[:, :, 0, 0], gate.W_a.bias
    wb = gate.W_b.weight[:, :, 0, 0]
    psi, bpsi = gate.psi.weight[0, :, 0, 0], gate.psi.bias
    inner = torch.einsum("oc,nchw->nohw", wa, xa) + torch.einsum("oc,nchw->nohw", wb, xb) + ba.view(1, -1, 1, 1)
    w_att = torch.einsum("c,nchw->nhw", psi, torch.relu(inner)).unsqueeze(1) + bpsi.view(1, 1, 1, 1)
    expected = xa + torch.sigmoid(w_att) * xb
    assert torch.allclose(gate(xa, xb), expected, atol=1e-6)


def test_midnet_differs_from_nafnet_only_by_gates():
    mid, naf = models.create("midnet-paper"), models.create("nafnet-width32")
    extra = set(mid.state_dict()) - set(naf.state_dict())
    assert extra and all(k.startswith("gates.") for k in extra)
    assert set(naf.state_dict()) <= set(mid.state_dict())
    assert len(mid.gates) == 4
    assert [g.W_b.in_channels for g in mid.gates] == [256, 128, 64, 32]


def test_nafnet_checkpoint_initialises_midnet_and_reports_gates(tmp_path):
    naf = models.create("nafnet-tiny", in_channels=3)
    path = tmp_path / "naf.pth"
    torch.save({"params": naf.state_dict()}, path)
    mid = models.create("midnet-tiny", in_channels=3, checkpoint=path)
    report = mid.midnet_load_report
    assert report.missing and all(k.startswith("gates.") for k in report.missing)
    assert not report.unexpected
    assert torch.equal(mid.state_dict()["encoders.0.0.conv1.weight"], naf.state_dict()["encoders.0.0.conv1.weight"])
    with pytest.raises(ValueError, match="does not match"):
        models.create("midnet-tiny", in_channels=3, checkpoint=path, strict=True)
    with pytest.raises(ValueError, match="other shapes"):
        models.create("midnet-small", in_channels=3, checkpoint=path)


def test_rgb_checkpoint_into_grey_model_is_exact_on_grey_images(tmp_path):
    torch.manual_seed(0)
    rgb = models.create("nafnet-tiny", in_channels=3).eval()
    with torch.no_grad():
        for p in rgb.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    path = tmp_path / "rgb.pth"
    torch.save({"params": rgb.state_dict()}, path)
    grey = models.create("nafnet-tiny", in_channels=1, checkpoint=path).eval()
    assert set(grey.midnet_load_report.adapted) == {"intro.weight", "ending.weight", "ending.bias"}
    x = torch.rand(1, 1, 40, 40)
    with torch.no_grad():
        expected = rgb(x.repeat(1, 3, 1, 1)).mean(1, keepdim=True)
        assert torch.allclose(grey(x), expected, atol=1e-5)


def test_save_and_load_model_round_trip(tmp_path):
    net = models.create("midnet-tiny", in_channels=1).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01)
    path = models.save_model(net, tmp_path / "m.safetensors")
    back = models.load_model(path).eval()
    assert isinstance(back, MIDNet) and back.midnet_name == "midnet-tiny"
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(net(x), back(x))
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_and_corrupt_checkpoints_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        models.load_model(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.safetensors"):
        models.load_model(bad)
    with pytest.raises(FileNotFoundError, match="model name"):
        models.load_model("midnet-tiniest")


def test_names_with_weights_load_and_architecture_names_are_refused():
    assert {"sem-general", "sem-jeol-alloy", "midnet-sem-default"} <= set(models.available(trained=True))
    assert "midnet-paper" in models.available(trained=False)
    net = models.load_model("sem-general")
    assert net.midnet_name == "midnet-tiny" and models.in_channels(net) == 1 and models.size_multiple(net) == 16
    with pytest.raises(models.NoWeightsError, match="midnet-paper: has no trained weights; pass a checkpoint or "
                                                    "train one"):
        models.load_model("midnet-paper")
    assert isinstance(models.create("midnet-paper"), MIDNet)   # untrained networks stay one call away


def test_retired_name_is_an_alias_of_the_specialist():
    from midnet.inference import default_model_path

    from midnet.models import registry

    registry._WARNED.discard("midnet-sem-default")
    with pytest.warns(FutureWarning, match="'midnet-sem-default' is deprecated and now loads 'sem-jeol-alloy'"):
        alias = models.entry("midnet-sem-default")
    target = models.entry("sem-jeol-alloy")
    assert registry.RENAMED["midnet-sem-default"][0] == "sem-jeol-alloy"
    assert alias.weights_path == target.weights_path and alias.weights_path.is_file()
    assert alias.description.startswith("alias of sem-jeol-alloy")
    a, b = models.load_model("midnet-sem-default"), models.load_model("sem-jeol-alloy")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    # the torch-free default path names the default model's weights
    assert models.DEFAULT_MODEL == "sem-general"
    assert default_model_path() == models.entry(models.DEFAULT_MODEL).weights_path
    with pytest.raises(ValueError, match="already registered"):
        models.register_alias("sem-general", "sem-jeol-alloy")
    with pytest.raises(ValueError, match="no trained weights"):
        models.register_alias("paper-alias", "midnet-paper")


def test_registering_shipped_weights_is_one_line(tmp_path, monkeypatch):
    from midnet.models import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    net = models.create("nafnet-tiny").eval()
    models.save_model(net, tmp_path / "w.safetensors")
    models.register_weights("my-model", "nafnet-tiny", str(tmp_path / "w.safetensors"))
    entry = models.entry("my-model")
    assert (entry.first_conv, entry.last_conv, entry.size_multiple) == ("intro", "ending", 16)
    x = torch.rand(1, 1, 24, 24)
    with torch.no_grad():
        assert torch.equal(models.load_model("my-model")(x), net(x))


def test_one_checkpoint_reader_prefers_params_ema_and_never_unpickles_code(tmp_path):
    from midnet.models.checkpoints import read_weights

    ema, raw = torch.ones(2), torch.zeros(2)
    torch.save({"params": {"w": raw}, "params_ema": {"w": ema}}, tmp_path / "basicsr.pth")
    state, _ = read_weights(tmp_path / "basicsr.pth")
    assert torch.equal(state["w"], ema)

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"params": {"w": raw}, "extra": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match="evil.pth: not a readable weights file"):
        read_weights(tmp_path / "evil.pth")


def test_gradients_reach_every_parameter():
    net = models.create("midnet-tiny")
    # move skip-init scales off zero so that every branch has a gradient path
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(("beta", "gamma")):
                p.fill_(0.1)
    net(torch.rand(2, 1, 32, 32)).abs().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    assert isinstance(net, NAFNet)


def test_training_crop_size_follows_the_weights(tmp_path):
    """TLC's window comes from the crop the weights were trained on: the registry for the shipped
    models (by name or by their file), the ``midnet_train_size`` metadata `midnet train` writes
    for others, nothing for an untrained network or a file that does not say."""
    assert models.entry("sem-general").train_size == models.entry("sem-jeol-alloy").train_size == 128
    assert models.train_size(models.load_model("sem-general")) == 128
    assert models.train_size(models.load_model(models.entry("sem-jeol-alloy").weights_path)) == 128
    assert models.train_size(models.create("midnet-tiny")) is None
    net = models.create("midnet-tiny")
    plain = models.save_model(net, tmp_path / "plain.safetensors")
    assert models.train_size(models.load_model(plain)) is None
    trained = models.save_model(net, tmp_path / "trained.safetensors", extra_metadata={"midnet_train_size": "96"})
    assert models.train_size(models.load_model(trained)) == 96
