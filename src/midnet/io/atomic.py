"""Atomic file writes: one place for the "temporary file beside the target, then rename" rule.

Every output midnet writes (restored images, checkpoints, tables, configs, figures) goes
through here, so a crash or a failing writer never leaves a half-written file under the final
name, and files get ordinary permissions (the process umask), unlike ``tempfile.mkstemp``'s 0600.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable


def atomic_write(path: str | Path, writer: Callable[[Path], None], *, overwrite: bool = False) -> Path:
    """Call ``writer(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``.

    An existing ``path`` is only replaced when ``overwrite`` is true (user outputs default to
    refusing; the library's own run files pass ``overwrite=True``).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: output exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
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
