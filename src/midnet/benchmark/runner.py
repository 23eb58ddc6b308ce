"""`run_benchmark`: the paper's Tables 1-3 regenerated on a paired data set split by source image.

* Table 1 - official pre-trained checkpoints applied to the SEM test images without
  retraining (only those the user points at; nothing is downloaded), plus the blurry input.
* Table 2 - every listed network trained with the same budget on the training groups, then
  parameters, MACs, PSNR/SSIM and inference time; plus the classical methods (fitted on the
  training pairs) and the untouched blurry input.
* Table 3 - MIDNet's loss ablation (L1; L1+edge; L1+FFT; all three) at the same budget.

Results folder::

    OUT/config.yaml           resolved benchmark configuration (and the data folders used)
    OUT/split.json            the protocol and which pairs (source images) are test and train
    OUT/table{1,2,3}.md/.csv  the tables (CSV: full precision)
    OUT/per_image.csv         every method's PSNR/SSIM on every test image
    OUT/psnr_vs_macs.png      Table 2 as PSNR against cost
    OUT/summary.md            all tables with the split, budget and notes
    OUT/runs/<row>/           the `midnet train` run folder of each trained row
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from midnet import models
from midnet.baselines.classical import classical_methods
from midnet.benchmark.report import Column, Table, plot_psnr_vs_macs
from midnet.benchmark.scoring import (METRICS, MethodScore, load_test_images, mean_values, network_timings, resolve_device,
                                      score_deblurrer, score_method, seconds_per_megapixel)
from midnet.benchmark.training_runs import RunCache, training_config
from midnet.config.benchmark import BenchData, BenchmarkConfig, Table2, Timing, dump_config
from midnet.data import find_pair_folders, group_key, list_pairs, split_pairs, to_model_channels
from midnet.data.splits import EACH_FILE_REGEX, random_test_pairs
from midnet.inference.deblurrer import Deblurrer
from midnet.io.atomic import atomic_write_text
from midnet.metrics import count_macs, count_parameters
from midnet.models.checkpoints import read_weights
from midnet.models.zoo_baselines import load_official_weights

Log = Callable[[str], None]

BLURRY = "blurry input"


@dataclass
class BenchmarkResult:
    out: Path
    tables: dict[str, Table] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    missing_pretrained: list[str] = field(default_factory=list)
    scores: list[MethodScore] = field(default_factory=list)


# -- data -----------------------------------------------------------------------------------------

def resolve_data_dirs(data_cfg: BenchData) -> tuple[Path, Path]:
    """(blurry, sharp) folders: ROOT/frames when it holds pairs (and use_frames allows), else ROOT."""
    if data_cfg.root is None:
        raise ValueError("no data: pass --data DIR (a folder with blur/ and sharp/) or set data.root")
    root = Path(data_cfg.root)
    frames = root / "frames"
    use = data_cfg.use_frames
    if use is True or (use == "auto" and (frames / "blur").is_dir() and (frames / "sharp").is_dir()):
        return find_pair_folders(frames)
    return find_pair_folders(root)


@dataclass
class BenchSplit:
    """The benchmark's split under ``data.protocol``, and what training must be kept away from.

    ``holdout`` names the units (``unit_regex`` groups) the training runs exclude: source images
    under ``by-source``, single pairs under ``paper`` (where every file stem is its own unit).
    """

    protocol: str
    subsets: dict[str, list]               # "train", "val", "test" -> ImagePair lists
    holdout: list[str]
    unit_regex: str
    seed: int | None = None

    def document(self, group_regex: str) -> dict[str, Any]:
        """The split as written to ``split.json``: which pairs (and source images) are where."""
        groups = {k: sorted({group_key(p.name, group_regex) for p in v}) for k, v in self.subsets.items()}
        doc: dict[str, Any] = {"protocol": self.protocol, "seed": self.seed, "group_regex": group_regex,
                               "training_excludes": {"unit_regex": self.unit_regex, "units": self.holdout}}
        for subset, pairs in self.subsets.items():
            doc[subset] = {"count": len(pairs), "groups": groups[subset],
                           "pairs": sorted(p.name for p in pairs)}
        # the point of the comparison: source images with crops on both sides
        doc["groups_in_train_and_test"] = sorted(set(groups["train"]) & set(groups["test"]))
        return doc


def split_data(data_cfg: BenchData, input_dir: Path, target_dir: Path) -> BenchSplit:
    """Split the pairs under ``data.protocol`` (``by-source`` or ``paper``)."""
    pairs = list_pairs(input_dir, target_dir, check=True)
    if data_cfg.protocol == "paper":
        return _paper_split(data_cfg, pairs)
    split, excluded = _by_source_split(data_cfg, pairs, input_dir)
    return BenchSplit("by-source", split, excluded, data_cfg.group_regex)


def _paper_split(data_cfg: BenchData, pairs: list) -> BenchSplit:
    """The MIDNet paper's protocol: test pairs drawn at random from all pairs, the rest trained on.

    The default test-set size is what ``test_groups`` hold, so both protocols score the same
    number of images and differ only in which ones."""
    regex = data_cfg.group_regex
    if data_cfg.paper_test_count is not None:
        n_test = data_cfg.paper_test_count
    elif data_cfg.paper_test_fraction is not None:
        n_test = max(1, round(data_cfg.paper_test_fraction * len(pairs)))
    else:
        present = {group_key(p.name, regex) for p in pairs}
        missing = sorted(set(data_cfg.test_groups) - present)
        if missing:
            raise ValueError(f"test groups {missing} not found (they size the paper split's test set); groups "
                             f"present: {sorted(present)}; set data.paper_test_count instead")
        n_test = sum(group_key(p.name, regex) in set(data_cfg.test_groups) for p in pairs)
    test = set(random_test_pairs(pairs, n_test, seed=data_cfg.split_seed))
    subsets = {"train": [p for p in pairs if p.name not in test], "val": [],
               "test": [p for p in pairs if p.name in test]}
    return BenchSplit("paper", subsets, sorted(test), EACH_FILE_REGEX, seed=data_cfg.split_seed)


def _by_source_split(data_cfg: BenchData, pairs: list, input_dir: Path) -> tuple[dict[str, list], list[str]]:
    regex = data_cfg.group_regex
    present = sorted({group_key(p.name, regex) for p in pairs})
    train_groups = data_cfg.train_groups
    missing = sorted(set(train_groups) - set(present))
    if missing:
        raise ValueError(f"{input_dir}: train groups {missing} not found; groups present: {present} "
                         f"(group regex {regex!r}); set data.train_groups")
    split = split_pairs(pairs, val_groups=data_cfg.val_groups, test_groups=data_cfg.test_groups, regex=regex)
    if train_groups:
        keep = set(train_groups)
        split["train"] = [p for p in split["train"] if group_key(p.name, regex) in keep]
    if train_groups:  # everything else (test groups and unlisted ones) stays out of training
        excluded = sorted(set(present) - set(train_groups) - set(data_cfg.val_groups))
    else:
        excluded = sorted(data_cfg.test_groups)
    return split, excluded


def split_groups(data_cfg: BenchData, input_dir: Path, target_dir: Path) -> tuple[dict[str, list], list[str]]:
    """The split and the units training must not see (:func:`split_data`, as a pair)."""
    split = split_data(data_cfg, input_dir, target_dir)
    return split.subsets, split.holdout


def prepare_out(out: Path, *, overwrite: bool, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a folder; choose another --out")
    if out.exists() and any(out.iterdir()) and not (overwrite or resume):
        raise FileExistsError(f"{out}: results folder exists and is not empty; pass --overwrite to regenerate it, "
                              f"--resume to reuse its finished training runs, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    if overwrite:  # results of an earlier invocation must not sit beside the new ones
        for pattern in ("table*.md", "table*.csv", "summary.md", "per_image.csv", "psnr_vs_macs.png"):
            for stale in out.glob(pattern):
                stale.unlink()


# -- model loading ------------------------------------------------------------------------------

def load_pretrained(name: str, path: str | Path) -> nn.Module:
    """An official checkpoint as the registry network ``name``, at the checkpoint's channel count.

    3-channel weights stay 3-channel: a grey SEM image is fed as R = G = B and the outputs are
    averaged (the Deblurrer's channel rule), which for NAFNet equals the registry's exact 3 -> 1
    weight adaptation and for the other networks is the only faithful way to run them.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: checkpoint for {name} not found; download the authors' file and "
                                f"pass --pretrained {name}=PATH")
    if path.suffix in (".safetensors", ".ckpt"):
        return models.load_model(path)
    if models.entry(name).family == "baseline":
        return load_official_weights(models.create(name, in_channels=3), path)
    state, _ = read_weights(path)
    channels = int(state["intro.weight"].shape[1]) if "intro.weight" in state else 3
    return models.create(name, in_channels=channels, checkpoint=path, strict=True)


def _model_cost(model: nn.Module, macs_size: int) -> tuple[float, float]:
    channels = models.in_channels(model)
    return count_parameters(model) / 1e6, count_macs(model, (1, channels, macs_size, macs_size)) / 1e9


# -- the tables ----------------------------------------------------------------------------------

def _metric_columns() -> list[Column]:
    """One column per metric of :data:`~midnet.benchmark.scoring.METRICS` (as captured, registered...)."""
    return [Column(key, title, fmt) for key, (title, fmt) in METRICS.items()]


T1_COLUMNS = [Column("method", "Method"), Column("weights", "Weights"), *_metric_columns(),
              Column("delta_psnr", "ΔPSNR vs input", "{:+.2f}")]
T2_COLUMNS = [Column("method", "Method"), Column("kind", "Kind"), *_metric_columns(),
              Column("params_m", "Params (M)", "{:.3f}"),
              Column("macs_g", "MACs (G)", "{:.2f}"), Column("cpu_s_per_mp", "CPU s/MP", "{:.3f}"),
              Column("gpu_s_per_mp", "GPU s/MP", "{:.4f}"), Column("train_s", "Train (s)", "{:.0f}"),
              Column("notes", "Notes")]
T3_COLUMNS = [Column("variant", "Loss"), Column("l1_weight", "L_d (L1)", "{:g}"),
              Column("edge_weight", "L_e (edge)", "{:g}"), Column("fft_weight", "L_f (FFT)", "{:g}"),
              *_metric_columns(), Column("train_s", "Train (s)", "{:.0f}")]


class _Benchmark:
    def __init__(self, cfg: BenchmarkConfig, out: Path, *, overwrite: bool, resume: bool, log: Log) -> None:
        self.cfg, self.out, self.log = cfg, out, log
        self.result = BenchmarkResult(out)
        self.device = resolve_device(cfg.eval.device)
        self.input_dir, self.target_dir = resolve_data_dirs(cfg.data)
        self.bench_split = split_data(cfg.data, self.input_dir, self.target_dir)
        self.split, self.excluded = self.bench_split.subsets, self.bench_split.holdout
        self._preflight()
        prepare_out(out, overwrite=overwrite, resume=resume)
        resolved = {"input_dir": str(self.input_dir), "target_dir": str(self.target_dir),
                    "train_pairs": [p.name for p in self.split["train"]],
                    "test_pairs": [p.name for p in self.split["test"]],
                    "protocol": self.bench_split.protocol,
                    "kept_out_of_training": {"unit_regex": self.bench_split.unit_regex, "units": self.excluded}}
        self.result.files.append(out / "config.yaml")
        atomic_write_text(out / "config.yaml", dump_config(cfg, {"resolved": resolved}))
        self.result.files.append(out / "split.json")
        atomic_write_text(out / "split.json",
                          json.dumps(self.bench_split.document(cfg.data.group_regex), indent=2) + "\n")
        self.images = load_test_images(self.split["test"], cfg.data.databar_rows,
                                       max_images=cfg.eval.max_images)
        self.runs = RunCache(out / "runs", reuse_existing=resume, log=log)
        self.blurry_scores = score_method(lambda x: x, self.images, BLURRY)
        self.blurry_mean = mean_values(self.blurry_scores)
        self.result.scores += self.blurry_scores

    def _preflight(self) -> None:
        """Build every row's training configuration now, so that a typo in the last row fails
        before the first row has trained for hours."""
        rows = []
        if 2 in self.cfg.tables:
            rows += [(m, None) for m in self.cfg.table2.models]
        if 3 in self.cfg.tables:
            rows += [(self.cfg.table3.model, w) for w in self.cfg.table3.variants.values()]
        for entry, loss in rows:
            try:
                training_config(self.cfg, entry, label=entry.label, input_dir=self.input_dir,
                                 target_dir=self.target_dir, excluded_groups=self.excluded,
                                 group_regex=self.bench_split.unit_regex, loss=loss)
            except ValueError as exc:
                raise ValueError(f"model {entry.label!r}: {exc}") from None

    # common pieces
    def _score_network(self, model: nn.Module, label: str, *, tlc: int | bool) -> dict[str, float]:
        # eager fp32: the reference numbers (compiling every benchmarked model would cost more
        # than it saves); eval.tile as --tile everywhere (None: the Deblurrer's memory budget)
        deblurrer = Deblurrer(model, device=self.device, tlc=tlc, backend="eager", tile=self.cfg.eval.tile)
        scores = score_deblurrer(deblurrer, self.images, label)
        model.to("cpu")
        self.result.scores += scores
        return mean_values(scores)

    def _write(self, table: Table) -> None:
        self.result.tables[table.name] = table
        self.result.files += table.write(self.out)
        self.log(f"wrote {self.out / table.name}.md and .csv")

    def _split_note(self) -> str:
        d = self.cfg.data
        train = sorted({group_key(p.name, d.group_regex) for p in self.split["train"]})
        test = sorted({group_key(p.name, d.group_regex) for p in self.split["test"]})
        if self.bench_split.protocol == "paper":
            shared = sorted(set(train) & set(test))
            protocol = (f"Protocol paper: {len(self.split['test'])} test pairs drawn at random (seed "
                        f"{d.split_seed}) from all {len(self.split['test']) + len(self.split['train'])}, the "
                        f"other {len(self.split['train'])} trained on; source images on both sides: "
                        f"{', '.join(shared) or 'none'} (overlapping crops share pixels). ")
        else:
            protocol = f"Protocol by-source: whole source images held out ({len(self.split['train'])} training pairs). "
        return (protocol + f"Test images: {', '.join(im.name for im in self.images)} (groups {', '.join(test)}); "
                f"training groups: {', '.join(train)}; data: {self.input_dir.parent}. PSNR/SSIM: grey, "
                f"8-bit, data bar rows excluded ({', '.join(str(im.databar_rows) for im in self.images)} rows), "
                f"mean over images; reg. PSNR/SSIM: the same after resampling each restoration by the "
                f"displacement field measured between the pair's two captures (midnet.evaluation.register_pair), "
                f"on the pixels it registers.")

    def _tlc(self, crop: int | None = None) -> int | bool:
        """eval.tlc as a crop size: ``true`` is the crop the network was trained at (``crop``,
        default the budget's), a number is that size, ``false`` is off."""
        tlc = self.cfg.eval.tlc
        if tlc is True:
            return int(crop or self.cfg.budget.crop_size)
        return int(tlc) if tlc else False

    # Table 1
    def table1(self) -> None:
        t1 = self.cfg.table1
        given = dict(t1.pretrained)
        missing = [n for n in t1.expected if n not in given]
        self.result.missing_pretrained = missing
        psnr0 = self.blurry_mean["psnr"]
        table = Table("table1", "Table 1: official pre-trained weights, no retraining", T1_COLUMNS)
        table.rows.append({"method": BLURRY, "weights": "–", **self.blurry_mean, "delta_psnr": 0.0})
        for name, path in given.items():
            self.log(f"table 1: {name} with official weights {path}")
            model = load_pretrained(name, path)
            means = self._score_network(model, f"{name} (pre-trained)", tlc=True if self.cfg.eval.tlc is True else self._tlc())
            table.rows.append({"method": name, "weights": Path(path).name, **means,
                               "delta_psnr": means["psnr"] - psnr0})
            del model
            gc.collect()
        if missing:
            message = (f"official checkpoints not given (rows left out): {', '.join(missing)}; download the "
                       f"authors' files yourself and pass --pretrained NAME=PATH (nothing is downloaded)")
            table.notes.append(message)
        table.notes.append("3-channel weights get the grey image as R = G = B; the three outputs are averaged.")
        table.notes.append(self._split_note())
        self._write(table)

    # Table 2
    def table2(self) -> None:
        t2, timing = self.cfg.table2, self.cfg.timing
        table = Table("table2", "Table 2: networks trained with the same budget, classical methods, input",
                      T2_COLUMNS)
        table.rows.append({"method": BLURRY, "kind": "input", **self.blurry_mean})
        for entry in t2.models:
            label = entry.label
            cfg = training_config(self.cfg, entry, label=label, input_dir=self.input_dir,
                                  target_dir=self.target_dir, excluded_groups=self.excluded,
                                  group_regex=self.bench_split.unit_regex)
            run = self.runs.get(cfg, label)
            table.rows.append(self._network_row(run.weights, label, run.seconds, timing))
        table.rows += self._classical_rows(t2, timing)
        b = self.cfg.budget
        table.notes += [
            f"Budget for every network: {b.max_steps} iterations, crop {b.crop_size}, batch {b.batch_size}, "
            f"loss {self._loss_text(self.cfg.training.get('loss') or {})} unless a model entry overrides it.",
            f"Params and MACs at 1 input channel (grey); MACs for one {timing.macs_size}x"
            f"{timing.macs_size} forward pass (convolutions and matrix products).",
            f"Time: seconds per megapixel restoring a {timing.size}x{timing.size} image "
            f"(eval tile {self.cfg.eval.tile or 'none'}), median of {timing.repeats}; on a shared machine "
            f"compare ratios, not absolute values.",
            "Classical methods: parameters fitted by grid search on patches of the training pairs.",
            self._split_note(),
        ]
        self._write(table)
        plot = plot_psnr_vs_macs(table.rows, self.out / "psnr_vs_macs.png",
                                 title=f"PSNR vs cost ({b.max_steps} iterations, crop {b.crop_size}, "
                                       f"batch {b.batch_size})", macs_size=int(timing.macs_size))
        self.result.files.append(plot)

    def _network_row(self, weights: Path, label: str, train_s: float | None, timing: Timing) -> dict[str, Any]:
        model = models.load_model(weights)
        params_m, macs_g = _model_cost(model, int(timing.macs_size))
        means = self._score_network(model, label, tlc=self._tlc())
        times = network_timings(model, timing, tile=self.cfg.eval.tile)
        del model
        gc.collect()
        return {"method": label, "kind": "network", **means, "params_m": params_m,
                "macs_g": macs_g, **times, "train_s": train_s,
                "notes": "reused finished run" if train_s is None else ""}

    def _classical_rows(self, t2: Table2, timing: Timing) -> list[dict[str, Any]]:
        wanted = list(t2.classical)
        if not wanted:
            return []
        methods = classical_methods(max_patches=int(t2.classical_patches), patch=int(t2.classical_patch_size))
        grids = t2.classical_grids
        unknown = set(grids) - set(methods)
        if unknown:
            raise ValueError(f"table2.classical_grids: unknown methods {sorted(unknown)}; known: {sorted(methods)}")
        pairs = self._training_pairs()
        rows = []
        for name in wanted:
            method = methods[name]
            for param, values in (grids.get(name) or {}).items():
                if param not in method.grid:
                    raise ValueError(f"table2.classical_grids.{name}: no parameter {param!r}; "
                                     f"parameters: {sorted(method.grid)}")
                method.grid[param] = tuple(values if isinstance(values, (list, tuple)) else [values])
            self.log(f"table 2: fitting {name} on {len(pairs)} training images")
            method.fit(pairs)
            scores = score_method(method, self.images, name)
            self.result.scores += scores

            cpu = seconds_per_megapixel(method, size=int(timing.size), repeats=int(timing.repeats)) \
                if timing.cpu else None
            rows.append({"method": name, "kind": "classical", **mean_values(scores), "cpu_s_per_mp": cpu,
                         "notes": method.describe()})
        return rows

    def _training_pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Grey float (blurry, sharp) training images above their data bar, for the classical fits."""
        train_images = load_test_images(self.split["train"], self.cfg.data.databar_rows, register=False)
        out = []
        for im in train_images:
            h = im.blurry.shape[0] - im.databar_rows
            grey = [to_model_channels(a[:h], 1)[0].astype(np.float64) for a in (im.blurry, im.sharp)]
            out.append((grey[0], grey[1]))
        return out

    @staticmethod
    def _loss_text(loss: dict[str, Any]) -> str:
        return " + ".join(f"{loss.get(k, 0):g}·{n}" for k, n in
                          (("l1_weight", "L1"), ("edge_weight", "edge"), ("fft_weight", "FFT")) if loss.get(k))

    # Table 3
    def table3(self) -> None:
        t3 = self.cfg.table3
        entry = t3.model
        table = Table("table3", f"Table 3: loss ablation for {entry.label}", T3_COLUMNS)
        for variant, weights in t3.variants.items():
            loss = weights.model_dump()
            label = f"ablation-{entry.label}-{variant}"
            cfg = training_config(self.cfg, entry, label=label, input_dir=self.input_dir,
                                  target_dir=self.target_dir, excluded_groups=self.excluded,
                                  group_regex=self.bench_split.unit_regex, loss=weights)
            run = self.runs.get(cfg, label)
            model = models.load_model(run.weights)
            means = self._score_network(model, f"{entry.label} {variant}", tlc=self._tlc())
            del model
            gc.collect()
            table.rows.append({"variant": variant, **loss, **means, "train_s": run.seconds})
        b = self.cfg.budget
        table.notes += [f"Every row: {b.max_steps} iterations, crop {b.crop_size}, batch {b.batch_size}; "
                        f"only the loss weights differ. A row whose configuration equals an earlier run "
                        f"reuses it (Train shows –).", self._split_note()]
        self._write(table)

    def summary(self) -> None:
        b = self.cfg.budget
        lines = [f"# Benchmark: {self.cfg.name}", "",
                 f"Data: `{self.input_dir}` / `{self.target_dir}`; budget {b.max_steps} iterations, "
                 f"crop {b.crop_size}, batch {b.batch_size}. Resolved configuration: `config.yaml`.", ""]
        for table in self.result.tables.values():
            lines.append(table.markdown())
        if (self.out / "psnr_vs_macs.png").is_file():
            lines += ["![PSNR versus MACs](psnr_vs_macs.png)", ""]
        atomic_write_text(self.out / "summary.md", "\n".join(lines))
        self.result.files.append(self.out / "summary.md")
        keys = list(METRICS)
        rows = [",".join(["method", "image", *keys])]
        rows += [",".join([_csv(s.method), _csv(s.image), *(repr(s.values[k]) if k in s.values else "" for k in keys)])
                 for s in self.result.scores]
        atomic_write_text(self.out / "per_image.csv", "\n".join(rows) + "\n")
        self.result.files.append(self.out / "per_image.csv")


def _csv(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def run_benchmark(cfg: BenchmarkConfig, out: str | Path, *, overwrite: bool = False, resume: bool = False,
                  log: Log = print) -> BenchmarkResult:
    """Regenerate the tables listed in ``cfg.tables`` into the results folder ``out``."""
    bench = _Benchmark(cfg, Path(out), overwrite=overwrite, resume=resume, log=log)
    psnr0 = bench.blurry_mean["psnr"]
    log(f"{len(bench.images)} test images; blurry input PSNR {psnr0:.2f} dB")
    if 1 in cfg.tables:
        bench.table1()
    if 2 in cfg.tables:
        bench.table2()
    if 3 in cfg.tables:
        bench.table3()
    bench.summary()
    return bench.result


__all__ = ["run_benchmark", "BenchmarkResult", "load_pretrained", "resolve_data_dirs", "split_groups"]
