"""Old name of `midnet.sample_data` (the published MIDNet pairs), kept so existing imports work.

``midnet.datasets`` and its submodules are the very same objects as ``midnet.sample_data``'s;
new code should import `midnet.sample_data`.
"""

from __future__ import annotations

import importlib
import sys
import warnings

from midnet import sample_data as _sample_data

warnings.warn("midnet.datasets is now midnet.sample_data", DeprecationWarning, stacklevel=2)
__all__ = list(_sample_data.__all__)
globals().update({name: getattr(_sample_data, name) for name in __all__})
for _name in ("download", "frames", "paths"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"midnet.sample_data.{_name}")
