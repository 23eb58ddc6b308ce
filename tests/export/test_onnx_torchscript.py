"""ONNX and TorchScript exports of the shipped default model agree with PyTorch at any size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from midnet.export import load_for_export

pytestmark = pytest.mark.slow  # model exports take 20-60 s on 2 CPU cores


@pytest.fixture(scope="module")
def default_model():
    return load_for_export(None)[0]


def test_onnx_matches_pytorch_on_256x320_within_1e4(onnx_export, default_model):
    from midnet.export.onnx import max_difference, onnx_opset

    path, output = onnx_export
    assert onnx_opset(path) >= 17
    diff = max_difference(default_model, path, (256, 320))
    assert diff < 1e-4
    assert "256x320" in output and "max |difference|" in output


def test_onnx_height_width_and_batch_are_dynamic(onnx_export, default_model):
    import onnx

    from midnet.export.onnx import run_onnx

    path, _ = onnx_export
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param != "" for d in dims] == [True, False, True, True]
    x = torch.rand(2, 1, 123, 301, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = default_model(x).numpy()
    got = run_onnx(path, x.numpy())
    assert got.shape == (2, 1, 123, 301)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_torchscript_export_restores_sizes_it_was_not_traced_with(tmp_path, default_model, cli):
    out = tmp_path / "default.pt"
    result = cli("export", "--format", "torchscript", "--out", str(out))
    assert result.exit_code == 0, result.output
    traced = torch.jit.load(str(out))
    for shape in ((1, 1, 64, 64), (1, 1, 250, 333), (2, 1, 97, 130)):
        x = torch.rand(*shape, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            np.testing.assert_allclose(traced(x).numpy(), default_model(x).numpy(), atol=1e-5, rtol=0)


def test_export_refuses_existing_output_and_wrong_suffix_before_work(tmp_path, cli):
    existing = tmp_path / "model.onnx"
    existing.write_bytes(b"user's file")
    result = cli("export", "--format", "onnx", "--out", str(existing))
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert existing.read_bytes() == b"user's file"
    result = cli("export", "--format", "bioimageio", "--out", str(tmp_path / "model.onnx2"))
    assert result.exit_code == 2 and ".zip" in result.output


def test_export_unknown_model_is_a_usage_error(tmp_path, cli):
    result = cli("export", "--model", str(tmp_path / "missing.safetensors"), "--format", "torchscript",
                     "--out", str(tmp_path / "x.pt"))
    assert result.exit_code == 2 and "missing.safetensors" in result.output
    assert not (tmp_path / "x.pt").exists()


def test_python_api_exports_a_checkpoint_file(tmp_path):
    """A user's checkpoint (architecture in its metadata) exports like a shipped model."""
    from midnet import models
    from midnet.export import export_model

    torch.manual_seed(3)
    net = models.create("midnet-tiny")
    for p in net.parameters():  # skip-init blocks are the identity; make them do something
        p.data.add_(0.05 * torch.randn_like(p))
    checkpoint = models.save_model(net, tmp_path / "mine.safetensors")
    out = export_model(checkpoint, "torchscript", tmp_path / "mine.pt")
    x = torch.rand(1, 1, 70, 90, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        np.testing.assert_allclose(torch.jit.load(str(out))(x).numpy(), net.eval()(x).numpy(), atol=1e-5, rtol=0)
    with pytest.raises(FileExistsError):
        export_model(checkpoint, "torchscript", out)
