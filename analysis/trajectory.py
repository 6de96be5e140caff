"""Did it last? Change from before training at every later wave, per cohort and pooled.

:func:`trajectory` gives one cohort's paired change from the pre wave to the post wave and to
each follow-up. :func:`pooled_trajectory` fits one linear mixed model across cohorts, which
also uses officers who missed a wave. Follow-ups at different days are grouped into time points
by :func:`time_points`, so that cohorts line up.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import ConvergenceWarning, ModelWarning

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


def _model_text(with_cohort: bool) -> str:
    terms = "time point + cohort" if with_cohort else "time point"
    return (f"Linear mixed model: score ~ {terms}, random intercept per linked officer; REML; "
            "statsmodels MixedLM")


def _fit(part: pd.DataFrame, with_cohort: bool, confidence: float):
    """Fit the model to one construct; returns (fixed effects by time code, info dict)."""
    formula = "score ~ C(time, Treatment('t0'))" + (" + C(cohort)" if with_cohort else "")
    model = smf.mixedlm(formula, part, groups=part["officer"])
    info = {"var_officer": np.nan, "var_residual": np.nan, "converged": False}
    fit, failure = None, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = model.fit(reml=True, method=["bfgs", "cg"], gtol=1e-8)
        except np.linalg.LinAlgError as err:
            failure = [f"the model could not be fitted: {err}"]
    for other in (w for w in caught if not issubclass(w.category, ModelWarning)):
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    notes = [w for w in caught if issubclass(w.category, ModelWarning)]
    info["fit_warning"] = "; ".join(dict.fromkeys([str(w.message) for w in notes] + failure))
    if fit is None:
        return pd.DataFrame(columns=["mean_diff", "se", "ci_low", "ci_high", "p_val"]), info
    info.update(var_officer=float(fit.cov_re.iloc[0, 0]), var_residual=float(fit.scale),
                converged=bool(fit.converged) and not any(
                    issubclass(w.category, ConvergenceWarning) for w in notes))
    ci = fit.conf_int(alpha=1 - confidence)
    names = [n for n in fit.fe_params.index if n.startswith("C(time")]
    table = pd.DataFrame({"mean_diff": fit.fe_params[names], "se": fit.bse[names],
                          "ci_low": ci.loc[names, 0], "ci_high": ci.loc[names, 1],
                          "p_val": fit.pvalues[names]})
    table.index = [n.split("[T.")[1].rstrip("]") for n in names]
    return table, info


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
        * ``converged``: False when the optimiser did not converge, statsmodels warned
          (``ConvergenceWarning``, e.g. a variance on the boundary) or the model could not be
          fitted (estimates NaN). Estimates of a fit that did not converge are kept for
          diagnosis only: do not show them.
        * ``fit_warning``: statsmodels' warnings, ``""`` if none
        * ``model``: the model in words, to print under the chart

    Notes
    -----
    For officer :math:`i` of cohort :math:`c` at time point :math:`t`,

    .. math:: y_{ict} = \\mu + \\beta_t + \\gamma_c + u_i + \\varepsilon_{ict}, \\quad
              u_i \\sim N(0, \\tau^2), \\; \\varepsilon \\sim N(0, \\sigma^2)

    with :math:`\\beta_{pre} = 0`, so :math:`\\beta_t` is the change from pre, assumed the same
    in every cohort (no time × cohort interaction); :math:`\\gamma_c` (cohort fixed effects)
    absorbs cohorts' different starting points, so that a time point reached only by some
    cohorts is not biased by who they are. Fitted by REML with statsmodels' ``MixedLM`` (BFGS,
    then conjugate gradient, gradient tolerance 1e-8); intervals and p-values are Wald (normal),
    as statsmodels gives them, slightly narrow for few officers.

    Missing data: every scored response with a linkage key counts, including officers seen at
    only some time points; the likelihood then assumes missing waves are missing at random given
    the scores observed, weaker than the complete-pairs rule of :func:`trajectory`. Responses
    without a key and pulse waves are left out. For a balanced design (every officer at every
    time point) the estimates equal the differences of time-point means and the variance
    components equal the repeated-measures ANOVA estimates; the tests check both.

    References
    ----------
    Laird, N. M., & Ware, J. H. (1982). Random-effects models for longitudinal data.
    *Biometrics*, 38(4), 963-974. Seabold, S., & Perktold, J. (2010). statsmodels: econometric
    and statistical modeling with Python. *Proc. 9th Python in Science Conference*.
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
             "n_officers": part["officer"].nunique(), "n_obs": len(part), **info,
             "model": _model_text(with_cohort)} for level in levels[1:]]
