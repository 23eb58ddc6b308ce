"""PSF-aware MIDNet: Wiener–Tikhonov deconvolutions with the given PSF, refined by MIDNet.

Why this pattern (issue 18, section 2): a blind network under-restores known defocus, and one
told the PSF must not spend its capacity learning an FFT inverse. As in Son & Lee 2017 (fast
non-blind deconvolution with regularised residual networks), FDN, DWDN and USRNet, the known
part is closed form and the learned part is the prior: `midnet.models.wiener` deconvolves the
reflect-padded input at K regularisation strengths scaled by the noise level (under- to
over-regularised: sharp but noisy, to clean but soft), and a MIDNet U-Net sees

    [input, Wiener_1 .. Wiener_K, noise map, PSF-width map]

and predicts a residual on top of the middle Wiener estimate. The MIDNet (attention-gated
NAFNet) stays the heart of the restoration; the Wiener channels only tell it what the blur was.

Robustness to a wrong PSF (the estimate is ±20 % off, sometimes the wrong family) is learned:
training gives the network the *perturbed* PSF of `midnet.data.degrade_torch` (``given_psf``),
and the raw input is always among its channels, so it can fall back on it.

``psf=None`` means "in focus: denoise only": every Wiener channel is the input itself and the
residual is added to the input. The last convolution starts at zero, so an untrained network
returns its base estimate exactly (the input when ``psf`` is None): training starts from the
classical answer, not from noise. The regularisation strengths are learned (in log space).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from midnet.models.nafnet import MIDNet
from midnet.models.wiener import wiener_deconvolve
from midnet.psf.render_torch import NONE

#: noise σ (in [0, 1] units) and PSF width (px) that map to 1 in the constant maps the U-Net sees
NOISE_SCALE = 30.0 / 255.0
WIDTH_SCALE = 10.0
#: Wiener estimates are clipped to this range before the U-Net and as the base: ringing of an
#: under-regularised inverse can reach far outside [0, 1] and would dominate the features
CLIP = (-0.5, 1.5)


class PSFAwareMIDNet(nn.Module):
    """MIDNet refining K Wiener–Tikhonov deconvolutions of the input with the given PSF.

    ``forward(x, psf=None, noise_sigma=None)``: ``x`` (B, 1, H, W) in [0, 1]; ``psf`` (B, 4) rows
    of `midnet.psf.render_torch.PARAMS` or None (in focus, denoise only); ``noise_sigma`` (B,) in
    [0, 1] units (σ at mid-grey / 255 for 8-bit data), None = 0. Any H, W (the U-Net pads).

    ``strengths``: the initial c_k of λ_k = c_k (σ² + σ_floor²); the middle one is the base. The
    defaults bracket the best single balance measured on corpus images (Gaussian σ 1–3 px,
    Lorentzian 1.5, noise 3 and 20 grey levels: best c between 30 and 100).
    """

    #: training and inference pass ``psf=`` and ``noise_sigma=`` to networks with this flag
    psf_aware = True

    def __init__(self, in_channels: int = 1, width: int = 8, middle_blk_num: int = 1,
                 enc_blk_nums: Sequence[int] = (1, 1, 1, 1), dec_blk_nums: Sequence[int] = (1, 1, 1, 1),
                 drop_out_rate: float = 0.0, gate_channels: float = 1.0,
                 strengths: Sequence[float] = (15.0, 60.0, 240.0), kernel_radius: int = 32) -> None:
        super().__init__()
        if in_channels != 1:
            raise ValueError("PSFAwareMIDNet restores grey images (in_channels=1): a PSF is per channel")
        if len(strengths) < 1 or any(s <= 0 for s in strengths):
            raise ValueError(f"strengths must be positive, got {list(strengths)}")
        self.in_channels = in_channels
        self.kernel_radius = int(kernel_radius)
        self.num_wiener = len(strengths)
        self.log_strengths = nn.Parameter(torch.log(torch.tensor([float(s) for s in strengths])))
        features = 1 + self.num_wiener + 2
        self.backbone = MIDNet(in_channels=features, width=width, middle_blk_num=middle_blk_num,
                               enc_blk_nums=enc_blk_nums, dec_blk_nums=dec_blk_nums,
                               drop_out_rate=drop_out_rate, gate_channels=gate_channels)
        # a 1-channel residual instead of the backbone's features-channel one; zero: identity start
        self.backbone.ending = nn.Conv2d(width, 1, 3, padding=1, bias=True)
        nn.init.zeros_(self.backbone.ending.weight)
        nn.init.zeros_(self.backbone.ending.bias)

    def estimates(self, x: torch.Tensor, psf: torch.Tensor | None, noise: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W) Wiener estimates, clipped; K copies of the input when ``psf`` is None and
        in the rows of family ``none``, so that training on in-focus samples (given ``none``)
        trains exactly the path ``psf=None`` takes at inference."""
        copies = x.expand(-1, self.num_wiener, -1, -1)
        if psf is None:
            return copies
        out = wiener_deconvolve(x, psf, noise, self.log_strengths.exp(), self.kernel_radius)
        none = (psf[:, 0].round() == NONE).reshape(-1, 1, 1, 1)
        return torch.where(none, copies, out.to(x.dtype).clamp(*CLIP))

    def forward(self, x: torch.Tensor, psf: torch.Tensor | None = None,
                noise_sigma: torch.Tensor | None = None) -> torch.Tensor:
        b, _, h, w = x.shape
        noise = (torch.zeros(b, device=x.device, dtype=x.dtype) if noise_sigma is None
                 else noise_sigma.to(device=x.device, dtype=x.dtype).reshape(b))
        wiener = self.estimates(x, psf, noise)
        base = wiener[:, self.num_wiener // 2:self.num_wiener // 2 + 1]
        width = (torch.zeros_like(noise) if psf is None
                 else torch.sqrt((psf[:, 1] ** 2 + psf[:, 2] ** 2) / 2).to(x.dtype))
        maps = torch.stack([noise / NOISE_SCALE, width / WIDTH_SCALE], dim=1)[:, :, None, None].expand(-1, -1, h, w)
        feats = torch.cat([x, wiener, maps], dim=1)
        return base + self.backbone.residual(feats)

