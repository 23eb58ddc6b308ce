"""NAFNet's building blocks: LayerNorm2d, SimpleGate and the NAFBlock.

Parameter names and shapes follow the official NAFNet implementation
(megvii-research/NAFNet, ``basicsr/models/archs/NAFNet_arch.py``) so that published
checkpoints load with ``strict=True``.
"""

from __future__ import annotations

import torch
from torch import nn


class LayerNorm2d(nn.Module):
    """Layer normalisation over the channel axis of an (N, C, H, W) tensor, per pixel.

    y = weight * (x - mean_c(x)) / sqrt(var_c(x) + eps) + bias, with the biased variance.
    NAFNet uses it instead of batch norm: SEM batches are small and statistics per image
    are what matter.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        y = (x - mu) / (var + self.eps).sqrt()
        return self.weight.view(1, -1, 1, 1) * y + self.bias.view(1, -1, 1, 1)


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them (paper Eq. 4): a GLU without sigma."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=1)
        return x1 * x2


class NAFBlock(nn.Module):
    """The MID-Block / NAFBlock (paper Fig. 2).

    Spatial half: LN -> 1x1 (c -> 2c) -> 3x3 depthwise -> SimpleGate -> simplified channel
    attention (global average pool + 1x1, multiply) -> 1x1 (c -> c), added with scale ``beta``.
    Channel half: LN -> 1x1 (c -> 2c) -> SimpleGate -> 1x1, added with scale ``gamma``.
    ``beta`` and ``gamma`` start at zero (skip-init), so every block starts as the identity;
    this is what keeps a 36-block U-Net stable at learning rate 1e-3.
    """

    def __init__(self, c: int, dw_expand: int = 2, ffn_expand: int = 2, drop_out_rate: float = 0.0) -> None:
        super().__init__()
        dw = c * dw_expand
        self.conv1 = nn.Conv2d(c, dw, 1, bias=True)
        self.conv2 = nn.Conv2d(dw, dw, 3, padding=1, groups=dw, bias=True)
        self.conv3 = nn.Conv2d(dw // 2, c, 1, bias=True)
        # Simplified channel attention; the pool is swapped for a local one by TLC.
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dw // 2, dw // 2, 1, bias=True))
        self.sg = SimpleGate()
        ffn = c * ffn_expand
        self.conv4 = nn.Conv2d(c, ffn, 1, bias=True)
        self.conv5 = nn.Conv2d(ffn // 2, c, 1, bias=True)
        self.norm1 = LayerNorm2d(c)
        self.norm2 = LayerNorm2d(c)
        self.dropout1 = nn.Dropout(drop_out_rate) if drop_out_rate > 0 else nn.Identity()
        self.dropout2 = nn.Dropout(drop_out_rate) if drop_out_rate > 0 else nn.Identity()
        self.beta = nn.Parameter(torch.zeros((1, c, 1, 1)))
        self.gamma = nn.Parameter(torch.zeros((1, c, 1, 1)))

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.conv2(self.conv1(self.norm1(inp)))
        x = self.sg(x)
        x = x * self.sca(x)
        x = self.dropout1(self.conv3(x))
        y = inp + x * self.beta
        x = self.conv5(self.sg(self.conv4(self.norm2(y))))
        return y + self.dropout2(x) * self.gamma
