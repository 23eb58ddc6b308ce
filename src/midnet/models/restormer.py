"""Restormer (Zamir et al., CVPR 2022): a four-level transformer U-Net with channel attention.

Re-implemented for midnet so the paper's comparison can be rerun with our training code.
Attribute names and tensor shapes follow the official implementation (swz30/Restormer,
`basicsr/models/archs/restormer_arch.py`) so the published `motion_deblurring.pth`
(`{"params": ...}`) loads with `strict=True`. The dual-pixel variant (6-channel input, no global
residual) is not supported: it is a different task.

Building blocks: MDTA (multi-Dconv-head transposed attention: attention across channels, so the
cost is linear in the number of pixels) and GDFN (gated-Dconv feed-forward), each behind a
per-pixel layer norm over channels; pixel-(un)shuffle resizing; global residual.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from midnet.models.baseline_utils import crop_to, pad_to_multiple


class _ChannelLayerNormBody(nn.Module):
    """Layer norm over the channel axis of (B, C, H, W) (the official code reshapes to (B, HW, C))."""

    def __init__(self, channels: int, with_bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.with_bias = with_bias
        if with_bias:
            self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = x.var(dim=1, keepdim=True, unbiased=False)
        scale = self.weight.view(1, -1, 1, 1)
        if self.with_bias:
            mean = x.mean(dim=1, keepdim=True)
            return (x - mean) / torch.sqrt(var + 1e-5) * scale + self.bias.view(1, -1, 1, 1)
        # the bias-free variant normalises the variance but does not subtract the mean
        return x / torch.sqrt(var + 1e-5) * scale


class ChannelLayerNorm(nn.Module):
    """Wrapper whose `body` holds the parameters (official key layout `normX.body.weight`)."""

    def __init__(self, channels: int, layer_norm_type: str) -> None:
        super().__init__()
        if layer_norm_type not in ("WithBias", "BiasFree"):
            raise ValueError(f"LayerNorm_type must be 'WithBias' or 'BiasFree', got {layer_norm_type!r}")
        self.body = _ChannelLayerNormBody(channels, with_bias=layer_norm_type == "WithBias")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class GatedDconvFeedForward(nn.Module):
    """GDFN: 1×1 expand to two branches, depth-wise 3×3, GELU gate, 1×1 project back."""

    def __init__(self, dim: int, expansion: float, bias: bool) -> None:
        super().__init__()
        hidden = int(dim * expansion)
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2, bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(gate) * value)


class TransposedAttention(nn.Module):
    """MDTA: per-head C×C attention between L2-normalised queries and keys, learned temperature."""

    def __init__(self, dim: int, num_heads: int, bias: bool) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"Restormer: {dim} channels cannot be split into {num_heads} heads")
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        heads = self.num_heads
        q, k, v = (t.reshape(b, heads, c // heads, h * w) for t in self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1))
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1) * self.temperature).softmax(dim=-1)
        return self.project_out((attn @ v).reshape(b, c, h, w))


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, num_heads: int, expansion: float, bias: bool, layer_norm_type: str) -> None:
        super().__init__()
        self.norm1 = ChannelLayerNorm(dim, layer_norm_type)
        self.attn = TransposedAttention(dim, num_heads, bias)
        self.norm2 = ChannelLayerNorm(dim, layer_norm_type)
        self.ffn = GatedDconvFeedForward(dim, expansion, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class _PatchEmbed(nn.Module):
    def __init__(self, in_channels: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class _Resize(nn.Module):
    """3×3 conv then pixel-unshuffle (halve: C→C/2→2C) or pixel-shuffle (double: C→2C→C/2)."""

    def __init__(self, channels: int, down: bool) -> None:
        super().__init__()
        if down:
            self.body = nn.Sequential(nn.Conv2d(channels, channels // 2, 3, padding=1, bias=False),
                                      nn.PixelUnshuffle(2))
        else:
            self.body = nn.Sequential(nn.Conv2d(channels, channels * 2, 3, padding=1, bias=False),
                                      nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Restormer(nn.Module):
    """Restormer for single-image restoration (global residual: output = net(x) + x)."""

    size_multiple = 8

    def __init__(self, in_channels: int = 3, dim: int = 48, num_blocks: Sequence[int] = (4, 6, 6, 8),
                 num_refinement_blocks: int = 4, heads: Sequence[int] = (1, 2, 4, 8),
                 ffn_expansion_factor: float = 2.66, bias: bool = False,
                 layer_norm_type: str = "WithBias") -> None:
        super().__init__()
        if len(num_blocks) != 4 or len(heads) != 4:
            raise ValueError(f"Restormer needs 4 levels: num_blocks={num_blocks}, heads={heads}")

        def stage(width: int, n_heads: int, count: int) -> nn.Sequential:
            return nn.Sequential(*[TransformerBlock(width, n_heads, ffn_expansion_factor, bias, layer_norm_type)
                                   for _ in range(count)])

        d1, d2, d3, d4 = dim, dim * 2, dim * 4, dim * 8
        self.patch_embed = _PatchEmbed(in_channels, d1)
        self.encoder_level1 = stage(d1, heads[0], num_blocks[0])
        self.down1_2 = _Resize(d1, down=True)
        self.encoder_level2 = stage(d2, heads[1], num_blocks[1])
        self.down2_3 = _Resize(d2, down=True)
        self.encoder_level3 = stage(d3, heads[2], num_blocks[2])
        self.down3_4 = _Resize(d3, down=True)
        self.latent = stage(d4, heads[3], num_blocks[3])
        self.up4_3 = _Resize(d4, down=False)
        self.reduce_chan_level3 = nn.Conv2d(d4, d3, 1, bias=bias)
        self.decoder_level3 = stage(d3, heads[2], num_blocks[2])
        self.up3_2 = _Resize(d3, down=False)
        self.reduce_chan_level2 = nn.Conv2d(d3, d2, 1, bias=bias)
        self.decoder_level2 = stage(d2, heads[1], num_blocks[1])
        self.up2_1 = _Resize(d2, down=False)
        # level 1 of the decoder keeps 2·dim channels (no channel reduction after the concat)
        self.decoder_level1 = stage(d2, heads[0], num_blocks[0])
        self.refinement = stage(d2, heads[0], num_refinement_blocks)
        self.output = nn.Conv2d(d2, in_channels, 3, padding=1, bias=bias)

    def forward_unpadded(self, image: torch.Tensor) -> torch.Tensor:
        """The network on an input whose H, W are multiples of 8."""
        enc1 = self.encoder_level1(self.patch_embed(image))
        enc2 = self.encoder_level2(self.down1_2(enc1))
        enc3 = self.encoder_level3(self.down2_3(enc2))
        latent = self.latent(self.down3_4(enc3))
        dec3 = self.decoder_level3(self.reduce_chan_level3(torch.cat([self.up4_3(latent), enc3], 1)))
        dec2 = self.decoder_level2(self.reduce_chan_level2(torch.cat([self.up3_2(dec3), enc2], 1)))
        dec1 = self.decoder_level1(torch.cat([self.up2_1(dec2), enc1], 1))
        return self.output(self.refinement(dec1)) + image

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, size = pad_to_multiple(x, self.size_multiple)
        return crop_to(self.forward_unpadded(padded), size)
