"""Registry entries for the comparison baselines of the paper: HINet, Restormer, DMPHN 1-2-4.

Why separate from `zoo.py`: these are re-implementations of other authors' networks, kept with
their published configurations (HINet: GoPro option file; Restormer: motion-deblurring option
file; DMPHN: the 1-2-4 script) so the paper's tables can be regenerated. `in_channels` defaults
to 1 (grey SEM); the official checkpoints are 3-channel, so load them with `in_channels=3`.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from midnet.models.baseline_utils import load_official_checkpoint
from midnet.models.dmphn import DMPHN124, load_official_dmphn
from midnet.models.hinet import HINet
from midnet.models.registry import register
from midnet.models.restormer import Restormer

#: options/test/GoPro/HINet-GoPro.yml (wf 64, HIN at depths 3..4); depth and slope are defaults
HINET_GOPRO = {"wf": 64, "depth": 5, "relu_slope": 0.2, "hin_position_left": 3, "hin_position_right": 4}
#: Motion_Deblurring/Options/Deblurring_Restormer.yml
RESTORMER_MOTION = {"dim": 48, "num_blocks": [4, 6, 6, 8], "num_refinement_blocks": 4, "heads": [1, 2, 4, 8],
                    "ffn_expansion_factor": 2.66, "bias": False, "layer_norm_type": "WithBias"}
#: models.Encoder/Decoder: 32/64/128 channels, the official weight initialisation
DMPHN_124 = {"width": 32, "official_init": True}


def build_hinet(in_channels: int = 1, **kwargs) -> nn.Module:
    return HINet(in_channels=in_channels, **kwargs)


def build_restormer(in_channels: int = 1, **kwargs) -> nn.Module:
    return Restormer(in_channels=in_channels, **kwargs)


def build_dmphn(in_channels: int = 1, **kwargs) -> nn.Module:
    return DMPHN124(in_channels=in_channels, **kwargs)


def load_official_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load an authors' checkpoint strictly: a `.pth` for HINet/Restormer, a folder for DMPHN."""
    if isinstance(model, DMPHN124):
        return load_official_dmphn(model, path)
    model.load_state_dict(load_official_checkpoint(path), strict=True)
    return model


register("hinet", build_hinet, defaults=HINET_GOPRO, family="baseline", size_multiple=16,
         description="HINet (Chen et al. 2021), GoPro configuration, 88.7 M parameters at 3 channels")
register("restormer", build_restormer, defaults=RESTORMER_MOTION, family="baseline", size_multiple=8,
         description="Restormer (Zamir et al. 2022), motion-deblurring configuration, 26.1 M parameters at 3 channels")
register("dmphn-1-2-4", build_dmphn, defaults=DMPHN_124, family="baseline",
         description="DMPHN 1-2-4 (Zhang et al. 2019), 5.4 M parameters at 3 channels")
