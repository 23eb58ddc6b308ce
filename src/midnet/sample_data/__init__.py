"""The published MIDNet SEM pairs: where they are, how to fetch and verify them, frames.

* :func:`data_root` - ``$MIDNET_DATA`` or the download cache (fetching on request).
* :func:`frame_pair` - the full blurry/sharp frames of one source image.
* :func:`download` - fetch and SHA-256-verify the crops, rebuild the frames.
"""

from __future__ import annotations

from midnet.sample_data.download import (
    DEFAULT_BASE_URL,
    ENV_DATA_URL,
    PUBLISHED_COMMIT,
    DownloadReport,
    PublishedFile,
    download,
    normalise_group,
    published_files,
    published_groups,
    sha256_file,
)
from midnet.sample_data.frames import build_frame, ensure_frame, stitch_frame
from midnet.sample_data.paths import ENV_DATA, data_root, default_cache_dir, frame_pair, missing_files

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_DATA",
    "ENV_DATA_URL",
    "PUBLISHED_COMMIT",
    "DownloadReport",
    "PublishedFile",
    "build_frame",
    "data_root",
    "default_cache_dir",
    "download",
    "ensure_frame",
    "frame_pair",
    "missing_files",
    "normalise_group",
    "published_files",
    "published_groups",
    "sha256_file",
    "stitch_frame",
]
