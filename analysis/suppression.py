"""The minimum group size: no figure for fewer than k officers, directly or by subtraction."""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from itertools import combinations

import numpy as np
import pandas as pd

from ._utils import check_columns

__all__ = ["suppress", "hold_small_changes", "combination_guard", "disclosed_groups", "FLOOR",
           "PRIMARY", "SECONDARY"]

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


def _officers(group, sizes: Mapping, people: Mapping | None) -> int:
    """How many officers a set of atoms holds: atoms with one `people` label are the same
    officers (their answers to different surveys)."""
    if people is None:
        return sum(sizes[a] for a in group)
    largest: dict = {}
    for atom in group:
        label = people.get(atom, ("atom", atom))
        largest[label] = max(largest.get(label, 0), sizes[atom])
    return sum(largest.values())


def _small_sets(sizes: Mapping[Hashable, int], k: int, people: Mapping | None) -> list[tuple]:
    """Every non-empty set of atoms holding 1 to k - 1 officers in all."""
    small = [a for a, n in sizes.items() if 0 < n < k]
    return [t for r in range(1, len(small) + 1) for t in combinations(small, r)
            if _officers(t, sizes, people) < k]


def disclosed_groups(sizes: Mapping[Hashable, int], figures: list[Mapping[Hashable, float]],
                     k: int, *, people: Mapping[Hashable, Hashable] | None = None
                     ) -> set[tuple]:
    """The groups of fewer than `k` responses about which `figures` together say something.

    Parameters
    ----------
    sizes : mapping
        Atom -> number of responses. An *atom* is a set of responses every published figure
        treats alike (for a class: one survey's responses from officers with one pattern of
        linkage across its surveys); the reader is assumed to know every atom's size.
    figures : list of mappings
        Each published figure as a linear function of the atoms' sums of scores,
        atom -> coefficient: a mean over n responses times n is the sum of its atoms (each 1);
        a linked change is the after atoms' sums minus the before atoms' (+1, -1); a difference
        of two means has coefficients 1/n_1 and -1/n_2.
    k : int
        The minimum group size.
    people : mapping, optional
        Atom -> a label shared by atoms that hold the same officers (one officer's answers to
        several surveys). A group's size is its number of officers: the largest atom of each
        label, summed. Default: every atom holds different officers.

    Returns
    -------
    set of tuples
        Each set T of atoms with 1 to k - 1 officers in all for which some combination of the
        figures depends on T's atoms only: it gives T's total away, or (where T has two atoms)
        the difference between two small groups.

    Notes
    -----
    With the figures as the rows of A, a combination supported on T exists exactly when
    :math:`\\dim(\\mathrm{row}(A) \\cap \\mathrm{span}\\{e_a : a \\in T\\}) = \\mathrm{rank}(A) + |T|
    - \\mathrm{rank}([A; E_T]) > 0`. Atoms of k or more responses cannot be in T, so only the
    few small atoms are searched. Non-linear figures (SDs, effect sizes, p values) are not
    modelled here; the report withholds those with their means by its own rules. Atoms of size
    0 are ignored. This is the linear audit of statistical disclosure control (Hundepool et al.
    2012, sec. 4.3, "disclosure by differencing").
    """
    atoms = [a for a, n in sizes.items() if n > 0]
    index = {a: i for i, a in enumerate(atoms)}
    rows = [[0.0] * len(atoms) for _ in figures]
    for row, figure in zip(rows, figures):
        for atom, coefficient in figure.items():
            if atom in index:
                row[index[atom]] = float(coefficient)
    matrix = np.array([r for r in rows if any(r)], dtype=float).reshape(-1, len(atoms))
    if not len(matrix):
        return set()
    rank = np.linalg.matrix_rank(matrix)
    found = set()
    for group in _small_sets(sizes, k, people):
        units = np.zeros((len(group), len(atoms)))
        for j, atom in enumerate(group):
            units[j, index[atom]] = 1.0
        if rank + len(group) - np.linalg.matrix_rank(np.vstack([matrix, units])) > 0:
            found.add(group)
    return found


def combination_guard(sizes: Mapping[Hashable, int], figures: Mapping[Hashable, Mapping],
                      k: int, *, known: list[Mapping] = (),
                      people: Mapping[Hashable, Hashable] | None = None) -> list:
    """The figures to withhold so that no group of 1 to k - 1 responses can be worked out by
    combining the others (with each other and with what is `known`).

    `figures` maps each candidate figure's name to its coefficients, and `people` the atoms to
    their officers (as in :func:`disclosed_groups`), in order of importance: the figures are taken one by one and a
    figure is kept only when, beside those kept before it and the `known` ones (figures
    published earlier, which cannot be taken back), it opens no small group that was not open
    already. Returns the names of the withheld figures, in order.

    Missing data: a figure already withheld by another rule must not be passed in; a response
    without a score is in no atom.
    """
    kept = list(known)
    already = disclosed_groups(sizes, kept, k, people=people)
    withheld = []
    for name, coefficients in figures.items():
        if disclosed_groups(sizes, [*kept, coefficients], k, people=people) - already:
            withheld.append(name)
        else:
            kept.append(coefficients)
    return withheld
