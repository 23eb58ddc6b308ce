"""Training deblurring networks with Lightning: typed config, data module, module, run folder."""

from midnet.config.train import TrainConfig, dump_config, load_config
from midnet.training.finetune import freeze_prefixes

__all__ = ["TrainConfig", "load_config", "dump_config", "freeze_prefixes", "train"]


def train(*args, **kwargs):
    """:func:`midnet.training.run.train`, imported on first call: Lightning takes seconds to import,
    and `import midnet.training` (configs, `midnet config`) should not pay for it. No cycle hides here."""
    from midnet.training.run import train as _train

    return _train(*args, **kwargs)
