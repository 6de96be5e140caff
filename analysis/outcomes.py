"""Attitudes beside outcomes: do the program's monthly figures move with the pulse's scales?

A deflection program counts referrals, deflections and arrests avoided each month; the agency's
pulse measures attitudes (intention to deflect, the cultural temperature) every few months. The
research asks agencies to put the two side by side. :func:`lagged_correlation` gives the one
figure that can be honest about it: the correlation between a scale's pulse means and a
measure's count some months later, with its interval, and nothing that claims a cause.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._utils import check_columns, check_confidence

#: The fewest pulses a correlation is computed from: Fisher's interval needs n > 3.
MIN_PAIRS = 4


def lagged_correlation(attitudes: pd.DataFrame, outcomes: pd.DataFrame, *,
                       lags=(0, 1, 2, 3), confidence: float = 0.95) -> pd.DataFrame:
    """Pearson correlation of each scale's pulse means with each measure's count ``lag``
    months later, with its Fisher-z interval.

    Parameters
    ----------
    attitudes : pandas.DataFrame
        One row per pulse and scale: ``date`` (when the pulse opened), ``construct`` and
        ``mean``. Withheld or missing means (NaN) are left out.
    outcomes : pandas.DataFrame
        One row per month and measure: ``month`` (any day of the month), ``measure`` and
        ``value`` (the month's count).
    lags : iterable of int
        Months between the pulse and the outcome month: 0 pairs a pulse with the count of the
        month it opened in, 2 with the count two calendar months later. Negative lags look
        back (does a good month precede a warmer pulse?).
    confidence : float
        Confidence level of the interval, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per construct, measure and lag, in that order:

        * ``construct``, ``measure``, ``lag`` (months)
        * ``n``: pulses paired with a month that has a count
        * ``r``: Pearson's correlation of the pairs
        * ``ci_low``, ``ci_high``: tanh(atanh(r) ± z(1 - (1 - confidence)/2) / √(n - 3))
        * ``p_val``: two-sided, from t = r √((n - 2) / (1 - r²)) on n - 2 degrees of freedom

        ``r``, the interval and ``p_val`` are NaN when n < 4 or either side is constant.

    Notes
    -----
    Missing data: a pulse whose mean is missing, or whose lagged month has no count, drops out
    of that row's pairs only. Both series usually drift with time (a program grows while
    attitudes warm), which makes a correlation appear without any link between them and makes
    the pairs' errors correlated, so the interval is narrower than it should be; a correlation
    here is a prompt for a conversation, never proof that one moves the other.

    References
    ----------
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced from
    a small sample. Metron, 1, 3-32. Box, G. E. P., Jenkins, G. M., Reinsel, G. C. & Ljung,
    G. M. (2015). Time Series Analysis (5th ed.), ch. 12 (cross-correlation of two series).
    """
    check_columns(attitudes, ("date", "construct", "mean"), "attitudes")
    check_columns(outcomes, ("month", "measure", "value"), "outcomes")
    check_confidence(confidence)
    lags = [int(lag) for lag in lags]
    columns = ["construct", "measure", "lag", "n", "r", "ci_low", "ci_high", "p_val"]
    scores = attitudes.loc[attitudes["mean"].notna(), ["date", "construct", "mean"]].copy()
    counts = outcomes.loc[outcomes["value"].notna(), ["month", "measure", "value"]].copy()
    if scores.empty or counts.empty:
        return pd.DataFrame(columns=columns)
    scores["period"] = pd.to_datetime(scores["date"]).dt.to_period("M")
    counts["period"] = pd.to_datetime(counts["month"]).dt.to_period("M")
    counts = counts.groupby(["measure", "period"], as_index=False)["value"].sum()
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    rows = []
    for construct, scale in scores.groupby("construct", sort=True):
        for measure, series in counts.groupby("measure", sort=True):
            by_month = series.set_index("period")["value"].astype(float)
            for lag in lags:
                paired = by_month.reindex(scale["period"] + lag).to_numpy()
                keep = ~np.isnan(paired)
                x, y = scale["mean"].to_numpy(float)[keep], paired[keep]
                n = len(x)
                r = low = high = p = np.nan
                if n >= MIN_PAIRS and np.ptp(x) > 0 and np.ptp(y) > 0:
                    r = float(np.corrcoef(x, y)[0, 1])
                    r = float(np.clip(r, -1.0, 1.0))
                    if abs(r) < 1:
                        half = z / np.sqrt(n - 3)
                        low, high = np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half)
                        t = r * np.sqrt((n - 2) / (1 - r * r))
                        p = float(2 * stats.t.sf(abs(t), n - 2))
                    else:
                        low = high = r
                        p = 0.0
                rows.append({"construct": construct, "measure": measure, "lag": lag, "n": n,
                             "r": r, "ci_low": low, "ci_high": high, "p_val": p})
    return pd.DataFrame(rows, columns=columns)
