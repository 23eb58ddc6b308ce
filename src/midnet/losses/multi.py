"""The paper's multi-loss (Eq. 9): L = w_d·L_d + λ1·L_e + λ2·L_f.

* L_d = mean |pred − target|  (Eq. 10, L1 over counted pixels and channels)
* L_e = :class:`midnet.losses.edge.EdgeLoss` (Charbonnier of the Laplacian difference, Eq. 11)
* L_f = :class:`midnet.losses.fft.FFTLoss` (Eq. 12, mode "l1" or "weighted_l2")

Defaults w_d = 1, λ1 = 0.05, λ2 = 0.01 are the paper's. A weight of 0 switches a term off and
skips computing it: the four rows of the paper's Table 3 are (1,0,0), (1,.05,0), (1,0,.01),
(1,.05,.01).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from midnet.losses._masking import check_pair, masked_mean
from midnet.losses.edge import EdgeLoss
from midnet.losses.fft import DEFAULT_FFT_MODE, FFTLoss


class MultiLoss(nn.Module):
    """L = l1_weight·L_d + edge_weight·L_e + fft_weight·L_f; see the module docstring.

    ``forward(pred, target, mask=None) -> (total, terms)``: ``terms`` maps "l1", "edge", "fft"
    to the *unweighted* value of each enabled term, detached, for logging (disabled terms are
    absent). ``mask`` (B, 1, H, W) float, 1 where a pixel counts: every term averages over
    counted pixels only and masked pixels get no gradient.
    """

    def __init__(
        self,
        l1_weight: float = 1.0,
        edge_weight: float = 0.05,
        fft_weight: float = 0.01,
        fft_mode: str = DEFAULT_FFT_MODE,
        edge_eps: float = 1e-3,
        fft_high_freq_gain: float = 1.0,
    ) -> None:
        super().__init__()
        weights = {"l1_weight": l1_weight, "edge_weight": edge_weight, "fft_weight": fft_weight}
        for name, value in weights.items():
            if value < 0:
                raise ValueError(f"MultiLoss: {name} must be >= 0 (0 switches the term off), got {value}")
        if not any(weights.values()):
            raise ValueError("MultiLoss: all weights are 0; enable at least one of l1, edge, fft")
        self.l1_weight = float(l1_weight)
        self.edge_weight = float(edge_weight)
        self.fft_weight = float(fft_weight)
        self.edge = EdgeLoss(edge_eps)
        self.fft = FFTLoss(fft_mode, fft_high_freq_gain)

    def extra_repr(self) -> str:
        return f"l1_weight={self.l1_weight}, edge_weight={self.edge_weight}, fft_weight={self.fft_weight}"

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        check_pair(pred, target, mask)
        terms: dict[str, Tensor] = {}
        total = torch.zeros((), device=pred.device, dtype=torch.float32)
        if self.l1_weight:
            value = masked_mean((pred - target).abs(), mask)
            total = total + self.l1_weight * value
            terms["l1"] = value.detach()
        if self.edge_weight:
            value = self.edge(pred, target, mask)
            total = total + self.edge_weight * value
            terms["edge"] = value.detach()
        if self.fft_weight:
            value = self.fft(pred, target, mask)
            total = total + self.fft_weight * value
            terms["fft"] = value.detach()
        return total, terms
