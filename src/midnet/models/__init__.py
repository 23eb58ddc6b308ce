"""Deblurring networks by name: MIDNet, NAFNet and the paper's baselines.

>>> from midnet import models
>>> net = models.create("midnet-paper", in_channels=1)
>>> net = models.create("midnet-paper", checkpoint="NAFNet-GoPro-width32.pth")  # paper's fine-tuning start
>>> net = models.load_model("runs/x/best.safetensors")  # architecture read from the file
>>> net = models.load_model("sem-general")                 # a name with trained weights

Names with weights (``available(trained=True)``) are listed in :mod:`midnet.models.pretrained`;
``create(name)`` builds any architecture untrained, ``load_model(name)`` refuses one without
weights (:class:`NoWeightsError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

# importing the architecture modules registers their names (zoo before the weights that use them)
from midnet.models import zoo, zoo_baselines  # noqa: F401
from midnet.models import pretrained  # noqa: F401
from midnet.models.checkpoints import LoadReport, infer_nafnet_config, load_weights, read_weights, save_weights
from midnet.models.pretrained import DEFAULT_MODEL, PSF_MODEL
from midnet.models.registry import (available, build, entry, in_channels, model_config, register, register_alias,
                                    register_weights, shipped_train_size, size_multiple, train_size)
from midnet.models.tlc import disable_tlc, enable_tlc, tlc_enabled

__all__ = [
    "create", "available", "model_config", "register", "register_weights", "register_alias", "load_model", "save_model",
    "enable_tlc", "disable_tlc", "tlc_enabled", "LoadReport", "describe", "in_channels", "size_multiple",
    "train_size",
    "DEFAULT_MODEL", "PSF_MODEL", "NoWeightsError", "is_psf_aware",
]


class NoWeightsError(ValueError):
    """A model name without trained weights was given where a trained model is needed."""


def create(name: str, *, in_channels: int = 1, checkpoint: str | Path | None = None,
           strict: bool | None = None, **overrides: Any) -> nn.Module:
    """Build the registered model ``name``; optionally load ``checkpoint`` into it.

    ``checkpoint`` may be one of our safetensors files, a Lightning checkpoint, an official
    NAFNet ``.pth``, or the name of a model with shipped weights (``sem-general``: a fine-tune
    recipe then runs from a pip install, where ``src/`` does not exist); channel counts are adapted (see ``checkpoints.adapt_channels``). The load
    report (what stayed at initialisation, what was adapted) is kept in
    ``model.midnet_load_report``.
    """
    model = build(name, in_channels=in_channels, **overrides)
    if checkpoint is not None and not Path(checkpoint).exists() and str(checkpoint) in available(trained=True):
        checkpoint = entry(str(checkpoint)).weights_path
    if checkpoint is not None:
        model.midnet_load_report = load_weights(model, checkpoint, strict=strict)
    return model


def load_model(name_or_path: str | Path, *, in_channels: int | None = None) -> nn.Module:
    """A ready model from a registry name or a checkpoint file that names its architecture.

    Files without architecture metadata (official NAFNet ``.pth``) are recognised from their
    parameter shapes. ``in_channels`` overrides the file's channel count (weights adapted).
    The training crop size, where the registry entry or the file's ``midnet_train_size``
    metadata states it, is kept as ``model.midnet_train_size`` (`train_size`).
    """
    text = str(name_or_path)
    if text in available():
        weights = entry(text).weights_path
        if weights is None:
            raise NoWeightsError(f"{text}: has no trained weights; pass a checkpoint or train one "
                                 f"(models with weights: {', '.join(available(trained=True))}; "
                                 f"models.create({text!r}) builds it untrained)")
        if not weights.is_file():
            raise FileNotFoundError(f"{text}: its weights file {weights} is not installed; reinstall midnet "
                                    f"or pass a checkpoint file")
        return load_model(weights, in_channels=in_channels)
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(
            f"{text}: neither a checkpoint file nor a model name; names with weights: "
            f"{', '.join(available(trained=True))}"
        )
    state, meta = read_weights(path)
    if "midnet_arch" in meta:
        cfg = dict(meta.get("midnet_config") or {})
        file_channels = int(cfg.pop("in_channels", 1))
        model = create(meta["midnet_arch"], in_channels=in_channels or file_channels, checkpoint=path, **cfg)
        size = meta.get("midnet_train_size")
        size = int(size) if str(size).isdigit() else shipped_train_size(path)
        if size:
            model.midnet_train_size = size
        return model
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


def is_psf_aware(model: nn.Module | str) -> bool:
    """Whether a network (or a registered name) takes ``psf=`` and ``noise_sigma=``: its class
    says so (`midnet.models.psf_aware.PSFAwareMIDNet.psf_aware`), so inference knows to pass them."""
    if isinstance(model, str):
        return bool(getattr(entry(model).builder, "psf_aware", False))
    return bool(getattr(model, "psf_aware", False))


def describe(name: str) -> str:
    return entry(name).description
