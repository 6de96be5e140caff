"""Comparing cohorts: each cohort's change with its interval, and tests for differences."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._utils import check_columns, exact_values
from .change import paired_change
from .ranks import kruskal_wallis

__all__ = ["cohort_changes", "change_scores", "between_cohorts", "welch_anova"]


def cohort_changes(scores: pd.DataFrame, *, before="pre", after="post", wave_col="wave_kind",
                   subject="linkage_key", confidence: float = 0.95) -> pd.DataFrame:
    """Each cohort's paired change per construct: the rows of a forest plot.

    Parameters
    ----------
    scores : DataFrame
        Scale scores of several cohorts, with a ``cohort`` column.
    before, after, wave_col, subject, confidence
        As in :func:`analysis.change.paired_change`.

    Returns
    -------
    DataFrame
        One row per cohort and construct: ``cohort``, ``construct`` and the columns of
        :func:`analysis.change.paired_change` (``n``, ``mean_diff``, ``ci_low``, ``ci_high``,
        ``d_z``, ``g_av``...).

    Notes
    -----
    Linkage keys are matched within a cohort only.
    """
    check_columns(scores, ("cohort",), "scores")
    parts = [paired_change(part, before=before, after=after, wave_col=wave_col, subject=subject,
                           confidence=confidence).reset_index().assign(cohort=cohort)
             for cohort, part in scores.groupby("cohort", sort=True)]
    if not parts:
        return pd.DataFrame(columns=["cohort", "construct", "n", "mean_diff"])
    out = pd.concat(parts, ignore_index=True)
    return out[["cohort", "construct"] + [c for c in out.columns
                                          if c not in ("cohort", "construct")]]


def change_scores(scores: pd.DataFrame, *, before="pre", after="post", wave_col="wave_kind",
                  subject="linkage_key") -> pd.DataFrame:
    """One change score (after minus before) per linked officer, construct and cohort.

    Returns
    -------
    DataFrame
        ``cohort``, ``construct``, `subject`, ``change``; pairs missing either score are left
        out.
    """
    check_columns(scores, ("cohort", "construct", "score", wave_col, subject), "scores")
    keep = ["cohort", "construct", subject, "score"]
    b = scores.loc[(scores[wave_col] == before) & scores[subject].notna(), keep]
    a = scores.loc[(scores[wave_col] == after) & scores[subject].notna(), keep]
    pairs = b.merge(a, on=["cohort", "construct", subject], suffixes=("_b", "_a"))
    pairs["change"] = pairs["score_a"] - pairs["score_b"]
    return pairs.dropna(subset=["change"])[["cohort", "construct", subject, "change"]]


def welch_anova(groups: list[np.ndarray]) -> tuple[float, float, float, float]:
    """Welch's heteroscedastic one-way ANOVA: (F, df1, df2, p).

    Notes
    -----
    With weights :math:`w_i = n_i/s_i^2`, :math:`\\bar x_w = \\sum w_i \\bar x_i / \\sum w_i`,
    :math:`F = \\frac{\\sum w_i(\\bar x_i - \\bar x_w)^2/(k-1)}{1 + \\frac{2(k-2)}{k^2-1}
    \\sum \\frac{(1 - w_i/\\sum w)^2}{n_i - 1}}` on :math:`k-1` and
    :math:`(k^2-1)/(3\\sum (1-w_i/\\sum w)^2/(n_i-1))` degrees of freedom (Welch 1951).
    """
    k = len(groups)
    n = np.array([len(g) for g in groups], float)
    means = np.array([np.mean(g) for g in groups])
    w = n / np.array([np.var(g, ddof=1) for g in groups])
    mean_w = np.sum(w * means) / w.sum()
    lam = np.sum((1 - w / w.sum()) ** 2 / (n - 1))
    f = (np.sum(w * (means - mean_w) ** 2) / (k - 1)) / (1 + 2 * (k - 2) / (k ** 2 - 1) * lam)
    df2 = (k ** 2 - 1) / (3 * lam)
    return f, k - 1, df2, stats.f.sf(f, k - 1, df2)


def between_cohorts(scores: pd.DataFrame, *, min_n: int = 2, **pairing) -> pd.DataFrame:
    """Do cohorts differ in how much attitudes changed? One row per construct.

    Parameters
    ----------
    scores : DataFrame
        Scale scores of several cohorts.
    min_n : int
        Cohorts with fewer linked officers than this are left out of the tests (pass the
        agency's minimum group size).
    **pairing
        ``before``, ``after``, ``wave_col``, ``subject`` as in :func:`change_scores`.

    Returns
    -------
    DataFrame
        One row per construct: ``k`` (cohorts tested), ``n`` (officers), ``anova_f``,
        ``anova_df1``, ``anova_df2``, ``anova_p_val`` (one-way ANOVA), ``welch_f``,
        ``welch_df1``, ``welch_df2``, ``welch_p_val`` (Welch's ANOVA), ``kruskal_h``,
        ``kruskal_p_val`` (Kruskal-Wallis), ``kruskal_method`` (``"chi-square approximation,
        tie-corrected"``, ``""`` without a test), ``read`` (which test to read, in words).

    Notes
    -----
    The tests compare the change scores of linked officers across cohorts. Read Welch's ANOVA:
    it does not assume cohorts vary equally, which classes of different size and make-up rarely
    do; the classic ANOVA is given for comparison; Kruskal-Wallis when change scores are skewed
    or cohorts small (it compares mean ranks, not means). Kruskal-Wallis runs through
    :func:`analysis.ranks.kruskal_wallis` on the change scores made exact
    (:func:`analysis._utils.exact_values`), so that equal changes are ties, as R's
    ``kruskal.test`` computes it. Fewer than two cohorts give NaN. Checked against scipy's
    ``f_oneway`` and pingouin's ``welch_anova``, and Kruskal-Wallis against exact fractions.

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    *Biometrika*, 38, 330-336. Delacre, M., Leys, C., Mora, Y. L., & Lakens, D. (2019). Taking
    parametric assumptions seriously. *Int. Rev. Soc. Psychol.*, 32(1).
    """
    changes = change_scores(scores, **pairing)
    rows = []
    for construct, part in changes.groupby("construct", sort=True):
        groups = [g["change"].to_numpy() for _, g in part.groupby("cohort", sort=True)
                  if len(g) >= max(min_n, 2)]
        row = {"construct": construct, "k": len(groups), "n": sum(len(g) for g in groups)}
        row.update(dict.fromkeys(["anova_f", "anova_df1", "anova_df2", "anova_p_val", "welch_f",
                                  "welch_df1", "welch_df2", "welch_p_val", "kruskal_h",
                                  "kruskal_p_val"], np.nan), kruskal_method="")
        varied = all(np.var(exact_values(g), ddof=1) > 0 for g in groups)
        if len(groups) >= 2 and varied:
            f = stats.f_oneway(*groups)
            row.update(anova_f=f.statistic, anova_df1=len(groups) - 1,
                       anova_df2=row["n"] - len(groups), anova_p_val=f.pvalue)
            row["welch_f"], row["welch_df1"], row["welch_df2"], row["welch_p_val"] = \
                welch_anova(groups)
            row["kruskal_h"], row["kruskal_p_val"], row["kruskal_method"] = \
                kruskal_wallis(groups)
        row["read"] = ("Welch's ANOVA (does not assume equal spread); Kruskal-Wallis if change "
                       "scores are skewed or cohorts small")
        rows.append(row)
    return pd.DataFrame(rows).set_index("construct") if rows else pd.DataFrame()

