"""Did it last? Change from before training at every later wave, per cohort and pooled.

:func:`trajectory` gives one cohort's paired change from the pre wave to the post wave and to
each follow-up. :func:`pooled_trajectory` fits one linear mixed model across cohorts, which
also uses officers who missed a wave. Follow-ups at different days are grouped into time points
by :func:`time_points`, so that cohorts line up.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ._utils import check_columns, check_confidence
from .change import _constructs, paired_change

__all__ = ["time_points", "trajectory", "pooled_trajectory", "FOLLOWUP_BINS"]

#: Follow-up time points: (last day, label). Days 1-45 are "about a month" and so on.
FOLLOWUP_BINS = ((45, "follow-up ~1 month"), (135, "follow-up ~3 months"),
                 (270, "follow-up ~6 months"), (540, "follow-up ~1 year"),
                 (np.inf, "follow-up >18 months"))
TRAJECTORY_COLUMNS = ["wave", "wave_kind", "followup_days", "time_point", "construct", "n",
                      "mean_diff", "ci_low", "ci_high", "p_val", "n_responses",
                      "n_responses_pre", "retention"]
POOLED_COLUMNS = ["construct", "time_point", "n", "mean_diff", "se", "ci_low", "ci_high",
                  "p_val", "n_officers", "n_obs", "var_officer", "var_residual", "converged",
                  "fit_warning", "model"]


def time_points(scores: pd.DataFrame, *, bins=FOLLOWUP_BINS) -> pd.Series:
    """Each row's time point: ``"pre"``, ``"post"`` or its follow-up bin; missing for pulses.

    Parameters
    ----------
    scores : DataFrame
        Rows with ``wave_kind`` and ``followup_days``.
    bins : sequence of (float, str)
        Follow-up bins as (last day, label), last days increasing (default
        :data:`FOLLOWUP_BINS`). A follow-up falls in the first bin whose last day it does not
        exceed.

    Returns
    -------
    Series
        An ordered categorical: ``"pre"`` < ``"post"`` < the bin labels in order.

    Notes
    -----
    A follow-up without ``followup_days``, or later than the last bin, raises ValueError.
    """
    check_columns(scores, ("wave_kind", "followup_days"), "scores")
    edges = [float(edge) for edge, _ in bins]
    labels = [label for _, label in bins]
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] < 0:
        raise ValueError("bins must be (last day, label) pairs with increasing last days")
    if len(set(labels) | {"pre", "post"}) != len(labels) + 2:
        raise ValueError("bin labels must be distinct and not 'pre' or 'post'")
    kind = scores["wave_kind"]
    days = scores["followup_days"].where(kind == "followup")
    if (kind == "followup").any() and (days[kind == "followup"].isna().any()
                                       or days.max() > edges[-1]):
        raise ValueError("every follow-up needs followup_days within the last bin")
    index = np.searchsorted(edges, days.fillna(0).to_numpy(float), side="left")
    out = pd.Series(np.array(labels, dtype=object)[np.minimum(index, len(labels) - 1)],
                    index=scores.index, dtype=object).where(kind == "followup")
    out = out.mask(kind.isin(["pre", "post"]), kind)
    return pd.Series(_ordered(out, bins), index=scores.index, name="time_point")


def _ordered(values: pd.Series, bins) -> pd.Categorical:
    return pd.Categorical(values, categories=["pre", "post", *(label for _, label in bins)],
                          ordered=True)


def trajectory(scores: pd.DataFrame, *, subject="linkage_key", confidence: float = 0.95,
               bins=FOLLOWUP_BINS, constructs=None) -> pd.DataFrame:
    """One cohort's change from the pre wave to the post wave and to each follow-up.

    Parameters
    ----------
    scores : DataFrame
        One cohort's scale scores with ``wave``, ``wave_kind`` and ``followup_days``.
    subject, confidence, constructs
        As in :func:`analysis.change.paired_change`.
    bins
        Follow-up time points, as in :func:`time_points`.

    Returns
    -------
    DataFrame
        One row per later wave (post first, then follow-ups by day) and construct:

        * ``wave``, ``wave_kind``, ``followup_days``, ``construct``
        * ``time_point``: the wave's time point (an ordered categorical, see
          :func:`time_points`)
        * ``n``, ``mean_diff``, ``ci_low``, ``ci_high``, ``p_val``: :func:`paired_change`
          from the pre wave to this wave, for officers linked in both
        * ``n_responses``: responses with a score at this wave
        * ``n_responses_pre``: responses with a score at the pre wave
        * ``retention``: ``n_responses`` / ``n_responses_pre``

    Notes
    -----
    Each wave's change uses only the officers linked at pre and at that wave, so the officers
    behind each point differ: read ``n`` and ``retention`` beside each figure (expect about
    81% at post, 74% at 30 days, 65% at 6 months; Nath et al. 2020). The pooled model of
    :func:`pooled_trajectory` keeps officers who missed a wave.

    References
    ----------
    Nath, J. B., et al. (2020). *Cureus*, 12(11), e11312.
    """
    check_columns(scores, ("wave", "wave_kind", "followup_days", "construct", "score"),
                  "scores")
    pre = scores.loc[scores["wave_kind"] == "pre", "wave"].unique()
    if len(pre) != 1:
        raise ValueError("trajectory needs exactly one pre wave in the scores")
    later = scores.loc[scores["wave_kind"].isin(["post", "followup"])].copy()
    later["time_point"] = time_points(later, bins=bins)
    waves = (later[["wave", "wave_kind", "followup_days", "time_point"]]
             .drop_duplicates("wave").sort_values(["time_point", "followup_days", "wave"]))
    counts = scores.loc[scores["score"].notna()].groupby(["wave", "construct"]).size()
    parts = []
    for row in waves.itertuples(index=False):
        res = paired_change(scores, before=pre[0], after=row.wave, wave_col="wave",
                            subject=subject, confidence=confidence, constructs=constructs)
        parts.append(res.reset_index()[["construct", "n", "mean_diff", "ci_low", "ci_high",
                                        "p_val"]].assign(**row._asdict()))
    if not parts:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["time_point"] = _ordered(out["time_point"], bins)
    out["n_responses"] = [counts.get((w, c), 0) for w, c in zip(out["wave"], out["construct"])]
    out["n_responses_pre"] = out["construct"].map(lambda c: counts.get((pre[0], c), 0))
    out["retention"] = out["n_responses"] / out["n_responses_pre"].where(
        out["n_responses_pre"] > 0)
    return out[TRAJECTORY_COLUMNS]


#: The models :func:`pooled_trajectory` fits, as its ``model`` column names them.
MIXED_MODEL = ("Linear mixed model: score ~ {terms}, random intercept per linked officer; REML")
BOUNDARY_MODEL = ("Ordinary least squares: score ~ {terms}, standard errors cluster-robust by "
                  "linked officer (CR1)")
BOUNDARY_NOTE = ("The variance between officers was estimated at zero (a boundary fit), so the "
                 "mixed model reduces to ordinary least squares; its standard errors are made "
                 "robust to the clustering of answers by officer.")


def _model_text(with_cohort: bool, boundary: bool = False) -> str:
    terms = "time point + cohort" if with_cohort else "time point"
    return (BOUNDARY_MODEL if boundary else MIXED_MODEL).format(terms=terms)


def _design(part: pd.DataFrame, with_cohort: bool) -> tuple[np.ndarray, list[str]]:
    """The fixed-effects design: intercept, time dummies (reference t0), cohort dummies."""
    times = sorted(part["time"].unique(), key=lambda t: int(t[1:]))
    columns = [np.ones(len(part))] + [(part["time"] == t).to_numpy(float) for t in times[1:]]
    names = ["Intercept"] + list(times[1:])
    if with_cohort:
        cohorts = sorted(part["cohort"].unique())
        columns += [(part["cohort"] == c).to_numpy(float) for c in cohorts[1:]]
        names += [f"cohort {c}" for c in cohorts[1:]]
    return np.column_stack(columns), names


class _Profile:
    """The REML criterion of a random-intercept model profiled on the variance ratio.

    With :math:`\\gamma = \\tau^2/\\sigma^2`, officer :math:`i`'s :math:`n_i` answers have
    covariance :math:`\\sigma^2 (I + \\gamma J)`, whose inverse is
    :math:`(I - c_i J)/\\sigma^2`, :math:`c_i = \\gamma/(1 + n_i\\gamma)`. So
    :math:`A = X'V^{-1}X\\sigma^2 = X'X - \\sum_i c_i s_i s_i'` from the officers' column sums
    :math:`s_i`, and likewise :math:`X'V^{-1}y` and :math:`y'V^{-1}y`: every evaluation costs
    one pass over officers' sums, never a loop over officers.
    """

    def __init__(self, y: np.ndarray, x: np.ndarray, groups: np.ndarray):
        self.n_obs, self.p = x.shape
        sx = np.zeros((groups.max() + 1, self.p))
        np.add.at(sx, groups, x)
        sy = np.bincount(groups, weights=y)
        # officers with the same column sums (same class, same time points) enter alike: one
        # row per pattern, with its count, its sum of officers' totals and of their squares
        self.sx, pattern, self.count = np.unique(sx, axis=0, return_inverse=True,
                                                 return_counts=True)
        pattern = pattern.ravel()
        self.sizes = self.sx[:, 0]                  # the intercept column: answers per officer
        self.sy = np.bincount(pattern, weights=sy)
        self.syy = np.bincount(pattern, weights=sy ** 2)
        self.xx, self.xy, self.yy = x.T @ x, x.T @ y, y @ y

    def solve(self, gamma: float):
        c = gamma / (1 + self.sizes * gamma)
        a = self.xx - self.sx.T @ ((c * self.count)[:, None] * self.sx)
        b = self.xy - self.sx.T @ (c * self.sy)
        beta = np.linalg.solve(a, b)
        quad = self.yy - c @ self.syy - b @ beta
        return a, beta, quad

    def criterion(self, gamma: float) -> float:
        """-2 REML log-likelihood, up to a constant."""
        a, _, quad = self.solve(gamma)
        return ((self.n_obs - self.p) * np.log(quad)
                + self.count @ np.log1p(self.sizes * gamma) + np.linalg.slogdet(a)[1])


def _cluster_robust(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> tuple:
    """OLS estimates and their CR1 cluster-robust covariance (Liang & Zeger 1986; the small-
    sample factor G/(G-1) (N-1)/(N-p) of Stata and of statsmodels' ``cov_type="cluster"``)."""
    n, p = x.shape
    xx_inv = np.linalg.inv(x.T @ x)
    beta = xx_inv @ (x.T @ y)
    scores = np.zeros((groups.max() + 1, p))
    np.add.at(scores, groups, x * (y - x @ beta)[:, None])
    g = len(scores)
    meat = scores.T @ scores * g / (g - 1) * (n - 1) / (n - p)
    resid = y - x @ beta
    return beta, xx_inv @ meat @ xx_inv, resid @ resid / (n - p)


def _fit(part: pd.DataFrame, with_cohort: bool, confidence: float):
    """Fit the model to one construct; returns (fixed effects by time code, info dict)."""
    empty = pd.DataFrame(columns=["mean_diff", "se", "ci_low", "ci_high", "p_val"])
    info = {"var_officer": np.nan, "var_residual": np.nan, "converged": False,
            "fit_warning": "", "model": _model_text(with_cohort)}
    x, names = _design(part, with_cohort)
    y = part["score"].to_numpy(float)
    groups = pd.factorize(part["officer"])[0]
    rank = np.linalg.matrix_rank(np.unique(x, axis=0))    # dummies: few distinct rows
    if rank < x.shape[1] or len(y) <= x.shape[1]:
        info["fit_warning"] = ("the model could not be fitted: time points and classes cannot "
                               "be told apart in these answers")
        return empty, info
    profile = _Profile(y, x, groups)
    # the variance ratio as rho = gamma / (1 + gamma) in [0, 1): a coarse grid, then Brent's
    # bounded search around its best point; the criterion at rho = 0 decides a boundary fit
    grid = np.linspace(0, 0.999, 50)
    values = [profile.criterion(r / (1 - r)) for r in grid]
    best = int(np.argmin(values))
    if not np.all(np.isfinite(values)):
        info["fit_warning"] = "the model could not be fitted: the answers leave no residual"
        return empty, info
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(lambda r: profile.criterion(r / (1 - r)), bounds=(lo, hi),
                                   method="bounded", options={"xatol": 1e-9, "maxiter": 200})
    if not res.success:
        info["fit_warning"] = f"the REML search did not converge: {res.message}"
        return empty, info
    rho = float(res.x) if res.fun < values[0] else 0.0
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    if rho == 0.0:
        beta, cov, sigma2 = _cluster_robust(y, x, groups)
        info.update(var_officer=0.0, var_residual=sigma2, fit_warning=BOUNDARY_NOTE,
                    model=_model_text(with_cohort, boundary=True))
    else:
        gamma = rho / (1 - rho)
        a, beta, quad = profile.solve(gamma)
        sigma2 = quad / (len(y) - x.shape[1])
        cov = sigma2 * np.linalg.inv(a)
        info.update(var_officer=gamma * sigma2, var_residual=sigma2)
    info["converged"] = True
    se = np.sqrt(np.diag(cov))
    table = pd.DataFrame({"mean_diff": beta, "se": se, "ci_low": beta - z * se,
                          "ci_high": beta + z * se,
                          "p_val": 2 * stats.norm.sf(np.abs(beta / se))}, index=names)
    return table.loc[[n for n in names if n.startswith("t")]], info


def pooled_trajectory(scores: pd.DataFrame, *, subject="linkage_key", cohort: bool = True,
                      bins=FOLLOWUP_BINS, confidence: float = 0.95, constructs=None
                      ) -> pd.DataFrame:
    """Change from pre at each time point, pooled across cohorts by a linear mixed model.

    Parameters
    ----------
    scores : DataFrame
        Scale scores of one or more cohorts: ``construct``, ``score``, ``wave_kind``,
        ``followup_days``, `subject` and, for several cohorts, ``cohort``.
    subject : str
        The linkage key (default ``"linkage_key"``); keys are matched within a cohort.
    cohort : bool
        Add the cohort as a fixed effect (default True; ignored with a single cohort).
    bins
        Follow-up time points, as in :func:`time_points`.
    confidence : float
        Confidence level of the intervals.
    constructs : list, optional
        The constructs to model (default: those in `scores`).

    Returns
    -------
    DataFrame
        One row per construct and later time point present:

        * ``construct``, ``time_point`` (an ordered categorical, see :func:`time_points`)
        * ``n``: officers with a score at this time point
        * ``mean_diff``, ``se``, ``ci_low``, ``ci_high``, ``p_val``: the estimated change from
          pre (the time point's fixed effect) with its Wald interval and z-test
        * ``n_officers``, ``n_obs``: officers and observations in the model
        * ``var_officer``, ``var_residual``: the variance components :math:`\\tau^2`,
          :math:`\\sigma^2`
        * ``converged``: False when the model could not be fitted (time points and classes
          confounded, or no residual left) or the search for the variance did not converge;
          the estimates are then NaN, so that none from a failed fit can be shown
        * ``fit_warning``: one sentence on how the fit went, ``""`` for an ordinary fit; a
          boundary fit says so (:data:`BOUNDARY_NOTE`)
        * ``model``: the model that gave the estimates, in words, to print under the chart:
          the mixed model, or for a boundary fit ordinary least squares with cluster-robust
          standard errors

    Notes
    -----
    For officer :math:`i` of cohort :math:`c` at time point :math:`t`,

    .. math:: y_{ict} = \\mu + \\beta_t + \\gamma_c + u_i + \\varepsilon_{ict}, \\quad
              u_i \\sim N(0, \\tau^2), \\; \\varepsilon \\sim N(0, \\sigma^2)

    with :math:`\\beta_{pre} = 0`, so :math:`\\beta_t` is the change from pre, assumed the same
    in every cohort (no time × cohort interaction); :math:`\\gamma_c` (cohort fixed effects)
    absorbs cohorts' different starting points, so that a time point reached only by some
    cohorts is not biased by who they are.

    Fitted by REML profiled on the one variance ratio :math:`\\lambda = \\tau^2/\\sigma^2`:
    :math:`-2\\ell_R(\\lambda) = (N-p)\\log\\hat\\sigma^2_\\lambda + \\sum_i \\log(1 + n_i\\lambda)
    + \\log|X'W_\\lambda^{-1}X|` with :math:`W_\\lambda = V/\\sigma^2`, computed from officers'
    sums (no loop over officers), searched over :math:`\\rho = \\lambda/(1+\\lambda)` on a grid
    of 50 points in [0, .999], then by Brent's bounded method (at most 200 steps) around the
    best: the work is bounded, whatever the data. Fixed effects
    :math:`\\hat\\beta = (X'W^{-1}X)^{-1}X'W^{-1}y`, their covariance
    :math:`\\hat\\sigma^2 (X'W^{-1}X)^{-1}` as R's ``nlme`` and ``lme4`` give it; intervals
    and p-values are Wald (normal), slightly narrow for few officers.

    Boundary fits: when the criterion is smallest at :math:`\\tau^2 = 0` (officers' answers at
    different time points no more alike than anyone's; statsmodels' ``MixedLM`` spends seconds
    there and ends with a convergence warning), the REML estimates of the fixed effects are
    those of ordinary least squares, and the model-based errors would assume independent
    answers. The estimates shown are then OLS with CR1 cluster-robust standard errors by
    officer (Liang & Zeger 1986; the small-sample factor :math:`\\frac{G}{G-1}\\frac{N-1}{N-p}`
    of statsmodels' ``cov_type="cluster"``), ``model`` names that model and ``fit_warning``
    says why in one sentence.

    Missing data: every scored response with a linkage key counts, including officers seen at
    only some time points; the likelihood then assumes missing waves are missing at random given
    the scores observed, weaker than the complete-pairs rule of :func:`trajectory`. Responses
    without a key and pulse waves are left out. For a balanced design (every officer at every
    time point) the estimates equal the differences of time-point means and the variance
    components equal the repeated-measures ANOVA estimates; the tests check both, an unbalanced
    fit against statsmodels' ``MixedLM`` and a dense-matrix likelihood, and a boundary fit
    against statsmodels' cluster-robust OLS.

    References
    ----------
    Laird, N. M., & Ware, J. H. (1982). Random-effects models for longitudinal data.
    *Biometrics*, 38(4), 963-974. Liang, K.-Y., & Zeger, S. L. (1986). Longitudinal data
    analysis using generalized linear models. *Biometrika*, 73(1), 13-22.
    """
    check_columns(scores, ("construct", "score", "wave_kind", "followup_days", subject),
                  "scores")
    check_confidence(confidence)
    used = scores.loc[scores["wave_kind"].isin(["pre", "post", "followup"])
                      & scores[subject].notna() & scores["score"].notna()].copy()
    used["time_point"] = time_points(used, bins=bins)
    has_cohort = "cohort" in used.columns
    used["cohort"] = used["cohort"].astype(str) if has_cohort else "all"
    used["officer"] = used["cohort"] + "\x1f" + used[subject].astype(str)
    rows = []
    for construct in _constructs(scores, constructs):
        part = used.loc[used["construct"] == construct]
        rows += _pooled_rows(construct, part, cohort and part["cohort"].nunique() > 1,
                             confidence)
    out = pd.DataFrame(rows, columns=POOLED_COLUMNS)
    out["time_point"] = _ordered(out["time_point"], bins)
    return out


def _pooled_rows(construct, part: pd.DataFrame, with_cohort: bool, confidence: float) -> list:
    levels = [t for t in part["time_point"].cat.categories if (part["time_point"] == t).any()]
    if "pre" not in levels or len(levels) < 2:
        return []
    codes = {level: f"t{i}" for i, level in enumerate(levels)}
    part = part.assign(time=part["time_point"].map(codes).astype(str))
    table, info = _fit(part, with_cohort, confidence)
    n = part.groupby("time", observed=True)["officer"].nunique()
    return [{"construct": construct, "time_point": level, "n": int(n[codes[level]]),
             **table.reindex([codes[level]]).iloc[0].to_dict(),
             "n_officers": part["officer"].nunique(), "n_obs": len(part), **info}
            for level in levels[1:]]
