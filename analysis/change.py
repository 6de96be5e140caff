"""Attitude change between two waves: linked pairs, the unlinked remainder, follow-up retention.

Every function takes scale scores (see :func:`analysis.scoring.scale_scores`) and returns one
row per construct. Differences are always *after minus before*.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._utils import check_columns, check_confidence
from .ranks import rank_sum, signed_rank

__all__ = ["paired_change", "unpaired_change", "partially_overlapping_change",
           "linked_vs_unlinked", "change_report", "retention", "adjust_pvalues",
           "hedges_correction"]


def hedges_correction(n_total: float) -> float:
    """Small-sample correction J = 1 - 3 / (4 N - 9), N the total number of observations.

    Hedges & Olkin (1985), as pingouin's ``convert_effsize`` applies it.
    """
    return 1 - 3 / (4 * n_total - 9)


def _effect_ci(d: float, n1: int, n2: int | None, confidence: float) -> tuple[float, float]:
    """Approximate CI of a standardised difference: d ± t(crit, df) · se.

    One sample or paired (n2 None): se = sqrt(1/n + d²/(2n)), df = n - 1; two samples:
    se = sqrt((n1+n2)/(n1 n2) + d²/(2(n1+n2))), df = n1 + n2 - 2 (Hedges & Olkin 1985, p. 86;
    the formulas of pingouin's ``compute_esci``).
    """
    if n2 is None:
        se, dof = np.sqrt(1 / n1 + d ** 2 / (2 * n1)), n1 - 1
    else:
        se = np.sqrt((n1 + n2) / (n1 * n2) + d ** 2 / (2 * (n1 + n2)))
        dof = n1 + n2 - 2
    crit = stats.t.ppf(1 - (1 - confidence) / 2, dof)
    return d - crit * se, d + crit * se


def _wave_scores(scores, wave_col, wave, subject=None):
    part = scores.loc[scores[wave_col] == wave]
    if subject is not None:
        part = part.loc[part[subject].notna()]
        dup = part.duplicated([subject, "construct"])
        if dup.any():
            raise ValueError(f"{subject} appears twice in wave {wave!r}: link responses one-to-one")
    return part


def _pairs(scores: pd.DataFrame, before, after, wave_col: str, subject: str) -> pd.DataFrame:
    """Linked pairs with both scores: `subject`, ``construct``, ``score_before``, ``score_after``.

    Also ``response_id_before`` and ``response_id_after`` when `scores` has ``response_id``.
    """
    keep = [c for c in (subject, "construct", "score", "response_id") if c in scores.columns]
    b = _wave_scores(scores, wave_col, before, subject)[keep]
    a = _wave_scores(scores, wave_col, after, subject)[keep]
    pairs = b.merge(a, on=[subject, "construct"], suffixes=("_before", "_after"))
    return pairs.dropna(subset=["score_before", "score_after"])


def _constructs(scores: pd.DataFrame, constructs) -> list:
    return sorted(scores["construct"].unique()) if constructs is None else list(constructs)


def paired_change(scores: pd.DataFrame, *, before="pre", after="post", wave_col="wave_kind",
                  subject="linkage_key", confidence: float = 0.95, constructs=None
                  ) -> pd.DataFrame:
    """Change within officers whose before and after responses are linked.

    Parameters
    ----------
    scores : DataFrame
        Scale scores: ``construct``, ``score``, `wave_col` and `subject` columns.
    before, after : object
        The values of `wave_col` that mark the two waves (default ``"pre"`` and ``"post"``).
    wave_col : str
        ``"wave_kind"`` (default) or ``"wave"`` to name waves by id.
    subject : str
        The column that links an officer's responses (default ``"linkage_key"``).
    confidence : float
        Confidence level of the intervals.
    constructs : list, optional
        The constructs to report (default: those in `scores`); one absent from `scores` gets
        a row with ``n`` = 0.

    Returns
    -------
    DataFrame
        One row per construct:

        * ``n``: linked pairs with both scores
        * ``mean_before``, ``mean_after``, ``sd_before``, ``sd_after``
        * ``mean_diff``, ``sd_diff``, ``ci_low``, ``ci_high``: mean change and its t interval
        * ``r``: the before-after Pearson correlation
        * ``t``, ``dof``, ``p_val``: paired t-test, two-sided
        * ``w_stat``, ``w_p_val``: Wilcoxon signed-rank test, two-sided
        * ``w_method``: how its p-value was computed, ``"exact"`` or ``"normal approximation,
          tie- and continuity-corrected"`` (``""`` without a test)
        * ``d_z``, ``d_z_ci_low``, ``d_z_ci_high``
        * ``d_av``, ``d_av_ci_low``, ``d_av_ci_high``
        * ``g_av``, ``g_av_ci_low``, ``g_av_ci_high``

    Notes
    -----
    With differences :math:`D_i = A_i - B_i`, :math:`t = \\bar D / (s_D/\\sqrt n)` on
    :math:`n-1` df and the interval :math:`\\bar D \\pm t_{1-\\gamma/2}\\, s_D/\\sqrt n`.

    :math:`d_z = \\bar D / s_D = t/\\sqrt n` (Lakens 2013, eq. 6); its interval uses
    :math:`se = \\sqrt{1/n + d_z^2/(2n)}` with a t quantile on :math:`n-1` df.
    :math:`d_{av} = \\bar D / ((s_B + s_A)/2)` (Lakens 2013, eq. 10), comparable with a
    between-groups d; :math:`g_{av} = d_{av} J` with :math:`J = 1 - 3/(4 \\cdot 2n - 9)`. The
    intervals of :math:`d_{av}` and :math:`g_{av}` both treat the two waves as two samples of
    :math:`n`: :math:`\\pm t_{2n-2}\\, se` with :math:`se = \\sqrt{2/n + d^2/(4n)}` (Hedges & Olkin
    1985, the two-sample formula of pingouin's ``compute_esci``). That ignores the before-after
    correlation, so for :math:`r > 0` and effects of ordinary size these intervals are wider
    than ones that use it (conservative); one method for both keeps them comparable.
    :math:`d_z` exceeds :math:`d_{av}` when :math:`r > .5`: read ``r`` beside them.

    Wilcoxon: :func:`analysis.ranks.signed_rank` on the differences made exact
    (:func:`analysis._utils.exact_values`, so that equal changes are ties), as R's
    ``wilcox.test(paired = TRUE)`` runs it: zero differences dropped; exact when fewer than 50
    differences remain and none is zero or tied, otherwise the normal approximation with the tie
    correction and a continuity correction; the statistic is the smaller of the signed-rank
    sums.

    Missing data: a pair counts for a construct only when both of its scores are present.
    Fewer than two pairs give NaN statistics (the means are still given). Checked against
    scipy's ``ttest_rel`` and pingouin's ``compute_esci`` and ``convert_effsize`` on pingouin's
    bundled data; the Wilcoxon test against exact fractions (tests/analysis/test_ranks.py).

    References
    ----------
    Lakens, D. (2013). Calculating and reporting effect sizes to facilitate cumulative science.
    *Frontiers in Psychology*, 4, 863. Hedges, L. V., & Olkin, I. (1985). *Statistical Methods
    for Meta-Analysis*. Academic Press.
    """
    check_columns(scores, ("construct", "score", wave_col, subject), "scores")
    check_confidence(confidence)
    pairs = _pairs(scores, before, after, wave_col, subject)
    rows = []
    for construct in _constructs(scores, constructs):
        part = pairs.loc[pairs["construct"] == construct]
        rows.append({"construct": construct, **_paired(part["score_before"].to_numpy(float),
                                                       part["score_after"].to_numpy(float),
                                                       confidence)})
    return pd.DataFrame(rows).set_index("construct")


def _paired(x: np.ndarray, y: np.ndarray, confidence: float) -> dict:
    n = len(x)
    diff = y - x
    out = dict.fromkeys(["n", "mean_before", "mean_after", "sd_before", "sd_after", "mean_diff",
                         "sd_diff", "ci_low", "ci_high", "r", "t", "dof", "p_val", "w_stat",
                         "w_p_val", "w_method", "d_z", "d_z_ci_low", "d_z_ci_high", "d_av",
                         "d_av_ci_low", "d_av_ci_high", "g_av", "g_av_ci_low", "g_av_ci_high"],
                        np.nan)
    out.update(n=n, w_method="")
    if n == 0:
        return out
    out.update(mean_before=x.mean(), mean_after=y.mean(), mean_diff=diff.mean())
    if n < 2:
        return out
    sd_b, sd_a, sd_d = x.std(ddof=1), y.std(ddof=1), diff.std(ddof=1)
    out.update(sd_before=sd_b, sd_after=sd_a, sd_diff=sd_d, dof=n - 1)
    se = sd_d / np.sqrt(n)
    crit = stats.t.ppf(1 - (1 - confidence) / 2, n - 1)
    out.update(ci_low=diff.mean() - crit * se, ci_high=diff.mean() + crit * se)
    if sd_b > 0 and sd_a > 0:
        out["r"] = np.corrcoef(x, y)[0, 1]
    if sd_d > 0:
        t = diff.mean() / se
        out.update(t=t, p_val=2 * stats.t.sf(abs(t), n - 1), d_z=diff.mean() / sd_d)
        out["d_z_ci_low"], out["d_z_ci_high"] = _effect_ci(out["d_z"], n, None, confidence)
    out["w_stat"], out["w_p_val"], out["w_method"] = signed_rank(diff)
    if sd_b + sd_a > 0:
        d_av = diff.mean() / ((sd_b + sd_a) / 2)
        g_av = d_av * hedges_correction(2 * n)
        out.update(d_av=d_av, g_av=g_av)
        out["d_av_ci_low"], out["d_av_ci_high"] = _effect_ci(d_av, n, n, confidence)
        out["g_av_ci_low"], out["g_av_ci_high"] = _effect_ci(g_av, n, n, confidence)
    return out


def unpaired_change(scores: pd.DataFrame, *, before="pre", after="post", wave_col="wave_kind",
                    confidence: float = 0.95, constructs=None) -> pd.DataFrame:
    """Change between the before and after waves treated as independent groups.

    Parameters
    ----------
    scores : DataFrame
        Scale scores of the responses to compare (for a partly linked cohort: the unlinked
        remainder, see :func:`change_report`).
    before, after, wave_col, confidence, constructs
        As in :func:`paired_change`.

    Returns
    -------
    DataFrame
        One row per construct: ``n_before``, ``n_after``, ``mean_before``, ``mean_after``,
        ``sd_before``, ``sd_after``, ``mean_diff``, ``ci_low``, ``ci_high`` (Welch interval),
        ``t``, ``dof``, ``p_val`` (Welch's t-test), ``u_stat``, ``u_p_val`` (Mann-Whitney U),
        ``u_method`` (how its p-value was computed, ``"exact"`` or ``"normal approximation, tie-
        and continuity-corrected"``; ``""`` without a test), ``g``, ``g_ci_low``, ``g_ci_high``
        (Hedges' g).

    Notes
    -----
    Welch: :math:`t = (\\bar A - \\bar B)/\\sqrt{s_A^2/n_A + s_B^2/n_B}` with
    Welch-Satterthwaite degrees of freedom
    :math:`\\nu = (s_A^2/n_A + s_B^2/n_B)^2 / \\left(\\frac{(s_A^2/n_A)^2}{n_A-1} +
    \\frac{(s_B^2/n_B)^2}{n_B-1}\\right)`.
    Hedges' g: :math:`d = (\\bar A - \\bar B)/s_p` with the pooled SD
    :math:`s_p = \\sqrt{((n_A-1)s_A^2 + (n_B-1)s_B^2)/(n_A+n_B-2)}`, times
    :math:`J = 1 - 3/(4(n_A+n_B)-9)`; its interval as in pingouin's ``compute_esci``.
    Mann-Whitney U: :func:`analysis.ranks.rank_sum` on the scores made exact, as R's
    ``wilcox.test(after, before)`` runs it: exact when both waves have fewer than 50 scores and
    no score is tied, otherwise the normal approximation with the tie and continuity
    corrections; ``u_stat`` is U of the after wave. Missing scores are dropped. Fewer than two
    scores in a wave give NaN tests.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika*, 34, 28-35. Mann, H. B., & Whitney, D. R.
    (1947). *Ann. Math. Statist.*, 18, 50-60.
    """
    check_columns(scores, ("construct", "score", wave_col), "scores")
    check_confidence(confidence)
    rows = []
    for construct in _constructs(scores, constructs):
        part = scores.loc[(scores["construct"] == construct) & scores["score"].notna()]
        x = part.loc[part[wave_col] == before, "score"].to_numpy(float)
        y = part.loc[part[wave_col] == after, "score"].to_numpy(float)
        rows.append({"construct": construct, **_unpaired(x, y, confidence)})
    return pd.DataFrame(rows).set_index("construct")


def _unpaired(x: np.ndarray, y: np.ndarray, confidence: float) -> dict:
    nx, ny = len(x), len(y)
    out = dict.fromkeys(["n_before", "n_after", "mean_before", "mean_after", "sd_before",
                         "sd_after", "mean_diff", "ci_low", "ci_high", "t", "dof", "p_val",
                         "u_stat", "u_p_val", "u_method", "g", "g_ci_low", "g_ci_high"],
                        np.nan)
    out.update(n_before=nx, n_after=ny, u_method="")
    if nx:
        out["mean_before"] = x.mean()
    if ny:
        out["mean_after"] = y.mean()
    if nx and ny:
        out["mean_diff"] = y.mean() - x.mean()
    if nx < 2 or ny < 2:
        return out
    vx, vy = x.var(ddof=1), y.var(ddof=1)
    out.update(sd_before=np.sqrt(vx), sd_after=np.sqrt(vy))
    se2 = vx / nx + vy / ny
    if se2 > 0:
        dof = se2 ** 2 / ((vx / nx) ** 2 / (nx - 1) + (vy / ny) ** 2 / (ny - 1))
        t = out["mean_diff"] / np.sqrt(se2)
        crit = stats.t.ppf(1 - (1 - confidence) / 2, dof)
        out.update(t=t, dof=dof, p_val=2 * stats.t.sf(abs(t), dof),
                   ci_low=out["mean_diff"] - crit * np.sqrt(se2),
                   ci_high=out["mean_diff"] + crit * np.sqrt(se2))
        pooled = np.sqrt(((nx - 1) * vx + (ny - 1) * vy) / (nx + ny - 2))
        g = out["mean_diff"] / pooled * hedges_correction(nx + ny)
        out["g"] = g
        out["g_ci_low"], out["g_ci_high"] = _effect_ci(g, nx, ny, confidence)
        out["u_stat"], out["u_p_val"], out["u_method"] = rank_sum(y, x)
    return out


def partially_overlapping_change(scores: pd.DataFrame, *, before="pre", after="post",
                                 wave_col="wave_kind", subject="linkage_key",
                                 confidence: float = 0.95, equal_var: bool = False,
                                 constructs=None) -> pd.DataFrame:
    """Change using every response: linked pairs and unlinked responses in one t-test.

    Parameters
    ----------
    scores : DataFrame
        Scale scores of the responses to compare (a cohort's, linked or not).
    before, after, wave_col, subject, confidence, constructs
        As in :func:`paired_change`.
    equal_var : bool
        False (default): Derrick et al.'s :math:`T_{new2}`, which allows the two waves to vary
        differently (Welch-like); True: :math:`T_{new1}` with the pooled variance.

    Returns
    -------
    DataFrame
        One row per construct:

        * ``n_paired``: linked pairs with both scores (:math:`n_c`)
        * ``n_before_only``, ``n_after_only``: the other scored responses of each wave
          (:math:`n_a`, :math:`n_b`)
        * ``mean_before``, ``mean_after``: means over *all* scored responses of each wave
        * ``mean_diff``: after minus before
        * ``r``: Pearson correlation of the pairs (0 when fewer than two pairs or a constant
          side, as the R package sets it)
        * ``se``: the denominator of the statistic
        * ``t``, ``dof``, ``p_val``: the test, two-sided
        * ``ci_low``, ``ci_high``: ``mean_diff`` :math:`\\pm t_{1-\\gamma/2,\\nu}\\, se`

    Notes
    -----
    With :math:`n_1 = n_a + n_c` before scores and :math:`n_2 = n_b + n_c` after scores, their
    means :math:`\\bar x_1, \\bar x_2` and SDs :math:`S_1, S_2` over *all* observations of each
    wave, and :math:`r` the correlation of the :math:`n_c` pairs (Derrick et al. 2017):

    .. math::

        T_{new2} = \\frac{\\bar x_2 - \\bar x_1}{\\sqrt{S_1^2/n_1 + S_2^2/n_2
                   - 2 r S_1 S_2 n_c/(n_1 n_2)}}, \\qquad
        \\nu_2 = (n_c - 1) + \\frac{\\gamma - n_c + 1}{n_a + n_b + 2 n_c}(n_a + n_b),

    with the Welch-Satterthwaite :math:`\\gamma = (S_1^2/n_1 + S_2^2/n_2)^2 /
    \\left(\\frac{(S_1^2/n_1)^2}{n_1-1} + \\frac{(S_2^2/n_2)^2}{n_2-1}\\right)`. With
    ``equal_var``, :math:`T_{new1} = (\\bar x_2 - \\bar x_1) / (S_p\\sqrt{1/n_1 + 1/n_2 -
    2 r n_c/(n_1 n_2)})`, :math:`S_p` the pooled SD, on :math:`\\nu_1 = (n_c - 1) +
    \\frac{n_a + n_b + n_c - 1}{n_a + n_b + 2 n_c}(n_a + n_b)` df. The degrees of freedom are
    those of ``Partover.test`` in the authors' R package ``Partiallyoverlapping`` (2.0). The paper
    and the package write :math:`\\bar x_1 - \\bar x_2`; here the sign is after minus before.

    Without unpaired responses :math:`T_{new2}` is the paired t-test; without pairs it is
    Welch's test (and :math:`T_{new1}` Student's): the tests check both against scipy, the
    formula step by step on pingouin's data, and the package's documented example (p = .026
    with ``var.equal=TRUE``). The R package refuses fewer than two pairs; here fewer than two
    pairs give :math:`r = 0`, which changes nothing when there are none.

    Missing data: a linked officer whose score is missing in one wave, or who is linked in only
    one of the two waves, counts as an unpaired response of the wave where the score is present.
    Fewer than two scores in a wave, or a zero denominator, give NaN statistics.

    References
    ----------
    Derrick, B., Russ, B., Toher, D., & White, P. (2017). Test statistics for the comparison of
    means for two samples that include both paired and independent observations. *Journal of
    Modern Applied Statistical Methods*, 16(1), 137-157. Derrick, B., Toher, D., & White, P.
    (2017). How to compare the means of two samples that include paired observations and
    independent observations: a companion to Derrick, Russ, Toher and White (2017). *The
    Quantitative Methods for Psychology*, 13(2), 120-126.
    """
    check_columns(scores, ("construct", "score", wave_col, subject), "scores")
    check_confidence(confidence)
    pairs = _pairs(scores, before, after, wave_col, subject)
    scored = scores.loc[scores["score"].notna()]
    rows = []
    for construct in _constructs(scores, constructs):
        part = pairs.loc[pairs["construct"] == construct]
        own = scored.loc[scored["construct"] == construct]
        paired = own[subject].isin(part[subject])
        x1 = own.loc[~paired & (own[wave_col] == before), "score"].to_numpy(float)
        x2 = own.loc[~paired & (own[wave_col] == after), "score"].to_numpy(float)
        rows.append({"construct": construct,
                     **_overlap(x1, x2, part["score_before"].to_numpy(float),
                                part["score_after"].to_numpy(float), confidence, equal_var)})
    return pd.DataFrame(rows).set_index("construct")


def _overlap(xa: np.ndarray, xb: np.ndarray, pa: np.ndarray, pb: np.ndarray,
             confidence: float, equal_var: bool) -> dict:
    """Derrick et al.'s test: unpaired before `xa`, unpaired after `xb`, pairs (`pa`, `pb`)."""
    na, nb, nc = len(xa), len(xb), len(pa)
    one, two = np.r_[xa, pa], np.r_[xb, pb]
    n1, n2 = na + nc, nb + nc
    out = dict.fromkeys(["n_paired", "n_before_only", "n_after_only", "mean_before",
                         "mean_after", "mean_diff", "r", "se", "t", "dof", "p_val", "ci_low",
                         "ci_high"], np.nan)
    out.update(n_paired=nc, n_before_only=na, n_after_only=nb)
    if n1:
        out["mean_before"] = one.mean()
    if n2:
        out["mean_after"] = two.mean()
    if n1 and n2:
        out["mean_diff"] = two.mean() - one.mean()
    if n1 < 2 or n2 < 2:
        return out
    r = 0.0
    if nc >= 2 and pa.std() > 0 and pb.std() > 0:
        r = np.corrcoef(pa, pb)[0, 1]
    v1, v2 = one.var(ddof=1), two.var(ddof=1)
    overlap = 2 * r * nc / (n1 * n2)
    if equal_var:
        pooled = ((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2)
        se2 = pooled * (1 / n1 + 1 / n2 - overlap)
    else:
        se2 = v1 / n1 + v2 / n2 - overlap * np.sqrt(v1 * v2)
    out["r"] = r
    if not se2 > 0:  # before the degrees of freedom: with no variance gamma would be 0 / 0
        return out
    if equal_var:
        dof = (nc - 1) + (na + nb + nc - 1) / (na + nb + 2 * nc) * (na + nb)
    else:
        gamma = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
        dof = (nc - 1) + (gamma - nc + 1) / (na + nb + 2 * nc) * (na + nb)
    se = np.sqrt(se2)
    t = out["mean_diff"] / se
    crit = stats.t.ppf(1 - (1 - confidence) / 2, dof)
    out.update(se=se, t=t, dof=dof, p_val=2 * stats.t.sf(abs(t), dof),
               ci_low=out["mean_diff"] - crit * se, ci_high=out["mean_diff"] + crit * se)
    return out


def linked_vs_unlinked(scores: pd.DataFrame, *, before="pre", after="post",
                       wave_col="wave_kind", subject="linkage_key", confidence: float = 0.95,
                       constructs=None) -> pd.DataFrame:
    """Are the linked officers typical? Their before scores against everyone else's.

    Parameters
    ----------
    scores : DataFrame
        One cohort's scale scores.
    before, after, wave_col, subject, confidence, constructs
        As in :func:`paired_change`.

    Returns
    -------
    DataFrame
        One row per construct, comparing the before-wave scores of *linked* officers with those
        of the *unlinked*:

        * ``n_linked``, ``n_unlinked``, ``mean_linked``, ``mean_unlinked``, ``sd_linked``,
          ``sd_unlinked``
        * ``mean_diff``: linked minus unlinked, with ``ci_low``, ``ci_high`` (Welch interval)
        * ``t``, ``dof``, ``p_val``: Welch's t-test, two-sided
        * ``u_stat``, ``u_p_val``, ``u_method``: Mann-Whitney U (``u_stat`` is U of the linked;
          the method as in :func:`unpaired_change`)
        * ``g``, ``g_ci_low``, ``g_ci_high``: Hedges' g, linked minus unlinked
        * ``differs``: the interval excludes 0 (nullable boolean: missing when there is no
          interval)

    Notes
    -----
    *Linked*, for a construct, means exactly the officers :func:`paired_change` counts: a
    linkage key in both waves and a score in both, so ``n_linked`` equals its ``n``. Every other
    before-wave response with a score is *unlinked*: no key, a key not found after, or no after
    score. The statistics are :func:`unpaired_change`'s (Welch; Hedges' g with pingouin's
    interval) with *linked* in place of *after*. Respondents whose codes fail to match differ
    from those that match (Grube et al. 1989: more often male, lower SES, more substance use), so
    a difference here means the paired change describes a particular group of officers, not the
    cohort.

    Checked against scipy's ``ttest_ind(equal_var=False)`` and pingouin's ``compute_effsize``.

    References
    ----------
    Grube, J. W., Morgan, M., & Kearney, K. A. (1989). Using self-generated identification codes
    to match questionnaires in panel studies of adolescent substance use. *Addictive Behaviors*,
    14, 159-171. Welch, B. L. (1947). *Biometrika*, 34, 28-35. Hedges, L. V., & Olkin, I. (1985).
    *Statistical Methods for Meta-Analysis*. Academic Press.
    """
    check_columns(scores, ("construct", "score", wave_col, subject), "scores")
    check_confidence(confidence)
    pairs = _pairs(scores, before, after, wave_col, subject)
    first = scores.loc[(scores[wave_col] == before) & scores["score"].notna()]
    rows = []
    for construct in _constructs(scores, constructs):
        own = first.loc[first["construct"] == construct]
        linked = own[subject].isin(pairs.loc[pairs["construct"] == construct, subject])
        rows.append({"construct": construct,
                     **_unpaired(own.loc[~linked, "score"].to_numpy(float),
                                 own.loc[linked, "score"].to_numpy(float), confidence)})
    out = pd.DataFrame(rows).set_index("construct").rename(columns={
        "n_before": "n_unlinked", "n_after": "n_linked", "mean_before": "mean_unlinked",
        "mean_after": "mean_linked", "sd_before": "sd_unlinked", "sd_after": "sd_linked"})
    out["differs"] = ((out["ci_low"] > 0) | (out["ci_high"] < 0)).astype("boolean")
    out.loc[out["ci_low"].isna(), "differs"] = pd.NA
    return out[["n_linked", "n_unlinked", "mean_linked", "mean_unlinked", "sd_linked",
                "sd_unlinked", "mean_diff", "ci_low", "ci_high", "t", "dof", "p_val", "u_stat",
                "u_p_val", "u_method", "g", "g_ci_low", "g_ci_high", "differs"]]


def adjust_pvalues(p_values, method: str = "holm") -> np.ndarray:
    """Adjust p-values for testing several scales in one report.

    Parameters
    ----------
    p_values : array-like
        Raw p-values; NaN entries are left NaN and not counted.
    method : {"holm", "fdr_bh"}
        Holm's step-down (controls the family-wise error rate; the default used in reports) or
        Benjamini-Hochberg (controls the false discovery rate).

    Returns
    -------
    ndarray
        Adjusted p-values, capped at 1.

    Notes
    -----
    Holm: with the m p-values sorted ascending, :math:`\\tilde p_{(i)} = \\max_{j \\le i}
    \\min(1, (m-j+1) p_{(j)})`. Benjamini-Hochberg: :math:`\\tilde p_{(i)} = \\min_{j \\ge i}
    \\min(1, m p_{(j)}/j)`. Checked against statsmodels' ``multipletests``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J.
    Statist.*, 6, 65-70. Benjamini, Y., & Hochberg, Y. (1995). *J. R. Statist. Soc. B*, 57,
    289-300.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    m = int(valid.sum())
    if m == 0:
        return out
    if np.any((p[valid] < 0) | (p[valid] > 1)):
        raise ValueError("p-values must lie between 0 and 1")
    order = np.argsort(p[valid], kind="stable")
    ranked = p[valid][order]
    i = np.arange(1, m + 1)
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1, (m - i + 1) * ranked))
    elif method == "fdr_bh":
        adjusted = np.minimum.accumulate((np.minimum(1, m * ranked / i))[::-1])[::-1]
    else:
        raise ValueError(f"method must be 'holm' or 'fdr_bh', not {method!r}")
    back = np.empty(m)
    back[order] = adjusted
    out[valid] = back
    return out


def change_report(scores: pd.DataFrame, *, before="pre", after="post", wave_col="wave_kind",
                  subject="linkage_key", confidence: float = 0.95, adjust: str = "holm"
                  ) -> pd.DataFrame:
    """Everything a cohort report says about change between two waves, per construct.

    Parameters
    ----------
    scores : DataFrame
        One cohort's scale scores.
    before, after, wave_col, subject, confidence
        As in :func:`paired_change`.
    adjust : {"holm", "fdr_bh"}
        Multiplicity adjustment across the constructs, within each analysis.

    Returns
    -------
    DataFrame
        Two rows per construct, ``analysis`` = ``"linked"`` (the paired analysis of linked
        officers, columns of :func:`paired_change`) and ``"unlinked"`` (the unpaired analysis of
        the responses not in a linked pair, columns of :func:`unpaired_change`); columns of the
        other analysis are NaN. Added: ``p_adj`` (`adjust`-ed ``p_val`` across constructs, within
        the analysis), ``n_before_all``, ``n_after_all`` (responses with a score in each wave)
        and ``linkage_rate`` (linked pairs / ``n_after_all``).

    Notes
    -----
    Linked officers contribute only to the paired analysis and everyone else only to the
    unpaired one, so no response is counted twice. The linkage rate is the share of the after
    wave's scored responses that could be linked to a before response.
    """
    check_columns(scores, ("construct", "score", wave_col, subject), "scores")
    scored = scores.loc[scores["score"].notna()]
    keys_before = set(scored.loc[scored[wave_col] == before, subject].dropna())
    keys_after = set(scored.loc[scored[wave_col] == after, subject].dropna())
    linked = keys_before & keys_after
    constructs = _constructs(scores, None)
    paired = paired_change(scores.loc[scores[subject].isin(linked)], before=before, after=after,
                           wave_col=wave_col, subject=subject, confidence=confidence,
                           constructs=constructs)
    rest = unpaired_change(scores.loc[~scores[subject].isin(linked)], before=before,
                           after=after, wave_col=wave_col, confidence=confidence,
                           constructs=constructs)
    paired["p_adj"] = adjust_pvalues(paired["p_val"], adjust)
    rest["p_adj"] = adjust_pvalues(rest["p_val"], adjust)
    out = pd.concat([paired.assign(analysis="linked"), rest.assign(analysis="unlinked")])
    counts = scored.groupby(["construct", wave_col]).size().unstack(fill_value=0)
    out["n_before_all"] = counts.get(before, pd.Series(dtype=int)).reindex(out.index).fillna(0)
    out["n_after_all"] = counts.get(after, pd.Series(dtype=int)).reindex(out.index).fillna(0)
    out["linkage_rate"] = out.index.map(paired["n"]) / out["n_after_all"].where(
        out["n_after_all"] > 0)
    out = out.reset_index().set_index(["construct", "analysis"]).sort_index()
    return out


def retention(scores: pd.DataFrame, *, subject="linkage_key", confidence: float = 0.95
              ) -> pd.DataFrame:
    """Does the change last? Post versus each follow-up, for the officers linked across both.

    Parameters
    ----------
    scores : DataFrame
        One cohort's scale scores with ``wave``, ``wave_kind`` and ``followup_days``.
    subject, confidence
        As in :func:`paired_change`.

    Returns
    -------
    DataFrame
        One row per follow-up wave and construct: ``followup_days``, ``wave``, then the columns
        of :func:`paired_change` with *before* = the post wave and *after* = the follow-up, and
        ``p_adj`` (Holm across constructs within each follow-up). A negative ``mean_diff`` on a
        construct where training raised the score means the gain is fading.

    Notes
    -----
    Only officers linked at both post and the follow-up count; as response falls at later
    follow-ups (about 81% at post, 74% at 30 days, 65% at 6 months in Nath et al. 2020), read
    ``n`` beside every figure.
    """
    check_columns(scores, ("wave", "wave_kind", "followup_days"), "scores")
    posts = scores.loc[scores["wave_kind"] == "post", "wave"].unique()
    if len(posts) != 1:
        raise ValueError("retention needs exactly one post wave in the scores")
    followups = (scores.loc[scores["wave_kind"] == "followup", ["wave", "followup_days"]]
                 .drop_duplicates().sort_values("followup_days"))
    parts = []
    for wave, days in followups.itertuples(index=False):
        res = paired_change(scores, before=posts[0], after=wave, wave_col="wave",
                            subject=subject, confidence=confidence)
        res["p_adj"] = adjust_pvalues(res["p_val"])
        parts.append(res.reset_index().assign(followup_days=days, wave=wave))
    if not parts:
        return pd.DataFrame(columns=["followup_days", "wave", "construct"])
    out = pd.concat(parts, ignore_index=True)
    first = ["followup_days", "wave", "construct"]
    return out[first + [c for c in out.columns if c not in first]]
