"""``midnet deblur`` on one frame, end to end in a fresh process, against the naive forward.

Writes one 1280x1024 16-bit TIFF, then alternates, ``--rounds`` times: (a) a new Python process
running ``midnet deblur FRAME -o OUT --quiet`` (interpreter start, imports, model load, compiled
model load or eager set-up, read, restore, write: all of it), once per ``--backends``; (b) in this
process, a naive eager fp32 whole-frame forward of the same network. The acceptance criterion
of issue 10 is end-to-end <= naive + 1.5 s. The compiled backend is timed as a user's second run
sees it (the package cached by an earlier run; the script makes sure it exists first, and
reports how long that took when it had to compile).

    PYTHONPATH=src python benchmarks/cli_end_to_end.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["compiled", "eager"])
    args = parser.parse_args()
    import numpy as np
    import tifffile
    import torch

    from midnet.inference import default_model_path
    from midnet.inference.deblurrer import Deblurrer
    from midnet.inference.tiling import reflect_pad
    from midnet.models import load_model

    net = load_model(str(default_model_path())).eval()
    start = time.perf_counter()
    Deblurrer(net, device="cpu", backend="compiled").prepare()
    print(f"compiled package ready after {time.perf_counter() - start:.1f} s (cache: compiles only once)")
    rng = np.random.default_rng(0)
    frame = (rng.random((1024, 1280)) * 65535).astype(np.uint16)
    x = reflect_pad(torch.from_numpy(frame.astype(np.float32) / 65535)[None, None], 16, 16)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1] / "src"),
                                                                    os.environ.get("PYTHONPATH")])))
    times: dict[str, list[float]] = {b: [] for b in [*args.backends, "naive"]}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "frame.tif"
        tifffile.imwrite(src, frame)
        for r in range(args.rounds):
            for backend in args.backends:
                cmd = [sys.executable, "-c", "from midnet.cli.main import cli; cli()", "deblur", str(src),
                       "-o", str(Path(tmp) / f"out-{backend}-{r}"), "--quiet", "--backend", backend,
                       "--device", "cpu", "--databar", "none"]
                start = time.perf_counter()
                subprocess.run(cmd, check=True, env=env)
                times[backend].append(time.perf_counter() - start)
            start = time.perf_counter()
            with torch.inference_mode():
                net(x)
            times["naive"].append(time.perf_counter() - start)
    naive = statistics.median(times["naive"])
    print(f"{torch.get_num_threads()} threads; medians of {args.rounds} interleaved rounds")
    print(f"naive eager fp32 forward (in process): {naive:.2f} s")
    for backend in args.backends:
        t = statistics.median(times[backend])
        print(f"midnet deblur --backend {backend:<8} end to end: {t:.2f} s = naive + {t - naive:.2f} s")


if __name__ == "__main__":
    main()
