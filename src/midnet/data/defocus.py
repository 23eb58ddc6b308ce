"""Realistic synthetic SEM defocus: turn a sharp micrograph into the capture a defocused SEM makes.

Why each step exists (the published real pairs show all of them, see
``scripts/calibrate_defocus.py`` and ``docs/models/sem-general.md``):

1. **PSF.** A defocused probe spreads into a blob whose profile depends on the column:
   isotropic or astigmatic (elliptical, any angle) Gaussian, the heavy-tailed Lorentzian (Cauchy)
   profile that commercial SEM deconvolution uses for the beam, a flat defocus disc, or a
   mixture of a sharp core and a wide skirt. Widths go from "nothing to undo" to about 6 px,
   measured as the σ-equivalent (root of the per-axis second moment of the truncated kernel).
2. **Contrast.** Secondary-electron yield changes with focus and the operator re-adjusts
   brightness/contrast: a gain, an offset and a gamma change between the two captures. With
   ``contrast_in_target`` the target gets the same change, so that the network learns many
   contrasts without learning to re-grade images.
3. **Noise.** Poisson–Gaussian: variance ``a·x + b`` (shot noise of the collected electrons plus
   the detector/amplifier's read noise); optionally scan-line offsets and row jitter as fast
   scans show them.
4. **Quantisation** to 8, 12 or 16 bits, as the microscope stores the frame.
5. **In-focus samples.** A share of samples gets no blur and no contrast change at all (only
   light noise), with the clean image as the target, so that a network learns to leave in-focus
   images alone; a few flat (constant) samples teach it to keep black black.

Everything is drawn from a ``numpy.random.Generator`` the caller seeds, so a sample is a pure
function of its seed (resumable training, reproducible validation sets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import ndimage, signal

from midnet.psf.kernels import gaussian_kernel

PSF_FAMILIES = ("gaussian", "astigmatic", "lorentzian", "disc", "mixture")
#: Gaussian kernels of the training data are cut at ±4σ (`midnet.psf.kernels.gaussian_kernel`)
TRUNCATE = 4.0


# ---- PSFs -------------------------------------------------------------------------------------

def _grid(radius: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.arange(-radius, radius + 1, dtype=np.float64)
    return np.meshgrid(r, r, indexing="ij")


def _normalised(k: np.ndarray) -> np.ndarray:
    return (k / k.sum()).astype(np.float32)


def lorentzian_psf(gamma: float, radius: int | None = None) -> np.ndarray:
    """2-D Cauchy (Lorentzian) beam profile ``1 / (1 + r²/γ²)^{3/2}``, truncated and normalised.

    Its tails are heavy: most of the energy sits in a core of width ~γ, a skirt reaches far. The
    truncation radius defaults to 6γ (at least 2 px)."""
    if gamma <= 0:
        raise ValueError(f"lorentzian_psf: gamma must be > 0, got {gamma}")
    radius = radius or max(2, math.ceil(6 * gamma))
    yy, xx = _grid(radius)
    return _normalised((1.0 + (yy**2 + xx**2) / gamma**2) ** -1.5)


def disc_psf(radius: float) -> np.ndarray:
    """A flat defocus disc of ``radius`` px, anti-aliased by 8×8 supersampling; sums to 1."""
    if radius <= 0:
        raise ValueError(f"disc_psf: radius must be > 0, got {radius}")
    half = math.ceil(radius + 0.5)
    sub = 8
    r = (np.arange(-half * sub, (half + 1) * sub) + 0.5) / sub - 0.5
    yy, xx = np.meshgrid(r, r, indexing="ij")
    inside = (yy**2 + xx**2 <= radius**2).astype(np.float64)
    n = 2 * half + 1
    k = inside.reshape(n, sub, n, sub).mean(axis=(1, 3))
    return _normalised(k)


def psf_sigma(kernel: np.ndarray) -> float:
    """σ-equivalent width: root of the mean per-axis second moment of a normalised kernel."""
    k = kernel.astype(np.float64) / kernel.sum()
    radius = (k.shape[0] - 1) / 2
    r = np.arange(k.shape[0]) - radius
    var_y = float((k.sum(axis=1) * r**2).sum())
    var_x = float((k.sum(axis=0) * r**2).sum())
    return math.sqrt((var_y + var_x) / 2)


def _pad_to(k: np.ndarray, size: int) -> np.ndarray:
    p = (size - k.shape[0]) // 2
    return np.pad(k, p)


def mixture_psf(core_sigma: float, skirt_sigma: float, skirt_weight: float) -> np.ndarray:
    """A sharp Gaussian core plus a wide Gaussian skirt (a probe with a halo), weight of the skirt."""
    core, skirt = (gaussian_kernel(s, truncate=TRUNCATE).astype(np.float32) for s in (core_sigma, skirt_sigma))
    size = max(core.shape[0], skirt.shape[0])
    return _normalised((1 - skirt_weight) * _pad_to(core, size) + skirt_weight * _pad_to(skirt, size))


def _disc_sigma_per_radius() -> float:
    # a uniform disc of radius R has per-axis variance R²/4, so σ = R/2
    return 0.5


def psf_for_width(family: str, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """A PSF of ``family`` whose σ-equivalent is about ``sigma`` px (shape parameters from ``rng``).

    Lorentzian: the truncated profile has no closed-form second moment, so γ is set from a
    measured ratio (σ ≈ 1.75 γ at 6γ truncation; ``psf_sigma`` checks it in the tests)."""
    rng = rng or np.random.default_rng(0)
    if family == "gaussian":
        return gaussian_kernel(sigma, truncate=TRUNCATE).astype(np.float32)
    if family == "astigmatic":
        ratio = float(rng.uniform(1.2, 2.0))  # major/minor axis
        minor = sigma * math.sqrt(2 / (1 + ratio**2))
        theta = float(rng.uniform(0, math.pi))
        return gaussian_kernel(minor * ratio, minor, theta, truncate=TRUNCATE).astype(np.float32)
    if family == "lorentzian":
        return lorentzian_psf(max(0.15, sigma / _LORENTZ_SIGMA_PER_GAMMA))
    if family == "disc":
        return disc_psf(max(0.6, sigma / _disc_sigma_per_radius()))
    if family == "mixture":
        weight = float(rng.uniform(0.15, 0.4))
        core = sigma * float(rng.uniform(0.4, 0.8))
        # choose the skirt so that the mixture's variance equals sigma²
        skirt = math.sqrt(max(core**2, (sigma**2 - (1 - weight) * core**2) / weight))
        return mixture_psf(core, skirt, weight)
    raise ValueError(f"unknown PSF family {family!r}; choose from {', '.join(PSF_FAMILIES)}")


_LORENTZ_SIGMA_PER_GAMMA = 1.75


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve a 2-D image with ``kernel`` (reflect-padded, same size, FFT for large kernels)."""
    if kernel.shape[0] <= 9:
        return ndimage.convolve(image, kernel, mode="reflect").astype(np.float32)
    r = kernel.shape[0] // 2
    padded = np.pad(image, r, mode="reflect")
    return signal.fftconvolve(padded, kernel, mode="valid").astype(np.float32)


# ---- noise, contrast, quantisation --------------------------------------------------------------

def poisson_gaussian_noise(x: np.ndarray, rng: np.random.Generator, *, gain: float, read_sigma: float) -> np.ndarray:
    """Add noise of variance ``gain·x + read_sigma²`` (Gaussian approximation of Poisson–Gaussian)."""
    std = np.sqrt(np.maximum(gain * np.clip(x, 0, None), 0) + read_sigma**2)
    return (x + std * rng.standard_normal(x.shape)).astype(np.float32)


def noise_model(noise_sigma: Any, shot_fraction: Any) -> tuple[Any, Any]:
    """(shot gain, read σ) of Poisson–Gaussian noise whose total σ at mid-grey is ``noise_sigma``.

    ``noise_sigma`` is in 8-bit grey levels, the results in [0, 1] units: the shot variance
    gain·x equals ``shot_fraction`` of the total at x = 0.5, the read noise carries the rest.
    Plain arithmetic, so floats, numpy arrays and torch tensors alike (the batch degradation in
    `midnet.data.degrade_torch` uses this same definition)."""
    total_var = (noise_sigma / 255.0) ** 2
    return 2.0 * shot_fraction * total_var, ((1 - shot_fraction) * total_var) ** 0.5


def scan_line_artifacts(x: np.ndarray, rng: np.random.Generator, *, offset_sigma: float,
                        jitter_px: float) -> np.ndarray:
    """Per-row brightness offsets and sub-pixel horizontal row jitter, as fast SEM scans show."""
    out = x
    if jitter_px > 0:
        shifts = rng.normal(0, jitter_px, size=x.shape[0])
        cols = np.arange(x.shape[1], dtype=np.float64)
        out = np.stack([np.interp(cols - s, cols, row) for row, s in zip(out, shifts)])
    if offset_sigma > 0:
        out = out + rng.normal(0, offset_sigma, size=(x.shape[0], 1))
    return out.astype(np.float32)


def adjust_contrast(x: np.ndarray, *, gain: float, offset: float, gamma: float) -> np.ndarray:
    """``gain · x^gamma + offset`` on [0, 1] data (gamma on the clipped image)."""
    return (gain * np.power(np.clip(x, 0, 1), gamma) + offset).astype(np.float32)


def quantise(x: np.ndarray, bits: int) -> np.ndarray:
    """Clip to [0, 1] and round to ``bits`` bits, returned as float in [0, 1]."""
    levels = float(2**bits - 1)
    return (np.rint(np.clip(x, 0, 1) * levels) / levels).astype(np.float32)


# ---- the sampled degradation ------------------------------------------------------------------

@dataclass
class DefocusRanges:
    """The ranges a training degradation is drawn from (documented in docs/models/sem-general.md).

    Noise levels are in 8-bit grey levels (σ of the Gaussian part at mid-grey) because that is how
    microscopists read them; the real published blurry captures have σ ≈ 6, the sharp ones ≈ 2.
    """

    sigma: tuple[float, float] = (0.3, 6.0)       # σ-equivalent PSF width range, px
    sigma_power: float = 0.7                      # <1 puts more samples at small widths
    families: dict[str, float] = field(default_factory=lambda: {
        "gaussian": 0.35, "astigmatic": 0.2, "lorentzian": 0.2, "disc": 0.1, "mixture": 0.15})
    in_focus_fraction: float = 0.15               # samples with no blur and no contrast change
    flat_fraction: float = 0.02                   # constant images (black level, flat areas)
    noise_sigma: tuple[float, float] = (0.0, 9.0)  # total noise σ at mid-grey, 8-bit levels
    in_focus_noise_sigma: tuple[float, float] = (0.0, 3.0)
    shot_fraction: tuple[float, float] = (0.0, 0.9)  # share of the noise variance that is shot noise
    gain: tuple[float, float] = (0.85, 1.15)
    offset: tuple[float, float] = (-0.06, 0.06)
    gamma: tuple[float, float] = (0.85, 1.18)
    contrast_fraction: float = 0.6                # share of blurred samples with a contrast change
    # apply the contrast change to the target too: the network then sees many contrasts but is
    # not asked to undo a global brightness/contrast change, which one image cannot identify
    # (asked to, it re-grades in-focus images as well)
    contrast_in_target: bool = False
    scan_fraction: float = 0.15                   # share with scan-line offsets / row jitter
    scan_offset_sigma: tuple[float, float] = (0.0, 2.0)   # 8-bit levels
    scan_jitter_px: tuple[float, float] = (0.0, 0.3)
    bits: dict[int, float] = field(default_factory=lambda: {8: 0.7, 12: 0.15, 16: 0.15})

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "DefocusRanges":
        """Defaults updated by ``values``; an unknown key is an error naming the known ones."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise KeyError(f"unknown degradation setting(s) {unknown}; known: {sorted(known)}")
        for key in ("sigma", "noise_sigma", "in_focus_noise_sigma", "shot_fraction", "gain", "offset",
                    "gamma", "scan_offset_sigma", "scan_jitter_px"):
            if key in values:
                values[key] = tuple(float(v) for v in values[key])
        if "bits" in values:
            values["bits"] = {int(k): float(v) for k, v in values["bits"].items()}
        out = cls(**values)
        bad = [f for f in out.families if f not in PSF_FAMILIES]
        if bad:
            raise ValueError(f"unknown PSF families {bad}; choose from {PSF_FAMILIES}")
        return out


@dataclass
class Degradation:
    """One concrete degradation: everything needed to apply it again and to describe it."""

    kind: str = "blur"                  # blur | in_focus | flat
    family: str = "gaussian"
    sigma: float = 0.0
    kernel: np.ndarray | None = None
    noise_sigma: float = 0.0            # 8-bit levels at mid-grey
    shot_fraction: float = 0.0
    gain: float = 1.0
    offset: float = 0.0
    gamma: float = 1.0
    scan_offset_sigma: float = 0.0
    scan_jitter_px: float = 0.0
    bits: int = 8

    def contrast(self, x: np.ndarray) -> np.ndarray:
        """The sample's gain/offset/gamma change (``x`` itself when it has none)."""
        if (self.gain, self.offset, self.gamma) == (1.0, 0.0, 1.0):
            return x
        return adjust_contrast(x, gain=self.gain, offset=self.offset, gamma=self.gamma)

    def apply(self, sharp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Degrade a float (H, W) image in [0, 1]; noise is drawn from ``rng``."""
        x = sharp.astype(np.float32)
        if self.kernel is not None:
            x = blur(x, self.kernel)
        x = self.contrast(x)
        if self.scan_offset_sigma > 0 or self.scan_jitter_px > 0:
            x = scan_line_artifacts(x, rng, offset_sigma=self.scan_offset_sigma / 255.0,
                                    jitter_px=self.scan_jitter_px)
        if self.noise_sigma > 0:
            gain, read = noise_model(self.noise_sigma, self.shot_fraction)
            x = poisson_gaussian_noise(x, rng, gain=gain, read_sigma=read)
        return quantise(x, self.bits)


def _choice(rng: np.random.Generator, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    lo, hi = lo_hi
    return float(rng.uniform(lo, hi)) if hi > lo else float(lo)


def sample_degradation(rng: np.random.Generator, ranges: DefocusRanges) -> Degradation:
    """Draw one degradation from ``ranges`` (see the module docstring for the kinds)."""
    u = float(rng.random())
    bits = int(_choice(rng, ranges.bits))
    if u < ranges.flat_fraction:
        return Degradation(kind="flat", noise_sigma=_uniform(rng, ranges.in_focus_noise_sigma), bits=bits)
    if u < ranges.flat_fraction + ranges.in_focus_fraction:
        return Degradation(kind="in_focus", noise_sigma=_uniform(rng, ranges.in_focus_noise_sigma),
                           shot_fraction=_uniform(rng, ranges.shot_fraction), bits=bits)
    lo, hi = ranges.sigma
    sigma = lo + (hi - lo) * float(rng.random()) ** (1.0 / ranges.sigma_power)
    family = str(_choice(rng, ranges.families))
    d = Degradation(kind="blur", family=family, sigma=sigma, kernel=psf_for_width(family, sigma, rng),
                    noise_sigma=_uniform(rng, ranges.noise_sigma),
                    shot_fraction=_uniform(rng, ranges.shot_fraction), bits=bits)
    if rng.random() < ranges.contrast_fraction:
        d.gain, d.offset, d.gamma = (_uniform(rng, ranges.gain), _uniform(rng, ranges.offset),
                                     _uniform(rng, ranges.gamma))
    if rng.random() < ranges.scan_fraction:
        d.scan_offset_sigma = _uniform(rng, ranges.scan_offset_sigma)
        d.scan_jitter_px = _uniform(rng, ranges.scan_jitter_px)
    return d


def degrade(sharp: np.ndarray, rng: np.random.Generator, ranges: DefocusRanges | None = None
            ) -> tuple[np.ndarray, np.ndarray, Degradation]:
    """(input, target, degradation) for one sharp float (H, W) image in [0, 1].

    The target is the sharp image itself, except for ``flat`` samples, where both become a
    constant of the image's mean (or black, one time in three)."""
    ranges = ranges or DefocusRanges()
    d = sample_degradation(rng, ranges)
    target = sharp.astype(np.float32)
    if d.kind == "flat":
        level = 0.0 if rng.random() < 1 / 3 else float(np.clip(sharp.mean(), 0, 1))
        target = np.full_like(target, level)
    x = d.apply(target, rng)
    if ranges.contrast_in_target:
        target = np.clip(d.contrast(target), 0, 1)
    return x, target, d
