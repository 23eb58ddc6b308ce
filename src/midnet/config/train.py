"""Training configuration: a typed pydantic model (:class:`TrainConfig`) with types and ranges.

Why pydantic: one declaration gives the defaults, the types (YAML's ``1e-3`` string becomes a
float everywhere, not just for a hand-picked list of keys), the ranges, the rejection of
unknown keys (``extra="forbid"``: a typo is an error, not a silently ignored setting) and the
resolved YAML written into every run folder. Compose with :func:`load_config` (name or path,
then ``--set`` updates, validated again after them); error messages are one line naming the
key and the fix (:class:`midnet.config.ConfigError`).

Typed where a section used to be a free mapping: ``synthetic.degradation`` is a discriminated
union chosen by ``synthetic.on_device`` (overrides of `DefocusRanges`, or of `BatchRanges`, whose
fields it takes from those dataclasses), and ``model.options`` is checked against the options
of the chosen architecture, each typed as its registry default (`options_model`).

``version``: saved configs record the layout they were written in (:data:`CONFIG_VERSION`).
``--resume RUN`` reads the run's saved ``config.yaml``; only :data:`RESUMABLE_KEYS` may change
then (where and how fast the run goes, never what it computes): :func:`resume_config`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveFloat,
                      PositiveInt, SerializerFunctionWrapHandler, TypeAdapter, ValidationError, ValidationInfo,
                      create_model, field_validator, model_serializer, model_validator)

from midnet import config as configs
from midnet.config import ConfigError
from midnet.data.defocus import DefocusRanges
from midnet.data.degrade_torch import BatchRanges
from midnet.data.splits import DEFAULT_GROUP_REGEX
from midnet.models.registry import available as model_names
from midnet.models.registry import entry as model_entry
from midnet.models.registry import model_config as model_options

__all__ = ["TrainConfig", "ModelSection", "DataSection", "SyntheticSection", "LossSection", "OptimSection", "TrainSection",
           "DefocusOverrides", "BatchOverrides", "Degradation", "options_model", "check_options",
           "load_config", "dump_config", "resume_config", "differences", "RESUMABLE_KEYS", "CONFIG_VERSION",
           "ConfigError"]

#: keys that ``midnet train --resume RUN --set KEY=...`` may change: hardware, speed and logging only
RESUMABLE_KEYS = ("train.accelerator", "train.devices", "train.num_nodes", "train.strategy",
                  "train.progress_bar", "train.log_every", "data.num_workers", "data.cache",
                  "train.compile", "train.channels_last")

_BOOL = TypeAdapter(bool)


class Section(BaseModel):
    """Strict base: unknown keys are errors; list items given as numbers become strings."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, coerce_numbers_to_str=True)


def _option_type(default: Any) -> Any:
    """The type an option is given as, from its registry default (``None``: anything)."""
    if default is None:
        return Any
    if isinstance(default, (list, tuple)):
        inner = {_option_type(v) for v in default}
        item = inner.pop() if len(inner) == 1 else Any
        return list[item]  # type: ignore[valid-type]
    if isinstance(default, dict):
        return dict[str, Any]
    return type(default)


@functools.lru_cache(maxsize=None)
def _options_model(arch: str, defaults: str) -> type[BaseModel]:
    del defaults  # part of the cache key only: a re-registered architecture gets a new model
    fields: dict[str, Any] = {k: (_option_type(v), v) for k, v in model_options(arch).items() if k != "in_channels"}
    return create_model(f"{arch}-options", __base__=Section, **fields)


def options_model(name: str) -> type[BaseModel]:
    """A pydantic model of the constructor options of model ``name``'s architecture.

    Why built from the registry: architectures are registered at run time (`midnet.models.register`),
    so no fixed union could list them; each option is typed as its registry default is (a width
    is an int, ``enc_blk_nums`` a list of ints, ``gate_channels`` a float)."""
    arch = model_entry(name).arch or name
    return _options_model(arch, repr(sorted(model_options(arch).items())))


def check_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` checked against model ``name``'s options, values converted to their types; one-line errors."""
    schema = options_model(name)
    unknown = sorted(set(options) - set(schema.model_fields))
    if unknown:
        raise ValueError(f"{unknown} are not options of {name}; its options: "
                         f"{', '.join(sorted(schema.model_fields))}")
    try:
        typed = schema.model_validate(options)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{key}: {err['msg']} (got {err.get('input')!r})") from None
    return {k: v for k, v in typed.model_dump().items() if k in options}


class ModelSection(Section):
    name: str = "midnet-paper"                 # registry name (midnet.models.available())
    in_channels: Literal[1, 3] = 1             # 1 = grey (RGB files reduced by BT.601 luma)
    options: dict[str, Any] = Field(default_factory=dict)  # constructor overrides, e.g. {width: 16} (check_options)
    checkpoint: str | None = None              # start weights: ours or an official NAFNet .pth
    freeze: list[str] = Field(default_factory=list)  # parameter-name prefixes kept fixed
    tlc: bool = True                           # validation pools as `deblur` will: TLC at data.crop_size

    @field_validator("name")
    @classmethod
    def _known_model(cls, value: str) -> str:
        names = model_names()
        if value not in names:
            raise ValueError(f"unknown model {value!r}; choose one of {', '.join(names)}")
        return value

    @field_validator("options")
    @classmethod
    def _known_options(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        name = info.data.get("name")
        return value if name is None else check_options(name, value)  # no name: its own error is reported


class DataSection(Section):
    root: str | None = None                    # folder with blur/+sharp/ (or input/+target/, lq/+gt/)
    input_dir: str | None = None               # explicit folders instead of root
    target_dir: str | None = None
    group_regex: str = DEFAULT_GROUP_REGEX     # file stem -> source image (the split unit)
    val_groups: list[str] = Field(default_factory=list)   # source images held out for validation
    test_groups: list[str] = Field(default_factory=list)  # never touched by training or validation
    databar_rows: NonNegativeInt | Literal["auto"] = "auto"  # rows at the bottom, or detect
    crop_size: PositiveInt = 256
    batch_size: PositiveInt = 32               # global batch: split evenly over all processes
    num_workers: NonNegativeInt = 0
    cache: bool = True                         # keep decoded pairs in memory
    # register each training pair by a global shift before cropping (midnet.data.registration):
    # re-takes after refocusing are often moved by the stage or beam (the published pairs by
    # 10-15 px), and a network trained on moved pairs learns to blur and move content
    align: bool = False
    val_max_images: PositiveInt | None = None  # validate on at most this many images

    @field_validator("group_regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return value

    def has_source(self) -> bool:
        return self.root is not None or (self.input_dir is not None and self.target_dir is not None)


class _Overrides(Section):
    """Overrides of a ranges dataclass: only the keys given are set, and only they are saved."""

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if k in self.model_fields_set}

    def __repr_args__(self) -> Any:
        return [(k, v) for k, v in super().__repr_args__() if k in self.model_fields_set]

    def overrides(self) -> dict[str, Any]:
        """The keys given, as the ranges' ``from_dict`` takes them."""
        return {k: getattr(self, k) for k in self.model_fields_set if k != "ranges"}


def _overrides_of(ranges: type, tag: str) -> type[_Overrides]:
    """A partial pydantic model of dataclass ``ranges``: every field optional, typed as the dataclass types it.

    ``ranges`` (the union's tag) is filled in from ``synthetic.on_device`` and never saved."""
    hints = typing.get_type_hints(ranges)
    fields: dict[str, Any] = {f.name: (hints[f.name], None) for f in dataclasses.fields(ranges)}
    fields["ranges"] = (Literal[tag], Field(default=tag, exclude=True))  # type: ignore[valid-type]
    return create_model(f"{tag}Overrides", __base__=_Overrides, __doc__=f"Overrides of `{tag}`.", **fields)


#: ``synthetic.degradation`` when ``synthetic.on_device`` is false: keys of `DefocusRanges`
DefocusOverrides = _overrides_of(DefocusRanges, "DefocusRanges")
#: ``synthetic.degradation`` when ``synthetic.on_device`` is true: keys of `BatchRanges`
BatchOverrides = _overrides_of(BatchRanges, "BatchRanges")
#: the union, discriminated by ``ranges`` (which ``synthetic.on_device`` sets)
Degradation = Annotated[Union[DefocusOverrides, BatchOverrides],  # type: ignore[valid-type]
                        Field(discriminator="ranges")]


class SyntheticSection(Section):
    """Synthetic defocus of sharp images (:mod:`midnet.data.defocus`), mixed with the real pairs."""

    corpus: str | None = None                  # folder of sharp SEM images, one sub-folder per source
    inventory: str | None = None               # TSV with data-bar rows (default: <corpus>/inventory.tsv)
    train_sources: list[str] | None = None     # sources to train on (None: every source not held out)
    val_sources: list[str] = Field(default_factory=list)  # whole sources held out for validation
    use_real_targets: bool = True              # also blur the sharp frames of the real training pairs
    real_fraction: float = Field(default=0.25, ge=0.0, le=1.0)  # share of samples that are real pairs
    degradation: Degradation = Field(default_factory=DefocusOverrides)  # overrides of DefocusRanges (BatchRanges on_device)
    # degrade the synthetic share in batches on the training device (midnet.data.degrade_torch):
    # the data loader then only crops sharp images, so a GPU never waits for numpy blurs, and a
    # PSF-aware model is told each sample's given (perturbed) PSF and noise level
    on_device: bool = False
    val_sigmas: list[PositiveFloat] = Field(default_factory=lambda: [1.0, 2.0, 3.0])  # validation PSF widths, px
    val_noise: NonNegativeFloat = 3.0          # validation: Gaussian noise sigma, 8-bit grey levels
    val_crop: PositiveInt | None = 512         # validation: centre crop of each held-out image

    @model_validator(mode="before")
    @classmethod
    def _tag_degradation(cls, data: Any) -> Any:
        """Tell the ``degradation`` union which ranges it overrides: the batch degradation (on the
        training device) has keys of its own (fast-scan noise, the given-PSF errors)."""
        if not isinstance(data, dict):
            return data
        try:
            on_device = _BOOL.validate_python(data.get("on_device", False))
        except ValidationError:
            on_device = False  # on_device's own error is reported
        tag = "BatchRanges" if on_device else "DefocusRanges"
        value = data.get("degradation", {})
        if isinstance(value, _Overrides):
            value = value.model_dump(mode="python")
        if not isinstance(value, dict):
            return data  # the union reports the type
        if value.get("ranges", tag) != tag:
            raise ValueError("degradation.ranges: set by synthetic.on_device; remove it")
        batch_only = sorted((set(value) - set(DefocusOverrides.model_fields)) & set(BatchOverrides.model_fields))
        if batch_only and not on_device:
            raise ValueError(f"degradation.{batch_only[0]}: a setting of the on-device degradation (BatchRanges); "
                             "set synthetic.on_device=true or remove it")
        return {**data, "degradation": {**value, "ranges": tag}}

    @model_validator(mode="after")
    def _ranges(self) -> SyntheticSection:
        try:
            self.ranges()
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"degradation: {str(exc).strip(chr(39) + chr(34))}") from None
        return self

    def ranges(self) -> DefocusRanges:
        """The ranges the synthetic share is drawn from: `BatchRanges` on the device, else `DefocusRanges`."""
        kind = BatchRanges if self.on_device else DefocusRanges
        return kind.from_dict(self.degradation.overrides())


class LossSection(Section):
    l1_weight: NonNegativeFloat = 1.0
    edge_weight: NonNegativeFloat = 0.05
    fft_weight: NonNegativeFloat = 0.01
    fft_mode: Literal["l1", "weighted_l2"] | None = None  # None: the FFT loss's default

    @model_validator(mode="after")
    def _some_term(self) -> LossSection:
        if not (self.l1_weight or self.edge_weight or self.fft_weight):
            raise ValueError("all loss weights are 0; set l1_weight, edge_weight or fft_weight above 0")
        return self


class OptimSection(Section):
    name: Literal["adam", "adamw"] = "adam"
    lr: PositiveFloat = 1.0e-3
    min_lr: NonNegativeFloat = 1.0e-7          # end of the per-iteration cosine annealing
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: NonNegativeFloat = 0.0
    grad_clip: PositiveFloat | None = None     # max gradient norm; None = off

    @field_validator("betas")
    @classmethod
    def _betas(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in value):
            raise ValueError(f"both betas must lie in [0, 1), got {list(value)}")
        return value

    @model_validator(mode="after")
    def _schedule(self) -> OptimSection:
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr ({self.min_lr}) must not exceed lr ({self.lr})")
        return self


class TrainSection(Section):
    max_steps: PositiveInt = 200_000
    seed: int = 10
    val_every: NonNegativeInt = 2000           # validate every N iterations (0: only at the end)
    val_at_start: bool = False                 # also validate the initial weights (step 0)
    log_every: PositiveInt = 50
    accelerator: str = "auto"                  # cpu | gpu | auto (Lightning)
    devices: int | str | list[int] = 1
    num_nodes: PositiveInt = 1
    strategy: str = "auto"                     # auto | ddp | ...
    precision: str = "32-true"                 # bf16-mixed on recent GPUs
    progress_bar: bool = True
    deterministic: bool = False
    max_time_min: PositiveFloat | None = None  # wall-time budget; cosine over time or steps, whichever ends first
    export: Literal["best", "last"] = "best"  # which weights become best.safetensors (best: by val/psnr)
    # torch.compile the network for training steps: true | false | auto (long runs of networks
    # big enough to gain; midnet.training.module.compile_enabled)
    compile: bool | Literal["auto"] = "auto"
    channels_last: bool = False                # NHWC memory format; measured slower on CPU, try it on GPUs

    @field_validator("compile", mode="before")
    @classmethod
    def _compile_choice(cls, value: Any) -> bool | str:
        # strict: "yes"/1 would pass as booleans otherwise, and "auto" must stay a word
        if isinstance(value, bool) or value == "auto":
            return value
        raise ValueError("must be true, false or auto")


#: the layout of `TrainConfig`; saved configs record it, and a later layout reads older ones
CONFIG_VERSION = 1


class TrainConfig(Section):
    """A whole `midnet train` configuration; every field has the default shown in the class.

    ``version``: the layout it was written in (`CONFIG_VERSION`; configs from before the field
    existed are version 1). A config from a newer midnet is refused with the reason."""

    version: int = CONFIG_VERSION
    name: str = "run"
    model: ModelSection = Field(default_factory=ModelSection)
    data: DataSection = Field(default_factory=DataSection)
    synthetic: SyntheticSection = Field(default_factory=SyntheticSection)
    loss: LossSection = Field(default_factory=LossSection)
    optim: OptimSection = Field(default_factory=OptimSection)
    train: TrainSection = Field(default_factory=TrainSection)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > CONFIG_VERSION or value < 1:
            raise ValueError(f"config version {value} is not one this midnet reads (1..{CONFIG_VERSION}); "
                             "it was written by a newer midnet: upgrade (pip install -U midnet)")
        return value

    def require_data(self) -> TrainConfig:
        """Raise unless the config says where the training data are (checked before training)."""
        if not self.data.has_source() and self.synthetic.corpus is None:
            raise ConfigError("data.root: no training data; pass --set data.root=/path/to/pairs (a folder with "
                              "blur/ and sharp/), set both data.input_dir and data.target_dir, or a sharp "
                              "corpus for synthetic defocus with --set synthetic.corpus=DIR")
        if self.synthetic.corpus is not None and self.model.in_channels != 1:
            raise ConfigError("model.in_channels: synthetic defocus training makes grey (1-channel) samples; "
                              "set model.in_channels=1")
        if psf_aware_model(self.model.name):
            if not (self.synthetic.corpus is not None and self.synthetic.on_device):
                raise ConfigError(f"model.name: {self.model.name} is PSF-aware and must be told each sample's PSF; "
                                  "train it on a sharp corpus with --set synthetic.corpus=DIR "
                                  "--set synthetic.on_device=true")
            if self.data.has_source() and self.synthetic.real_fraction > 0:
                raise ConfigError(f"synthetic.real_fraction: real pairs have no known PSF to give "
                                  f"{self.model.name}; set synthetic.real_fraction=0 (their sharp frames "
                                  "still serve as a source, synthetic.use_real_targets)")
        return self

    def updated(self, *sets: str) -> TrainConfig:
        """A copy with dotted ``key=value`` updates applied and validated again."""
        return configs.compose(TrainConfig, None, list(sets), base=self.model_dump(mode="json"))

    def as_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-safe dict (what checkpoints store as hyper-parameters)."""
        return self.model_dump(mode="json")


def psf_aware_model(name: str) -> bool:
    """Whether the registered model ``name`` takes ``psf=`` and ``noise_sigma=`` (its class says so)."""
    found = model_entry(name)
    builder = model_entry(found.arch).builder if found.arch else found.builder
    return bool(getattr(builder, "psf_aware", False))


def load_config(ref: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (),
                *, require_data: bool = True) -> TrainConfig:
    """Defaults <- config ``ref`` (shipped name or path) <- ``overrides``, validated."""
    cfg = configs.compose(TrainConfig, ref, overrides)
    return cfg.require_data() if require_data else cfg


def dump_config(cfg: TrainConfig) -> str:
    return configs.dump(cfg)


def saved_config_path(run: str | Path) -> Path:
    return Path(run) / "config.yaml"


def resume_config(run: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """The saved, resolved config of run folder ``run``, with only :data:`RESUMABLE_KEYS` changed."""
    path = saved_config_path(run)
    if not path.is_file():
        raise ConfigError(f"{path}: not found; --resume takes the folder of an earlier `midnet train` run")
    for text in overrides:
        key = text.partition("=")[0].strip()
        if key not in RESUMABLE_KEYS:
            raise ConfigError(f"--set {key}: cannot change on --resume (it would silently change the run); "
                              f"only {', '.join(RESUMABLE_KEYS)} may change. To train differently, start a new "
                              f"run from its weights: --set model.checkpoint={Path(run) / 'checkpoints' / 'last.ckpt'}")
    return configs.compose(TrainConfig, path, overrides).require_data()


def differences(a: TrainConfig, b: TrainConfig) -> list[str]:
    """Dotted keys whose values differ between two configs (name excluded)."""
    out: list[str] = []

    def walk(x: Any, y: Any, prefix: str) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                walk(x.get(key), y.get(key), f"{prefix}{key}.")
        elif x != y:
            out.append(prefix.rstrip("."))

    walk(a.as_dict(), b.as_dict(), "")
    return [k for k in out if k != "name"]
