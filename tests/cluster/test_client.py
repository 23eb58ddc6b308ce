"""``--cluster`` values, and the core install staying lean: nothing of Dask at ``import midnet``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from midnet.cluster.client import ClusterSpec, parse_cluster


def test_cluster_values() -> None:
    assert parse_cluster(None) == ClusterSpec("inprocess", workers=1)
    assert parse_cluster("local") == ClusterSpec("local")
    assert parse_cluster("local:3") == ClusterSpec("local", workers=3)
    assert parse_cluster("tcp://head:8786") == ClusterSpec("address", address="tcp://head:8786")
    for bad in ("local:0", "locale", "head:8786"):
        with pytest.raises(ValueError, match="--cluster"):
            parse_cluster(bad)


def test_importing_midnet_and_its_cli_loads_no_dask_or_zarr() -> None:
    code = ("import sys, midnet, midnet.cli.deblur, midnet.inference.deblurrer; "
            "print(sorted(m for m in ('dask', 'distributed', 'zarr', 'ome_zarr') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_local_workers_keep_glibcs_adaptive_mmap_threshold() -> None:
    """Dask's MALLOC_TRIM_THRESHOLD_ would make every tensor above 128 KiB a fresh mapping."""
    import dask

    from midnet.cluster.client import worker_environ

    with dask.config.set({"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536,
                                                                  "OMP_NUM_THREADS": 1}}):
        assert worker_environ() == {"OMP_NUM_THREADS": 1}
