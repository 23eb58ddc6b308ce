"""Parameter and MAC counting on layers whose cost is known by hand."""

from __future__ import annotations

from torch import nn

from midnet.metrics import count_macs, count_parameters


def test_conv2d_macs_and_parameters_by_hand():
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
    # each of the 8·16·16 outputs needs 3·3·3 multiply-accumulates; the bias is not counted
    assert count_macs(conv, (1, 3, 16, 16)) == 8 * 16 * 16 * 3 * 3 * 3
    assert count_parameters(conv) == 8 * 3 * 3 * 3 + 8


def test_default_input_size_is_256_with_model_channels_and_mode_is_restored():
    model = nn.Sequential(nn.Conv2d(1, 4, 1), nn.ReLU(), nn.Conv2d(4, 2, 3, stride=2, padding=1, groups=2))
    model.train()
    expected = 4 * 256 * 256 * 1 + 2 * 128 * 128 * 2 * 9  # 1×1 conv, then grouped 3×3 at stride 2
    assert count_macs(model) == expected
    assert model.training


def test_trainable_only_and_shared_parameters():
    shared = nn.Linear(5, 5)
    model = nn.Sequential(shared, shared, nn.Linear(5, 2))
    model[2].weight.requires_grad_(False)
    assert count_parameters(model) == 30 + 12
    assert count_parameters(model, trainable_only=True) == 30 + 2
