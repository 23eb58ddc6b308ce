"""Headless napari: offscreen Qt, and the plugin registered from its manifest.

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
def viewer_factory(make_napari_viewer):
    """napari's ``make_napari_viewer``, after checking there is a display for its OpenGL canvas.

    Without one (no ``DISPLAY``) the canvas fails deep inside vispy; say what to do instead.
    """
    if not os.environ.get("DISPLAY"):
        pytest.fail("napari's canvas needs OpenGL, which Qt's offscreen platform lacks: run the tests "
                    "under a virtual X server, e.g. `xvfb-run -a python -m pytest` (`make test` does)")
    return make_napari_viewer
