"""The bioimage.io package of the shipped default model passes bioimageio.core's own test and
tells consumers what they need: axes, scaling by bit depth, halo, citations, licence, weights."""

from __future__ import annotations

import zipfile

import pytest
import yaml

pytest.importorskip("bioimageio.core", reason="install midnet[export] (CI installs midnet[all])")

pytestmark = pytest.mark.slow  # model exports take 20-60 s on 2 CPU cores


def test_package_passes_bioimageio_core_test(bioimageio_package):
    from midnet.export.bioimageio import check_package

    passed, failures = check_package(bioimageio_package)
    assert passed, failures


def test_rdf_describes_axes_scaling_halo_citations_licence_and_weights(bioimageio_package):
    from midnet.export.bioimageio import HALO

    with zipfile.ZipFile(bioimageio_package) as package:
        names = set(package.namelist())
        rdf = yaml.safe_load(package.read("rdf.yaml"))
    assert rdf["format_version"].startswith("0.5") and rdf["type"] == "model"
    (tensor_in,), (tensor_out,) = rdf["inputs"], rdf["outputs"]
    assert [a["type"] for a in tensor_in["axes"]] == ["batch", "channel", "space", "space"]
    steps = [p["id"] for p in tensor_in["preprocessing"]]
    assert steps[:2] == ["ensure_dtype", "scale_linear"]
    assert tensor_in["preprocessing"][1]["kwargs"]["gain"] == pytest.approx(1 / 255)
    assert [a.get("halo") for a in tensor_out["axes"][2:]] == [HALO, HALO]
    assert rdf["license"] == "MIT"
    cites = " ".join(c["text"] for c in rdf["cite"])
    assert "MIDNet" in cites and "NAFNet" in cites
    assert set(rdf["weights"]) == {"pytorch_state_dict", "torchscript", "onnx"}
    assert rdf["weights"]["onnx"]["opset_version"] >= 17
    files = [tensor_in["test_tensor"], tensor_out["test_tensor"], rdf["documentation"], *rdf["covers"],
             *rdf["weights"].values()]
    files = {f if isinstance(f, str) else f["source"] for f in files}
    assert files <= names
