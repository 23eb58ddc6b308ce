"""How many pixels one forward pass may take: a memory budget from the device's free memory.

Why: restoring the whole image in one pass wastes no work (tiles recompute their overlap), but
a U-Net's activation memory grows with the area. The budget decides between the two.

* Free memory: ``torch.cuda.mem_get_info`` on a GPU; ``MemAvailable`` of /proc/meminfo (psutil
  where installed) on the CPU.
* Budget: on a GPU half of the free memory (the card is ours); on the CPU a quarter of the
  available memory, at most ``CPU_BUDGET_CAP`` (1 GiB): the CPU's memory is shared with the
  user's other programs, and beyond about a megapixel per pass larger passes no longer run
  faster (the overlap a 1536-px tile recomputes is under 10 %).
* Cost per pixel: the largest activation a leaf layer produces for one input pixel (found by a
  forward hook on a small probe) times ``PEAK_FACTOR``. Measured with eager fp32 forwards of
  1536x1536 images (peak resident memory growth, /tmp probe in docs/results/speed-cpu.md):
  midnet-tiny 404 B/px = 6.3x its widest layer output (16 float32 per px), midnet-small
  5.7x, midnet-paper 5.4x; the factor 7 covers all three.
"""

from __future__ import annotations

import os

import torch
from torch import nn

#: peak activation bytes / bytes of the widest leaf-layer output (measured 5.4-6.3 for MIDNet)
PEAK_FACTOR = 7.0
#: the CPU budget's upper bound in bytes
CPU_BUDGET_CAP = 1 << 30


def available_memory(device: torch.device) -> int:
    """Free bytes on ``device`` (for the CPU: memory available without swapping)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30  # unknown platform: assume a modest machine


def memory_budget(device: torch.device, available: int | None = None) -> int:
    """Bytes of activations one forward pass may use on ``device``."""
    free = available_memory(device) if available is None else available
    if device.type == "cuda":
        return free // 2
    override = os.environ.get("MIDNET_MEMORY_BUDGET_MIB")
    if override:
        return int(float(override) * (1 << 20))
    return min(free // 4, CPU_BUDGET_CAP)


def bytes_per_pixel(model: nn.Module, in_channels: int, align: int) -> float:
    """Estimated peak activation bytes per input pixel of an eager forward of ``model``."""
    widest = 0
    probe = 4 * align

    def hook(_module: nn.Module, _inputs: object, output: object) -> None:
        nonlocal widest
        if isinstance(output, torch.Tensor):
            widest = max(widest, output.numel() * output.element_size())

    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        with torch.inference_mode():
            model(torch.zeros(1, in_channels, probe, probe, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return PEAK_FACTOR * max(widest, 4 * in_channels * probe * probe) / (probe * probe)


def pixels_per_pass(budget: int, per_pixel: float) -> int:
    """Input pixels (summed over a batch) one forward pass may hold within ``budget``."""
    return max(1, int(budget / per_pixel))
