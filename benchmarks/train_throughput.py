"""Training throughput (crops per second) on CPU for each named configuration.

Each shipped training config is measured with its own model, loss and optimiser on the same crop
size and batch (defaults: 128 px, batch 4, so that the paper-sized models fit a CPU run), on
synthetic pairs through the real data path (cache, random crop, dihedral transform, mask).
Timings on a shared machine drift, so each is printed as a ratio to a baseline configuration
measured in the same process, interleaved round by round.

    .venv/bin/python benchmarks/train_throughput.py                       # all configs
    .venv/bin/python benchmarks/train_throughput.py --configs cpu-small midnet-paper --steps 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from midnet.data import PairStore, RandomCropDataset, list_pairs
from midnet.data.synthetic import write_synthetic_pairs
from midnet.training import load_config
from midnet.training.module import DeblurModule

#: shipped training configs (midnet config list; the package also ships benchmark configs)
TRAINING_CONFIGS = ["cpu-small", "midnet-paper", "nafnet-width32", "ablation-l1", "ablation-l1-edge",
                    "ablation-l1-fft", "ablation-all"]


def make_step(name: str, root: Path, crop: int, batch: int):
    """A closure that runs one full training step (data + forward + loss + backward + Adam)."""
    cfg = load_config(name, [f"data.root={root}", f"data.crop_size={crop}",
                                                   f"data.batch_size={batch}", "model.checkpoint=null",
                                                   "train.compile=false"])  # train_variants.py times compile
    torch.manual_seed(0)
    module = DeblurModule(cfg)
    opt = module.configure_optimizers()["optimizer"]
    store = PairStore(list_pairs(root / "blur", root / "sharp"), channels=cfg.model.in_channels)
    store.preload()
    data = RandomCropDataset(store, crop_size=crop, seed=0)
    counter = iter(range(10**9))

    def step() -> None:
        k = next(counter)
        items = [data[k * batch + j] for j in range(batch)]
        b = {key: torch.stack([it[key] for it in items]) for key in ("input", "target", "mask")}
        total, _ = module.loss_fn(module.model(b["input"]), b["target"], b["mask"])
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()

    params = sum(p.numel() for p in module.model.parameters())
    return step, params


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", nargs="*", default=None, help="config names (default: all training configs)")
    ap.add_argument("--baseline", default="cpu-small")
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per config per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = list(args.configs or TRAINING_CONFIGS)
    if args.baseline not in names:
        names.insert(0, args.baseline)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_synthetic_pairs(Path(tmp), groups=2, per_group=2, size=(max(256, args.crop),) * 2)
        steps = {}
        for n in names:
            fn, params = make_step(n, root, args.crop, args.batch)
            fn()  # warm-up: allocator, first-call overheads
            steps[n] = (fn, params)
        rates: dict[str, list[float]] = {n: [] for n in names}
        for _ in range(args.rounds):
            for n in names:
                t = time.perf_counter()
                for _ in range(args.steps):
                    steps[n][0]()
                rates[n].append(args.steps * args.batch / (time.perf_counter() - t))
    base = statistics.median(rates[args.baseline])
    print(f"CPU training throughput, crop {args.crop}, batch {args.batch}, {args.threads} threads, "
          f"{args.steps} steps x {args.rounds} rounds; torch {torch.__version__}")
    print(f"{'config':<20} {'model':<16} {'params':>10} {'crops/s':>9} {'vs ' + args.baseline:>14}")
    for n in names:
        rate = statistics.median(rates[n])
        model = load_config(n, ["data.root=/x"]).model.name
        print(f"{n:<20} {model:<16} {steps[n][1]:>10,} {rate:>9.2f} {rate / base:>13.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
