"""MIDNet's additive attention gate on an encoder -> decoder skip (paper Eq. 7-8, Fig. 5).

    W_att = psi(ReLU(W_a x_a + W_b x_b + b_f)) + b_psi
    x_b'  = sigmoid(W_att) * x_b

x_a is the upsampled decoder feature (the gating signal), x_b the encoder skip; W_a, W_b and
psi are 1x1 convolutions, b_f is carried by W_a's bias and b_psi by psi's. psi maps to a single
channel, so the gate is one spatial weight map per skip (as in Attention U-Net). No batch norm:
batches are small and NAFNet avoids it. The decoder then continues with x_a + x_b'.
"""

from __future__ import annotations

import torch
from torch import nn


class AttentionGate(nn.Module):
    def __init__(self, skip_channels: int, gating_channels: int | None = None, inner_channels: int | None = None) -> None:
        super().__init__()
        gating_channels = gating_channels or skip_channels
        inner = inner_channels or skip_channels
        self.W_a = nn.Conv2d(gating_channels, inner, 1, bias=True)  # bias = b_f
        self.W_b = nn.Conv2d(skip_channels, inner, 1, bias=False)
        self.psi = nn.Conv2d(inner, 1, 1, bias=True)  # bias = b_psi

    def attention(self, x_a: torch.Tensor, x_b: torch.Tensor) -> torch.Tensor:
        """The gate's coefficients sigmoid(W_att), shape (N, 1, H, W)."""
        return torch.sigmoid(self.psi(torch.relu(self.W_a(x_a) + self.W_b(x_b))))

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor) -> torch.Tensor:
        """Return x_a + sigmoid(W_att) * x_b: the gated skip merged into the decoder path."""
        return x_a + self.attention(x_a, x_b) * x_b
