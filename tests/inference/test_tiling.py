"""Tiled inference agrees with whole-image inference and leaves no seams."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from midnet.inference.tiling import model_alignment, ramp_weights, reflect_pad, tile_spans, tiled_inference

#: stated tolerance (in [0, 1] units) of tiled vs whole-image output, see tiling.py docstring
MEAN_TOL, MAX_TOL = 2e-3, 2e-2


@pytest.mark.parametrize("length,tile,overlap,align", [(300, 96, 32, 16), (97, 64, 16, 1), (64, 64, 8, 16),
                                                       (1000, 256, 32, 32), (40, 64, 16, 16)])
def test_tile_spans_cover_with_overlap(length: int, tile: int, overlap: int, align: int) -> None:
    spans = tile_spans(length, tile, overlap, align)
    covered = np.zeros(length, bool)
    for start, stop in spans:
        assert start % align == 0
        assert stop <= length
        covered[start:stop] = True
    assert covered.all()
    for (s0, e0), (s1, _) in zip(spans, spans[1:]):
        assert e0 - s1 >= overlap


def test_ramp_weights_positive_and_flat_inside() -> None:
    w = ramp_weights(64, 16, fade_start=True, fade_end=False)
    assert w.min() > 0
    assert torch.all(w[16:] == 1)
    assert torch.all(torch.diff(w[:16]) > 0)


def test_model_alignment_is_the_registry_size_multiple(tiny_model: nn.Module) -> None:
    assert model_alignment(tiny_model) == 16
    assert model_alignment(nn.Conv2d(1, 1, 3)) == 32


def test_tiled_matches_whole_image_without_seams(tiny_model: nn.Module, make_image) -> None:
    """Image 4x2 tiles of 96 px (32 px overlap): tiled output within MEAN_TOL/MAX_TOL of the
    whole-image output, and the error along tile borders is no larger than inside (no seams).

    (With only 16 px overlap the error along borders is about twice that inside: the overlap
    must cover the distance over which a tile's zero padding is felt, hence the default
    overlap of max(32, tile // 8).)"""
    height, width = 160, 320
    image = torch.from_numpy(make_image(height, width))[None, None]
    whole = tiled_inference(tiny_model, image, tile=None)
    tiled = tiled_inference(tiny_model, image, tile=96, overlap=32, batch_size=4)
    assert tiled.shape == whole.shape == image.shape
    assert (whole - image).abs().mean() > 20 * MEAN_TOL  # the model really changes the image
    err = (tiled - whole).abs()[0, 0].numpy()
    assert err.mean() < MEAN_TOL, err.mean()
    assert err.max() < MAX_TOL, err.max()
    border = np.zeros_like(err, bool)  # +-2 px around every tile edge, in image coordinates
    padded = reflect_pad(image, 16, 16).shape  # tiles are laid out on the 16 px padded image
    for length, axis in ((padded[2], 0), (padded[3], 1)):
        spans = tile_spans(length, 96, 32, 16)
        assert len(spans) >= 2
        for start, stop in spans:
            for edge in (start - 16, stop - 16):
                if 2 <= edge <= err.shape[axis] - 2:
                    index = [slice(None), slice(None)]
                    index[axis] = slice(edge - 2, edge + 2)
                    border[tuple(index)] = True
    assert border.mean() > 0.05
    assert err[border].mean() <= 1.25 * err[~border].mean() + 1e-4, (err[border].mean(), err[~border].mean())


def test_tile_larger_than_image_is_whole_image(tiny_model: nn.Module, make_image) -> None:
    image = torch.from_numpy(make_image(48, 80))[None, None]
    assert torch.equal(tiled_inference(tiny_model, image, tile=512),
                       tiled_inference(tiny_model, image, tile=None))


class _RunsOutOfMemoryAbove(nn.Module):
    """Raises torch.OutOfMemoryError (what CUDA raises) for tiles larger than ``limit`` px."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.sizes: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(max(x.shape[-2:]))
        if max(x.shape[-2:]) > self.limit:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return x * 0.5


def test_out_of_memory_retries_with_half_tiles() -> None:
    model = _RunsOutOfMemoryAbove(limit=80)
    image = torch.rand(1, 1, 200, 200)
    out = tiled_inference(model, image, tile=256, overlap=16, align=16)
    assert torch.allclose(out, image * 0.5, atol=1e-6)
    assert model.sizes[0] == 240  # whole (reflect-padded) image first, then 120 px, then 64 px tiles
    assert 64 <= model.sizes[-1] <= 80


@pytest.mark.parametrize("height,width", [(1, 1), (3, 70), (37, 21)])
def test_reflect_pad_any_size(height: int, width: int) -> None:
    image = torch.rand(1, 2, height, width)
    padded = reflect_pad(image, 16, 16)
    assert padded.shape[2] % 16 == 0 and padded.shape[3] % 16 == 0
    assert padded.shape[2] >= height + 32 and padded.shape[3] >= width + 32
    assert torch.equal(padded[:, :, 16:16 + height, 16:16 + width], image)
    if height > 1:
        assert torch.equal(padded[:, :, 15, 16:16 + width], image[:, :, 1])  # mirrored, not copied


def test_border_sees_mirrored_context_not_zeros() -> None:
    """A 3x3 box blur of a flat image: with reflection the border stays flat."""
    blur = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    nn.init.constant_(blur.weight, 1 / 9)
    image = torch.full((1, 1, 40, 50), 0.8)
    out = tiled_inference(blur, image, tile=None, align=8)
    assert torch.allclose(out, image, atol=1e-6)
    assert (blur(image)[0, 0, 0, 0] < 0.5).item()  # what zero padding would have done


def test_out_of_memory_gives_up_below_min_tile() -> None:
    with pytest.raises(RuntimeError, match="out of memory even with"):
        tiled_inference(_RunsOutOfMemoryAbove(limit=8), torch.rand(1, 1, 300, 300), tile=128, align=16)


def test_a_plan_counts_the_calls_the_tiler_makes(tiny_model) -> None:
    """`TilePlan.calls` is what progress bars and the napari widget count: the tiler's own calls."""
    from midnet.inference.tiling import TilePlan, run_plan

    image = torch.rand(1, 1, 200, 260)
    calls: list[tuple[int, int]] = []
    plan = TilePlan(200, 260, tile=64, overlap=16, batch=2, align=16)
    out = run_plan(plan, image, lambda b: tiny_model(b), progress=lambda d, t: calls.append((d, t)))
    assert out.shape == image.shape
    assert len(calls) == plan.calls > 1 and calls[-1] == (plan.calls, plan.calls)
    assert TilePlan(200, 260, tile=512, align=16).whole and TilePlan(200, 260, tile=512, align=16).calls == 1
    with pytest.raises(ValueError, match="plan for 100x100"):
        run_plan(TilePlan(100, 100, align=16), image, lambda b: b)


def test_a_set_cancel_event_stops_before_the_next_call(tiny_model) -> None:
    import threading

    from midnet.inference.tiling import Cancelled, TilePlan, run_plan

    cancel = threading.Event()
    seen: list[int] = []

    def forward(batch: torch.Tensor) -> torch.Tensor:
        seen.append(1)
        cancel.set()  # the user presses Cancel during the first call
        return batch

    with pytest.raises(Cancelled):
        run_plan(TilePlan(200, 260, tile=64, overlap=16, align=16), torch.rand(1, 1, 200, 260), forward,
                 cancel=cancel)
    assert len(seen) == 1
