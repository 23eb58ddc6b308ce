"""A small timm-style model registry: names map to a builder and its default configuration.

Why a registry: the CLI, training configs, checkpoints and benchmarks all refer to models by
name, and a checkpoint stores the name plus the overrides so it can rebuild its own network.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., nn.Module]
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    family: str = ""


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, builder: Callable[..., nn.Module], *, defaults: dict[str, Any] | None = None,
             description: str = "", family: str = "") -> None:
    """Register `builder(in_channels=..., **defaults)` under `name` (names are unique)."""
    if name in _REGISTRY:
        raise ValueError(f"model name {name!r} is already registered")
    _REGISTRY[name] = ModelEntry(name, builder, dict(defaults or {}), description, family)


def available() -> list[str]:
    """All registered model names, sorted."""
    _ensure_builtin()
    return sorted(_REGISTRY)


def entry(name: str) -> ModelEntry:
    _ensure_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(available())}") from None


def model_config(name: str, **overrides: Any) -> dict[str, Any]:
    """The resolved constructor keyword arguments for `name` with `overrides` applied."""
    cfg = copy.deepcopy(entry(name).defaults)
    unknown = set(overrides) - set(cfg) - {"in_channels"}
    if unknown:
        raise TypeError(f"model {name!r} has no option(s) {sorted(unknown)}; options: {sorted(cfg)}")
    cfg.update(overrides)
    return cfg


def build(name: str, *, in_channels: int = 1, **overrides: Any) -> nn.Module:
    cfg = model_config(name, **overrides)
    cfg.pop("in_channels", None)
    model = entry(name).builder(in_channels=in_channels, **cfg)
    model.midnet_name = name
    model.midnet_config = {"in_channels": in_channels, **cfg}
    return model


def _ensure_builtin() -> None:
    # importing the architecture modules registers their names
    import midnet.models.zoo  # noqa: F401
