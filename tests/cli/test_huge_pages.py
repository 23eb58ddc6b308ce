"""`midnet.cli.huge_pages`: when the console script restarts itself with glibc's hugetlb tunable."""

from __future__ import annotations

import os
import sys

import pytest

from midnet.cli import huge_pages, main


def test_not_wanted_once_set_or_when_opted_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huge_pages, "_glibc_at_least", lambda *_: True)
    monkeypatch.setattr(huge_pages, "_thp_available", lambda: True)
    monkeypatch.setattr(sys, "platform", "linux")
    assert huge_pages.wanted({})
    assert not huge_pages.wanted({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"})  # no exec loop
    assert not huge_pages.wanted({"MIDNET_HUGE_PAGES": "0"})
    monkeypatch.setattr(huge_pages, "_thp_available", lambda: False)
    assert not huge_pages.wanted({})


def test_the_users_tunables_are_kept() -> None:
    assert huge_pages.tunables({}) == "glibc.malloc.hugetlb=1"
    assert huge_pages.tunables({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}) == \
        "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"


def test_the_console_script_execs_its_own_command_line_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str], str]] = []

    def fake_exec(path: str, argv: list[str]) -> None:
        calls.append((path, argv, os.environ["GLIBC_TUNABLES"]))
        raise SystemExit(0)  # an exec does not return

    monkeypatch.setattr(huge_pages, "wanted", lambda environ=None: "hugetlb" not in os.environ.get("GLIBC_TUNABLES", ""))
    monkeypatch.setattr(os, "execv", fake_exec)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "/venv/bin/midnet", "deblur", "x.tif", "-o", "out"],
                        raising=False)
    with pytest.raises(SystemExit):
        main.main()
    assert calls == [(sys.executable, [sys.executable, "/venv/bin/midnet", "deblur", "x.tif", "-o", "out"],
                      "glibc.malloc.hugetlb=1")]


def test_a_failed_exec_runs_on_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huge_pages, "wanted", lambda environ=None: True)
    monkeypatch.setattr(os, "execv", lambda *_: (_ for _ in ()).throw(OSError("no exec here")))
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    huge_pages.restart_with_huge_pages()
    assert "GLIBC_TUNABLES" not in os.environ
