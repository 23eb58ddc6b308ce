"""The published MIDNet SEM pairs: where they are, how to fetch and verify them, frames.

* :func:`data_root` - ``$MIDNET_DATA`` or the download cache (fetching on request).
* :func:`frame_pair` - the full blurry/sharp frames of one source image.
* :func:`download` - fetch (with pooch) and SHA-256-verify the crops, rebuild the frames.
* :func:`verify_folder` - check a local copy without the network.
"""

from __future__ import annotations

from midnet.sample_data.download import download
from midnet.sample_data.frames import build_frame, ensure_frame, stitch_frame
from midnet.sample_data.paths import ENV_DATA, data_root, frame_pair, missing_files
from midnet.sample_data.published import (
    DEFAULT_BASE_URL,
    ENV_DATA_URL,
    PUBLISHED_COMMIT,
    PublishedFile,
    default_cache_dir,
    normalise_group,
    published_files,
    published_groups,
    sha256_file,
)
from midnet.sample_data.report import DownloadReport
from midnet.sample_data.verify import VerifyReport, verify_folder

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_DATA",
    "ENV_DATA_URL",
    "PUBLISHED_COMMIT",
    "DownloadReport",
    "PublishedFile",
    "VerifyReport",
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
    "verify_folder",
]
