"""The microscope's data bar: the info band (scale bar, kV, magnification...) at the image bottom.

One detector for the whole project: `midnet deblur` passes the bar through byte for byte (the
model was not trained on text and would blur it or give it halos), and training masks and
scoring leave it out (`midnet.data.databar` calls `detect_databar_array`).

`detect_databar` takes the height from the instrument's metadata where it says (the vendor's
parser in `midnet.io.vendors`: FEI/Thermo, Tescan, JEOL and Hitachi record it), from the
overlay colours of a Zeiss palette, and from the pixels (`find_databar`). Zeiss's CZ_SEM tag
does not give the height, so Zeiss bars are found from the image. `midnet.io.read_image` asks
once per page and keeps the answer in the page's `midnet.io.pageinfo.PageInfo`.

What a bar looks like, in every vendor's files seen: a band at the bottom whose rows are mostly
at one background level (black or white) with sparse text, often topped by a 1-4 pixel
separator line of the opposite level, sometimes with a 1-2 pixel border line below it; a few
instruments (Philips/FEI XL30) draw an *inset* box that stops short of the bottom, with specimen
rows below it. When unsure the detector keeps more rows rather than fewer (an unrestored strip
of specimen costs little, a restored bar is damaged) and says so in the log.

What is not a bar (issue 21): a specimen with large black areas (a TEM grid's empty holes,
vacuum above a cross-section) does not hide a bar drawn under it, since a drawn bar is plain
across the width from a straight top edge and carries text in the opposite extreme; a
saturated or empty layer crossing the frame near the bottom, with specimen under it, is not an
inset box (a box has sides); and overlay colours that the image data itself uses (a palette
marking entries the data takes) say nothing about where a bar is.
"""

from __future__ import annotations

import logging

import numpy as np

from midnet.io.images import ImageFile
from midnet.io.pageinfo import DataBar

log = logging.getLogger(__name__)

#: the bar is looked for in this bottom fraction of the image
MAX_FRACTION = 1 / 3
#: a bar row has at least this fraction of its pixels at the bar's background level
ROW_BACKGROUND = 0.5
#: values within this fraction of the full range count as "at the level" (JPEG noise included)
LEVEL_TOLERANCE = 0.06
#: fewer bar rows than this are not a bar
MIN_ROWS = 4
#: separator lines above the bar are at most this thick
MAX_LINE_ROWS = 6
#: rows below an inset box (or border lines) tolerated, as a fraction of the height (and at least 8)
MAX_FOOT_FRACTION = 0.06
#: a bar's background is black or white: levels further than this from both are not bars
EXTREME_LEVEL = 0.2
#: inside a band, a row crossing dense text still has this fraction at the bar's level
TEXT_ROW = 0.25
#: gaps of non-bar rows inside a band (a row crossing a large logo) up to this many rows
MAX_GAP_ROWS = 2
#: the 3 rows right above a bar have on average less than this fraction at its level (a drawn edge)
EDGE_ABOVE = 0.3
#: above the bar, at most this fraction of rows may look like bar rows (else it is specimen)
IMAGE_LIKE = 0.1
#: ... and between IMAGE_LIKE and this, the bar is kept but the detector says it is unsure
IMAGE_LIKE_UNSURE = 0.25
#: a full-width bar's plainest rows have at least this fraction at its level
FULL_WIDTH = 0.9
#: a drawn bar's top row (or the one below it: JPEG rings under a line) is as plain as its
#: plainest row, within this; a dark region of the specimen fades in over several rows
STRAIGHT_TOP = 0.1
#: a drawn bar's marks are text in the opposite extreme: at least this fraction of its pixels
#: off the background are within `INK_TOLERANCE` of black (white bar) or white (black bar)
INK_FRACTION = 0.3
INK_TOLERANCE = 0.25
#: more non-uniform rows than this below a band are specimen (an inset box), not border lines
MAX_BORDER_ROWS = 2
#: overlay colours in more than this fraction of the rows above the search window are values
#: of the image data (its palette marks entries the data uses), not a drawn overlay
OVERLAY_IN_IMAGE = 0.5


def _overlay_rows(image: ImageFile, page: int) -> int:
    """Rows from the top of the bottom overlay (Zeiss palette colours only the overlay uses).

    0 when the colours are the image data's own (in most rows above the bottom third, or in
    an unbroken run up to the search limit): they cannot mark where a bar starts.
    """
    overlay = image.page_meta(page).get("overlay_pixels")  # TIFF, PNG and BMP palettes alike
    if overlay is None or not len(overlay[0]):
        return 0
    height, width = image.pages[page].shape[:2]
    rows = np.zeros(height, dtype=bool)
    rows[np.unique(overlay[0] // width)] = True
    limit = int(height * MAX_FRACTION)
    if height - limit > 0 and np.mean(rows[:height - limit]) > OVERLAY_IN_IMAGE:
        return 0  # the image data itself uses the "overlay" entries: they say nothing of a bar
    top = height
    gap = 0
    ended = False
    for r in range(height - 1, height - 1 - limit, -1):  # overlay rows joined to the bottom
        if rows[r]:
            top, gap = r, 0
        else:
            gap += 1
            if gap > max(8, height // 50) and top < height:
                ended = True
                break
    # a run that reaches the search limit has no top: overlay colours go on into the specimen
    return height - top if top < height and ended else 0


def detect_databar(image: ImageFile, page: int = 0, *, max_value: float | None = None) -> int:
    """Rows at the bottom of page ``page`` that form the data bar (0 when there is none)."""
    return databar_report(image, page, max_value=max_value).rows


def databar_report(image: ImageFile, page: int = 0, *, max_value: float | None = None,
                   metadata_rows: int | None = None) -> DataBar:
    """`detect_databar` with where the answer came from; doubts are logged as warnings.

    ``max_value`` (the page's value of white) and ``metadata_rows`` (the bar the vendor's
    metadata gives) default to the page's `PageInfo` (`ImageFile.info`, decided by `read_image`,
    which calls this with both).
    """
    array = image.pages[page]
    if image.info:
        info = image.info[page]
        max_value = info.white if max_value is None else max_value
        if metadata_rows is None and info.vendor is not None:
            metadata_rows = info.vendor.databar_rows
    found = find_databar(array, max_value=max_value or None)
    overlay = _overlay_rows(image, page)
    if overlay > found.rows:
        found = DataBar(overlay, "overlay", found.unsure)
    meta = metadata_rows
    if meta is not None:
        if found.rows > meta:
            found = DataBar(found.rows, found.source,
                            f"the metadata says {meta} rows but the image shows a bar of {found.rows}; "
                            f"keeping {found.rows}")
        else:
            found = DataBar(meta, "metadata")
    if found.unsure:
        log.warning("%s: page %d: data bar: %s", image.path, page + 1, found.unsure)
    return found


def _grey(array: np.ndarray, max_value: float | None = None) -> np.ndarray:
    """(H, W) float in [0, 1]: colour averaged, alpha dropped, scaled by the range or the data."""
    if array.ndim == 3:
        colour = array[..., :-1] if array.shape[2] in (2, 4) else array
        array = colour.mean(axis=2) if colour.shape[2] > 1 else colour[..., 0]
    a = array.astype(np.float64)
    if max_value:
        return np.clip(a / float(max_value), 0.0, 1.0)
    if np.issubdtype(array.dtype, np.integer) and array.dtype.itemsize <= 2:
        info = np.iinfo(array.dtype)
        return (a - info.min) / (info.max - info.min)
    finite = a[np.isfinite(a)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    return np.nan_to_num((a - lo) / ((hi - lo) or 1.0))


def detect_databar_array(array: np.ndarray, *, max_value: float | None = None) -> int:
    """Data bar height from the pixels alone (0 when there is no bar); see `find_databar`.

    ``array`` is (H, W), (H, W, C) or, as the training code holds images, float (C, H, W) with
    C <= 4; ``max_value`` is the value of white (default: the dtype's range, floats their own).
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[0] <= 4 < array.shape[2]:
        array = np.moveaxis(array, 0, -1)
    return find_databar(array, max_value=max_value).rows


def _band(at: np.ndarray, limit: int, foot_limit: int) -> tuple[int, int] | None:
    """(top, bottom) rows of the lowest band of at least `MIN_ROWS` bar rows, or None.

    ``at`` is each row's fraction of pixels at the bar's level. A band starts and ends on bar
    rows (at least `ROW_BACKGROUND`); inside it, rows crossing dense text (at least
    `TEXT_ROW`) are part of it, and up to `MAX_GAP_ROWS` other rows (a large logo) are
    bridged. It may start up to ``foot_limit`` rows above the bottom (border lines, specimen
    below an inset box); shorter runs there are part of that foot.
    """
    height = len(at)
    bar_row = at >= ROW_BACKGROUND
    r = height - 1
    while True:
        while r >= height - foot_limit and not bar_row[r]:
            r -= 1
        if r < height - foot_limit:
            return None
        bottom = top = r
        gap = 0
        while r > height - limit:
            r -= 1
            if bar_row[r]:
                top, gap = r, 0
            elif at[r] < TEXT_ROW:
                gap += 1
                if gap > MAX_GAP_ROWS:
                    break
        if bottom - top + 1 >= MIN_ROWS:
            return top, bottom
        r = top - 1


def _separator(grey: np.ndarray, top: int, level: float) -> int:
    """Rows of a separator line directly above ``top`` (contrasting, thin, with an edge above)."""
    rows = 0
    line_level = None
    while rows < MAX_LINE_ROWS + 1 and top - rows - 1 >= 0:
        row = grey[top - rows - 1]
        median = float(np.median(row))
        uniform = np.mean(np.abs(row - median) <= 2 * LEVEL_TOLERANCE) >= 0.85  # JPEG rings at lines
        if line_level is None:
            if not uniform or abs(median - level) <= 0.25 or min(median, 1 - median) > EXTREME_LEVEL:
                return 0  # a line is drawn in black or white, in contrast with the bar
            line_level = median
        elif not (uniform and abs(median - line_level) <= 2 * LEVEL_TOLERANCE):
            break
        rows += 1
    return rows if 0 < rows <= MAX_LINE_ROWS else 0


def _straight_top(at: np.ndarray, top: int, plainest: float) -> bool:
    """True when the band is at full plainness from its first row (or its second: JPEG rings
    under a separator line). A bar is drawn with a straight edge and a margin above its text;
    a dark or saturated region of the specimen fades in over several rows."""
    return float(at[top:top + 2].max()) >= plainest - STRAIGHT_TOP


def _ink_fraction(block: np.ndarray, level: float) -> float:
    """Fraction of the band's off-background pixels that are near the opposite extreme.

    A bar's marks are text and lines drawn in white on black (or black on white); what lies
    in a dark region of the specimen (particles, film, noise) is specimen grey.
    """
    off = np.abs(block - level) > LEVEL_TOLERANCE
    ink = off & (np.abs(block - (1.0 - level)) <= INK_TOLERANCE)
    return float(ink.sum() / max(1, int(off.sum())))


def _specimen_rows_below(grey: np.ndarray, low: int) -> int:
    """Rows below the band that are not uniform lines: specimen under an inset box, where
    a full-width bar has at most a border line (and perhaps one row of junk) below it."""
    foot = grey[low + 1:]
    return sum(float(np.mean(np.abs(row - np.median(row)) <= LEVEL_TOLERANCE)) < 0.9 for row in foot)


def _box_sides(grey: np.ndarray, top: int, low: int, level: float) -> bool:
    """True when the band's background stops at two sharp sides inside the image.

    An inset box (or a frame's side lines) has them; a saturated or empty layer of the
    specimen that crosses the frame runs off both edges, and a dark patch fades out.
    """
    columns = np.mean(np.abs(grey[top:low + 1] - level) <= LEVEL_TOLERANCE, axis=0)
    inside = np.flatnonzero(columns >= ROW_BACKGROUND)
    if not inside.size:
        return False
    left, right = int(inside[0]), int(inside[-1])
    if left < 1 or right > len(columns) - 2 or right - left < 8:
        return False
    outside = np.concatenate([columns[max(0, left - 3):left], columns[right + 1:right + 4]])
    plainest = float(columns.max())
    straight = min(columns[left:left + 2].max(), columns[right - 1:right + 1].max()) >= plainest - STRAIGHT_TOP
    return float(outside.mean()) < EDGE_ABOVE and bool(straight)


def _drawn(grey: np.ndarray, at: np.ndarray, top: int, low: int, level: float) -> bool:
    """True for a band that is a drawn, full-width bar whatever the image above looks like:
    plain across the width, a straight top edge, marks in the opposite extreme (text)."""
    plainest = float(at[top:low + 1].max())
    return (plainest >= FULL_WIDTH and _straight_top(at, top, plainest)
            and _ink_fraction(grey[top:low + 1], level) >= INK_FRACTION)


def _band_doubts(grey: np.ndarray, at: np.ndarray, band: tuple[int, int], bar_top: int,
                 level: float) -> list[str] | None:
    """The doubts about an accepted band (``bar_top``: its top with the separator), or None
    when it is rejected: the image above looks like it, or it is an inset without a box."""
    top, low = band
    height = len(at)
    above = float(np.mean(at[:bar_top] >= ROW_BACKGROUND)) if bar_top else 1.0
    doubts = []
    if above >= IMAGE_LIKE:
        if above >= IMAGE_LIKE_UNSURE and not _drawn(grey, at, top, low, level):
            return None  # a dark specimen with sparse bright particles is not a bar
        doubts.append(f"{above:.0%} of the rows above it look like bar rows too")
    if _specimen_rows_below(grey, low) > MAX_BORDER_ROWS:
        if not (_box_sides(grey, top, low, level) and _straight_top(at, top, float(at[top:low + 1].max()))):
            return None  # specimen below a band that is not a drawn box: a layer of the specimen
        doubts.append(f"the box ends {height - 1 - low} rows above the bottom (an inset); "
                      "the rows below it are kept unrestored too")
    return doubts


def find_databar(array: np.ndarray, *, max_value: float | None = None) -> DataBar:
    """The data bar from the pixels: a bottom band at one level with text (see the module doc).

    For each candidate background level (the commonest level of the bottom rows, black, white)
    (black or white only) the band of rows with at least half their pixels at that level is taken
    from the bottom up
    (past up to 6 % of border lines or specimen below an inset box), extended over a separator
    line, and accepted when it is at least 4 rows, ends inside the bottom third, holds text
    (rows with fewer background pixels than the plainest one), has a sharp top edge (the rows
    right above it are not at its level: a drawn band, not a shadow) and the image above it
    does not look like it (a dark specimen with sparse bright particles is not a bar) unless
    the band is plainly drawn (`_drawn`: full width, straight top, text in the opposite
    extreme: a bar under a specimen with large black areas). Specimen rows below a band make
    it an inset, accepted only as a box with sides and a straight top (`_box_sides`). The
    tallest accepted band wins.
    """
    grey = _grey(np.asarray(array), max_value)
    height, width = grey.shape
    if height < 16 or width < 16:
        return DataBar(0, "none")
    limit = int(height * MAX_FRACTION)
    foot_limit = max(8, int(height * MAX_FOOT_FRACTION))
    bottom = grey[-4:].ravel()
    values, counts = np.unique(np.round(bottom / LEVEL_TOLERANCE), return_counts=True)
    levels = {float(values[np.argmax(counts)] * LEVEL_TOLERANCE), 0.0, 1.0}
    levels = {min(max(v, 0.0), 1.0) for v in levels if min(v, 1.0 - v) <= EXTREME_LEVEL}
    best = DataBar(0, "none")
    for level in sorted(levels):
        at = np.mean(np.abs(grey - level) <= LEVEL_TOLERANCE, axis=1)
        band = _band(at, limit, foot_limit)
        if band is None:
            continue
        top, low = band
        inside = at[top:low + 1]
        if low - top + 1 < MIN_ROWS:
            continue
        plainest = inside.max()
        if not np.any((inside < plainest - 0.01) & (inside >= TEXT_ROW)):
            continue  # no text: a plain dark or bright strip is shadow or background, not a bar
        edge = at[max(0, top - 3):top]
        if edge.size and edge.mean() >= EDGE_ABOVE:
            continue  # a soft edge: a shadow or a dark region of the specimen, not a drawn bar
        bar_top = top - _separator(grey, top, level)
        if bar_top <= height - limit:
            continue
        doubts = _band_doubts(grey, at, band, bar_top, level)
        if doubts is None:
            continue
        rows = height - bar_top
        if rows > best.rows:
            best = DataBar(rows, "pixels", "; ".join(doubts))
    return best
