"""Helpers shared by the re-implemented baseline networks (HINet, Restormer, DMPHN).

Why: every baseline needs its input padded to a multiple of its down-sampling factor (the
contract says models accept any H, W) and every published checkpoint wraps its weights in a
slightly different dictionary; both chores live here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F

#: keys under which the official repositories store the network weights, in preference order
_WRAPPER_KEYS = ("params", "params_ema", "state_dict", "model", "net")


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


def unwrap_state_dict(obj: Any, *, source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Return the plain state dict inside an official checkpoint object.

    BasicSR-style checkpoints (HINet, Restormer) store `{"params": state_dict}` (sometimes
    `params_ema`); some forks wrap in `state_dict`/`model`; a `module.` prefix from DataParallel
    is stripped.
    """
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{source}: does not contain a state dict (expected a mapping of tensors, "
                         f"optionally under one of {_WRAPPER_KEYS}); pass an official weights file")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}


def load_official_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Read an official `.pth`/`.pkl` weights file (weights only, never arbitrary objects)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: official checkpoint not found; download it from the "
                                f"authors' release page and pass its path")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    return unwrap_state_dict(obj, source=str(path))
