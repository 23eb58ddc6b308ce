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


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_grey_keeps_shape_dtype_and_range(deblurrer: Deblurrer, make_image, dtype) -> None:
    base = make_image(72, 90)
    if dtype == np.float32:
        array = base * 1000.0 - 200.0  # floats outside [0, 1] are scaled by their own range
    else:
        array = np.rint(base * np.iinfo(dtype).max).astype(dtype)
    out = deblurrer(array)
    assert out.shape == array.shape and out.dtype == array.dtype
    assert not np.array_equal(out, array)
    assert out.min() >= array.min() and out.max() <= array.max()


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


def test_databar_rows_pass_through(deblurrer: Deblurrer, make_image) -> None:
    array = np.rint(make_image(80, 64) * 255).astype(np.uint8)
    out = deblurrer(array, databar=16)
    np.testing.assert_array_equal(out[-16:], array[-16:])
    assert not np.array_equal(out[:-16], array[:-16])
    with pytest.raises(ValueError, match="databar rows"):
        deblurrer(array, databar=-1)


def test_bad_shapes_are_rejected(deblurrer: Deblurrer) -> None:
    with pytest.raises(ValueError, match="expected an"):
        deblurrer(np.zeros((4, 8, 8, 3), np.uint8))


def test_from_pretrained_registry_name() -> None:
    d = Deblurrer.from_pretrained("midnet-sem-default", device="cpu", tile=64)
    assert d.in_channels == 1 and d.model_name == "midnet-sem-default"
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
