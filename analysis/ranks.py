"""Rank tests as R's ``wilcox.test`` and ``kruskal.test`` run them, on exact values.

Every rank test of :mod:`analysis` goes through this module: the data first pass through
:func:`analysis._utils.exact_values`, so that equal scale scores and equal changes are ties, and
the method is then chosen on purpose, by R's rule, and named in the result:

* Wilcoxon signed-rank and Mann-Whitney: the exact distribution when there are no ties (and, for
  the signed-rank test, no zero differences) and every sample has fewer than 50 values;
  otherwise the normal approximation with the tie correction of the variance and a continuity
  correction of 1/2 (R's default ``correct = TRUE``).
* Kruskal-Wallis: the chi-square approximation with the tie correction (R's only method).

scipy's ``method="auto"`` differs: with ties and up to 13 values it runs a permutation test
(seconds of CPU for a report), its exact Mann-Whitney is used only when a sample has at most 8
values, and its Wilcoxon switches to the approximation above 50 values rather than from 50. So
scipy is always called here with the method named.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ._utils import exact_values

__all__ = ["signed_rank", "rank_sum", "kruskal_wallis", "EXACT", "NORMAL", "CHI_SQUARE",
           "EXACT_BELOW"]

#: The methods, as the result columns name them.
EXACT = "exact"
NORMAL = "normal approximation, tie- and continuity-corrected"
CHI_SQUARE = "chi-square approximation, tie-corrected"
#: R's rule: the exact distribution only for samples smaller than this.
EXACT_BELOW = 50


def _clean(values) -> np.ndarray:
    values = exact_values(values)
    return values[~np.isnan(values)]


def signed_rank(diff) -> tuple[float, float, str]:
    """Wilcoxon's signed-rank test of differences against 0, two-sided: (W, p, method).

    Parameters
    ----------
    diff : array-like
        Differences (after minus before); NaN is dropped.

    Returns
    -------
    tuple
        ``W``, the smaller of the two signed-rank sums (scipy's statistic; R's ``V`` is the sum
        of the positive ranks, with the same two-sided p-value), the two-sided p-value, and the
        method that ran (:data:`EXACT` or :data:`NORMAL`). All NaN and ``""`` when
        every difference is zero.

    Notes
    -----
    Zero differences are dropped (Wilcoxon's own rule, R's and scipy's ``zero_method="wilcox"``),
    leaving :math:`n`; :math:`|D_i|` are ranked with average ranks for ties and
    :math:`V = \\sum_{D_i > 0} R_i`. Exact when :math:`n < 50` and there are no ties and no
    zeros: :math:`p = \\min(1, 2\\min(P(V \\le v), P(V \\ge v)))` under the null distribution
    of :math:`V` (each rank's sign equally likely). Otherwise
    :math:`z = (V - n(n+1)/4 - \\tfrac12 \\operatorname{sign}(V - n(n+1)/4)) / \\sigma` with
    :math:`\\sigma^2 = n(n+1)(2n+1)/24 - \\sum_j (t_j^3 - t_j)/48` over the groups of
    :math:`t_j` tied :math:`|D_i|`, and :math:`p = 2\\Phi(-|z|)`: R's ``wilcox.test(x, y,
    paired = TRUE)`` with its defaults.

    References
    ----------
    Wilcoxon, F. (1945). Individual comparisons by ranking methods. *Biometrics Bulletin*, 1(6),
    80-83. Hollander, M., Wolfe, D. A., & Chicken, E. (2014). *Nonparametric Statistical
    Methods* (3rd ed.). Wiley, ch. 3.
    """
    d = _clean(diff)
    zeros = bool(np.any(d == 0))
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return np.nan, np.nan, ""
    ties = len(np.unique(np.abs(d))) < n
    method = EXACT if n < EXACT_BELOW and not ties and not zeros else NORMAL
    res = stats.wilcoxon(d, zero_method="wilcox", correction=True,
                         method="exact" if method == EXACT else "asymptotic")
    return float(res.statistic), float(res.pvalue), method


def rank_sum(x, y) -> tuple[float, float, str]:
    """The Mann-Whitney U (Wilcoxon rank-sum) test of two independent samples: (U, p, method).

    Parameters
    ----------
    x, y : array-like
        The two samples; NaN is dropped.

    Returns
    -------
    tuple
        ``U`` of `x` (the pairs :math:`(x_i, y_j)` with :math:`x_i > y_j`, ties counting 1/2;
        R's ``W``), the two-sided p-value and the method (:data:`EXACT` or :data:`NORMAL`).
        All NaN and ``""`` when a sample is empty.

    Notes
    -----
    :math:`U = R_x - n_x(n_x+1)/2` with :math:`R_x` the sum of `x`'s average ranks in the
    pooled sample. Exact when :math:`n_x < 50`, :math:`n_y < 50` and no value is tied:
    :math:`p = \\min(1, 2\\min(P(U \\le u), P(U \\ge u)))`. Otherwise
    :math:`z = (U - n_x n_y/2 - \\tfrac12\\operatorname{sign}(U - n_x n_y/2))/\\sigma`,
    :math:`\\sigma^2 = \\frac{n_x n_y}{12}\\left(N + 1 - \\frac{\\sum_j (t_j^3 - t_j)}{N(N-1)}
    \\right)`, :math:`N = n_x + n_y`, :math:`p = 2\\Phi(-|z|)`: R's ``wilcox.test(x, y)`` with its
    defaults.

    References
    ----------
    Mann, H. B., & Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. *Ann. Math. Statist.*, 18, 50-60.
    """
    x, y = _clean(x), _clean(y)
    if not len(x) or not len(y):
        return np.nan, np.nan, ""
    ties = len(np.unique(np.r_[x, y])) < len(x) + len(y)
    method = EXACT if max(len(x), len(y)) < EXACT_BELOW and not ties else NORMAL
    res = stats.mannwhitneyu(x, y, use_continuity=True, alternative="two-sided",
                             method="exact" if method == EXACT else "asymptotic")
    return float(res.statistic), float(res.pvalue), method


def kruskal_wallis(groups) -> tuple[float, float, str]:
    """The Kruskal-Wallis test of k independent samples: (H, p, method).

    Parameters
    ----------
    groups : list of array-like
        The samples; NaN is dropped.

    Returns
    -------
    tuple
        ``H`` (tie-corrected), its p-value on :math:`k - 1` df and :data:`CHI_SQUARE`. NaN and
        ``""`` with fewer than two non-empty groups, or when every value is the same.

    Notes
    -----
    With :math:`\\bar R_i` the mean rank of group :math:`i` in the pooled sample of :math:`N`,
    :math:`H = \\frac{12}{N(N+1)}\\sum_i n_i (\\bar R_i - \\tfrac{N+1}{2})^2 \\big/
    \\left(1 - \\frac{\\sum_j (t_j^3 - t_j)}{N^3 - N}\\right)` and
    :math:`p = P(\\chi^2_{k-1} \\ge H)`: R's ``kruskal.test``.

    References
    ----------
    Kruskal, W. H., & Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis.
    *J. Amer. Statist. Assoc.*, 47, 583-621.
    """
    samples = [g for g in (_clean(g) for g in groups) if len(g)]
    if len(samples) < 2 or len(np.unique(np.concatenate(samples))) < 2:
        return np.nan, np.nan, ""
    res = stats.kruskal(*samples)
    return float(res.statistic), float(res.pvalue), CHI_SQUARE
