"""Deblurring networks by name: MIDNet, NAFNet and the paper's baselines.

>>> from midnet import models
>>> net = models.create("midnet-paper", in_channels=1)
>>> net = models.create("midnet-paper", checkpoint="NAFNet-GoPro-width32.pth")  # paper's fine-tuning start
>>> net = models.load_model("runs/x/best.safetensors")  # architecture read from the file
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from midnet.models.checkpoints import LoadReport, infer_nafnet_config, load_weights, read_weights, save_weights
from midnet.models.registry import available, build, entry, model_config, register
from midnet.models.tlc import disable_tlc, enable_tlc, tlc_enabled

__all__ = [
    "create", "available", "model_config", "register", "load_model", "save_model", "enable_tlc",
    "disable_tlc", "tlc_enabled", "LoadReport", "describe",
]


def create(name: str, *, in_channels: int = 1, checkpoint: str | Path | None = None,
           strict: bool | None = None, **overrides: Any) -> nn.Module:
    """Build the registered model ``name``; optionally load ``checkpoint`` into it.

    ``checkpoint`` may be one of our safetensors files, a Lightning checkpoint or an official
    NAFNet ``.pth``; channel counts are adapted (see ``checkpoints.adapt_channels``). The load
    report (what stayed at initialisation, what was adapted) is kept in
    ``model.midnet_load_report``.
    """
    model = build(name, in_channels=in_channels, **overrides)
    if checkpoint is not None:
        model.midnet_load_report = load_weights(model, checkpoint, strict=strict)
    return model


def load_model(name_or_path: str | Path, *, in_channels: int | None = None) -> nn.Module:
    """A ready model from a registry name or a checkpoint file that names its architecture.

    Files without architecture metadata (official NAFNet ``.pth``) are recognised from their
    parameter shapes. ``in_channels`` overrides the file's channel count (weights adapted).
    """
    text = str(name_or_path)
    if text in available():
        return create(text, in_channels=in_channels or 1)
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(
            f"{text}: neither a checkpoint file nor a model name; names: {', '.join(available())}"
        )
    state, meta = read_weights(path)
    if "midnet_arch" in meta:
        cfg = dict(meta.get("midnet_config") or {})
        file_channels = int(cfg.pop("in_channels", 1))
        return create(meta["midnet_arch"], in_channels=in_channels or file_channels, checkpoint=path, **cfg)
    try:
        family, cfg = infer_nafnet_config(state)
    except ValueError:
        raise ValueError(f"{path}: the file does not say which architecture it holds; use "
                         f"models.create(NAME, checkpoint=...) with one of: {', '.join(available())}") from None
    file_channels = cfg.pop("in_channels")
    name = "midnet-paper" if family == "midnet" else "nafnet-width32"
    model = create(name, in_channels=in_channels or file_channels, checkpoint=path, **cfg)
    return model


def save_model(model: nn.Module, path: str | Path, *, name: str | None = None,
               extra_metadata: dict[str, str] | None = None) -> Path:
    """Save weights + architecture as safetensors (atomic write); see ``load_model``."""
    return save_weights(model, path, name=name, extra_metadata=extra_metadata)


def describe(name: str) -> str:
    return entry(name).description
