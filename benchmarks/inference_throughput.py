"""The product's deblur path against a naive eager fp32 whole-image forward, on CPU or a GPU.

For each model (default: the bundled default model and ``midnet-paper``; registry names get
seeded random weights, the speed does not depend on them) and each image size:

* ``speed`` (one process, interleaved): a `Deblurrer` with its defaults restores a random
  16-bit image (the user's path: scaling, padding, whole image or tiles, compiled backend)
  and, alternately, the same network runs eagerly in fp32 on the whole padded image
  (``naive``). Each is timed ``--rounds`` times, interleaved, after one warm-up call (which
  compiles or loads the cached compiled model: reported as ``prepare s``); the medians and their
  ratio are printed, with the mean absolute difference between the two outputs in 8-bit grey
  levels, and each path's conv/matmul FLOP rate as a fraction of this CPU's measured peak
  (`_roofline.py`). The naive forward is skipped where its estimated memory exceeds half the
  available memory (midnet-paper at 4096^2 needs ~23 GB).
* ``memory`` (a fresh process per model and size): the peak resident memory
  (``ru_maxrss``) of the whole process while a `Deblurrer` with its defaults restores one
  16-bit image of that size, imports and model included.

    PYTHONPATH=src python benchmarks/inference_throughput.py                 # both parts
    PYTHONPATH=src python benchmarks/inference_throughput.py --part memory --sizes 4096x4096
    PYTHONPATH=src python benchmarks/inference_throughput.py --part speed --device cuda

On a GPU the roofline is the device's float32 (TF32 where PyTorch allows it) matmul/conv rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT = "default"  # the bundled model file


def _load(model: str):
    import torch

    from midnet.models import create, load_model

    if model == DEFAULT:
        from midnet.inference import default_model_path

        return load_model(str(default_model_path()))
    torch.manual_seed(0)
    return create(model).eval()


def _image(height: int, width: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    small = rng.random((height // 16 + 1, width // 16 + 1))
    from scipy.ndimage import zoom

    smooth = zoom(small, 16, order=1)[:height, :width]
    return np.clip((smooth + rng.normal(0, 0.03, smooth.shape)) * 65535, 0, 65535).astype(np.uint16)


def speed(model_name: str, sizes: list[tuple[int, int]], rounds: int, roof: dict,
          device: str = "cpu") -> list[dict]:
    import numpy as np
    import torch

    from _roofline import forward_flops, sync
    from midnet.inference.budget import available_memory, bytes_per_pixel
    from midnet.inference.deblurrer import Deblurrer
    from midnet.inference.tiling import model_alignment, reflect_pad

    net = _load(model_name).eval()
    deblurrer = Deblurrer(net, device=device)  # its defaults (a copy of net)
    net = net.to(device)
    start = time.perf_counter()
    execution = deblurrer.prepare()
    prepare_s = time.perf_counter() - start
    align = model_alignment(net)
    rows = []
    for height, width in sizes:
        image = _image(height, width)
        x = reflect_pad(torch.from_numpy(image.astype(np.float32) / 65535)[None, None], align, align).to(device)
        flops = forward_flops(net, tuple(x.shape))
        need = bytes_per_pixel(net, 1, align) * x.shape[2] * x.shape[3]
        naive_ok = need < available_memory(torch.device(device)) / 2

        def naive():
            with torch.inference_mode():
                return net(x)[0, 0, align:align + height, align:align + width].float().cpu().numpy()

        out = deblurrer(image)  # warm-up at this size
        ref = naive() if naive_ok else None
        times: dict[str, list[float]] = {"deblurrer": [], "naive": []}
        for _ in range(rounds):
            for name, fn in (("deblurrer", lambda: deblurrer(image)), ("naive", naive)):
                if name == "naive" and not naive_ok:
                    continue
                sync(device)
                t = time.perf_counter()
                fn()
                sync(device)
                times[name].append(time.perf_counter() - t)
        d = statistics.median(times["deblurrer"])
        n = statistics.median(times["naive"]) if naive_ok else float("nan")
        mad = (float(np.abs(out.astype(np.float64) / 257 - np.clip(ref, 0, 1) * 255).mean())
               if ref is not None else float("nan"))
        rows.append({"model": model_name, "size": f"{width}x{height}", "execution": execution,
                     "prepare_s": prepare_s, "plan": deblurrer.plan(height, width),
                     "deblurrer_s": d, "naive_s": n, "ratio": d / n, "mad_grey": mad,
                     "deblurrer_peak_frac": flops / d / 1e9 / roof["peak"],
                     "naive_peak_frac": flops / n / 1e9 / roof["peak"],
                     "naive_est_gib": need / 2**30})
    return rows


def memory_worker(model_name: str, height: int, width: int) -> dict:
    import resource

    from midnet.inference.deblurrer import Deblurrer

    deblurrer = Deblurrer(_load(model_name), device="cpu")
    deblurrer.prepare()
    image = _image(height, width)
    start = time.perf_counter()
    out = deblurrer(image)
    seconds = time.perf_counter() - start
    assert out.shape == image.shape and out.dtype == image.dtype
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return {"model": model_name, "size": f"{width}x{height}", "execution": deblurrer.execution,
            "plan": deblurrer.plan(height, width), "seconds": seconds, "peak_gib": peak}


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(h), int(w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=[DEFAULT, "midnet-paper"])
    parser.add_argument("--sizes", nargs="+", default=["1280x1024", "4096x4096"], help="WIDTHxHEIGHT")
    parser.add_argument("--part", choices=["speed", "memory", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the speed part; memory is CPU only)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(memory_worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))))
        return
    sizes = [_size(s) for s in args.sizes]
    rows: list[dict] = []
    if args.part in ("speed", "both"):
        from _roofline import measure_peak_gflops

        roof = measure_peak_gflops(args.device)
        print(f"speed: {torch.get_num_threads()} threads, torch {torch.__version__}; peak matmul "
              f"{roof['matmul']:.1f}, conv {roof['conv']:.1f} GFLOP/s; medians of {args.rounds} interleaved rounds")
        print(f"{'model':<14} {'size':>10} {'execution':>9} {'prepare s':>9} {'Deblurrer s':>11} {'naive s':>8} "
              f"{'ratio':>6} {'MAD grey':>9} {'peak% D':>8} {'peak% N':>8}  plan (tile, overlap, batch)")
        for model in args.models:
            for row in speed(model, sizes, args.rounds, roof, args.device):
                rows.append(row)
                print(f"{row['model']:<14} {row['size']:>10} {row['execution']:>9} {row['prepare_s']:>9.1f} "
                      f"{row['deblurrer_s']:>11.2f} {row['naive_s']:>8.2f} {row['ratio']:>6.2f} "
                      f"{row['mad_grey']:>9.4f} {100 * row['deblurrer_peak_frac']:>7.1f}% "
                      f"{100 * row['naive_peak_frac']:>7.1f}%  {row['plan']}", flush=True)
    if args.part in ("memory", "both"):
        print("memory: peak resident memory of a fresh process restoring one 16-bit image")
        print(f"{'model':<14} {'size':>10} {'execution':>9} {'seconds':>8} {'peak GiB':>9}  plan")
        for model in args.models:
            for height, width in sizes:
                cmd = [sys.executable, __file__, "--worker", model, str(height), str(width),
                       "--threads", str(args.threads)]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    print(f"{model:<14} {width}x{height} failed: {done.stderr.strip().splitlines()[-1:]}")
                    continue
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(f"{row['model']:<14} {row['size']:>10} {row['execution']:>9} {row['seconds']:>8.1f} "
                      f"{row['peak_gib']:>9.2f}  {row['plan']}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
