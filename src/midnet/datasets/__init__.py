"""Old name of `midnet.sample_data` (the published MIDNet pairs), kept so existing imports work.

``midnet.datasets`` and its submodules are the very same module objects as
``midnet.sample_data``'s; new code should import `midnet.sample_data`.
"""

from __future__ import annotations

import sys
import warnings

from midnet import sample_data as _sample_data
from midnet.sample_data import *  # noqa: F403 - the same public names
from midnet.sample_data import __all__  # noqa: F401
from midnet.sample_data import download, frames, paths, testing

warnings.warn("midnet.datasets is now midnet.sample_data", DeprecationWarning, stacklevel=2)
for _name, _module in {"download": download, "frames": frames, "paths": paths, "testing": testing}.items():
    sys.modules[f"{__name__}.{_name}"] = _module
del _sample_data
