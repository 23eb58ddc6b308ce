"""Training and validation samples made by synthetic defocus of sharp images, mixed with real pairs.

Why this shape: the general model must learn defocus as any SEM produces it, from many
microscopes and materials (the sharp corpus plus the sharp frames of the real pairs, blurred by
`midnet.data.defocus`), and still learn the real published captures (a share of real pairs).
Like `RandomCropDataset`, sample k is a pure function of (seed, k), so a resumed run draws
exactly the samples an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from midnet.data.corpus import SharpImage
from midnet.data.sampling import PairStore, dihedral
from midnet.data.defocus import Degradation, DefocusRanges, degrade
from midnet.psf.kernels import PSF

# blur support needed around a crop: the widest kernel (mixture skirt at σ 6) has radius < 40
_MARGIN = 40


def _crop_box(rng: np.random.Generator, h: int, w: int, c: int) -> tuple[int, int]:
    return int(rng.integers(h - c + 1)), int(rng.integers(w - c + 1))


class DefocusCropDataset(Dataset):
    """Index k -> a (input, target, mask) crop: synthetic defocus of a sharp image, or a real pair.

    Sharp images are drawn source-balanced (a source first, then an image of it), so a source
    with many files does not dominate; with probability ``real_fraction`` the sample is a crop
    of a real pair from ``real`` instead. With ``degrade=False`` a synthetic sample is the sharp
    crop as input and target, flagged ``synthetic`` (`midnet.data.degrade_torch` degrades the
    batch where the network trains); real pairs are flagged False.
    """

    def __init__(self, sharp: Sequence[SharpImage], *, real: PairStore | None = None,
                 ranges: DefocusRanges | None = None, crop_size: int = 256, seed: int = 0,
                 real_fraction: float = 0.0, augment: bool = True, degrade: bool = True) -> None:
        self.sharp = list(sharp)
        self.real = real if real is not None and len(real) else None
        self.ranges = ranges or DefocusRanges()
        self.crop_size, self.seed, self.augment, self.degrade = int(crop_size), int(seed), augment, degrade
        self.real_fraction = float(real_fraction) if self.real is not None else 0.0
        if not self.sharp and self.real is None:
            raise ValueError("no training images: give a sharp-image corpus or real pairs")
        self.by_source: dict[str, list[int]] = {}
        for i, im in enumerate(self.sharp):
            self.by_source.setdefault(im.source, []).append(i)
            if min(im.image.shape) < self.crop_size:
                raise ValueError(f"{im.name}: image {im.image.shape[1]}x{im.image.shape[0]} is smaller "
                                 f"than the crop size {self.crop_size}; lower data.crop_size")
        self.sources = sorted(self.by_source)

    def __len__(self) -> int:
        return 2**62

    def _real_sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.real is not None
        x, y, m = self.real.load(int(rng.integers(len(self.real))))
        c = self.crop_size
        top, left = _crop_box(rng, x.shape[1], x.shape[2], c)
        return tuple(a[:, top:top + c, left:left + c] for a in (x, y, m))  # type: ignore[return-value]

    def _synthetic_sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = self.sources[int(rng.integers(len(self.sources)))]
        im = self.sharp[self.by_source[src][int(rng.integers(len(self.by_source[src])))]].image
        c, h, w = self.crop_size, im.shape[0], im.shape[1]
        top, left = _crop_box(rng, h, w, c)
        if not self.degrade:  # sharp crop only: the batch is degraded on the training device
            crop = np.asarray(im[top:top + c, left:left + c], np.float32)[None]
            return crop, crop, np.ones((1, c, c), np.float32)
        # blur a larger window where the image allows, so the crop's border sees real context
        t0, l0 = max(0, top - _MARGIN), max(0, left - _MARGIN)
        window = im[t0:min(h, top + c + _MARGIN), l0:min(w, left + c + _MARGIN)]
        blurry, target, _ = degrade(window, rng, self.ranges)
        cut = (slice(top - t0, top - t0 + c), slice(left - l0, left - l0 + c))
        return blurry[cut][None], target[cut][None], np.ones((1, c, c), np.float32)

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, int(k)])
        real = self.real is not None and (not self.sharp or rng.random() < self.real_fraction)
        x, y, m = self._real_sample(rng) if real else self._synthetic_sample(rng)
        t = int(rng.integers(8)) if self.augment else 0
        out = {key: torch.from_numpy(np.ascontiguousarray(dihedral(a, t)))
               for key, a in (("input", x), ("target", y), ("mask", m))}
        if not self.degrade:  # which rows the device must degrade (real pairs stay as they are)
            out["synthetic"] = torch.tensor(not real)
        return out


def fixed_degradation(psf: PSF, noise_sigma: float, shot_fraction: float = 0.0, bits: int = 8) -> Degradation:
    """A fixed, named degradation (the acceptance cases): this `PSF` (its default kernel, the one
    `midnet.psf` renders) and Poisson–Gaussian noise of ``noise_sigma`` 8-bit levels at mid-grey,
    ``shot_fraction`` of its variance shot noise; ``none`` is in focus (no blur)."""
    kernel = None if psf.family == "none" else psf.kernel().astype(np.float32)
    return Degradation(kind="blur" if kernel is not None else "in_focus", family=psf.family, sigma=psf.sigma_px,
                       kernel=kernel, noise_sigma=noise_sigma, shot_fraction=shot_fraction, bits=bits)


def fixed_gaussian_degradation(sigma: float, noise_sigma: float, bits: int = 8) -> Degradation:
    """The acceptance test's degradation: Gaussian PSF of width σ and Gaussian noise (8-bit levels).

    Its kernel (`PSF.kernel`, cut at 4σ) is `midnet.psf.kernels.gaussian_kernel` at 4σ, so validation
    sets stay as they were."""
    return fixed_degradation(PSF("gaussian", sigma) if sigma > 0 else PSF("none"), noise_sigma, 0.0, bits)


def center_crop(image: np.ndarray, size: int | None) -> np.ndarray:
    if not size:
        return image
    h, w = image.shape
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[top:top + size, left:left + size]


class FixedDefocusDataset(Dataset):
    """Validation: each held-out image (centre crop) degraded at each of ``sigmas`` with fixed noise.

    Deterministic for a seed, so every validation run and every model sees the same inputs."""

    def __init__(self, sharp: Sequence[SharpImage], *, sigmas: Sequence[float] = (1.0, 2.0, 3.0),
                 noise_sigma: float = 3.0, crop: int | None = 512, seed: int = 0) -> None:
        self.items: list[tuple[str, np.ndarray, np.ndarray]] = []
        for i, im in enumerate(sharp):
            target = center_crop(im.image, crop)
            for j, sigma in enumerate(sigmas):
                rng = np.random.default_rng([seed, i, j])
                blurry = fixed_gaussian_degradation(float(sigma), noise_sigma).apply(target, rng)
                self.items.append((f"{im.name}@sigma{sigma:g}", blurry, target))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor | str]:
        name, x, y = self.items[i]
        return {"input": torch.from_numpy(x[None].copy()), "target": torch.from_numpy(y[None].copy()),
                "mask": torch.ones((1,) + y.shape), "name": name, "group": "synthetic"}
