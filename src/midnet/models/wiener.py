"""Differentiable Tikhonov–Wiener deconvolution of a batch, each image with its own PSF.

Why this form: a network told the PSF should not have to learn the inversion of a known blur
(a global operation a U-Net of small receptive field does badly), only what the inversion gets
wrong: noise amplification, ringing, the error of the given PSF. The classical non-blind
networks (Son & Lee 2017, FDN, DWDN, USRNet) all start from a closed-form FFT deconvolution and
let a CNN refine it; this is ours:

    X = conj(K) · Y / (|K|² + λ · |D|²),    λ = c · (σ² + σ_floor²)

with K the PSF's transfer function (`midnet.psf.render_torch.kernel_otf`, the same kernels the
training blur uses), |D|² the transfer function of the discrete gradient (a smoothness prior
rather than a flat one: it leaves the mean and the coarse structure alone and damps only where
the blur has destroyed the signal) and σ the noise level, so that the balance follows the noise.
At zero frequency |D|² = 0 and K = 1, so every estimate keeps the image's mean whatever λ.

The input is reflect-padded by the kernel radius before the FFT, so the circular wrap of the FFT
falls in the margin that is cut off (as `midnet.psf.render_torch.blur_batch` blurs).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from midnet.psf.render_torch import kernel_otf, render_kernels

#: noise floor (8-bit quantisation ≈ 0.29 grey levels): λ never reaches 0, even for "noise 0"
SIGMA_FLOOR = 0.5 / 255.0


def gradient_power(shape: tuple[int, int], device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """|D|² on the ``rfft2`` grid of an (H, W) image: the sum of the squared transfer functions
    of the forward differences along rows and columns, 4 sin²(π f_y) + 4 sin²(π f_x)."""
    h, w = shape
    fy = torch.fft.fftfreq(h, device=device, dtype=dtype)[:, None]
    fx = torch.fft.rfftfreq(w, device=device, dtype=dtype)[None, :]
    return 4 * torch.sin(math.pi * fy) ** 2 + 4 * torch.sin(math.pi * fx) ** 2


def wiener_deconvolve(x: torch.Tensor, psf: torch.Tensor, noise_sigma: torch.Tensor, strengths: torch.Tensor,
                      radius: int = 48) -> torch.Tensor:
    """Tikhonov–Wiener estimates of a (B, 1, H, W) batch at each regularisation strength.

    ``psf``: (B, 4) rows of `midnet.psf.render_torch.PARAMS`; ``noise_sigma``: (B,) in [0, 1]
    units; ``strengths``: (K,) positive factors c_k (λ_k = c_k · (σ² + σ_floor²)). Returns
    (B, K, H, W), float32 whatever the input's dtype (FFTs are not done in half precision).
    The kernel grid's half size is ``radius``, capped below the image size (reflect padding)."""
    b, _, h, w = x.shape
    r = max(0, min(int(radius), h - 1, w - 1))
    with torch.autocast(device_type=x.device.type, enabled=False):
        x = x.float()
        kernels = render_kernels(psf.float(), r)
        padded = F.pad(x, (r, r, r, r), mode="reflect") if r else x
        hp, wp = padded.shape[-2:]
        otf = kernel_otf(kernels, (hp, wp))                                  # (B, hp, wp//2+1)
        d2 = gradient_power((hp, wp), x.device, torch.float32)
        var = noise_sigma.float().reshape(b, 1, 1, 1) ** 2 + SIGMA_FLOOR ** 2
        lam = strengths.float().reshape(1, -1, 1, 1) * var                     # (B, K, 1, 1)
        num = torch.conj(otf)[:, None] * torch.fft.rfft2(padded)               # (B, 1, hp, wf)
        den = (otf.real ** 2 + otf.imag ** 2)[:, None] + lam * d2
        out = torch.fft.irfft2(num / den, s=(hp, wp))
        return out[..., r:r + h, r:r + w]
