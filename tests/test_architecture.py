"""The package layout keeps its shape: import-linter's contracts (pyproject.toml) hold.

The contracts see function-local imports too (grimp reads every import statement), so a cycle
cannot hide behind a lazy import; lazy imports that remain are there for start-up speed and
say so in a comment.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 kept, 0 broken" in out


def test_the_contract_would_catch_an_upward_import() -> None:
    """Sanity check of the tool on this package: an import from io up to models breaks the layers."""
    graph = grimp.build_graph("midnet", cache_dir=None)
    graph.add_import(importer="midnet.io.images", imported="midnet.models.registry")
    illegal = graph.find_illegal_dependencies_for_layers(
        layers=("models", "io"), containers={"midnet"})
    assert illegal
