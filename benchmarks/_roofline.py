"""This machine's measured peak compute, for the "fraction of peak" columns of the speed scripts.

Two probes, each the best of a few repeats at the current torch thread count:
* matmul: a 1024x1024 float32 GEMM (MKL / oneDNN), 2*n^3 FLOP;
* conv: a dense 3x3, 64->64-channel convolution on a 1x64x256x256 tensor (oneDNN),
  2 * 9 * 64 * 64 * H * W FLOP.
The larger of the two is "peak". A model's achieved rate is its FLOP count
(`torch.utils.flop_counter`, convolutions and matrix products only) divided by its time, so the
fraction says how much of the machine the network's heavy operations use; NAFNet-style networks
spend most of their time in memory-bound element-wise work, hence fractions well below 1.
"""

from __future__ import annotations

import time

import torch


def sync(device: torch.device | str = "cpu") -> None:
    """Wait for queued GPU work, so that a wall-clock time covers it (no-op on CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _best(fn, repeats: int = 5, device: torch.device | str = "cpu") -> float:
    fn()
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def measure_peak_gflops(device: torch.device | str = "cpu") -> dict[str, float]:
    """{"matmul": GFLOP/s, "conv": GFLOP/s, "peak": max of both}, in float32.

    On a GPU the probes are larger (a 4096^2 GEMM, a batch of 16 for the convolution) so that
    they fill the device; PyTorch's default TF32 settings apply, as they do to the models."""
    gpu = torch.device(device).type == "cuda"
    n, batch = (4096, 16) if gpu else (1024, 1)
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    matmul = 2 * n**3 / _best(lambda: a @ b, device=device) / 1e9
    x = torch.rand(batch, 64, 256, 256, device=device)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False).eval().to(device)
    with torch.inference_mode():
        seconds = _best(lambda: conv(x), device=device)
    conv_rate = 2 * 9 * 64 * 64 * 256 * 256 * batch / seconds / 1e9
    return {"matmul": matmul, "conv": conv_rate, "peak": max(matmul, conv_rate)}


def forward_flops(model: torch.nn.Module, shape: tuple[int, ...]) -> int:
    """FLOPs (2 x MACs) of one forward at ``shape``, from PyTorch's FLOP counter."""
    from midnet.metrics.model_cost import count_macs

    return 2 * count_macs(model, shape)
