"""Checks shared by the analysis functions."""
from __future__ import annotations

import numpy as np
import pandas as pd

LONG_COLUMNS = ("response_id", "wave", "wave_kind", "cohort", "linkage_key", "item", "value")
ITEM_COLUMNS = ("item", "construct", "reverse_keyed", "scale_min", "scale_max")


def check_columns(data: pd.DataFrame, columns, what: str = "data") -> None:
    """Raise ValueError naming the columns `data` lacks."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, not {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(missing)}")


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")


#: Decimals to which :func:`exact_values` rounds.
EXACT_DECIMALS = 9


def exact_values(values) -> np.ndarray:
    """Scale scores, or differences of them, as exact values: equal fractions compare equal.

    A scale score is the mean of m whole-number answers, a fraction with denominator m (sixths
    on a 6-statement scale, fifths when one of them is missing), and a change is the
    difference of two such fractions, with denominator at most :math:`m_1 m_2`. Floating point
    does not keep them exact: an equal change of -1/6 comes out as -0.16666666666666696 for
    one officer and -0.16666666666666652 for another, and a rank test given those floats sees
    two different values where there is one tie, so the ranks, the tie correction and the
    choice between the exact and the approximate distribution are all wrong.

    Rounding to :data:`EXACT_DECIMALS` = 9 decimals makes them exact again, for any scale of up
    to 30 statements: two different fractions with denominators up to 30 x 30 = 900 lie at
    least :math:`1/900^2 \\approx 1.2 \\cdot 10^{-6}` apart, a thousand rounding steps; the
    error of a float mean or difference (about :math:`10^{-15}`) is far below half a step;
    and no such fraction lies on a half step, where rounding could go either way (that would
    need a denominator divisible by :math:`2^{10} = 1024`). Other data (already
    exact, or continuous) keep their order and their ties: only values closer than
    :math:`10^{-9}` become equal.

    Every rank test in :mod:`analysis` (Wilcoxon, Mann-Whitney, Kruskal-Wallis; see
    :mod:`analysis.ranks`) takes its data through this one function.

    Parameters
    ----------
    values : array-like
        Scores or changes; NaN stays NaN.

    Returns
    -------
    ndarray of float
    """
    return np.round(np.asarray(values, dtype=float), EXACT_DECIMALS)
