"""Fit the synthetic-defocus model to the real published pairs, to check the training ranges cover them.

Method (robust to the captures' noise and to their misregistration):

1. The blurry capture is registered to the sharp one by plain cross-correlation of the two
   low-passed images (`midnet.data.registration.estimate_shift`); the shift is reported.
2. The blur's transfer function is measured as the radial average of the cross-spectrum
   ``Re(B·conj(S)) / |S|²`` over rings of spatial frequency (noise that is independent of the
   sharp image averages out of the cross-spectrum; a Hann window suppresses edge effects).
3. For each PSF family of `midnet.data.defocus`, the σ-equivalent width (and a contrast gain)
   whose transfer function best matches the measured one is found on a grid.

    python -m midnet.benchmark.calibration --frames $MIDNET_DATA/frames --out docs/results/defocus-calibration
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from midnet.data.defocus import PSF_FAMILIES, DefocusRanges, psf_for_width
from midnet.data.registration import align_to_reference, estimate_shift
from midnet.io import read_image
from midnet.io.atomic import atomic_write_text

WIDTHS = tuple(float(w) for w in np.arange(1.0, 24.01, 0.5))
FRAMES = ("1-1", "2-1", "3-1", "4-1", "5-1", "6-1")
BINS = np.linspace(0.002, 0.08, 21)  # cycles per pixel: the defocus removes everything above ~0.04


def _radial(values: np.ndarray, weights: np.ndarray, freq: np.ndarray) -> np.ndarray:
    idx = np.digitize(freq, BINS)
    return np.array([values[idx == i].sum() / max(weights[idx == i].sum(), 1e-12) for i in range(1, len(BINS))])


def transfer_function(blurry: np.ndarray, sharp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(measured radial transfer function, radial frequency grid) of two aligned (H, W) images."""
    win = np.outer(np.hanning(blurry.shape[0]), np.hanning(blurry.shape[1]))
    b = np.fft.fft2((blurry - blurry.mean()) * win)
    s = np.fft.fft2((sharp - sharp.mean()) * win)
    freq = np.hypot(*np.meshgrid(np.fft.fftfreq(blurry.shape[0]), np.fft.fftfreq(blurry.shape[1]), indexing="ij"))
    return _radial(np.real(b * np.conj(s)), np.abs(s) ** 2, freq), freq


def psf_transfer(family: str, width: float, shape: tuple[int, int], freq: np.ndarray) -> np.ndarray | None:
    """Radial average of a PSF's real transfer function (OTF) on the same rings (None: PSF too large)."""
    k = psf_for_width(family, width, np.random.default_rng(0)).astype(np.float64)
    if k.shape[0] > min(shape):
        return None
    r = k.shape[0] // 2
    padded = np.zeros(shape)
    padded[: k.shape[0], : k.shape[1]] = k
    padded = np.roll(padded, (-r, -r), axis=(0, 1))  # centre the kernel at the origin
    otf = np.real(np.fft.fft2(padded))
    return _radial(otf, np.ones_like(otf), freq)


def fit_pair(blurry: np.ndarray, sharp: np.ndarray) -> dict:
    shift = estimate_shift(blurry, sharp)
    b, s = align_to_reference(blurry[None], sharp[None], shift=shift)
    b, s = b[0, 16:-16, 16:-16].astype(np.float64), s[0, 16:-16, 16:-16].astype(np.float64)
    measured, freq = transfer_function(b, s)
    fits = {}
    for family in PSF_FAMILIES:
        best = None
        for width in WIDTHS:
            model = psf_transfer(family, width, b.shape, freq)
            if model is None:
                break
            gain = float(model @ measured / (model @ model))
            err = float(np.sqrt(np.mean((measured - gain * model) ** 2)))
            if best is None or err < best["rms_error"]:
                best = {"width": width, "gain": gain, "rms_error": err}
        fits[family] = best
    return {"shift": shift, "transfer": measured.round(4).tolist(), "fits": fits}


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=Path, required=True, help="folder with blur/ and sharp/ frames")
    ap.add_argument("--names", nargs="+", default=list(FRAMES))
    ap.add_argument("--rows", type=int, default=960, help="image-area rows (the data bar below is skipped)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    results = {}
    for name in args.names:
        blurry, sharp = (read_image(args.frames / k / f"{name}.png").array[: args.rows].astype(np.float32) / 255
                         for k in ("blur", "sharp"))
        results[name] = fit_pair(blurry, sharp)
        print(name, results[name]["shift"], {f: r["width"] for f, r in results[name]["fits"].items()}, flush=True)

    ranges = DefocusRanges()
    lines = ["# Synthetic-defocus calibration on the real published pairs", "",
             f"Command: `python -m midnet.benchmark.calibration --frames FRAMES --out {args.out}`", "",
             "Shift of the blurry capture against the sharp one (px, dy, dx), and per PSF family the "
             "σ-equivalent width (px) whose transfer function best fits the measured one (RMS error of "
             "the fit in brackets).", "",
             "| frame | shift (dy, dx) | " + " | ".join(PSF_FAMILIES) + " |",
             "|---|---|" + "---:|" * len(PSF_FAMILIES)]
    for name, r in results.items():
        lines.append(f"| {name} | {r['shift'][0]:+.1f}, {r['shift'][1]:+.1f} | "
                     + " | ".join(f"{r['fits'][f]['width']:g} ({r['fits'][f]['rms_error']:.3f})" for f in PSF_FAMILIES)
                     + " |")
    best_widths = [min(r["fits"].values(), key=lambda x: x["rms_error"])["width"] for r in results.values()]
    covered = ranges.sigma[0] <= min(best_widths) and max(best_widths) <= ranges.sigma[1]
    lines += ["", f"Best-fitting widths span {min(best_widths):g}–{max(best_widths):g} px; the default "
              f"training range (`DefocusRanges.sigma`) is {ranges.sigma[0]:g}–{ranges.sigma[1]:g} px: "
              + ("covered." if covered else "**not covered**.")]
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "summary.md", "\n".join(lines) + "\n")
    atomic_write_text(args.out / "fits.json", json.dumps(results, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
