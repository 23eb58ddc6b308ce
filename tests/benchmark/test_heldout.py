"""Model-card validation: frame 7-1 is scored as captured and registered by the measured displacement field."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from midnet.benchmark.heldout import frame_rows


def test_frame_rows_also_score_after_registering_the_moved_capture(tmp_path):
    rng = np.random.default_rng(3)
    for kind in ("blur", "sharp"):
        (tmp_path / kind).mkdir()
    for i in range(1, 8):
        scene = ndimage.gaussian_filter(rng.random((300, 340)), 2.0)
        scene = (255 * (scene - scene.min()) / np.ptp(scene)).astype(np.uint8)
        Image.fromarray(scene[20:280, 20:320]).save(tmp_path / "sharp" / f"{i}-1.png")
        Image.fromarray(scene[20:280, 10:310]).save(tmp_path / "blur" / f"{i}-1.png")   # moved: blur[x] = sharp[x - 10]
    rows = frame_rows(tmp_path, {"identity": lambda x: x})
    ident = next(r for r in rows if r["method"] == "identity")
    assert (ident["median_shift_y"], ident["median_shift_x"]) == pytest.approx((0.0, 10.0), abs=0.2)
    assert ident["psnr_registered"] > 45
    assert ident["psnr"] < 30                                 # as captured, the move dominates
    assert rows[0]["method"] == "blurry input" and rows[0]["psnr"] == pytest.approx(ident["psnr"])
