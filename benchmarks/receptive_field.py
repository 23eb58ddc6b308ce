"""Effective receptive field of a model, and what it means for the tile overlap.

Prints, for each model, the radius `midnet.inference.receptive_field.effective_radius` measures
(99 % of the local input-gradient mass of one output pixel, the global channel-attention floor
removed) and the overlap `Deblurrer` derives from it; then, for the first model, the difference
between a tiled restoration (``--tile`` px tiles) and the whole-image restoration of the same
smooth random image at several overlaps, in 8-bit grey levels: the error should stop falling
once the overlap reaches the measured radius.

    PYTHONPATH=src python benchmarks/receptive_field.py --models default midnet-small
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--size", type=int, default=768, help="side of the test image (px)")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlaps", nargs="+", type=int, default=[16, 32, 64, 96, 128])
    args = parser.parse_args()
    from scipy.ndimage import zoom

    from midnet.inference import default_model_path
    from midnet.inference.deblurrer import Deblurrer
    from midnet.inference.receptive_field import effective_radius
    from midnet.models import create, load_model

    nets = {}
    for name in args.models:
        torch.manual_seed(0)
        nets[name] = load_model(str(default_model_path())) if name == "default" else create(name)
        d = Deblurrer(nets[name], device="cpu", backend="eager")
        print(f"{name}: effective radius {effective_radius(d.model, d.in_channels)} px -> "
              f"overlap {d.effective_overlap()} px")
    name, net = next(iter(nets.items()))
    rng = np.random.default_rng(0)
    n = args.size
    image = np.clip(zoom(rng.random((n // 16, n // 16)), 16, order=1) + rng.normal(0, 0.03, (n, n)), 0, 1)
    image = image.astype(np.float32)
    whole = Deblurrer(net, device="cpu", tile=0, backend="eager")(image)
    print(f"{name}, {n}x{n} image, {args.tile} px tiles: tiled vs whole, 8-bit grey levels")
    print(f"{'overlap':>8} {'mean':>8} {'p99':>8} {'max':>8}")
    for overlap in args.overlaps:
        tiled = Deblurrer(net, device="cpu", tile=args.tile, overlap=overlap, backend="eager")(image)
        diff = np.abs(tiled - whole) * 255
        print(f"{overlap:>8} {diff.mean():>8.4f} {np.percentile(diff, 99):>8.4f} {diff.max():>8.4f}", flush=True)


if __name__ == "__main__":
    main()
