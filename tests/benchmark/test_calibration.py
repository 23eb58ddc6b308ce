"""The defocus calibration recovers the PSF family and width of a synthetic blur."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from midnet.benchmark.calibration import fit_pair
from midnet.data.defocus import blur, psf_for_width


def test_disc_blur_of_known_width_is_recognised() -> None:
    rng = np.random.default_rng(0)
    sharp = ndimage.gaussian_filter(rng.random((256, 320)), 1.0).astype(np.float32)
    blurry = blur(sharp, psf_for_width("disc", 6.0)) + rng.normal(0, 0.003, sharp.shape).astype(np.float32)
    result = fit_pair(blurry, sharp)
    fits = result["fits"]
    best = min(fits, key=lambda f: fits[f]["rms_error"])
    assert best == "disc"
    assert abs(fits["disc"]["width"] - 6.0) <= 0.5
    assert max(abs(s) for s in result["shift"]) < 1.0
