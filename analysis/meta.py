"""What works across sites: a random-effects meta-analysis of class effects.

DataFrame in (one row per class: its effect and the effect's sampling variance), tidy
DataFrame out, in the manner of the rest of :mod:`analysis`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["random_effects"]

#: statsmodels' names of the between-class variance estimators offered here.
METHODS = {"pm": "pm", "paule-mandel": "pm", "dl": "dl", "dersimonian-laird": "dl"}


def random_effects(data: pd.DataFrame, *, effect: str = "effect", variance: str = "variance",
                   method: str = "pm", knapp_hartung: bool = False,
                   alpha: float = 0.05) -> pd.DataFrame:
    """Pool class effects (for example each class's Hedges' g_av) under a random-effects model.

    Parameters
    ----------
    data : DataFrame
        One row per study (a class): its effect and the effect's sampling variance.
    effect, variance : str
        The columns holding them.
    method : {"pm", "dl"}
        The estimator of the between-class variance tau²: Paule and Mandel's (iterated,
        the default; it agrees with REML in most data and needs no normality) or DerSimonian
        and Laird's method of moments.
    knapp_hartung : bool
        Use the Knapp-Hartung (Sidik-Jonkman) adjusted standard error and t(k - 1) for the
        pooled effect's interval.
    alpha : float
        1 - the intervals' level.

    Returns
    -------
    DataFrame
        One row: ``k``, ``effect`` (the pooled mean :math:`\\hat\\mu`), ``se``, ``ci_low``,
        ``ci_high``, ``tau2``, ``i2`` (share of the total variance that is between classes, in
        [0, 1]), ``q`` (Cochran's Q), ``q_p``, ``pi_low``, ``pi_high`` (the prediction
        interval for a new class), ``method``.

    Notes
    -----
    With weights :math:`w_i = 1 / (v_i + \\hat\\tau^2)`,
    :math:`\\hat\\mu = \\sum w_i y_i / \\sum w_i` and :math:`SE = (\\sum w_i)^{-1/2}`.
    :math:`I^2 = \\hat\\tau^2 / (\\hat\\tau^2 + \\tilde v)` with the typical within-study
    variance :math:`\\tilde v = (k - 1) \\sum v_i^{-1} / ((\\sum v_i^{-1})^2 -
    \\sum v_i^{-2})` (Higgins and Thompson 2002; metafor's definition, consistent with any
    estimator of tau²). The prediction interval is
    :math:`\\hat\\mu \\pm t_{k-2,\\,1-\\alpha/2} \\sqrt{SE^2 + \\hat\\tau^2}` (Higgins,
    Thompson and Spiegelhalter 2009), NaN with fewer than three classes.

    Missing data: a row without an effect or a positive variance is left out.

    References: Paule and Mandel (1982); DerSimonian and Laird (1986); Veroniki et al. (2016),
    Methods to estimate the between-study variance; statsmodels' ``combine_effects`` iterates
    Paule and Mandel's tau² here. tau² is never below 0, and identical effects give tau² = 0
    and I² = 0 without a warning.
    """
    from statsmodels.stats.meta_analysis import combine_effects

    if method.lower() not in METHODS:
        raise ValueError(f"method is one of {sorted(set(METHODS))}, not {method!r}")
    rows = data[[effect, variance]].astype(float)
    rows = rows.loc[rows[effect].notna() & (rows[variance] > 0)]
    k = len(rows)
    columns = ["k", "effect", "se", "ci_low", "ci_high", "tau2", "i2", "q", "q_p", "pi_low",
               "pi_high", "method"]
    if k < 2:
        return pd.DataFrame([dict.fromkeys(columns, np.nan) | {"k": k, "method": method}],
                            columns=columns)
    y, v = rows[effect].to_numpy(), rows[variance].to_numpy()
    w = 1 / v
    fixed = (w * y).sum() / w.sum()
    q = float((w * (y - fixed) ** 2).sum())
    if METHODS[method.lower()] == "dl":
        c = w.sum() - (w ** 2).sum() / w.sum()
        tau2 = max(0.0, (q - (k - 1)) / c)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):  # Q = 0: identical effects
            tau2 = max(0.0, float(combine_effects(y, v, method_re="pm").tau2))
    weights = 1 / (v + tau2)
    mu = float((weights * y).sum() / weights.sum())
    se = float(np.sqrt(1 / weights.sum()))
    if knapp_hartung:
        se = float(np.sqrt((weights * (y - mu) ** 2).sum() / ((k - 1) * weights.sum())))
        crit = stats.t.ppf(1 - alpha / 2, k - 1)
    else:
        crit = stats.norm.ppf(1 - alpha / 2)
    typical = (k - 1) * w.sum() / (w.sum() ** 2 - (w ** 2).sum())
    spread = np.sqrt(se ** 2 + tau2)
    half = stats.t.ppf(1 - alpha / 2, k - 2) * spread if k >= 3 else np.nan
    return pd.DataFrame([{
        "k": k, "effect": mu, "se": se, "ci_low": mu - crit * se, "ci_high": mu + crit * se,
        "tau2": tau2, "i2": tau2 / (tau2 + typical), "q": q,
        "q_p": float(stats.chi2.sf(q, k - 1)), "pi_low": mu - half, "pi_high": mu + half,
        "method": method}], columns=columns)
