"""Training steps per second (CPU or GPU): eager fp32 against the optimised variants, interleaved.

For each model (default: ``midnet-small`` and ``midnet-tiny``, the bundled default model's
architecture) one full training step is timed on random crops (batch 8, 128 px by default) as
`DeblurModule` runs it under Lightning: ``module.train_loss`` (network and the configured
multi-term loss), backward, gradient clipping where ``optim.grad_clip`` is set, and the optimiser
and learning-rate schedule of ``module.configure_optimizers`` (a fused Adam where torch has one).
Variants, all built from the same weights in this one process:

* ``eager``: fp32, as `DeblurModule` runs with ``train.compile=false``;
* ``channels_last``: NHWC memory format (``train.channels_last``);
* ``compiled``: ``torch.compile`` of network and loss as one function (``train.compile``);
* ``compiled+cl``: both;
* ``eager-unfused``, ``compiled-unfused``: as ``eager``/``compiled`` with torch's default
  (unfused) Adam, what the fused optimiser gains;
* ``bf16``, ``compiled+bf16``: under bf16 autocast (``train.precision=bf16-mixed``), GPU only by
  default.

Rounds are interleaved (every variant once per round) and the median is reported, so a load
change on a shared machine hits all variants alike; ``x eager`` is the ratio that carries across
machines. The roofline columns give the conv/matmul FLOP rate of each variant as a fraction of
this CPU's peak, measured by `_roofline.measure_peak_gflops` in the same process. The first-step
time of a compiled variant (compilation) is printed too.

    PYTHONPATH=src python benchmarks/train_variants.py --models midnet-small midnet-tiny
    PYTHONPATH=src python benchmarks/train_variants.py --loss-curve 60   # eager vs compiled losses
    PYTHONPATH=src python benchmarks/train_variants.py --device cuda --batch 32 --crop 256
    PYTHONPATH=src python benchmarks/train_variants.py --set optim.grad_clip=0.5  # config overrides
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _roofline import forward_flops, measure_peak_gflops  # noqa: E402

from midnet.config.train import TrainConfig  # noqa: E402
from midnet.training.module import DeblurModule  # noqa: E402

#: name -> (compile, channels_last, bf16 autocast, fused optimiser where supported)
VARIANTS = {"eager": (False, False, False, True), "channels_last": (False, True, False, True),
            "compiled": (True, False, False, True), "compiled+cl": (True, True, False, True),
            "eager-unfused": (False, False, False, False), "compiled-unfused": (True, False, False, False),
            "bf16": (False, False, True, True), "compiled+bf16": (True, False, True, True)}
#: bf16 autocast is what ``train.precision=bf16-mixed`` runs on a GPU; a CPU without AMX runs it
#: many times slower (docs/results/speed-cpu.md), so the CPU default leaves those variants out
CPU_VARIANTS = ["eager", "channels_last", "compiled", "compiled+cl"]


def make_module(model: str, compile_: bool, channels_last: bool, bf16: bool = False, fused: bool = True,
                device: str = "cpu", sets: tuple[str, ...] = ()) -> DeblurModule:
    cfg = TrainConfig().updated(f"model.name={model}", f"train.compile={str(compile_).lower()}",
                                f"train.channels_last={str(channels_last).lower()}", *sets)
    torch.manual_seed(0)
    module = DeblurModule(cfg).to(device)
    module.bf16 = bf16  # read by make_step
    module.fused_optimizer = fused  # read by configure_optimizers
    return module


def make_step(module: DeblurModule, batches: list[dict[str, torch.Tensor]]):
    """One training step as Lightning's automatic optimisation runs `DeblurModule`'s."""
    conf = module.configure_optimizers()
    opt, sched = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    params = [p for group in opt.param_groups for p in group["params"]]
    clip = module.config.optim.grad_clip
    loss = module.train_loss  # the compiled network + loss with train.compile
    counter = iter(range(10**9))
    device = next(module.parameters()).device
    batches = [{k: v.to(device) for k, v in b.items()} for b in batches]
    bf16 = getattr(module, "bf16", False)

    def step() -> float:
        b = batches[next(counter) % len(batches)]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            total, _ = loss(module._prepare(b["input"]), b["target"], b["mask"])
        opt.zero_grad(set_to_none=True)
        total.backward()
        if clip:  # gradient_clip_val, gradient_clip_algorithm="norm"
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        sched.step()
        return float(total.detach())  # waits for the device
    step.fused = bool(opt.defaults.get("fused"))  # type: ignore[attr-defined]
    return step


def random_batches(count: int, batch: int, crop: int) -> list[dict[str, torch.Tensor]]:
    """Blurred/sharp pairs: a smooth random target and its 5x5 box-blurred input."""
    gen = torch.Generator().manual_seed(1)
    out = []
    for _ in range(count):
        target = torch.nn.functional.interpolate(torch.rand(batch, 1, crop // 8, crop // 8, generator=gen),
                                                 size=(crop, crop), mode="bicubic").clamp(0, 1)
        blurred = torch.nn.functional.avg_pool2d(target, 5, 1, 2, count_include_pad=False)
        out.append({"input": blurred, "target": target, "mask": torch.ones_like(target)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["midnet-small", "midnet-tiny"])
    ap.add_argument("--variants", nargs="+", default=None, choices=list(VARIANTS),
                    help=f"default: {' '.join(CPU_VARIANTS)} on CPU, all on a GPU")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per variant per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="a training-config override for every variant, e.g. optim.grad_clip=0.5 (repeatable)")
    ap.add_argument("--loss-curve", type=int, default=0, metavar="STEPS",
                    help="instead: train eager and compiled for STEPS steps from the same start and print both losses")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.variants = args.variants or (CPU_VARIANTS if args.device == "cpu" else list(VARIANTS))
    batches = random_batches(4, args.batch, args.crop)
    if args.loss_curve:
        return loss_curve(args, batches)
    roof = measure_peak_gflops(args.device)
    print(f"{args.device} training, crop {args.crop}, batch {args.batch}, {args.threads} threads, torch {torch.__version__}; "
          f"peak: matmul {roof['matmul']:.1f}, conv {roof['conv']:.1f} GFLOP/s")
    print(f"{'model':<14} {'variant':<16} {'steps/s':>8} {'x eager':>8} {'GFLOP/s':>8} {'of peak':>8} {'1st step s':>10} "
          f"{'fused':>5}")
    for model in args.models:
        steps, first, fused = {}, {}, {}
        for name in args.variants:
            module = make_module(model, *VARIANTS[name], device=args.device, sets=tuple(args.sets))
            step = make_step(module, batches)
            fused[name] = step.fused
            start = time.perf_counter()
            step()  # warm-up (compiles)
            first[name] = time.perf_counter() - start
            steps[name] = step
        flops = 3 * forward_flops(make_module(model, False, False).model, (args.batch, 1, args.crop, args.crop))
        rates: dict[str, list[float]] = {n: [] for n in args.variants}
        for _ in range(args.rounds):
            for name in args.variants:
                start = time.perf_counter()
                for _ in range(args.steps):
                    steps[name]()
                rates[name].append(args.steps / (time.perf_counter() - start))
        base = statistics.median(rates["eager"]) if "eager" in rates else float("nan")
        for name in args.variants:
            rate = statistics.median(rates[name])
            gflops = rate * flops / 1e9  # backward counted as 2x forward
            print(f"{model:<14} {name:<16} {rate:>8.3f} {rate / base:>8.2f} {gflops:>8.1f} "
                  f"{gflops / roof['peak']:>8.2f} {first[name]:>10.1f} {'yes' if fused[name] else 'no':>5}", flush=True)
    return 0


def loss_curve(args: argparse.Namespace, batches: list[dict[str, torch.Tensor]]) -> int:
    """Same start, same batches: eager and compiled loss per step (the curves must agree)."""
    for model in args.models:
        curves = {}
        for name in ("eager", "compiled"):
            step = make_step(make_module(model, *VARIANTS[name], device=args.device, sets=tuple(args.sets)), batches)
            curves[name] = [step() for _ in range(args.loss_curve)]
        diffs = [abs(a - b) / max(abs(a), 1e-12) for a, b in zip(curves["eager"], curves["compiled"])]
        first, last = curves["eager"][0], curves["eager"][-1]
        print(f"{model}: eager loss {first:.5f} -> {last:.5f}, compiled {curves['compiled'][0]:.5f} -> "
              f"{curves['compiled'][-1]:.5f}; max relative difference over {args.loss_curve} steps "
              f"{max(diffs):.2e}, mean {statistics.mean(diffs):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
