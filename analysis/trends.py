"""Agency culture trends across pulse surveys: per-pulse summaries, control charts and slopes.

A pulse survey is re-run on the whole agency every few months. Three questions follow: where does
each construct stand at each pulse (:func:`pulse_summary`), has a pulse moved more than the
pulse-to-pulse noise allows (:func:`control_limits`), and is there a steady drift over time
(:func:`trend_slope`)?
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._utils import check_columns, check_confidence

SCORE_COLUMNS = ("response_id", "wave", "construct", "score")
SUMMARY_COLUMNS = ("wave", "date", "construct", "n", "mean")

# Individuals (XmR) chart constants for moving ranges of two points: E2 = 3/d2 with d2 = 1.128,
# rounded to 2.66 as in the textbooks, and D4 = 3.267.
E2 = 2.66
D4 = 3.267
MIN_PULSES = 3
RUN_LENGTH = 8
METHODS = ("individuals", "xbar")


def pulse_summary(scores: pd.DataFrame, waves: pd.DataFrame, *, confidence: float = 0.95
                  ) -> pd.DataFrame:
    """Mean scale score with its t confidence interval, per pulse wave and construct.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per response and construct, with columns ``response_id``, ``wave``,
        ``construct`` and ``score`` (float, NaN when missing). Other columns are ignored.
    waves : pandas.DataFrame
        One row per pulse wave, with columns ``wave`` and ``date`` (the pulse's opening date) and
        optionally ``headcount`` (officers invited, or sworn strength at the time).
    confidence : float
        Confidence level of the interval, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per wave and construct, ordered by date, wave and construct:

        * ``wave``, ``date`` (datetime64), ``construct``
        * ``n``: number of non-missing scores
        * ``mean``: mean score
        * ``sd``: standard deviation (ddof=1)
        * ``se``: standard error of the mean, sd / sqrt(n)
        * ``ci_low``, ``ci_high``: t confidence interval of the mean
        * ``n_responses``: distinct ``response_id`` in the wave (all constructs, scored or not)
        * ``headcount``: from ``waves``, NaN when absent
        * ``participation``: n_responses / headcount, NaN when headcount is missing

    Notes
    -----
    The interval is mean ± t(1 - (1 - confidence)/2, n - 1) · sd/√n. Missing scores are dropped
    construct by construct; a wave in which a construct has no score gives no row for it, and a
    row with n = 1 has NaN ``sd``, ``se``, ``ci_low`` and ``ci_high``. Every wave in ``scores``
    must be listed in ``waves`` (else ValueError); waves without scores give no rows.

    Checked against :func:`scipy.stats.ttest_1samp` (``confidence_interval``) and
    :func:`scipy.stats.sem` on pingouin's ``rm_missing`` data set, which has missing values.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.
    """
    check_columns(scores, SCORE_COLUMNS, "scores")
    check_columns(waves, ("wave", "date"), "waves")
    check_confidence(confidence)
    if waves["wave"].duplicated().any():
        raise ValueError("waves lists a wave more than once")
    unknown = set(scores["wave"]) - set(waves["wave"])
    if unknown:
        raise ValueError(f"scores has wave(s) not listed in waves: {sorted(unknown, key=str)}")

    scored = scores.dropna(subset=["score"])
    out = (scored.groupby(["wave", "construct"], sort=False)["score"]
           .agg(n="count", mean="mean", sd="std").reset_index())
    out["n"] = out["n"].astype(int)
    out["se"] = out["sd"] / np.sqrt(out["n"])
    dof = (out["n"] - 1).where(out["n"] > 1)
    half = stats.t.ppf(1 - (1 - confidence) / 2, dof) * out["se"]
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half

    info = waves[["wave", "date"]].assign(
        date=pd.to_datetime(waves["date"]),
        headcount=waves["headcount"].astype(float) if "headcount" in waves else np.nan)
    responses = scores.groupby("wave", sort=False)["response_id"].nunique().rename("n_responses")
    out = out.merge(responses, on="wave").merge(info, on="wave")
    out["participation"] = out["n_responses"] / out["headcount"]
    columns = ["wave", "date", "construct", "n", "mean", "sd", "se", "ci_low", "ci_high",
               "n_responses", "headcount", "participation"]
    return out.sort_values(["date", "wave", "construct"], ignore_index=True)[columns]


def _run_spans(side: np.ndarray, length: int = RUN_LENGTH) -> list[tuple[int, int]]:
    """(start, end) of every run of `length` or more consecutive equal non-zero signs."""
    spans, start = [], 0
    for i in range(1, len(side) + 1):
        if i == len(side) or side[i] != side[start]:
            if side[start] != 0 and i - start >= length:
                spans.append((start, i))
            start = i
    return spans


def _runs(side: np.ndarray, length: int = RUN_LENGTH) -> np.ndarray:
    """True where a point belongs to `length` or more consecutive equal non-zero signs."""
    flags = np.zeros(len(side), dtype=bool)
    for start, end in _run_spans(side, length):
        flags[start:end] = True
    return flags


def _phase_starts(g: pd.DataFrame, steps: pd.DataFrame, method: str) -> list[tuple[int, str]]:
    """Where one construct's staged phases begin (positions in `g`, sorted by date, means all
    present), each with the step that began it ("" for the first)."""
    phases = [(0, "")]
    dates = g["date"].to_numpy()
    for step_date, label in steps.sort_values("date")[["date", "step"]].itertuples(index=False):
        after = int(np.searchsorted(dates, np.datetime64(step_date), side="left"))
        begin = phases[-1][0]
        if after <= begin or after >= len(g):
            continue
        current = g.iloc[begin:]
        limits = _limits(current, method)
        side = np.sign(current["mean"].to_numpy(float) - limits["centre"].to_numpy(float))
        starts = [begin + s for s, _ in _run_spans(np.nan_to_num(side))]
        shift = [s for s in starts if after <= s < after + MIN_PULSES]
        if shift and shift[0] - begin >= MIN_PULSES and len(g) - shift[0] >= MIN_PULSES:
            phases.append((shift[0], label))
    return phases


def _limits(g: pd.DataFrame, method: str) -> pd.DataFrame:
    """Control limits for one construct's pulses (rows sorted by date, means all present)."""
    x = g["mean"].to_numpy(float)
    out = pd.DataFrame(index=g.index, columns=["centre", "ucl", "lcl"], dtype=float)
    if method == "individuals":
        mr = np.abs(np.diff(x))
        out["moving_range"] = np.r_[np.nan, mr]
        out["mr_ucl"] = np.nan
    if len(x) < MIN_PULSES:
        return out
    if method == "individuals":
        centre, mr_bar = x.mean(), mr.mean()
        out["centre"], out["mr_ucl"] = centre, D4 * mr_bar
        out["ucl"], out["lcl"] = centre + E2 * mr_bar, centre - E2 * mr_bar
    else:
        n = g["n"].to_numpy(float)
        centre = np.sum(n * x) / n.sum()
        ss = ((n - 1) * g["sd"].to_numpy(float) ** 2)[n > 1]
        sigma = np.sqrt(ss.sum() / (n[n > 1] - 1).sum()) if (n > 1).any() else np.nan
        out["centre"] = centre
        out["ucl"], out["lcl"] = centre + 3 * sigma / np.sqrt(n), centre - 3 * sigma / np.sqrt(n)
    return out


def control_limits(summary: pd.DataFrame, *, method: str = "individuals",
                   steps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Statistical process control limits for each construct's series of pulse means.

    Parameters
    ----------
    summary : pandas.DataFrame
        The output of :func:`pulse_summary`, or any frame with columns ``wave``, ``date``,
        ``construct``, ``n`` and ``mean`` (and ``sd`` for ``method="xbar"``).
    method : {"individuals", "xbar"}
        ``"individuals"``: an individuals and moving-range (XmR) chart of the pulse means.
        ``"xbar"``: an x-bar chart whose limits follow each pulse's number of scores.
    steps : pandas.DataFrame, optional
        Culture-change steps, with columns ``date`` and ``step`` (a label): staged limits (see
        Notes). Without it, one set of limits per construct.

    Returns
    -------
    pandas.DataFrame
        The rows of ``summary``, ordered by construct, date and wave, with these columns added:

        * ``centre``: centre line
        * ``ucl``, ``lcl``: upper and lower control limits (per pulse for ``"xbar"``)
        * ``beyond``: bool, the mean lies strictly outside the limits
        * ``run``: bool, the pulse belongs to a run of 8 or more consecutive pulses strictly on
          one side of the centre line
        * ``moving_range`` (``"individuals"`` only): |mean - previous pulse's mean|, NaN for the
          first pulse
        * ``mr_ucl`` (``"individuals"`` only): upper limit of the moving-range chart
        * ``phase``: 0, 1, ...: the stage whose limits apply (always 0 without ``steps``)
        * ``phase_step``: the step that began the pulse's phase, "" for the first phase
        * ``rule``: which rule flagged the pulse, ``"beyond the limits"``, ``"run of 8 on one
          side"`` (a point flagged by both names the first), or ``""``

    Notes
    -----
    Individuals (XmR) chart: centre x̄ = mean of the pulse means, MR̄ = mean of the absolute
    differences of consecutive means, limits x̄ ± 2.66·MR̄ (2.66 = 3/d₂, d₂ = 1.128) and
    moving-range UCL 3.267·MR̄ (D₄). Its sigma comes from the pulse-to-pulse variation itself, so
    it stays honest when pulses differ by more than sampling error (shifts in who answers,
    seasons, events): prefer it for agency pulses, and always when pulses are few or n is small.

    X-bar chart: centre = n-weighted grand mean Σnᵢx̄ᵢ/Σnᵢ, σ = pooled within-pulse SD
    √(Σ(nᵢ-1)sᵢ²/Σ(nᵢ-1)) (no c₄ correction), limits centre ± 3σ/√nᵢ, which narrow as nᵢ grows.
    It assumes the process is stable, so that pulse means differ only by sampling error; with
    hundreds of respondents its limits get so tight that ordinary pulse-to-pulse variation is
    flagged. Use it for a stable process or to ask whether a change exceeds sampling error.

    Run rule: 8 consecutive points on one side of the centre, as in the Western Electric rules
    (Nelson uses 9); a point exactly on the centre ends a run. The zone rules (2 of 3 beyond
    2σ, 4 of 5 beyond 1σ) are not applied: they add false alarms.

    Staged limits: when a sustained shift follows a culture-change step, the limits are
    recomputed for the new phase, so that a signal means "unexpected" and a shift the step
    explains reads as the step's effect. A shift is a run (the run rule above, against the
    current phase's centre) that begins at one of the first 3 pulses on or after the step's
    date; the new phase begins where the run begins. Each phase needs at least 3 pulses, on
    both sides of the split, else the step does not split. Steps are taken in date order, each
    tested against the phase the steps before it left. Within a phase the formulas above apply
    to that phase's pulses alone (moving ranges do not cross a phase boundary: the first pulse
    of a phase has none).

    Missing data: rows with a missing mean are kept, take no part in the limits (moving ranges
    join the neighbouring available pulses) and get False flags. A construct with fewer than 3
    available pulses gets NaN limits and False flags, silently. In ``"xbar"``, pulses with
    n = 1 contribute nothing to σ.

    Checked against numpy computations of the formulas above on statsmodels' Nile data set
    (the 1898 fall in flow shows as a run; staged at a step in 1899, each phase's limits equal
    the formulas on that phase alone) and hand-made series, and the x-bar σ against the
    residual variance of a statsmodels one-way ANOVA on pingouin's ``tips`` data set.

    References
    ----------
    Montgomery, D. C. (2019). *Introduction to Statistical Quality Control* (8th ed.), ch. 6.
    Wheeler, D. J., & Chambers, D. S. (1992). *Understanding Statistical Process Control*.
    Western Electric (1956). *Statistical Quality Control Handbook*.
    Nelson, L. S. (1984). The Shewhart control chart—tests for special causes. *Journal of
    Quality Technology*, 16(4), 237-239.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    check_columns(summary, SUMMARY_COLUMNS + (("sd",) if method == "xbar" else ()), "summary")
    if steps is not None:
        check_columns(steps, ("date", "step"), "steps")
        steps = steps.assign(date=pd.to_datetime(steps["date"])).dropna(subset=["date"])
    data = summary.sort_values(["construct", "date", "wave"], ignore_index=True)
    data["date"] = pd.to_datetime(data["date"])
    parts = []
    for _, g in data.dropna(subset=["mean"]).groupby("construct"):
        starts = _phase_starts(g, steps, method) if steps is not None and len(steps) else \
            [(0, "")]
        ends = [s for s, _ in starts[1:]] + [len(g)]
        for phase, ((begin, label), end) in enumerate(zip(starts, ends)):
            part = _limits(g.iloc[begin:end], method)
            part["phase"], part["phase_step"] = phase, label
            parts.append(part)
    limits = pd.concat(parts) if parts else _limits(data.iloc[:0], method).assign(
        phase=pd.Series(dtype=int), phase_step=pd.Series(dtype=object))
    out = data.join(limits)
    missing = out["phase"].isna()
    if missing.any():  # a pulse with no mean belongs to the phase of the pulse before it
        out["phase"] = out.groupby("construct")["phase"].transform(
            lambda p: p.ffill().bfill()).fillna(0)
        out["phase_step"] = out.groupby("construct")["phase_step"].transform(
            lambda p: p.ffill().bfill()).fillna("")
    out["phase"] = out["phase"].astype(int)
    out["beyond"] = ((out["mean"] > out["ucl"]) | (out["mean"] < out["lcl"])).astype(bool)
    out["run"] = False
    for _, g in out[out["centre"].notna()].groupby(["construct", "phase"]):
        out.loc[g.index, "run"] = _runs(np.sign(g["mean"] - g["centre"]).to_numpy())
    out["rule"] = np.where(out["beyond"], "beyond the limits",
                           np.where(out["run"], f"run of {RUN_LENGTH} on one side", ""))
    return out


def trend_slope(summary: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Weighted least squares trend of each construct's pulse means, per year.

    Parameters
    ----------
    summary : pandas.DataFrame
        The output of :func:`pulse_summary`, or any frame with columns ``construct``, ``date``,
        ``n`` and ``mean``.
    confidence : float
        Confidence level of the slope's interval, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per construct, in sorted order:

        * ``construct``
        * ``n_pulses``: pulses that entered the fit
        * ``slope_per_year``: change of the mean score per year
        * ``se``: standard error of the slope
        * ``ci_low``, ``ci_high``: t confidence interval of the slope
        * ``p_val``: two-sided p-value of the t test of slope = 0

    Notes
    -----
    Fits mean_i = a + b·t_i by WLS with weights w_i = n_i, where t_i is the time in years
    (days / 365.25) since the construct's first pulse. Weighting by n treats var(mean_i) as
    σ²/n_i with one common σ; inverse squared standard errors are not used because the
    within-pulse SDs of small pulses are themselves noisy. σ² is estimated from the weighted
    residuals, Σw_i·r_i²/(k - 2), so pulse-to-pulse variation beyond sampling error widens the
    interval. With t̄ = Σw_i·t_i/Σw_i and S = Σw_i(t_i - t̄)²: b = Σw_i(t_i - t̄)·mean_i / S,
    se = √(σ²/S), interval b ± t(1 - (1 - confidence)/2, k - 2)·se, p from t = b/se.

    Missing data: pulses with a missing mean or n < 1 are left out. With 2 pulses the slope is
    given and se, CI and p are NaN; with fewer pulses, or all on one date, all are NaN.

    Checked against ``statsmodels.api.WLS(...).fit()`` (params, conf_int, pvalues) on pingouin's
    ``tips`` data set turned into pulses, and against :func:`scipy.stats.linregress` on the
    Nile data set with equal weights.

    References
    ----------
    Draper, N. R., & Smith, H. (1998). *Applied Regression Analysis* (3rd ed.), ch. 9
    (generalized and weighted least squares).
    """
    check_columns(summary, ("construct", "date", "n", "mean"), "summary")
    check_confidence(confidence)
    rows = []
    data = summary[summary["mean"].notna() & (summary["n"] >= 1)]
    for construct, g in data.groupby("construct", sort=True):
        dates = pd.to_datetime(g["date"])
        t = ((dates - dates.min()).dt.days / 365.25).to_numpy(float)
        y, w, k = g["mean"].to_numpy(float), g["n"].to_numpy(float), len(g)
        slope = se = p_val = ci_low = ci_high = np.nan
        tc = t - np.sum(w * t) / w.sum()
        sxx = np.sum(w * tc**2)
        if k >= 2 and sxx > 0:
            slope = np.sum(w * tc * y) / sxx
            if k >= 3:
                resid = y - np.sum(w * y) / w.sum() - slope * tc
                se = np.sqrt(np.sum(w * resid**2) / (k - 2) / sxx)
                q = stats.t.ppf(1 - (1 - confidence) / 2, k - 2)
                ci_low, ci_high = slope - q * se, slope + q * se
                with np.errstate(divide="ignore", invalid="ignore"):
                    p_val = 2 * stats.t.sf(abs(slope / se), k - 2)
        rows.append({"construct": construct, "n_pulses": k, "slope_per_year": slope, "se": se,
                     "ci_low": ci_low, "ci_high": ci_high, "p_val": p_val})
    columns = ["construct", "n_pulses", "slope_per_year", "se", "ci_low", "ci_high", "p_val"]
    return pd.DataFrame(rows, columns=columns)
