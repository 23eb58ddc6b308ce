"""TLC's local mean: the official definition (avg_pool2d, then replicate padding), computed fast."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F

from midnet.models.tlc import LocalAvgPool2d


def _official(x: torch.Tensor, kernel: tuple[int, int]) -> torch.Tensor:
    """NAFNet's AvgPool2d (local_arch.py, fast_imp=False) as a direct sum: the reference."""
    h, w = x.shape[-2:]
    k1, k2 = min(h, kernel[0]), min(w, kernel[1])
    if kernel[0] >= h and kernel[1] >= w:
        return F.adaptive_avg_pool2d(x, 1).expand_as(x)
    out = F.avg_pool2d(x, (k1, k2), stride=1)
    _h, _w = out.shape[-2:]
    pad = ((w - _w) // 2, (w - _w + 1) // 2, (h - _h) // 2, (h - _h + 1) // 2)
    return F.pad(out, pad, mode="replicate")


@pytest.mark.parametrize("size,kernel", [((50, 70), (12, 20)), ((30, 30), (40, 10)), ((64, 64), (64, 64)),
                                         ((17, 90), (5, 91)), ((33, 33), (1, 1)), ((40, 52), (39, 2))])
def test_local_mean_equals_the_official_pool(size: tuple[int, int], kernel: tuple[int, int]) -> None:
    x = torch.randn(2, 3, *size)
    pool = LocalAvgPool2d((1, 1), (1, 1))
    pool.kernel_size = kernel
    torch.testing.assert_close(pool(x), _official(x, kernel), atol=1e-5, rtol=0)


def test_local_mean_cost_does_not_grow_with_the_window() -> None:
    """A 192 px window on a 768x1024 map: running sums, not 37,000 additions per pixel (the
    direct pool took 160 s on 2 cores; this takes well under a second)."""
    x = torch.randn(1, 8, 768, 1024)
    pool = LocalAvgPool2d((1, 1), (1, 1))
    pool.kernel_size = (192, 192)
    start = time.perf_counter()
    pool(x)
    assert time.perf_counter() - start < 5.0
