"""The NumPy API: shape, dtype, value range, channel rule, alpha and data bar are kept."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from midnet import Deblurrer


@pytest.fixture(scope="module")
def deblurrer(tiny_model: nn.Module) -> Deblurrer:
    return Deblurrer(tiny_model, device="cpu", tile=64, overlap=32)


def _reference(model: nn.Module, unit: np.ndarray, multiple: int = 16) -> np.ndarray:
    """The model run directly on a whole float (H, W) image in [0, 1], clipped to [0, 1]: what
    the Deblurrer must reproduce, computed without any of its code. As documented for it
    (`tiled_inference`), the image is mirrored by ``multiple`` px (the model's size multiple,
    16 for the NAFNet family) on every side and at the bottom/right up to a multiple of it."""
    h, w = unit.shape
    bottom = -(-(h + 2 * multiple) // multiple) * multiple - h - multiple
    right = -(-(w + 2 * multiple) // multiple) * multiple - w - multiple
    padded = np.pad(unit.astype(np.float32), ((multiple, bottom), (multiple, right)), mode="reflect")
    with torch.no_grad():
        out = model.eval()(torch.from_numpy(padded)[None, None])[0, 0].numpy()
    return np.clip(out[multiple:multiple + h, multiple:multiple + w].astype(np.float64), 0.0, 1.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_grey_equals_the_model_run_directly(tiny_model: nn.Module, make_image, dtype) -> None:
    """Whole-image restoration equals the bare model on the scaled image, mapped back to the
    input's dtype and range (uint8/uint16 by their full range, other floats by their own)."""
    whole = Deblurrer(tiny_model, device="cpu", tile=None)
    base = make_image(72, 90)
    if dtype == np.float32:
        array = (base * 1000.0 - 200.0).astype(np.float32)
        lo, hi = float(array.min()), float(array.max())
        expected = _reference(tiny_model, (array - lo) / (hi - lo)) * (hi - lo) + lo
        tol = 1e-3 * (hi - lo)
    else:
        top = np.iinfo(dtype).max
        array = np.rint(base * top).astype(dtype)
        expected = np.rint(_reference(tiny_model, array / top) * top)
        tol = 1.0  # one grey level: float32 rounding at a .5 boundary
    out = whole(array)
    assert out.shape == array.shape and out.dtype == array.dtype
    np.testing.assert_allclose(out.astype(np.float64), expected, atol=tol, rtol=0)
    assert np.abs(out.astype(np.float64) - array).max() > 10 * tol   # the model really changed it


def test_uint16_is_restored_at_full_precision(deblurrer: Deblurrer, make_image) -> None:
    """16-bit in gives 16-bit out using the low byte too (no detour through 8 bits)."""
    array = np.rint(make_image(64, 64) * 65535).astype(np.uint16)
    out = deblurrer(array)
    assert np.unique(out % 256).size > 200


def test_rgb_with_grey_model_restores_each_channel(deblurrer: Deblurrer, make_image) -> None:
    rgb = np.stack([make_image(64, 80, seed=s) for s in (1, 2, 3)], axis=2)
    rgb8 = np.rint(rgb * 255).astype(np.uint8)
    out = deblurrer(rgb8)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], deblurrer(rgb8[..., c]))


def test_rgba_alpha_kept_and_grey_rgb_restored_once(deblurrer: Deblurrer, make_image) -> None:
    grey = np.rint(make_image(64, 80) * 255).astype(np.uint8)
    alpha = np.full_like(grey, 200)
    alpha[:10] = 0
    rgba = np.stack([grey, grey, grey, alpha], axis=2)
    out = deblurrer(rgba)
    np.testing.assert_array_equal(out[..., 3], alpha)
    expected = deblurrer(grey)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], expected)


def test_databar_rows_pass_through(tiny_model: nn.Module, make_image) -> None:
    """The bar is copied; the model sees (and restores) only the rows above it."""
    array = np.rint(make_image(80, 64) * 255).astype(np.uint8)
    whole = Deblurrer(tiny_model, device="cpu", tile=None)
    out = whole(array, databar=16)
    np.testing.assert_array_equal(out[-16:], array[-16:])
    expected = np.rint(_reference(tiny_model, array[:-16] / 255.0) * 255)
    np.testing.assert_allclose(out[:-16].astype(np.float64), expected, atol=1, rtol=0)
    deblurrer = Deblurrer(tiny_model, device="cpu", tile=64, overlap=32)
    with pytest.raises(ValueError, match="data bar -1: use auto, none or a number of rows"):
        deblurrer(array, databar=-1)
    with pytest.raises(ValueError, match="cover the whole 80-row image"):
        deblurrer(array, databar=80)  # a bar as tall as the image would restore nothing


def test_bad_shapes_are_rejected(deblurrer: Deblurrer) -> None:
    with pytest.raises(ValueError, match="expected an"):
        deblurrer(np.zeros((4, 8, 8, 3), np.uint8))


def test_from_pretrained_registry_name() -> None:
    d = Deblurrer.from_pretrained("sem-general", device="cpu", tile=64)
    assert d.in_channels == 1 and d.model_name == "sem-general"
    out = d(np.zeros((40, 40), np.uint8))
    assert out.shape == (40, 40) and out.dtype == np.uint8


def test_from_pretrained_refuses_an_architecture_without_weights() -> None:
    from midnet.models import NoWeightsError

    with pytest.raises(NoWeightsError, match="nafnet-tiny: has no trained weights; pass a checkpoint or train one"):
        Deblurrer.from_pretrained("nafnet-tiny")


def test_from_pretrained_checkpoint_file(tmp_path: Path, tiny_model: nn.Module, make_image) -> None:
    from midnet.models import save_model

    path = tmp_path / "mine.safetensors"
    save_model(tiny_model, path, name="midnet-tiny")
    d = Deblurrer.from_pretrained(path, device="cpu", tile=None)
    image = np.rint(make_image(48, 48) * 255).astype(np.uint8)
    np.testing.assert_array_equal(d(image), Deblurrer(tiny_model, device="cpu", tile=None)(image))


def test_missing_default_model_says_pass_model(tmp_path, monkeypatch) -> None:
    """A broken install (weights file missing) must say how to go on, not crash obscurely."""
    from dataclasses import replace

    from midnet.models import DEFAULT_MODEL, registry

    entry = registry._REGISTRY[DEFAULT_MODEL]
    monkeypatch.setitem(registry._REGISTRY, DEFAULT_MODEL, replace(entry, weights=str(tmp_path / "missing.safetensors")))
    with pytest.raises(FileNotFoundError, match="--model"):
        Deblurrer.from_pretrained()


def test_cuda_requested_without_gpu_is_a_clear_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="--device cpu"):
        Deblurrer(nn.Conv2d(1, 1, 3, padding=1), device="cuda")


def test_tlc_option_runs_and_changes_the_global_pooling(make_image) -> None:
    """TLC replaces the channel attention's whole-image mean by a local one (1.5x train-size
    windows): on an image larger than the window the output must differ from plain inference."""
    from midnet.models import create

    torch.manual_seed(0)
    model = create("nafnet-tiny")
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("beta", "gamma")):
                param.normal_(0.0, 0.5)
    image = np.rint(make_image(96, 96) * 255).astype(np.uint8)
    plain = Deblurrer(model, device="cpu", tile=None)(image)
    local = Deblurrer(copy.deepcopy(model), device="cpu", tile=None, tlc=32)
    from midnet.models import tlc_enabled

    assert tlc_enabled(local.model)
    out = local(image)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert not np.array_equal(out, plain)
