"""`PSF` kernels for a whole batch, rendered with torch on the batch's device.

Why here and not in the data package: `midnet.psf.kernels` is the one definition of the PSF
families; this module renders *the same* kernels (same formulas, same default truncation, same
band-limited Lorentzian and supersampled disc), only for B parameter rows at once and on a GPU
when the batch is there, so that training data can be made where the network trains. The tests
check it against `PSF.kernel` for every family (within 1e-5).

A PSF is a row of `PARAMS`: ``(family index into FAMILIES, sigma_px, sigma_minor_px,
angle_deg)``, the fields of `PSF` (``none`` has widths 0). `psf_params` and `psf_from_params`
convert between rows and `PSF` objects.

All kernels of a batch share one static grid of half size ``radius`` (no host round trip to
learn the widest one); each is cut to its own `PSF.default_radius` (capped at ``radius``) and
normalised there, exactly as `PSF.kernel(radius=min(default_radius, radius))`. The cap matters
only for the Lorentzian's long skirt (98 % of its energy lies within ≈ 50 γ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from midnet.psf.kernels import (DISC_SIGMA_PER_RADIUS, DISC_SUPERSAMPLING, FAMILIES, LORENTZ_RADIUS_PER_GAMMA,
                                LORENTZ_SIGMA_PER_GAMMA, PSF)

PARAMS: tuple[str, ...] = ("family", "sigma_px", "sigma_minor_px", "angle_deg")
FAMILY_INDEX: dict[str, int] = {f: i for i, f in enumerate(FAMILIES)}
GAUSSIAN, ASTIGMATIC, LORENTZIAN, DISC, NONE = (FAMILY_INDEX[f] for f in
                                                ("gaussian", "astigmatic", "lorentzian", "disc", "none"))


def psf_params(psfs: Sequence[PSF], device: torch.device | str | None = None,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, 4) rows of `PARAMS` for ``psfs``."""
    rows = [[FAMILY_INDEX[p.family], p.sigma_px, float(p.sigma_minor_px or 0.0), p.angle_deg] for p in psfs]
    return torch.tensor(rows, device=device, dtype=dtype).reshape(-1, len(PARAMS))


def psf_from_params(row: torch.Tensor | Sequence[float]) -> PSF:
    """The `PSF` a row of `PARAMS` stands for."""
    fam, sigma, minor, angle = (float(v) for v in row)
    family = FAMILIES[int(round(fam))]
    if family == "none":
        return PSF("none")
    return PSF(family, sigma, minor if family == "astigmatic" else None, angle)  # type: ignore[arg-type]


def default_radius(params: torch.Tensor, cap: int) -> torch.Tensor:
    """`PSF.default_radius` of each row (long), at most ``cap``: the same rules, in torch."""
    fam, sigma = params[:, 0].round().long(), params[:, 1]
    gauss = torch.clamp(torch.ceil(4.0 * sigma), min=1)
    lor = torch.clamp(torch.ceil(sigma / LORENTZ_SIGMA_PER_GAMMA * LORENTZ_RADIUS_PER_GAMMA), min=2)
    disc = torch.ceil(sigma / DISC_SIGMA_PER_RADIUS + 0.5)
    r = torch.where(fam == LORENTZIAN, lor, torch.where(fam == DISC, disc, gauss))
    r = torch.where(fam == NONE, torch.zeros_like(r), r)
    return torch.clamp(r, max=cap).long()


def _gaussian(yy: torch.Tensor, xx: torch.Tensor, sigma: torch.Tensor, minor: torch.Tensor,
              angle_deg: torch.Tensor) -> torch.Tensor:
    """Elliptical Gaussian on the grid (major axis at ``angle_deg`` as in `PSF._axes`)."""
    t = torch.deg2rad(angle_deg)[:, None, None]
    u = -torch.sin(t) * yy + torch.cos(t) * xx
    v = torch.cos(t) * yy + torch.sin(t) * xx
    s, m = sigma.clamp_min(1e-6)[:, None, None], minor.clamp_min(1e-6)[:, None, None]
    return torch.exp(-0.5 * ((u / s) ** 2 + (v / m) ** 2))


def _lorentzian(sigma: torch.Tensor, own: torch.Tensor, radius: int) -> torch.Tensor:
    """Band-limited Lorentzian, as `PSF._bandlimited`: the inverse DFT of its analytic MTF on
    the row's own n = 2(2r+1) grid (r its own radius), so the periodic aliasing is the same.

    One batched matrix product per row (rows have different n), with no host round trip: the
    frequencies of each row are padded to the largest n and masked; the MTF is real and even,
    so the inverse DFT is C·MTF·Cᵀ with C[y, j] = cos(2π f_j y) (the sine terms cancel)."""
    big = 2 * (2 * radius + 1)
    n = (2 * (2 * own + 1)).to(sigma.dtype)[:, None]                         # (B, 1)
    j = torch.arange(big, device=sigma.device, dtype=sigma.dtype)[None, :]
    f = torch.where(j < n / 2, j, j - n) / n                                  # fftfreq(n), padded
    used = (j < n).to(sigma.dtype)
    gamma = (sigma / LORENTZ_SIGMA_PER_GAMMA)[:, None, None]
    mtf = torch.exp(-2 * math.pi * gamma * torch.sqrt(f[:, :, None] ** 2 + f[:, None, :] ** 2))
    mtf = mtf * used[:, :, None] * used[:, None, :]
    y = torch.arange(-radius, radius + 1, device=sigma.device, dtype=sigma.dtype)
    c = torch.cos(2 * math.pi * y[None, :, None] * f[:, None, :])               # (B, 2r+1, big)
    k = c @ mtf @ c.transpose(1, 2) / (n[:, :, None] ** 2)
    return k.clamp_min(0.0)


def _disc(sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Flat disc anti-aliased by SUB×SUB point samples per pixel, as `kernels._disc`.

    Counted per sub-row instead of per point (the points of a sub-row inside the disc form one
    interval), so the cost is B·(2r+1)²·SUB rather than ·SUB²; ties on the circle (measure
    zero) are the only place it could differ from the point test."""
    sub = DISC_SUPERSAMPLING
    R = (sigma / DISC_SIGMA_PER_RADIUS)[:, None, None]
    n = 2 * radius + 1
    ys = (torch.arange(-radius * sub, (radius + 1) * sub, device=sigma.device, dtype=sigma.dtype) + 0.5) / sub - 0.5
    w2 = R ** 2 - ys[None, :, None] ** 2                                       # (B, n·sub, 1)
    w = torch.where(w2 >= 0, torch.sqrt(w2.clamp_min(0.0)), torch.full_like(w2, -1.0))
    xc = torch.arange(-radius, radius + 1, device=sigma.device, dtype=sigma.dtype)[None, None, :]
    # sub-point b of pixel column x sits at x - 0.5 + (b + 0.5)/sub; keep those with |.| <= w
    hi = torch.floor(sub * (w - xc + 0.5) - 0.5).clamp(max=sub - 1)
    lo = torch.ceil(sub * (-w - xc + 0.5) - 0.5).clamp(min=0)
    count = (hi - lo + 1).clamp_min(0.0)                                       # (B, n·sub, n)
    return count.reshape(-1, n, sub, n).sum(dim=2) / sub**2


def render_kernels(params: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, 2r+1, 2r+1) kernels of the (B, 4) `PARAMS` rows, each summing to 1, on their device.

    Every family is computed for every row and the row's own picked (no data-dependent shapes,
    no synchronisation with the host); row i equals
    ``psf_from_params(params[i]).kernel(radius=min(default_radius, radius))`` centred on the grid.
    """
    if params.ndim != 2 or params.shape[1] != len(PARAMS):
        raise ValueError(f"render_kernels: params must be (B, {len(PARAMS)}), got {tuple(params.shape)}")
    fam = params[:, 0].round().long()[:, None, None]
    sigma, minor, angle = params[:, 1], params[:, 2], params[:, 3]
    r = torch.arange(-radius, radius + 1, device=params.device, dtype=params.dtype)
    yy, xx = r[None, :, None], r[None, None, :]
    k = _gaussian(yy, xx, sigma, minor, angle)
    own = default_radius(params, radius)
    k = torch.where(fam == LORENTZIAN, _lorentzian(sigma.clamp_min(1e-3), own, radius), k)
    k = torch.where(fam == DISC, _disc(sigma, radius), k)
    k = torch.where(fam == NONE, ((yy == 0) & (xx == 0)).to(k.dtype).expand_as(k), k)
    inside = (yy.abs() <= own[:, None, None]) & (xx.abs() <= own[:, None, None])
    k = k * inside
    return k / k.sum(dim=(-2, -1), keepdim=True)


def blur_batch(images: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Convolve each (B, C, H, W) image with its (B, K, K) kernel: FFT, reflect-padded by K//2.

    The padding gives the kernel real context at the borders and keeps the circular wrap of the
    FFT inside the margin that is cut off. The PSFs are point-symmetric, so convolution and
    correlation agree. K//2 must be smaller than H and W (torch's reflect padding)."""
    b, c, h, w = images.shape
    r = kernels.shape[-1] // 2
    if r == 0:
        return images * kernels.reshape(b, 1, 1, 1)
    padded = torch.nn.functional.pad(images, (r, r, r, r), mode="reflect")
    hp, wp = padded.shape[-2:]
    otf = kernel_otf(kernels.to(images.dtype), (hp, wp))
    out = torch.fft.irfft2(torch.fft.rfft2(padded) * otf[:, None], s=(hp, wp))
    return out[..., r:r + h, r:r + w]


def kernel_otf(kernels: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, H, W//2+1) complex transfer functions of (B, K, K) centred kernels on the ``rfft2``
    grid of an (H, W) image: the kernel zero-padded to (H, W) with its centre rolled to (0, 0).

    Why a function of its own: `blur_batch` blurs with it and a deconvolution
    (`midnet.models.wiener`) inverts the very same transfer function, so the two cannot drift."""
    b, k = kernels.shape[0], kernels.shape[-1]
    r = k // 2
    kpad = torch.zeros((b, *shape), device=kernels.device, dtype=kernels.dtype)
    kpad[:, :k, :k] = kernels
    kpad = torch.roll(kpad, shifts=(-r, -r), dims=(-2, -1))        # kernel centre at (0, 0)
    return torch.fft.rfft2(kpad)
