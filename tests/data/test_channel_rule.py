"""The documented channel rule: alpha dropped, RGB -> BT.601 luma for 1-channel models."""

from __future__ import annotations

import numpy as np
import pytest

from midnet.data import to_model_channels


def test_bit_depth_scaling() -> None:
    assert to_model_channels(np.full((2, 2), 255, np.uint8), 1).max() == 1.0
    x16 = to_model_channels(np.full((2, 2), 32768, np.uint16), 1)
    assert x16.shape == (1, 2, 2) and np.allclose(x16, 32768 / 65535)


def test_rgba_to_grey_uses_luma_and_ignores_alpha() -> None:
    rgba = np.zeros((1, 1, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 7)
    assert np.isclose(to_model_channels(rgba, 1)[0, 0, 0], 0.299)


def test_grey_to_three_channels_repeats() -> None:
    grey = np.arange(4, dtype=np.uint8).reshape(2, 2)
    out = to_model_channels(grey, 3)
    assert out.shape == (3, 2, 2) and np.array_equal(out[0], out[2])


def test_unsupported_channel_count() -> None:
    with pytest.raises(ValueError, match="channels"):
        to_model_channels(np.zeros((2, 2), np.uint8), 2)
