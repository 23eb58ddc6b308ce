"""Steps per second of training with the degradation made on the device, against the bare step.

Issue 18, section 3: "measure the full pipeline's steps/s against the bare step". Per model, one
training step (network + multi-term loss, backward, Adam) is timed, interleaved:

* ``bare``: on a batch degraded once beforehand (what the network alone costs);
* ``pipeline``: `DeblurModule.on_after_batch_transfer` degrades a fresh batch of sharp crops
  (`midnet.data.degrade_torch`, seeded by the step) and then the same step runs; for a PSF-aware
  model this includes rendering the given PSF's kernels and its Wiener deconvolutions, which the
  ``bare`` step has too (they are part of the network).

Data loading (cropping sharp images) is not timed: with ``synthetic.on_device`` it is a slice of
a decoded image in the loader workers.

    PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/psf_pipeline_speed.py --models midnet-psf-tiny midnet-tiny
    PYTHONPATH=src python benchmarks/psf_pipeline_speed.py --device cuda --batch 32 --crop 256
"""

from __future__ import annotations

import argparse
import statistics
import time
from types import SimpleNamespace

import torch

from midnet.training import load_config
from midnet.training.module import DeblurModule


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["midnet-psf-tiny", "midnet-tiny"])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(args.batch, 1, args.crop, args.crop, generator=g)
    sharp = torch.nn.functional.avg_pool2d(sharp, 5, 1, 2).to(device)  # some structure, any will do
    print(f"| model | bare steps/s | pipeline steps/s | pipeline / bare | (batch {args.batch}, "
          f"{args.crop} px, {device.type}) |")
    print("|---|---:|---:|---:|---|")
    for name in args.models:
        cfg = load_config("sem-psf", [f"model.name={name}", "synthetic.corpus=unused", "train.compile=false"],
                          require_data=False)
        module = DeblurModule(cfg).to(device)
        trainer = SimpleNamespace(training=True, global_rank=0, global_step=0)
        module._trainer = trainer
        opt = module.configure_optimizers()["optimizer"]

        def batch_of(step: int) -> dict:
            trainer.global_step = step
            b = {"input": sharp.clone(), "target": sharp.clone(), "mask": torch.ones_like(sharp),
                 "synthetic": torch.ones(args.batch, dtype=torch.bool, device=device)}
            return module.on_after_batch_transfer(b, 0)

        fixed = batch_of(0)

        def step(batch: dict) -> None:
            cond = {k: batch[k] for k in ("psf", "noise_sigma") if k in batch}
            total, _ = module.train_loss(batch["input"], batch["target"], batch["mask"], **cond)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()

        times: dict[str, list[float]] = {"bare": [], "pipeline": []}
        step(fixed)  # warm-up
        for r in range(args.rounds):
            for variant in times:
                _sync(device)
                t0 = time.perf_counter()
                step(fixed if variant == "bare" else batch_of(r + 1))
                _sync(device)
                times[variant].append(time.perf_counter() - t0)
        bare, pipe = (1.0 / statistics.median(times[v]) for v in ("bare", "pipeline"))
        print(f"| {name} | {bare:.2f} | {pipe:.2f} | {pipe / bare:.2f} | |")


if __name__ == "__main__":
    main()
