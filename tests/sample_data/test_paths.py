"""Where the data is: $MIDNET_DATA, else the download cache; frame_pair()."""

from __future__ import annotations

from pathlib import Path

import pytest

from midnet.sample_data import data_root, default_cache_dir, frame_pair, missing_files, published_files
from loopback_server import serve_folder


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MIDNET_DATA, cache under tmp_path (never the user's real cache)."""
    monkeypatch.delenv("MIDNET_DATA", raising=False)
    monkeypatch.delenv("MIDNET_DATA_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "midnet" / "midnet-sem"


def test_default_cache_follows_xdg(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_cache_dir() == clean_env
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "midnet" / "midnet-sem"


def test_midnet_data_wins_and_must_exist(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MIDNET_DATA", str(tmp_path))
    assert data_root() == tmp_path
    absent = tmp_path / "nowhere"
    monkeypatch.setenv("MIDNET_DATA", str(absent))
    with pytest.raises(FileNotFoundError, match=r"MIDNET_DATA=.*nowhere"):
        data_root(download=True)  # an explicit local copy is never replaced by a download


def test_missing_cache_says_how_to_get_the_data(clean_env: Path) -> None:
    with pytest.raises(FileNotFoundError, match="midnet data download"):
        data_root()
    assert not clean_env.exists()


def test_complete_cache_is_used_without_network(clean_env: Path) -> None:
    # existence is what data_root checks on every call; hashes are `midnet data verify`'s job
    for relpath in [e.relpath for e in published_files()] + missing_files(clean_env):
        (clean_env / relpath).parent.mkdir(parents=True, exist_ok=True)
        (clean_env / relpath).touch()
    assert missing_files(clean_env) == []
    assert data_root(download=True) == clean_env


def test_download_on_demand_names_what_failed(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    messages: list[str] = []
    with serve_folder(empty) as server:
        monkeypatch.setenv("MIDNET_DATA_URL", server.url)
        with pytest.raises(RuntimeError, match=r"216 published file\(s\).*blur/1-1_s001.png"):
            data_root(download=True, log=messages.append)
    assert len(server.requests) == 216  # every file asked once, 404 is not retried
    assert any("FAILED" in m for m in messages)
    assert not list(clean_env.rglob("*.png"))


def test_frame_pair(sem_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if not (sem_data / "frames" / "blur" / "7-1.png").is_file():
        pytest.skip(f"{sem_data} has no frame of source image 7")
    monkeypatch.setenv("MIDNET_DATA", str(sem_data))
    blur, sharp = frame_pair("7-1")
    assert blur == sem_data.absolute() / "frames" / "blur" / "7-1.png"
    assert sharp == sem_data.absolute() / "frames" / "sharp" / "7-1.png"
    assert frame_pair(7) == (blur, sharp)
    with pytest.raises(FileNotFoundError, match="9-1.png"):
        frame_pair("9-1", root=tmp_path)
    with pytest.raises(ValueError, match="not of the form"):
        frame_pair("seven")
