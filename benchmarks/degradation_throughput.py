"""What making the training data on the device costs: full training step against the bare step.

Issue 18, section 3: "a GPU must never wait for the CPU". Four timings in one process,
interleaved round by round (timings on a shared machine drift, ratios within a round do not):

* ``bare step``: forward, loss, backward and optimiser step of the model on a batch already made;
* ``full step``: `midnet.data.degrade_torch.degrade_batch` on the device from sharp crops there,
  then the same step (what a training run on the batch degradation does per step);
* ``torch degradation`` alone, and ``numpy degradation`` alone: today's per-sample
  `midnet.data.defocus.degrade` of the batch's windows (crop + the 40 px margin
  `DefocusCropDataset` blurs), i.e. the work the data-loader workers do per batch.

The model and loss are the shipped ``sem-general`` config's loss with ``--model`` (default
midnet-tiny, the architecture sem-general ships), fp32, not compiled.

    PYTHONPATH=src .venv/bin/python benchmarks/degradation_throughput.py              # this CPU
    PYTHONPATH=src .venv/bin/python benchmarks/degradation_throughput.py --device cuda
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time
from collections.abc import Callable

import numpy as np
import torch
from scipy import ndimage

from midnet.data.defocus import DefocusRanges, degrade
from midnet.data.degrade_torch import BatchRanges, degrade_batch, generator_for
from midnet.training import load_config
from midnet.training.module import DeblurModule

MARGIN = 40  # DefocusCropDataset's blur margin around a crop


def cpu_name() -> str:
    """The CPU model and its widest vector extensions (they decide FFT and convolution speed)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    flags = info.get("Flags", "").split()
    vec = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{info.get('Model name', '?').strip()}, {info.get('CPU(s)', '?').strip()} CPUs, {'/'.join(vec) or 'no AVX2'}"


def sharp_pool(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Micrograph-like sharp images: smoothed noise of several scales with hard-edged regions."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = sum(ndimage.gaussian_filter(rng.random((size, size)), s) * s for s in (1, 3, 8))
        x = x + 0.5 * (ndimage.gaussian_filter(rng.random((size, size)), 12) > 0.5)
        out.append((x - x.min()) / np.ptp(x))
    return np.stack(out).astype(np.float32)


def timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default="midnet-tiny")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per kind per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = load_config("sem-general", [f"model.name={args.model}", "train.compile=false", "model.checkpoint=null"],
                      require_data=False)
    torch.manual_seed(0)
    module = DeblurModule(cfg).to(device)
    opt = module.configure_optimizers()["optimizer"]
    b, c = args.batch, args.crop
    win = c + 2 * MARGIN
    pool_np = sharp_pool(4 * b, win)
    pool = torch.from_numpy(pool_np[:, None, MARGIN:MARGIN + c, MARGIN:MARGIN + c].copy()).to(device)
    ranges, np_ranges = BatchRanges(), DefocusRanges(noise_sigma=(0.0, 30.0))
    mask = torch.ones((b, 1, c, c), device=device)
    fixed = degrade_batch(pool[:b], generator_for(0, 0, device), ranges)
    counter = iter(range(10**9))

    def train_on(x: torch.Tensor, y: torch.Tensor) -> None:
        total, _ = module.loss_fn(module.model(x), y, mask)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()

    def torch_degrade() -> object:
        k = next(counter)
        idx = (torch.arange(b, device=device) + k * b) % pool.shape[0]
        return degrade_batch(pool[idx], generator_for(0, k, device), ranges)

    def full() -> None:
        d = torch_degrade()
        train_on(d.blurry, d.target)

    def numpy_degrade() -> None:
        k = next(counter)
        rng = np.random.default_rng([0, k])
        outs = [degrade(pool_np[(k * b + j) % len(pool_np)], rng, np_ranges) for j in range(b)]
        torch.stack([torch.from_numpy(o[0][MARGIN:MARGIN + c, MARGIN:MARGIN + c]) for o in outs])

    kinds = {"bare step": lambda: train_on(fixed.blurry, fixed.target), "full step": full,
             "torch degradation": torch_degrade, "numpy degradation (per sample)": numpy_degrade}
    for fn in kinds.values():  # warm-up: allocator, first-call overheads, cuFFT plans
        fn()
    times: dict[str, list[float]] = {k: [] for k in kinds}
    ratios = []
    for _ in range(args.rounds):
        per_round = {}
        for name, fn in kinds.items():
            per_round[name] = statistics.median(timed(fn, device) for _ in range(args.steps))
            times[name].append(per_round[name])
        ratios.append(per_round["full step"] / per_round["bare step"])
    where = cpu_name() if device.type == "cpu" else torch.cuda.get_device_name(device)
    print(f"# Degradation throughput: {args.model}, batch {b}, crop {c}, {device.type} ({where}), "
          f"{args.threads} threads, torch {torch.__version__}")
    print("\n| what | ms per batch | steps/s |\n|---|---:|---:|")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {1000 * t:.1f} | {1 / t:.2f} |")
    print(f"\nfull step / bare step: {statistics.median(ratios):.3f} (median of {args.rounds} rounds: "
          + ", ".join(f"{r:.3f}" for r in ratios) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
