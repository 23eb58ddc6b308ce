"""Every tag of every TIFF page survives a restoration (issue 11, point 4), stacks keep their axes,
and the processing note never replaces what the vendor wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from midnet.io import read_image

FEI = "[User]\r\nDate=01/02/2024\r\n[Image]\r\nResolutionX=128\r\nResolutionY=80\r\n"
TESCAN = b"\x02\x00\x00\x00[MAIN]\r\nDevice=MIRA3\r\nImageStripSize=16\r\n"
ZEISS = b"\x00\x00\x01\x00AP_MAG\x00Mag = 8.00 K X\x00"


def _all_tags(path: Path) -> list[dict[int, object]]:
    """Per page: tag code -> value (raw bytes for vendor/text tags; EXIF as tifffile parses it)."""
    pages = []
    with tifffile.TiffFile(path) as tif:
        for page in tif.pages:
            tags: dict[int, object] = {}
            for tag in page.tags:
                if tag.code in (273, 279, 278):  # strip layout differs by design
                    continue
                if tag.code in (34665, 34853, 256, 257, 258, 320):
                    tags[tag.code] = str(tag.value)
                else:
                    tif.filehandle.seek(tag.valueoffset)
                    tags[tag.code] = tif.filehandle.read(tag.valuebytecount)
            pages.append(tags)
    return pages


def _stack(tmp_path: Path, frame, byteorder: str) -> tuple[Path, list[np.ndarray]]:
    src = tmp_path / "stack.tif"
    pages = [frame(96, 128, 16, np.uint16, seed=s) >> 4 for s in range(3)]  # 12-bit data
    with tifffile.TiffWriter(src, byteorder=byteorder) as tw:
        for index, page in enumerate(pages):
            tw.write(page, description=f"slice {index}", software="Vendor SEM 5.2", metadata=None,
                     resolution=(40000.0, 40000.0), resolutionunit="CENTIMETER", subfiletype=2,
                     extratags=[(274, 3, 1, 1, True), (297, 3, 2, (index, 3), True),
                                (339, 3, 1, 1, True), (341, 3, 1, 4095, True),
                                (11, "s", 0, "Vendor post-processing 1.0", True),
                                (34682, "s", 0, FEI, True), (50431, 7, len(TESCAN), TESCAN, True),
                                (34118, 1, len(ZEISS), ZEISS, True),
                                (65123, 7, 5, b"priv\x00", True),
                                (65500, 4, 1, 0, True)])  # becomes an EXIF IFD below
    _attach_exif(src, byteorder)
    return src, pages


def _attach_exif(path: Path, byteorder: str) -> None:
    """Give every page a real EXIF directory (tifffile cannot write one; midnet's writer can)."""
    from midnet.io.tiff_subifd import finish_tags

    entries = [(0x9003, 2, 20, b"2024:01:02 10:11:12\x00"), (0xA420, 2, 6, b"abc12\x00"),
               (0x829A, 5, 1, (1).to_bytes(4, "little" if byteorder == "<" else "big") * 2)]
    finish_tags(path, [{65500: (34665, 4, entries)}] * 3)
    with tifffile.TiffFile(path) as tif:
        assert all(page.tags[34665].value["ExposureTime"] == (1, 1) for page in tif.pages)


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_every_tag_of_every_page_is_kept(tmp_path: Path, deblurrer, frame, byteorder: str) -> None:
    src, pages = _stack(tmp_path, frame, byteorder)
    dst = tmp_path / "out" / "stack.tif"
    deblurrer.deblur_file(src, dst)
    before, after = _all_tags(src), _all_tags(dst)
    assert len(after) == 3
    for index, (old, new) in enumerate(zip(before, after)):
        assert set(new) == set(old), index
        for code in old:
            if code != 11:
                assert new[code] == old[code], (index, code)
        # the vendor's ProcessingSoftware is kept, the note added after it
        assert new[11].startswith(b"Vendor post-processing 1.0; midnet")  # type: ignore[union-attr]
    with tifffile.TiffFile(dst) as tif:
        assert tif.byteorder == byteorder
        assert tif.pages[1].tags[34665].value["DateTimeOriginal"] == "2024:01:02 10:11:12"
        for page, original in zip(tif.pages, pages):
            data = page.asarray()
            np.testing.assert_array_equal(data[-16:], original[-16:])
            # SMaxSampleValue: a 12-bit detector, restored on its own range
            np.testing.assert_array_equal(data, deblurrer(original, databar=16, max_value=4095))
            assert data.max() <= 4095


def test_note_goes_where_nothing_is_replaced(tmp_path: Path, deblurrer, frame) -> None:
    src = tmp_path / "plain.tif"
    tifffile.imwrite(src, frame(96, 128, 16), software=False, metadata=None)
    deblurrer.deblur_file(src, tmp_path / "a.tif")
    with tifffile.TiffFile(tmp_path / "a.tif") as tif:
        assert tif.pages[0].software.startswith("midnet") and 11 not in tif.pages[0].tags
    tifffile.imwrite(src, frame(96, 128, 16), software="SmartSEM", metadata=None)
    deblurrer.deblur_file(src, tmp_path / "b.tif")
    with tifffile.TiffFile(tmp_path / "b.tif") as tif:
        assert tif.pages[0].software == "SmartSEM"
        assert tif.pages[0].tags[11].value.startswith("midnet")


def test_imagej_hyperstack_keeps_its_axes(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "ij.tif", tmp_path / "o" / "ij.tif"
    data = np.stack([frame(64, 80, 0, np.uint8, seed=s) for s in range(6)]).reshape(3, 2, 64, 80)
    tifffile.imwrite(src, data, imagej=True, metadata={"axes": "ZCYX", "unit": "um"})
    deblurrer.deblur_file(src, dst, databar="none")
    with tifffile.TiffFile(src) as a, tifffile.TiffFile(dst) as b:
        assert b.is_imagej and b.series[0].axes == a.series[0].axes == "ZCYX"
        assert b.series[0].shape == data.shape
        assert b.imagej_metadata["unit"] == "um"
        expected = np.stack([deblurrer(plane, databar=0) for plane in data.reshape(6, 64, 80)])
        np.testing.assert_array_equal(b.asarray(), expected.reshape(data.shape))


def test_ome_tiff_keeps_its_axes(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "s.ome.tif", tmp_path / "o" / "s.ome.tif"
    data = np.stack([frame(64, 80, 0, np.uint16, seed=s) for s in range(2)])
    tifffile.imwrite(src, data, ome=True, metadata={"axes": "TYX"})
    deblurrer.deblur_file(src, dst, databar="none")
    with tifffile.TiffFile(dst) as tif:
        assert tif.is_ome and tif.series[0].axes == "TYX" and tif.series[0].shape == data.shape


def test_one_bad_page_fails_the_file_by_name(tmp_path: Path, frame) -> None:
    src = tmp_path / "stack.tif"
    with tifffile.TiffWriter(src) as tw:
        for s in range(3):
            tw.write(frame(64, 80, 0, np.uint8, seed=s), compression="zlib", metadata=None)
    with tifffile.TiffFile(src) as tif:
        offset = tif.pages[2].dataoffsets[0]
    raw = bytearray(src.read_bytes())
    raw[offset:offset + 40] = b"\xff" * 40  # page 3's compressed data destroyed
    src.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"stack.tif: cannot read image \(page 3 of 3 cannot be decoded"):
        read_image(src)
