"""Training deblurring networks with Lightning: configs, data module, module, run folder."""

from midnet.training.config import DEFAULTS, deep_merge, dump_config, load_config, parse_override
from midnet.training.finetune import freeze_prefixes

__all__ = ["DEFAULTS", "load_config", "deep_merge", "parse_override", "dump_config",
           "freeze_prefixes", "train"]


def train(*args, **kwargs):
    """Lazy wrapper of :func:`midnet.training.run.train` (keeps `import midnet.training` light)."""
    from midnet.training.run import train as _train

    return _train(*args, **kwargs)
