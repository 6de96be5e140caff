"""analysis.trends against scipy, statsmodels and numpy, on data shipped inside those packages."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.datasets import nile

from analysis.trends import control_limits, pulse_summary, trend_slope

RTOL = 1e-9


# --- shipped data turned into pulses -------------------------------------------------------------

def rm_missing_pulses():
    """pingouin's rm_missing (with missing values): Session x Time = 4 pulses, 3 constructs."""
    d = pg.read_dataset("rm_missing")
    d["wave"] = d["Session"] + "-" + d["Time"]
    scores = d.melt(id_vars=["Subj", "wave"], value_vars=["Memory", "BOLD", "Mood"],
                    var_name="construct", value_name="score")
    scores = scores.rename(columns={"Subj": "response_id"})   # one row per subject and wave
    dates = {"Pre-Morning": "2024-01-10", "Pre-Evening": "2024-04-02",
             "Post-Morning": "2024-07-15", "Post-Evening": "2024-11-30"}
    waves = pd.DataFrame({"wave": list(dates), "date": pd.to_datetime(list(dates.values()))})
    return d, scores, waves


def tips_pulses():
    """pingouin's tips: the four days are four pulses of unequal size (19 to 87)."""
    d = pg.read_dataset("tips").reset_index(names="response_id")
    scores = d.melt(id_vars=["response_id", "day"], value_vars=["tip", "total_bill"],
                    var_name="construct", value_name="score").rename(columns={"day": "wave"})
    waves = pd.DataFrame({"wave": ["Thur", "Fri", "Sat", "Sun"],
                          "date": pd.to_datetime(["2023-03-02", "2023-09-15", "2024-01-20",
                                                  "2024-10-06"]),
                          "headcount": [80, 40, np.nan, 100]})
    return d, scores, waves


def nile_summary():
    d = nile.load_pandas().data
    years = d["year"].astype(int)
    return pd.DataFrame({"wave": years, "date": pd.to_datetime(years.astype(str)),
                         "construct": "flow", "n": 1, "mean": d["volume"]})


def series(values, construct="c"):
    """A summary frame for a hand-made series of pulse means."""
    k = len(values)
    return pd.DataFrame({"wave": range(k), "construct": construct, "n": 30, "mean": values,
                         "date": pd.date_range("2020-01-01", periods=k, freq="MS")})


# --- pulse_summary -------------------------------------------------------------------------------

def test_pulse_summary_matches_scipy():
    d, scores, waves = rm_missing_pulses()
    out = pulse_summary(scores, waves, confidence=0.9)
    assert list(out["wave"].unique()) == list(waves["wave"])           # ordered by date
    assert len(out) == 12
    for row in out.itertuples():
        x = d.loc[d["wave"] == row.wave, row.construct].dropna().to_numpy()
        assert row.n == len(x)
        np.testing.assert_allclose(row.mean, x.mean(), rtol=RTOL)
        np.testing.assert_allclose(row.sd, np.std(x, ddof=1), rtol=RTOL)
        np.testing.assert_allclose(row.se, stats.sem(x), rtol=RTOL)
        ci = stats.ttest_1samp(x, 0).confidence_interval(0.9)
        np.testing.assert_allclose([row.ci_low, row.ci_high], [ci.low, ci.high], rtol=RTOL)
        assert row.n_responses == d.loc[d["wave"] == row.wave, "Subj"].nunique()
    assert (out["n"] < out["n_responses"]).any()                       # missing scores dropped
    assert out["headcount"].isna().all() and out["participation"].isna().all()


def test_pulse_summary_small_waves_and_date_objects():
    scores = pd.DataFrame({"response_id": ["a", "b", "c", "d"], "wave": [1, 1, 2, 2],
                           "construct": "k", "score": [3.0, np.nan, 4.0, 2.0]})
    waves = pd.DataFrame({"wave": [2, 1], "date": [pd.Timestamp("2024-06-01").date(),
                                                   pd.Timestamp("2024-01-01").date()]})
    out = pulse_summary(scores, waves)
    assert out["wave"].tolist() == [1, 2] and out["date"].dtype.kind == "M"
    first = out.iloc[0]
    assert first["n"] == 1 and first["mean"] == 3.0 and first["n_responses"] == 2
    assert out.iloc[0][["sd", "se", "ci_low", "ci_high"]].isna().all()
    assert out.iloc[1][["sd", "se", "ci_low", "ci_high"]].notna().all()


def test_participation():
    d, scores, waves = tips_pulses()
    out = pulse_summary(scores, waves)
    size = d.groupby("day").size()
    for row in out.itertuples():
        assert row.n_responses == size[row.wave]
        head = waves.set_index("wave").loc[row.wave, "headcount"]
        if np.isnan(head):
            assert np.isnan(row.participation)
        else:
            np.testing.assert_allclose(row.participation, size[row.wave] / head, rtol=RTOL)
    assert np.isclose(out.loc[out["wave"] == "Fri", "participation"].iloc[0], 19 / 40)


# --- control_limits: individuals ---------------------------------------------------------------

def test_individuals_on_nile_matches_formula():
    out = control_limits(nile_summary())
    x = nile.load_pandas().data["volume"].to_numpy()
    centre, mr_bar = x.mean(), np.abs(np.diff(x)).mean()
    np.testing.assert_allclose(out["centre"], centre, rtol=RTOL)
    np.testing.assert_allclose(out["ucl"], centre + 2.66 * mr_bar, rtol=RTOL)
    np.testing.assert_allclose(out["lcl"], centre - 2.66 * mr_bar, rtol=RTOL)
    np.testing.assert_allclose(out["mr_ucl"], 3.267 * mr_bar, rtol=RTOL)
    np.testing.assert_allclose(out["moving_range"][1:], np.abs(np.diff(x)), rtol=RTOL)
    np.testing.assert_array_equal(out["beyond"], (x > centre + 2.66 * mr_bar)
                                  | (x < centre - 2.66 * mr_bar))


def test_nile_drop_after_1898_shows():
    out = control_limits(nile_summary())
    before, after = out[out["wave"] <= 1898], out[out["wave"] > 1898]
    assert before["run"].any() and (before["mean"] > before["centre"])[before["run"]].all()
    assert after["run"].any() and (after["mean"] < after["centre"])[after["run"]].all()
    assert out.loc[out["beyond"], "wave"].tolist() == [1879, 1913]    # 1913: the driest year


def test_outlier_is_beyond():
    x = [3.0, 3.1, 2.9, 3.0, 3.1, 2.9, 3.0, 4.5, 3.0, 3.1, 2.9, 3.0]
    out = control_limits(series(x))
    assert out["beyond"].tolist() == [i == 7 for i in range(len(x))]
    assert not out["run"].any()


@pytest.mark.parametrize("length", [7, 8, 9])
def test_run_of_eight(length):
    x = [4, 2, 4, 2, 4, 2] + [3.5] * length + [2, 4, 2, 4, 2, 4]
    out = control_limits(series(x))
    assert (out["centre"] < 3.5).all() and (out["centre"] > 2).all()
    assert out["run"].tolist() == [length >= 8 and 6 <= i < 6 + length for i in range(len(x))]
    assert not out["beyond"].any()


def test_point_on_centre_ends_run():
    x = [4.0] * 4 + [3.0] + [4.0] * 4 + [2.0] * 8    # 4 above, one on the centre, 4 above
    out = control_limits(series(x))
    assert (out["centre"] == 3.0).all()
    assert out["run"].tolist() == [False] * 9 + [True] * 8
    on_centre = control_limits(series([2.0] * 4 + [3.0] * 8 + [4.0] * 4))  # 8 on the centre
    assert (on_centre["centre"] == 3.0).all() and not on_centre["run"].any()


def test_constructs_are_separate_and_few_pulses_give_nan():
    data = pd.concat([series([4, 2, 4, 2, 4], "a"), series([3.0, 3.2], "b")])
    for method in ("individuals", "xbar"):
        data["sd"] = 1.0
        out = control_limits(data, method=method)
        b = out[out["construct"] == "b"]
        assert b[["centre", "ucl", "lcl"]].isna().all().all()
        assert not b["beyond"].any() and not b["run"].any()
        np.testing.assert_allclose(out.loc[out["construct"] == "a", "centre"], 3.2, rtol=RTOL)


# --- control_limits: xbar ------------------------------------------------------------------------

def test_xbar_matches_anova_and_narrows_with_n():
    d, scores, waves = tips_pulses()
    out = control_limits(pulse_summary(scores, waves), method="xbar")
    for construct in ("tip", "total_bill"):
        part = out[out["construct"] == construct].set_index("wave")
        mse = smf.ols(f"{construct} ~ C(day)", data=d).fit().scale    # pooled within-day var
        centre = d[construct].mean()
        n = d.groupby("day").size()[part.index]
        np.testing.assert_allclose(part["centre"], centre, rtol=RTOL)
        np.testing.assert_allclose(part["ucl"], centre + 3 * np.sqrt(mse / n), rtol=RTOL)
        np.testing.assert_allclose(part["lcl"], centre - 3 * np.sqrt(mse / n), rtol=RTOL)
        width = (part["ucl"] - part["lcl"]).sort_values()
        assert width.index.tolist() == n.sort_values(ascending=False).index.tolist()
        assert "moving_range" not in part
        np.testing.assert_array_equal(
            part["beyond"], (part["mean"] > part["ucl"]) | (part["mean"] < part["lcl"]))


def test_xbar_flags_a_shift_individuals_tolerates():
    # big pulses, small within-pulse SD: sampling error is tiny, so x-bar flags what XmR calls noise
    data = series([3.0, 3.2, 2.9, 3.1, 3.3, 2.8]).assign(n=400, sd=0.5)
    assert control_limits(data, method="xbar")["beyond"].any()
    assert not control_limits(data, method="individuals")["beyond"].any()


# --- trend_slope ---------------------------------------------------------------------------------

@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_trend_slope_matches_statsmodels_wls(confidence):
    d, scores, waves = tips_pulses()
    summary = pulse_summary(scores, waves)
    out = trend_slope(summary, confidence=confidence).set_index("construct")
    assert out.index.tolist() == ["tip", "total_bill"]
    for construct, g in summary.groupby("construct"):
        years = (g["date"] - g["date"].min()).dt.days / 365.25
        fit = sm.WLS(g["mean"].to_numpy(), sm.add_constant(years.to_numpy()),
                     weights=g["n"].to_numpy()).fit()
        row = out.loc[construct]
        assert row["n_pulses"] == 4
        np.testing.assert_allclose(row["slope_per_year"], fit.params[1], rtol=RTOL)
        np.testing.assert_allclose(row["se"], fit.bse[1], rtol=RTOL)
        np.testing.assert_allclose([row["ci_low"], row["ci_high"]],
                                   fit.conf_int(1 - confidence)[1], rtol=RTOL)
        np.testing.assert_allclose(row["p_val"], fit.pvalues[1], rtol=RTOL)
        ols = sm.OLS(g["mean"].to_numpy(), sm.add_constant(years.to_numpy())).fit()
        assert not np.isclose(row["slope_per_year"], ols.params[1])  # the weights matter


def test_trend_slope_on_nile_matches_linregress():
    s = nile_summary()
    out = trend_slope(s).iloc[0]
    years = (s["date"] - s["date"].min()).dt.days / 365.25
    ref = stats.linregress(years, s["mean"])
    np.testing.assert_allclose(out["slope_per_year"], ref.slope, rtol=RTOL)
    np.testing.assert_allclose(out["p_val"], ref.pvalue, rtol=RTOL)
    assert out["slope_per_year"] < 0 and out["ci_high"] < 0 and out["n_pulses"] == 100


def test_trend_slope_few_pulses():
    two = series([3.0, 3.5], "two")
    out = trend_slope(pd.concat([two, series([3.0], "one")])).set_index("construct")
    assert np.isnan(out.loc["one", "slope_per_year"]) and out.loc["one", "n_pulses"] == 1
    days = (two["date"].iloc[1] - two["date"].iloc[0]).days
    np.testing.assert_allclose(out.loc["two", "slope_per_year"], 0.5 / (days / 365.25),
                               rtol=RTOL)
    assert out.loc["two", ["se", "ci_low", "ci_high", "p_val"]].isna().all()


# --- bad arguments -------------------------------------------------------------------------------

def test_bad_arguments():
    d, scores, waves = tips_pulses()
    summary = pulse_summary(scores, waves)
    with pytest.raises(ValueError, match="score"):
        pulse_summary(scores.drop(columns="score"), waves)
    with pytest.raises(ValueError, match="date"):
        pulse_summary(scores, waves.drop(columns="date"))
    with pytest.raises(ValueError, match="not listed"):
        pulse_summary(scores, waves.iloc[1:])
    with pytest.raises(ValueError, match="more than once"):
        pulse_summary(scores, pd.concat([waves, waves.iloc[:1]]))
    with pytest.raises(ValueError, match="DataFrame"):
        pulse_summary(scores.to_dict(), waves)
    for confidence in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="confidence"):
            pulse_summary(scores, waves, confidence=confidence)
        with pytest.raises(ValueError, match="confidence"):
            trend_slope(summary, confidence=confidence)
    with pytest.raises(ValueError, match="method"):
        control_limits(summary, method="p")
    with pytest.raises(ValueError, match="mean"):
        control_limits(summary.drop(columns="mean"))
    with pytest.raises(ValueError, match="sd"):
        control_limits(summary.drop(columns="sd"), method="xbar")
    with pytest.raises(ValueError, match="date"):
        trend_slope(summary.drop(columns="date"))


# --- control_limits: staged limits at culture-change steps ----------------------------------

def xmr(x):
    """The individuals chart's centre and limits of one phase, by the formulas."""
    mr_bar = np.abs(np.diff(x)).mean()
    return x.mean(), x.mean() + 2.66 * mr_bar, x.mean() - 2.66 * mr_bar


def test_staged_limits_on_nile_follow_each_phase():
    """The Nile's flow staged at two made-up steps. 1899 (the first year after the fall): the
    next pulses are not a run of 8 (1903 rises above the centre), so no new phase. 1918: the
    eleven dry years from 1918 are a run, so the limits are recomputed from 1918, and each
    phase's limits equal the formulas on that phase alone."""
    x = nile.load_pandas().data.set_index("year")["volume"]
    at_1899 = pd.DataFrame({"date": [pd.Timestamp("1899-01-01")], "step": ["Dam"]})
    assert (control_limits(nile_summary(), steps=at_1899)["phase"] == 0).all()
    steps = pd.DataFrame({"date": [pd.Timestamp("1918-01-01")], "step": ["Dry years"]})
    out = control_limits(nile_summary(), steps=steps)
    assert out["phase"].max() == 1 and out.loc[out["phase"] == 1, "wave"].min() == 1918
    for phase, years in ((0, x.index < 1918), (1, x.index >= 1918)):
        part = out[out["phase"] == phase]
        centre, ucl, lcl = xmr(x[years].to_numpy(float))
        np.testing.assert_allclose(part["centre"], centre, rtol=RTOL)
        np.testing.assert_allclose(part["ucl"], ucl, rtol=RTOL)
        np.testing.assert_allclose(part["lcl"], lcl, rtol=RTOL)
    assert (out.loc[out["phase"] == 1, "phase_step"] == "Dry years").all()
    assert (out.loc[out["phase"] == 0, "phase_step"] == "").all()
    assert np.isnan(out.loc[out["wave"] == 1918, "moving_range"]).all()  # no range across
    plain = control_limits(nile_summary())
    assert plain.loc[plain["wave"].between(1918, 1928), "run"].all()
    assert not out.loc[out["wave"].between(1918, 1928), "run"].all()


def test_a_step_without_a_shift_changes_nothing():
    rng = np.random.default_rng(7)
    values = 3 + rng.normal(0, 0.05, 24)
    steps = pd.DataFrame({"date": [pd.Timestamp("2021-01-01")], "step": ["Policy"]})
    staged = control_limits(series(values), steps=steps)
    plain = control_limits(series(values))
    assert (staged["phase"] == 0).all()
    pd.testing.assert_frame_equal(staged, plain)


def test_a_shift_after_a_step_reads_as_its_effect_and_rules_are_named():
    """Twelve pulses at 3.0, a step, twelve at 3.5: staged, nothing is a signal any more; a
    later outlier is flagged by the new phase's limits and the rule is named."""
    base = [3.0, 3.05, 2.95, 3.0, 3.02, 2.98, 3.0, 3.04, 2.96, 3.0, 3.01, 2.99]
    values = base + [v + 0.5 for v in base] + [3.1]
    steps = pd.DataFrame({"date": [pd.Timestamp("2021-01-01")], "step": ["Chief's memo"]})
    plain = control_limits(series(values))
    assert plain["run"].iloc[:24].all() and (plain["rule"].iloc[:24] != "").all()
    staged = control_limits(series(values), steps=steps)
    assert staged["phase"].tolist() == [0] * 12 + [1] * 13
    assert staged["rule"].iloc[:24].eq("").all()        # the shift is the step's effect
    assert staged["rule"].iloc[24] == "beyond the limits"  # 3.1 is unexpected at ~3.5
    assert set(staged["rule"]) <= {"", "beyond the limits", "run of 8 on one side"}


def test_a_step_too_late_or_too_early_does_not_split():
    values = [3.0] * 2 + [3.5] * 20
    early = pd.DataFrame({"date": [pd.Timestamp("2020-03-01")], "step": ["Too early"]})
    assert (control_limits(series(values), steps=early)["phase"] == 0).all()  # 2 pulses before
    late = pd.DataFrame({"date": [pd.Timestamp("2030-01-01")], "step": ["Future"]})
    assert (control_limits(series(values), steps=late)["phase"] == 0).all()
