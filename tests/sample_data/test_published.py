"""The packaged checksum list as pooch's registry, and the hash pooch checks against."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pooch

from midnet.sample_data.published import published_files, registry, sha256_file


def test_registry_is_the_checksum_list_in_pooch_form() -> None:
    table = registry()
    assert len(table) == 216
    entries = published_files()
    assert table == {e.relpath: f"sha256:{e.sha256}" for e in entries}
    store = pooch.create(path="unused", base_url="http://127.0.0.1:9/x", registry=table)
    assert store.get_url("blur/7-1_s001.png") == "http://127.0.0.1:9/x/blur/7-1_s001.png"


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"midnet" * 1000)
    assert sha256_file(path) == hashlib.sha256(b"midnet" * 1000).hexdigest()
