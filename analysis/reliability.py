"""Internal consistency: Cronbach's alpha with its Feldt interval, item-rest correlations, and
which reliability to use for individual reliable change."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._utils import check_columns, check_confidence
from .scoring import reverse_key

__all__ = ["cronbach_alpha", "scale_alpha", "choose_reliability", "item_rest", "scale_check",
           "MIN_ALPHA_N"]


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
    rows = [{by: group, "construct": construct,
             **_alpha(part.to_numpy(dtype=float), confidence)}
            for group, construct, part in _blocks(data, items, by)]
    out = pd.DataFrame(rows, columns=[by, "construct", "n", "k", "alpha", "ci_low", "ci_high"])
    return out.astype({"n": int, "k": int}).sort_values([by, "construct"], ignore_index=True)


def _blocks(data: pd.DataFrame, items: pd.DataFrame, by: str):
    """Yield (group, construct, wide keyed answers: one row per response, one column per item)."""
    check_columns(data, (by,))
    keyed = reverse_key(data, items)
    wide = (keyed.drop_duplicates([by, "response_id", "item"])
            .set_index([by, "response_id", "item"])["value"].unstack("item"))
    present = set(keyed[[by, "construct"]].drop_duplicates().itertuples(index=False, name=None))
    for construct, codes in items.groupby("construct", sort=True)["item"]:
        columns = wide.reindex(columns=list(codes))
        for group, part in columns.groupby(level=by, sort=True):
            if (group, construct) in present:
                yield group, construct, part


#: Complete pre-wave responses needed before a cohort's own alpha is used (see
#: :func:`choose_reliability`).
MIN_ALPHA_N = 50
SOURCES = ("cohort pre-wave alpha", "reference")


def choose_reliability(data: pd.DataFrame, items: pd.DataFrame, reference=None, *,
                       pre="pre", wave_col: str = "wave_kind", min_n: int = MIN_ALPHA_N
                       ) -> pd.DataFrame:
    """The reliability to use for each construct: the cohort's own pre-wave alpha, if stable.

    Parameters
    ----------
    data : DataFrame
        One cohort's long answers (see :mod:`analysis`).
    items : DataFrame
        Item metadata; every construct in it gets a row.
    reference : float, dict or Series, optional
        Reference reliabilities per construct (e.g. the instrument's published alpha), used
        when the cohort's own is not.
    pre : object
        The value of `wave_col` that marks the pre wave (default ``"pre"``).
    wave_col : str
        ``"wave_kind"`` (default) or ``"wave"``.
    min_n : int
        Complete pre-wave responses needed to use the cohort's alpha (default 50).

    Returns
    -------
    DataFrame
        One row per construct (index ``construct``): ``n`` and ``k`` (complete pre-wave
        responses and items), ``alpha`` (the cohort's, with ``ci_low``, ``ci_high``),
        ``reference``, ``reliability`` (the value to use) and ``source``
        (``"cohort pre-wave alpha"``, ``"reference"``, or missing when neither is available).
        Pass it as is to :func:`analysis.reliable_change.reliable_change`.

    Notes
    -----
    The cohort's alpha (:func:`cronbach_alpha`, listwise) is used when at least `min_n`
    responses are complete and :math:`0 \\le \\alpha < 1`; otherwise the reference. Alpha from a
    small sample is unstable: its Feldt 95% interval for :math:`\\alpha = .80` on four items
    spans .56-.93 at n = 15, .65-.90 at n = 30, .69-.88 at n = 50 and .73-.86 at n = 100, and
    the reliable-change threshold grows with :math:`\\sqrt{1 - r_{xx}}`, so across the n = 30
    interval it nearly doubles. The default of 50 keeps the interval's half-width under about
    .1. How large a sample alpha needs also depends on the items' first eigenvalue, short
    scales needing more (Yurdugül 2008). A negative alpha (items that do not hang together) is
    never used.

    References
    ----------
    Feldt, L. S. (1965). *Psychometrika*, 30, 357-370. Yurdugül, H. (2008). Minimum sample size
    for Cronbach's coefficient alpha: a Monte-Carlo study. *Hacettepe Üniversitesi Eğitim
    Fakültesi Dergisi*, 35, 397-405.
    """
    if min_n < 2:
        raise ValueError(f"min_n must be at least 2, not {min_n}")
    check_columns(data, (wave_col,))
    constructs = pd.Index(sorted(items["construct"].unique()), name="construct")
    first = data.loc[data[wave_col] == pre]
    own = (scale_alpha(first, items, by=wave_col).set_index("construct")
           .reindex(constructs)[["n", "k", "alpha", "ci_low", "ci_high"]])
    own["n"] = own["n"].fillna(0).astype(int)
    own["k"] = items.groupby("construct")["item"].size().reindex(constructs)
    if reference is None or np.isscalar(reference):
        own["reference"] = np.nan if reference is None else float(reference)
    else:
        own["reference"] = pd.Series(reference, dtype=float).reindex(constructs)
    usable = (own["n"] >= min_n) & (own["alpha"] >= 0) & (own["alpha"] < 1)
    own["reliability"] = own["alpha"].where(usable, own["reference"])
    own["source"] = pd.Series(np.where(usable, SOURCES[0], SOURCES[1]), index=constructs,
                              dtype=object).where(own["reliability"].notna())
    return own


def _item_rest(values: np.ndarray) -> tuple[int, np.ndarray]:
    """Complete rows and each column's correlation with the sum of the other columns."""
    complete = values[~np.isnan(values).any(axis=1)]
    n, k = complete.shape
    out = np.full(k, np.nan)
    if n < 2 or k < 2:
        return n, out
    rest = complete.sum(axis=1, keepdims=True) - complete
    for j in range(k):
        if complete[:, j].std() > 0 and rest[:, j].std() > 0:
            out[j] = np.corrcoef(complete[:, j], rest[:, j])[0, 1]
    return n, out


def item_rest(data: pd.DataFrame, items: pd.DataFrame, *, by: str = "wave") -> pd.DataFrame:
    """Corrected item-total correlations: does each item still go with the rest of its scale?

    Parameters
    ----------
    data : DataFrame
        Long answers (see :mod:`analysis`).
    items : DataFrame
        Item metadata; reverse-keyed items are keyed first.
    by : str
        The grouping column (default ``"wave"``).

    Returns
    -------
    DataFrame
        One row per group, construct and item: `by`, ``construct``, ``item``, ``n`` (complete
        responses), ``item_rest`` and ``against_scale`` (``item_rest`` < 0; nullable boolean,
        missing when ``item_rest`` is).

    Notes
    -----
    :math:`r_{j,rest} = \\mathrm{corr}(x_j, \\sum_{l \\ne j} x_l)`, the Pearson correlation of
    the keyed item with the sum of the construct's other keyed items (with the mean it is the
    same). A negative value means the item runs against its scale: a reverse-keying mistake, or
    officers reading it differently than intended. Missing data: listwise within the construct,
    the rows :func:`cronbach_alpha` uses. Fewer than two complete rows, or an item or rest score
    without variance, give NaN. Checked against pandas' ``corr`` step by step.

    References
    ----------
    Nunnally, J. C., & Bernstein, I. H. (1994). *Psychometric Theory* (3rd ed.). McGraw-Hill.
    """
    rows = []
    for group, construct, part in _blocks(data, items, by):
        n, r = _item_rest(part.to_numpy(dtype=float))
        rows += [{by: group, "construct": construct, "item": code, "n": n, "item_rest": value}
                 for code, value in zip(part.columns, r)]
    out = pd.DataFrame(rows, columns=[by, "construct", "item", "n", "item_rest"])
    out["against_scale"] = (out["item_rest"] < 0).astype("boolean").where(
        out["item_rest"].notna())
    return out


def scale_check(data: pd.DataFrame, items: pd.DataFrame, *, by: str = "wave",
                alpha_min: float = 0.6, confidence: float = 0.95) -> pd.DataFrame:
    """Does each scale still hang together? Alpha and its items' fit, per group and construct.

    Parameters
    ----------
    data, items, by, confidence
        As in :func:`scale_alpha`.
    alpha_min : float
        Alpha below this is flagged (default 0.6).

    Returns
    -------
    DataFrame
        One row per group and construct: the columns of :func:`scale_alpha`, then
        ``alpha_low`` (alpha < `alpha_min`; nullable boolean, missing without an alpha),
        ``min_item_rest`` (the lowest item-rest correlation), ``n_against`` (items with a
        negative one) and ``items_against`` (their codes, comma-separated; ``""`` if none).

    Notes
    -----
    See :func:`cronbach_alpha` and :func:`item_rest`. The .6 floor is a convention, not a test;
    alpha rises with the number of items (Cortina 1993), so a low alpha on a three-item scale
    says less than on a ten-item one. Compare waves: a scale that hung together before training
    and not after may be read differently after it.

    References
    ----------
    Cortina, J. M. (1993). What is coefficient alpha? An examination of theory and
    applications. *Journal of Applied Psychology*, 78(1), 98-104.
    """
    if not 0 < alpha_min < 1:
        raise ValueError(f"alpha_min must be between 0 and 1, not {alpha_min}")
    out = scale_alpha(data, items, by=by, confidence=confidence)
    fit = item_rest(data, items, by=by)
    against = fit.loc[fit["against_scale"].fillna(False).astype(bool)]
    summary = fit.groupby([by, "construct"]).agg(min_item_rest=("item_rest", "min"))
    summary["n_against"] = against.groupby([by, "construct"]).size().reindex(
        summary.index, fill_value=0)
    summary["items_against"] = against.groupby([by, "construct"])["item"].agg(", ".join)\
        .reindex(summary.index, fill_value="")
    out["alpha_low"] = (out["alpha"] < alpha_min).astype("boolean").where(out["alpha"].notna())
    return out.join(summary, on=[by, "construct"])
