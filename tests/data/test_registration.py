"""Registration of a blurry re-take to its sharp partner (known shifts recovered, overlap kept)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from midnet.data.defocus import blur, disc_psf
from midnet.data.registration import align_to_reference, estimate_shift


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = ndimage.gaussian_filter(rng.random((192, 256)), 3.0)
    return ((x - x.min()) / np.ptp(x)).astype(np.float32)


def test_known_shift_of_a_heavily_blurred_noisy_capture_is_recovered() -> None:
    sharp = _scene()
    moved = ndimage.shift(sharp, (3.0, -11.0), mode="reflect")
    blurry = blur(moved, disc_psf(12.0)) + np.random.default_rng(1).normal(0, 0.02, sharp.shape)
    dy, dx = estimate_shift(blurry, sharp)
    assert abs(dy + 3.0) < 1.0 and abs(dx - 11.0) < 1.0


def test_alignment_cuts_both_to_the_overlap() -> None:
    ref = np.arange(20 * 30, dtype=np.float32).reshape(1, 20, 30)
    moving = np.roll(ref, (2, -5), axis=(1, 2))  # moving[y, x] = ref[y - 2, x + 5]
    m, r = align_to_reference(moving, ref, shift=(-2, 5))
    assert m.shape == r.shape == (1, 18, 25)
    np.testing.assert_array_equal(m, r)
