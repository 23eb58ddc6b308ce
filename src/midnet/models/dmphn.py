"""DMPHN 1-2-4 (Zhang et al., CVPR 2019): deep multi-patch hierarchical deblurring network.

Re-implemented for midnet so the paper's comparison can be rerun with our training code. The
official code (HongguangZhang/DMPHN-cvpr19-master, `models.py` + `DMPHN_1_2_4.py`) keeps six
separate modules (`encoder_lv1..3`, `decoder_lv1..3`) saved as six `.pkl` files; here they are
children of one module with exactly those names, so `state_dict()` keys are
`encoder_lv1.layer1.weight`, … and `load_official_dmphn` maps the six files in strictly.

Hierarchy (coarse to fine): level 3 encodes the four quarter patches, level 2 the two half
patches (plus the level-3 residual images), level 1 the whole image (plus the level-2 residual).
Features are summed upwards, so the finest decoder sees all three levels. Like the official
scripts, the network works on images shifted to [-0.5, 0.5]; `forward` takes and returns [0, 1].
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import torch
from torch import nn

from midnet.models.baseline_utils import crop_to, load_official_checkpoint, pad_to_multiple

LEVELS = ("lv1", "lv2", "lv3")


def _res_pair(ch: int) -> nn.Sequential:
    """conv-ReLU-conv; the caller adds the skip (official layout: Sequential indices 0 and 2)."""
    return nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1))


class PatchEncoder(nn.Module):
    """Three scales of two residual pairs; strided 3×3 convs halve the size twice (÷4)."""

    def __init__(self, in_channels: int = 3, width: int = 32) -> None:
        super().__init__()
        w1, w2, w3 = width, width * 2, width * 4
        self.layer1 = nn.Conv2d(in_channels, w1, 3, padding=1)
        self.layer2 = _res_pair(w1)
        self.layer3 = _res_pair(w1)
        self.layer5 = nn.Conv2d(w1, w2, 3, stride=2, padding=1)
        self.layer6 = _res_pair(w2)
        self.layer7 = _res_pair(w2)
        self.layer9 = nn.Conv2d(w2, w3, 3, stride=2, padding=1)
        self.layer10 = _res_pair(w3)
        self.layer11 = _res_pair(w3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for entry, pairs in ((self.layer1, (self.layer2, self.layer3)),
                             (self.layer5, (self.layer6, self.layer7)),
                             (self.layer9, (self.layer10, self.layer11))):
            x = entry(x)
            for pair in pairs:
                x = pair(x) + x
        return x


class PatchDecoder(nn.Module):
    """Mirror of the encoder with 4×4/2 transposed convs; outputs an image (residual) tensor."""

    def __init__(self, out_channels: int = 3, width: int = 32) -> None:
        super().__init__()
        w1, w2, w3 = width, width * 2, width * 4
        self.layer13 = _res_pair(w3)
        self.layer14 = _res_pair(w3)
        self.layer16 = nn.ConvTranspose2d(w3, w2, 4, stride=2, padding=1)
        self.layer17 = _res_pair(w2)
        self.layer18 = _res_pair(w2)
        self.layer20 = nn.ConvTranspose2d(w2, w1, 4, stride=2, padding=1)
        self.layer21 = _res_pair(w1)
        self.layer22 = _res_pair(w1)
        self.layer24 = nn.Conv2d(w1, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for pairs, exit_ in (((self.layer13, self.layer14), self.layer16),
                             ((self.layer17, self.layer18), self.layer20),
                             ((self.layer21, self.layer22), self.layer24)):
            for pair in pairs:
                x = pair(x) + x
            x = exit_(x)
        return x


def _official_init(module: nn.Module) -> None:
    """The official scripts' `weight_init`: N(0, 0.5·sqrt(2/(k·k·C_out))) weights, zero biases."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        n = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
        nn.init.normal_(module.weight, 0.0, 0.5 * math.sqrt(2.0 / n))
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class DMPHN124(nn.Module):
    """DMPHN with the 1-2-4 patch hierarchy as one module (input/output in [0, 1])."""

    #: quarter patches must survive the encoder's two halvings exactly
    size_multiple = 8

    def __init__(self, in_channels: int = 3, width: int = 32, official_init: bool = True) -> None:
        super().__init__()
        for level in LEVELS:
            setattr(self, f"encoder_{level}", PatchEncoder(in_channels, width))
        for level in LEVELS:
            setattr(self, f"decoder_{level}", PatchDecoder(in_channels, width))
        if official_init:
            self.apply(_official_init)

    def forward_centred(self, images_lv1: torch.Tensor) -> torch.Tensor:
        """The hierarchy on [-0.5, 0.5] input whose H, W are multiples of 8 (official scale)."""
        h, w = images_lv1.shape[-2:]
        top, bottom = images_lv1[..., : h // 2, :], images_lv1[..., h // 2:, :]
        quarters = [half[..., :, cols] for half in (top, bottom)
                    for cols in (slice(0, w // 2), slice(w // 2, w))]
        f3 = [self.encoder_lv3(q) for q in quarters]
        f3_top = torch.cat(f3[:2], dim=3)
        f3_bottom = torch.cat(f3[2:], dim=3)
        feature_lv3 = torch.cat([f3_top, f3_bottom], dim=2)

        f2_top = self.encoder_lv2(top + self.decoder_lv3(f3_top))
        f2_bottom = self.encoder_lv2(bottom + self.decoder_lv3(f3_bottom))
        feature_lv2 = torch.cat([f2_top, f2_bottom], dim=2) + feature_lv3

        feature_lv1 = self.encoder_lv1(images_lv1 + self.decoder_lv2(feature_lv2)) + feature_lv2
        return self.decoder_lv1(feature_lv1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, size = pad_to_multiple(x, self.size_multiple)
        return crop_to(self.forward_centred(padded - 0.5) + 0.5, size)


def official_dmphn_state_dict(files: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Prefix six per-module state dicts (keys `encoder_lv1`, …) into one DMPHN124 state dict."""
    expected = {f"{kind}_{level}" for kind in ("encoder", "decoder") for level in LEVELS}
    missing = expected - set(files)
    if missing:
        raise ValueError(f"DMPHN 1-2-4 needs the six official modules; missing {sorted(missing)}")
    return {f"{name}.{key}": value for name in sorted(expected) for key, value in files[name].items()}


def load_official_dmphn(module: DMPHN124, source: str | Path | Iterable[str | Path]) -> DMPHN124:
    """Load the official `encoder_lv*.pkl` / `decoder_lv*.pkl` files strictly into `module`.

    `source` is the checkpoint folder (e.g. `checkpoints/DMPHN_1_2_4/`) or the six file paths;
    each file's stem names the module it holds.
    """
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: not a folder; pass the DMPHN_1_2_4 checkpoint folder "
                                    f"holding encoder_lv1.pkl … decoder_lv3.pkl")
        paths = sorted(folder.glob("*coder_lv*.pkl"))
    else:
        paths = [Path(p) for p in source]
    files = {p.stem: load_official_checkpoint(p) for p in paths}
    try:
        state = official_dmphn_state_dict(files)
    except ValueError as err:
        raise ValueError(f"{source}: {err}; pass the folder holding all six .pkl files") from None
    module.load_state_dict(state, strict=True)
    return module
