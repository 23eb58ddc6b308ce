"""Atomic writes leave no temporary file when interrupted, and a later run can tell the leftovers
of a killed run (ours, writer gone) from a file in progress and from a user's hidden file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from midnet.cli.signals import Stopped, stop_on_signals
from midnet.io.atomic import atomic_write, stale_temp_files, temp_path


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_a_signal_during_the_write_removes_the_temporary_file(tmp_path: Path, stop: str) -> None:
    """The writer has written half the file when the signal comes (a real SIGTERM to this process)."""
    seen: list[Path] = []
    before = signal.getsignal(signal.SIGTERM)

    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        seen.append(tmp)
        if stop == "ctrl-c":
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the writer")

    with pytest.raises(KeyboardInterrupt) as info, stop_on_signals():
        atomic_write(tmp_path / "out.png", writer)
    assert seen and not seen[0].exists()
    assert list(tmp_path.iterdir()) == []
    if stop == "sigterm":
        assert isinstance(info.value, Stopped) and info.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_temporary_names_carry_the_writers_process_id(tmp_path: Path) -> None:
    tmp = temp_path(tmp_path / "scan.01.tif")
    assert tmp.parent == tmp_path and tmp.name.startswith(".scan.01.") and tmp.name.endswith(f"-{os.getpid()}.tmp.tif")
    assert temp_path(tmp_path / "scan.01.tif") != tmp


def test_stale_temporaries_are_only_ours_for_these_targets_and_of_ended_writers(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    names = {
        "stale": f".a.0123abcd-{dead}.tmp.png",         # a killed run's leftover for a.png: the only one
        "in progress": f".b.0123abcd-{alive}.tmp.png",  # a running writer's
        "other target": f".c.0123abcd-{dead}.tmp.png",  # for a file this run does not write
        "other suffix": f".a.0123abcd-{dead}.tmp.tif",
        "old pattern": ".a.0123abcd.tmp.png",           # no process id: cannot tell, left alone
        "user's": ".a.tmp.png",
        "user's too": f".a.notes-{dead}.tmp.png",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"x")
    assert stale_temp_files(tmp_path, ["a.png", "b.png"]) == [tmp_path / names["stale"]]
    assert stale_temp_files(tmp_path) == sorted(tmp_path / names[k] for k in ("stale", "other target", "other suffix"))
    assert stale_temp_files(tmp_path / "missing") == []
