"""The physical pixel size recorded by the microscope, so viewers (napari) can show real units.

Read from, in this order: FEI/Thermo INI metadata (``[Scan] PixelWidth``/``PixelHeight``, in
metres; tags 34682/34680), Zeiss ``CZ_SEM`` (``Image Pixel Size``, else ``Pixel Size``; tag
34118), Tescan (``PixelSizeX``/``PixelSizeY`` in metres; tag 50431), a JEOL sidecar
(``$$SM_MICRON_MARKER`` over ``$$SM_MICRON_BAR`` px), a Hitachi sidecar (``PixelSize`` in nm),
and ImageJ TIFFs (``unit=`` in the description with the resolution tags). The plain TIFF
resolution tags are not used on their own: vendors fill them with screen dpi.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass

from midnet.io.images import ImageFile

#: length units found in SEM metadata, in nanometres
_UNITS_NM = {"pm": 1e-3, "fm": 1e-6, "nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3,
             "microns": 1e3, "mm": 1e6, "cm": 1e7, "m": 1e9}


@dataclass(frozen=True)
class PixelSize:
    """Pixel height and width in nanometres, and where they were read from."""

    y_nm: float
    x_nm: float
    source: str


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").replace("\x00", "")
    return str(value)


def _positive(*values: float | None) -> bool:
    return all(v is not None and v > 0 for v in values)


def _fei(text: str) -> PixelSize | None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    for section in ("Scan", "EScan", "Image"):
        if parser.has_section(section) and parser.has_option(section, "PixelWidth"):
            try:
                x = float(parser[section]["PixelWidth"])
                y = float(parser[section].get("PixelHeight", x))
            except ValueError:
                continue
            if _positive(x, y):
                return PixelSize(y * 1e9, x * 1e9, f"FEI/Thermo [{section}] PixelWidth")
    return None


def _zeiss(text: str) -> PixelSize | None:
    for label in ("Image Pixel Size", "Pixel Size"):
        match = re.search(rf"^{label}\s*=\s*([0-9.eE+-]+)\s*(\S+)", text, re.MULTILINE)
        if match and match.group(2) in _UNITS_NM:
            size = float(match.group(1)) * _UNITS_NM[match.group(2)]
            if size > 0:
                return PixelSize(size, size, f"Zeiss CZ_SEM {label}")
    return None


def _tescan(text: str) -> PixelSize | None:
    x = re.search(r"PixelSizeX\s*=\s*([0-9.eE+-]+)", text)
    y = re.search(r"PixelSizeY\s*=\s*([0-9.eE+-]+)", text)
    if x:
        px = float(x.group(1)) * 1e9
        py = float(y.group(1)) * 1e9 if y else px
        if _positive(px, py):
            return PixelSize(py, px, "Tescan PixelSizeX/Y")
    return None


def _sidecar(text: str) -> PixelSize | None:
    marker = re.search(r"\$\$SM_MICRON_MARKER\s+([0-9.]+)\s*([a-zµμ]+)", text)
    bar = re.search(r"\$\$SM_MICRON_BAR\s+([0-9.]+)", text)
    if marker and bar and marker.group(2) in _UNITS_NM and float(bar.group(1)) > 0:
        size = float(marker.group(1)) * _UNITS_NM[marker.group(2)] / float(bar.group(1))
        if size > 0:
            return PixelSize(size, size, "JEOL sidecar $$SM_MICRON_MARKER / $$SM_MICRON_BAR")
    hitachi = re.search(r"^PixelSize\s*=\s*([0-9.eE+-]+)", text, re.MULTILINE)
    if hitachi and float(hitachi.group(1)) > 0:
        size = float(hitachi.group(1))
        return PixelSize(size, size, "Hitachi sidecar PixelSize (nm)")
    return None


def _imagej(page: dict) -> PixelSize | None:
    description = page.get("description") or ""
    unit = re.search(r"^unit=(\S+)", description, re.MULTILINE)
    resolution = page.get("resolution")
    if not unit or not resolution:
        return None
    name = unit.group(1).replace("\\u00B5", "µ")
    if name not in _UNITS_NM:
        return None

    def per_pixel(value) -> float | None:
        num, den = value if isinstance(value, tuple) else (value, 1)
        return _UNITS_NM[name] * den / num if num else None

    x, y = per_pixel(resolution[0]), per_pixel(resolution[1])
    return PixelSize(y, x, "ImageJ unit and resolution") if _positive(x, y) else None


def pixel_size(image: ImageFile, page: int = 0) -> PixelSize | None:
    """The pixel size of page ``page`` from the file's metadata, or None when it is not recorded."""
    pages = image.metadata.get("tiff_pages")
    meta = pages[page] if pages else {}
    vendor = meta.get("vendor", {})
    finders = [(code, _fei) for code in (34682, 34680)] + [(34118, _zeiss), (50431, _tescan)]
    for code, finder in finders:
        if code in vendor:
            found = finder(_text(vendor[code]))
            if found is not None:
                return found
    if image.metadata.get("sidecar_text"):
        found = _sidecar(image.metadata["sidecar_text"])
        if found is not None:
            return found
    return _imagej(meta) if meta else None
