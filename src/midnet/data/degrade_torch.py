"""Synthetic SEM defocus for a whole batch, made with torch on the device the network trains on.

Why: `midnet.data.defocus.degrade` makes one sample at a time with numpy in the data-loader
workers; on a GPU the network then waits for the CPU (issue 18: 7–15 steps/s against 12.8–27.7
for the bare step). Here the same degradation (the steps and their order are those of
`midnet.data.defocus`, see its docstring) is applied to a (B, 1, H, W) batch of sharp crops with
torch ops only, on the crops' device, drawn from a `torch.Generator` on that device:

1. PSF per sample: gaussian / astigmatic / lorentzian / disc from `midnet.psf` (kernels rendered
   by `midnet.psf.render_torch`, the same as `PSF.kernel`), FFT convolution with reflect padding;
   a share of samples in focus (no blur, no contrast change) and a few flat ones;
2. contrast (gain, offset, gamma; also on the target with ``contrast_in_target``);
3. scan-line offsets and row jitter, then Poisson–Gaussian noise (the noise model of
   `midnet.data.defocus.noise_model`), up to about 30 grey levels at mid-grey for fast scans;
4. quantisation to 8, 12 or 16 bits.

For a PSF-aware network it also returns the PSF *given* to it: the true one perturbed as an
estimate would be (width ±20 %, sometimes another family, an angle error), and the noise level.

Reproducible: `generator_for(seed, step, device)` seeds the generator from (seed, step), so a
batch is a pure function of (seed, step, sharp crops) on one kind of device (CPU and CUDA
generators draw different streams). The draws always come in the same order and number,
whatever the kinds drawn, and nothing waits for the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from midnet.data.defocus import DefocusRanges, noise_model
from midnet.psf.kernels import FAMILIES
from midnet.psf.render_torch import ASTIGMATIC, GAUSSIAN, NONE, PARAMS, blur_batch, render_kernels

#: families the batch degradation draws (the numpy one's ``mixture`` has no `PSF` family)
BATCH_FAMILIES = ("gaussian", "astigmatic", "lorentzian", "disc")
#: sample kinds, as in `midnet.data.defocus.Degradation.kind`
KINDS = ("blur", "in_focus", "flat")


@dataclass
class BatchRanges(DefocusRanges):
    """`DefocusRanges` for the batch degradation, with fast-scan noise and the given-PSF errors.

    Differences from the numpy defaults, each for a reason of issue 18: noise reaches 30 grey
    levels (real fast scans show 13–27), no ``mixture`` family (not a `PSF` family, so a network
    could not be told it), the astigmatism's axis ratio is a range of its own. The σ drawn is the
    root mean square of the two axis widths for the astigmatic family, as
    `midnet.data.defocus.psf_for_width` does."""

    families: dict[str, float] = field(default_factory=lambda: {
        "gaussian": 0.4, "astigmatic": 0.25, "lorentzian": 0.2, "disc": 0.15})
    noise_sigma: tuple[float, float] = (0.0, 30.0)
    astig_ratio: tuple[float, float] = (1.2, 2.5)        # major / minor axis width
    kernel_radius: int = 48                              # kernel grid half size (Lorentzian skirt cap)
    given_width_error: float = 0.2                       # given width = true × U(1 ± this)
    given_wrong_family: float = 0.15                     # share given another family
    given_angle_error_deg: float = 10.0                  # σ of the given angle's error
    given_noise_error: float = 0.2                       # given noise σ = true × U(1 ± this)
    given_in_focus_sigma: tuple[float, float] = (0.3, 1.0)  # width when an in-focus sample is given a blur

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "BatchRanges":
        """As `DefocusRanges.from_dict`, plus this class's tuples; ``mixture`` is an error."""
        values = dict(values or {})
        for key in ("astig_ratio", "given_in_focus_sigma"):
            if key in values:
                values[key] = tuple(float(v) for v in values[key])
        out = super().from_dict(values)
        bad = [f for f, w in out.families.items() if w > 0 and f not in BATCH_FAMILIES]
        if bad:
            raise ValueError(f"the batch degradation draws {BATCH_FAMILIES}; not {bad}")
        return out  # type: ignore[return-value]


@dataclass
class DegradedBatch:
    """What `degrade_batch` returns; every tensor is on the input's device.

    ``psf`` and ``given_psf`` are (B, 4) rows of `midnet.psf.render_torch.PARAMS` (family index
    into `midnet.psf.FAMILIES`, σ, minor σ, angle in degrees; `psf_from_params` makes a `PSF` of
    one); ``noise_sigma`` and ``given_noise_sigma`` are (B,) noise σ at mid-grey in 8-bit grey
    levels; ``kind`` is (B,) indices into `KINDS`; ``bits`` (B,) the quantisation."""

    blurry: torch.Tensor
    target: torch.Tensor
    psf: torch.Tensor
    given_psf: torch.Tensor
    noise_sigma: torch.Tensor
    given_noise_sigma: torch.Tensor
    kind: torch.Tensor
    bits: torch.Tensor


def generator_for(seed: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded from (seed, step) through numpy's SeedSequence (well mixed:
    neighbouring steps do not get correlated streams)."""
    state = int(np.random.SeedSequence([int(seed), int(step)]).generate_state(1, np.uint64)[0])
    g = torch.Generator(device=device)
    g.manual_seed(state & ((1 << 63) - 1))
    return g


class _Draw:
    """Vectors of B draws from one generator on one device (the order of calls fixes the stream)."""

    def __init__(self, b: int, g: torch.Generator, device: torch.device) -> None:
        self.b, self.g, self.device = b, g, device

    def rand(self) -> torch.Tensor:
        return torch.rand(self.b, generator=self.g, device=self.device)

    def normal(self) -> torch.Tensor:
        return torch.randn(self.b, generator=self.g, device=self.device)

    def uniform(self, lo_hi: tuple[float, float]) -> torch.Tensor:
        lo, hi = lo_hi
        return lo + (hi - lo) * self.rand()

    def choice(self, weights: list[float]) -> torch.Tensor:
        p = torch.tensor(weights, device=self.device, dtype=torch.float32)
        return torch.multinomial(p / p.sum(), self.b, replacement=True, generator=self.g)


def _psf_rows(family: torch.Tensor, sigma: torch.Tensor, ratio: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """(B, 4) `PARAMS` rows: σ is the width (RMS of the axes for astigmatic), ``none`` gets zeros."""
    astig = family == ASTIGMATIC
    minor_astig = sigma * torch.sqrt(2.0 / (1.0 + ratio**2))
    major = torch.where(astig, minor_astig * ratio, sigma)
    minor = torch.where(astig, minor_astig, sigma)
    none = family == NONE
    zero = torch.zeros_like(sigma)
    rows = [family.to(sigma.dtype), torch.where(none, zero, major), torch.where(none, zero, minor),
            torch.where(astig, angle % 180.0, zero)]
    return torch.stack(rows, dim=1)


def _rms_width(rows: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((rows[:, 1] ** 2 + rows[:, 2] ** 2) / 2)


def _given_psf(true: torch.Tensor, in_focus: torch.Tensor, d: _Draw, r: BatchRanges) -> torch.Tensor:
    """The true PSF as an estimator might report it: width scaled by U(1 ± e), sometimes another
    family (with its own axis ratio and angle when that is astigmatic), the angle off by N(0, a);
    in-focus samples are given ``none``, or sometimes a small Gaussian."""
    family = true[:, 0].round().long()
    scale, wrong, shift = d.uniform((1 - r.given_width_error, 1 + r.given_width_error)), d.rand(), d.rand()
    ratio, angle = d.uniform(r.astig_ratio), d.uniform((0.0, 180.0))
    angle_err, small = d.normal() * r.given_angle_error_deg, d.uniform(r.given_in_focus_sigma)
    is_wrong = wrong < r.given_wrong_family
    other = (family + 1 + (shift * (len(BATCH_FAMILIES) - 1)).long()) % len(BATCH_FAMILIES)
    fam = torch.where(is_wrong & ~in_focus, other, family)
    fam = torch.where(in_focus, torch.where(is_wrong, GAUSSIAN, NONE), fam)
    sigma = torch.where(in_focus, small, _rms_width(true) * scale)
    keep_shape = fam == family          # an astigmatic PSF keeps its own ratio and angle (+ error)
    true_ratio = true[:, 1] / true[:, 2].clamp_min(1e-6)
    ratio = torch.where(keep_shape & (family == ASTIGMATIC), true_ratio, ratio)
    angle = torch.where(keep_shape, true[:, 3] + angle_err, angle)
    return _psf_rows(fam, sigma, ratio, angle)


def contrast(x: torch.Tensor, gain: torch.Tensor, offset: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """``gain · clip(x, 0, 1)^gamma + offset`` per sample (`midnet.data.defocus.adjust_contrast`)."""
    v = lambda t: t.reshape(-1, 1, 1, 1)  # noqa: E731
    return v(gain) * torch.pow(x.clamp(0, 1), v(gamma)) + v(offset)


def scan_lines(x: torch.Tensor, offset: torch.Tensor, jitter: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Row jitter (each row shifted by N(0, jitter) px, linear interpolation, edges held, as
    `numpy.interp` does) then per-row offsets N(0, offset), both per sample ([0, 1] units)."""
    b, c, h, w = x.shape
    shifts = torch.randn((b, 1, h, 1), generator=g, device=x.device) * jitter.reshape(-1, 1, 1, 1)
    pos = (torch.arange(w, device=x.device, dtype=x.dtype).reshape(1, 1, 1, w) - shifts).clamp(0, w - 1)
    left = pos.floor().long().clamp(max=w - 1)
    right = (left + 1).clamp(max=w - 1)
    frac = pos - left.to(x.dtype)
    left, right = left.expand(b, c, h, w), right.expand(b, c, h, w)
    x = torch.gather(x, 3, left) * (1 - frac) + torch.gather(x, 3, right) * frac
    rows = torch.randn((b, 1, h, 1), generator=g, device=x.device) * offset.reshape(-1, 1, 1, 1)
    return x + rows


def quantise(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Clip to [0, 1] and round to each sample's bit depth (`midnet.data.defocus.quantise`)."""
    levels = (2.0 ** bits.to(x.dtype) - 1).reshape(-1, 1, 1, 1)
    return torch.round(x.clamp(0, 1) * levels) / levels


def degrade_batch(sharp: torch.Tensor, generator: torch.Generator, ranges: BatchRanges | None = None
                  ) -> DegradedBatch:
    """Degrade a (B, 1, H, W) batch of sharp crops in [0, 1] (see the module docstring).

    The target is the sharp crop (a constant for ``flat`` samples: the crop's mean, or black one
    time in three), changed by the sample's contrast when ``ranges.contrast_in_target``."""
    r = ranges or BatchRanges()
    if sharp.ndim != 4 or sharp.shape[1] != 1:
        raise ValueError(f"degrade_batch: expected (B, 1, H, W) grey crops, got {tuple(sharp.shape)}")
    b, _, h, w = sharp.shape
    dev, dt = sharp.device, sharp.dtype
    d = _Draw(b, generator, dev)
    # ---- draws, always all of them and in this order -----------------------------------------
    u_kind = d.rand()
    bits = torch.tensor(list(r.bits), device=dev)[d.choice(list(r.bits.values()))]
    lo, hi = r.sigma
    sigma = lo + (hi - lo) * d.rand() ** (1.0 / r.sigma_power)
    fam_names = [f for f in BATCH_FAMILIES if r.families.get(f, 0) > 0]
    fam_index = torch.tensor([FAMILIES.index(f) for f in fam_names], device=dev)
    family = fam_index[d.choice([r.families[f] for f in fam_names])]
    ratio, angle = d.uniform(r.astig_ratio), d.uniform((0.0, 180.0))
    noise_blur, noise_focus = d.uniform(r.noise_sigma), d.uniform(r.in_focus_noise_sigma)
    shot = d.uniform(r.shot_fraction)
    has_contrast = d.rand() < r.contrast_fraction
    gain, offset, gamma = d.uniform(r.gain), d.uniform(r.offset), d.uniform(r.gamma)
    has_scan = d.rand() < r.scan_fraction
    scan_offset, scan_jitter = d.uniform(r.scan_offset_sigma), d.uniform(r.scan_jitter_px)
    black = d.rand() < 1 / 3
    # ---- kinds -------------------------------------------------------------------------------
    flat = u_kind < r.flat_fraction
    in_focus = (u_kind < r.flat_fraction + r.in_focus_fraction) & ~flat
    blurred = ~(flat | in_focus)
    kind = torch.where(flat, 2, torch.where(in_focus, 1, 0))
    family = torch.where(blurred, family, NONE)
    psf = _psf_rows(family, sigma.to(dt), ratio.to(dt), angle.to(dt))
    noise_sigma = torch.where(blurred, noise_blur, noise_focus)
    shot = torch.where(flat, torch.zeros_like(shot), shot)
    has_contrast, has_scan = has_contrast & blurred, has_scan & blurred
    # ---- target, blur, contrast, scan lines, noise, quantisation -------------------------------
    level = torch.where(black, torch.zeros_like(u_kind), sharp.mean(dim=(1, 2, 3)).clamp(0, 1)).to(dt)
    target = torch.where(flat.reshape(-1, 1, 1, 1), level.reshape(-1, 1, 1, 1).expand_as(sharp), sharp)
    radius = min(r.kernel_radius, h - 1, w - 1)
    x = blur_batch(target, render_kernels(psf, radius))
    c4 = has_contrast.reshape(-1, 1, 1, 1)
    x = torch.where(c4, contrast(x, gain, offset, gamma), x)
    x = torch.where(has_scan.reshape(-1, 1, 1, 1),
                    scan_lines(x, scan_offset / 255.0, scan_jitter, generator), x)
    gain_shot, read = noise_model(noise_sigma.to(dt), shot.to(dt))
    std = torch.sqrt(gain_shot.reshape(-1, 1, 1, 1) * x.clamp_min(0) + read.reshape(-1, 1, 1, 1) ** 2)
    x = x + std * torch.randn(x.shape, generator=generator, device=dev, dtype=dt)
    blurry = quantise(x, bits)
    if r.contrast_in_target:
        target = torch.where(c4, contrast(target, gain, offset, gamma).clamp(0, 1), target)
    given = _given_psf(psf, ~blurred, d, r)
    given_noise = noise_sigma * d.uniform((1 - r.given_noise_error, 1 + r.given_noise_error))
    return DegradedBatch(blurry=blurry, target=target, psf=psf, given_psf=given.to(dt), noise_sigma=noise_sigma,
                         given_noise_sigma=given_noise, kind=kind, bits=bits)


__all__ = ["BATCH_FAMILIES", "KINDS", "PARAMS", "BatchRanges", "DegradedBatch", "degrade_batch", "generator_for"]
