"""`midnet data download` without a network fails within seconds, in one line (issue 11, point 6)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from midnet.cli.main import cli


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connections are refused


def test_unreachable_server_fails_fast_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIDNET_DATA", raising=False)
    url = f"http://127.0.0.1:{_closed_port()}/datasets"
    start = time.monotonic()
    result = CliRunner().invoke(cli, ["data", "download", "--dest", str(tmp_path / "d"), "--url", url])
    elapsed = time.monotonic() - start
    assert result.exit_code == 1 and elapsed < 10
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach 127.0.0.1" in lines[0], result.output
    assert "Traceback" not in result.output
    assert not list((tmp_path / "d").rglob("*.png"))


def test_no_network_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default GitHub URL with DNS and sockets down (a fresh offline machine)."""
    monkeypatch.delenv("MIDNET_DATA", raising=False)
    monkeypatch.delenv("MIDNET_DATA_URL", raising=False)
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)

    def no_dns(*_args, **_kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    start = time.monotonic()
    result = CliRunner().invoke(cli, ["data", "download", "--dest", str(tmp_path / "d"), "--group", "7"])
    assert result.exit_code == 1 and time.monotonic() - start < 10
    assert "cannot reach raw.githubusercontent.com:443 (Temporary failure in name resolution)" in result.output


def test_nothing_to_fetch_needs_no_network(sem_data: Path, tmp_path: Path, monkeypatch) -> None:
    """A complete local copy is verified without touching the network."""
    import shutil

    dest = tmp_path / "d"
    for kind in ("blur", "sharp"):
        (dest / kind).mkdir(parents=True)
        for crop in sorted((sem_data / kind).glob("1-1_s*.png")):
            shutil.copyfile(crop, dest / kind / crop.name)
    if len(list(dest.glob("*/*.png"))) != 24:
        pytest.skip("source image 1 not in the data folder")

    def no_network(*_args, **_kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket, "create_connection", no_network)
    result = CliRunner().invoke(cli, ["data", "download", "--dest", str(dest), "--group", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "0 downloaded, 24 already verified" in result.output


def test_data_path_download_offline_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIDNET_DATA", raising=False)
    monkeypatch.delenv("MIDNET_DATA_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)

    def no_dns(*_args, **_kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    result = CliRunner().invoke(cli, ["data", "path", "--download"])
    assert result.exit_code == 1 and "cannot reach raw.githubusercontent.com" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, ConnectionError)
