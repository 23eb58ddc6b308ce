"""One image file as one task: restored on a worker and committed exactly once.

The task is idempotent, because Dask reruns the tasks of a worker that died, including one that
died after its output was already in place. The commit order makes a rerun safe:

1. the restored file (and its sidecar) is written into ``OUT/.midnet/tmp/<id>/`` by the same
   `Deblurrer.write_file` as a serial run (same format, metadata, data bar);
2. its record, with the output's SHA-256, is written (`midnet.cluster.manifest`);
3. it is renamed onto its final name (atomic on one file system).

A rerun of the task finds the record and an output with the recorded checksum and returns
without writing; a crash between 2 and 3 leaves a record without its output, which is redone.
The input is only read.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from midnet.cluster.loader import DeblurrerSpec
from midnet.cluster.manifest import (Record, finished, input_checksum, sha256_file, temporary_dir, worker_name,
                                     write_record)


@dataclass(frozen=True)
class FileJob:
    """Restore ``source`` into ``outdir / output``."""

    source: str
    output: str
    outdir: str
    databar: str | int = "auto"
    overwrite: bool = False


def restore_file(spec: DeblurrerSpec, job: FileJob) -> dict[str, Any]:
    """Run one file job on this worker; returns ``{"status": "done" | "skipped", "record": ...}``."""
    src, outdir = Path(job.source), Path(job.outdir)
    dst = outdir / job.output
    settings = spec.settings() | {"databar": job.databar}
    input_sha = input_checksum(src)
    if not job.overwrite:
        record = finished(outdir, job.output, src, settings, input_sha)
        if record is not None:
            return {"status": "skipped", "record": asdict(record)}
        if dst.exists():
            raise FileExistsError(f"{dst}: output exists but no finished record of this input and model "
                                  "is in the manifest; pass --overwrite to replace it")
    if dst.exists() and dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: output would overwrite its input; choose another output folder")
    start = time.perf_counter()
    deblurrer = spec.load()
    image = deblurrer.read_file(src, databar=job.databar)
    restored = deblurrer.restore_image(image, databar=job.databar)
    megapixels = sum(page.shape[0] * page.shape[1] for page in image.pages) / 1e6
    staging = temporary_dir(outdir)
    try:
        staged = deblurrer.write_file(restored, src, staging / dst.name, overwrite=True)
        record = Record(output=job.output, source=str(src), input_sha256=input_sha,
                        output_sha256=sha256_file(staged), settings=settings, megapixels=megapixels,
                        seconds=time.perf_counter() - start, worker=worker_name())
        write_record(outdir, record)
        dst.parent.mkdir(parents=True, exist_ok=True)
        for extra in sorted(staging.iterdir()):  # the sidecar first, the image last
            if extra != staged:
                os.replace(extra, dst.parent / extra.name.replace(staged.stem, dst.stem, 1))
        os.replace(staged, dst)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"status": "done", "record": asdict(record)}
