"""One parser per microscope vendor: what its metadata says about a page (a `Vendor`).

Why one module: the same vendor fields used to be parsed three times (for the bit depth, the
data bar and the pixel size), each with its own regular expression. Here each vendor has one
parser that returns all its facts, and `page_vendor` picks the vendor of a page:

* FEI/Thermo (TIFF tags 34682/34680), parsed by tifffile (`TiffFile.fei_metadata`'s reader):
  data bar = image height minus ``[Image] ResolutionY``; pixel size ``[Scan] PixelWidth`` /
  ``PixelHeight`` in metres (else ``[EScan]``, ``[Image]``).
* Zeiss (tag 34118), parsed by tifffile (`TiffFile.sem_metadata`'s reader): pixel size
  ``AP_IMAGE_PIXEL_SIZE`` (else ``AP_PIXEL_SIZE``) with its unit. CZ_SEM does not give the
  bar's height: Zeiss bars are found from the overlay colours or the pixels.
* Tescan (tag 50431, ``key=value`` text): data bar ``ImageStripSize``; pixel size
  ``PixelSizeX``/``PixelSizeY`` in metres.
* JEOL sidecar (``$KEY value`` lines): data bar = height minus the second number of
  ``$CM_FULL_SIZE``; pixel size ``$$SM_MICRON_MARKER`` over ``$$SM_MICRON_BAR`` pixels.
* Hitachi sidecar (``[SemImageFile]``, ``key=value``): data bar = height minus the second
  number of ``DataSize=WxH`` (when W is the image width); pixel size ``PixelSize`` in nm.

Every vendor's bit depth is read from the same field names (`BIT_FIELDS`), e.g. Tescan's
``ImageBitDepth``. ImageJ TIFFs (not a microscope) give a pixel size only (`imagej_pixel_size`,
``unit=`` in the description with the resolution tags); the plain resolution tags are never used
on their own: vendors fill them with screen dpi.
"""

from __future__ import annotations

import re
from typing import Any

from midnet.io.pageinfo import PixelSize, Vendor
from midnet.io.sidecar import sidecar_kind

__all__ = ["BIT_FIELDS", "fei", "hitachi", "imagej_pixel_size", "jeol", "jeol_fields", "page_vendor",
           "tescan", "zeiss"]

#: length units found in SEM metadata, in nanometres
UNITS_NM = {"pm": 1e-3, "fm": 1e-6, "nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3,
            "microns": 1e3, "mm": 1e6, "cm": 1e7, "m": 1e9}
#: field names (any vendor, case-insensitive) that give the detector's bits per pixel
BIT_FIELDS = ("imagebitdepth", "bitdepth", "bitsperpixel", "bitspersample", "imagebits")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").replace("\x00", "\n")
    return str(value)


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _bits(fields: dict[str, Any]) -> int | None:
    """Bits per pixel from any (nested) field named in `BIT_FIELDS`."""
    for key, value in fields.items():
        if isinstance(value, dict):
            found = _bits(value)
            if found is not None:
                return found
        elif str(key).lower() in BIT_FIELDS:
            bits = _number(value[1] if isinstance(value, tuple) and len(value) > 1 else value)
            if bits is not None and bits.is_integer() and 1 <= bits <= 32:
                return int(bits)
    return None


def _bar(height: int, image_rows: float | None) -> int | None:
    """Data bar rows when the metadata's image height is within the page's (else None)."""
    if image_rows is None or not float(image_rows).is_integer() or not 0 < image_rows <= height:
        return None
    return height - int(image_rows)


def _key_values(text: str) -> dict[str, str]:
    """``key=value`` lines of an INI-like text (sections flattened; the first value of a key wins)."""
    fields: dict[str, str] = {}
    for match in re.finditer(r"^\s*([A-Za-z_][\w .]*?)\s*=\s*(.*?)\s*$", text, re.MULTILINE):
        fields.setdefault(match.group(1), match.group(2))
    return fields


def fei(parsed: dict[str, Any], shape: tuple[int, ...]) -> Vendor:
    """FEI/Thermo from tifffile's parse of tags 34680/34682 (sections of ``key: value``)."""
    image = parsed.get("Image", {}) if isinstance(parsed.get("Image"), dict) else {}
    size = None
    for section in ("Scan", "EScan", "Image"):
        values = parsed.get(section)
        if isinstance(values, dict) and "PixelWidth" in values:
            x = _number(values["PixelWidth"])
            y = _number(values.get("PixelHeight", x))
            if x and y and x > 0 and y > 0:
                size = PixelSize(y * 1e9, x * 1e9, f"FEI/Thermo [{section}] PixelWidth")
                break
    rows = _number(image.get("ResolutionY"))
    return Vendor("FEI/Thermo", parsed, _bits(parsed), _bar(shape[0], rows), size)


def zeiss(parsed: dict[str, Any], shape: tuple[int, ...]) -> Vendor:  # noqa: ARG001 - no bar height in CZ_SEM
    """Zeiss from tifffile's parse of CZ_SEM (``ap_name -> (label, value[, unit])``)."""
    size = None
    for key in ("ap_image_pixel_size", "ap_pixel_size"):
        entry = parsed.get(key)
        if isinstance(entry, tuple) and len(entry) == 3 and entry[2] in UNITS_NM:
            value = _number(entry[1])
            if value and value > 0:
                nm = value * UNITS_NM[entry[2]]
                size = PixelSize(nm, nm, f"Zeiss CZ_SEM {entry[0]}")
                break
    return Vendor("Zeiss", parsed, _bits(parsed), None, size)


def tescan(text: str, shape: tuple[int, ...]) -> Vendor:
    """Tescan from the ``key=value`` text of tag 50431."""
    fields = _key_values(text)
    strip = _number(fields.get("ImageStripSize"))
    rows = int(strip) if strip is not None and strip.is_integer() and 0 <= strip < shape[0] else None
    size = None
    x = _number(fields.get("PixelSizeX"))
    if x and x > 0:
        y = _number(fields.get("PixelSizeY")) or x
        size = PixelSize(y * 1e9, x * 1e9, "Tescan PixelSizeX/Y") if y > 0 else None
    return Vendor("Tescan", fields, _bits(fields), rows, size)


def jeol_fields(text: str) -> dict[str, str]:
    """``$KEY value`` lines of a JEOL sidecar as a dict (keys without the leading ``$``s)."""
    fields = {}
    for line in text.splitlines():
        match = re.match(r"^\$+(\S+)\s*(.*)$", line.strip())
        if match:
            fields[match.group(1)] = match.group(2).strip()
    return fields


def jeol(text: str, shape: tuple[int, ...]) -> Vendor:
    """JEOL from its ``.txt`` sidecar."""
    fields = jeol_fields(text)
    full = fields.get("CM_FULL_SIZE", "").split()
    rows = _bar(shape[0], _number(full[1])) if len(full) == 2 else None
    size = None
    marker = re.match(r"([0-9.]+)\s*([a-zµμ]+)", fields.get("SM_MICRON_MARKER", ""))
    bar = _number(fields.get("SM_MICRON_BAR"))
    if marker and bar and bar > 0 and marker.group(2) in UNITS_NM:
        nm = float(marker.group(1)) * UNITS_NM[marker.group(2)] / bar
        if nm > 0:
            size = PixelSize(nm, nm, "JEOL sidecar $$SM_MICRON_MARKER / $$SM_MICRON_BAR")
    return Vendor("JEOL", fields, _bits(fields), rows, size)


def hitachi(text: str, shape: tuple[int, ...]) -> Vendor:
    """Hitachi from its ``[SemImageFile]`` sidecar."""
    fields = _key_values(text)
    rows = None
    match = re.fullmatch(r"(\d+)\s*x\s*(\d+)", fields.get("DataSize", ""))
    if match and len(shape) > 1 and int(match.group(1)) == shape[1]:
        rows = _bar(shape[0], float(match.group(2)))
    nm = _number(fields.get("PixelSize"))
    size = PixelSize(nm, nm, "Hitachi sidecar PixelSize (nm)") if nm and nm > 0 else None
    return Vendor("Hitachi", fields, _bits(fields), rows, size)


def imagej_pixel_size(page: dict[str, Any]) -> PixelSize | None:
    """ImageJ TIFFs: ``unit=`` in the description with the resolution tags (per unit)."""
    description = page.get("description") or ""
    unit = re.search(r"^unit=(\S+)", description, re.MULTILINE)
    resolution = page.get("resolution")
    if not unit or not resolution:
        return None
    name = unit.group(1).replace("\\u00B5", "µ")
    if name not in UNITS_NM:
        return None

    def per_pixel(value: Any) -> float | None:
        num, den = value if isinstance(value, tuple) else (value, 1)
        return UNITS_NM[name] * den / num if num else None

    x, y = per_pixel(resolution[0]), per_pixel(resolution[1])
    return PixelSize(y, x, "ImageJ unit and resolution") if x and y and x > 0 and y > 0 else None


def page_vendor(page_meta: dict[str, Any], sidecar_text: str | None, shape: tuple[int, ...]) -> Vendor | None:
    """The vendor facts of one page: its TIFF vendor tags, else its JEOL/Hitachi sidecar, else None.

    ``page_meta`` is what the reader kept for the page (`midnet.io.images.ImageFile.page_meta`).
    """
    if page_meta.get("fei"):
        return fei(page_meta["fei"], shape)
    if page_meta.get("cz_sem"):
        return zeiss(page_meta["cz_sem"], shape)
    vendor_tags = page_meta.get("vendor") or {}
    if 50431 in vendor_tags:
        return tescan(_text(vendor_tags[50431]), shape)
    if sidecar_text:
        kind = sidecar_kind(sidecar_text)
        if kind == "jeol":
            return jeol(sidecar_text, shape)
        if kind == "hitachi":
            return hitachi(sidecar_text, shape)
    return None
