"""npe2 validates the manifest, which contributes a reader, a widget and sample data, and the
package's entry point names it."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_npe2_validates_manifest_with_reader_widget_and_sample():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_file(str(files("midnet.napari") / "napari.yaml"))
    manifest.validate_imports()  # every python_name imports
    contributions = manifest.contributions
    assert [w.command for w in contributions.widgets] == ["midnet.make_deblur_widget"]
    assert [r.command for r in contributions.readers] == ["midnet.get_reader", "midnet.get_zarr_reader"]
    assert "*.tif" in contributions.readers[0].filename_patterns
    assert [s.key for s in contributions.sample_data] == ["demo-frame"]


def test_entry_point_names_the_manifest():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["napari.manifest"] == {"midnet": "midnet.napari:napari.yaml"}
    extras = project["optional-dependencies"]
    assert any(dep.startswith("napari") for dep in extras["napari"])
    assert not any(dep.startswith(("napari", "onnx", "bioimageio")) for dep in project["dependencies"])
