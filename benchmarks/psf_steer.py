"""What steering the PSF-aware model does (issue 18 §1, §2): ``--psf none`` on in-focus images and
per-tile PSFs under blur that changes across the frame.

1. In focus: a clean image plus Gaussian noise of σ = 1 grey level, restored with ``psf="none"``
   and ``psf="auto"``; PSNR against the noisy input (how much the restoration changed it; the
   issue's bar is 45 dB) and against the clean image. Images: the sharp capture of the shipped
   7-1 crop (a real SEM frame), a smooth generated image and the tests' textured specimen
   (a 1/f² field with hard-edged grains, `tests/specimens.py`).
2. Varying blur: the textured specimen, left half blurred with a Gaussian σ = 1 px, right half
   σ = 3 px, noise 2 grey levels; PSNR per half for the whole-image estimate (``auto``), the
   per-tile estimate (``psf_map``) and the true σ of each half given to the whole image.
3. Artefacts: a sharp vertical step edge (grey 64 | 192) with noise σ = 1, restored with
   ``psf="auto"``: the overshoot beyond either level, in % of the step (issue 18: at most 3 %,
   no halos), measured on the row-averaged profile so that the noise does not count as overshoot.
4. Speed: a 1280 × 1024 frame restored by the default blind model and by the PSF-aware model with
   ``psf="auto"`` (estimate included), in this one process, best of ``--repeats``; the ratio is
   what issue 18 bounds (at most 2×).

``--model`` names the PSF-aware weights (default the shipped preview).

    PYTHONPATH=src:tests OMP_NUM_THREADS=2 python benchmarks/psf_steer.py --out docs/results/psf-steer
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from midnet import Deblurrer
from midnet.evaluation import score
from midnet.evaluation.demo import packaged_pair
from midnet.io import read_image
from midnet.io.atomic import atomic_write
from midnet.psf import PSF
from specimens import degrade, textured

MODEL = "sem-psf-preview"


def in_focus_images() -> dict[str, np.ndarray]:
    """Clean 8-bit-scale float images (448 × 640)."""
    sharp = read_image(packaged_pair()[1]).array[:448].astype(np.float64)  # the bar is the last 64 rows
    smooth = gaussian_filter(np.random.default_rng(1).random((448, 640)), 6)
    smooth = 30 + 200 * (smooth - smooth.min()) / np.ptp(smooth)
    return {"shipped 7-1 sharp crop (real SEM)": sharp, "smooth generated": smooth,
            "textured generated (tests/specimens.py)": textured((448, 640), seed=3) * 255}


def in_focus_rows() -> list[dict]:
    rows = []
    for name, clean in in_focus_images().items():
        clean8 = np.rint(clean).astype(np.uint8)
        noisy = np.clip(np.rint(clean + np.random.default_rng(0).normal(0, 1.0, clean.shape)), 0, 255).astype(np.uint8)
        for psf, noise in (("none", None), ("auto", None), ("none", 1.0)):
            d = Deblurrer.from_pretrained(MODEL, device="cpu", psf=psf, noise=noise)
            out = d(noisy)
            rows.append({"image": name, "psf": psf + ("" if noise is None else f" --noise {noise:g}"),
                         "used": d.last_psf.describe(),
                         "noise_estimate": round(d.last_psf.noise_sigma * 255, 2),
                         "psnr_vs_noisy_input": round(score(out, noisy).psnr, 2),
                         "psnr_vs_clean": round(score(out, clean8).psnr, 2),
                         "input_psnr_vs_clean": round(score(noisy, clean8).psnr, 2)})
    return rows


def varying_rows() -> list[dict]:
    clean = textured((512, 768), seed=7)
    image = degrade(clean, PSF("gaussian", 1.0), 2.0)
    image[:, 384:] = degrade(clean, PSF("gaussian", 3.0), 2.0, seed=2)[:, 384:]
    u8 = np.rint(image * 255).astype(np.uint8)
    clean8 = np.rint(clean * 255).astype(np.uint8)
    halves = {"left (σ = 1)": (slice(16, -16), slice(16, 368)), "right (σ = 3)": (slice(16, -16), slice(400, -16))}
    rows = [{"method": "blurry input", **{h: round(score(u8[c], clean8[c]).psnr, 2) for h, c in halves.items()}}]
    for label, kw in [("auto: one whole-image estimate", {"psf": "auto"}),
                      ("auto + psf_map: per-tile estimates", {"psf": "auto", "psf_map": True}),
                      ("given gaussian:1 (true left)", {"psf": "gaussian:1"}),
                      ("given gaussian:3 (true right)", {"psf": "gaussian:3"})]:
        d = Deblurrer.from_pretrained(MODEL, device="cpu", **kw)
        out = d(u8)
        rows.append({"method": label, "used": d.last_psf.describe(),
                     **{h: round(score(out[c], clean8[c]).psnr, 2) for h, c in halves.items()}})
    return rows


def step_edge_row() -> dict:
    """Overshoot of ``psf=auto`` on a sharp step edge with noise σ = 1 (see the module docstring)."""
    lo, hi = 64.0, 192.0
    clean = np.full((256, 384), lo)
    clean[:, 192:] = hi
    noisy = np.clip(np.rint(clean + np.random.default_rng(0).normal(0, 1.0, clean.shape)), 0, 255).astype(np.uint8)
    d = Deblurrer.from_pretrained(MODEL, device="cpu", psf="auto")
    out = d(noisy).astype(np.float64)
    profile = out[32:-32].mean(axis=0)
    over = max(profile.max() - hi, lo - profile.min(), 0.0) / (hi - lo)
    return {"used": d.last_psf.describe(), "overshoot_percent": round(float(100 * over), 2),
            "max_row_mean": round(float(profile.max()), 2), "min_row_mean": round(float(profile.min()), 2)}


def speed_row(repeats: int) -> dict:
    """Seconds for a 1280 × 1024 frame: the default blind model vs the PSF-aware one with ``auto``."""
    from midnet import models

    frame = np.rint(degrade(textured((1024, 1280), seed=9), PSF("gaussian", 2.0), 3.0) * 255).astype(np.uint8)
    timings = {}
    for label, name, kw in (("default", models.DEFAULT_MODEL, {}), ("psf-aware auto", MODEL, {"psf": "auto"})):
        d = Deblurrer.from_pretrained(name, device="cpu", backend="eager", **kw)
        d(frame[:256, :256])  # warm up (threads, allocator)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            d(frame)
            best = min(best, time.perf_counter() - t0)
        timings[label] = round(best, 2)
    return {**timings, "ratio": round(timings["psf-aware auto"] / timings["default"], 2)}


def markdown(focus: list[dict], varying: list[dict], seconds: float, step: dict | None = None,
             speed: dict | None = None) -> str:
    lines = [f"# Steering the PSF-aware model (`{MODEL}`)", "",
             f"Command: `PYTHONPATH=src:tests OMP_NUM_THREADS=2 python benchmarks/psf_steer.py --model {MODEL} "
             "--out docs/results/psf-steer`",
             "", "## In focus: clean + σ = 1 grey level noise (448 × 640, 8-bit)", "",
             "| image | --psf | PSF used | noise estimate (grey levels) | PSNR vs noisy input | PSNR vs clean | input vs clean |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in focus:
        lines.append(f"| {r['image']} | {r['psf']} | {r['used']} | {r['noise_estimate']} | {r['psnr_vs_noisy_input']:.2f} "
                     f"| {r['psnr_vs_clean']:.2f} | {r['input_psnr_vs_clean']:.2f} |")
    lines += ["", "## Blur that varies: left half σ = 1 px, right half σ = 3 px (512 × 768, noise 2), PSNR per half", "",
              "| method | PSF used | left (σ = 1) | right (σ = 3) |", "|---|---|---:|---:|"]
    for r in varying:
        lines.append(f"| {r['method']} | {r.get('used', '')} | {r['left (σ = 1)']:.2f} | {r['right (σ = 3)']:.2f} |")
    if step is not None:
        lines += ["", "## Step edge (grey 64 | 192, noise σ = 1), `--psf auto`", "",
                  "| PSF used | overshoot (% of the step; bar 3 %) | row-mean max / min |", "|---|---:|---|",
                  f"| {step['used']} | {step['overshoot_percent']:.2f} | {step['max_row_mean']} / {step['min_row_mean']} |"]
    if speed is not None:
        lines += ["", "## Speed: 1280 × 1024 frame, this process, best of the repeats (eager, CPU)", "",
                  "| default blind model (s) | PSF-aware, `auto` (s) | ratio (bar 2×) |", "|---:|---:|---:|",
                  f"| {speed['default']} | {speed['psf-aware auto']} | {speed['ratio']} |"]
    lines += ["", f"({seconds:.0f} s on the CPU)", ""]
    return "\n".join(lines)


def main() -> None:
    global MODEL  # noqa: PLW0603 - one model for the whole report
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="folder for summary.md and summary.json")
    ap.add_argument("--model", default=MODEL, help="the PSF-aware weights (a registry name or a file)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per model for the speed row")
    args = ap.parse_args()
    MODEL = args.model
    start = time.perf_counter()
    focus, varying, step = in_focus_rows(), varying_rows(), step_edge_row()
    speed = speed_row(args.repeats)
    text = markdown(focus, varying, time.perf_counter() - start, step, speed)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write(args.out / "summary.md", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), overwrite=True)
        atomic_write(args.out / "summary.json", lambda tmp: Path(tmp).write_text(
            json.dumps({"model": MODEL, "in_focus": focus, "varying_blur": varying, "step_edge": step,
                        "speed": speed}, indent=1, ensure_ascii=False), encoding="utf-8"),
            overwrite=True)


if __name__ == "__main__":
    main()
