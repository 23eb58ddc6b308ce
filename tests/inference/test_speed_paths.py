"""The fast paths give the reference result: compiled vs eager, whole vs tiled, model untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from midnet.inference import budget
from midnet.inference.deblurrer import Deblurrer
from midnet.inference.receptive_field import effective_radius


def active_tiny_model_with(**overrides) -> nn.Module:
    """midnet-tiny with constructor overrides and its layer scales switched on (see conftest)."""
    from midnet.models import create

    torch.manual_seed(0)
    model = create("midnet-tiny", **overrides).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("beta", "gamma")):
                param.normal_(0.0, 0.5)
    return model


def _reference(model: nn.Module, image: np.ndarray, tlc: bool | int = True) -> np.ndarray:
    """Eager fp32 whole-image forward through a plain fp32 Deblurrer (the stated reference)."""
    return Deblurrer(model, device="cpu", tile=0, backend="eager", tlc=tlc)(image)


def test_deblurrer_owns_a_copy_and_never_changes_the_callers_model(tiny_model: nn.Module) -> None:
    model = tiny_model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads = [p.requires_grad for p in model.parameters()]
    deblurrer = Deblurrer(model, device="cpu", tlc=True, backend="eager")
    deblurrer(np.zeros((48, 48), dtype=np.uint8))
    assert deblurrer.model is not model
    assert model.training and [p.requires_grad for p in model.parameters()] == grads
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(type(m).__name__ == "LocalAvgPool2d" for m in model.modules())  # TLC only on the copy
    model.eval()


def test_whole_image_when_it_fits_the_budget_else_tiles(tiny_model: nn.Module, monkeypatch) -> None:
    """(Without TLC, so no context: a pass is one tile. With TLC: tests/inference/test_same_output.py.)"""
    deblurrer = Deblurrer(tiny_model, device="cpu", backend="eager", tlc=False)
    assert deblurrer.plan(1024, 1280).tile is None  # midnet-tiny: ~0.6 GB, within 1 GiB
    monkeypatch.setenv("MIDNET_MEMORY_BUDGET_MIB", "4")
    plan = deblurrer.plan(1024, 1280)
    tile, overlap = plan.tile, plan.overlap
    assert tile is not None and tile * tile * budget.bytes_per_pixel(tiny_model, 1, 16) <= 4 * 2**20
    assert tile % deblurrer.align == 0 and overlap % deblurrer.align == 0 and plan.batch >= 1 and plan.context == 0
    assert plan.calls > 1 and (plan.height, plan.width) == (1024, 1280)
    assert Deblurrer(tiny_model, device="cpu", tile=0, backend="eager").plan(8192, 8192).tile is None


def test_budget_comes_from_free_memory() -> None:
    cpu = torch.device("cpu")
    assert budget.memory_budget(cpu, available=2 << 30) == (2 << 30) // 4
    assert budget.memory_budget(cpu, available=64 << 30) == budget.CPU_BUDGET_CAP
    assert 0 < budget.available_memory(cpu)


def test_budget_tiles_match_the_whole_image(tiny_model: nn.Module, make_image, monkeypatch) -> None:
    """Without TLC, tiles forced by a small budget, with the measured overlap: within tiling's
    stated tolerance. (With TLC, the default, within one grey level: test_same_output.py.)"""
    image = make_image(200, 260)
    whole = _reference(tiny_model, image, tlc=False)
    monkeypatch.setenv("MIDNET_MEMORY_BUDGET_MIB", "1.5")
    deblurrer = Deblurrer(tiny_model, device="cpu", backend="eager", tlc=False)
    seen: list[tuple[int, int]] = []
    tiled = deblurrer(image, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] > 1  # really tiled, progress reached the end
    assert seen[-1][1] == deblurrer.plan(*image.shape[:2]).calls  # the plan counts what the tiler does
    diff = np.abs(tiled - whole)
    assert diff.mean() < 2e-3 and diff.max() < 2e-2


def test_effective_radius_is_within_the_theoretical_field() -> None:
    """Five 3x3 convolutions see 5 px each way; most of the gradient mass is nearer the centre."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(5):
        conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
        nn.init.constant_(conv.weight, 1 / 9)
        layers.append(conv)
    radius = effective_radius(nn.Sequential(*layers), 1, probe=64)
    assert 1 <= radius <= 5


def test_compiled_backend_equals_eager_fp32(make_image, tmp_path, monkeypatch) -> None:
    """The default CPU path (an AOTInductor package) vs eager fp32: mean |diff| < 1e-4 of the
    range (0.026 grey levels of 8 bits), max < 1e-3; and the package is cached, so a second
    Deblurrer (as in a new process) loads it instead of compiling. A two-level midnet-tiny
    (blocks, attention gates, channel attention all present) keeps the compile short for CI;
    TLC at 32 px makes the channel attention's windows smaller than the image, so the local
    mean's traced form (`midnet.models.tlc`) is what runs."""
    monkeypatch.setenv("MIDNET_CACHE_DIR", str(tmp_path))
    tiny_model = active_tiny_model_with(enc_blk_nums=[1, 1], dec_blk_nums=[1, 1])
    image = make_image(100, 140)
    compiled = Deblurrer(tiny_model, device="cpu", backend="compiled", tlc=32)
    assert compiled.prepare() == "compiled"
    out = compiled(image)
    ref = _reference(tiny_model, image, tlc=32)
    diff = np.abs(out - ref)
    assert diff.mean() < 1e-4 and diff.max() < 1e-3
    packages = list((tmp_path / "compiled").glob("*.pt2"))
    assert len(packages) == 1
    again = Deblurrer(tiny_model, device="cpu", backend="auto", tlc=32)
    assert again.prepare(compile_if_missing=False) == "compiled"
    np.testing.assert_allclose(again(make_image(64, 96, seed=1)),
                               _reference(tiny_model, make_image(64, 96, seed=1), tlc=32), atol=1e-3)


def test_unknown_backend_is_a_clear_error(tiny_model: nn.Module) -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        Deblurrer(tiny_model, backend="fast")
