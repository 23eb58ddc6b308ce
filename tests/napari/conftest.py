"""Headless napari: offscreen Qt, no OpenGL, and the plugin registered from its manifest.

The tests drive a `napari.components.ViewerModel`: the viewer's layers, sample data, readers
and grid without its window, whose OpenGL canvas would need a display (Qt's offscreen platform
has no OpenGL) or a virtual X server. What midnet adds to napari (reader, widget, sample, the
manifest) is all exercised; drawing pixels is napari's own business. So the tests run on any
machine the Python wheels install on, without Xvfb.

In an installed checkout (CI: ``pip install -e .[all]``) napari finds the plugin through the
``napari.manifest`` entry point; in a source tree run with ``PYTHONPATH=src`` the manifest is
registered here from the file that entry point names.
"""

from __future__ import annotations

import os

import pytest

if not os.environ.get("DISPLAY"):  # no X server (not even Xvfb): Qt without a screen
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari", reason="install midnet[napari] (CI installs midnet[all])")
pytest.importorskip("pytestqt", reason="install pytest-qt (CI installs midnet[all])")


@pytest.fixture
def midnet_plugin():
    """npe2's plugin manager with midnet's manifest registered."""
    from importlib.resources import files

    from npe2 import PluginManager, PluginManifest

    manager = PluginManager.instance()
    if "midnet" not in manager:
        manager.register(PluginManifest.from_file(str(files("midnet.napari") / "napari.yaml")))
    return manager


@pytest.fixture
def viewer(qapp, midnet_plugin):
    """A napari viewer without a window (`ViewerModel`), with midnet's plugin registered;
    ``qapp`` first, because the widget and napari's workers are Qt objects."""
    from napari.components import ViewerModel

    model = ViewerModel()
    yield model
    model.layers.clear()
