"""Scoring restorations: one rule (:mod:`~midnet.evaluation.scoring`) for every command, and
`midnet evaluate`'s folder report (:mod:`~midnet.evaluation.folder`)."""

from midnet.evaluation.scoring import (DataBar, EvalPair, Score, data_range_for, load_pair, mean_score, restore,
                                       restore_with, score, score_pair)

__all__ = ["DataBar", "EvalPair", "Score", "data_range_for", "load_pair", "mean_score", "restore", "restore_with",
           "score", "score_pair"]
