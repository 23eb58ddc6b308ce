"""Files as microscopes write them go through `Deblurrer.deblur_file` and come back intact:
same format, shape, dtype, copied metadata, byte-identical data bar, restored image area."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from midnet.io import read_image

FEI_INI = "[User]\r\nDate=01/02/2024\r\n[Beam]\r\nHV=5000\r\n[Image]\r\nResolutionX=128\r\nResolutionY=80\r\n"
TESCAN = b"\x02\x00\x00\x00[MAIN]\r\nDevice=MIRA3\r\nHV=15000\r\nImageStripSize=16\r\n"
ZEISS = b"\x00\x00\x01\x00AP_MAG\x00Mag = 8.00 K X\x00DP_DETECTOR\x00Signal A = SE2\x00"
VENDOR = {34682: ("s", FEI_INI), 34680: ("s", FEI_INI), 50431: (7, TESCAN), 34118: (1, ZEISS)}


def _raw_tag(path: Path, code: int, page: int = 0) -> bytes:
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[page].tags[code]
        tif.filehandle.seek(tag.valueoffset)
        return tif.filehandle.read(tag.valuebytecount)


def _tag_value(path: Path, code: int, page: int = 0):
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[page].tags.get(code)
        return None if tag is None else tag.value


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("code", sorted(VENDOR))
def test_tiff_vendor_tag_roundtrip(tmp_path: Path, deblurrer, frame, dtype, code: int) -> None:
    src, dst = tmp_path / "in.tif", tmp_path / "out" / "in.tif"
    array = frame(96, 128, 16, dtype)
    kind, value = VENDOR[code]
    count = 0 if kind == "s" else len(value)
    tifffile.imwrite(src, array, extratags=[(code, kind, count, value, True)], software=False,
                     description="SEM image", resolution=(2.5, 2.5), resolutionunit="CENTIMETER",
                     metadata=None)
    deblurrer.deblur_file(src, dst)
    out = tifffile.imread(dst)
    assert out.shape == array.shape and out.dtype == array.dtype
    assert _raw_tag(dst, code) == _raw_tag(src, code)
    assert _tag_value(dst, 270) == "SEM image"
    assert _tag_value(dst, 282) == _tag_value(src, 282) and _tag_value(dst, 296) == _tag_value(src, 296)
    assert "midnet" in _tag_value(dst, 305) and "midnet-tiny" in _tag_value(dst, 305)
    np.testing.assert_array_equal(out[-16:], array[-16:])  # FEI/Tescan tags say 16; Zeiss: heuristic
    assert np.mean(out[:-16] != array[:-16]) > 0.5


def test_vendor_software_tag_is_not_overwritten(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "in.tif", tmp_path / "out.tif"
    tifffile.imwrite(src, frame(96, 128, 16), software="Thermo xT 9.1", metadata=None)
    deblurrer.deblur_file(src, dst)
    assert _tag_value(dst, 305) == "Thermo xT 9.1"
    assert "midnet" in _tag_value(dst, 11)  # ProcessingSoftware


def test_float32_tiff_keeps_range(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "f.tif", tmp_path / "o" / "f.tif"
    array = frame(96, 128, 0, np.float32) * 4000.0 + 100.0
    tifffile.imwrite(src, array)
    deblurrer.deblur_file(src, dst, databar="none")
    out = tifffile.imread(dst)
    assert out.dtype == np.float32 and out.shape == array.shape
    assert array.min() <= out.min() and out.max() <= array.max()
    assert not np.allclose(out, array)


def test_multipage_tiff_restores_every_page(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "stack.tif", tmp_path / "o" / "stack.tif"
    pages = [frame(96, 128, 16, np.uint16, seed=s) for s in range(3)]
    with tifffile.TiffWriter(src) as tw:
        for page in pages:
            tw.write(page, description=f"page {len(page)}", metadata=None)
    deblurrer.deblur_file(src, dst)
    with tifffile.TiffFile(dst) as tif:
        assert len(tif.pages) == 3
        for page, original in zip(tif.pages, pages):
            data = page.asarray()
            assert data.dtype == np.uint16 and data.shape == original.shape
            np.testing.assert_array_equal(data, deblurrer(original, databar=16))  # each page's own bar
            np.testing.assert_array_equal(data[-16:], original[-16:])
            assert page.description == "page 96"


def test_colour_palette_tiff_is_refused(tmp_path: Path, frame) -> None:
    src = tmp_path / "colour.tif"
    rng = np.random.default_rng(0)
    tifffile.imwrite(src, frame(32, 32, 0), photometric="palette",
                     colormap=rng.integers(0, 65535, (3, 256), dtype=np.uint16))
    with pytest.raises(ValueError, match="colour.tif.*palette"):
        read_image(src)


def test_imagej_description_and_resolution_copied(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "ij.tif", tmp_path / "o" / "ij.tif"
    tifffile.imwrite(src, frame(96, 128, 0), imagej=True, resolution=(1 / 0.0125, 1 / 0.0125),
                     metadata={"spacing": 1.0, "unit": "um"})
    deblurrer.deblur_file(src, dst)
    with tifffile.TiffFile(src) as a, tifffile.TiffFile(dst) as b:
        assert b.is_imagej and b.imagej_metadata["unit"] == a.imagej_metadata["unit"] == "um"
        assert b.pages[0].tags[282].value == a.pages[0].tags[282].value


def test_ome_tiff_with_utf8_units_is_restored_with_its_ome_xml(tmp_path: Path, deblurrer, frame) -> None:
    """An OME-TIFF (Fiji, Bio-Formats) states µm in UTF-8: the serial path used to fail on it
    ("TIFF strings must be 7-bit ASCII"); its OME-XML is now copied byte for byte."""
    src, dst = tmp_path / "x.ome.tif", tmp_path / "o" / "x.ome.tif"
    tifffile.imwrite(src, frame(96, 128, 0), ome=True,
                     metadata={"axes": "YX", "PhysicalSizeX": 0.01, "PhysicalSizeXUnit": "µm"})
    deblurrer.deblur_file(src, dst)
    with tifffile.TiffFile(src) as a, tifffile.TiffFile(dst) as b:
        assert b.is_ome and "µm" in b.ome_metadata
        assert b.pages[0].description == a.pages[0].description


def test_rgba_png_keeps_alpha_text_and_bar(tmp_path: Path, deblurrer, frame) -> None:
    from PIL import PngImagePlugin

    src, dst = tmp_path / "crop.png", tmp_path / "o" / "crop.png"
    grey = frame(96, 128, 16)
    rgba = np.stack([grey, grey, np.clip(grey.astype(int) + 2, 0, 255).astype(np.uint8),
                     np.full_like(grey, 255)], axis=2)
    info = PngImagePlugin.PngInfo()
    info.add_text("Instrument", "JSM-7800F")
    Image.fromarray(rgba, "RGBA").save(src, pnginfo=info, dpi=(300, 300))
    deblurrer.deblur_file(src, dst)
    with Image.open(dst) as im:
        assert im.mode == "RGBA" and im.size == (128, 96)
        assert im.text["Instrument"] == "JSM-7800F" and "midnet" in im.text["Software"]
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)
        out = np.asarray(im)
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(out[-16:], rgba[-16:])
    np.testing.assert_array_equal(out, deblurrer(rgba, databar=16))


@pytest.mark.parametrize("channels", [1, 3])
def test_png_16_bit_stays_16_bit(tmp_path: Path, deblurrer, frame, channels: int) -> None:
    import imagecodecs

    src, dst = tmp_path / "deep.png", tmp_path / "o" / "deep.png"
    grey = frame(96, 128, 16, np.uint16)
    array = grey if channels == 1 else np.stack([grey, grey // 2, grey // 3], axis=2)
    src.write_bytes(imagecodecs.png_encode(array))
    deblurrer.deblur_file(src, dst)
    out = imagecodecs.png_decode(dst.read_bytes())
    assert out.dtype == np.uint16 and out.shape == array.shape
    np.testing.assert_array_equal(out[-16:], array[-16:])


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_jpeg_keeps_mode_quality_and_exif(tmp_path: Path, deblurrer, frame, mode: str) -> None:
    src, dst = tmp_path / "shot.jpg", tmp_path / "o" / "shot.jpg"
    grey = frame(96, 128, 16)
    im = Image.fromarray(grey if mode == "L" else np.stack([grey] * 3, axis=2), mode)
    exif = Image.Exif()
    exif[271] = "Hitachi"  # Make
    im.save(src, quality=90, exif=exif.tobytes())
    deblurrer.deblur_file(src, dst)
    with Image.open(src) as a, Image.open(dst) as b:
        assert b.mode == mode and b.size == a.size
        assert b.quantization == a.quantization
        assert b.getexif()[271] == "Hitachi" and "midnet" in b.getexif()[305]


def test_bmp_roundtrip_and_jeol_sidecar_copied(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "jeol.bmp", tmp_path / "o" / "jeol.bmp"
    array = frame(96, 128, 24)
    Image.fromarray(array).save(src)
    sidecar = "$CM_FORMAT JEOL/SEM\n$CM_FULL_SIZE 128 72\n$CM_MAG 8000\n"
    (tmp_path / "jeol.txt").write_text(sidecar)
    deblurrer.deblur_file(src, dst)
    out = read_image(dst)
    assert out.format == "bmp" and out.array.shape == array.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out.array[-24:], array[-24:])
    assert (dst.parent / "jeol.txt").read_text() == sidecar


def test_hitachi_sidecar_copied_and_unrelated_txt_ignored(tmp_path: Path, deblurrer, frame) -> None:
    for name, text in (("hitachi", "[SemImageFile]\nInstructName=S-4800\nDataSize=128x80\n"),
                       ("notes", "my notes about this sample\n")):
        src = tmp_path / f"{name}.png"
        Image.fromarray(frame(96, 128, 16)).save(src)
        (tmp_path / f"{name}.txt").write_text(text)
        deblurrer.deblur_file(src, tmp_path / "o" / f"{name}.png")
    assert (tmp_path / "o" / "hitachi.txt").read_text().startswith("[SemImageFile]")
    assert not (tmp_path / "o" / "notes.txt").exists()


def test_never_overwrites_without_permission(tmp_path: Path, deblurrer, frame) -> None:
    src = tmp_path / "a.png"
    Image.fromarray(frame(64, 64, 0)).save(src)
    before = src.read_bytes()
    with pytest.raises(ValueError, match="overwrite its input"):
        deblurrer.deblur_file(src, src, overwrite=True)
    dst = tmp_path / "o" / "a.png"
    deblurrer.deblur_file(src, dst)
    first = dst.read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        deblurrer.deblur_file(src, dst)
    assert dst.read_bytes() == first and src.read_bytes() == before
    deblurrer.deblur_file(src, dst, overwrite=True)
    assert [p.name for p in dst.parent.iterdir()] == ["a.png"]  # no temporary files left


def test_corrupt_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"II*\x00garbage")
    with pytest.raises(ValueError, match="broken.tif: cannot read image") as info:
        read_image(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="unsupported file type"):
        read_image(tmp_path / "x.gif")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ValueError, match="cut.png: cannot read image"):
        read_image(truncated)


def test_png_read_matches_pillow_for_8_bit(tmp_path: Path, frame) -> None:
    path = tmp_path / "g.png"
    array = frame(40, 50, 0)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    np.testing.assert_array_equal(read_image(path).array, array)


@pytest.mark.parametrize("compression", ["lzw", "zlib"])
def test_compressed_tiff_keeps_its_compression(tmp_path: Path, deblurrer, frame, compression: str) -> None:
    src, dst = tmp_path / "c.tif", tmp_path / "o" / "c.tif"
    tifffile.imwrite(src, frame(96, 128, 16, np.uint16), compression=compression)
    deblurrer.deblur_file(src, dst)
    with tifffile.TiffFile(src) as a, tifffile.TiffFile(dst) as b:
        assert b.pages[0].compression == a.pages[0].compression
        assert b.pages[0].shape == a.pages[0].shape


def test_planar_rgb_tiff_stays_planar(tmp_path: Path, deblurrer, frame) -> None:
    src, dst = tmp_path / "p.tif", tmp_path / "o" / "p.tif"
    planes = np.stack([frame(96, 128, 16, seed=s) for s in range(3)])  # (3, H, W)
    tifffile.imwrite(src, planes, photometric="rgb", planarconfig="separate")
    deblurrer.deblur_file(src, dst)
    with tifffile.TiffFile(dst) as tif:
        assert tif.pages[0].planarconfig == tifffile.PLANARCONFIG.SEPARATE
        out = tif.asarray()
    assert out.shape == planes.shape
    np.testing.assert_array_equal(out[:, -16:], planes[:, -16:])
    np.testing.assert_array_equal(out[1], deblurrer(planes[1], databar=16))  # channel-wise rule


def test_write_errors_name_the_output_not_the_temporary_file(tmp_path: Path) -> None:
    from midnet.io.atomic import atomic_write

    def failing_writer(tmp: Path) -> None:
        raise PermissionError(13, "Permission denied", str(tmp))

    with pytest.raises(OSError) as info:
        atomic_write(tmp_path / "out.tif", failing_writer)
    message = str(info.value)
    assert "out.tif: cannot write (Permission denied)" in message and ".tmp" not in message
