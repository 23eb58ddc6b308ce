"""Per-tile restoration: the blend is a partition of unity (no seams), and under blur that changes
across the frame per-tile PSFs beat one whole-image PSF where the blur is strongest."""

from __future__ import annotations

import numpy as np
import pytest

from midnet import Deblurrer
from midnet.evaluation import score
from midnet.inference.psf_choice import PSFUsed
from midnet.inference.psf_tiles import blend_weights, restore_tiles, tile_layout
from midnet.psf import PSF
from midnet.psf.tiles import TileEstimate
from specimens import degrade, textured


@pytest.fixture(scope="module")
def preview() -> Deblurrer:
    return Deblurrer.from_pretrained("sem-psf-preview", device="cpu", psf_map=True)


@pytest.mark.parametrize("shape", [(256, 768), (300, 500), (512, 512), (100, 90), (257, 129)])
def test_blend_weights_sum_to_one_everywhere(shape: tuple[int, int]) -> None:
    spans = tile_layout(*shape, 256)
    covered = np.zeros(shape, int)
    total = np.zeros(shape)
    for (y0, y1, x0, x1), w in zip(spans, blend_weights(spans, *shape)):
        assert w.shape == (y1 - y0, x1 - x0) and w.min() >= 0
        covered[y0:y1, x0:x1] += 1
        total[y0:y1, x0:x1] += w
    assert covered.min() >= 1
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    if min(shape) > 256:  # neighbours overlap by half a tile
        assert spans[1][3] - spans[1][2] == 256 and spans[1][2] == 128


def test_a_restoration_that_changes_nothing_changes_nothing() -> None:
    image = np.random.default_rng(0).random((300, 500, 1))
    spans = tile_layout(300, 500, 128)
    calls = []

    def identity(context: np.ndarray, index: int) -> np.ndarray:
        calls.append(context.shape)
        return context

    np.testing.assert_allclose(restore_tiles(image, spans, identity, margin=16), image, atol=1e-12)
    assert len(calls) == len(spans) and (160, 160, 1) in calls  # an inner tile: + margin on each side
    flat = np.full((300, 500), 0.37)
    np.testing.assert_allclose(restore_tiles(flat, spans, lambda c, i: c), 0.37, atol=1e-12)


def test_a_constant_image_stays_constant(preview: Deblurrer) -> None:
    for level in (0.0, 128.0, 255.0):
        image = np.full((300, 520), level, np.uint8)
        out = preview(image)
        assert preview.last_psf.tiles and all(t.psf == PSF("none") for t in preview.last_psf.tiles)
        assert int(out.max()) - int(out.min()) <= 1, level
        assert abs(int(out.mean().round()) - level) <= 2


def test_tiles_given_one_psf_match_the_whole_image_restoration(preview: Deblurrer) -> None:
    """No seams: with the same PSF in every tile, the blended result is the whole-image one
    (within a grey level away from the frame's border; tiles see 32 px of real context)."""
    image = degrade(textured((384, 512), seed=4), PSF("gaussian", 2.0), 2.0).astype(np.float32)
    psf = PSF("gaussian", 2.0)
    spans = tile_layout(384, 512, 256)
    whole = preview.restore_float(image[None], PSFUsed(psf, "given", 2 / 255))[0]
    tiles = tuple(TileEstimate(s, 2.0, 0.0, psf) for s in spans)
    tiled = preview.restore_float(image[None], PSFUsed(psf, "given", 2 / 255, tiles=tiles))[0]
    diff = np.abs(tiled - whole)[16:-16, 16:-16] * 255
    assert diff.max() < 1.5 and diff.mean() < 0.1
    seams = np.zeros(diff.shape, bool)
    for y0, y1, x0, x1 in spans:
        for edge in (x0, x1):
            seams[:, max(0, edge - 18):edge - 14] = True  # tile edges, in the cropped frame
    assert diff[seams].mean() < 0.1


def test_per_tile_psfs_beat_one_whole_image_psf_under_varying_blur(preview: Deblurrer) -> None:
    """Left half σ = 1 px, right half σ = 3 px: the per-tile estimate differs between the halves
    and restores the right half better than one whole-image estimate (measured +0.75 dB,
    docs/results/psf-steer/summary.md)."""
    clean = textured((512, 768), seed=7)
    image = degrade(clean, PSF("gaussian", 1.0), 2.0)
    image[:, 384:] = degrade(clean, PSF("gaussian", 3.0), 2.0, seed=2)[:, 384:]
    u8, sharp = (np.rint(x * 255).astype(np.uint8) for x in (image, clean))
    per_tile = preview(u8)
    tiles = preview.last_psf.tiles
    left = [t.psf.sigma_px for t in tiles if t.span[3] <= 384]
    right = [t.psf.sigma_px for t in tiles if t.span[2] >= 384]
    assert max(left) < 1.3 and min(right) > 2.2
    assert preview.last_psf.describe().startswith("PSF per tile: gaussian σ ")
    whole = Deblurrer.from_pretrained("sem-psf-preview", device="cpu", psf="auto")
    single = whole(u8)
    half = (slice(16, -16), slice(400, -16))
    assert score(per_tile[half], sharp[half]).psnr > score(single[half], sharp[half]).psnr + 0.3
    assert score(per_tile[half], sharp[half]).psnr > score(u8[half], sharp[half]).psnr + 0.3
