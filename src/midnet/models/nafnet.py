"""NAFNet (Chen et al., ECCV 2022) and MIDNet (Wang et al., 2024) as one U-Net.

NAFNet: 3x3 intro conv -> encoder levels (NAFBlocks, then a 2x2 stride-2 conv doubling the
channels) -> middle NAFBlocks -> decoder levels (1x1 conv + PixelShuffle(2) halving the
channels, add the encoder skip, NAFBlocks) -> 3x3 ending conv -> global residual (+ input).
MIDNet replaces each additive skip by an :class:`AttentionGate` (paper Sec. 3.3); everything
else, names included, is NAFNet's, so an official NAFNet checkpoint fills every MIDNet weight
except the gates.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from midnet.models.attention_gate import AttentionGate
from midnet.models.layers import NAFBlock


class NAFNet(nn.Module):
    """NAFNet with the official parameter names (``intro``, ``encoders``, ``downs``, ...).

    Any input size works: the input is zero-padded on the bottom/right to a multiple of
    2**levels (as the official ``check_image_size``) and the output cropped back.
    """

    def __init__(
        self,
        in_channels: int = 3,
        width: int = 32,
        middle_blk_num: int = 1,
        enc_blk_nums: Sequence[int] = (1, 1, 1, 28),
        dec_blk_nums: Sequence[int] = (1, 1, 1, 1),
        drop_out_rate: float = 0.0,
    ) -> None:
        super().__init__()
        if len(enc_blk_nums) != len(dec_blk_nums):
            raise ValueError("enc_blk_nums and dec_blk_nums must have the same length (one per level)")
        self.in_channels = in_channels
        self.intro = nn.Conv2d(in_channels, width, 3, padding=1, bias=True)
        self.ending = nn.Conv2d(width, in_channels, 3, padding=1, bias=True)
        self.encoders = nn.ModuleList()
        self.decoders = nn.ModuleList()
        self.ups = nn.ModuleList()
        self.downs = nn.ModuleList()
        chan = width
        for num in enc_blk_nums:
            self.encoders.append(nn.Sequential(*[NAFBlock(chan, drop_out_rate=drop_out_rate) for _ in range(num)]))
            self.downs.append(nn.Conv2d(chan, 2 * chan, 2, 2))
            chan *= 2
        self.middle_blks = nn.Sequential(*[NAFBlock(chan, drop_out_rate=drop_out_rate) for _ in range(middle_blk_num)])
        for num in dec_blk_nums:
            self.ups.append(nn.Sequential(nn.Conv2d(chan, chan * 2, 1, bias=False), nn.PixelShuffle(2)))
            chan //= 2
            self.decoders.append(nn.Sequential(*[NAFBlock(chan, drop_out_rate=drop_out_rate) for _ in range(num)]))
        self.padder_size = 2 ** len(self.encoders)

    def merge_skip(self, level: int, x_up: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """How decoder level ``level`` (0 = deepest) combines its input with the encoder skip."""
        return x_up + skip

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        return self.residual(inp) + inp

    def residual(self, inp: torch.Tensor) -> torch.Tensor:
        """The U-Net without its global skip: what the network adds to its input. A network that
        adds it to another base (the PSF-aware model's Wiener estimate) calls this."""
        _, _, h, w = inp.shape
        x = self.intro(self._pad(inp))
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.middle_blks(x)
        for level, (decoder, up, skip) in enumerate(zip(self.decoders, self.ups, skips[::-1])):
            x = decoder(self.merge_skip(level, up(x), skip))
        return self.ending(x)[:, :, :h, :w]

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.shape
        ph = (self.padder_size - h % self.padder_size) % self.padder_size
        pw = (self.padder_size - w % self.padder_size) % self.padder_size
        # no branch on the sizes: exporters (ONNX, TorchScript) then keep height and width dynamic
        return F.pad(x, (0, pw, 0, ph))


class MIDNet(NAFNet):
    """NAFNet with an additive attention gate on every encoder -> decoder skip.

    ``gate_channels``: inner channels of each gate, as a multiple of the skip's channels
    (1.0 = as many as the skip, the paper's configuration: 17.29 M parameters at width 32).
    ``gates[i]`` serves decoder level i (0 = deepest).
    """

    def __init__(self, *args, gate_channels: float = 1.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gates = nn.ModuleList()
        for up in self.ups:
            c = up[0].out_channels // 4  # channels after PixelShuffle(2) = skip channels
            self.gates.append(AttentionGate(c, c, max(1, int(round(c * gate_channels)))))

    def merge_skip(self, level: int, x_up: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.gates[level](x_up, skip)
