"""Reading and writing microscope image files (TIFF, PNG, JPEG, BMP) with their metadata."""

from midnet.io.atomic import atomic_write
from midnet.io.files import read_image, write_image
from midnet.io.images import (
    SUFFIXES,
    ImageFile,
    from_float,
    image_format,
    to_float,
)

__all__ = ["SUFFIXES", "ImageFile", "atomic_write", "from_float", "image_format", "read_image",
           "to_float", "write_image"]
