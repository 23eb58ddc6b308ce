"""Tags tifffile cannot write as they were: the EXIF and GPS directories, and a few others.

The EXIF and GPS tags (34665, 34853) hold the *file offset* of a separate directory, so their
bytes cannot be copied as they are. The entries of the directory are read raw here; after
tifffile has written the page with a placeholder tag, the directory is appended to the file,
the placeholder becomes the real tag pointing at it, and the page's entries are re-sorted
(TIFF requires ascending codes). Nested directories (the Interoperability IFD) are dropped.

The same placeholder route keeps tags tifffile would drop or alter: SampleFormat and
PlanarConfiguration at their default value (tifffile omits them), and ASCII values without
the terminating NUL that vendors such as Zeiss write (tifffile would add one). Such a tag is
written under a private code with its raw bytes and renamed afterwards; if tifffile wrote
the tag itself after all, the placeholder entry is removed instead.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

#: tags whose value is the offset of a sub-directory that midnet copies
SUBIFD_TAGS = (34665, 34853)


def placeholder_codes(used: set[int]):
    """Private tag codes, from 65535 down, that the page does not use itself."""
    return (code for code in range(65535, 32768, -1) if code not in used)
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
              16: 8, 17: 8, 18: 8}
_IFD_TYPES = (13, 18)

Entry = tuple[int, int, int, bytes]  # code, type, count, raw value bytes


def _layout(bigtiff: bool) -> tuple[str, int, str, int]:
    """(count format, count size, entry format without byte order, inline value size)."""
    return ("Q", 8, "HHQ8s", 8) if bigtiff else ("H", 2, "HHI4s", 4)


def read_subifd(fh: BinaryIO, offset: int, byteorder: str, bigtiff: bool) -> list[Entry]:
    """The entries of the directory at ``offset`` with their raw value bytes."""
    count_fmt, count_size, entry_fmt, inline = _layout(bigtiff)
    entry_size = struct.calcsize("<" + entry_fmt)
    fh.seek(offset)
    (count,) = struct.unpack(byteorder + count_fmt, fh.read(count_size))
    raw_entries = fh.read(count * entry_size)
    entries: list[Entry] = []
    for i in range(count):
        code, dtype, n, value = struct.unpack(byteorder + entry_fmt,
                                              raw_entries[i * entry_size:(i + 1) * entry_size])
        size = _TYPE_SIZE.get(dtype)
        if size is None or dtype in _IFD_TYPES or code == 40965:
            continue  # unknown type or a nested directory: its offsets would dangle
        nbytes = size * n
        if nbytes <= inline:
            data = value[:nbytes]
        else:
            (pointer,) = struct.unpack(byteorder + ("Q" if bigtiff else "I"), value)
            here = fh.tell()
            fh.seek(pointer)
            data = fh.read(nbytes)
            fh.seek(here)
        entries.append((code, dtype, n, data))
    return entries


def subifd_offset(fh: BinaryIO, valueoffset: int, byteorder: str, bigtiff: bool) -> int:
    fh.seek(valueoffset)
    return struct.unpack(byteorder + ("Q" if bigtiff else "I"), fh.read(8 if bigtiff else 4))[0]


def placeholder_tag(placeholder: int, bigtiff: bool) -> tuple[int, int, int, int, bool]:
    """The extratag tifffile writes where a directory pointer will go."""
    return (placeholder, 16 if bigtiff else 4, 1, 0, True)


def _append_ifd(fh: BinaryIO, entries: list[Entry], byteorder: str, bigtiff: bool) -> int:
    count_fmt, count_size, entry_fmt, inline = _layout(bigtiff)
    entry_size = struct.calcsize("<" + entry_fmt)
    fh.seek(0, 2)
    start = fh.tell()
    if start % 2:
        fh.write(b"\0")
        start += 1
    entries = sorted(entries, key=lambda e: e[0])
    data_at = start + count_size + len(entries) * entry_size + (8 if bigtiff else 4)
    table = [struct.pack(byteorder + count_fmt, len(entries))]
    blobs: list[bytes] = []
    for code, dtype, n, data in entries:
        if len(data) <= inline:
            value = data.ljust(inline, b"\0")
        else:
            value = struct.pack(byteorder + ("Q" if bigtiff else "I"), data_at)
            blob = data + (b"\0" if len(data) % 2 else b"")
            blobs.append(blob)
            data_at += len(blob)
        table.append(struct.pack(byteorder + entry_fmt, code, dtype, n, value))
    table.append(b"\0" * (8 if bigtiff else 4))  # no next directory
    fh.write(b"".join(table) + b"".join(blobs))
    return start


def _sort_ifd(fh: BinaryIO, ifd_offset: int, byteorder: str, bigtiff: bool) -> None:
    count_fmt, count_size, entry_fmt, _ = _layout(bigtiff)
    entry_size = struct.calcsize("<" + entry_fmt)
    fh.seek(ifd_offset)
    (count,) = struct.unpack(byteorder + count_fmt, fh.read(count_size))
    raw = fh.read(count * entry_size)
    entries = [raw[i * entry_size:(i + 1) * entry_size] for i in range(count)]
    entries.sort(key=lambda e: struct.unpack(byteorder + "H", e[:2])[0])
    fh.seek(ifd_offset + count_size)
    fh.write(b"".join(entries))


def _remove_entry(fh: BinaryIO, ifd_offset: int, entry_offset: int, byteorder: str, bigtiff: bool) -> None:
    """Drop one entry of a directory, moving the rest (and the next-directory offset) up."""
    count_fmt, count_size, entry_fmt, _ = _layout(bigtiff)
    entry_size = struct.calcsize("<" + entry_fmt)
    fh.seek(ifd_offset)
    (count,) = struct.unpack(byteorder + count_fmt, fh.read(count_size))
    tail_size = count * entry_size + (8 if bigtiff else 4)
    body = fh.read(tail_size)
    index = (entry_offset - ifd_offset - count_size) // entry_size
    body = body[:index * entry_size] + body[(index + 1) * entry_size:]
    fh.seek(ifd_offset)
    fh.write(struct.pack(byteorder + count_fmt, count - 1) + body + b"\0" * entry_size)


#: what to do with one placeholder: (real code, real type, directory entries or None)
Fixup = tuple[int, int, "list[Entry] | None"]


def finish_tags(path: Path, fixups: list[dict[int, Fixup]]) -> None:
    """Turn each page's placeholder tags into what they stand for (see the module docstring).

    ``fixups[i]`` maps a placeholder code of page i to (code, type, entries): with entries, a
    directory is appended and pointed to; without, the placeholder is renamed, or dropped when
    tifffile wrote ``code`` itself.
    """
    import tifffile

    if not any(fixups):
        return
    with tifffile.TiffFile(path) as tif:
        byteorder, bigtiff = tif.byteorder, tif.is_bigtiff
        todo = []
        for index in range(min(len(tif.pages), len(fixups))):
            page = tif.pages[index]
            for placeholder, (code, dtype, entries) in fixups[index].items():
                tag = page.tags.get(placeholder)
                if tag is not None:
                    drop = entries is None and code in page.tags
                    todo.append((page.offset, tag.offset, code, -1 if drop else dtype, entries))
    todo.sort(key=lambda item: -item[1])  # later entries first: removals do not move the others
    with open(path, "r+b") as fh:
        for ifd_offset, entry_offset, code, dtype, entries in todo:
            if entries is not None:
                start = _append_ifd(fh, entries, byteorder, bigtiff)
                fh.seek(entry_offset)
                head = struct.pack(byteorder + "HH", code, 16 if bigtiff else 4)
                fh.write(head + struct.pack(byteorder + ("QQ" if bigtiff else "II"), 1, start))
            elif dtype == -1:
                _remove_entry(fh, ifd_offset, entry_offset, byteorder, bigtiff)
            else:
                fh.seek(entry_offset)
                fh.write(struct.pack(byteorder + "HH", code, dtype))
        for ifd_offset in sorted({item[0] for item in todo}):
            _sort_ifd(fh, ifd_offset, byteorder, bigtiff)
