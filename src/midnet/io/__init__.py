"""Reading and writing microscope image files (TIFF, PNG, JPEG, BMP) with their metadata, and
the facts of each page (`PageInfo`), decided once by `read_image`."""

from midnet.io.atomic import atomic_write
from midnet.io.files import page_info, read_image, write_image
from midnet.io.images import (
    SUFFIXES,
    ImageFile,
    from_float,
    image_format,
    to_float,
)
from midnet.io.pageinfo import (DataBar, PageInfo, PixelSize, Vendor, keep_mask, pair_databar_rows,
                                parse_databar)

__all__ = ["SUFFIXES", "DataBar", "ImageFile", "PageInfo", "PixelSize", "Vendor", "atomic_write", "from_float",
           "image_format", "keep_mask", "page_info", "pair_databar_rows", "parse_databar", "read_image", "to_float", "write_image"]
