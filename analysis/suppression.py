"""The minimum group size: no figure for fewer than k officers, directly or by subtraction."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._utils import check_columns

__all__ = ["suppress", "hold_small_changes", "FLOOR", "PRIMARY", "SECONDARY"]

#: No agency may set its minimum group size below this.
FLOOR = 3
PRIMARY = "fewer than {k} responses"
SECONDARY = "withheld so that a smaller group cannot be worked out by subtraction"


def suppress(table: pd.DataFrame, *, k: int = 5, n: str = "n", values=None, groups=None
             ) -> pd.DataFrame:
    """Withhold every figure that rests on fewer than `k` responses.

    Parameters
    ----------
    table : DataFrame
        One row per group (a cohort, a unit, a wave...) with its size in column `n`.
    k : int
        The agency's minimum group size (default 5; never below 3).
    n : str
        The column holding each row's number of responses.
    values : list of str, optional
        The columns to withhold. Default: every numeric column except `n` and `groups`.
    groups : list of str, optional
        Columns whose values mark rows that together make up a total shown elsewhere (for
        example ``["construct"]`` when the rows are units and the agency's figure per construct
        is shown too). Within each such set, complementary suppression applies.

    Returns
    -------
    DataFrame
        A copy of `table` in which withheld rows have `values` and `n` set to NaN, with
        ``withheld`` (bool) and ``withheld_reason`` (text, empty when shown).

    Notes
    -----
    Primary suppression: a row with :math:`n < k` is withheld. Complementary suppression (the
    practice of survey vendors such as Glint, and of statistical agencies): where rows add up to
    a shown total, a single withheld row could be recovered by subtracting the others from the
    total, and so could the combined figure of several withheld rows whose sizes add up to less
    than :math:`k`. So within each set, while the withheld rows number one, or add up to fewer
    than :math:`k` responses, the smallest shown row is withheld too. A row with a missing `n`
    counts as 0.

    References
    ----------
    Hundepool, A., et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 4 and 5.
    """
    if int(k) < FLOOR:
        raise ValueError(f"the minimum group size cannot be below {FLOOR}")
    check_columns(table, [n, *(groups or [])], "table")
    out = table.copy()
    sizes = out[n].fillna(0)
    if values is None:
        values = [c for c in out.select_dtypes("number").columns
                  if c != n and c not in (groups or [])]
    withheld = sizes < k
    reason = pd.Series(np.where(withheld, PRIMARY.format(k=k), ""), index=out.index, dtype=object)
    if groups:
        for _, part in out.groupby(groups, sort=False, dropna=False):
            members = sizes.loc[part.index].sort_values(kind="stable")
            while True:
                hidden = withheld.loc[members.index]
                if not hidden.any() or hidden.all():
                    break
                if hidden.sum() >= 2 and members[hidden].sum() >= k:
                    break
                nxt = members[~hidden].index[0]
                withheld.loc[nxt] = True
                reason.loc[nxt] = SECONDARY
    out.loc[withheld, list(values) + [n]] = np.nan
    out["withheld"] = withheld.to_numpy()
    out["withheld_reason"] = reason.to_numpy()
    return out


def hold_small_changes(current: pd.DataFrame, previous: pd.DataFrame, *, keys: list[str],
                       k: int = 5, n: str = "n", frozen=()) -> pd.DataFrame:
    """Keep a cell's previously published figures when it changed by fewer than `k` responses.

    Interim snapshots of a survey still open are published one after another; the difference
    between two of them is a group of its own (the sheets that arrived in between). For each
    cell (a row, identified by `keys`) shown in `previous` with ``n_prev`` responses and now
    resting on ``n_now``, the cell's new figures are published only when
    ``n_now - n_prev >= k`` (or unchanged, ``n_now == n_prev``); otherwise the previous row is
    kept whole, so that the difference between any two published versions of a cell covers at
    least k officers or none. Rows whose first key is in `frozen` (a snapshot published too
    recently) keep their previous figures whatever the change.

    Missing data: a cell not in `previous`, or withheld there (``n`` missing), has no published
    figure to subtract from and is returned as computed (it is then subject to :func:`suppress`
    like any other). A cell in `previous` but not in `current` is not added back.

    Returns a copy of `current` with the held rows replaced by their `previous` values (columns
    of `previous` that `current` lacks are ignored) and a boolean column ``held``.
    """
    out = current.copy()
    out["held"] = False
    if previous is None or previous.empty or current.empty:
        return out
    shown = previous.loc[previous[n].notna()].set_index(keys)
    columns = [c for c in out.columns if c in shown.columns and c not in keys]
    for i, row in out.iterrows():
        key = tuple(row[c] for c in keys)
        key = key[0] if len(keys) == 1 else key
        if key not in shown.index:
            continue
        before = shown.loc[key]
        change = row[n] - before[n]
        if change == 0 or (change >= k and (key if len(keys) == 1 else key[0]) not in frozen):
            continue
        for column in columns:
            out.at[i, column] = before[column]
        out.at[i, "held"] = True
    return out
