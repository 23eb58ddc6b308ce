"""How accurately is a real pair registered? Synthetic pairs with a known warp, three methods.

Each sharp SEM image (the published frames' sharp captures and the held-out corpus sources) is
resampled by a known smooth scan-distortion-like displacement field (a random smooth field of up
to ``--max-shift`` px, varying by several pixels across the frame), blurred by a Gaussian of
σ = ``--blur`` px and given Gaussian noise of ``--noise`` grey levels: the "blurry capture".
Each method then measures the field between that capture and the clean image:

* ``per-tile``: `midnet.data.registration.measure_field` (what midnet uses);
* ``tv-l1``: `skimage.registration.optical_flow_tvl1` on the two images low-passed alike;
* ``global``: one translation (the registration midnet used before).

Reported per method: the median and 95th-percentile error of the field (px) over the pixels it
scores, and the PSNR of the clean warped image warped back by the measured field against the
clean image (what a registered score can at best resolve), with the time per image.

    PYTHONPATH=src python benchmarks/registration_accuracy.py \
        --frames ../shared/data/midnet-sem/frames --corpus ../shared/data/sem-sharp-corpus \
        --out docs/results/registration
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.registration import optical_flow_tvl1

from midnet.benchmark.heldout import HELD_OUT_SOURCES
from midnet.data.corpus import load_corpus
from midnet.data.registration import DisplacementField, estimate_shift, measure_field, warp
from midnet.io import read_image
from midnet.io.atomic import atomic_write_text
from midnet.metrics import psnr


def random_field(shape: tuple[int, int], max_shift: float, rng: np.random.Generator) -> DisplacementField:
    """A smooth field: a random translation plus low-frequency sinusoids and a linear skew (the
    shape of scan distortion), scaled so that its largest displacement is ``max_shift``."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    comps = []
    for _ in range(2):
        f = rng.uniform(0.2, 0.8, 2)
        phase = rng.uniform(0, 2 * np.pi, 2)
        c = (rng.uniform(-1, 1) * np.sin(2 * np.pi * f[0] * yy / h + phase[0])
             + rng.uniform(-1, 1) * np.cos(2 * np.pi * f[1] * xx / w + phase[1])
             + rng.uniform(-1, 1) * (yy / h) + rng.uniform(-1, 1) * (xx / w))
        comps.append(c - c.mean() + rng.uniform(-1, 1))
    scale = max_shift / max(np.abs(comps[0]).max(), np.abs(comps[1]).max())
    return DisplacementField((comps[0] * scale).astype(np.float32), (comps[1] * scale).astype(np.float32),
                             np.zeros((0, 2)), np.zeros(0, bool), 0)


def tv_l1(moving: np.ndarray, reference: np.ndarray, smooth: float = 2.0) -> DisplacementField:
    a, b = (ndimage.gaussian_filter(x / 255.0, smooth) for x in (moving, reference))
    v, u = optical_flow_tvl1(b, a)     # reference[y, x] ~ moving[y + v, x + u]
    return DisplacementField(v.astype(np.float32), u.astype(np.float32), np.zeros((0, 2)), np.zeros(0, bool), 0)


def global_shift(moving: np.ndarray, reference: np.ndarray) -> DisplacementField:
    dy, dx = estimate_shift(moving, reference)
    return DisplacementField.constant(reference.shape, -dy, -dx)


METHODS = {"per-tile": measure_field, "tv-l1": tv_l1, "global": global_shift}


def images(frames: Path | None, corpus: Path | None, crop: int, per_source: int) -> list[tuple[str, np.ndarray]]:
    out = []
    if frames is not None:
        for p in sorted((frames / "sharp").glob("*.png")):
            a = read_image(p).array.astype(np.float64)
            a = a.mean(axis=2) if a.ndim == 3 else a
            out.append((f"frame {p.stem}", a[:960, :1280]))
    if corpus is not None:
        for img in load_corpus(corpus, sources=list(HELD_OUT_SOURCES)):
            if sum(n.startswith(img.source) for n, _ in out) >= per_source or min(img.image.shape) < crop:
                continue
            a = img.image * 255.0
            h, w = a.shape
            y0, x0 = (h - crop) // 2, (w - crop) // 2
            out.append((f"{img.source}/{img.name}", a[y0:y0 + crop, x0:x0 + crop]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=Path, help="the published frames/ folder (sharp/ is used)")
    ap.add_argument("--corpus", type=Path, help="the sharp corpus; its held-out sources are used")
    ap.add_argument("--crop", type=int, default=768)
    ap.add_argument("--per-source", type=int, default=3)
    ap.add_argument("--max-shift", type=float, default=20.0)
    ap.add_argument("--blur", type=float, default=2.0)
    ap.add_argument("--noise", type=float, default=6.0)
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--out", type=Path, default=Path("docs/results/registration"))
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    items = images(args.frames, args.corpus, args.crop, args.per_source)
    print(f"{len(items)} images", flush=True)
    for name, clean in items:
        truth = random_field(clean.shape, args.max_shift, rng)
        warped = warp(clean, truth)
        capture = ndimage.gaussian_filter(warped, args.blur) + rng.normal(0, args.noise, clean.shape)
        expected = truth.inverted()
        for method in args.methods:
            t = time.perf_counter()
            measured = METHODS[method](capture, clean)
            seconds = time.perf_counter() - t
            keep = measured.score_mask() if method == "per-tile" else measured.inside()
            keep &= expected.inside()
            err = np.hypot(measured.dy - expected.dy, measured.dx - expected.dx)[keep]
            back = warp(warped, measured)
            rows.append({"image": name, "method": method, "median_error_px": float(np.median(err)),
                         "p95_error_px": float(np.percentile(err, 95)), "scored_fraction": float(keep.mean()),
                         "psnr_back_db": psnr(back, clean, data_range=255, mask=keep), "seconds": seconds})
            r = rows[-1]
            print(f"{name:50s} {method:8s} median {r['median_error_px']:.3f} px  p95 {r['p95_error_px']:.3f}  "
                  f"back {r['psnr_back_db']:.2f} dB  {seconds:.1f} s", flush=True)
    md = ["# Registration accuracy on synthetic pairs with a known warp", "",
          f"Smooth scan-distortion-like fields up to {args.max_shift:g} px, Gaussian blur σ = {args.blur:g} px, "
          f"noise σ = {args.noise:g} grey levels; {len(items)} images (the published sharp frames, image area, and "
          f"centre {args.crop} px crops of the held-out corpus sources). Machine: {platform.processor() or platform.machine()}, "
          f"measured with `PYTHONPATH=src python benchmarks/registration_accuracy.py "
          f"{'--frames FRAMES ' if args.frames else ''}{'--corpus CORPUS ' if args.corpus else ''}--out {args.out}`.", "",
          "| method | median error (px) | worst image's median (px) | p95 error (px) | warped-back PSNR (dB), mean / worst | s per image |",
          "|---|---:|---:|---:|---:|---:|"]
    for method in args.methods:
        sel = [r for r in rows if r["method"] == method]
        med = [r["median_error_px"] for r in sel]
        md.append(f"| {method} | {np.median(med):.3f} | {max(med):.3f} | "
                  f"{np.median([r['p95_error_px'] for r in sel]):.3f} | "
                  f"{np.mean([r['psnr_back_db'] for r in sel]):.2f} / {min(r['psnr_back_db'] for r in sel):.2f} | "
                  f"{np.mean([r['seconds'] for r in sel]):.1f} |")
    md += ["", "Target (issue 19): ≤ 0.5 px median error."]
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "accuracy.md", "\n".join(md) + "\n")
    atomic_write_text(args.out / "accuracy.json", json.dumps(rows, indent=1) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
