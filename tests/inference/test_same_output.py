"""Same input, same output: the default restoration does not depend on the tile plan, so neither
on the machine's free memory (issue 21, section 5).

The bundled model restores a frame whole, in 256 px tiles and in 512 px tiles; the 8-bit results
agree within one grey level. A real frame (the published frame 7-1) where the
shared data is present (its top 640 rows, 1280 wide), and always a generated micrograph-like
image. Both are wider than a 512 px tile and its context, so every plan really tiles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from midnet.inference.deblurrer import Deblurrer

@pytest.fixture(scope="module")
def default() -> Deblurrer:
    return Deblurrer.from_pretrained(None, device="cpu", backend="eager")


def _plans_agree(deblurrer: Deblurrer, image: np.ndarray) -> dict[str, float]:
    """Restore ``image`` whole and with 256/512 px tiles; return the largest 8-bit differences."""
    worst = {}
    deblurrer.tile = 0
    whole = deblurrer(image).astype(int)
    assert np.abs(whole - image).mean() > 0.5  # the model really changes the image
    for tile in (256, 512):
        deblurrer.tile = tile
        calls: list[int] = []
        plan = deblurrer.plan(*image.shape[:2])
        restored = deblurrer(image, progress=lambda done, total: calls.append(total)).astype(int)
        assert not plan.whole, f"{tile} px tiles: the image went through whole"
        assert calls and calls[-1] == plan.calls  # the tiler ran the plan it was given
        worst[f"tile {tile}"] = float(np.abs(restored - whole).max())
    deblurrer.tile = None
    return worst


def generated_micrograph(height: int, width: int, seed: int = 7) -> np.ndarray:
    """A blurred 8-bit two-phase microstructure whose statistics change across the frame (fine
    grains left, coarse right, darker at the top): a tile's mean differs from the image's, as
    in a real frame, so that pooling over the whole input would make tiles disagree."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    fine, coarse = (gaussian_filter(rng.random((height, width)), sigma) for sigma in (2, 8))
    fine, coarse = ((g - g.min()) / np.ptp(g) for g in (fine, coarse))
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    sharp = np.where(np.where(x < 0.5, fine, coarse) > 0.5, 0.85, 0.2) * (0.4 + 0.6 * y) + 0.1 * x
    blurred = gaussian_filter(sharp, 2.0) + rng.normal(0, 0.02, sharp.shape)
    return np.clip(np.rint(255 * blurred), 0, 255).astype(np.uint8)


def test_default_converts_the_model_at_its_training_crop(default: Deblurrer) -> None:
    """sem-general was trained on 128 px crops (registry): TLC pools 192 px windows, and tiles
    read twice the crop as context."""
    from midnet import models

    assert models.train_size(models.load_model("sem-general")) == 128
    assert default.tlc_size == 128 and models.tlc_enabled(default.model)
    assert default.context() == 256
    assert Deblurrer.from_pretrained(None, device="cpu", backend="eager", tlc=False).context() == 0


def test_tile_plans_agree_on_a_generated_image(default: Deblurrer) -> None:
    """(Without TLC the 256 px plan differs from the whole image by 20 grey levels here.)"""
    worst = _plans_agree(default, generated_micrograph(640, 1280))
    assert max(worst.values()) <= 1, worst


@pytest.mark.slow
def test_tile_plans_agree_on_frame_7_1(default: Deblurrer, sem_data: Path) -> None:
    from midnet.io import read_image

    image = read_image(sem_data / "frames" / "blur" / "7-1.png").pages[0][:640]  # full width, wider than a 512 px tile and its context
    worst = _plans_agree(default, image)
    assert max(worst.values()) <= 1, worst


def test_the_memory_budget_changes_the_plan_not_the_result(default: Deblurrer, make_image,
                                                           monkeypatch) -> None:
    """A budget too small for the whole image gives tiles; the result is the whole-image one."""
    from midnet.inference import budget

    image = np.rint(make_image(448, 1152, seed=3) * 255).astype(np.uint8)
    default.tile = None
    whole = default(image).astype(int)
    per_pixel = budget.bytes_per_pixel(default.model, 1, default.align)
    monkeypatch.setenv("MIDNET_MEMORY_BUDGET_MIB", str(per_pixel * 720 ** 2 / 2 ** 20))  # 720 px passes
    plan = default.plan(*image.shape)
    assert plan.tile is not None and plan.tile >= 128 and plan.tile + 2 * plan.context <= 720, plan
    assert np.abs(default(image).astype(int) - whole).max() <= 1
