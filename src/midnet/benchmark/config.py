"""Benchmark configuration: defaults (CPU scale), YAML files, ``--set`` overrides, validation.

Why one nested dict with a complete default tree (as for training): the results folder gets
the fully resolved configuration, so a table can always be traced back to the exact split,
budget, models and evaluation settings that produced it; unknown keys are typos and fail.

Free-form sections (``training``, ``table1.pretrained``, ``table2.classical_grids``,
``table3.variants``) are merged without key checks here; ``training`` is checked against
the training configuration's own keys in :func:`validate`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from midnet.data.splits import DEFAULT_GROUP_REGEX
from midnet.training.config import compose_config

#: the official checkpoints the paper's Table 1 applies (registry names)
PAPER_PRETRAINED = ("restormer", "dmphn-1-2-4", "hinet", "nafnet-width32")
#: the paper's Table 3 rows: loss weights (L1, edge, FFT)
PAPER_ABLATION = {
    "L1": {"l1_weight": 1.0, "edge_weight": 0.0, "fft_weight": 0.0},
    "L1+edge": {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.0},
    "L1+FFT": {"l1_weight": 1.0, "edge_weight": 0.0, "fft_weight": 0.01},
    "L1+edge+FFT": {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.01},
}
CLASSICAL_METHODS = ("unsharp-mask", "wiener", "richardson-lucy", "unsupervised-wiener")

DEFAULTS: dict[str, Any] = {
    "name": "benchmark",
    "data": {
        "root": None,              # blur/+sharp/ folder, or the published layout (then frames/ is used)
        "use_frames": "auto",      # auto: use ROOT/frames/{blur,sharp} when present (whole frames)
        "group_regex": DEFAULT_GROUP_REGEX,  # file stem -> source image; a stem without match is its own group
        "train_groups": ["1-1", "2-1", "3-1", "4-1", "5-1", "6-1"],  # []: every group not in val/test
        "val_groups": [],          # optional validation during training (best checkpoint)
        "test_groups": ["7-1"],    # scored in every table; never trained on
        "databar_rows": "auto",    # rows at the bottom left out of training loss and metrics
    },
    "budget": {                    # the same for every trained network
        "max_steps": 2000,
        "crop_size": 128,
        "batch_size": 8,
        "checkpoint_every": 0,     # 0: every max_steps // 10 steps (resumable runs)
    },
    "training": {                  # partial `midnet train` config applied to every run
        "loss": {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.01},
        "optim": {"name": "adam", "lr": 1.0e-3, "min_lr": 1.0e-7, "betas": [0.9, 0.999], "grad_clip": 0.5},
        "train": {"seed": 10, "log_every": 10, "accelerator": "auto", "progress_bar": False},
    },
    "tables": [1, 2, 3],
    "table1": {
        "pretrained": {},          # registry name -> official checkpoint path (never downloaded)
        "expected": list(PAPER_PRETRAINED),
    },
    "table2": {
        # names, or mappings {name, label, options (constructor), training (partial config)}
        "models": ["midnet-small", "nafnet-small"],
        "classical": list(CLASSICAL_METHODS),
        "classical_grids": {},     # method -> {parameter: [values]} replacing its fitting grid
        "classical_patches": 8,    # training patches the grid search scores
        "classical_patch_size": 256,
    },
    "table3": {
        "model": "midnet-small",   # name or mapping as in table2.models
        "variants": copy.deepcopy(PAPER_ABLATION),
    },
    "eval": {
        "device": "cpu",           # cpu | cuda | auto: where the test images are restored
        "tile": None,              # None: whole images at once; else tile size in px
        "tlc": False,              # NAFNet's test-time local converter at the training crop size
        "max_images": None,        # score at most this many test images (None: all)
    },
    "timing": {
        "size": 1024,              # square test image for time per megapixel
        "repeats": 1,
        "cpu": True,
        "gpu": "auto",             # auto: when CUDA is available; true; false
        "macs_size": 256,          # MACs are counted for a (1, C, S, S) input
    },
}

#: sections whose keys are not fixed (merged without key checks)
FREE_FORM = {"training", "table1.pretrained", "table2.classical_grids", "table3.variants"}


def _merge(base: dict[str, Any], update: dict[str, Any], path: str = "", free: bool = False) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in update.items():
        where = f"{path}{key}"
        free_here = free or where in FREE_FORM
        if key not in out and not free:
            raise KeyError(f"unknown benchmark config key {where!r}; known keys here: {sorted(out)}")
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value, f"{where}.", free_here)
        elif isinstance(out.get(key), dict) and value is not None and not free:
            raise ValueError(f"benchmark config key {where!r} must be a mapping, got {value!r}")
        else:
            out[key] = copy.deepcopy(value)
    return out


def model_entry(spec: Any, *, where: str) -> dict[str, Any]:
    """Normalise a model given as a name or as {name, label, options, training}."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError(f"{where}: a model is a registry name or a mapping with 'name', got {spec!r}")
    unknown = set(spec) - {"name", "label", "options", "training"}
    if unknown:
        raise ValueError(f"{where}: unknown model keys {sorted(unknown)}; use name, label, options, training")
    return {"name": spec["name"], "label": str(spec.get("label") or spec["name"]),
            "options": dict(spec.get("options") or {}), "training": dict(spec.get("training") or {})}


def validate(cfg: dict[str, Any]) -> dict[str, Any]:
    """Check ranges and names early, before any training starts; returns `cfg` normalised."""
    from midnet.models import available
    from midnet.training.config import DEFAULTS as TRAIN_DEFAULTS
    from midnet.training.config import deep_merge

    names = set(available())
    b = cfg["budget"]
    for key in ("max_steps", "crop_size", "batch_size"):
        if not isinstance(b[key], int) or b[key] < 1:
            raise ValueError(f"budget.{key} must be a positive integer, got {b[key]!r}")
    tables = cfg["tables"]
    if isinstance(tables, (int, str)):
        tables = [int(t) for t in str(tables).split(",") if str(t).strip()]
    if not tables or any(t not in (1, 2, 3) for t in tables):
        raise ValueError(f"tables must list some of 1, 2, 3, got {cfg['tables']!r}")
    cfg["tables"] = sorted(set(int(t) for t in tables))
    try:
        deep_merge(TRAIN_DEFAULTS, cfg["training"] or {}, path="training.")
    except (KeyError, ValueError) as exc:
        raise ValueError(f"benchmark config: {str(exc).strip(chr(39))}") from None
    cfg["table2"]["models"] = [model_entry(m, where="table2.models") for m in cfg["table2"]["models"] or []]
    cfg["table3"]["model"] = model_entry(cfg["table3"]["model"], where="table3.model")
    labels = [m["label"] for m in cfg["table2"]["models"]]
    if len(set(labels)) != len(labels):
        raise ValueError(f"table2.models: labels must be unique, got {labels}; give repeated models a 'label'")
    for m in [*cfg["table2"]["models"], cfg["table3"]["model"]]:
        if m["name"] not in names:
            raise ValueError(f"unknown model {m['name']!r}; choose one of: {', '.join(sorted(names))}")
    for name in cfg["table1"]["pretrained"]:
        if name not in names:
            raise ValueError(f"--pretrained {name}=...: unknown model; choose one of: {', '.join(sorted(names))}")
    for method in cfg["table2"]["classical"] or []:
        if method not in CLASSICAL_METHODS:
            raise ValueError(f"table2.classical: unknown method {method!r}; choose from {', '.join(CLASSICAL_METHODS)}")
    for label, weights in (cfg["table3"]["variants"] or {}).items():
        if not isinstance(weights, dict) or set(weights) - {"l1_weight", "edge_weight", "fft_weight"}:
            raise ValueError(f"table3.variants.{label}: give l1_weight, edge_weight and/or fft_weight")
    d = cfg["data"]
    overlap = set(map(str, d["test_groups"] or [])) & set(map(str, (d["train_groups"] or []) + (d["val_groups"] or [])))
    if overlap:
        raise ValueError(f"groups {sorted(overlap)} are both test groups and train/val groups; pick one")
    if not d["test_groups"]:
        raise ValueError("data.test_groups is empty: name the source images to score on, e.g. --set 'data.test_groups=[7-1]'")
    for key in ("train_groups", "val_groups", "test_groups"):
        d[key] = [str(g) for g in d[key] or []]
    if d["use_frames"] not in ("auto", True, False):
        raise ValueError(f"data.use_frames must be auto, true or false, got {d['use_frames']!r}")
    if cfg["eval"]["device"] not in ("cpu", "cuda", "auto"):
        raise ValueError(f"eval.device must be cpu, cuda or auto, got {cfg['eval']['device']!r}")
    if not isinstance(cfg["timing"]["size"], int) or cfg["timing"]["size"] < 16:
        raise ValueError(f"timing.size must be an integer >= 16, got {cfg['timing']['size']!r}")
    return cfg


def load_benchmark_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (),
                          *, check: bool = True) -> dict[str, Any]:
    """Defaults <- YAML file <- ``key=value`` overrides, validated."""
    cfg = compose_config(DEFAULTS, path, overrides, merge=_merge, what="benchmark config",
                         hint="see configs/benchmark-*.yaml")
    return validate(cfg) if check else cfg


def dump_config(cfg: dict[str, Any]) -> str:
    return yaml.safe_dump(cfg, sort_keys=False)
