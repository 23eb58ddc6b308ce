"""What a run has finished, with checksums: per-output records and the folder's manifest.

Why two levels: a worker that restored a file must be able to tell, if its task is run again
(its first worker died after the output was in place), that the output is already there and
whole, without asking the driver; and the user wants one file to read. So:

* Each output has a record, ``OUT/.midnet/done/<key>.json``, written by the task (atomically)
  *before* the output is renamed into place, holding the output's SHA-256. An output counts
  as done when its record matches the current input (its SHA-256, or a store's listing) and the
  settings that decide the result, and the output on disk has the recorded checksum. A crash
  between record and rename leaves a record without its output: not done, redone once.
* ``OUT/midnet-manifest.json`` collects the records (and the run's failures); the driver
  rewrites it atomically as results arrive. A rerun reads the records, not this summary.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from midnet.io.atomic import atomic_write_text

MANIFEST = "midnet-manifest.json"
STATE = ".midnet"


@dataclass
class Record:
    """One finished output (relative to the output folder) and what it was made from."""

    output: str
    source: str
    input_sha256: str
    output_sha256: str
    settings: dict[str, Any]
    megapixels: float
    seconds: float
    worker: str | None = None
    finished: float = field(default_factory=time.time)


def sha256_file(path: str | Path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(root: str | Path, *, contents: bool = True) -> str:
    """A folder's checksum: every file's relative path and SHA-256 (or size and modification
    time when ``contents`` is false: the cheap fingerprint of a large input store)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".partial")):
        rel = path.relative_to(root).as_posix()
        if contents:
            digest.update(f"{rel}\0{sha256_file(path)}\n".encode())
        else:
            stat = path.stat()
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def checksum(path: str | Path, *, contents: bool = True) -> str:
    """SHA-256 of a file, or `sha256_tree` of a folder (a Zarr store)."""
    path = Path(path)
    return sha256_tree(path, contents=contents) if path.is_dir() else sha256_file(path)


def input_checksum(path: str | Path) -> str:
    """An input's identity: a file's SHA-256; a store's listing (size, mtime) of its chunks."""
    return checksum(path, contents=not Path(path).is_dir())


def record_path(outdir: str | Path, output: str) -> Path:
    key = hashlib.sha256(output.encode()).hexdigest()[:24]
    return Path(outdir) / STATE / "done" / f"{key}.json"


def write_record(outdir: str | Path, record: Record) -> Path:
    return atomic_write_text(record_path(outdir, record.output), json.dumps(asdict(record), indent=1))


def read_record(outdir: str | Path, output: str) -> Record | None:
    path = record_path(outdir, output)
    try:
        return Record(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def finished(outdir: str | Path, output: str, source: str | Path, settings: dict[str, Any],
             input_sha256: str | None = None) -> Record | None:
    """The record of ``output`` when it is done for this input and these settings, else None."""
    record = read_record(outdir, output)
    target = Path(outdir) / output
    if record is None or record.settings != settings or not target.exists():
        return None
    if (input_sha256 or input_checksum(source)) != record.input_sha256:
        return None
    if checksum(target) != record.output_sha256:
        return None
    return record


def forget(outdir: str | Path, output: str) -> None:
    record_path(outdir, output).unlink(missing_ok=True)


class Manifest:
    """``OUT/midnet-manifest.json``: the records of this folder and the failures of the last run."""

    def __init__(self, outdir: str | Path, model: str, settings: dict[str, Any]) -> None:
        self.outdir = Path(outdir)
        self.path = self.outdir / MANIFEST
        self.model = model
        self.settings = settings
        self.entries: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, str] = {}
        self._saved = 0.0
        try:
            previous = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries = dict(previous.get("entries", {}))
        except (OSError, ValueError):
            pass

    def add(self, record: Record) -> None:
        self.entries[record.output] = asdict(record)
        self.failed.pop(record.source, None)

    def fail(self, source: str, message: str) -> None:
        self.failed[source] = message

    def save(self, *, force: bool = True) -> None:
        """Rewrite the manifest (atomically); ``force=False`` at most once a second."""
        now = time.monotonic()
        if not force and now - self._saved < 1.0:
            return
        self._saved = now
        body = {"model": self.model, "settings": self.settings, "updated": time.time(),
                "entries": dict(sorted(self.entries.items())), "failed": dict(sorted(self.failed.items()))}
        atomic_write_text(self.path, json.dumps(body, indent=1))


def temporary_dir(outdir: str | Path) -> Path:
    """A fresh folder under ``OUT/.midnet/tmp`` (same file system as the outputs: renames are atomic)."""
    import uuid

    path = Path(outdir) / STATE / "tmp" / uuid.uuid4().hex[:12]
    path.mkdir(parents=True, exist_ok=False)
    return path


def worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"
