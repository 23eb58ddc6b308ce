"""Downloader tests against a loopback HTTP server: verification, retries, idempotency, faults.

Never touches the real network: every download gets ``base_url`` of a local server.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from midnet.sample_data import download, published_files, published_groups
from midnet.sample_data.published import PUBLISHED_COMMIT, resolve_base_url
from loopback_server import LoopbackServer, serve_folder

GROUP = "1-1"  # the source image the `mirror` fixture serves (tests/datasets/conftest.py)
FAST = {"timeout": 5.0}  # pooch waits 1 s, 2 s, ... between tries; not settable


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(dest: Path) -> list[Path]:
    """Temp files: ours (``.midnet-*.part``) and pooch's (``tmpXXXXXXXX``)."""
    return [p for p in dest.rglob("*")
            if p.name.startswith((".", "tmp")) or p.suffix == ".part"]


def test_published_list_covers_the_publication() -> None:
    entries = published_files()
    assert len(entries) == 216
    assert published_groups() == [f"{g}-1" for g in range(1, 10)]
    assert {e.kind for e in entries} == {"blur", "sharp"}
    assert len({e.relpath for e in entries}) == 216
    assert [e.relpath for e in published_files(groups=["7"])][:2] == [
        "blur/7-1_s001.png",
        "blur/7-1_s002.png",
    ]
    assert {e.relpath for e in published_files(names=["2-1_s005.png"])} == {
        "blur/2-1_s005.png",
        "sharp/2-1_s005.png",
    }


def test_unknown_group_or_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="10-1"):
        published_files(groups=["10"])
    with pytest.raises(ValueError, match="nope.png"):
        published_files(names=["nope.png"])


def test_base_url_override_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIDNET_DATA_URL", raising=False)
    assert PUBLISHED_COMMIT in resolve_base_url()
    assert resolve_base_url().startswith("https://raw.githubusercontent.com/woshigui/MIDNet/")
    monkeypatch.setenv("MIDNET_DATA_URL", "http://127.0.0.1:9/mirror/")
    assert resolve_base_url() == "http://127.0.0.1:9/mirror"
    assert resolve_base_url("http://example.invalid/x") == "http://example.invalid/x"


def test_download_verifies_files_and_rebuilds_frames(
    server: LoopbackServer, mirror: Path, sem_data: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    report = download(dest, base_url=server.url, groups=[GROUP], **FAST)

    assert report.ok, report.summary()
    assert len(report.fetched) == 24 and not report.skipped
    assert len(server.requests) == 24
    for crop in mirror.glob("*/*.png"):
        assert _sha(dest / crop.parent.name / crop.name) == _sha(crop)
    assert not _leftovers(dest)
    # Same layout and the same frames as the shared folder.
    for kind in ("blur", "sharp"):
        frame = dest / "frames" / kind / f"{GROUP}.png"
        assert report.frames[f"frames/{kind}/{GROUP}.png"] == "written"
        with Image.open(frame) as image:
            assert image.mode == "L" and image.size == (1280, 1024)
            rebuilt = np.asarray(image)
        reference = sem_data / "frames" / kind / f"{GROUP}.png"
        if reference.is_file():
            np.testing.assert_array_equal(rebuilt, np.asarray(Image.open(reference)))
    assert "24 downloaded" in report.summary()


def test_second_run_downloads_nothing(server: LoopbackServer, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    assert download(dest, base_url=server.url, groups=[GROUP], **FAST).ok
    frame = dest / "frames" / "blur" / f"{GROUP}.png"
    stamp = frame.stat().st_mtime_ns
    requests_after_first = len(server.requests)
    # A temp file left by a killed run must not survive (and must not count as data).
    stale = dest / "blur" / f".midnet-{GROUP}_s001.png.abc123.part"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))  # two hours old: a dead run's
    stale_pooch = dest / "sharp" / "tmpab12_x9z"  # pooch's temp name, left by a killed run
    stale_pooch.write_bytes(b"half")
    os.utime(stale_pooch, (time.time() - 7200, time.time() - 7200))
    fresh = dest / "frames" / "blur" / ".midnet-1-1.png.def456.part"
    fresh.write_bytes(b"in progress")  # may belong to a concurrent run: kept

    again = download(dest, base_url=server.url, groups=[GROUP], **FAST)

    assert again.ok
    assert len(server.requests) == requests_after_first  # not a single request
    assert again.fetched == [] and len(again.skipped) == 24
    assert set(again.frames.values()) == {"kept"}
    assert frame.stat().st_mtime_ns == stamp
    assert not stale.exists() and not stale_pooch.exists()
    assert fresh.exists()


def test_corrupted_transfer_is_detected_and_fetched_again(
    server: LoopbackServer, tmp_path: Path
) -> None:
    name = f"blur/{GROUP}_s003.png"
    server.corrupt[name] = 1  # first response has one byte flipped
    dest = tmp_path / "dest"

    report = download(dest, base_url=server.url, groups=[GROUP], **FAST)

    assert report.ok
    assert server.requests.count(name) == 2
    assert [(f, r.split(" (")[0]) for f, r in report.problems] == [(name, "SHA-256 mismatch")]
    assert name in report.summary() and "recovered after retry" in report.summary()
    assert _sha(dest / name) == next(e.sha256 for e in published_files() if e.relpath == name)


def test_persistently_corrupt_file_fails_and_is_named(
    server: LoopbackServer, tmp_path: Path
) -> None:
    name = f"blur/{GROUP}_s007.png"
    server.corrupt[name] = -1
    dest = tmp_path / "dest"

    report = download(dest, base_url=server.url, groups=[GROUP], attempts=3, **FAST)

    assert not report.ok
    assert list(report.failed) == [name] and "SHA-256 mismatch" in report.failed[name]
    assert server.requests.count(name) == 3  # bounded retries
    assert not (dest / name).exists()  # nothing wrong left under the final name
    assert not _leftovers(dest)
    assert report.frames_skipped == [f"blur/{GROUP}"]  # no frame from 11 crops
    assert not (dest / "frames" / "blur" / f"{GROUP}.png").exists()
    assert (dest / "frames" / "sharp" / f"{GROUP}.png").is_file()
    summary = report.summary()
    assert "FAILED" in summary and name in summary


def test_connection_cut_mid_file_is_detected_and_retried(
    server: LoopbackServer, tmp_path: Path
) -> None:
    name = f"sharp/{GROUP}_s010.png"
    server.cut[name] = 1  # full Content-Length announced, half the body sent, then closed
    dest = tmp_path / "dest"

    report = download(dest, base_url=server.url, groups=[GROUP], **FAST)

    assert report.ok
    assert server.requests.count(name) == 2
    assert report.problems and report.problems[0][0] == name
    assert "incomplete transfer" in report.problems[0][1]


def test_connection_always_cut_leaves_no_partial_file(
    server: LoopbackServer, tmp_path: Path
) -> None:
    name = f"sharp/{GROUP}_s010.png"
    server.cut[name] = -1
    dest = tmp_path / "dest"

    report = download(dest, base_url=server.url, names=[f"{GROUP}_s010.png"], attempts=2, **FAST)

    assert list(report.failed) == [name]
    assert "incomplete transfer" in report.failed[name]
    assert server.requests.count(name) == 2
    assert not (dest / name).exists()
    assert not _leftovers(dest)
    assert (dest / f"blur/{GROUP}_s010.png").is_file()


def test_damaged_local_file_is_reported_and_replaced(
    server: LoopbackServer, tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    assert download(dest, base_url=server.url, groups=[GROUP], **FAST).ok
    damaged = dest / "blur" / f"{GROUP}_s005.png"
    damaged.write_bytes(damaged.read_bytes()[:1000])  # a truncated copy
    before = len(server.requests)

    report = download(dest, base_url=server.url, groups=[GROUP], **FAST)

    assert report.ok
    assert report.damaged_on_disk == [f"blur/{GROUP}_s005.png"]
    assert server.requests[before:] == [f"blur/{GROUP}_s005.png"]
    assert report.frames[f"frames/blur/{GROUP}.png"] == "kept"  # the frame was already right
    assert "damaged local file" in report.summary()


def test_missing_files_are_not_retried_forever(tmp_path: Path) -> None:
    """HTTP 404 will not fix itself: one request per file, then a named failure."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve_folder(empty) as server:
        report = download(tmp_path / "dest", base_url=server.url, names=["3-1_s001.png"], **FAST)
    assert sorted(report.failed) == ["blur/3-1_s001.png", "sharp/3-1_s001.png"]
    assert all("HTTP 404" in reason for reason in report.failed.values())
    assert len(server.requests) == 2
    assert not report.frames


def test_destination_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("mine")
    with pytest.raises(NotADirectoryError, match="file.txt"):
        download(target, base_url="http://127.0.0.1:9", names=["1-1_s001.png"])
    assert target.read_text() == "mine"


def test_progress_bar_is_pooch_s(
    server: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = download(tmp_path / "dest", base_url=server.url, names=[f"{GROUP}_s001.png"],
                      progressbar=True, build_frames=False, **FAST)
    assert report.ok and len(report.fetched) == 2
    assert "100%" in capsys.readouterr().err
    assert oct((tmp_path / "dest" / f"blur/{GROUP}_s001.png").stat().st_mode & 0o777) == "0o644"
