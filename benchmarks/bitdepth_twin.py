"""12-bit data restores like its 8-bit twin: frame 7-1 x16 in a 16-bit TIFF vs the 8-bit frame.

Usage:
    python benchmarks/bitdepth_twin.py [--frame PATH] [--model NAME_OR_CKPT]

Default frame: the 7-1 crop shipped with midnet (the full frame: --frame
../shared/data/midnet-sem/frames/blur/7-1.png). Both go through `Deblurrer.deblur_file` (what
`midnet deblur` runs); the script prints the PSNR between the two restorations on the image
area (each scaled to [0, 1] by its own range), the largest 12-bit output value, and, for
comparison, the PSNR when the 12-bit file is scaled by 65535 as before issue 11.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import tifffile

from midnet import Deblurrer
from midnet.evaluation.demo import packaged_pair
from midnet.io import read_image
from midnet.metrics import psnr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frame", type=Path, default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--bar", type=int, default=64)
    args = parser.parse_args()
    frame = args.frame or packaged_pair()[0]
    eight = read_image(frame).array
    twelve = eight.astype(np.uint16) * 16
    deblurrer = Deblurrer.from_pretrained(args.model, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        tifffile.imwrite(tmp_path / "f8.tif", eight)
        tifffile.imwrite(tmp_path / "f12.tif", twelve)
        deblurrer.deblur_file(tmp_path / "f8.tif", tmp_path / "o8.tif")
        deblurrer.deblur_file(tmp_path / "f12.tif", tmp_path / "o12.tif")
        out8, out12 = tifffile.imread(tmp_path / "o8.tif"), tifffile.imread(tmp_path / "o12.tif")
    area = slice(0, eight.shape[0] - args.bar)
    old = deblurrer(twelve, databar=args.bar, max_value=65535)
    print(f"frame {frame} ({eight.shape[1]}x{eight.shape[0]}), model {deblurrer.model_name}")
    print(f"12-bit vs 8-bit twin, image area: PSNR {psnr(out12[area] / 4095.0, out8[area] / 255.0, data_range=1.0):.2f} dB")
    print(f"largest 12-bit output value: {int(out12.max())} (limit 4095)")
    print(f"restored vs blurry input (8-bit): PSNR {psnr(out8[area] / 255.0, eight[area] / 255.0, data_range=1.0):.2f} dB")
    print(f"before issue 11 (12-bit scaled by 65535): PSNR to the twin "
          f"{psnr(np.clip(old[area], 0, 4095) / 4095.0, out8[area] / 255.0, data_range=1.0):.2f} dB, "
          f"largest value {int(old.max())}")


if __name__ == "__main__":
    main()
