"""Copying a PNG's ancillary chunks (text, resolution, colour profile, time) into a new PNG.

Why by hand: Pillow cannot write 16-bit RGB(A) PNGs and imagecodecs writes no metadata, so
pixels are encoded by imagecodecs (or Pillow for palettes) and the source's ancillary chunks
are spliced in, byte for byte. The chunk layout (length, type, data, CRC-32) is the PNG spec's.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: chunks that must come before PLTE/IDAT; everything else copied goes just before IDAT
_EARLY = {b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"sBIT"}
#: chunks describing the pixels themselves, never copied from the source
_STRUCTURAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"acTL", b"fcTL", b"fdAT"}


def iter_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) of each chunk of a PNG byte string."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file (bad signature)")
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 12 + length


def without_pixels(data: bytes) -> bytes:
    """The PNG's signature and chunks minus its pixel data (IDAT): what `splice_chunks` needs,
    without holding a second copy of the image in memory."""
    return SIGNATURE + b"".join(make_chunk(k, p) for k, p in iter_chunks(data) if k != b"IDAT")


def make_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", len(payload), kind) + payload + struct.pack(">I", zlib.crc32(kind + payload))


def text_chunks(data: bytes) -> dict[str, str]:
    """Keyword -> text of the uncompressed ``tEXt`` and ``iTXt`` (uncompressed) chunks."""
    out: dict[str, str] = {}
    for kind, payload in iter_chunks(data):
        if kind == b"tEXt" and b"\x00" in payload:
            key, value = payload.split(b"\x00", 1)
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt" and b"\x00" in payload:
            key, rest = payload.split(b"\x00", 1)
            out[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt" and b"\x00" in payload:
            key, rest = payload.split(b"\x00", 1)
            flag = rest[0]
            _lang, _tkey, text = rest[2:].split(b"\x00", 2)
            out[key.decode("latin-1")] = (zlib.decompress(text) if flag else text).decode("utf-8")
    return out


def splice_chunks(target: bytes, source: bytes, *, extra_text: dict[str, str] | None = None,
                  keep_trns: bool = False) -> bytes:
    """``target`` with the ancillary chunks of ``source`` (and ``extra_text`` tEXt) added.

    Chunk types the target already has are not duplicated. ``tRNS`` is copied only when
    ``keep_trns`` (same colour type and bit depth), as its meaning depends on them.
    """
    have = {kind for kind, _ in iter_chunks(target)}
    early: list[bytes] = []
    late: list[bytes] = []
    for kind, payload in iter_chunks(source):
        if kind in have or (kind in _STRUCTURAL and not (kind == b"tRNS" and keep_trns)):
            continue
        (early if kind in _EARLY else late).append(make_chunk(kind, payload))
    for key, value in (extra_text or {}).items():
        late.append(make_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1", "replace")))
    out = [SIGNATURE]
    placed_late = False
    for kind, payload in iter_chunks(target):
        if kind in (b"IDAT", b"IEND") and not placed_late:
            out.extend(late)
            placed_late = True
        out.append(make_chunk(kind, payload))
        if kind == b"IHDR":
            out.extend(early)
    return b"".join(out)
