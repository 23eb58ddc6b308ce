"""Classical deblurring baselines on the real SEM frames: fit on some frames, test on another.

Usage:
    python benchmarks/classical_baselines.py [--data DIR] [--train 1,2,3,4,5,6] [--test 7]
                                             [--patches 8] [--patch 256] [--methods wiener,...]

Each method's parameters (Gaussian PSF σ, Wiener balance, RL iterations, unsharp radius/amount)
are fitted by grid search on patches of the training frames (image area, rows 0..959: the data
bar below differs between captures), then the method restores the whole image area of each test
frame. PSNR/SSIM are the paper's 8-bit metrics (midnet.metrics, output quantised to uint8).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from midnet.baselines.classical import classical_methods
from midnet.io import read_image, to_float
from midnet.metrics import psnr, quantize, ssim

IMAGE_ROWS = slice(0, 960)
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "midnet-sem"


def load_frame_pair(root: Path, group: int) -> tuple[np.ndarray, np.ndarray]:
    """(blurry, sharp) float image areas of frame `group` (rows 0..959)."""
    out = []
    for kind in ("blur", "sharp"):
        path = root / "frames" / kind / f"{group}-1.png"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: frame not found; pass --data pointing at a midnet-sem copy "
                                    f"(with frames/blur and frames/sharp)")
        array = read_image(path).array
        if array.ndim != 2:
            raise ValueError(f"{path}: expected a grey frame, got shape {array.shape}")
        out.append(to_float(array)[IMAGE_ROWS].astype(np.float64))
    return out[0], out[1]


def _groups(text: str) -> list[int]:
    return [int(g) for g in text.split(",") if g.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("MIDNET_DATA", DEFAULT_DATA)))
    parser.add_argument("--train", type=_groups, default=[1, 2, 3, 4, 5, 6])
    parser.add_argument("--test", type=_groups, default=[7])
    parser.add_argument("--patches", type=int, default=8, help="fitting patches in total (spread over frames)")
    parser.add_argument("--patch", type=int, default=256, help="fitting patch size")
    parser.add_argument("--methods", type=lambda t: [m.strip() for m in t.split(",") if m.strip()], default=None,
                        help="comma-separated subset (default: all)")
    args = parser.parse_args(argv)

    train = [load_frame_pair(args.data, g) for g in args.train]
    test = [load_frame_pair(args.data, g) for g in args.test]
    methods = classical_methods(max_patches=args.patches, patch=args.patch)
    if args.methods:
        unknown = set(args.methods) - set(methods)
        if unknown:
            parser.error(f"unknown method(s) {sorted(unknown)}; choose from {', '.join(methods)}")
        methods = {name: m for name, m in methods.items() if name in args.methods}
    print(f"fit on frames {args.train} ({args.patches} patches of {args.patch}^2), "
          f"test on frames {args.test}, rows {IMAGE_ROWS.start}..{IMAGE_ROWS.stop - 1}")
    print(f"{'method':<22} {'PSNR':>7} {'SSIM':>7} {'fit s':>7} {'run s':>7}  parameters")
    scores = [(psnr(quantize(b), quantize(s), data_range=255), ssim(quantize(b), quantize(s), data_range=255))
              for b, s in test]
    p, s = np.mean(scores, axis=0)
    print(f"{'blurry-input':<22} {p:7.2f} {s:7.4f} {0:7.1f} {0:7.1f}  the untouched input", flush=True)
    for method in methods.values():
        t0 = time.perf_counter()
        method.fit(train)
        t1 = time.perf_counter()
        scores = []
        for blurry, sharp in test:
            restored = quantize(method(blurry))
            target = quantize(sharp)
            scores.append((psnr(restored, target, data_range=255), ssim(restored, target, data_range=255)))
        t2 = time.perf_counter()
        p, s = np.mean(scores, axis=0)
        print(f"{method.name:<22} {p:7.2f} {s:7.4f} {t1 - t0:7.1f} {(t2 - t1) / len(test):7.1f}  "
              f"{method.describe()}", flush=True)


if __name__ == "__main__":
    main()
