"""Training configuration: defaults, YAML files, ``--set key=value`` overrides, validation.

Why a plain nested dict with a complete default tree: every key a run used ends up in the
run folder's ``config.yaml`` (the fully resolved config), unknown keys are typos and fail
loudly, and YAML files only need to state what differs from the defaults.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from midnet.data.defocus import DefocusRanges
from midnet.data.splits import DEFAULT_GROUP_REGEX

DEFAULTS: dict[str, Any] = {
    "name": "run",
    "model": {
        "name": "midnet-paper",   # registry name (midnet models)
        "in_channels": 1,         # 1 = grey (RGB files reduced by BT.601 luma)
        "options": {},            # constructor overrides, e.g. {width: 16}
        "checkpoint": None,       # start weights: ours (.safetensors/.ckpt) or official NAFNet .pth
        "freeze": [],             # parameter-name prefixes to keep fixed (fine-tuning)
        "tlc": False,             # NAFNet's test-time local converter during validation
    },
    "data": {
        "root": None,             # folder with blur/+sharp/ (or input/+target/, lq/+gt/)
        "input_dir": None,        # explicit folders instead of root
        "target_dir": None,
        "group_regex": DEFAULT_GROUP_REGEX,
        "val_groups": [],         # source images held out for validation
        "test_groups": [],        # source images never touched by training or validation
        "databar_rows": "auto",   # int rows at the bottom, "auto" (detect) or 0
        "crop_size": 256,
        "batch_size": 32,         # global batch: split evenly over all processes
        "num_workers": 0,
        "cache": True,            # keep decoded pairs in memory
        "val_max_images": None,   # validate on at most this many images (None: all)
    },
    # synthetic defocus of sharp images (midnet.data.defocus), mixed with the real pairs above
    "synthetic": {
        "corpus": None,           # folder of sharp SEM images, one sub-folder per source
        "inventory": None,        # TSV with data-bar rows (default: <corpus>/inventory.tsv)
        "train_sources": None,    # sources to train on (None: every source not held out)
        "val_sources": [],        # whole sources held out for validation, never trained on
        "use_real_targets": True, # also blur the sharp frames of the real training pairs
        "real_fraction": 0.25,    # share of samples that are real pairs (data.root, train split)
        "degradation": {},        # overrides of midnet.data.defocus.DefocusRanges
        "val_sigmas": [1.0, 2.0, 3.0],  # validation: Gaussian PSF widths, px
        "val_noise": 3.0,         # validation: Gaussian noise sigma, 8-bit grey levels
        "val_crop": 512,          # validation: centre crop of each held-out image
    },
    "loss": {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.01, "fft_mode": None},
    "optim": {
        "name": "adam",           # adam | adamw
        "lr": 1.0e-3,
        "min_lr": 1.0e-7,         # end of the per-iteration cosine annealing
        "betas": [0.9, 0.999],
        "weight_decay": 0.0,
        "grad_clip": None,        # max gradient norm, None = off
    },
    "train": {
        "max_steps": 200_000,
        "seed": 10,
        "val_every": 2000,        # validate every N iterations (0: only at the end)
        "val_at_start": False,    # also validate the initial weights (step 0) as a reference
        "log_every": 50,
        "accelerator": "auto",    # cpu | gpu | auto (passed to Lightning)
        "devices": 1,
        "num_nodes": 1,
        "strategy": "auto",       # auto | ddp | ...
        "precision": "32-true",   # bf16-mixed on recent GPUs
        "progress_bar": True,
        "deterministic": False,
        "max_time_min": None,     # wall-time budget in minutes (cosine over time or steps, whichever ends first)
        "export": "best",         # best (by val/psnr) | last: which weights become best.safetensors
        "compile": "auto",        # torch.compile the network: true | false | auto (>= 1000 steps, >= 1 M params)
        "channels_last": False,   # NHWC memory format; measured slower on CPU, try it on GPUs
    },
}


# mappings whose keys are not fixed here (constructor options, degradation overrides)
FREE_FORM_KEYS = ("options", "degradation")


def deep_merge(base: dict[str, Any], update: dict[str, Any], *, path: str = "") -> dict[str, Any]:
    """Return `base` updated by `update`; keys not in `base` are an error (typos)."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        where = f"{path}{key}"
        if key not in out:
            raise KeyError(f"unknown config key {where!r}; known keys here: {sorted(out)}")
        if isinstance(out[key], dict) and key not in FREE_FORM_KEYS:
            if not isinstance(value, dict):
                raise ValueError(f"config key {where!r} must be a mapping, got {value!r}")
            out[key] = deep_merge(out[key], value, path=f"{where}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> dict[str, Any]:
    """``"optim.lr=1e-4"`` -> ``{"optim": {"lr": 0.0001}}`` (value parsed as YAML)."""
    if "=" not in text:
        raise ValueError(f"override {text!r} must look like key.sub=value")
    key, raw = text.split("=", 1)
    value = yaml.safe_load(raw) if raw.strip() else None
    if isinstance(value, str):  # YAML 1.1 reads 1e-4 as a string; accept it as a number
        try:
            value = float(value) if any(c in value for c in ".eE") else value
        except ValueError:
            pass
    node: dict[str, Any] = {}
    cursor = node
    parts = key.strip().split(".")
    for part in parts[:-1]:
        cursor[part] = {}
        cursor = cursor[part]
    cursor[parts[-1]] = value
    return node


def _fix_numbers(cfg: dict[str, Any]) -> None:
    """YAML 1.1 reads ``1e-3`` (no dot) as a string; convert such values for known float keys."""
    for section, key in (("optim", "lr"), ("optim", "min_lr"), ("optim", "weight_decay"),
                         ("optim", "grad_clip"), ("loss", "l1_weight"), ("loss", "edge_weight"),
                         ("loss", "fft_weight")):
        value = cfg[section][key]
        if isinstance(value, str):
            try:
                cfg[section][key] = float(value)
            except ValueError:
                raise ValueError(f"config {section}.{key} must be a number, got {value!r}") from None


def validate(cfg: dict[str, Any]) -> dict[str, Any]:
    """Check value ranges that would otherwise fail deep inside a run."""
    _fix_numbers(cfg)
    d, t, o = cfg["data"], cfg["train"], cfg["optim"]
    if o["name"] not in ("adam", "adamw"):
        raise ValueError(f"optim.name must be 'adam' or 'adamw', got {o['name']!r}")
    for key in ("crop_size", "batch_size"):
        if not isinstance(d[key], int) or d[key] < 1:
            raise ValueError(f"data.{key} must be a positive integer, got {d[key]!r}")
    if not isinstance(t["max_steps"], int) or t["max_steps"] < 1:
        raise ValueError(f"train.max_steps must be a positive integer, got {t['max_steps']!r}")
    if not (o["lr"] > 0 and 0 <= o["min_lr"] <= o["lr"]):
        raise ValueError(f"need 0 <= optim.min_lr <= optim.lr and lr > 0, got {o['lr']}, {o['min_lr']}")
    if t["export"] not in ("best", "last"):
        raise ValueError(f"train.export must be 'best' or 'last', got {t['export']!r}")
    syn = cfg["synthetic"]
    if syn["corpus"] is not None:
        DefocusRanges.from_dict(syn["degradation"])  # unknown keys fail here, before any work
        if not 0 <= float(syn["real_fraction"]) <= 1:
            raise ValueError(f"synthetic.real_fraction must be in [0, 1], got {syn['real_fraction']!r}")
    elif d["root"] is None and (d["input_dir"] is None or d["target_dir"] is None):
        raise ValueError("no training data: set data.root (a folder with blur/ and sharp/), e.g. "
                         "--set data.root=/path/to/pairs, or both data.input_dir and data.target_dir")
    return cfg


def compose_config(defaults: dict[str, Any], path: str | Path | None, overrides: list[str] | tuple[str, ...], *,
                   merge=deep_merge, what: str = "config file",
                   hint: str = "see configs/ for examples") -> dict[str, Any]:
    """Defaults <- YAML file <- ``key=value`` overrides (not validated): shared by every config kind."""
    cfg = copy.deepcopy(defaults)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: {what} not found; {hint}")
        with path.open(encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: a {what} must be a YAML mapping")
        cfg = merge(cfg, doc)
    for text in overrides:
        cfg = merge(cfg, parse_override(text))
    return cfg


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (),
                *, check: bool = True) -> dict[str, Any]:
    """Defaults <- YAML file <- overrides, validated."""
    cfg = compose_config(DEFAULTS, path, overrides)
    return validate(cfg) if check else cfg


def dump_config(cfg: dict[str, Any]) -> str:
    return yaml.safe_dump(cfg, sort_keys=False)
