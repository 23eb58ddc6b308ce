"""`midnet benchmark`: the paper's comparison (Tables 1-3) regenerated on your data and budget.

>>> from midnet.benchmark import load_benchmark_config, run_benchmark
>>> cfg = load_benchmark_config("benchmark-cpu", ["data.root=/data/midnet-sem"])
>>> result = run_benchmark(cfg, "results/benchmark-cpu")   # doctest: +SKIP

Modules: :mod:`~midnet.config.benchmark` (typed configuration),
:mod:`~midnet.benchmark.training_runs` (one `midnet train` run per row, same budget, reuse),
:mod:`~midnet.benchmark.scoring` (every row scored by :mod:`midnet.evaluation`, timing),
:mod:`~midnet.benchmark.report` (Markdown/CSV tables, plot), :mod:`~midnet.benchmark.runner`.
"""

from midnet.config.benchmark import BenchmarkConfig, PAPER_ABLATION, PAPER_PRETRAINED, load_benchmark_config
from midnet.benchmark.runner import BenchmarkResult, load_pretrained, run_benchmark

__all__ = ["BenchmarkConfig", "PAPER_ABLATION", "PAPER_PRETRAINED", "load_benchmark_config", "run_benchmark",
           "BenchmarkResult", "load_pretrained"]
