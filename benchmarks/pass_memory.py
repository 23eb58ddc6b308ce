"""Peak resident memory of one in-memory `Deblurrer` call, with and without TLC: is a large-scale
run's memory the model pass or the Dask path around it? (issue 20, docs/results/large-scale/NOTES.md)

Each size runs in a fresh process (``ru_maxrss`` only grows), on a uint16 random image, the
bundled model, eager, on the CPU:

    PYTHONPATH=src python benchmarks/pass_memory.py 1056 2048
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys


def one(size: int, tlc: bool) -> dict:
    import numpy as np

    from midnet.inference.deblurrer import Deblurrer

    d = Deblurrer.from_pretrained(None, device="cpu", backend="eager", tlc=tlc)
    image = (np.random.default_rng(0).random((size, size)) * 65535).astype(np.uint16)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    d(image)
    plan = d.plan(size, size)
    return {"size": size, "tlc": tlc, "tile": plan.tile, "context": plan.context,
            "peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            "loaded_gib": round(before, 2)}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(one(int(argv[1]), argv[2] == "1")))
        return
    for size in [int(a) for a in argv] or [1056, 2048]:
        for tlc in (True, False):
            out = subprocess.run([sys.executable, __file__, "--one", str(size), "1" if tlc else "0"],
                                 capture_output=True, text=True, check=True)
            print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
