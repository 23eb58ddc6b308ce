"""Records and the manifest (`midnet.cluster.manifest`): "done" means this input, these settings,
and the output on disk with its recorded checksum; anything else is redone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from midnet.cluster import manifest as mf


def _done(tmp_path: Path) -> tuple[Path, Path, mf.Record]:
    src = tmp_path / "a.tif"
    src.write_bytes(b"input")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "a.tif").write_bytes(b"restored")
    record = mf.Record(output="sub/a.tif", source=str(src), input_sha256=mf.input_checksum(src),
                       output_sha256=mf.sha256_file(out / "sub" / "a.tif"), settings={"model": "m"},
                       megapixels=1.0, seconds=0.1)
    mf.write_record(out, record)
    return src, out, record


def test_a_finished_output_is_recognised(tmp_path: Path) -> None:
    src, out, record = _done(tmp_path)
    assert mf.finished(out, "sub/a.tif", src, {"model": "m"}) == mf.read_record(out, "sub/a.tif")


@pytest.mark.parametrize("change", ["settings", "input", "output", "missing", "no record"])
def test_anything_else_is_not_done(tmp_path: Path, change: str) -> None:
    src, out, _ = _done(tmp_path)
    settings = {"model": "m"}
    if change == "settings":
        settings = {"model": "other"}
    elif change == "input":
        src.write_bytes(b"another input")
    elif change == "output":
        (out / "sub" / "a.tif").write_bytes(b"tampered")
    elif change == "missing":
        (out / "sub" / "a.tif").unlink()
    else:
        mf.forget(out, "sub/a.tif")
    assert mf.finished(out, "sub/a.tif", src, settings) is None


def test_store_checksums_cover_content_and_inputs_only_listing(tmp_path: Path) -> None:
    store = tmp_path / "s.zarr"
    (store / "c").mkdir(parents=True)
    (store / "c" / "0").write_bytes(b"abc")
    first = mf.checksum(store)
    (store / "c" / "0.1234.partial").write_bytes(b"leftover")  # a writer's temporary file is ignored
    assert mf.checksum(store) == first
    (store / "c" / "0").write_bytes(b"abd")
    assert mf.checksum(store) != first
    assert mf.input_checksum(store) == mf.sha256_tree(store, contents=False)


def test_the_manifest_keeps_earlier_entries_and_lists_failures(tmp_path: Path) -> None:
    _, out, record = _done(tmp_path)
    first = mf.Manifest(out, "m", {"model": "m"})
    first.add(record)
    first.save()
    second = mf.Manifest(out, "m", {"model": "m"})
    second.fail("b.tif", "b.tif: broken")
    second.save()
    body = json.loads((out / mf.MANIFEST).read_text())
    assert list(body["entries"]) == ["sub/a.tif"] and body["failed"] == {"b.tif": "b.tif: broken"}
