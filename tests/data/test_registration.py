"""Registration of a blurry re-take to its sharp partner: known shifts and known smooth
displacement fields recovered; the warp and the training pairs built on it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from midnet.data.defocus import blur, disc_psf
from midnet.data.registration import DisplacementField, align_to_reference, estimate_shift, measure_field, warp


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


def _scan_distortion(shape: tuple[int, int]) -> DisplacementField:
    """A smooth, scan-distortion-like field (moving = clean resampled by it), up to 15 px and
    varying across the frame by several pixels in both axes."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    gy = 3.0 * np.sin(2 * np.pi * (0.6 * yy / h + 0.1)) + 2.0 * xx / w
    gx = -10.0 + 5.0 * np.sin(2 * np.pi * 0.5 * yy / h) * np.cos(2 * np.pi * 0.3 * xx / w) - 4.0 * yy / h
    return DisplacementField(gy.astype(np.float32), gx.astype(np.float32), np.zeros((0, 2)), np.zeros(0, bool), 0)


def test_smooth_displacement_of_a_real_frame_is_recovered() -> None:
    """Acceptance (issue 19): a real SEM frame warped by a known smooth field (up to 15 px,
    varying across the frame), blurred and noisy, is registered to <= 0.5 px median error, and
    the clean warped frame warped back by the measured field scores >= 40 dB."""
    from PIL import Image

    from midnet.evaluation.demo import packaged_pair
    from midnet.metrics import psnr

    clean = np.asarray(Image.open(packaged_pair()[1]).convert("L"), np.float64)
    clean = clean[: clean.shape[0] - 64]          # the shipped crop's bottom rows hold the data bar
    truth = _scan_distortion(clean.shape)
    assert 12 < max(np.abs(truth.dx).max(), np.abs(truth.dy).max()) <= 15
    assert np.ptp(truth.dx) > 5 and np.ptp(truth.dy) > 5          # not a translation
    warped = warp(clean, truth)
    blurry = ndimage.gaussian_filter(warped, 2.0) + np.random.default_rng(0).normal(0, 6.0, clean.shape)
    measured = measure_field(blurry, clean)
    expected = truth.inverted()
    fy, fx = expected.dy, expected.dx
    keep = measured.score_mask()
    assert keep.mean() > 0.8
    error = np.hypot(measured.dy - fy, measured.dx - fx)[keep]
    assert np.median(error) <= 0.5
    back = warp(warped, measured)
    assert psnr(back, clean, data_range=255, mask=keep) >= 40.0


def test_an_unmoved_pair_is_left_alone() -> None:
    """A registered pair measures as no move: nothing is resampled (no smoothing of the score)."""
    sharp = _scene(4) * 255
    blurry = ndimage.gaussian_filter(sharp, 1.5)
    measured = measure_field(blurry, sharp)
    assert measured.is_identity
    np.testing.assert_array_equal(warp(sharp, measured), sharp)


def test_plain_tiles_are_left_out_and_reported() -> None:
    """A flat (untextured) region cannot be registered: its tiles are left out of the score mask."""
    sharp = _scene(5) * 255
    sharp[:, 128:] = 100.0
    blurry = ndimage.shift(ndimage.gaussian_filter(sharp, 1.0), (0, 4), mode="nearest")
    measured = measure_field(blurry, sharp, tile=64)
    stats = measured.stats()
    assert stats["tiles_left_out"] > 0
    assert stats["median_shift_x"] == pytest.approx(4.0, abs=0.3)          # blurry[x] = sharp[x - 4]
    mask = measured.score_mask()
    assert not mask[:, 200:].any() and mask[:, :90].mean() > 0.9


def test_pair_store_registers_moved_pairs_before_cropping(tmp_path):
    """``data.align``: a capture moved by (3, -7) px is resampled back onto its partner and both are
    cut to where the field maps inside the frame; the data bar stays masked."""
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
    stats = store.fields[0].stats()
    assert (stats["median_shift_y"], stats["median_shift_x"]) == pytest.approx((3.0, -7.0), abs=0.2)
    assert x.shape == y.shape == m.shape
    assert 298 <= x.shape[1] <= 301 and 390 <= x.shape[2] <= 393    # 304 image rows - 3, 400 columns - 7
    counted = m[0] > 0
    assert np.abs(x[0] - y[0])[counted].max() < 0.01   # registered: content matches where it counts
    assert x.shape[1] <= 304                          # the bar rows (with the input moved off them) are cut off
