"""PNG, JPEG and BMP: pixels and the metadata each format carries.

PNG pixels go through imagecodecs (8/16-bit grey, grey+alpha, RGB, RGBA; Pillow truncates 16-bit
colour) and keep their ancillary chunks; a palette PNG/BMP whose palette is a grey ramp keeps
its raw indices (see `midnet.io.palette`), any other palette is expanded to RGB(A). JPEG keeps its
quantisation tables (so the quality is unchanged), subsampling, EXIF, ICC profile, comment and
resolution. BMP keeps its resolution.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, JpegImagePlugin

from midnet.io import png_chunks
from midnet.io.images import ImageFile
from midnet.io.palette import OverlayPalette, is_grey_with_overlays

_MODES_OK = {"L", "LA", "RGB", "RGBA", "I;16", "I;16B", "P", "1", "I"}


def _palette_indices(im: Image.Image) -> tuple[np.ndarray, OverlayPalette] | None:
    """(indices, palette) when ``im``'s palette is a grey ramp (overlay colours allowed), else None."""
    palette = np.asarray(im.getpalette() or [], dtype=np.uint8).reshape(-1, 3)
    if "transparency" in im.info or not is_grey_with_overlays(palette):
        return None
    return np.asarray(im), OverlayPalette.from_palette(palette)


def read_raster(path: Path, fmt: str) -> ImageFile:
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        if im.mode not in _MODES_OK:
            raise ValueError(f"{path}: unsupported {fmt.upper()} colour mode {im.mode}; "
                             "save it as greyscale or RGB first")
        metadata: dict[str, Any] = {"mode": im.mode, "info": {k: v for k, v in im.info.items()
                                                             if isinstance(v, (bytes, str, int, float, tuple))}}
        palette = None
        if im.mode == "P":
            grey = _palette_indices(im)
            if grey is not None:
                array, palette = grey
            else:
                converted = im.convert("RGBA" if "transparency" in im.info else "RGB")
                array = np.asarray(converted)
                metadata["mode"] = converted.mode
        elif fmt == "png" and im.mode != "1":
            import imagecodecs

            array = imagecodecs.png_decode(data)
            metadata["bitdepth"] = data[24]
        elif im.mode == "1":
            array = np.asarray(im.convert("L"))
            metadata["mode"] = "L"
        else:
            array = np.asarray(im)
        if fmt == "jpeg":
            metadata["qtables"] = getattr(im, "quantization", None)
            metadata["subsampling"] = JpegImagePlugin.get_sampling(im)
        metadata["palette"] = palette
        metadata["overlay_pixels"] = None
        if palette is not None and palette.overlay.size:
            positions = np.flatnonzero(palette.overlay_mask(array))
            metadata["overlay_pixels"] = (positions, array.reshape(-1)[positions].copy())
        if fmt == "png":
            metadata["png_source"] = png_chunks.without_pixels(data)
            sbit = [payload for kind, payload in png_chunks.iter_chunks(data) if kind == b"sBIT"]
            if sbit and sbit[0]:
                metadata["sbit"] = max(sbit[0])  # significant bits: 12 for a 12-bit detector
            metadata["text"] = png_chunks.text_chunks(data)
    return ImageFile(path, np.ascontiguousarray(array), fmt, metadata)


def write_raster(path: Path, image: ImageFile, note: str | None) -> None:
    palette = image.metadata.get("palette")
    if palette is not None:  # keep the indices on the grey ramp, the overlay pixels where they were
        image = image.with_pages([palette.conform(image.array, image.metadata.get("overlay_pixels"))])
    writer = {"png": _write_png, "jpeg": _write_jpeg, "bmp": _write_bmp}[image.format]
    writer(path, image, note)


def _write_png(path: Path, image: ImageFile, note: str | None) -> None:
    import imagecodecs

    meta = image.metadata
    array = image.array
    if meta.get("palette") is not None:
        im = Image.fromarray(array, "P")
        im.putpalette(meta["palette"].colours.reshape(-1).tolist())
        buffer = io.BytesIO()
        im.save(buffer, "PNG")
        encoded = buffer.getvalue()
    else:
        encoded = imagecodecs.png_encode(array)
    text = meta.get("text", {})
    extra = {}
    if note:
        extra["Software" if "Software" not in text else "midnet"] = note
    source = meta.get("png_source")
    same_type = source is not None and source[24:26] == encoded[24:26]  # bit depth, colour type
    if source is not None:
        encoded = png_chunks.splice_chunks(encoded, source, extra_text=extra, keep_trns=same_type)
    else:
        encoded = png_chunks.splice_chunks(encoded, png_chunks.SIGNATURE, extra_text=extra)
    path.write_bytes(encoded)


def _pillow_image(image: ImageFile) -> Image.Image:
    meta = image.metadata
    if meta.get("palette") is not None:
        im = Image.fromarray(image.array, "P")
        im.putpalette(meta["palette"].colours.reshape(-1).tolist())
        return im
    return Image.fromarray(image.array)


def _exif_with_note(raw: bytes | None, note: str | None) -> bytes | None:
    if not note:
        return raw
    exif = Image.Exif()
    if raw:
        exif.load(raw)
    if 305 not in exif:  # Software
        exif[305] = note
    elif 11 not in exif:  # ProcessingSoftware
        exif[11] = note
    return exif.tobytes()


def _write_jpeg(path: Path, image: ImageFile, note: str | None) -> None:
    meta = image.metadata
    info = meta.get("info", {})
    kwargs: dict[str, Any] = {}
    if meta.get("qtables"):
        kwargs["qtables"] = meta["qtables"]
    if meta.get("subsampling", -1) != -1 and image.array.ndim == 3:
        kwargs["subsampling"] = meta["subsampling"]
    if not kwargs.get("qtables"):
        kwargs["quality"] = 95
    for key in ("icc_profile", "dpi", "comment", "progressive"):
        if key in info:
            kwargs[key] = info[key]
    exif = _exif_with_note(info.get("exif"), note)
    if exif:
        kwargs["exif"] = exif
    _pillow_image(image).save(path, "JPEG", **kwargs)


def _write_bmp(path: Path, image: ImageFile, note: str | None) -> None:  # noqa: ARG001 - no field for it
    info = image.metadata.get("info", {})
    kwargs = {"dpi": info["dpi"]} if "dpi" in info else {}
    _pillow_image(image).save(path, "BMP", **kwargs)
