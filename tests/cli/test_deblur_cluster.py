"""``midnet deblur`` on Dask (issue 20): OME-Zarr and pyramidal OME-TIFF in and out, resume after
an interrupt, and a folder on a local cluster equal to the serial run.

The bundled model runs on the CPU. Inputs are small (at most 512², chunks of 64 px) so that a
store has many chunks and the whole file runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

pytest.importorskip("distributed")
pytest.importorskip("ome_zarr")

from ngff_inputs import grains, write_ome_zarr  # noqa: E402

from midnet.cli.main import cli  # noqa: E402
from midnet.cluster.manifest import MANIFEST, checksum, sha256_tree  # noqa: E402
from midnet.inference.deblurrer import Deblurrer  # noqa: E402
from midnet.io import omezarr, ometiff  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CPU = ["--model", "sem-general", "--device", "cpu", "--backend", "eager"]


def _run(*args: str):
    return CliRunner().invoke(cli, ["deblur", *args, *CPU], catch_exceptions=False)


def _levels(store: Path) -> list[np.ndarray]:
    image = omezarr.read_ome_zarr(store)
    return [np.asarray(level) for level in image.levels]


def _ome(store: Path) -> dict:
    attrs = omezarr.read_ome_zarr(store).attrs
    return attrs.get("ome", attrs)


def test_ome_zarr_in_and_out_keeps_metadata_rewrites_the_pyramid_and_matches_the_whole_image(
        tmp_path: Path) -> None:
    data = grains((2, 200, 176), seed=1)
    source = tmp_path / "in.zarr"
    attrs = write_ome_zarr(source, data, axes="cyx", version="0.4", chunk=64, levels=3, pixel_nm=3.0)
    before = sha256_tree(source)
    out = tmp_path / "out"
    result = _run(str(source), "--out", str(out), "--tlc", "16", "--chunk", "128")
    assert result.exit_code == 0, result.output
    assert "restored 1 of 1 input(s)" in result.output and "MP/s" in result.output
    assert sha256_tree(source) == before  # the input is never touched
    store = out / "in.zarr"
    written = _ome(store)
    assert written["omero"] == attrs["omero"]
    for key in ("axes", "datasets", "name", "version"):
        assert written["multiscales"][0][key] == attrs["multiscales"][0][key]
    assert written["multiscales"][0]["type"] == "mean"
    assert omezarr.midnet_attrs(store)["complete"] is True
    reread = omezarr.read_ome_zarr(store)  # ome-zarr-py reads it back as NGFF
    assert reread.axis_names == "cyx" and reread.units == [None, "nanometer", "nanometer"]
    assert reread.scale(1) == [1.0, 6.0, 6.0]
    levels = _levels(store)
    assert [lv.shape for lv in levels] == [(2, 200, 176), (2, 100, 88), (2, 50, 44)]
    for upper, lower in zip(levels, levels[1:]):  # the pyramid is rewritten from the restoration
        np.testing.assert_array_equal(lower, omezarr.downsample(upper, (1, 2, 2), lower.shape))
    whole = Deblurrer.from_pretrained("sem-general", device="cpu", backend="eager", tlc=16)
    for plane, restored in zip(data, levels[0]):
        diff = np.abs(restored.astype(int) - whole(plane).astype(int))
        assert diff.max() <= 257, f"{diff.max()} 16-bit levels (one 8-bit grey level is 257)"
    assert np.abs(levels[0].astype(int) - data.astype(int)).mean() > 50  # it did restore
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["entries"]["in.zarr"]["output_sha256"] == checksum(store)

    again = _run(str(source), "--out", str(out), "--tlc", "16", "--chunk", "128")
    assert again.exit_code == 0 and "done before, skipped" in again.output
    other = _run(str(source), "--out", str(out), "--chunk", "128")  # other settings: not "done"
    assert other.exit_code == 1 and "--overwrite" in other.output


@pytest.mark.slow
def default_sigint() -> None:
    """SIGINT's default action in the child (a background CI shell starts it ignored)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_store_is_completed_by_resume_restoring_only_what_is_missing(tmp_path: Path) -> None:
    source = tmp_path / "mosaic.zarr"
    write_ome_zarr(source, grains((1024, 1024), seed=2), axes="yx", version="0.5", chunk=64, levels=2)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "MIDNET_BACKEND": "eager"}
    cmd = [sys.executable, "-c", "from midnet.cli.main import cli; cli()", "deblur", str(source), "--out", str(out),
           "--chunk", "64", "--tlc", "16", *CPU]  # a 24 px attention window: 64 px chunks hold the margin
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=default_sigint)
    chunks = out / "mosaic.zarr" / "s0" / "c"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if chunks.is_dir() and sum(1 for p in chunks.rglob("*") if p.is_file()) >= 8:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    assert "--resume" in output
    done = sum(1 for p in chunks.rglob("*") if p.is_file() and not p.name.endswith(".partial"))
    assert 8 <= done < 256, f"{done} of 256 chunks before the interrupt"

    refused = CliRunner().invoke(cli, ["deblur", str(source), "--out", str(out), "--chunk", "64", "--tlc", "16", *CPU])
    assert refused.exit_code == 1 and "pass --resume" in refused.output

    resumed = _run(str(source), "--out", str(out), "--chunk", "64", "--tlc", "16", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert f"{done} of 256 full-resolution chunks already there" in resumed.output
    summary = re.search(r"; (\d+) chunk\(s\) written, (\d+) already there", resumed.output)
    assert summary, resumed.output
    assert int(summary.group(1)) == (256 - done) + 64  # the missing full-resolution chunks and level 1
    assert int(summary.group(2)) == done

    reference = tmp_path / "reference"
    assert _run(str(source), "--out", str(reference), "--chunk", "64", "--tlc", "16").exit_code == 0
    for got, want in zip(_levels(out / "mosaic.zarr"), _levels(reference / "mosaic.zarr")):
        np.testing.assert_array_equal(got, want)
    assert _ome(out / "mosaic.zarr") == _ome(reference / "mosaic.zarr")
    assert not list((out / "mosaic.zarr").rglob("*.partial"))


def test_pyramidal_ome_tiff_in_and_out(tmp_path: Path) -> None:
    data = grains((2, 256, 224), seed=3)
    levels = [data]
    for _ in range(2):
        prev = levels[-1]
        levels.append(omezarr.downsample(prev, (1, 2, 2), prev.shape[:1] + tuple(-(-n // 2) for n in prev.shape[1:])))
    meta = ometiff.ome_metadata("cyx", [1.0, 0.004, 0.004], [None, "micrometer", "micrometer"], ["SE", "BSE"])
    source = ometiff.write_ome_tiff(tmp_path / "in" / "tile.ome.tif", levels, "cyx", metadata=meta, tile=64)
    out = tmp_path / "out"
    result = _run(str(source.parent), "--out", str(out), "--chunk", "128")
    assert result.exit_code == 0, result.output
    restored = out / "tile.ome.tif"
    with tifffile.TiffFile(restored) as tif:
        assert tif.is_ome and tif.series[0].axes == "CYX"
        assert [lv.shape for lv in tif.series[0].levels] == [lv.shape for lv in levels]
        got = [lv.asarray() for lv in tif.series[0].levels]
        assert "midnet" in (tif.pages[0].software or "")
    lazy = ometiff.read_tiff_lazy(restored)
    assert lazy.physical["X"][0] == pytest.approx(0.004) and lazy.channel_names == ["SE", "BSE"]
    for upper, lower in zip(got, got[1:]):
        np.testing.assert_array_equal(lower, omezarr.downsample(upper, (1, 2, 2), lower.shape))
    assert np.abs(got[0].astype(int) - data.astype(int)).mean() > 50
    assert not (out / ".midnet" / "partial" / "tile.ome.tif.zarr").exists()  # the staging store is gone
    assert "tile.ome.tif" in json.loads((out / MANIFEST).read_text())["entries"]


def _frames(folder: Path, count: int = 6) -> None:
    folder.mkdir(parents=True)
    for index in range(count):
        image = (grains((96, 128), seed=10 + index, dtype=np.uint8))
        tifffile.imwrite(folder / f"frame{index}.tif", image)


@pytest.mark.slow
def test_a_local_cluster_of_two_workers_equals_the_serial_run(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    _frames(frames)
    serial = tmp_path / "serial"
    assert _run(str(frames), "--out", str(serial), "--databar", "none").exit_code == 0
    out = tmp_path / "cluster"
    result = _run(str(frames), "--out", str(out), "--databar", "none", "--cluster", "local:2")
    assert result.exit_code == 0, result.output
    assert re.search(r"restored 6 of 6 input\(s\) .* in [\d.]+ s: [\d.]+ MP, [\d.]+ MP/s on 2 worker\(s\)",
                     result.output), result.output
    assert "dashboard: http" in result.output
    for index in range(6):
        a = tifffile.imread(serial / f"frame{index}.tif").astype(int)
        b = tifffile.imread(out / f"frame{index}.tif").astype(int)
        assert np.abs(a - b).max() <= 1
    entries = json.loads((out / MANIFEST).read_text())["entries"]
    assert sorted(entries) == [f"frame{i}.tif" for i in range(6)]
    assert {e["worker"] for e in entries.values()} <= {"0", "1"}

    again = _run(str(frames), "--out", str(out), "--databar", "none", "--cluster", "local:2")
    assert again.exit_code == 0 and again.output.count("done before, skipped") == 6
