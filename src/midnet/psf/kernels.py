"""The one definition of midnet's PSF families, their widths, kernels, transfer functions and syntax.

Families (what an SEM column produces when the probe is not focused on the specimen):

- ``gaussian``: an isotropic Gaussian probe, width σ.
- ``astigmatic``: an elliptical Gaussian, σ along the major axis, σ_minor along the minor one,
  the major axis at ``angle_deg`` (degrees counter-clockwise from the image's horizontal axis,
  as the image is displayed: x to the right, y up; kept in [0, 180)).
- ``lorentzian``: the heavy-tailed 2-D Cauchy profile ``(1 + r²/γ²)^(-3/2)`` that commercial
  SEM deconvolution uses for the beam.
- ``disc``: the flat disc of geometric defocus, radius R.
- ``none``: no blur (identity), the answer for "this image is in focus".

**σ-equivalent width.** One number, ``sigma_px``, says how wide a PSF is, whatever its family:
*the σ of the Gaussian whose MTF falls to one half at the same spatial frequency* (the MTF50
match). Why this one: the second moment of the Lorentzian is infinite (a truncated kernel's
depends on where it is cut, e.g. 1.75 γ at 6 γ but 2.6 γ at 20 γ) and its FWHM ignores the
skirt that blurs, whereas MTF50 is finite for every family, does not depend on truncation, and
is what a deconvolution or a spectrum-based estimator sees. From the analytic OTFs:

- Gaussian: MTF = exp(-2π²σ²f²), so σ-equivalent = σ.
- Lorentzian: MTF = exp(-2πγ|f|), so σ-equivalent = γ·√(2/ln 2) ≈ 1.699 γ (close to the 1.75 γ
  second-moment rule the training data used, `midnet.data.defocus.psf_for_width`).
- disc: MTF = 2 J₁(2πRf)/(2πRf), so σ-equivalent ≈ 0.5315 R (the second moment gives R/2).
- astigmatic: per axis, so ``sigma_px`` is the major-axis σ and ``sigma_minor_px`` the minor.

Syntax (``--psf`` and the CLI output): ``gaussian:2.0``, ``astigmatic:2.5,1.2,30`` (major σ,
minor σ, angle in degrees), ``lorentzian:1.5`` (σ-equivalent), ``disc:3`` (radius R in px, as
microscopists state a defocus disc), ``none``. `PSF.parse` and `str(PSF)` are inverses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

Family = Literal["gaussian", "astigmatic", "lorentzian", "disc", "none"]
FAMILIES: tuple[str, ...] = ("gaussian", "astigmatic", "lorentzian", "disc", "none")

#: Lorentzian: σ-equivalent per γ (MTF50 match: exp(-2πγf) = 1/2 where exp(-2π²σ²f²) = 1/2)
LORENTZ_SIGMA_PER_GAMMA = math.sqrt(2.0 / math.log(2.0))
#: first zero-crossing-free solution of 2·J1(x)/x = 1/2 (x = 2πRf at the disc's MTF50)
_DISC_X50 = 2.215191
#: disc: σ-equivalent per radius R (MTF50 match)
DISC_SIGMA_PER_RADIUS = math.sqrt(math.log(2.0) / 2.0) * 2.0 / _DISC_X50
#: share of the Lorentzian's energy a default kernel keeps (its tail beyond falls off as 1/r)
LORENTZ_KEPT_ENERGY = 0.98
#: the default Lorentzian kernel's half size per γ: energy inside r is 1 - γ/√(r² + γ²)
LORENTZ_RADIUS_PER_GAMMA = math.sqrt(1.0 / (1.0 - LORENTZ_KEPT_ENERGY) ** 2 - 1.0)
#: anti-aliasing of the disc: each pixel is the mean of SUB×SUB point samples
DISC_SUPERSAMPLING = 8


def _fmt(x: float) -> str:
    """Shortest round-trip-safe text of a width or angle (at most 4 decimals, no trailing zeros)."""
    return f"{round(float(x), 4):g}"


@dataclass(frozen=True)
class PSF:
    """A PSF by family and σ-equivalent width (see the module docstring for the definition).

    ``sigma_minor_px`` defaults to ``sigma_px`` (isotropic); only ``astigmatic`` uses it and
    ``angle_deg``. ``none`` has width 0.
    """

    family: Family = "gaussian"
    sigma_px: float = 0.0
    sigma_minor_px: float | None = None
    angle_deg: float = 0.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown PSF family {self.family!r}; choose from {', '.join(FAMILIES)}")
        minor = self.sigma_px if self.sigma_minor_px is None else float(self.sigma_minor_px)
        if self.family == "none":
            object.__setattr__(self, "sigma_px", 0.0)
            minor = 0.0
        elif not (math.isfinite(self.sigma_px) and self.sigma_px > 0 and math.isfinite(minor) and minor > 0):
            raise ValueError(f"{self.family} PSF: widths must be finite and > 0, got {self.sigma_px}, {minor}")
        if self.family == "astigmatic" and minor > self.sigma_px:
            raise ValueError(f"astigmatic PSF: the major σ ({self.sigma_px}) must be ≥ the minor ({minor}); "
                             "swap them and turn the angle by 90°")
        if self.family != "astigmatic":
            minor = self.sigma_px
        object.__setattr__(self, "sigma_px", float(self.sigma_px))
        object.__setattr__(self, "sigma_minor_px", minor)
        object.__setattr__(self, "angle_deg", float(self.angle_deg) % 180.0 if self.family == "astigmatic" else 0.0)

    # ---- family parameters ------------------------------------------------------------------

    @property
    def gamma(self) -> float:
        """The Lorentzian's γ (its half width at ``(1+1)^(-3/2)``) for this σ-equivalent."""
        return self.sigma_px / LORENTZ_SIGMA_PER_GAMMA

    @property
    def radius(self) -> float:
        """The disc's radius R for this σ-equivalent."""
        return self.sigma_px / DISC_SIGMA_PER_RADIUS

    @classmethod
    def disc(cls, radius: float) -> "PSF":
        return cls("disc", radius * DISC_SIGMA_PER_RADIUS)

    @classmethod
    def lorentzian(cls, gamma: float) -> "PSF":
        return cls("lorentzian", gamma * LORENTZ_SIGMA_PER_GAMMA)

    # ---- syntax -----------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> "PSF":
        """``gaussian:2.0``, ``astigmatic:2.5,1.2,30``, ``lorentzian:1.5``, ``disc:3`` or ``none``.

        A bare number is a Gaussian σ. Errors are one line saying what is expected.
        """
        spec = str(text).strip().lower()
        if spec in ("none", "0"):
            return cls("none")
        family, _, args = spec.partition(":")
        if not args and _is_number(family):
            family, args = "gaussian", family
        expected = {"gaussian": 1, "lorentzian": 1, "disc": 1, "astigmatic": 3}
        example = {"gaussian": "gaussian:2.0", "lorentzian": "lorentzian:1.5", "disc": "disc:3",
                   "astigmatic": "astigmatic:2.5,1.2,30 (major σ, minor σ, angle in degrees)"}
        if family not in expected:
            raise ValueError(f"{text!r}: unknown PSF; use none, gaussian:σ, astigmatic:major,minor,angle, "
                             f"lorentzian:σ or disc:radius")
        try:
            values = [float(v) for v in args.split(",")] if args else []
        except ValueError:
            values = []
        if len(values) != expected[family] or not all(math.isfinite(v) for v in values):
            raise ValueError(f"{text!r}: expected {example[family]}")
        try:
            if family == "disc":
                return cls.disc(values[0])
            if family == "astigmatic":
                return cls("astigmatic", values[0], values[1], values[2])
            return cls(family, values[0])  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None

    def __str__(self) -> str:
        if self.family == "none":
            return "none"
        if self.family == "disc":
            return f"disc:{_fmt(self.radius)}"
        if self.family == "astigmatic":
            return f"astigmatic:{_fmt(self.sigma_px)},{_fmt(self.sigma_minor_px or 0)},{_fmt(self.angle_deg)}"
        return f"{self.family}:{_fmt(self.sigma_px)}"

    # ---- rendering --------------------------------------------------------------------------

    def default_radius(self) -> int:
        """Half size of `kernel`: 4σ (Gaussian), where 98 % of the Lorentzian's energy lies, R + 1."""
        if self.family == "none":
            return 0
        if self.family == "lorentzian":
            return max(2, math.ceil(self.gamma * LORENTZ_RADIUS_PER_GAMMA))
        if self.family == "disc":
            return math.ceil(self.radius + 0.5)
        return max(1, math.ceil(4.0 * self.sigma_px))

    def kernel(self, radius: int | None = None, truncate: float | None = None) -> np.ndarray:
        """The PSF sampled on a (2r+1)² grid, normalised to sum 1 (float64).

        ``radius`` (px) or ``truncate`` (in units of the major σ, Gaussian families only, as
        `scipy.ndimage.gaussian_filter` counts it) set the size; default `default_radius`.
        """
        if radius is None:
            radius = (max(1, math.ceil(truncate * self.sigma_px)) if truncate is not None
                      else self.default_radius())
        r = np.arange(-radius, radius + 1, dtype=np.float64)
        yy, xx = np.meshgrid(r, r, indexing="ij")
        if self.family == "none":
            k = (yy == 0) & (xx == 0)
        elif self.family in ("gaussian", "astigmatic"):
            u, v = self._axes(yy, xx)
            k = np.exp(-0.5 * ((u / self.sigma_px) ** 2 + (v / float(self.sigma_minor_px)) ** 2))
        elif self.family == "lorentzian":
            k = self._bandlimited(radius)
        else:
            k = _disc(self.radius, radius)
        k = np.asarray(k, dtype=np.float64)
        return k / k.sum()

    def _bandlimited(self, radius: int) -> np.ndarray:
        """The kernel as the inverse FFT of the analytic MTF, cropped to ``radius``.

        Why for the Lorentzian: point samples of its sub-pixel-wide peak put far too much
        weight on the centre pixel (σ = 1 would render about 25 % sharper than it is); the
        band-limited kernel has the continuous PSF's transfer function up to Nyquist.
        """
        n = 2 * (2 * radius + 1)
        k = np.fft.fftshift(np.real(np.fft.ifft2(self.otf((n, n)))))
        c = n // 2
        return np.maximum(k[c - radius:c + radius + 1, c - radius:c + radius + 1], 0.0)

    def _axes(self, yy: np.ndarray, xx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates along the major and minor axes for row offsets ``yy``, column offsets ``xx``.

        The major axis points (cos θ, sin θ) in (x right, y up), i.e. (row, col) = (-sin θ, cos θ).
        """
        t = math.radians(self.angle_deg)
        return -math.sin(t) * yy + math.cos(t) * xx, math.cos(t) * yy + math.sin(t) * xx

    def mtf(self, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
        """The continuous PSF's transfer function at frequencies (cycles/px; real, the PSFs are even)."""
        fy, fx = np.asarray(fy, np.float64), np.asarray(fx, np.float64)
        if self.family == "none":
            return np.ones(np.broadcast(fy, fx).shape)
        if self.family in ("gaussian", "astigmatic"):
            fu, fv = self._axes(fy, fx)
            return np.exp(-2 * math.pi**2 * ((self.sigma_px * fu) ** 2 + (float(self.sigma_minor_px) * fv) ** 2))
        f = np.hypot(fy, fx)
        if self.family == "lorentzian":
            return np.exp(-2 * math.pi * self.gamma * f)
        x = 2 * math.pi * self.radius * f
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(x > 1e-8, 2 * special.j1(x) / np.where(x > 1e-8, x, 1.0), 1.0)
        return out

    def otf(self, shape: tuple[int, int]) -> np.ndarray:
        """The transfer function on the ``numpy.fft.fft2`` grid of an image of ``shape`` (real)."""
        fy = np.fft.fftfreq(shape[0])[:, None]
        fx = np.fft.fftfreq(shape[1])[None, :]
        return self.mtf(fy, fx)

    def blur(self, image: np.ndarray) -> np.ndarray:
        """``image`` blurred by this PSF: reflect-padded by `default_radius`, multiplied by `otf`.

        Exact for the continuous PSF (band-limited), with no kernel truncation, which matters
        for the Lorentzian's skirt."""
        image = np.asarray(image, dtype=np.float64)
        if self.family == "none":
            return image.copy()
        r = min(self.default_radius(), *image.shape)
        padded = np.pad(image, r, mode="symmetric")
        out = np.real(np.fft.ifft2(np.fft.fft2(padded) * self.otf(padded.shape)))
        return out[r:r + image.shape[0], r:r + image.shape[1]]


def gaussian_kernel(sigma_y: float, sigma_x: float | None = None, theta: float = 0.0, *,
                    truncate: float) -> np.ndarray:
    """The one Gaussian kernel: axis widths (σ_y, σ_x) rotated by ``theta`` radians, cut at
    ±``truncate`` σ of the wider axis, normalised to sum 1 (float64).

    ``theta`` = 0 puts σ_y along the rows (90° in `PSF`'s angle convention). The cut is the
    caller's, and stated: synthetic defocus cuts at 4σ (second moment within 0.1 % of σ²) and the
    fitted classical baselines at 3σ, which their published numbers were measured with.
    """
    sigma_x = sigma_y if sigma_x is None else sigma_x
    if min(sigma_y, sigma_x) <= 0:
        raise ValueError(f"gaussian kernel: widths must be > 0, got {sigma_y}, {sigma_x}")
    if sigma_y == sigma_x:
        psf = PSF("gaussian", sigma_y)
    elif sigma_y > sigma_x:
        psf = PSF("astigmatic", sigma_y, sigma_x, math.degrees(theta) - 90.0)
    else:
        psf = PSF("astigmatic", sigma_x, sigma_y, math.degrees(theta))
    return psf.kernel(truncate=truncate)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _disc(radius: float, half: int, sub: int = DISC_SUPERSAMPLING) -> np.ndarray:
    """A flat disc anti-aliased by ``sub``×``sub`` supersampling of each pixel."""
    r = (np.arange(-half * sub, (half + 1) * sub) + 0.5) / sub - 0.5
    yy, xx = np.meshgrid(r, r, indexing="ij")
    inside = (yy**2 + xx**2 <= radius**2).astype(np.float64)
    n = 2 * half + 1
    return inside.reshape(n, sub, n, sub).mean(axis=(1, 3))


def mtf50_sigma(kernel: np.ndarray, size: int = 512) -> float:
    """The σ-equivalent of a sampled kernel, measured: MTF50 of its radially averaged spectrum.

    For checks and for kernels from elsewhere (a measured probe): pads to ``size``, takes
    |FFT|, averages it over rings and finds where it first falls below 1/2.
    """
    k = np.asarray(kernel, np.float64)
    k = k / k.sum()
    size = max(size, 4 * k.shape[0])
    padded = np.zeros((size, size))
    padded[:k.shape[0], :k.shape[1]] = k
    m = np.abs(np.fft.fft2(padded))
    f = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :])
    edges = np.arange(0, 0.5, 1.0 / size)
    idx = np.digitize(f.ravel(), edges)
    ring = np.bincount(idx, weights=m.ravel(), minlength=len(edges) + 1)[1:len(edges) + 1]
    counts = np.bincount(idx, minlength=len(edges) + 1)[1:len(edges) + 1]
    centres = edges + 0.5 / size
    mtf = ring / np.maximum(counts, 1)
    below = np.nonzero(mtf < 0.5)[0]
    if below.size == 0:
        return 0.0
    i = int(below[0])
    f50 = np.interp(0.5, [mtf[i], mtf[i - 1]], [centres[i], centres[i - 1]]) if i else centres[0]
    return math.sqrt(math.log(2.0) / 2.0) / (math.pi * f50)
