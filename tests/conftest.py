"""Shared fixtures. Tests run on CPU with few threads: CI has 2 cores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# one intra-op thread: CI has 2 cores and tiny test tensors only lose from threading
torch.set_num_threads(1)
# `Deblurrer` compiles its model on first use (a minute per model on 2 cores); the tests that
# exercise that path ask for backend="compiled" explicitly (tests/inference/test_speed_paths.py)
os.environ.setdefault("MIDNET_BACKEND", "eager")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "midnet-sem"


@pytest.fixture(scope="session")
def sem_data() -> Path:
    """The published SEM pairs (MIDNET_DATA or ../shared/data/midnet-sem); skip if absent."""
    root = Path(os.environ.get("MIDNET_DATA", SHARED_DATA))
    if not (root / "blur").is_dir():
        pytest.skip(f"published SEM data not found at {root} (set MIDNET_DATA)")
    return root
