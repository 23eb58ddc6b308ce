"""A worker killed mid-run: Dask reruns its task elsewhere, and nothing is lost or written twice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

distributed = pytest.importorskip("distributed")

import cloudpickle  # noqa: E402
from ngff_inputs import grains  # noqa: E402

from midnet.cluster.files import FileJob  # noqa: E402
from midnet.cluster.loader import DeblurrerSpec  # noqa: E402
from midnet.cluster.manifest import MANIFEST, read_record, sha256_file  # noqa: E402
from midnet.cluster.runner import run  # noqa: E402

import faulty  # noqa: E402  (this folder is on sys.path: pytest imports tests by rootdir)


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_writes_nothing_twice(tmp_path: Path) -> None:
    cloudpickle.register_pickle_by_value(faulty)
    frames = tmp_path / "frames"
    frames.mkdir()
    for index in range(6):
        tifffile.imwrite(frames / f"f{index}.tif", grains((64, 80), seed=index, dtype=np.uint8))
    inputs = {p.name: sha256_file(p) for p in frames.iterdir()}
    out = tmp_path / "out"
    spec = DeblurrerSpec(model="sem-general", device="cpu", backend="eager", threads=1)
    jobs = [FileJob(source=str(frames / f"f{i}.tif"), output=f"f{i}.tif", outdir=str(out), databar=0)
            for i in range(6)]
    lines: list[str] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        summary = run(client, spec, jobs, [], out, databar=0, echo=lines.append, task=faulty.restore_then_die_once)
        loaded = client.run(faulty.models_loaded)
    assert set(loaded.values()) <= {0, 1}  # each worker built the model once (the respawned one: once or not yet)
    assert (tmp_path / "killed-once").exists()  # a worker did die
    assert not summary.failed and sorted(summary.restored + summary.skipped) == sorted(j.source for j in jobs)
    attempts = [json.loads(line) for line in (tmp_path / "attempts.jsonl").read_text().splitlines()]
    by_output: dict[str, list[dict]] = {}
    for attempt in attempts:
        by_output.setdefault(attempt["output"], []).append(attempt)
    assert sorted(by_output) == [f"f{i}.tif" for i in range(6)]
    rerun = [a for a in attempts if a["status"] == "skipped"]
    assert len(rerun) == 1  # the killed task ran again, found its output committed, wrote nothing
    for output, tries in by_output.items():
        assert len({(t["inode"], t["mtime_ns"]) for t in tries}) == 1, f"{output} written twice: {tries}"
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(manifest["entries"]) == [f"f{i}.tif" for i in range(6)] and not manifest["failed"]
    for name, entry in manifest["entries"].items():
        assert entry["output_sha256"] == sha256_file(out / name) == read_record(out, name).output_sha256
    assert {p.name: sha256_file(p) for p in frames.iterdir()} == inputs  # inputs never touched
    assert not any((out / ".midnet" / "tmp").iterdir())
