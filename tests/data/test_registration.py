"""Registration of a blurry re-take to its sharp partner (known shifts recovered, overlap kept)."""

from __future__ import annotations

import numpy as np
import pytest
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


def test_pair_store_registers_moved_pairs_before_cropping(tmp_path):
    """``data.align``: a capture moved by (3, -7) px (found as the shift (-3, 7) that undoes it) is cut back onto its partner, data bar kept masked."""
    from PIL import Image

    from midnet.data.pairs import ImagePair
    from midnet.data.sampling import PairStore

    rng = np.random.default_rng(0)
    scene = ndimage.gaussian_filter(rng.random((340, 420)), 2.0)
    scene = (255 * (scene - scene.min()) / np.ptp(scene)).astype(np.uint8)
    sharp, moved = scene[10:330, 10:410], scene[7:327, 17:417]        # moved[y, x] = sharp[y-3, x+7]
    Image.fromarray(sharp).save(tmp_path / "s.png")
    Image.fromarray(moved).save(tmp_path / "b.png")
    pair = ImagePair(name="b", input_path=tmp_path / "b.png", target_path=tmp_path / "s.png")
    plain = PairStore([pair], databar_rows=16, align=False).load(0)
    x, y, m = (store := PairStore([pair], databar_rows=16, align=True)).load(0)
    assert plain[0].shape == (1, 320, 400)
    assert store.shifts[0] == pytest.approx((-3.0, 7.0), abs=0.3)
    assert x.shape == y.shape == m.shape == (1, 317, 393)
    assert np.array_equal(x, y)                       # registered exactly: no pixel invented
    # the input's bar moved up by 3 rows: neither bar counts in the loss
    assert m[0, -16:].max() == 0 and m[0, :-16].min() == 1
