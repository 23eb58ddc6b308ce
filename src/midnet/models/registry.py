"""A small timm-style model registry: names map to a builder, its defaults and, optionally, weights.

Why a registry: the CLI, training configs, checkpoints and benchmarks all refer to models by
name, and a checkpoint stores the name plus the overrides so it can rebuild its own network.

As timm's ``pretrained_cfg``, an entry also states what code elsewhere would otherwise guess:
the first and last convolution (``first_conv``/``last_conv``: the layers adapted when weights
meet another channel count), the parameters a checkpoint may lack (``optional_missing``:
MIDNet's attention gates, absent from NAFNet weights) and the multiple the input size is
padded to (``size_multiple``). A trained entry also records the crop size its weights were
trained on (``train_size``): the channel attention's pool window at inference (TLC,
`midnet.models.tlc`) is set from it, so that a tile and the whole image restore alike. An entry with ``weights`` is a trained model usable by name in
`deblur`, `evaluate`, `demo`; one without is an architecture, built untrained by
``models.create`` and refused where trained weights are needed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from torch import nn


#: the package folder of shipped weight files
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., nn.Module]
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    family: str = ""
    first_conv: str | None = None        # module name of the first conv (input channels), e.g. "intro"
    last_conv: str | None = None         # module name of the last conv (output channels), e.g. "ending"
    optional_missing: tuple[str, ...] = ()  # parameter-name prefixes a checkpoint may lack
    size_multiple: int = 1               # inputs are padded to a multiple of this
    weights: str | None = None           # trained weights: a file in midnet/weights/ (or a path)
    arch: str | None = None              # for a weights entry: the architecture entry it builds
    train_size: int | None = None        # for a weights entry: the training crop (px), TLC's window

    @property
    def weights_path(self) -> Path | None:
        if self.weights is None:
            return None
        path = Path(self.weights)
        return path if path.is_absolute() else WEIGHTS_DIR / path


_REGISTRY: dict[str, ModelEntry] = {}
#: the one deprecation map: a renamed or retired model name → (the name it now loads, why)
RENAMED: dict[str, tuple[str, str]] = {}
_WARNED: set[str] = set()


def register(name: str, builder: Callable[..., nn.Module], *, defaults: dict[str, Any] | None = None,
             description: str = "", family: str = "", **pretrained_cfg: Any) -> None:
    """Register `builder(in_channels=..., **defaults)` under `name` (names are unique).

    ``pretrained_cfg``: the :class:`ModelEntry` fields first_conv, last_conv, optional_missing,
    size_multiple (see the module docstring).
    """
    if name in _REGISTRY:
        raise ValueError(f"model name {name!r} is already registered")
    _REGISTRY[name] = ModelEntry(name, builder, dict(defaults or {}), description, family, **pretrained_cfg)


def register_weights(name: str, arch: str, weights: str, *, description: str = "",
                     train_size: int | None = None) -> None:
    """Register trained ``weights`` (a file in ``midnet/weights/``) for architecture ``arch`` as ``name``.

    One line per shipped model; the entry inherits the architecture's conv names, optional keys
    and size multiple. ``train_size``: the side of the training crops (see `train_size`).
    """
    if name in _REGISTRY:
        raise ValueError(f"model name {name!r} is already registered")
    base = _REGISTRY[arch]
    _REGISTRY[name] = replace(base, name=name, description=description or base.description, weights=weights,
                              arch=arch, train_size=train_size)


def register_alias(name: str, target: str, *, note: str = "", deprecated: bool = False) -> None:
    """Register ``name`` as another name of the trained model ``target``; it loads ``target``'s
    weights and says so in its description. ``deprecated``: a retired or renamed name that old
    scripts still use; it goes into `RENAMED`, and each use warns once (`entry`)."""
    if name in _REGISTRY:
        raise ValueError(f"model name {name!r} is already registered")
    base = _REGISTRY[target]
    if base.weights is None:
        raise ValueError(f"alias {name!r}: {target!r} has no trained weights")
    _REGISTRY[name] = replace(base, name=name, description=f"alias of {target}" + (f": {note}" if note else ""))
    if deprecated:
        RENAMED[name] = (target, note)


def available(*, trained: bool | None = None) -> list[str]:
    """Registered model names, sorted; ``trained=True``: only those with weights, False: without."""
    return sorted(n for n, e in _REGISTRY.items() if trained is None or (e.weights is not None) == trained)


def entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; a name in `RENAMED` warns (once per process) what it loads now."""
    if name in RENAMED and name not in _WARNED:
        import warnings

        _WARNED.add(name)
        target, why = RENAMED[name]
        warnings.warn(f"model name {name!r} is deprecated and now loads {target!r}" + (f" ({why})" if why else "")
                      + f"; use {target!r}", FutureWarning, stacklevel=2)
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
    """An untrained network of architecture ``name`` (a weights entry builds its architecture)."""
    arch = entry(name).arch or name
    cfg = model_config(arch, **overrides)
    cfg.pop("in_channels", None)
    model = entry(arch).builder(in_channels=in_channels, **cfg)
    model.midnet_name = arch
    model.midnet_config = {"in_channels": in_channels, **cfg}
    return model


def entry_of(model: nn.Module) -> ModelEntry | None:
    """The registry entry a model was built from (None for foreign modules)."""
    name = getattr(model, "midnet_name", None)
    return _REGISTRY.get(name) if isinstance(name, str) else None


def in_channels(model: nn.Module) -> int:
    """Image channels the model takes: its registry config, else its first convolution."""
    config = getattr(model, "midnet_config", None) or {}
    if "in_channels" in config:
        return int(config["in_channels"])
    found = entry_of(model)
    modules = dict(model.named_modules())
    if found is not None and found.first_conv in modules:
        return int(modules[found.first_conv].in_channels)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.in_channels)
    raise ValueError("cannot tell the model's number of input channels (no Conv2d found)")


def size_multiple(model: nn.Module, default: int = 32) -> int:
    """The multiple the model pads its input to (registry entry), else ``default``."""
    found = entry_of(model)
    return found.size_multiple if found is not None and found.size_multiple > 1 else default


def train_size(model: nn.Module) -> int | None:
    """The crop size (px) the model's weights were trained on, when known.

    Set by `midnet.models.load_model` from the registry entry of a shipped model or from a
    checkpoint's ``midnet_train_size`` metadata (written by `midnet train`); None for other
    modules (an untrained architecture, a foreign checkpoint).
    """
    size = getattr(model, "midnet_train_size", None)
    return int(size) if size else None


def shipped_train_size(path: str | Path) -> int | None:
    """The training crop of the shipped model whose weights file ``path`` is (None otherwise):
    the shipped files predate the ``midnet_train_size`` metadata, so a model loaded from one by
    its path gets the same TLC window as when loaded by name."""
    try:
        resolved = Path(path).resolve()
    except OSError:
        return None
    for found in _REGISTRY.values():
        if found.train_size and found.weights_path is not None and found.weights_path.resolve() == resolved:
            return found.train_size
    return None
