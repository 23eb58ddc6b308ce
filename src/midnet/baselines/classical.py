"""Classical (non-learned) deblurring baselines, exposed with the same interface as the networks.

Why: the paper's comparison asks how much a network gains over what a microscopist could do
with standard tools. Every method here is a thin wrapper around scikit-image (unsharp mask,
Wiener, Richardson–Lucy, unsupervised Wiener). The free parameters (Gaussian PSF width σ,
Wiener balance, RL iteration count, unsharp radius/amount) are *fitted on training pairs* by a
small exhaustive grid search maximising mean PSNR, so the baselines get the same data the
networks get and no hand tuning on the test set.

Interface (the `Restorer` protocol): `method(image)` takes a float (H, W) array in [0, 1] and
returns a float (H, W) array in [0, 1]; `method.fit(pairs)` takes (blurry, sharp) float pairs and
returns the method. Networks are scored through `midnet.evaluation` (the `Deblurrer` path), and
so are these methods (`midnet.evaluation.restore_with`), under the same rule.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

import numpy as np
from skimage import filters, restoration

from midnet.psf.kernels import gaussian_kernel

Pair = tuple[np.ndarray, np.ndarray]

#: the baselines' Gaussian PSF is cut at ±3σ (not the training data's 4σ), so that the fitted
#: baselines' published numbers stay reproducible
TRUNCATE = 3.0
#: σ of the Gaussian PSF in pixels: geometric steps of √2 from 0.5 to 16 (SEM defocus spans it)
SIGMA_GRID: tuple[float, ...] = tuple(float(s) for s in 0.5 * np.sqrt(2.0) ** np.arange(11))


@runtime_checkable
class Restorer(Protocol):
    """Anything that restores a grey float image; networks and classical methods alike."""

    name: str

    def __call__(self, image: np.ndarray) -> np.ndarray: ...

    def fit(self, pairs: Sequence[Pair]) -> "Restorer": ...


def psnr_float(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two float images in [0, 1] (continuous; used only as the fitting objective)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def _check_image(image: np.ndarray, who: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"{who}: expected a grey (H, W) image, got shape {image.shape}; "
                         f"restore colour channels one at a time")
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"{who}: expected a float image in [0, 1], got {image.dtype}; "
                         f"convert with midnet.io.to_float")
    return image.astype(np.float64, copy=False)


def _reflect_padded(fn: Callable[[np.ndarray], np.ndarray], image: np.ndarray, pad: int) -> np.ndarray:
    """Run an FFT/convolution method on a reflect-padded image and crop back.

    Why: Wiener filtering assumes a periodic image and RL a zero surround; both ring at the
    borders. Mirroring by the PSF size moves those artefacts out of the kept area.
    """
    pad = min(pad, image.shape[0] - 1, image.shape[1] - 1)
    if pad <= 0:
        return fn(image)
    out = fn(np.pad(image, pad, mode="reflect"))
    return out[pad:-pad, pad:-pad]


def fitting_patches(pairs: Sequence[Pair], *, patch: int = 256, max_patches: int = 8) -> list[Pair]:
    """Up to `max_patches` aligned (blurry, sharp) patches spread evenly over the pairs.

    Why: the grid search evaluates every parameter combination; a few patches from every pair
    keep it to seconds while still seeing every source image.
    """
    if not pairs:
        raise ValueError("fit: no training pairs given; pass a list of (blurry, sharp) float images")
    candidates: list[Pair] = []
    per_pair = max(1, math.ceil(max_patches / len(pairs)))
    for i, (blurry, sharp) in enumerate(pairs):
        blurry = _check_image(blurry, f"fit pair {i} (blurry)")
        sharp = _check_image(sharp, f"fit pair {i} (sharp)")
        if blurry.shape != sharp.shape:
            raise ValueError(f"fit pair {i}: blurry {blurry.shape} and sharp {sharp.shape} differ in shape")
        h, w = blurry.shape
        ph, pw = min(patch, h), min(patch, w)
        rows = np.linspace(0, h - ph, num=max(1, math.ceil(math.sqrt(per_pair)))).astype(int)
        cols = np.linspace(0, w - pw, num=max(1, math.ceil(per_pair / len(rows)))).astype(int)
        for y, x in itertools.islice(itertools.product(rows, cols), per_pair):
            candidates.append((blurry[y:y + ph, x:x + pw], sharp[y:y + ph, x:x + pw]))
    step = len(candidates) / min(max_patches, len(candidates))
    return [candidates[int(k * step)] for k in range(min(max_patches, len(candidates)))]


@dataclass
class GridFittedMethod:
    """Base: a restoration function of the image and named parameters, plus a fitting grid."""

    name: str = ""
    grid: dict[str, Sequence[Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    patch: int = 256
    max_patches: int = 8
    fitted: bool = False
    #: mean training PSNR of every grid point, filled by `fit` (for reports and plots)
    scores: dict[tuple, float] = field(default_factory=dict, repr=False)

    def restore(self, image: np.ndarray, **params: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, image: np.ndarray) -> np.ndarray:
        image = _check_image(image, self.name)
        return np.clip(self.restore(image, **self.params), 0.0, 1.0)

    def fit(self, pairs: Sequence[Pair]) -> "GridFittedMethod":
        """Pick the grid point with the best mean PSNR on patches of `pairs`; returns self."""
        patches = fitting_patches(pairs, patch=self.patch, max_patches=self.max_patches)
        keys = list(self.grid)
        self.scores = {}
        for values in itertools.product(*(self.grid[k] for k in keys)):
            candidate = dict(zip(keys, values))
            restored = (np.clip(self.restore(b, **candidate), 0, 1) for b, _ in patches)
            self.scores[values] = float(np.mean([psnr_float(r, s) for r, (_, s) in zip(restored, patches)]))
        best = max(self.scores, key=self.scores.get)
        self.params = dict(zip(keys, best))
        self.fitted = True
        return self

    def at_grid_edge(self) -> list[str]:
        """Fitted parameters that landed on the first or last grid value (the optimum may lie
        outside the grid; worth reporting next to the numbers)."""
        return [k for k, v in self.params.items()
                if len(self.grid.get(k, ())) > 1 and v in (self.grid[k][0], self.grid[k][-1])]

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.params.items())
        edge = self.at_grid_edge() if self.fitted else []
        notes = ("" if self.fitted else ", not fitted") + (f"; at grid edge: {', '.join(edge)}" if edge else "")
        return f"{self.name} ({shown}{notes})"


@dataclass
class UnsharpMask(GridFittedMethod):
    """skimage.filters.unsharp_mask: image + amount·(image − Gaussian(image, radius))."""

    name: str = "unsharp-mask"
    grid: dict[str, Sequence[Any]] = field(default_factory=lambda: {
        "radius": (0.5, 1.0, 2.0, 4.0, 8.0, 16.0), "amount": (0.25, 0.5, 1.0, 2.0, 4.0)})
    params: dict[str, Any] = field(default_factory=lambda: {"radius": 2.0, "amount": 1.0})

    def restore(self, image: np.ndarray, *, radius: float, amount: float) -> np.ndarray:
        return filters.unsharp_mask(image, radius=radius, amount=amount, preserve_range=True)


@dataclass
class Wiener(GridFittedMethod):
    """skimage.restoration.wiener with a Gaussian PSF (σ) and Laplacian regularisation (balance).

    The balance grid reaches 1000 because on the real SEM pairs the fit keeps preferring
    stronger regularisation (the filter then mainly denoises the noisier blurry capture).
    """

    name: str = "wiener"
    grid: dict[str, Sequence[Any]] = field(default_factory=lambda: {
        "sigma": SIGMA_GRID, "balance": (0.001, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)})
    params: dict[str, Any] = field(default_factory=lambda: {"sigma": 2.0, "balance": 0.03})

    def restore(self, image: np.ndarray, *, sigma: float, balance: float) -> np.ndarray:
        psf = gaussian_kernel(sigma, truncate=TRUNCATE)
        return _reflect_padded(lambda im: restoration.wiener(im, psf, balance, clip=False), image, psf.shape[0])


@dataclass
class RichardsonLucy(GridFittedMethod):
    """skimage.restoration.richardson_lucy with a Gaussian PSF (σ) and an iteration count."""

    name: str = "richardson-lucy"
    grid: dict[str, Sequence[Any]] = field(default_factory=lambda: {
        "sigma": SIGMA_GRID, "num_iter": (1, 2, 4, 8, 16, 32)})
    params: dict[str, Any] = field(default_factory=lambda: {"sigma": 2.0, "num_iter": 10})

    def restore(self, image: np.ndarray, *, sigma: float, num_iter: int) -> np.ndarray:
        psf = gaussian_kernel(sigma, truncate=TRUNCATE)
        # RL needs positive data: a tiny floor keeps the ratio finite on black pixels
        return _reflect_padded(
            lambda im: restoration.richardson_lucy(np.maximum(im, 1e-6), psf, num_iter=int(num_iter), clip=False),
            image, psf.shape[0])


@dataclass
class UnsupervisedWiener(GridFittedMethod):
    """skimage.restoration.unsupervised_wiener: Wiener with noise and prior estimated per image
    by a Gibbs sampler; only the Gaussian PSF width σ is fitted. Seeded, so repeatable."""

    name: str = "unsupervised-wiener"
    grid: dict[str, Sequence[Any]] = field(default_factory=lambda: {"sigma": SIGMA_GRID})
    params: dict[str, Any] = field(default_factory=lambda: {"sigma": 2.0})
    seed: int = 0

    def restore(self, image: np.ndarray, *, sigma: float) -> np.ndarray:
        psf = gaussian_kernel(sigma, truncate=TRUNCATE)

        def run(im: np.ndarray) -> np.ndarray:
            out, _ = restoration.unsupervised_wiener(im, psf, clip=False, rng=np.random.default_rng(self.seed))
            return out

        return _reflect_padded(run, image, psf.shape[0])


def classical_methods(*, max_patches: int = 8, patch: int = 256) -> dict[str, GridFittedMethod]:
    """The classical baselines by name, unfitted (call `.fit(pairs)` on each before use)."""
    methods: list[GridFittedMethod] = [UnsharpMask(), Wiener(), RichardsonLucy(), UnsupervisedWiener()]
    for m in methods:
        m.max_patches, m.patch = max_patches, patch
    return {m.name: m for m in methods}
