"""Freezing named parts of a network for fine-tuning (as the paper did for its baselines)."""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn


def freeze_prefixes(model: nn.Module, prefixes: Iterable[str]) -> list[str]:
    """Stop gradients for parameters whose names start with any of `prefixes`.

    Returns the frozen parameter names. A prefix that matches nothing is a typo and raises,
    listing the top-level parts that exist.
    """
    prefixes = [str(p) for p in prefixes]
    frozen: list[str] = []
    used: set[str] = set()
    for name, param in model.named_parameters():
        hit = [p for p in prefixes if name == p or name.startswith(p.rstrip(".") + ".")]
        if hit:
            param.requires_grad_(False)
            frozen.append(name)
            used.update(hit)
    unused = [p for p in prefixes if p not in used]
    if unused:
        tops = sorted({n.split(".")[0] for n, _ in model.named_parameters()})
        raise ValueError(f"model.freeze prefixes {unused} match no parameter; top-level parts: {tops}")
    if frozen and len(frozen) == sum(1 for _ in model.parameters()):
        raise ValueError("model.freeze froze every parameter; nothing would train")
    return frozen
