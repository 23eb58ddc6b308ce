"""Scoring restorations: one rule (:mod:`~midnet.evaluation.scoring`) for every command, and
`midnet evaluate`'s folder report (:mod:`~midnet.evaluation.folder`)."""

from midnet.evaluation.scoring import (DataBar, DisplacementField, EvalPair, Score, data_range_for, load_pair,
                                       mean_score, register_pair, restore, restore_with, score, score_pair,
                                       score_registered)

__all__ = ["DataBar", "DisplacementField", "EvalPair", "Score", "data_range_for", "load_pair", "mean_score",
           "register_pair", "restore", "restore_with", "score", "score_pair", "score_registered"]
