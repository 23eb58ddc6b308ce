"""Reading and writing microscope image files (TIFF, PNG, JPEG, BMP) with their metadata."""

from midnet.io.images import ImageFile, from_float, read_image, to_float

__all__ = ["ImageFile", "read_image", "to_float", "from_float"]
