"""Atomic file writes: one place for the "temporary file beside the target, then rename" rule.

Every output midnet writes (restored images, checkpoints, tables, configs, figures) goes
through here, so a crash or a failing writer never leaves a half-written file under the final
name, and files get ordinary permissions (the process umask), unlike ``tempfile.mkstemp``'s 0600.

The temporary file is hidden and named ``.<stem>.<8 hex>-<pid>.tmp<suffix>``. Any exception in
the writer, Ctrl-C included (and SIGTERM where the command turns it into one,
`midnet.cli.signals`), removes it. Only a process killed outright (SIGKILL, power loss) leaves
one behind; the writing process's id in the name lets a later run tell such a leftover from a
file another run is writing at that moment (`stale_temp_files`), and nothing else (a user's own
hidden file) ever matches the pattern.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Callable, Iterable

_TEMP = re.compile(r"\.(?P<stem>.*)\.[0-9a-f]{8}-(?P<pid>[0-9]+)\.tmp(?P<suffix>.*)")


def temp_path(path: str | Path) -> Path:
    """A fresh temporary name beside ``path`` (see the module docstring)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}-{os.getpid()}.tmp{path.suffix}")


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or we cannot tell: keep its file
    return True


def stale_temp_files(folder: str | Path, targets: Iterable[str] | None = None) -> list[Path]:
    """Temporary files of `atomic_write` in ``folder`` left by a process that no longer runs.

    Only names of our pattern count, for the file names in ``targets`` (None: any), and only
    when their process id names no running process on this machine, so that a concurrent
    run's file in progress is left alone. (A folder shared by several machines could hold
    another machine's file in progress whose id is free here: that run then fails for that one
    file, and says so.) One listing of the folder, however many targets.
    """
    folder = Path(folder)
    wanted = None if targets is None else set(targets)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for name in names:
        match = _TEMP.fullmatch(name)
        if match is None or (wanted is not None and match["stem"] + match["suffix"] not in wanted):
            continue
        if not _running(int(match["pid"])):
            stale.append(folder / name)
    return sorted(stale)


def atomic_write(path: str | Path, writer: Callable[[Path], None], *, overwrite: bool = False) -> Path:
    """Call ``writer(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``.

    An existing ``path`` is only replaced when ``overwrite`` is true (user outputs default to
    refusing; the library's own run files pass ``overwrite=True``).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: output exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        try:
            writer(tmp)
            if path.exists() and not overwrite:
                raise FileExistsError(f"{path}: output appeared while writing; pass --overwrite to replace it")
            os.replace(tmp, path)
        except FileExistsError:
            raise
        except OSError as exc:  # name the user's file, not our temporary one
            if exc.filename is None or str(tmp) not in str(exc.filename):
                raise
            raise OSError(exc.errno, f"{path}: cannot write ({exc.strerror or exc}); "
                          "check the folder's permissions and free space") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = True) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data), overwrite=overwrite)


def atomic_write_text(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=overwrite)
