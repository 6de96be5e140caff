"""Individual change: which linked officers changed by more than measurement error allows.

A mean change says nothing about how many officers moved. The reliable change index of Jacobson
and Truax (1991) classifies each linked officer's change as reliably higher, reliably lower or
within measurement error, from the scale's reliability and the spread of the before scores.
Directions stay neutral (*higher* or *lower* on the scale): whether higher is better depends on
the construct, and the caller says which.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._utils import check_columns, check_confidence
from .change import _constructs, _pairs

__all__ = ["reliable_change", "reliable_change_scores", "CHANGE_CATEGORIES"]

#: The three outcomes, in the order the report shows them.
CHANGE_CATEGORIES = ("higher", "none", "lower")
SD_SOURCES = ("linked officers' before scores", "reference")


def _per_construct(values, constructs: list, what: str, required: bool = True) -> pd.Series:
    """A float per construct from a number, a dict or a Series; absent constructs refused when
    `required`, else NaN."""
    if values is None:
        return pd.Series(np.nan, index=pd.Index(constructs, name="construct"), dtype=float)
    if np.isscalar(values):
        return pd.Series(float(values), index=pd.Index(constructs, name="construct"))
    series = pd.Series(values, dtype=float)
    absent = [c for c in constructs if c not in series.index]
    if absent and required:
        raise ValueError(f"{what} gives no value for the construct(s) "
                         f"{', '.join(map(str, absent))}")
    return series.reindex(constructs).rename_axis("construct")


def _reliabilities(reliability, source, constructs: list) -> tuple[pd.Series, pd.Series]:
    if isinstance(reliability, pd.DataFrame):
        check_columns(reliability, ("reliability",), "reliability")
        if source is None and "source" in reliability.columns:
            source = reliability["source"]
        reliability = reliability["reliability"]
    values = _per_construct(reliability, constructs, "reliability")
    bad = values.notna() & ((values < 0) | (values >= 1))
    if bad.any():
        raise ValueError("reliability must lie in [0, 1) for every construct; got "
                         + ", ".join(f"{c}: {v}" for c, v in values[bad].items()))
    if source is None or isinstance(source, str):
        labels = pd.Series(source, index=values.index, dtype=object)
    else:
        labels = pd.Series(source, dtype=object).reindex(constructs)
    return values, labels.rename_axis("construct")


def _parameters(pairs: pd.DataFrame, reliability, source, sd_before, z: float,
                constructs: list) -> pd.DataFrame:
    """Per construct: n, reliability, its source, SD of the before scores, S_diff, threshold."""
    r_xx, labels = _reliabilities(reliability, source, constructs)
    reference = _per_construct(sd_before, constructs, "sd_before", required=False)
    if (reference <= 0).any():
        raise ValueError("sd_before must be positive")
    grouped = pairs.groupby("construct")["score_before"]
    n = grouped.size().reindex(constructs, fill_value=0)
    own_sd = grouped.std(ddof=1).reindex(constructs)
    sd = reference.where(reference.notna(), own_sd)
    se_meas = sd * np.sqrt(1 - r_xx)
    s_diff = np.sqrt(2) * se_meas
    return pd.DataFrame({
        "n": n, "reliability": r_xx, "reliability_source": labels, "sd_before": sd,
        "sd_source": np.where(reference.notna(), SD_SOURCES[1], SD_SOURCES[0]),
        "se_meas": se_meas, "s_diff": s_diff, "z": z, "threshold": z * s_diff,
    }, index=pd.Index(constructs, name="construct"))


def reliable_change_scores(scores: pd.DataFrame, reliability, *, before="pre", after="post",
                           wave_col="wave_kind", subject="linkage_key",
                           confidence: float = 0.95, sd_before=None, constructs=None
                           ) -> pd.DataFrame:
    """Each linked officer's reliable change index, per construct.

    Parameters
    ----------
    scores : DataFrame
        One cohort's scale scores (``construct``, ``score``, `wave_col`, `subject`).
    reliability : float, dict, Series or DataFrame
        The scale's reliability :math:`r_{xx}` per construct: one number for all, a mapping
        construct → value, or the table of
        :func:`analysis.reliability.choose_reliability` (its ``reliability`` and ``source``
        columns). Values must lie in [0, 1); NaN gives NaN results for that construct. A
        construct with no value raises ValueError.
    before, after, wave_col, subject, constructs
        As in :func:`analysis.change.paired_change`.
    confidence : float
        Sets :math:`z = \\Phi^{-1}(1 - (1 - \\text{confidence})/2)`: 1.959964 for 0.95.
    sd_before : float, dict or Series, optional
        A reference SD of before scores per construct (e.g. from a norm sample); constructs
        without one use the SD of the linked officers' before scores (see
        :func:`reliable_change`).

    Returns
    -------
    DataFrame
        One row per linked pair with both scores: ``construct``, `subject`, ``score_before``,
        ``score_after``, ``diff`` (after minus before), ``rci``, ``change`` (``"higher"``,
        ``"none"`` or ``"lower"``; missing when ``rci`` is).

    Notes
    -----
    See :func:`reliable_change` for the formula.
    """
    return _classify(scores, reliability, None, before, after, wave_col, subject, confidence,
                     sd_before, constructs)[0]


def _classify(scores, reliability, source, before, after, wave_col, subject, confidence,
              sd_before, constructs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-officer table and the per-construct parameters."""
    check_columns(scores, ("construct", "score", wave_col, subject), "scores")
    check_confidence(confidence)
    constructs = _constructs(scores, constructs)
    pairs = _pairs(scores, before, after, wave_col, subject)
    pairs = pairs.loc[pairs["construct"].isin(constructs)]
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    params = _parameters(pairs, reliability, source, sd_before, z, constructs)
    out = pairs[["construct", subject, "score_before", "score_after"]].reset_index(drop=True)
    out["diff"] = out["score_after"] - out["score_before"]
    s_diff = out["construct"].map(params["s_diff"])
    out["rci"] = out["diff"] / s_diff.where(s_diff > 0)
    out["change"] = pd.Series(np.select([out["rci"] > z, out["rci"] < -z], ["higher", "lower"],
                                        "none"), dtype=object).where(out["rci"].notna())
    return out.sort_values(["construct", subject], ignore_index=True), params


def reliable_change(scores: pd.DataFrame, reliability, *, before="pre", after="post",
                    wave_col="wave_kind", subject="linkage_key", confidence: float = 0.95,
                    sd_before=None, source=None, constructs=None) -> pd.DataFrame:
    """How many linked officers changed reliably, per construct (Jacobson & Truax 1991).

    Parameters
    ----------
    scores, reliability, before, after, wave_col, subject, confidence, sd_before, constructs
        As in :func:`reliable_change_scores`.
    source : str, dict or Series, optional
        Where each reliability came from (e.g. ``"cohort pre-wave alpha"``, ``"reference"``),
        reported in ``reliability_source``; taken from `reliability` when it is the table of
        :func:`analysis.reliability.choose_reliability`.

    Returns
    -------
    DataFrame
        One row per construct:

        * ``n``: linked pairs with both scores
        * ``reliability``, ``reliability_source``
        * ``sd_before``, ``sd_source`` (``"linked officers' before scores"`` or
          ``"reference"``)
        * ``se_meas``: standard error of measurement
        * ``s_diff``: standard error of a difference
        * ``z``: the critical value used
        * ``threshold``: the smallest reliable change in scale points, :math:`z\\, S_{diff}`
        * ``n_higher``, ``n_none``, ``n_lower``: officers reliably higher after, within error,
          reliably lower (nullable integers)
        * ``share_higher``, ``share_none``, ``share_lower``: the same divided by ``n``

    Notes
    -----
    .. math::

        SE_{meas} = s_{before}\\sqrt{1 - r_{xx}}, \\quad S_{diff} = \\sqrt{2}\\, SE_{meas}, \\quad
        RCI_i = \\frac{x_{after,i} - x_{before,i}}{S_{diff}}

    and an officer changed reliably when :math:`|RCI_i| > z` (1.96 at 95%), that is when the
    change exceeds ``threshold`` = :math:`z S_{diff}` scale points: with :math:`s = 1` and
    :math:`r_{xx} = .80` that is 1.24 points. A change of exactly the threshold is not reliable.

    :math:`s_{before}` is by default the SD of the before scores of the same linked officers
    whose change is classified (needs two pairs), Jacobson & Truax's pre-treatment SD; pass
    `sd_before` to use a reference SD instead, which is steadier in a small cohort.
    :math:`r_{xx}` should come from a sample large enough for a stable estimate: see
    :func:`analysis.reliability.choose_reliability`. Maassen (2004) prefers an error term that
    allows unequal before and after variances; the classic index is kept here because it is
    the one readers know.

    Missing data: only linked pairs with both scores count. Fewer than two pairs (without a
    reference SD), a missing reliability or a zero SD give NaN counts and shares.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical approach to
    defining meaningful change in psychotherapy research. *Journal of Consulting and Clinical
    Psychology*, 59(1), 12-19. Maassen, G. H. (2004). The standard error in the Jacobson and
    Truax Reliable Change Index. *Journal of the International Neuropsychological Society*,
    10(6), 888-893.
    """
    per_officer, out = _classify(scores, reliability, source, before, after, wave_col, subject,
                                 confidence, sd_before, constructs)
    counts = (per_officer.groupby(["construct", "change"]).size().unstack("change")
              .reindex(index=out.index, columns=list(CHANGE_CATEGORIES)).fillna(0))
    valid = out["s_diff"] > 0
    for category in CHANGE_CATEGORIES:
        out[f"n_{category}"] = counts[category].where(valid).astype("Int64")
    for category in CHANGE_CATEGORIES:
        out[f"share_{category}"] = (counts[category].where(valid)
                                    / out["n"].where(out["n"] > 0)).astype(float)
    return out
