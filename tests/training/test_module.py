"""`DeblurModule`'s training step: the compiled network + loss, the fused optimiser, clipping."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import Callback

from midnet.training import TrainConfig
from midnet.training.module import DeblurModule, make_optimizer, net_and_loss
from midnet.training.run import train

#: a two-level midnet-tiny (blocks, gates, channel attention all present) traces quickly
SMALL_NET = "model.options={enc_blk_nums: [1, 1], dec_blk_nums: [1, 1]}"


def _fused_kernel_on_cpu() -> bool:
    try:
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], fused=True)
    except RuntimeError:
        return False
    return True


@pytest.fixture()
def quick_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.compile through AOTAutograd without Inductor's C++ code generation: the same
    tracing (Dynamo, the joint forward/backward graph) in seconds instead of minutes on 2 cores.
    Inductor's numerics are checked by ``benchmarks/train_variants.py --loss-curve``."""
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="aot_eager"))


def _batch() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    target = torch.rand(2, 1, 32, 32, generator=gen)
    mask = torch.ones_like(target)
    mask[:, :, -6:] = 0  # a data bar
    return {"input": torch.nn.functional.avg_pool2d(target, 3, 1, 1), "target": target, "mask": mask}


def test_compiled_network_and_loss_match_the_eager_step(quick_compile: None) -> None:
    """train.compile compiles network and loss as one function; same loss, terms and gradients
    as the eager step on the same batch (channels_last on the compiled side: `_prepare`)."""
    modules = {}
    for name, sets in {"eager": ["train.compile=false"],
                       "compiled": ["train.compile=true", "train.channels_last=true"]}.items():
        torch.manual_seed(0)
        modules[name] = DeblurModule(TrainConfig().updated("model.name=midnet-tiny", SMALL_NET, *sets))
    eager, compiled = modules["eager"], modules["compiled"]
    assert eager.train_loss.func is net_and_loss
    assert compiled.train_loss.func is not net_and_loss
    b = _batch()
    results = {}
    for name, module in modules.items():
        total, terms = module.train_loss(module._prepare(b["input"]), b["target"], b["mask"])
        total.backward()
        grads = {n: p.grad.clone() for n, p in module.model.named_parameters()}
        results[name] = (float(total), {k: float(v) for k, v in terms.items()}, grads)
    (t_e, terms_e, g_e), (t_c, terms_c, g_c) = results["eager"], results["compiled"]
    assert set(terms_c) == set(terms_e) == {"l1", "edge", "fft"}
    assert t_c == pytest.approx(t_e, rel=1e-5)
    for key in terms_e:
        assert terms_c[key] == pytest.approx(terms_e[key], rel=1e-5), key
    for name, grad in g_e.items():
        torch.testing.assert_close(g_c[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_optimiser_is_fused_where_torch_has_a_kernel() -> None:
    supported = _fused_kernel_on_cpu()
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4):
        assert supported  # torch's CPU kernel came with 2.4
    for sets, fused in {("optim.name=adam",): supported,
                        ("optim.name=adamw", "optim.weight_decay=0.01"): supported,
                        ("optim.grad_clip=0.5",): supported,
                        ("train.precision=bf16-mixed",): supported,
                        # Lightning refuses to clip under autocast with a fused optimiser
                        ("train.precision=bf16-mixed", "optim.grad_clip=0.5"): False}.items():
        module = DeblurModule(TrainConfig().updated("model.name=midnet-tiny", *sets))
        opt = module.configure_optimizers()["optimizer"]
        assert bool(opt.defaults["fused"]) is fused, sets
        assert isinstance(opt, torch.optim.AdamW if "optim.name=adamw" in sets else torch.optim.Adam)


def test_make_optimizer_falls_back_where_fused_is_refused() -> None:
    class NoFused(torch.optim.Adam):  # as torch < 2.4 on a CPU
        def __init__(self, params, fused=None, **kwargs):
            if fused:
                raise RuntimeError("`fused=True` requires all the params to be ... of supported devices")
            super().__init__(params, **kwargs)

    opt = make_optimizer(NoFused, [torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    assert isinstance(opt, NoFused) and not opt.defaults["fused"]
    assert not make_optimizer(torch.optim.Adam, [torch.nn.Parameter(torch.zeros(2))], fused=False).defaults["fused"]


def test_a_loaded_state_keeps_the_optimisers_fused_choice() -> None:
    """--resume from a checkpoint saved with the other choice (before fusing, or on another
    torch) continues with the optimiser as built, and steps as the saved one would have."""
    def stepped(opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
        for p in (p for g in opt.param_groups for p in g["params"]):
            p.grad = torch.linspace(-1, 1, p.numel()).view_as(p)
        opt.step()
        return opt

    start = torch.randn(5, generator=torch.Generator().manual_seed(0))
    for saved_fused in (False, True):
        saved = stepped(make_optimizer(torch.optim.Adam, [torch.nn.Parameter(start.clone())], fused=saved_fused))
        for fused in (False, True):
            opt = make_optimizer(torch.optim.Adam, [torch.nn.Parameter(start.clone())], fused=fused)
            opt.load_state_dict(saved.state_dict())
            assert opt.param_groups[0]["fused"] == opt.defaults["fused"]
            with torch.no_grad():
                opt.param_groups[0]["params"][0].copy_(saved.param_groups[0]["params"][0])
            torch.testing.assert_close(stepped(opt).param_groups[0]["params"][0],
                                       stepped(saved).param_groups[0]["params"][0])


class _Optimiser(Callback):
    def on_train_start(self, trainer, pl_module) -> None:
        self.fused = bool(trainer.optimizers[0].defaults["fused"])


@pytest.mark.parametrize("precision, compile_", [("32-true", True), ("bf16-mixed", False)])
def test_fit_clips_gradients_with_the_configured_optimiser(tmp_path: Path, tiny_config: TrainConfig,
                                                          quick_compile: None, precision: str, compile_: bool) -> None:
    """Lightning's gradient clipping (optim.grad_clip) runs with the fused optimiser in fp32 and
    with the unfused one under bf16 autocast; the per-term losses are logged."""
    cfg = tiny_config.updated(SMALL_NET, "data.val_groups=[]", "train.max_steps=2", "optim.grad_clip=0.5",
                              f"train.precision={precision}", f"train.compile={str(compile_).lower()}")
    seen = _Optimiser()
    train(cfg, tmp_path / "run", callbacks=[seen])
    assert seen.fused is (_fused_kernel_on_cpu() and precision == "32-true")
    rows = [row for path in (tmp_path / "run" / "logs" / "csv").glob("version_*/metrics.csv")
            for row in csv.DictReader(path.open()) if row.get("train/loss")]
    assert len(rows) == 2
    for row in rows:
        assert all(float(row[f"train/{k}"]) > 0 for k in ("loss", "l1", "edge", "fft"))
