"""Fixtures for the download tests: a tmp copy of a few published files behind a loopback server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopback_server import LoopbackServer, serve_folder

#: the source image the download tests fetch (24 crops, ~7 MB: fast on loopback)
GROUP = "1-1"


@pytest.fixture
def mirror(sem_data: Path, tmp_path: Path) -> Path:
    """A copy of source image 1's crops in the published layout (the files a server offers)."""
    root = tmp_path / "mirror"
    for kind in ("blur", "sharp"):
        (root / kind).mkdir(parents=True)
        for crop in sorted((sem_data / kind).glob(f"{GROUP}_s*.png")):
            shutil.copyfile(crop, root / kind / crop.name)
    if len(list(root.glob("*/*.png"))) != 24:
        pytest.skip(f"{sem_data} lacks the 24 crops of source image {GROUP}")
    return root


@pytest.fixture
def server(mirror: Path) -> Iterator[LoopbackServer]:
    """Loopback HTTP server (127.0.0.1, free port) serving ``mirror``; stopped afterwards."""
    with serve_folder(mirror) as state:
        yield state
