"""Internal consistency: Cronbach's alpha with its Feldt confidence interval."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._utils import check_confidence
from .scoring import reverse_key

__all__ = ["cronbach_alpha", "scale_alpha"]


def cronbach_alpha(wide: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Cronbach's alpha of a set of items, with its confidence interval.

    Parameters
    ----------
    wide : DataFrame
        One row per respondent, one column per item (keyed in one direction).
    confidence : float
        Confidence level of the interval (default 0.95).

    Returns
    -------
    DataFrame
        One row indexed ``"cronbach_alpha"``: ``n`` (complete rows used), ``k`` (items),
        ``alpha``, ``ci_low``, ``ci_high``.

    Notes
    -----
    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_j s_j^2}{s_T^2}\\right)

    with item variances :math:`s_j^2` and the variance :math:`s_T^2` of the total score, both
    with :math:`n-1` in the denominator. The interval is Feldt's (1965):
    :math:`1-(1-\\alpha)F_{1-\\gamma/2}` to :math:`1-(1-\\alpha)F_{\\gamma/2}`, with
    :math:`F` the quantiles of the F distribution on :math:`n-1` and :math:`(n-1)(k-1)`
    degrees of freedom and :math:`\\gamma = 1 -` confidence.

    Missing data: listwise, so :math:`n` counts complete rows only and the interval uses that
    :math:`n` (pingouin 0.7 uses the row count before deletion; see the tests). Fewer than two
    items raise ValueError; fewer than two complete rows, or no total-score variance, give NaN.

    Checked against pingouin's ``cronbach_alpha`` and the Feldt formula with scipy's F
    quantiles, on pingouin's bundled ``cronbach_alpha`` data set.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16, 297-334. Feldt, L. S. (1965). The approximate sampling distribution of
    Kuder-Richardson reliability coefficient twenty. *Psychometrika*, 30, 357-370.
    """
    check_confidence(confidence)
    return pd.DataFrame([_alpha(np.asarray(wide, dtype=float), confidence)],
                        index=["cronbach_alpha"])


def _alpha(values: np.ndarray, confidence: float) -> dict:
    complete = values[~np.isnan(values).any(axis=1)]
    n, k = complete.shape
    if k < 2:
        raise ValueError("Cronbach's alpha needs at least two items")
    row = {"n": n, "k": k, "alpha": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if n >= 2:
        total_var = complete.sum(axis=1).var(ddof=1)
        if total_var > 0:
            alpha = k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / total_var)
            df1, df2 = n - 1, (n - 1) * (k - 1)
            gamma = 1 - confidence
            row.update(alpha=alpha,
                       ci_low=1 - (1 - alpha) * stats.f.isf(gamma / 2, df1, df2),
                       ci_high=1 - (1 - alpha) * stats.f.isf(1 - gamma / 2, df1, df2))
    return row


def scale_alpha(data: pd.DataFrame, items: pd.DataFrame, *, by: str = "wave",
                confidence: float = 0.95) -> pd.DataFrame:
    """Cronbach's alpha per construct and per `by` group (a wave, by default).

    Parameters
    ----------
    data : DataFrame
        Long answers (see :mod:`analysis`).
    items : DataFrame
        Item metadata; reverse-keyed items are keyed before alpha is computed.
    by : str
        The grouping column (default ``"wave"``).
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        One row per group and construct: `by`, ``construct``, ``n``, ``k``, ``alpha``,
        ``ci_low``, ``ci_high`` (see :func:`cronbach_alpha`).

    Notes
    -----
    Each construct's items are pivoted to one column per item, one row per response; responses
    missing any item of the construct are left out of that construct's alpha (listwise).
    """
    check_confidence(confidence)
    keyed = reverse_key(data, items)
    wide = (keyed.drop_duplicates([by, "response_id", "item"])
            .set_index([by, "response_id", "item"])["value"].unstack("item"))
    present = set(keyed[[by, "construct"]].drop_duplicates().itertuples(index=False, name=None))
    rows = []
    for construct, codes in items.groupby("construct", sort=True)["item"]:
        columns = wide.reindex(columns=list(codes))
        for group, part in columns.groupby(level=by, sort=True):
            if (group, construct) not in present:
                continue
            rows.append({by: group, "construct": construct,
                         **_alpha(part.to_numpy(dtype=float), confidence)})
    out = pd.DataFrame(rows, columns=[by, "construct", "n", "k", "alpha", "ci_low", "ci_high"])
    return out.astype({"n": int, "k": int}).sort_values([by, "construct"], ignore_index=True)
