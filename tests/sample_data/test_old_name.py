"""`midnet.datasets` (the old name) still imports, as the very same modules, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest


def test_old_name_is_an_alias() -> None:
    sys.modules.pop("midnet.datasets", None)
    with pytest.warns(DeprecationWarning, match="midnet.sample_data"):
        old = importlib.import_module("midnet.datasets")
    import midnet.sample_data as new

    assert old.data_root is new.data_root and old.frame_pair is new.frame_pair
    assert importlib.import_module("midnet.datasets.download") is sys.modules["midnet.sample_data.download"]
