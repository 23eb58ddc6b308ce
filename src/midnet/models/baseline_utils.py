"""Helpers shared by the re-implemented baseline networks (HINet, Restormer, DMPHN).

Why: every baseline needs its input padded to a multiple of its down-sampling factor (the
contract says models accept any H, W) and every published checkpoint wraps its weights in a
slightly different dictionary; both chores live here once.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from midnet.models.checkpoints import read_weights


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad (B, C, H, W) at the bottom/right to a multiple of `multiple`; return it and (H, W).

    Reflection padding is what the official Restormer/HINet test scripts use; it falls back to
    replication when the image is too small to reflect (a reflect pad must be < the size).
    """
    h, w = x.shape[-2:]
    pad_h = (-h) % multiple
    pad_w = (-w) % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (h, w)
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (h, w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo `pad_to_multiple`: keep the top-left (H, W)."""
    return x[..., : size[0], : size[1]]


def load_official_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Read an official `.pth`/`.pkl` weights file through the one checkpoint reader
    (:func:`midnet.models.checkpoints.read_weights`: weights only, never arbitrary objects)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: official checkpoint not found; download it from the "
                                f"authors' release page and pass its path")
    return read_weights(path)[0]
