"""A file task that kills its worker process once, right after committing its output.

Pickled by value (the test registers this module with cloudpickle), so worker processes need
not import it. The marker file makes the kill happen once across all workers; every attempt
logs the output's inode and modification time, which tell whether the file was written again.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any


def restore_then_die_once(spec: Any, job: Any) -> dict[str, Any]:
    from midnet.cluster.files import restore_file

    result = restore_file(spec, job)
    out = Path(job.outdir) / job.output
    stat = out.stat()
    log = Path(job.outdir).parent / "attempts.jsonl"
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"output": job.output, "pid": os.getpid(), "status": result["status"],
                                 "inode": stat.st_ino, "mtime_ns": stat.st_mtime_ns}) + "\n")
    marker = Path(job.outdir).parent / "killed-once"
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return result
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before the result reaches the scheduler
    return result


def models_loaded() -> int:
    """How many Deblurrers this worker process built."""
    from midnet.cluster import loader

    return loader.builds
