"""Where an agency stands among similar agencies: the comparison group, its median and middle
half, and the agency's percentile, scale by scale.

Used with published summaries only (each agency's scale means and officers at its latest
closed pulse); nothing here reads answers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["GROUP_LEVELS", "MIN_AGENCIES", "MIN_OFFICERS", "apart", "benchmark",
           "percentile_rank"]

#: The comparison groups tried in turn, narrowest first: a label and the profile facts the
#: group shares with the agency.
GROUP_LEVELS = [("agencies of a similar size in the same census region", ["size_band", "region"]),
                ("agencies of a similar size in any region", ["size_band"]),
                ("every agency in the network", [])]

#: A comparison group is shown only with at least this many other agencies and officers.
MIN_AGENCIES = 5
MIN_OFFICERS = 50


def percentile_rank(values, score: float) -> float:
    """The percentage of `values` below `score`, ties counted half (scipy's
    ``percentileofscore(kind="mean")``):

    .. math:: P = 100 \\cdot \\frac{\\#\\{v < s\\} + \\tfrac12 \\#\\{v = s\\}}{N}

    NaN for no values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values) or score != score:
        return np.nan
    return 100.0 * ((values < score).sum() + 0.5 * (values == score).sum()) / len(values)


def apart(new, past, min_agencies: int = MIN_AGENCIES) -> bool:
    """May group `new` be shown after group `past` was? Only if each holds none, or at least
    `min_agencies`, of the agencies the other lacks: one agency added to or left out of a group
    shown before never tells its figures by subtraction, nor does adding one group to another
    (checking the two differences apart, not their sum, is what stops the second)."""
    new, past = set(new), set(past)
    return all(n == 0 or n >= min_agencies for n in (len(new - past), len(past - new)))


def benchmark(own: pd.DataFrame, others: pd.DataFrame, profile: dict, *,
              levels=GROUP_LEVELS, min_agencies: int = MIN_AGENCIES,
              min_officers: int = MIN_OFFICERS) -> tuple[pd.DataFrame, list]:
    """An agency's benchmark, scale by scale, against the narrowest comparison group that is
    large enough.

    Parameters
    ----------
    own : DataFrame
        This agency's ``construct`` and ``mean``.
    others : DataFrame
        The other agencies' published summaries: ``agency``, ``construct``, ``mean``, ``n``
        (officers behind that mean) and the profile columns the levels name. The agency itself
        must not be in it (it is never in its own comparison group).
    profile : dict
        This agency's profile facts (``size_band``, ``region``, ...).
    levels : list of (label, keys)
        The groups tried in turn (default :data:`GROUP_LEVELS`): the others that share `keys`
        with `profile`; a key the profile lacks rules its level out.
    min_agencies, min_officers : int
        The smallest group shown: agencies, and officers summed over them (each agency's
        officers: the most behind any of its scales).

    Returns
    -------
    table : DataFrame
        One row per construct of `own`: ``construct``, ``group`` (the level's label),
        ``widened`` (not the narrowest level), ``n_agencies``, ``officers`` (rounded down to a
        multiple of 10), ``median``, ``q1``, ``q3`` (the middle half, quantiles by linear
        interpolation, Hyndman and Fan's type 7), ``percentile`` (see :func:`percentile_rank`).
        Empty when no level is large enough.
    members : list
        The agencies in the group.

    Notes
    -----
    The group's members are the agencies that published every scale `own` has, so that each
    scale's figures come from the same agencies. Missing data: a scale this agency has no mean
    for is left out.
    """
    own = own.dropna(subset=["mean"])
    constructs = set(own["construct"])
    columns = ["construct", "group", "widened", "n_agencies", "officers", "median", "q1", "q3",
               "percentile"]
    if not constructs or others.empty:
        return pd.DataFrame(columns=columns), []
    have = others.groupby("agency")["construct"].agg(set)
    complete = others.loc[others["agency"].isin(have.index[have.map(constructs.issubset)])]
    for i, (label, keys) in enumerate(levels):
        if any(profile.get(key) is None for key in keys):
            continue
        group = complete
        for key in keys:
            group = group.loc[group[key] == profile[key]]
        agencies = group["agency"].nunique()
        officers = int(group.groupby("agency")["n"].max().sum()) if agencies else 0
        if agencies >= min_agencies and officers >= min_officers:
            break
    else:
        return pd.DataFrame(columns=columns), []
    rows = []
    for row in own.sort_values("construct").itertuples():
        values = group.loc[group["construct"] == row.construct, "mean"]
        rows.append({"construct": row.construct, "group": label, "widened": i > 0,
                     "n_agencies": agencies, "officers": officers // 10 * 10,
                     "median": values.median(), "q1": values.quantile(0.25),
                     "q3": values.quantile(0.75),
                     "percentile": percentile_rank(values, row.mean)})
    return pd.DataFrame(rows, columns=columns), sorted(group["agency"].unique().tolist())
