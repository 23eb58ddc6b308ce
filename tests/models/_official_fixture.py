"""Reading the parity fixtures made by tests/fixtures/official/generate.py (shared by tests)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open

FIXTURES = Path(__file__).parents[1] / "fixtures" / "official"


def read_case(case: str) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(official reduced config, official state dict, other tensors: input/output...)."""
    with safe_open(str(FIXTURES / f"{case}.safetensors"), framework="pt") as f:
        config = json.loads(f.metadata()["config"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    state = {k[len("state."):]: v for k, v in tensors.items() if k.startswith("state.")}
    return config, state, {k: v for k, v in tensors.items() if not k.startswith("state.")}


def full_shapes(arch: str) -> dict[str, list[int]]:
    return json.loads((FIXTURES / f"{arch}_full_shapes.json").read_text())


def shapes_on_meta(build) -> dict[str, list[int]]:
    """Key -> shape of a model built on the meta device (no memory, no init cost)."""
    with torch.device("meta"):
        model = build()
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def parameter_count_on_meta(build) -> int:
    with torch.device("meta"):
        model = build()
    return sum(p.numel() for p in model.parameters())
