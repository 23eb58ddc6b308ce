"""Reading and writing model weights: our safetensors files, Lightning checkpoints from
``midnet train``, and the official NAFNet ``.pth`` files (weights under ``params``).

Why so many formats: users fine-tune from published NAFNet weights (as the paper did), train
their own with Lightning, and ship safetensors (safe to load: no pickle).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from midnet.version import __version__
from midnet.io.atomic import atomic_write
from midnet.models.registry import entry_of



@dataclass
class LoadReport:
    """What happened when weights were loaded into a model."""

    source: str
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"loaded {self.source}"]
        if self.adapted:
            parts.append(f"adapted channels of {', '.join(self.adapted)}")
        if self.missing:
            parts.append(f"{len(self.missing)} parameters left at initialisation ({_compress(self.missing)})")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} checkpoint entries ignored ({_compress(self.unexpected)})")
        return "; ".join(parts)


def _compress(keys: list[str]) -> str:
    prefixes = sorted({k.rsplit(".", 2)[0] if k.count(".") >= 2 else k for k in keys})
    return ", ".join(prefixes[:6]) + (" ..." if len(prefixes) > 6 else "")


#: where the training frameworks put the weights inside a checkpoint dict, in priority order.
#: BasicSR (NAFNet, HINet, Restormer) saves ``params`` (the trained network) and, when it keeps an
#: exponential moving average, also ``params_ema``, the average it evaluates and releases; so
#: ``params_ema`` wins over ``params``. Other code bases use ``state_dict``, ``model`` or ``net``.
WRAPPER_KEYS = ("params_ema", "params", "state_dict", "model", "net")


def unwrap_state_dict(obj: Any, *, source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """The plain state dict inside a checkpoint object (:data:`WRAPPER_KEYS`; ``module.`` stripped)."""
    if isinstance(obj, Mapping):
        for key in WRAPPER_KEYS:
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{source}: no state dict found (expected tensors, optionally under one of "
                         f"{', '.join(WRAPPER_KEYS)}); pass a weights file")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}


def _torch_load(path: Path) -> Any:
    """``torch.load`` with ``weights_only=True``: a user's file can hold tensors and plain data,
    never code to run."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is the same user error
        reason = " ".join(str(exc).split())[:200]
        raise ValueError(f"{path}: not a readable weights file ({reason}); give a .safetensors, a Lightning "
                         f".ckpt from midnet train, or an official .pth") from None


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Return (state_dict, metadata) from a .safetensors, Lightning .ckpt or official .pth file.

    The one checkpoint reader: every file a user names goes through here (safetensors, or
    ``torch.load(weights_only=True)``). metadata holds ``midnet_arch``/``midnet_config`` when the
    file says which model it is.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found; give an existing file or a model name with weights, e.g. sem-general")
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = dict(f.metadata() or {})
                state = {k: f.get_tensor(k) for k in f.keys()}
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"{path}: not a readable safetensors file ({exc})") from exc
        if "midnet_config" in meta:
            meta["midnet_config"] = json.loads(meta["midnet_config"])
        return state, meta
    obj = _torch_load(path)
    meta: dict[str, Any] = {}
    if isinstance(obj, dict) and "state_dict" in obj and "pytorch-lightning_version" in obj:
        hp = obj.get("hyper_parameters", {}) or {}
        arch, cfg = _arch_from_hparams(hp)
        if arch:
            meta["midnet_arch"], meta["midnet_config"] = arch, cfg
        state = {k[len("model."):]: v for k, v in obj["state_dict"].items() if k.startswith("model.")}
        return state, meta
    return unwrap_state_dict(obj, source=str(path)), meta


def _arch_from_hparams(hp: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Find the model name and options in Lightning hyper-parameters (several layouts)."""
    for holder in (hp, hp.get("config", {}) if isinstance(hp.get("config"), dict) else {}):
        model = holder.get("model")
        if isinstance(model, dict) and "name" in model:
            cfg = {k: v for k, v in model.items() if k not in ("name", "checkpoint", "freeze", "tlc")}
            cfg.update(model.get("options", {}) or {})
            cfg.pop("options", None)
            return model["name"], cfg
        if isinstance(holder.get("model_name"), str):
            return holder["model_name"], dict(holder.get("model_config", {}) or {})
    return None, {}


def infer_nafnet_config(state: dict[str, torch.Tensor]) -> tuple[str, dict[str, Any]]:
    """Infer (registry family name, constructor options) of a NAFNet/MIDNet state dict.

    Lets a user pass an official NAFNet ``.pth`` without saying which configuration it is.
    """
    if "intro.weight" not in state:
        raise ValueError("not a NAFNet/MIDNet state dict (no 'intro.weight')")

    def count(prefix: str) -> list[int]:
        levels: dict[int, set[int]] = {}
        for k in state:
            m = re.match(rf"{prefix}\.(\d+)\.(\d+)\.", k)
            if m:
                levels.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
        return [len(levels.get(i, ())) for i in range(max(levels) + 1)] if levels else []

    middle = {int(m.group(1)) for k in state if (m := re.match(r"middle_blks\.(\d+)\.", k))}
    cfg: dict[str, Any] = dict(
        in_channels=int(state["intro.weight"].shape[1]),
        width=int(state["intro.weight"].shape[0]),
        middle_blk_num=len(middle),
        enc_blk_nums=count("encoders"),
        dec_blk_nums=count("decoders"),
    )
    if any(k.startswith("gates.") for k in state):
        skip = int(state["gates.0.W_b.weight"].shape[1])
        cfg["gate_channels"] = int(state["gates.0.W_b.weight"].shape[0]) / skip
        return "midnet", cfg
    return "nafnet", cfg


def channel_keys(model: nn.Module) -> dict[str, str]:
    """Parameters that depend on the image channel count: ``{key: "in" | "out"}``, from the
    registry entry's first conv ((out, C, k, k) weight) and last conv ((C, in, k, k) weight, bias)."""
    found = entry_of(model)
    if found is None:
        return {}
    keys = {}
    if found.first_conv:
        keys[f"{found.first_conv}.weight"] = "in"
    if found.last_conv:
        keys.update({f"{found.last_conv}.weight": "out", f"{found.last_conv}.bias": "out"})
    return keys


def adapt_channels(state: dict[str, torch.Tensor], model: nn.Module) -> list[str]:
    """Adapt first/last conv weights to the model's channel count, in place; return the keys.

    Rule (exact for 3 -> 1): a grey image fed as RGB (R = G = B) into the first conv equals a
    1-channel conv whose kernel is the *sum* over input channels; averaging the RGB output to
    grey equals a 1-channel last conv whose kernel and bias are the *mean* over output
    channels (the global residual adds the grey input either way). For 1 -> C the kernel is
    divided by C and replicated (input), or replicated (output). Other counts are refused.
    """
    own = model.state_dict()
    keys = channel_keys(model)
    adapted = []
    for key, role in keys.items():
        if key not in state or key not in own or state[key].shape == own[key].shape:
            continue
        src, dst = state[key], own[key]
        dim = 1 if role == "in" else 0
        cs, cd = src.shape[dim], dst.shape[dim]
        other = [n for i, n in enumerate(src.shape) if i != dim] != [n for i, n in enumerate(dst.shape) if i != dim]
        if cs == cd or other:
            continue  # not a channel-count difference: reported as a shape mismatch by the caller
        if cd == 1:
            new = src.sum(dim, keepdim=True) if role == "in" else src.mean(dim, keepdim=True)
        elif cs == 1:
            reps = [1] * src.dim()
            reps[dim] = cd
            new = (src / cd if role == "in" else src).repeat(*reps)
        else:
            raise ValueError(f"cannot adapt {key} from {cs} to {cd} channels (only to or from 1 channel)")
        state[key] = new.to(dst.dtype)
        adapted.append(key)
    return adapted


def load_weights(model: nn.Module, path: str | Path, *, strict: bool | None = None) -> LoadReport:
    """Load a checkpoint into ``model``, adapting channel counts.

    strict=None (default): every parameter of the checkpoint must fit, and every model
    parameter must be filled except the entry's ``optional_missing`` ones (MIDNet's attention
    gates, so an official NAFNet file initialises MIDNet's shared part, as in the paper). strict=True: all must match.
    strict=False: load what fits and report the rest.
    """
    state, _ = read_weights(path)
    report = LoadReport(str(path))
    report.adapted = adapt_channels(state, model)
    own = model.state_dict()
    bad_shapes = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if bad_shapes and strict is not False:
        k = bad_shapes[0]
        raise ValueError(
            f"{path}: {len(bad_shapes)} parameters have other shapes than the model "
            f"(first: {k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}); is it the checkpoint of another configuration?"
        )
    for k in bad_shapes:
        state.pop(k)
    result = model.load_state_dict(state, strict=False)
    report.missing, report.unexpected = list(result.missing_keys), list(result.unexpected_keys) + bad_shapes
    found = entry_of(model)
    optional = found.optional_missing if found is not None else ()
    allowed_missing = [k for k in report.missing if optional and k.startswith(optional)]
    if strict is True and (report.missing or report.unexpected):
        raise ValueError(f"{path}: does not match the model exactly: {report.summary()}")
    if strict is None and (report.unexpected or len(allowed_missing) != len(report.missing)):
        raise ValueError(f"{path}: does not fit the model: {report.summary()}; pass strict=False to load what fits")
    if strict is None and report.missing and len(report.missing) == len(own):
        raise ValueError(f"{path}: no parameter of the model was found in the checkpoint")
    return report


def save_weights(model: nn.Module, path: str | Path, *, name: str | None = None,
                 config: dict[str, Any] | None = None, extra_metadata: dict[str, str] | None = None) -> Path:
    """Write ``model``'s weights as safetensors with the architecture in the metadata, atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    name = name or getattr(model, "midnet_name", None)
    config = config if config is not None else getattr(model, "midnet_config", None)
    if not name or config is None:
        raise ValueError("save_weights needs the model's registry name and config (models from midnet.models.create carry them)")
    meta = {"midnet_arch": name, "midnet_config": json.dumps(config), "midnet_version": __version__}
    meta.update(extra_metadata or {})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta), overwrite=True)
