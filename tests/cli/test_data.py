"""`midnet data download|path|verify|frames` end to end, against a loopback server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from midnet.cli.main import cli
from loopback_server import LoopbackServer, serve_folder

GROUP = "2-1"


@pytest.fixture
def server(sem_data: Path, tmp_path: Path) -> Iterator[LoopbackServer]:
    """Loopback server offering a tmp copy of source image 2's 24 crops."""
    mirror = tmp_path / "mirror"
    for kind in ("blur", "sharp"):
        (mirror / kind).mkdir(parents=True)
        for crop in (sem_data / kind).glob(f"{GROUP}_s*.png"):
            shutil.copyfile(crop, mirror / kind / crop.name)
    if len(list(mirror.glob("*/*.png"))) != 24:
        pytest.skip(f"{sem_data} lacks the crops of source image {GROUP}")
    with serve_folder(mirror) as state:
        yield state


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv("MIDNET_DATA", raising=False)
    monkeypatch.delenv("MIDNET_DATA_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return CliRunner()


def _download(runner: CliRunner, server: LoopbackServer, dest: Path, *extra: str):
    return runner.invoke(
        cli,
        ["data", "download", "--dest", str(dest), "--group", GROUP, "--url", server.url,
         "--timeout", "5", *extra],
    )


def test_download_then_again_fetches_nothing(
    runner: CliRunner, server: LoopbackServer, tmp_path: Path
) -> None:
    dest = tmp_path / "data"
    first = _download(runner, server, dest)
    assert first.exit_code == 0, first.output
    assert "24 downloaded" in first.output and "frames: 2 written" in first.output
    assert (dest / "frames" / "blur" / f"{GROUP}.png").is_file()

    count = len(server.requests)
    second = _download(runner, server, dest, "--quiet")
    assert second.exit_code == 0, second.output
    assert len(server.requests) == count
    assert "0 downloaded, 24 already verified" in second.output

    verify = runner.invoke(cli, ["data", "verify", str(dest), "--group", GROUP])
    assert verify.exit_code == 0, verify.output
    assert "24 verified, 0 corrupt" in verify.output and "2 match" in verify.output


def test_download_failure_exits_non_zero_naming_the_file(
    runner: CliRunner, server: LoopbackServer, tmp_path: Path
) -> None:
    name = f"sharp/{GROUP}_s004.png"
    server.corrupt[name] = -1
    result = _download(runner, server, tmp_path / "data", "--attempts", "2")
    assert result.exit_code == 1
    assert "FAILED to fetch 1 file(s)" in result.output and name in result.output
    assert server.requests.count(name) == 2


def test_retry_wait_is_accepted_but_ignored(
    runner: CliRunner, server: LoopbackServer, tmp_path: Path
) -> None:
    """Deprecated when pooch took over the retries: old scripts keep working, and hear so."""
    result = _download(runner, server, tmp_path / "data", "--retry-wait", "0", "--quiet")
    assert result.exit_code == 0, result.output
    assert "--retry-wait is ignored" in result.output and "24 downloaded" in result.output


def test_download_rejects_unknown_group(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["data", "download", "--dest", str(tmp_path), "--group", "12"])
    assert result.exit_code != 0 and "12-1" in result.output


def test_path_reports_env_or_explains(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = runner.invoke(cli, ["data", "path"])
    assert missing.exit_code == 1 and "midnet data download" in missing.output
    monkeypatch.setenv("MIDNET_DATA", str(tmp_path))
    found = runner.invoke(cli, ["data", "path"])
    assert found.exit_code == 0 and found.output.strip() == str(tmp_path)


def test_verify_flags_a_corrupt_crop(runner: CliRunner, sem_data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    for kind in ("blur", "sharp"):
        (copy / kind).mkdir(parents=True)
        for crop in (sem_data / kind).glob(f"{GROUP}_s00[12].png"):
            shutil.copyfile(crop, copy / kind / crop.name)
    good = runner.invoke(cli, ["data", "verify", str(copy), "--group", GROUP])
    assert good.exit_code == 0, good.output
    assert "4 verified, 0 corrupt" in good.output
    strict = runner.invoke(cli, ["data", "verify", str(copy), "--group", GROUP, "--complete"])
    assert strict.exit_code == 1 and f"missing: blur/{GROUP}_s003.png" in strict.output

    victim = copy / "blur" / f"{GROUP}_s002.png"
    data = bytearray(victim.read_bytes())
    data[-20] ^= 0xFF
    victim.write_bytes(bytes(data))
    bad = runner.invoke(cli, ["data", "verify", str(copy), "--group", GROUP])
    assert bad.exit_code == 1
    assert f"corrupt: blur/{GROUP}_s002.png" in bad.output


def test_frames_rebuilds_missing_frames_only(
    runner: CliRunner, sem_data: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sem_data / "sharp", copy / "sharp", ignore=shutil.ignore_patterns("[!2]*"),
                    copy_function=shutil.copyfile)
    result = runner.invoke(cli, ["data", "frames", str(copy), "--group", GROUP])
    assert result.exit_code == 0, result.output
    assert "frames written: 1" in result.output
    reference = sem_data / "frames" / "sharp" / f"{GROUP}.png"
    if reference.is_file():
        from midnet.sample_data.frames import read_frame

        assert (read_frame(copy / "frames" / "sharp" / f"{GROUP}.png") == read_frame(reference)).all()
