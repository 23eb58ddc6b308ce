"""Small synthetic blurry/sharp pairs for tests, benchmarks and smoke runs.

Sharp images are band-limited random textures; blurry ones are Gaussian-blurred copies with
noise, so a network can really learn something in a few steps. Optionally a black data bar
with different "text" in the two captures is added at the bottom, as on real SEM frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage


def synthetic_pair(size: tuple[int, int], *, seed: int, blur_sigma: float = 1.5, noise: float = 0.02,
                   databar_rows: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(blurry, sharp) uint8 (H, W) arrays."""
    rng = np.random.default_rng(seed)
    h, w = size
    sharp = ndimage.gaussian_filter(rng.random((h, w)), 1.0)
    sharp = (sharp - sharp.min()) / (np.ptp(sharp) + 1e-9)
    sharp = 0.15 + 0.7 * (sharp > 0.5) * 0.6 + 0.4 * sharp * 0.5  # edges plus texture
    blurry = ndimage.gaussian_filter(sharp, blur_sigma) + rng.normal(0, noise, (h, w))
    out = []
    for im in (blurry, sharp):
        im = np.clip(im, 0, 1)
        if databar_rows:
            # as on a microscope: a black band, its first and last rows plain, sparse white "text"
            # in between that differs between the two captures
            im[h - databar_rows:] = 0.0
            text = rng.random((databar_rows, w)) < 0.2
            text[[0, -1]] = False
            im[h - databar_rows:][text] = 1.0
        out.append(np.rint(im * 255).astype(np.uint8))
    return out[0], out[1]


def write_synthetic_pairs(root: str | Path, *, groups: int = 3, per_group: int = 2,
                          size: tuple[int, int] = (64, 64), databar_rows: int = 0,
                          folders: tuple[str, str] = ("blur", "sharp"), seed: int = 0) -> Path:
    """Write PNG pairs named ``G-1_sNNN.png`` (MIDNet style) into root/blur and root/sharp."""
    from PIL import Image

    root = Path(root)
    for f in folders:
        (root / f).mkdir(parents=True, exist_ok=True)
    for g in range(1, groups + 1):
        for s in range(1, per_group + 1):
            blurry, sharp = synthetic_pair(size, seed=seed * 1000 + g * 100 + s, databar_rows=databar_rows)
            name = f"{g}-1_s{s:03d}.png"
            Image.fromarray(blurry).save(root / folders[0] / name)
            Image.fromarray(sharp).save(root / folders[1] / name)
    return root
