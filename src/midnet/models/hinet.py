"""HINet (Chen et al., CVPRW 2021): a two-stage U-Net with Half Instance Normalisation blocks.

Re-implemented for midnet so the paper's comparison can be rerun with the same training code as
MIDNet. Attribute names and tensor shapes follow the official implementation
(megvii-model/HINet, `basicsr/models/archs/hinet_arch.py`), so the authors' published
checkpoints (e.g. `HINet-GoPro.pth`, `{"params": ...}`) load with `strict=True`.

Structure, as in the paper: stage 1 is a U-Net whose output feeds a supervised attention module
(SAM); stage 2 is a second U-Net that also receives stage-1 encoder and decoder features through
cross-stage feature fusion (CSFF). Blocks at depths `hin_position_left..hin_position_right`
instance-normalise half of their channels. The global residual adds the input to the stage-2
output. The only generalisation is `in_channels`: the SAM image branch and the output layer use
it where the official code hard-codes 3 (identical at 3 channels).
"""

from __future__ import annotations

import torch
from torch import nn

from midnet.models.baseline_utils import crop_to, pad_to_multiple


class SupervisedAttention(nn.Module):
    """SAM: predicts the stage-1 image and uses it to gate the features passed to stage 2."""

    def __init__(self, channels: int, image_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, image_channels, 3, padding=1)
        self.conv3 = nn.Conv2d(image_channels, channels, 3, padding=1)

    def forward(self, feat: torch.Tensor, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stage_image = self.conv2(feat) + image
        gate = torch.sigmoid(self.conv3(stage_image))
        return self.conv1(feat) * gate + feat, stage_image


class HalfInstanceBlock(nn.Module):
    """Two 3×3 convs with a 1×1 identity path; optional HIN, CSFF inputs and 4×4/2 down-conv.

    `forward` returns `(down_sampled, full_resolution)` when the block down-samples, otherwise
    the full-resolution output alone (the official calling convention).
    """

    def __init__(self, in_ch: int, out_ch: int, *, downsample: bool, relu_slope: float,
                 use_csff: bool = False, use_hin: bool = False) -> None:
        super().__init__()
        self.identity = nn.Conv2d(in_ch, out_ch, 1)
        self.conv_1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.relu_1 = nn.LeakyReLU(relu_slope)
        self.conv_2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.relu_2 = nn.LeakyReLU(relu_slope)
        self.use_csff = bool(downsample and use_csff)
        if self.use_csff:
            self.csff_enc = nn.Conv2d(out_ch, out_ch, 3, padding=1)
            self.csff_dec = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.use_HIN = use_hin
        if use_hin:
            self.norm = nn.InstanceNorm2d(out_ch // 2, affine=True)
        self.has_downsample = downsample
        if downsample:
            self.downsample = nn.Conv2d(out_ch, out_ch, 4, stride=2, padding=1, bias=False)

    def forward(self, x: torch.Tensor, enc: torch.Tensor | None = None,
                dec: torch.Tensor | None = None) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out = self.conv_1(x)
        if self.use_HIN:
            half = self.norm.num_features
            out = torch.cat([self.norm(out[:, :half]), out[:, half:]], dim=1)
        out = self.relu_2(self.conv_2(self.relu_1(out))) + self.identity(x)
        if enc is not None and dec is not None:
            if not self.use_csff:
                raise RuntimeError("cross-stage features passed to a block built without CSFF")
            out = out + self.csff_enc(enc) + self.csff_dec(dec)
        if self.has_downsample:
            return self.downsample(out), out
        return out


class UpBlock(nn.Module):
    """2×2 transposed-conv up-sampling, concatenation with the skip, then a plain block."""

    def __init__(self, in_ch: int, out_ch: int, relu_slope: float) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, kernel_size=2, stride=2)
        self.conv_block = HalfInstanceBlock(in_ch, out_ch, downsample=False, relu_slope=relu_slope)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv_block(torch.cat([self.up(x), skip], dim=1))


class HINet(nn.Module):
    """HINet; `forward` returns the final (stage-2) restoration, `forward_stages` both stages."""

    def __init__(self, in_channels: int = 3, wf: int = 64, depth: int = 5, relu_slope: float = 0.2,
                 hin_position_left: int = 0, hin_position_right: int = 4) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"HINet depth must be >= 2, got {depth}")
        self.depth = depth
        self.conv_01 = nn.Conv2d(in_channels, wf, 3, padding=1)
        self.conv_02 = nn.Conv2d(in_channels, wf, 3, padding=1)
        widths = [wf * 2**i for i in range(depth)]
        self.down_path_1 = nn.ModuleList()
        self.down_path_2 = nn.ModuleList()
        prev = wf
        for i, width in enumerate(widths):
            hin = hin_position_left <= i <= hin_position_right
            down = i + 1 < depth
            self.down_path_1.append(HalfInstanceBlock(prev, width, downsample=down, relu_slope=relu_slope,
                                                      use_hin=hin))
            self.down_path_2.append(HalfInstanceBlock(prev, width, downsample=down, relu_slope=relu_slope,
                                                      use_csff=down, use_hin=hin))
            prev = width
        self.up_path_1 = nn.ModuleList()
        self.up_path_2 = nn.ModuleList()
        self.skip_conv_1 = nn.ModuleList()
        self.skip_conv_2 = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.up_path_1.append(UpBlock(prev, width, relu_slope))
            self.up_path_2.append(UpBlock(prev, width, relu_slope))
            self.skip_conv_1.append(nn.Conv2d(width, width, 3, padding=1))
            self.skip_conv_2.append(nn.Conv2d(width, width, 3, padding=1))
            prev = width
        self.sam12 = SupervisedAttention(prev, in_channels)
        self.cat12 = nn.Conv2d(prev * 2, prev, 1)
        self.last = nn.Conv2d(prev, in_channels, 3, padding=1)

    @property
    def size_multiple(self) -> int:
        return 2 ** (self.depth - 1)

    def _encode(self, path: nn.ModuleList, x: torch.Tensor, encs: list[torch.Tensor] | None = None,
                decs: list[torch.Tensor] | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips: list[torch.Tensor] = []
        for i, block in enumerate(path):
            if i + 1 < self.depth:
                fused = (encs[i], decs[-i - 1]) if encs is not None and decs is not None else ()
                x, skip = block(x, *fused)
                skips.append(skip)
            else:
                x = block(x)
        return x, skips

    def forward_stages(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both stage outputs on an input whose H, W are multiples of `size_multiple`."""
        x1, encs = self._encode(self.down_path_1, self.conv_01(image))
        decs: list[torch.Tensor] = []
        for i, up in enumerate(self.up_path_1):
            x1 = up(x1, self.skip_conv_1[i](encs[-i - 1]))
            decs.append(x1)
        sam_feature, out_1 = self.sam12(x1, image)

        x2 = self.cat12(torch.cat([self.conv_02(image), sam_feature], dim=1))
        x2, blocks = self._encode(self.down_path_2, x2, encs, decs)
        for i, up in enumerate(self.up_path_2):
            x2 = up(x2, self.skip_conv_2[i](blocks[-i - 1]))
        return out_1, self.last(x2) + image

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, size = pad_to_multiple(x, self.size_multiple)
        return crop_to(self.forward_stages(padded)[1], size)
