"""Benchmark configuration: a typed pydantic model (:class:`BenchmarkConfig`), CPU-scale defaults.

Why typed, as for training: the results folder gets the fully resolved configuration, so a
table can always be traced back to the exact split, budget, models and evaluation settings that
produced it; unknown keys and wrong types fail before any network trains, in one line naming
the key. The ``training`` section is a *partial* `midnet train` config: it is checked against
:class:`~midnet.config.train.TrainConfig` at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, NonNegativeInt, PositiveInt, ValidationInfo, field_validator, model_validator

from midnet import config as configs
from midnet.config.train import Section, TrainConfig, check_options
from midnet.data.splits import DEFAULT_GROUP_REGEX
from midnet.models.registry import available as model_names

__all__ = ["BenchmarkConfig", "ModelRow", "LossWeights", "load_benchmark_config", "dump_config",
           "PAPER_PRETRAINED", "PAPER_ABLATION", "CLASSICAL_METHODS"]

#: the official checkpoints the paper's Table 1 applies (registry names)
PAPER_PRETRAINED = ("restormer", "dmphn-1-2-4", "hinet", "nafnet-width32")
#: the paper's Table 3 rows: loss weights (L1, edge, FFT)
PAPER_ABLATION = {
    "L1": {"l1_weight": 1.0, "edge_weight": 0.0, "fft_weight": 0.0},
    "L1+edge": {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.0},
    "L1+FFT": {"l1_weight": 1.0, "edge_weight": 0.0, "fft_weight": 0.01},
    "L1+edge+FFT": {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.01},
}
CLASSICAL_METHODS = ("unsharp-mask", "wiener", "richardson-lucy", "unsupervised-wiener")
Classical = Literal["unsharp-mask", "wiener", "richardson-lucy", "unsupervised-wiener"]


def _check_model_name(name: str) -> str:
    names = model_names()
    if name not in names:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(names)}")
    return name


def _check_partial_training(doc: dict[str, Any]) -> dict[str, Any]:
    """A partial `midnet train` config must be valid on top of the training defaults."""
    configs.validate(TrainConfig, doc, source="training section")
    return doc


class ModelRow(Section):
    """A trained row: a registry name plus an optional label, constructor options, training overrides."""

    name: str
    label: str = ""
    options: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        return _check_model_name(value)

    @field_validator("options")
    @classmethod
    def _options(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        name = info.data.get("name")
        return value if name is None else check_options(name, value)  # no name: its own error is reported

    @field_validator("training")
    @classmethod
    def _training(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_partial_training(value)

    @model_validator(mode="after")
    def _label(self) -> ModelRow:
        if not self.label:
            self.label = self.name
        return self


class LossWeights(Section):
    l1_weight: float = 0.0
    edge_weight: float = 0.0
    fft_weight: float = 0.0


class BenchData(Section):
    root: str | None = None                    # blur/+sharp/, or the published layout (then frames/)
    use_frames: Literal["auto"] | bool = "auto"  # auto: ROOT/frames/{blur,sharp} when present
    group_regex: str = DEFAULT_GROUP_REGEX     # file stem -> source image
    train_groups: list[str] = Field(default_factory=lambda: ["1-1", "2-1", "3-1", "4-1", "5-1", "6-1"])
    val_groups: list[str] = Field(default_factory=list)    # optional validation during training
    test_groups: list[str] = Field(default_factory=lambda: ["7-1"])  # scored, never trained on
    databar_rows: NonNegativeInt | Literal["auto"] = "auto"
    # How the test pairs are chosen (issue 19). "by-source": whole source images are held out
    # (test_groups), so no test pixel was trained on. "paper": paper_test_count pairs drawn at
    # random (split_seed) from all pairs, as the MIDNet paper did; overlapping crops of one scene
    # then sit on both sides, and the score measures memorised scenes as much as deblurring.
    # Under "paper", train_groups/test_groups choose no pairs (all non-test pairs train); the
    # test groups' pair count only sizes the draw when paper_test_count/fraction are unset.
    protocol: Literal["paper", "by-source"] = "by-source"
    split_seed: int = 0                        # paper: the seed of the random draw
    paper_test_count: PositiveInt | None = None  # paper: test pairs; None: as many as test_groups hold
    paper_test_fraction: float | None = Field(default=None, gt=0.0, lt=1.0)  # or a share (paper: 12/120)

    @model_validator(mode="after")
    def _groups(self) -> BenchData:
        if self.paper_test_count is not None and self.paper_test_fraction is not None:
            raise ValueError("give data.paper_test_count or data.paper_test_fraction, not both")
        if self.protocol == "paper" and self.val_groups:
            raise ValueError("the paper protocol draws test pairs at random and has no validation groups; "
                             "set data.val_groups=[]")
        if not self.test_groups:
            raise ValueError("test_groups is empty: name the source images to score on, e.g. --set "
                             "'data.test_groups=[7-1]'")
        overlap = set(self.test_groups) & set(self.train_groups + self.val_groups)
        if overlap:
            raise ValueError(f"groups {sorted(overlap)} are both test groups and train/val groups; pick one")
        return self


class Budget(Section):
    """The same for every trained network."""

    max_steps: PositiveInt = 2000
    crop_size: PositiveInt = 128
    batch_size: PositiveInt = 8
    checkpoint_every: NonNegativeInt = 0       # 0: every max_steps // 10 steps (resumable runs)


class Table1(Section):
    pretrained: dict[str, str] = Field(default_factory=dict)  # registry name -> official checkpoint path
    expected: list[str] = Field(default_factory=lambda: list(PAPER_PRETRAINED))

    @field_validator("pretrained")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _check_model_name(name)
        return value


class Table2(Section):
    models: list[ModelRow] = Field(default_factory=lambda: [ModelRow(name="midnet-small"),
                                                            ModelRow(name="nafnet-small")])
    classical: list[Classical] = Field(default_factory=lambda: list(CLASSICAL_METHODS))
    classical_grids: dict[str, dict[str, Any]] = Field(default_factory=dict)  # method -> {param: [values]}
    classical_patches: PositiveInt = 8         # training patches the grid search scores
    classical_patch_size: PositiveInt = 256

    @field_validator("models")
    @classmethod
    def _unique(cls, value: list[ModelRow]) -> list[ModelRow]:
        labels = [m.label for m in value]
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must be unique, got {labels}; give repeated models a 'label'")
        return value

    @field_validator("classical_grids")
    @classmethod
    def _grids(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        unknown = set(value) - set(CLASSICAL_METHODS)
        if unknown:
            raise ValueError(f"unknown methods {sorted(unknown)}; known: {', '.join(CLASSICAL_METHODS)}")
        return value


class Table3(Section):
    model: ModelRow = Field(default_factory=lambda: ModelRow(name="midnet-small"))
    variants: dict[str, LossWeights] = Field(
        default_factory=lambda: {k: LossWeights(**v) for k, v in PAPER_ABLATION.items()})


class Eval(Section):
    device: Literal["cpu", "cuda", "auto"] = "cpu"  # where the test images are restored
    tile: NonNegativeInt | None = None         # as --tile everywhere: None the Deblurrer's default, 0 whole images
    tlc: bool | PositiveInt = False            # NAFNet's test-time local converter: true at the training crop, N at N
    max_images: PositiveInt | None = None      # score at most this many test images


class Timing(Section):
    size: int = Field(default=1024, ge=16)     # square test image for time per megapixel
    repeats: PositiveInt = 1
    cpu: bool = True
    gpu: Literal["auto"] | bool = "auto"       # auto: when CUDA is available
    macs_size: PositiveInt = 256               # MACs are counted for a (1, C, S, S) input


class BenchmarkConfig(Section):
    name: str = "benchmark"
    data: BenchData = Field(default_factory=BenchData)
    budget: Budget = Field(default_factory=Budget)
    training: dict[str, Any] = Field(default_factory=lambda: {
        "loss": {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.01},
        "optim": {"name": "adam", "lr": 1.0e-3, "min_lr": 1.0e-7, "betas": [0.9, 0.999], "grad_clip": 0.5},
        "train": {"seed": 10, "log_every": 10, "accelerator": "auto", "progress_bar": False}})
    tables: list[Literal[1, 2, 3]] = Field(default_factory=lambda: [1, 2, 3])
    table1: Table1 = Field(default_factory=Table1)
    table2: Table2 = Field(default_factory=Table2)
    table3: Table3 = Field(default_factory=Table3)
    eval: Eval = Field(default_factory=Eval)
    timing: Timing = Field(default_factory=Timing)

    @field_validator("training")
    @classmethod
    def _training(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_partial_training(value)

    @field_validator("tables", mode="before")
    @classmethod
    def _tables(cls, value: Any) -> Any:
        if isinstance(value, (int, str)):
            value = [int(t) for t in str(value).split(",") if str(t).strip()]
        if not value:
            raise ValueError("list some of 1, 2, 3")
        return sorted(set(value))

    def updated(self, *sets: str) -> BenchmarkConfig:
        """A copy with dotted ``key=value`` updates applied and validated again."""
        return configs.compose(BenchmarkConfig, None, list(sets), base=self.model_dump(mode="json"))


def load_benchmark_config(ref: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> BenchmarkConfig:
    """Defaults <- config ``ref`` (shipped name or path) <- ``key=value`` overrides, validated."""
    return configs.compose(BenchmarkConfig, ref, overrides)


def dump_config(cfg: BenchmarkConfig, extra: dict[str, Any] | None = None) -> str:
    """The resolved config as YAML (``extra``: sections appended, e.g. the data folders used)."""
    doc = cfg.model_dump(mode="json")
    doc.update(extra or {})
    return yaml.safe_dump(doc, sort_keys=False)
