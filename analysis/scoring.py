"""From answers to scale scores: reverse keying, the missing-data rule, item distributions."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._utils import ITEM_COLUMNS, check_columns

__all__ = ["reverse_key", "scale_scores", "item_distribution", "favourable_shares",
           "common_items", "RESPONSE_COLUMNS"]

#: Columns that describe a response rather than an answer; carried into scale scores.
RESPONSE_COLUMNS = ("response_id", "wave", "wave_kind", "followup_days", "cohort", "linkage_key")


def _with_items(data: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    check_columns(data, ("response_id", "item", "value"))
    check_columns(items, ITEM_COLUMNS, "items")
    if items["item"].duplicated().any():
        raise ValueError("items lists an item code more than once")
    merged = data.merge(items[list(ITEM_COLUMNS)], on="item", how="left")
    unknown = merged.loc[merged["construct"].isna(), "item"].unique()
    if len(unknown):
        raise ValueError(f"answers to items not in the metadata: {', '.join(map(str, unknown))}")
    values = merged["value"]
    off = values.notna() & ((values < merged["scale_min"]) | (values > merged["scale_max"]))
    if off.any():
        raise ValueError(f"{int(off.sum())} answer(s) lie outside their item's scale")
    return merged


def reverse_key(data: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Answers keyed so that a higher value always means more of the construct.

    Parameters
    ----------
    data : DataFrame
        Long answers (see :mod:`analysis`): at least ``response_id``, ``item``, ``value``.
    items : DataFrame
        Item metadata: ``item``, ``construct``, ``reverse_keyed``, ``scale_min``, ``scale_max``.

    Returns
    -------
    DataFrame
        `data` with ``value`` keyed and the item's ``construct`` added.

    Notes
    -----
    For a reverse-keyed item on a scale from :math:`a` to :math:`b`, the keyed value is
    :math:`a + b - x` (on 1-5: 1↔5, 2↔4, 3 stays). Missing values stay missing. Answers to items
    absent from `items`, or outside their scale, raise ValueError.
    """
    merged = _with_items(data, items)
    flip = merged["reverse_keyed"].astype(bool)
    keyed = merged["value"].where(~flip, merged["scale_min"] + merged["scale_max"]
                                  - merged["value"])
    out = data.copy()
    out["value"] = keyed.to_numpy()
    out["construct"] = merged["construct"].to_numpy()
    return out


def scale_scores(data: pd.DataFrame, items: pd.DataFrame, *, min_share: float = 0.8
                 ) -> pd.DataFrame:
    """One score per response and construct: the mean of its keyed, answered items.

    Parameters
    ----------
    data : DataFrame
        Long answers (see :mod:`analysis`).
    items : DataFrame
        Item metadata, which also defines how many items each construct has.
    min_share : float
        Share of a construct's items that must be answered for a score (default 0.8).

    Returns
    -------
    DataFrame
        One row per response and construct: the response columns present in `data`
        (``response_id``, ``wave``, ``wave_kind``, ``followup_days``, ``cohort``,
        ``linkage_key``), then

        * ``construct``
        * ``score``: the mean keyed answer, or NaN under the missing-data rule
        * ``n_answered``: items of the construct answered in this response
        * ``n_items``: items the construct has in `items`

    Notes
    -----
    :math:`S = \\frac{1}{m}\\sum_{j \\in A} x_j` over the set :math:`A` of the :math:`m` answered
    items, when :math:`m / k \\ge` `min_share` for a construct of :math:`k` items; otherwise
    missing (person-mean imputation is equivalent to this mean, and is accepted practice when
    few items are missing; Schafer & Graham 2002). Constructs of which a response answered
    nothing are still listed, with a missing score.

    References
    ----------
    Schafer, J. L., & Graham, J. W. (2002). Missing data: our view of the state of the art.
    *Psychological Methods*, 7(2), 147-177.
    """
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1], not {min_share}")
    keyed = reverse_key(data, items)
    sizes = items.groupby("construct")["item"].size().rename("n_items")
    answered = keyed.dropna(subset=["value"])
    stats = (answered.groupby(["response_id", "construct"], sort=True)["value"]
             .agg(score="mean", n_answered="size"))
    responses = keyed[[c for c in RESPONSE_COLUMNS if c in keyed.columns]].drop_duplicates(
        "response_id")
    constructs = pd.Index(sorted(keyed["construct"].unique()), name="construct")
    grid = pd.MultiIndex.from_product([responses["response_id"], constructs],
                                      names=["response_id", "construct"])
    out = stats.reindex(grid).reset_index().join(sizes, on="construct")
    out["n_answered"] = out["n_answered"].fillna(0).astype(int)
    out.loc[out["n_answered"] < min_share * out["n_items"], "score"] = np.nan
    out = responses.merge(out, on="response_id", how="right")
    return out.reset_index(drop=True)


def item_distribution(data: pd.DataFrame, items: pd.DataFrame, *, by: str = "wave"
                      ) -> pd.DataFrame:
    """How answers to each item spread over its scale, per wave (or another grouping).

    Parameters
    ----------
    data : DataFrame
        Long answers; raw values (as officers answered), not keyed.
    items : DataFrame
        Item metadata.
    by : str
        Column to group by besides the item (default ``"wave"``).

    Returns
    -------
    DataFrame
        One row per `by` value, item and scale point, every point present (zeros included):
        `by`, ``item``, ``construct``, ``reverse_keyed``, ``value``, ``n`` (answers at this point),
        ``n_item`` (answers to the item), ``share`` (n / n_item).

    Notes
    -----
    Missing answers are not counted (``n_item`` counts answers given). ``share`` is NaN when
    nobody answered the item.
    """
    check_columns(data, (by,))
    merged = _with_items(data, items).dropna(subset=["value"])
    merged["value"] = merged["value"].astype(int)
    counts = merged.groupby([by, "item", "value"]).size().rename("n")
    rows = []
    for group in merged[by].drop_duplicates():
        for item in items.itertuples():
            for value in range(int(item.scale_min), int(item.scale_max) + 1):
                rows.append((group, item.item, item.construct, bool(item.reverse_keyed), value))
    grid = pd.DataFrame(rows, columns=[by, "item", "construct", "reverse_keyed", "value"])
    out = grid.join(counts, on=[by, "item", "value"])
    out["n"] = out["n"].fillna(0).astype(int)
    out["n_item"] = out.groupby([by, "item"])["n"].transform("sum")
    out["share"] = out["n"] / out["n_item"].where(out["n_item"] > 0)
    return out


def favourable_shares(data: pd.DataFrame, items: pd.DataFrame, favourable: pd.Series, *,
                      by: str = "wave") -> pd.DataFrame:
    """The share of a scale's answers on its favourable side, at its midpoint and on the other
    side ("% favourable / neutral / unfavourable"), per `by` group and construct.

    Parameters
    ----------
    data : DataFrame
        Long answers; raw values (as officers answered), not keyed.
    items : DataFrame
        Item metadata.
    favourable : Series
        Per construct (the index), the direction the program hopes it moves: ``"higher"`` or
        ``"lower"``; a construct not in it counts as ``"higher"``.
    by : str
        Column to group by besides the construct (default ``"wave"``).

    Returns
    -------
    DataFrame
        One row per `by` value and construct: `by`, ``construct``, ``n`` (respondents with at
        least one answer to the construct), ``n_answers``, ``favourable``, ``neutral``,
        ``unfavourable`` (shares of ``n_answers``, summing to 1).

    Notes
    -----
    Each answer is keyed first (see :func:`reverse_key`), so that a higher value always means
    more of the construct. On a scale from :math:`a` to :math:`b` with midpoint
    :math:`m = (a + b) / 2`, for a construct whose favourable direction is higher,

    .. math:: \\text{favourable} = \\frac{\\#\\{x > m\\}}{N}, \\quad
              \\text{neutral} = \\frac{\\#\\{x = m\\}}{N}, \\quad
              \\text{unfavourable} = \\frac{\\#\\{x < m\\}}{N}

    over the construct's :math:`N` answers (on 1-5: agree or strongly agree is favourable); for
    a construct whose favourable direction is lower the two sides swap. This is the convention
    of employee-survey reports (Culture Amp's "percent favourable", Qualtrics EX and Viva
    Glint alike), which count answers rather than officers: an officer who answered more of
    the scale's statements weighs more.

    Missing data: unanswered statements ("Prefer not to answer") are not counted.
    """
    check_columns(data, (by,))
    keyed = reverse_key(data, items).dropna(subset=["value"])
    meta = items.set_index("item")
    keyed["mid"] = keyed["item"].map((meta["scale_min"] + meta["scale_max"]) / 2)
    lower = keyed["construct"].map(favourable).fillna("higher").eq("lower")
    above, below = keyed["value"] > keyed["mid"], keyed["value"] < keyed["mid"]
    keyed["favourable"] = np.where(lower, below, above)
    keyed["unfavourable"] = np.where(lower, above, below)
    keyed["neutral"] = keyed["value"] == keyed["mid"]
    grouped = keyed.groupby([by, "construct"], sort=True)
    out = grouped[["favourable", "neutral", "unfavourable"]].mean()
    out.insert(0, "n_answers", grouped.size())
    out.insert(0, "n", grouped["response_id"].nunique())
    return out.reset_index()


def common_items(offered: pd.DataFrame, *, by: str = "wave") -> pd.DataFrame:
    """Which items to score so that scales compare like with like across survey versions.

    Parameters
    ----------
    offered : DataFrame
        One row per item each group offered: `by`, ``item``, ``construct``.
    by : str
        The groups compared (waves, or cohorts).

    Returns
    -------
    DataFrame
        One row per construct: ``items`` (the sorted items every group that asked the
        construct offered), ``n_items_all`` (items offered by any such group) and ``changed``
        (True when the groups did not all offer the same items).

    Notes
    -----
    A scale score is the mean of its items (:func:`scale_scores`), so a scale whose items
    changed between versions is only comparable on the items the versions share. A construct
    no group shares an item of gets an empty ``items`` list. Groups that did not ask a
    construct at all do not restrict it.
    """
    check_columns(offered, (by, "item", "construct"), "offered")
    rows = []
    for construct, part in offered.groupby("construct", sort=True):
        sets = [set(g["item"]) for _, g in part.groupby(by)]
        shared = set.intersection(*sets)
        every = set.union(*sets)
        rows.append({"construct": construct, "items": sorted(shared),
                     "n_items_all": len(every), "changed": shared != every})
    return pd.DataFrame(rows, columns=["construct", "items", "n_items_all", "changed"])
