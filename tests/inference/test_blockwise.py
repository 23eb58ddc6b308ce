"""Blockwise restoration (`midnet.inference.blockwise`): equal to the whole image, lazily.

The bundled model (`sem-general`) runs for real on the CPU. Its channel attention is global by
default, which no block can see, so the equality tests use TLC with a small window (16 px
training crop: a 24 px window), the configuration in which blocks and the whole image compute
the same function; the margin then has to include that window, which is what is measured.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("dask")

from midnet.inference import blockwise  # noqa: E402
from midnet.inference.deblurrer import Deblurrer  # noqa: E402



def microstructure(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth grains in [0, 1] with a little noise (the inference conftest's image)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.random((height, width)), 3)
    img = (img - img.min()) / (img.max() - img.min())
    return np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def plain() -> Deblurrer:
    """Global channel-attention pooling (``tlc=False``; the default pools 1.5x the training crop)."""
    return Deblurrer.from_pretrained("sem-general", device="cpu", backend="eager", tlc=False)


@pytest.fixture(scope="module")
def local() -> Deblurrer:
    return Deblurrer.from_pretrained("sem-general", device="cpu", backend="eager", tlc=16)


def _grey(height: int, width: int, seed: int = 0, dtype=np.uint8) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.rint(microstructure(height, width, seed) * top).astype(dtype)


def test_the_margin_includes_the_local_attention_window(plain: Deblurrer, local: Deblurrer) -> None:
    assert blockwise.local_window(plain.model) == 0
    assert blockwise.local_window(local.model) == 24
    bare, windowed = blockwise.receptive_radius(plain), blockwise.receptive_radius(local)
    assert 8 <= bare <= 96
    assert windowed >= bare + 24 // 2
    for d in (plain, local):
        overlap = blockwise.block_overlap(d)
        assert overlap % d.align == 0 and overlap >= blockwise.receptive_radius(d)


def test_the_radius_is_where_wider_crops_stop_changing_the_centre(local: Deblurrer) -> None:
    """The measured radius: every crop at least that wide leaves the probe's centre within the
    tolerance of the whole-image result; the next narrower crop does not (the scan stopped there)."""
    probe = blockwise.CropProbe(local.model, local.in_channels, 256, local.align)
    radius = blockwise.smallest_radius(probe, blockwise.RADIUS_TOL)
    assert radius is not None and radius > 0
    assert probe.change(radius) <= blockwise.RADIUS_TOL
    assert probe.change(radius - local.align) > blockwise.RADIUS_TOL
    assert probe.change(0) > 10 * blockwise.RADIUS_TOL  # no context at all is visibly off
    assert not any(p.grad is not None for p in local.model.parameters())  # forward passes only


def test_a_blockwise_margin_is_at_least_a_tiles_context(local: Deblurrer) -> None:
    """Blocks and in-memory tiles agree with the whole image by the same rule."""
    assert blockwise.block_overlap(local) >= local.context() > 0


def test_blockwise_equals_the_whole_image_within_one_grey_level(local: Deblurrer) -> None:
    image = _grey(272, 304, seed=1)  # not a multiple of the chunks or the model's grid
    whole = local(image)
    lazy = local.restore_dask(image, chunks=((128, 144), (128, 176)))
    out = lazy.compute(scheduler="sync")
    assert out.dtype == image.dtype and out.shape == image.shape
    diff = np.abs(out.astype(int) - whole.astype(int))
    assert diff.max() <= 1, f"max {diff.max()} grey levels"
    assert np.abs(out.astype(int) - image.astype(int)).mean() > 0.5  # it did restore


def test_too_small_a_margin_leaves_seams(local: Deblurrer) -> None:
    """The check above can fail: 16 px of context (well inside the radius) is visibly off."""
    image = _grey(256, 256, seed=1)
    whole = local(image)
    out = local.restore_dask(image, chunks=((128, 128), (128, 128)), overlap=16).compute(scheduler="sync")
    assert np.abs(out.astype(int) - whole.astype(int)).max() > 1


def test_stacks_are_restored_plane_by_plane_and_lazily(plain: Deblurrer, monkeypatch) -> None:
    stack = np.stack([_grey(96, 112, seed=s, dtype=np.uint16) for s in (2, 3)])
    calls = []
    restore = plain.restore_float

    def counted(*args, **kwargs):
        calls.append(1)
        return restore(*args, **kwargs)

    monkeypatch.setattr(plain, "restore_float", counted)
    lazy = plain.restore_dask(stack, chunks=((1, 1), (96,), (112,)))
    assert not calls  # nothing ran yet
    out = lazy.compute(scheduler="sync")
    monkeypatch.undo()
    assert len(calls) == 2
    for plane, restored in zip(stack, out):
        np.testing.assert_array_equal(restored, plain(plane))


def test_the_reference_pickles_with_its_model_and_tlc(local: Deblurrer) -> None:
    ref = blockwise.DeblurrerRef.of(local)
    assert blockwise.DeblurrerRef.of(local) is ref  # one token per Deblurrer
    blockwise.DeblurrerRef._built.pop(ref.token, None)
    copy = pickle.loads(pickle.dumps(ref))
    assert copy.deblurrer is not local and copy.token == ref.token
    image = _grey(64, 80, seed=4)
    np.testing.assert_array_equal(copy.deblurrer(image), local(image))
    assert pickle.loads(pickle.dumps(ref)).deblurrer is copy.deblurrer  # built once per process


def test_other_dtypes_need_their_global_range(plain: Deblurrer) -> None:
    image = microstructure(64, 64).astype(np.float64) * 1000.0
    with pytest.raises(ValueError, match="value_range"):
        plain.restore_dask(image)
    out = plain.restore_dask(image, value_range=(0.0, 1000.0), chunks=((64,), (64,))).compute(scheduler="sync")
    expected = plain((image / 1000.0).astype(np.float32)).astype(np.float64) * 1000.0
    np.testing.assert_allclose(out, expected, atol=1e-3)


def test_split_axis_keeps_starts_and_folds_a_short_tail() -> None:
    assert blockwise.split_axis(1000, 256, 96) == (256, 256, 256, 232)
    assert blockwise.split_axis(1040, 256, 96) == (256, 256, 256, 272)
    assert blockwise.split_axis(100, 256, 96) == (100,)


def test_the_plan_fits_the_budget_and_the_store(plain: Deblurrer) -> None:
    chunks = blockwise.plan_chunks((3, 5000, 7000), plain, overlap=48, storage=(1, 512, 512))
    assert chunks[0] == (1, 1, 1)
    side = chunks[1][0]
    assert side % 512 == 0 and (side + 96) ** 2 <= max(plain.pixels_per_pass(), (512 + 96) ** 2)
    assert sum(chunks[1]) == 5000 and sum(chunks[2]) == 7000
