"""Blur and noise of one SEM image, without a reference: PSF family and width, astigmatism, noise,
whether it is in focus, and a per-tile map of the width.

**Method: the power spectrum against a natural-image prior with a noise floor.** The
Welch-averaged power spectrum (Hann-windowed tiles, 50 % overlap) is fitted by

    P(f) = A · f^(-α) · MTF(f)² · G₀(f)² + N

with a power law for the specimen (α in [0.5, 4.5], drawn towards `ALPHA_PRIOR`), the PSF's MTF
(`PSF.mtf`), a fixed intrinsic Gaussian ``G₀`` of width `INTRINSIC_SIGMA` (even in-focus SEM
frames are not sharp to the pixel: without it, that softness is read as blur) and a white noise
floor N held near the level the noise estimate (`midnet.psf.noise`) predicts. Least squares on
log P over log-spaced radial bins, from several starting widths. Astigmatism: the same fit
on (frequency, orientation) bins with a per-orientation amplitude (specimens have oriented
structure) and ``σ²(θ) = m + d·cos 2(θ − φ)``, kept when the axis ratio is at least
`ASTIGMATIC_MIN_RATIO` (oriented specimens fake ratios up to about 1.3). Otherwise the
Lorentzian (the isotropic fit with its MTF) when it fits better than the Gaussian
(`LORENTZIAN_COST_RATIO`; compared without the α prior, see `_fit_spectrum`).

**Why the prior on α and the pinned noise floor.** Over the one to two decades of frequency
where the specimen stands above the noise, a steeper power law looks much like a blur: the
Lorentzian's ``exp(-4πγf)`` in particular is nearly a straight line in log-log there. With α
and N free, the Gaussian fit of a Lorentzian-blurred frame answered α + 0.5…1 and a third to a
half of the σ-equivalent, and the Lorentzian fit itself wandered with the specimen (its α moved
by up to ±1 as the width grew) (non-held-out sources, ``benchmarks/psf_estimation.py
--exclude-held-out``). That, not a convention mismatch, was the Lorentzian's -65 % median error
in docs/results/psf-estimation before: `PSF.mtf`, this fit, the benchmark and ``--psf
lorentzian:W`` all use the one MTF50 σ-equivalent of `midnet.psf.kernels`; frames called
Lorentzian came out near their width, frames called Gaussian reported that third. Pinning N
to the measured noise removes the floor's share of that freedom, and a soft prior on α (in-focus
frames of the non-held-out sources fit α ≈ 2.5, 1.6–2.9) makes the fit attribute extra fall-off
to the PSF unless the spectrum's shape says otherwise. The prior is heavy-tailed (quadratic only
within `ALPHA_PRIOR_SCALE`): it settles the flat valley along which α and the width trade off,
but gives way to a specimen whose spectrum is clearly steeper. A quadratic prior of the same
weight read the shipped sharp SEM crop (sample_data/demo, free fit α = 4.5) as blurred by σ ≈ 2
and its blurred partner, whose blur the pair itself measures as a Gaussian of σ ≈ 8 (MTF50 of
the cross-spectrum), as a Lorentzian of 21 px.

Why this one: it uses every pixel, so it needs no isolated edges (which textured specimens
lack, where edge-width methods struggle), it gives the orientation of astigmatism directly and
it models the noise floor explicitly instead of reading noise as sharpness, as gradient-based
estimators such as Polyblur (Delbracio et al. 2021) must correct for. Only one alternative
was measured so far (on non-held-out sources, benchmarks/psf_estimation.py
``--exclude-held-out``): a free MTF shape ``exp(-(f/f₀)^β)`` was far less stable (β and α
trade off). Polyblur and edge widths are not yet measured against it. Its weakness: the
Lorentzian's exponential MTF trades off against the power-law exponent, so Lorentzian widths
and the family choice are the least reliable outputs (numbers in docs/results/psf-estimation).

**In focus.** A logistic function of the excess width: ``p = 1 / (1 + exp((σ − t)/w))`` with
`IN_FOCUS_SIGMA` and `IN_FOCUS_SCALE` set from the widths estimated on in-focus and on
σ = 1 px frames of the non-held-out sources. σ is the isotropic Gaussian fit's width whatever
family is reported, as for the tiles (`midnet.psf.tiles`): the threshold was set on that width,
and the family is the least reliable output, so a near-sharp frame whose spectrum happens to fit
the Lorentzian slightly better (its σ-equivalent reads wider) is not called blurred for that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from midnet.psf.kernels import PSF
from midnet.psf.noise import NoiseEstimate, estimate_noise

#: Welch tile for the whole-image spectrum (px); spectral resolution 1/TILE cycles/px
TILE = 128
#: log-spaced radial frequency bins between 2/TILE and Nyquist
RADIAL_BINS = 24
#: orientation sectors over 180° for the astigmatism fit
SECTORS = 8
#: width of the softness every in-focus frame has (px), fitted on non-held-out sources
INTRINSIC_SIGMA = 0.35
#: the specimen's power-law exponent the fit is drawn towards: the median over the in-focus frames
#: of the non-held-out sources (their fits range over 1.6–2.9; natural photographs sit near 2)
ALPHA_PRIOR = 2.5
#: weight of that prior: one extra residual ``w·(α − ALPHA_PRIOR)`` beside the bins' log-power
#: residuals, so near the prior α off by 1/w costs as much as one bin off by a factor e (set on
#: non-held-out sources)
ALPHA_PRIOR_WEIGHT = 2.0
#: the prior's tails: its cost is quadratic within about this distance of `ALPHA_PRIOR` and grows
#: only logarithmically beyond (a Cauchy prior), so a specimen far steeper than most is still
#: read as itself; 0 makes it quadratic. Set on the non-held-out sources and the shipped demo pair
ALPHA_PRIOR_SCALE = 0.3
#: the noise floor N may lie within this factor of the level the noise estimate predicts (the
#: estimate is good to about 10 %, but its Haar band reads a little of the finest structure too)
NOISE_FLOOR_SLACK = 1.5
#: astigmatism is reported from this major/minor ratio on (below, an isotropic Gaussian)
ASTIGMATIC_MIN_RATIO = 1.35
#: the Lorentzian is chosen when its fit cost is below this share of the Gaussian's
LORENTZIAN_COST_RATIO = 1.0
#: logistic in-focus probability: centre and scale (px of estimated width)
IN_FOCUS_SIGMA = 0.8
IN_FOCUS_SCALE = 0.08
#: the per-tile map: region size and step (px); each region is itself Welch-averaged
MAP_REGION = 256
MAP_STEP = 128
#: the estimators of the whole-image PSF: this module's spectral fit, `midnet.psf.learned`, or
#: both ("hybrid": the spectral fit's astigmatism when it finds one, else the learned answer).
#: The spectral fit is the default: on the held-out sources the learned one (trained 30 min on
#: one core, 71 images of 7 other sources) gets Lorentzian widths closer but calls half the
#: in-focus images blurred and misses astigmatism (docs/results/psf-estimation, issue 18)
METHODS = ("spectral", "learned", "hybrid")
DEFAULT_METHOD = "spectral"
_START_WIDTHS = (0.3, 1.0, 2.0, 4.0, 8.0)
_BOUNDS_LOG_SIGMA = (math.log(0.05), math.log(40.0))


@dataclass
class BlurEstimate:
    """What `estimate_blur` found; widths in px of the image, noise in grey levels of ``max_value``."""

    psf: PSF
    noise: NoiseEstimate
    in_focus: float
    max_value: float = 1.0
    sigma_map: np.ndarray | None = field(default=None, repr=False)
    map_centres: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    file: str | None = None

    @property
    def noise_sigma(self) -> float:
        """Noise σ at mid-grey in grey levels of the file's range (255 for 8-bit, 4095 for 12-bit)."""
        return self.noise.sigma_mid * self.max_value

    def as_dict(self) -> dict:
        """The JSON record: file, sigma_px, sigma_minor_px, angle_deg, family, psf, noise, in_focus."""
        return {
            "file": self.file,
            "family": self.psf.family,
            "sigma_px": round(self.psf.sigma_px, 3),
            "sigma_minor_px": round(float(self.psf.sigma_minor_px or 0.0), 3),
            "angle_deg": round(self.psf.angle_deg, 1),
            "psf": str(self.psf),
            "noise_sigma": round(self.noise_sigma, 3),
            "noise_gain": self.noise.gain * self.max_value,
            "noise_read_sigma": math.sqrt(self.noise.read_var) * self.max_value,
            "max_value": self.max_value,
            "in_focus": round(self.in_focus, 3),
            "map_sigma_px": (None if self.sigma_map is None else
                             {"min": round(float(np.nanmin(self.sigma_map)), 3),
                              "max": round(float(np.nanmax(self.sigma_map)), 3),
                              "shape": list(self.sigma_map.shape)}),
        }


# ---- spectra --------------------------------------------------------------------------------

def welch_spectrum(image: np.ndarray, tile: int = TILE) -> np.ndarray:
    """Mean periodogram of Hann-windowed, mean-removed ``tile``² tiles at 50 % overlap.

    Scaled so that white noise of variance v has a flat spectrum of v."""
    x = np.asarray(image, np.float64)
    tile = min(tile, *x.shape)
    win = np.outer(np.hanning(tile), np.hanning(tile))
    norm = float((win**2).sum())
    step = max(1, tile // 2)
    acc = np.zeros((tile, tile))
    n = 0
    for y in range(0, x.shape[0] - tile + 1, step):
        for xx in range(0, x.shape[1] - tile + 1, step):
            t = x[y:y + tile, xx:xx + tile]
            acc += np.abs(np.fft.fft2((t - t.mean()) * win)) ** 2 / norm
            n += 1
    return acc / max(n, 1)


def _binned(power: np.ndarray, sectors: int = 1, bins: int = RADIAL_BINS
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(fy, fx, sector index, mean power) of log-spaced radial × orientation bins (non-empty only).

    Orientation is that of the frequency vector in (x right, y up), folded into [0°, 180°)."""
    t = power.shape[0]
    fy = np.fft.fftfreq(t)[:, None] * np.ones((1, t))
    fx = np.fft.fftfreq(t)[None, :] * np.ones((t, 1))
    f = np.hypot(fy, fx)
    edges = np.geomspace(2.0 / t, 0.5, bins + 1)
    r = np.digitize(f.ravel(), edges) - 1
    theta = np.mod(np.arctan2(-fy, fx).ravel(), math.pi)
    s = np.minimum((theta / math.pi * sectors).astype(int), sectors - 1)
    ok = (r >= 0) & (r < bins)
    key = (s * bins + r)[ok]
    size = sectors * bins
    count = np.bincount(key, minlength=size)
    keep = count > 0

    def mean(v: np.ndarray) -> np.ndarray:
        return (np.bincount(key, v.ravel()[ok], minlength=size)[keep] / count[keep])

    # each bin's mean radius along its mean orientation (averaging the vectors would shrink them)
    radius, angle = mean(f), mean(theta)
    return -radius * np.sin(angle), radius * np.cos(angle), np.arange(size)[keep] // bins, mean(power)


def _intrinsic(f2: np.ndarray) -> np.ndarray:
    return np.exp(-4 * math.pi**2 * INTRINSIC_SIGMA**2 * f2)


def _noise_bounds(noise_floor: float | None) -> tuple[float, float, float]:
    """(start, lower, upper) of log N: near ``noise_floor`` when one is known, else free."""
    if noise_floor is not None and noise_floor > 0:
        c = math.log(noise_floor)
        return c, c - math.log(NOISE_FLOOR_SLACK), c + math.log(NOISE_FLOOR_SLACK)
    return -1.0, -60.0, 0.0


def _alpha_prior(alpha: float, weight: float) -> float:
    """The prior's residual for exponent ``alpha``: ``weight·Δ`` near `ALPHA_PRIOR` (Δ = α − prior),
    ``weight·c·√log(1 + (Δ/c)²)`` in general (c = `ALPHA_PRIOR_SCALE`), so its squared cost is a
    Cauchy log-density's."""
    d = alpha - ALPHA_PRIOR
    if not ALPHA_PRIOR_SCALE:
        return weight * d
    c = ALPHA_PRIOR_SCALE
    return math.copysign(weight * c * math.sqrt(math.log1p((d / c) ** 2)), d)


def _fit_isotropic(fy: np.ndarray, fx: np.ndarray, power: np.ndarray, family: str,
                   noise_floor: float | None = None, *, prior: bool = True) -> tuple[float, float]:
    """(σ-equivalent, cost) of the radial model for ``family`` ("gaussian" or "lorentzian").

    ``noise_floor``: the white-noise level the spectrum should flatten to (variance per pixel,
    in the spectrum's units); None leaves N free, as for a region without its own noise estimate.
    ``prior``: draw α towards `ALPHA_PRIOR` (for widths); without it the cost says only how well
    the family's MTF shape fits (for choosing the family, see `_fit_spectrum`)."""
    weight = ALPHA_PRIOR_WEIGHT if prior else 0.0
    f2 = fy**2 + fx**2
    f = np.sqrt(f2)
    lp = np.log(np.maximum(power, 1e-30))
    g0 = _intrinsic(f2)
    n0, n_lo, n_hi = _noise_bounds(noise_floor)

    def resid(q: np.ndarray) -> np.ndarray:
        log_a, alpha, log_s, log_n = q
        m = PSF(family, math.exp(log_s)).mtf(fy, fx)  # type: ignore[arg-type]
        fit = np.log(np.exp(log_a) * f ** -alpha * (m * g0) ** 2 + np.exp(log_n)) - lp
        return np.append(fit, _alpha_prior(alpha, weight))

    best = None
    for s0 in _START_WIDTHS:
        q0 = np.array([lp[0] + ALPHA_PRIOR * math.log(f[0]), ALPHA_PRIOR, math.log(s0),
                       min(lp[-1], n0) if noise_floor is None else n0])
        try:
            r = optimize.least_squares(resid, q0, bounds=([-80, 0.5, _BOUNDS_LOG_SIGMA[0], n_lo],
                                                          [30, 4.5, _BOUNDS_LOG_SIGMA[1], n_hi]))
        except ValueError:
            continue
        if best is None or r.cost < best.cost:
            best = r
    if best is None:
        return 0.0, math.inf
    return math.exp(best.x[2]), float(best.cost)


def _fit_astigmatic(fy: np.ndarray, fx: np.ndarray, sector: np.ndarray, power: np.ndarray,
                    sigma0: float, noise_floor: float | None = None) -> tuple[float, float, float, float]:
    """(major σ, minor σ, angle in degrees, cost) of the oriented Gaussian model (same α prior
    and noise floor as `_fit_isotropic`, so its widths are comparable with the isotropic ones)."""
    f2 = fy**2 + fx**2
    f = np.sqrt(f2)
    theta = np.arctan2(-fy, fx)
    lp = np.log(np.maximum(power, 1e-30))
    g0 = _intrinsic(f2)
    n_sec = int(sector.max()) + 1
    c2, s2 = np.cos(2 * theta), np.sin(2 * theta)

    def resid(q: np.ndarray) -> np.ndarray:
        alpha, log_n, m, dc, ds = q[:5]
        log_a = q[5:][sector]
        var = np.maximum(m + dc * c2 + ds * s2, 1e-6)
        model = np.exp(log_a) * f ** -alpha * np.exp(-4 * math.pi**2 * var * f2) * g0**2 + np.exp(log_n)
        return np.append(np.log(model) - lp, _alpha_prior(alpha, ALPHA_PRIOR_WEIGHT))

    n0, n_lo, n_hi = _noise_bounds(noise_floor)
    q0 = np.concatenate([[ALPHA_PRIOR, min(lp.min(), n0) if noise_floor is None else n0, sigma0**2, 0.0, 0.0],
                         [lp[sector == k][0] + ALPHA_PRIOR * math.log(f[sector == k][0]) if np.any(sector == k)
                          else 0.0 for k in range(n_sec)]])
    hi = 40.0**2
    r = optimize.least_squares(resid, q0, bounds=([0.5, n_lo, 0.0, -hi, -hi] + [-80] * n_sec,
                                                  [4.5, n_hi, hi, hi, hi] + [30] * n_sec))
    _, _, m, dc, ds = r.x[:5]
    d = math.hypot(dc, ds)
    major, minor = math.sqrt(max(m + d, 1e-6)), math.sqrt(max(m - d, 1e-6))
    # the MTF falls fastest along the PSF's major axis: σ²(θ) peaks at θ = φ
    phi = math.degrees(0.5 * math.atan2(ds, dc)) % 180.0
    return major, minor, phi, float(r.cost)


def white_noise_floor(image: np.ndarray, noise: NoiseEstimate | None = None) -> float:
    """The flat level white noise of ``noise`` (estimated from ``image`` when None) gives
    `welch_spectrum`: the noise variance averaged over the image's pixels (it depends on the
    grey level for shot noise)."""
    x = np.asarray(image, np.float64)
    noise = estimate_noise(x) if noise is None else noise
    return float(np.mean(noise.variance(x)))


def fit_spectrum(power: np.ndarray, noise_floor: float | None = None, *, astigmatism: bool = True,
                 family: str | None = None) -> PSF:
    """The PSF from a `welch_spectrum` ``power`` and the noise level it should flatten to.

    ``family`` ("gaussian" or "lorentzian"): only that family's width, for a column whose probe
    shape is known; its σ-equivalent is the ``--psf family:W`` that renders the same MTF."""
    if family is not None:
        if family not in ("gaussian", "lorentzian"):
            raise ValueError(f"fit_spectrum: family must be gaussian or lorentzian, got {family!r}")
        fy, fx, _, p = _binned(power)
        return PSF(family, max(_fit_isotropic(fy, fx, p, family, noise_floor)[0], 1e-3))  # type: ignore[arg-type]
    return _fit_spectrum(power, noise_floor, astigmatism=astigmatism)[0]


def _fit_spectrum(power: np.ndarray, noise_floor: float | None, *, astigmatism: bool) -> tuple[PSF, float]:
    """(PSF, isotropic Gaussian width) of a spectrum; the width is the in-focus yardstick.

    The family is chosen on fits *without* the α prior and the width is then fitted *with* it.
    Why: with the prior in the comparison, a specimen whose exponent is far from `ALPHA_PRIOR`
    makes the family that can bend its MTF towards the prior's slope win, whatever the blur (with
    a quadratic prior, the shipped SEM crop blurred by a Gaussian of σ 3 read as a Lorentzian of
    6.7); free α compares the MTFs' shapes alone. On two subsets of the non-held-out sources
    (quadratic prior for the widths) this choice called the family of Gaussian blur right more
    often (84 % and 75 % of frames against 76 % and 74 %) and of Lorentzian blur as often overall
    (49 % and 64 % against 65 % and 47 %)."""
    fy, fx, _, p = _binned(power)
    sigma_g, _ = _fit_isotropic(fy, fx, p, "gaussian", noise_floor)
    if astigmatism:
        fy2, fx2, sec, p2 = _binned(power, SECTORS, RADIAL_BINS // 2)
        major, minor, angle, _ = _fit_astigmatic(fy2, fx2, sec, p2, sigma_g, noise_floor)
        if minor > 0.3 and major / minor >= ASTIGMATIC_MIN_RATIO:
            return PSF("astigmatic", major, minor, angle), sigma_g
    cost_g = _fit_isotropic(fy, fx, p, "gaussian", noise_floor, prior=False)[1]
    cost_l = _fit_isotropic(fy, fx, p, "lorentzian", noise_floor, prior=False)[1]
    if cost_l < LORENTZIAN_COST_RATIO * cost_g:
        return PSF("lorentzian", max(_fit_isotropic(fy, fx, p, "lorentzian", noise_floor)[0], 1e-3)), sigma_g
    return PSF("gaussian", max(sigma_g, 1e-3)), sigma_g


def fit_psf(image: np.ndarray, tile: int = TILE, *, astigmatism: bool = True,
            noise: NoiseEstimate | None = None, family: str | None = None) -> PSF:
    """The whole-image PSF of a grey float image (see the module docstring); ``noise``: its
    `estimate_noise`, estimated here when None; ``family``: as for `fit_spectrum`."""
    x = np.asarray(image, np.float64)
    if family is not None:
        return fit_spectrum(welch_spectrum(x, tile), white_noise_floor(x, noise), family=family)
    return _fit_image(x, tile, noise, astigmatism=astigmatism)[0]


def _fit_image(image: np.ndarray, tile: int, noise: NoiseEstimate | None, *, astigmatism: bool = True
               ) -> tuple[PSF, float]:
    x = np.asarray(image, np.float64)
    return _fit_spectrum(welch_spectrum(x, tile), white_noise_floor(x, noise), astigmatism=astigmatism)


def sigma_map(image: np.ndarray, region: int = MAP_REGION, step: int = MAP_STEP, *,
              noise: NoiseEstimate | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(map of isotropic Gaussian widths, region centre rows, region centre columns).

    Each region is Welch-averaged with tiles of half its size, so that one region's estimate
    is steady enough to compare with its neighbours; its noise floor is the whole image's noise
    model (``noise``, estimated when None) at the region's own grey levels."""
    x = np.asarray(image, np.float64)
    noise = estimate_noise(x) if noise is None else noise
    region = min(region, *x.shape)
    ys = list(range(0, x.shape[0] - region + 1, step)) or [0]
    xs = list(range(0, x.shape[1] - region + 1, step)) or [0]
    out = np.zeros((len(ys), len(xs)))
    for i, y in enumerate(ys):
        for j, xx in enumerate(xs):
            part = x[y:y + region, xx:xx + region]
            fy, fx, _, p = _binned(welch_spectrum(part, region // 2))
            out[i, j] = _fit_isotropic(fy, fx, p, "gaussian", white_noise_floor(part, noise))[0]
    return out, np.array(ys) + region / 2, np.array(xs) + region / 2


def in_focus_probability(psf: PSF) -> float:
    """Logistic in the PSF's σ-equivalent (see the module docstring: the whole-image and tile
    estimates pass their isotropic Gaussian width)."""
    z = (psf.sigma_px - IN_FOCUS_SIGMA) / IN_FOCUS_SCALE
    return float(1.0 / (1.0 + math.exp(min(max(z, -50.0), 50.0))))


def estimate_array(image: np.ndarray, *, max_value: float = 1.0, with_map: bool = True,
                   file: str | None = None, method: str = DEFAULT_METHOD) -> BlurEstimate:
    """`BlurEstimate` of a grey float image in [0, 1] (data bar already cut off).

    ``method``: `METHODS`; the noise and the width map are the same for both. An image smaller
    than the learned estimator's patch is estimated by the spectral fit."""
    if method not in METHODS:
        raise ValueError(f"unknown estimation method {method!r}; choose from {', '.join(METHODS)}")
    x = np.asarray(image)
    if x.ndim != 2:
        raise ValueError(f"{file or 'image'}: expected a grey (H, W) image, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{file or 'image'}: contains NaN or infinite values; cannot estimate its blur")
    if min(x.shape) < 32:
        raise ValueError(f"{file or 'image'}: {x.shape[1]}x{x.shape[0]} px is too small to estimate blur "
                         "(at least 32x32)")
    x = x.astype(np.float64)
    noise = estimate_noise(x)
    if float(np.ptp(x)) == 0.0:  # a constant frame has no blur to see
        psf, focus = PSF("none"), 1.0
    elif method in ("learned", "hybrid") and min(x.shape) >= _learned_patch():
        from midnet.psf.learned import shipped

        spectral = _fit_image(x, min(TILE, *x.shape), noise) if method == "hybrid" else None
        if spectral is not None and spectral[0].family == "astigmatic":
            psf, focus = spectral[0], in_focus_probability(PSF("gaussian", max(spectral[1], 1e-3)))
        else:
            psf, focus = shipped().predict(x)
    else:
        psf, sigma_g = _fit_image(x, min(TILE, *x.shape), noise)
        focus = in_focus_probability(PSF("gaussian", max(sigma_g, 1e-3)))
    smap = centres = None
    if with_map and psf.family != "none" and min(x.shape) >= MAP_REGION:
        smap, cy, cx = sigma_map(x, noise=noise)
        centres = (cy, cx)
    return BlurEstimate(psf, noise, focus, max_value=max_value, sigma_map=smap, map_centres=centres, file=file)


def _learned_patch() -> int:
    from midnet.psf.learned import PATCH

    return PATCH


__all__ = ["METHODS", "DEFAULT_METHOD", "BlurEstimate", "estimate_array", "fit_psf", "fit_spectrum", "white_noise_floor",
           "sigma_map", "in_focus_probability", "welch_spectrum"]
