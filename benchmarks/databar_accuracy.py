"""Accuracy of the one data-bar detector (`midnet.io.databar`) on real and synthetic frames.

Usage:
    python benchmarks/databar_accuracy.py [--shared ../shared/data] [--synthetic 300] [--verbose]

Three sets, each with its true bar height:
  * the published MIDNet JEOL frames (frames/blur and frames/sharp; 64 rows each);
  * the sharp corpus: every file of ``sem-sharp-corpus/inventory.tsv`` with its ``databar_rows``
    (FEI, JEOL, Zeiss full-width bars, one Philips XL30 inset box, and 0 for frames without a bar);
  * synthetic frames: black or white bars of random height with text, with or without a
    separator line and border line, 8/16-bit and 12-bit-in-16, plus frames without a bar.

For each set it prints: exact (detected == truth), safe (the bar is never restored: detected >=
truth, and 0 where there is no bar), over (rows kept beyond the bar) and the misses. The file
path goes through `read_image` + `databar_report`, i.e. exactly what `midnet deblur` does
(metadata, Zeiss overlay, pixels); "pixels only" repeats it with `find_databar` alone.
"""

from __future__ import annotations

import argparse
import csv
import logging
from pathlib import Path

import numpy as np

from midnet.io import read_image
from midnet.io.databar import databar_report, find_databar

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def synthetic_frames(count: int, seed: int = 0):
    """(name, array, max_value, true rows) of random specimen-like frames with and without bars.

    Bars: black or white, text in one or two lines, optional separator line (1-4 rows), border
    line, noise, JPEG compression, or an inset box with specimen below it (truth: from the
    box's top to the bottom). Frames without a bar include hard cases: a dark shadow with a soft,
    wavy edge and bright specks at the bottom, and particles on a black substrate.
    """
    import io

    from PIL import Image
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    for i in range(count):
        h = int(rng.integers(200, 700))
        w = int(rng.integers(200, 900))
        img = gaussian_filter(rng.random((h, w)), rng.uniform(1.5, 6))
        img = (img - img.min()) / (np.ptp(img) or 1)
        img = np.clip(rng.uniform(0.05, 0.3) + rng.uniform(0.3, 0.7) * img + rng.normal(0, 0.03, img.shape), 0, 1)
        rows = 0
        kind = i % 6
        label = ["plain", "bar", "bar", "bar", "inset", "hard-negative"][kind]
        if kind in (1, 2, 3, 4):
            rows = int(rng.integers(12, max(13, h // 5)))
            bright = rng.random() < 0.3
            bg, ink = (1.0, 0.0) if bright else (0.0, 1.0)
            foot = int(rng.integers(5, max(6, int(0.05 * h)))) if kind == 4 else 0
            left, right = (int(rng.integers(5, w // 8)), w - int(rng.integers(5, w // 8))) if kind == 4 else (0, w)
            top = h - rows - foot
            img[top:h - foot, left:right] = bg
            for line in range(int(rng.integers(1, 3))):
                y0 = top + 4 + line * 9
                if y0 + 6 > h - foot:
                    break
                for x in range(left + int(rng.integers(4, 30)), right - 10, int(rng.integers(9, 16))):
                    if rng.random() < 0.7:
                        img[y0:y0 + 6, x:x + int(rng.integers(3, 7))] = ink
            if rng.random() < 0.5 and kind != 4:  # separator line, 1-4 rows of the ink level
                img[top:top + int(rng.integers(1, 5))] = ink
            if rng.random() < 0.3 and kind != 4:  # border line at the very bottom
                img[-1] = ink
            if kind == 3:  # a noisy bar
                img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1)
            rows += foot
        elif kind == 5:
            band = int(rng.integers(20, h // 4))
            if rng.random() < 0.5:  # a dark shadow (soft, wavy edge) with bright specks
                x = np.arange(w)
                edge = h - band + 6 * np.sin(x / rng.uniform(20, 80)) + rng.normal(0, 1, w)
                shadow = gaussian_filter((np.arange(h)[:, None] > edge[None, :]).astype(float), 3)
                img = img * (1 - 0.95 * shadow)
                specks = (rng.random((h, w)) < 0.05) & (shadow > 0.9)
                img[specks] = 0.9
            else:  # particles on a black substrate, the whole frame
                img = np.where(gaussian_filter(rng.random((h, w)), 3) > 0.53, img, 0.0)
        dtype = int(rng.integers(0, 4))
        if dtype == 0:
            name, arr, top_value = "u8", np.rint(img * 255).astype(np.uint8), 255
        elif dtype == 1:
            name, arr, top_value = "u16", np.rint(img * 65535).astype(np.uint16), 65535
        elif dtype == 2:
            name, arr, top_value = "12-bit", np.rint(img * 4095).astype(np.uint16), 4095
        else:
            buffer = io.BytesIO()
            Image.fromarray(np.rint(img * 255).astype(np.uint8)).save(buffer, "JPEG", quality=75)
            name, arr, top_value = "jpeg", np.asarray(Image.open(buffer)), 255
        yield f"synthetic-{i:03d}-{label}-{name}", arr, top_value, rows


def score(results: list[tuple[str, int, int]]) -> dict[str, float]:
    n = len(results)
    exact = sum(d == t for _, d, t in results)
    safe = sum((d >= t) if t else d == 0 for _, d, t in results)
    over = [d - t for _, d, t in results if d > t]
    return {"n": n, "exact": exact / n, "safe": safe / n, "over_mean": float(np.mean(over)) if over else 0.0}


def show(title: str, results: list[tuple[str, int, int]], verbose: bool) -> None:
    s = score(results)
    print(f"{title}: {s['n']} frames, exact {s['exact']:.1%}, safe {s['safe']:.1%}, "
          f"rows kept beyond the bar (when any) {s['over_mean']:.1f} on average")
    for name, d, t in results:
        if verbose or d != t:
            print(f"    {'ok  ' if d == t else 'MISS'} {name}: detected {d}, truth {t}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--synthetic", type=int, default=300)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    frames = sorted((args.shared / "midnet-sem" / "frames").glob("*/*.png"))
    full, pixels = [], []
    for path in frames:
        image = read_image(path)
        full.append((path.relative_to(args.shared).as_posix(), databar_report(image).rows, 64))
        pixels.append((full[-1][0], find_databar(image.array).rows, 64))
    if frames:
        show("published JEOL frames", full, args.verbose)
        show("published JEOL frames, pixels only", pixels, args.verbose)

    inventory = args.shared / "sem-sharp-corpus" / "inventory.tsv"
    if inventory.is_file():
        full, pixels, bars = [], [], []
        with open(inventory, newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                path = inventory.parent / row["relative_path"]
                truth = int(row["databar_rows"])
                image = read_image(path)
                top = image.info[0].white  # the page's value of white, as read_image decided it
                full.append((row["relative_path"], databar_report(image).rows, truth))
                pixels.append((row["relative_path"], find_databar(image.array, max_value=top or None).rows, truth))
                if truth:
                    bars.append(full[-1])
        show("sharp corpus, all files", full, args.verbose)
        show("sharp corpus, files with a bar", bars, args.verbose)
        show("sharp corpus, pixels only", pixels, args.verbose)

    if args.synthetic:
        synth = [(name, find_databar(arr, max_value=top).rows, rows)
                 for name, arr, top, rows in synthetic_frames(args.synthetic)]
        show("synthetic frames", synth, args.verbose)
        for label in ("plain", "bar", "inset", "hard-negative"):
            part = [r for r in synth if f"-{label}-" in r[0]]
            s = score(part)
            print(f"    {label}: {s['n']} frames, exact {s['exact']:.1%}, safe {s['safe']:.1%}")


if __name__ == "__main__":
    main()
