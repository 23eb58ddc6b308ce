"""The top-level names: ``midnet.Deblurrer`` and ``midnet.estimate_blur``, loaded only when asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

import midnet


def test_top_level_names_are_the_packages_own() -> None:
    from midnet.inference.deblurrer import Deblurrer
    from midnet.psf import estimate_blur

    assert midnet.Deblurrer is Deblurrer and midnet.estimate_blur is estimate_blur
    assert {"Deblurrer", "estimate_blur"} <= set(midnet.__all__)
    with pytest.raises(AttributeError):
        midnet.no_such_name  # noqa: B018


def test_importing_midnet_loads_neither_torch_nor_scipy() -> None:
    code = "import sys, midnet; print('torch' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
