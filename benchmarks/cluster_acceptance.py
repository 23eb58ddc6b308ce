"""Issue 20's end-to-end acceptance, run through `midnet deblur` as a user runs it.

Parts (each writes ``<part>.json`` into ``--out`` and prints it):

* ``ometiff``: a ``--size``² uint16 pyramidal OME-TIFF (tiled BigTIFF, reduced levels as
  SubIFDs down to 1,024 px, pixel size 5 nm, written by `midnet.io.ometiff.write_ome_tiff`) goes
  through ``midnet deblur IN -o OUT --cluster local:1``. Checked: the output has the input's
  levels and shapes, dtype, axes and physical pixel size; a central 1,024² region of its level 0
  equals the `Deblurrer` restoring that region in memory (the region's border of the block
  margin excepted); level 1 is the 2×2 mean of level 0.
* ``frames``: ``--frames`` 8-bit TIFF frames of ``--frame-size``² restored by ``midnet deblur``
  serially and with ``--cluster local:2``; every output pair is compared, and the cluster run's
  summary line (files, MP, seconds, MP/s) is kept.

    PYTHONPATH=src python benchmarks/cluster_acceptance.py --part ometiff --size 8192
    PYTHONPATH=src python benchmarks/cluster_acceptance.py --part frames --frames 50 --frame-size 512

Wall times are of the whole command (model loading and cluster start-up included), on the
machine named in the JSON; run it alone for a fair time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _machine import describe

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "results" / "large-scale"
PIXEL_UM = 0.005


def _midnet(*args: str) -> tuple[float, str]:
    """Run the installed CLI (``python -m midnet``) and return (seconds, its output)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "midnet", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    text = done.stdout + done.stderr
    if done.returncode != 0:
        raise SystemExit(f"midnet {' '.join(args)} failed ({done.returncode}):\n{text[-3000:]}")
    return seconds, text


def _grains(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth grains with fine noise, in [0, 1] (the same family as benchmarks/large_scale.py)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.random((height, width)), 3)
    img = (img - 0.5) * 6 + 0.5 + rng.normal(0, 0.02, img.shape)
    return np.clip(img, 0, 1)


def make_ometiff(path: Path, size: int) -> list[tuple[int, int]]:
    from midnet.io.omezarr import downsample
    from midnet.io.ometiff import ome_metadata, write_ome_tiff

    levels = [np.rint(_grains(size, size, 0) * 40000 + 12000).astype(np.uint16)]
    while levels[-1].shape[0] > 1024:
        shape = tuple(-(-n // 2) for n in levels[-1].shape)
        levels.append(downsample(levels[-1], (2, 2), shape))
    meta = ome_metadata("YX", [PIXEL_UM, PIXEL_UM], ["micrometer", "micrometer"], [])
    write_ome_tiff(path, levels, "YX", metadata=meta, tile=512, overwrite=True)
    return [lv.shape for lv in levels]


def run_ometiff(size: int, work: Path) -> dict[str, Any]:
    import tifffile

    from midnet.inference.blockwise import block_overlap
    from midnet.inference.deblurrer import Deblurrer
    from midnet.io.ometiff import read_tiff_lazy

    source, out = work / "mosaic.ome.tif", work / "ometiff-out"
    shutil.rmtree(out, ignore_errors=True)
    shapes = make_ometiff(source, size)
    seconds, text = _midnet("deblur", str(source), "-o", str(out), "--cluster", "local:1", "--device", "cpu",
                            "--backend", "eager")
    result = out / source.name
    got = read_tiff_lazy(result)
    with tifffile.TiffFile(result) as tif:
        xml = tif.ome_metadata or ""
        got_shapes = [tuple(level.shape) for level in tif.series[0].levels]
        dtype = str(tif.series[0].dtype)
    size_x = re.search(r'PhysicalSizeX="([^"]+)"', xml)
    unit_x = re.search(r'PhysicalSizeXUnit="([^"]+)"', xml)
    deblurrer = Deblurrer.from_pretrained(device="cpu", backend="eager")
    margin = block_overlap(deblurrer)
    window = min(size, 1024)
    y0 = (size - window) // 2 // 16 * 16
    inp = np.asarray(read_tiff_lazy(source).levels[0][y0:y0 + window, y0:y0 + window])
    reference = deblurrer(inp, databar=0)
    region = np.asarray(got.levels[0][y0:y0 + window, y0:y0 + window])
    diff = np.abs(region.astype(int) - reference.astype(int))[margin:-margin, margin:-margin]
    from midnet.io.omezarr import downsample

    level0 = np.asarray(got.levels[0][: 2 * window, : 2 * window])
    level1 = np.asarray(got.levels[1][:window, :window])
    pyramid_diff = np.abs(downsample(level0, (2, 2), level1.shape).astype(int) - level1.astype(int))
    return {"size": size, "megapixels": size * size / 1e6, "seconds": seconds, "mp_per_s": size * size / 1e6 / seconds,
            "input_levels": [list(s) for s in shapes], "output_levels": [list(s) for s in got_shapes],
            "dtype": dtype, "axes": got.axes if hasattr(got, "axes") else None,
            "physical_size_x": float(size_x.group(1)) if size_x else None,
            "physical_size_x_unit": unit_x.group(1) if unit_x else None,
            "check": {"window": window, "margin": margin, "max_diff_16bit": int(diff.max()),
                      "mean_diff_16bit": float(diff.mean()), "pyramid_max_diff": int(pyramid_diff.max())},
            "summary_line": [line for line in text.splitlines() if line.startswith("restored ")][-1:],
            "ok": bool(got_shapes == [tuple(s) for s in shapes] and dtype == "uint16" and diff.max() <= 257
            and size_x is not None and abs(float(size_x.group(1)) - PIXEL_UM) < 1e-9 and pyramid_diff.max() <= 1)}


def run_frames(count: int, side: int, work: Path) -> dict[str, Any]:
    import tifffile

    folder = work / "frames"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for index in range(count):
        tifffile.imwrite(folder / f"frame{index:03d}.tif", np.rint(_grains(side, side, index) * 255).astype(np.uint8))
    runs = {}
    for name, extra in (("serial", []), ("local:2", ["--cluster", "local:2"])):
        out = work / f"frames-{name.replace(':', '')}"
        shutil.rmtree(out, ignore_errors=True)
        seconds, text = _midnet("deblur", str(folder), "-o", str(out), "--device", "cpu", "--backend", "eager", *extra)
        runs[name] = {"seconds": seconds, "out": out,
                      "summary_line": [line for line in text.splitlines() if re.match(r"restored \d+ of \d+ ", line)][-1:]}
    diffs = []
    for src in sorted(folder.iterdir()):
        a = tifffile.imread(runs["serial"]["out"] / src.name).astype(int)
        b = tifffile.imread(runs["local:2"]["out"] / src.name).astype(int)
        diffs.append(int(np.abs(a - b).max()))
    for run in runs.values():
        run["out"] = str(run["out"])
    return {"frames": count, "side": side, "megapixels": count * side * side / 1e6, "runs": runs,
            "max_diff": max(diffs), "frames_differing": sum(d > 0 for d in diffs), "ok": bool(max(diffs) <= 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["ometiff", "frames"], required=True)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--frame-size", type=int, default=512)
    parser.add_argument("--work", type=Path, default=Path("/tmp/midnet-acceptance"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.part == "ometiff":
        result = run_ometiff(args.size, args.work)
    else:
        result = run_frames(args.frames, args.frame_size, args.work)
    result["machine"] = describe()
    result["command"] = "PYTHONPATH=src python benchmarks/cluster_acceptance.py " + " ".join(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"acceptance-{args.part}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not result["ok"]:
        raise SystemExit(f"{args.part}: acceptance check failed")


if __name__ == "__main__":
    main()
