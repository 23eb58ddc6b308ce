"""Parameters and MACs of every registered model at a stated input size.

    python benchmarks/model_costs.py [--size 256] [--channels 1] [--json out.json]

MACs come from PyTorch's own FLOP counter (``midnet.metrics.count_macs``: FLOPs / 2) for a
1 x C x S x S input; the ratio column compares each model with ``nafnet-width32``.
"""

from __future__ import annotations

import argparse
import json

from midnet import models
from midnet.metrics import count_macs, count_parameters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    names = args.models or models.available()
    rows = []
    for name in names:
        net = models.create(name, in_channels=args.channels).eval()
        rows.append(dict(model=name, params=count_parameters(net),
                         gmacs=count_macs(net, (1, args.channels, args.size, args.size)) / 1e9))
        del net
    base = next((r for r in rows if r["model"] == "nafnet-width32"), rows[0])
    print(f"input 1x{args.channels}x{args.size}x{args.size}; ratios against {base['model']}")
    print("| model | parameters | GMACs | MACs ratio |\n|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['gmacs']:.2f} | {r['gmacs'] / base['gmacs']:.3f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
