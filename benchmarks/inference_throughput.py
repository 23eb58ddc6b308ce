"""Inference throughput (megapixels/s) and peak memory of `midnet deblur` per model, on CPU.

Each (model, size) runs in a fresh subprocess so that its peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which sees PyTorch's allocations, unlike
tracemalloc) belongs to that configuration alone. The image is random 16-bit noise (speed does not depend on content)
restored through `Deblurrer` exactly as the CLI does (tiles of ``--tile`` px, default overlap,
``--batch-size`` tiles per pass), after one small warm-up call. Models are randomly
initialised: speed and memory do not depend on the weights.

Throughput on a shared machine moves with its load, so each row also gives the ratio to the
``--baseline`` model measured in the same run at the same size (default ``nafnet-width32``, the
network MIDNet extends): those ratios are what to compare across machines.

    .venv/bin/python benchmarks/inference_throughput.py --sizes 1024 4096 \
        --models midnet-tiny midnet-small midnet-paper nafnet-width32
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

DEFAULT_MODELS = ["midnet-tiny", "midnet-small", "midnet-compact", "midnet-paper", "nafnet-width32"]


def _rss_mib() -> float:
    import resource

    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib / 1024.0


def worker(model_name: str, size: int, tile: int, batch_size: int, threads: int) -> dict:
    """One configuration, in this (fresh) process: returns its measurements."""
    import numpy as np
    import torch

    from midnet.inference.deblurrer import Deblurrer
    from midnet.models import create

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    deblurrer = Deblurrer(create(model_name), device="cpu", tile=tile or None, batch_size=batch_size)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 65535, (256, 256), dtype=np.uint16)
    deblurrer(small)  # warm-up: allocator and kernels
    image = rng.integers(0, 65535, (size, size), dtype=np.uint16)
    rss_before = _rss_mib()
    start = time.perf_counter()
    out = deblurrer(image)
    seconds = time.perf_counter() - start
    assert out.shape == image.shape and out.dtype == image.dtype
    return {"model": model_name, "size": size, "tile": tile, "batch_size": batch_size,
            "threads": torch.get_num_threads(), "seconds": seconds,
            "mpix_per_s": size * size / 1e6 / seconds, "peak_rss_mib": _rss_mib(),
            "rss_before_mib": rss_before}


def run_config(model: str, size: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", model, str(size), "--tile", str(args.tile),
           "--batch-size", str(args.batch_size), "--threads", str(args.threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"model": model, "size": size, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--baseline", default="nafnet-width32")
    parser.add_argument("--sizes", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.tile, args.batch_size, args.threads)))
        return
    models = list(dict.fromkeys([args.baseline, *args.models]))  # baseline first, for the ratios
    rows = []
    print(f"CPU inference, tile {args.tile}, batch {args.batch_size}, {os.cpu_count()} CPUs; "
          f"ratio = model / {args.baseline} at the same size", flush=True)
    print(f"{'model':22s} {'size':>6s} {'s':>8s} {'MP/s':>8s} {'x base':>7s} "
          f"{'peak MiB':>9s} {'x base':>7s}", flush=True)
    for size in args.sizes:
        base: dict = {}
        for model in models:
            row = run_config(model, size, args)
            rows.append(row)
            if model == args.baseline:
                base = row
            if "error" in row:
                print(f"{model:22s} {size:6d} failed: {row['error']}", flush=True)
                continue
            ok = "error" not in base
            speed = row["mpix_per_s"] / base["mpix_per_s"] if ok else float("nan")
            memory = row["peak_rss_mib"] / base["peak_rss_mib"] if ok else float("nan")
            row.update(speed_ratio=speed, memory_ratio=memory)
            print(f"{model:22s} {size:6d} {row['seconds']:8.1f} {row['mpix_per_s']:8.3f} {speed:7.2f} "
                  f"{row['peak_rss_mib']:9.0f} {memory:7.2f}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
