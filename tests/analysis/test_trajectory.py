"""Change from pre over time: paired per wave (scipy) and the pooled mixed model (checked against
the closed-form estimates of a balanced random-intercept design), on pingouin's bundled data."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import optimize, stats

from analysis.trajectory import (BOUNDARY_NOTE, FOLLOWUP_BINS, pooled_trajectory, time_points,
                                 trajectory)

REL = 1e-9


@pytest.fixture(scope="module")
def waves(mixed):
    """mixed_anova as pre (August), post (January) and a 150-day follow-up (June)."""
    return pd.DataFrame({
        "wave": mixed["Time"].map({"August": 1, "January": 2, "June": 3}),
        "wave_kind": mixed["Time"].map({"August": "pre", "January": "post", "June": "followup"}),
        "followup_days": mixed["Time"].map({"June": 150.0}),
        "linkage_key": mixed["Subject"].map(lambda s: f"P{s:03d}"),
        "cohort": mixed["Group"], "construct": "stigma", "score": mixed["Scores"]})


@pytest.fixture(scope="module")
def wide(mixed):
    return mixed.pivot(index="Subject", columns="Time", values="Scores")


def test_time_points_bucket_follow_ups():
    scores = pd.DataFrame({"wave_kind": ["pre", "post", "followup", "followup", "followup",
                                         "pulse"],
                           "followup_days": [np.nan, np.nan, 30, 45, 180, np.nan]})
    labels = time_points(scores)
    assert list(labels.astype(object).fillna("-")) == [
        "pre", "post", "follow-up ~1 month", "follow-up ~1 month", "follow-up ~6 months", "-"]
    assert labels.cat.ordered and labels.cat.categories[0] == "pre"
    assert len(labels.cat.categories) == 2 + len(FOLLOWUP_BINS)
    with pytest.raises(ValueError, match="followup_days"):
        time_points(scores.assign(followup_days=np.nan))
    with pytest.raises(ValueError, match="bins"):
        time_points(scores, bins=((90, "a"), (30, "b")))
    with pytest.raises(ValueError, match="followup_days"):
        time_points(scores, bins=((100, "soon"),))


def test_trajectory_is_the_paired_change_from_pre_at_each_wave(waves, wide):
    table = trajectory(waves)
    assert list(table["wave"]) == [2, 3]
    assert list(table["time_point"].astype(str)) == ["post", "follow-up ~6 months"]
    for row, month in zip(table.itertuples(), ["January", "June"]):
        ref = stats.ttest_rel(wide[month], wide["August"])
        ci = ref.confidence_interval(0.95)
        assert row.n == 60
        assert row.mean_diff == pytest.approx(np.mean(wide[month] - wide["August"]), rel=REL)
        assert row.p_val == pytest.approx(ref.pvalue, rel=REL)
        assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high), rel=REL)


def test_trajectory_reports_responses_and_retention(waves, wide):
    fewer = waves.loc[~((waves["wave"] == 3) & waves["linkage_key"].isin(
        [f"P{i:03d}" for i in range(21)]))]
    table = trajectory(fewer).set_index("wave")
    assert table.loc[3, "n"] == 39 and table.loc[3, "n_responses"] == 39
    assert table.loc[3, "n_responses_pre"] == 60
    assert table.loc[3, "retention"] == pytest.approx(39 / 60)
    assert table.loc[2, "retention"] == 1
    kept = wide.iloc[21:]
    assert table.loc[3, "p_val"] == pytest.approx(
        stats.ttest_rel(kept["June"], kept["August"]).pvalue, rel=REL)
    with pytest.raises(ValueError, match="pre wave"):
        trajectory(waves.assign(wave_kind="post"))


def anova_components(wide):
    """Random-intercept variance components from the repeated-measures ANOVA mean squares."""
    n, k = wide.shape
    grand = wide.to_numpy().mean()
    ss_subject = k * ((wide.mean(axis=1) - grand) ** 2).sum()
    ss_time = n * ((wide.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((wide.to_numpy() - grand) ** 2).sum() - ss_subject - ss_time
    ms_error = ss_error / ((n - 1) * (k - 1))
    ms_subject = ss_subject / (n - 1)
    return ms_error, (ms_subject - ms_error) / k


def test_pooled_model_on_a_balanced_design_matches_the_closed_form(waves, wide):
    table = pooled_trajectory(waves, cohort=False).set_index("time_point")
    sigma2, tau2 = anova_components(wide)
    assert tau2 > 0                                  # an interior solution
    means = wide.mean(axis=0)
    z = stats.norm.ppf(0.975)
    for point, month in [("post", "January"), ("follow-up ~6 months", "June")]:
        row = table.loc[point]
        # fixed effects of a balanced complete design: differences of time-point means
        assert row["mean_diff"] == pytest.approx(means[month] - means["August"], rel=REL)
        # their standard error: sqrt(2 sigma² / n)
        assert row["se"] == pytest.approx(np.sqrt(2 * sigma2 / 60), rel=1e-6)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (row["mean_diff"] - z * row["se"], row["mean_diff"] + z * row["se"]), rel=REL)
        assert row["p_val"] == pytest.approx(2 * stats.norm.sf(abs(row["mean_diff"] / row["se"])),
                                             rel=REL)
        assert row["var_residual"] == pytest.approx(sigma2, rel=1e-6)
        assert row["var_officer"] == pytest.approx(tau2, rel=1e-6)
        assert (row["n"], row["n_officers"], row["n_obs"]) == (60, 60, 180)
        assert row["converged"] and row["fit_warning"] == ""
        assert row["model"] == ("Linear mixed model: score ~ time point, random intercept per "
                                "linked officer; REML")


def test_pooled_model_keeps_cohorts_apart(waves, wide):
    # two cohorts that reuse the same linkage keys: officers are told apart by cohort
    reused = waves.assign(linkage_key=waves["linkage_key"].str[1:].astype(int) % 30)
    assert reused.groupby(["cohort", "wave"])["linkage_key"].nunique().eq(30).all()
    table = pooled_trajectory(reused).set_index("time_point")
    means = wide.mean(axis=0)
    row = table.loc["post"]
    assert row["n_officers"] == 60 and row["n"] == 60
    # balanced within each cohort: the time effects are still the differences of means
    assert row["mean_diff"] == pytest.approx(means["January"] - means["August"], rel=REL)
    assert "time point + cohort" in row["model"]
    # one cohort: no cohort term
    alone = pooled_trajectory(reused.loc[reused["cohort"] == "Control"])
    assert "cohort" not in alone["model"].iloc[0]


def test_pooled_model_keeps_officers_who_missed_a_wave(waves):
    missing = waves.loc[~((waves["wave"] == 3) & waves["linkage_key"].isin(
        [f"P{i:03d}" for i in range(10)]))]
    table = pooled_trajectory(missing, cohort=False).set_index("time_point")
    assert table.loc["follow-up ~6 months", "n"] == 50
    assert table.loc["post", "n"] == 60 and table.loc["post", "n_obs"] == 170
    assert table["converged"].all()


def dense_reml(y, x, officers, gamma):
    """-2 REML log-likelihood (up to a constant) of a random-intercept model with variance
    ratio gamma, from the dense covariance matrix, and the estimates it implies: a reference
    written without the officer-sum algebra of the module."""
    same = (officers[:, None] == officers[None, :]).astype(float)
    w = np.eye(len(y)) + gamma * same               # V / sigma²
    w_inv = np.linalg.inv(w)
    a = x.T @ w_inv @ x
    beta = np.linalg.solve(a, x.T @ w_inv @ y)
    resid = y - x @ beta
    n, p = x.shape
    sigma2 = resid @ w_inv @ resid / (n - p)
    value = (n - p) * np.log(sigma2) + np.linalg.slogdet(w)[1] + np.linalg.slogdet(a)[1]
    return value, beta, sigma2, sigma2 * np.linalg.inv(a)


def test_unbalanced_fit_matches_statsmodels_and_the_dense_likelihood(waves):
    # officers missing at some time points, two cohorts: no closed form
    rng = np.random.default_rng(3)
    part = waves.loc[(waves["wave"] == 1) | (rng.random(len(waves)) > 0.3)]
    table = pooled_trajectory(part).set_index("time_point")
    data = part.assign(officer=part["cohort"] + part["linkage_key"],
                       time=part["wave"].map({1: "t0", 2: "t1", 3: "t2"}))
    ref = smf.mixedlm("score ~ C(time) + C(cohort)", data, groups=data["officer"]).fit(
        reml=True, method="bfgs", gtol=1e-12)
    assert ref.converged and float(ref.cov_re.iloc[0, 0]) > 0
    y = data["score"].to_numpy()
    x = np.column_stack([np.ones(len(y)), data["time"] == "t1", data["time"] == "t2",
                         data["cohort"] == "Meditation"]).astype(float)
    officers = data["officer"].to_numpy()
    best = optimize.minimize_scalar(lambda g: dense_reml(y, x, officers, g)[0],
                                    bounds=(0, 5), method="bounded", options={"xatol": 1e-12})
    _, beta, sigma2, cov = dense_reml(y, x, officers, best.x)
    for i, (point, name) in enumerate([("post", "C(time)[T.t1]"),
                                       ("follow-up ~6 months", "C(time)[T.t2]")], start=1):
        row = table.loc[point]
        assert row["mean_diff"] == pytest.approx(ref.fe_params[name], rel=1e-6)
        assert row["mean_diff"] == pytest.approx(beta[i], rel=1e-6)
        assert row["var_officer"] == pytest.approx(float(ref.cov_re.iloc[0, 0]), rel=1e-5)
        assert row["var_residual"] == pytest.approx(ref.scale, rel=1e-6)
        assert row["var_residual"] == pytest.approx(sigma2, rel=1e-6)
        # sigma² (X'V⁻¹X)⁻¹, as nlme and lme4 give it (statsmodels inverts the full Hessian,
        # which differs in the third decimal here)
        assert row["se"] == pytest.approx(np.sqrt(cov[i, i]), rel=1e-6)
        assert row["se"] == pytest.approx(ref.bse[name], rel=5e-3)
        assert row["converged"] and row["fit_warning"] == ""
        assert row["model"].startswith("Linear mixed model")


def test_a_boundary_fit_is_said_and_falls_back_to_a_stated_model(waves):
    # post scores handed out in reverse order of the pre scores: officers' scores anti-correlate
    # and the officer variance goes to its boundary, zero
    pre = waves.loc[waves["wave"] == 1].sort_values("score")
    post = waves.loc[waves["wave"] == 2].sort_values("score", ascending=False)
    post = post.assign(linkage_key=pre["linkage_key"].to_numpy())
    data = pd.concat([pre, post]).drop(columns="cohort")
    row = pooled_trajectory(data).iloc[0]
    assert row["var_officer"] == 0 and row["converged"] and row["n_obs"] == 120
    assert row["fit_warning"] == BOUNDARY_NOTE and "estimated at zero" in row["fit_warning"]
    assert row["model"] == ("Ordinary least squares: score ~ time point, standard errors "
                            "cluster-robust by linked officer (CR1)")
    # the REML criterion, from the dense matrices, is smallest at zero
    y = data["score"].to_numpy()
    x = np.column_stack([np.ones(len(y)), (data["wave"] == 2).to_numpy(float)])
    officers = data["linkage_key"].to_numpy()
    values = [dense_reml(y, x, officers, g)[0] for g in (0, 1e-4, 1e-3, 1e-2, 0.1, 1)]
    assert values == sorted(values)
    # the estimate: OLS, with statsmodels' cluster-robust (CR1) standard error
    frame = data.assign(post=x[:, 1])
    ols = smf.ols("score ~ post", frame).fit(cov_type="cluster",
                                             cov_kwds={"groups": frame["linkage_key"]})
    assert row["mean_diff"] == pytest.approx(ols.params["post"], rel=REL)
    assert row["se"] == pytest.approx(ols.bse["post"], rel=REL)
    assert row["p_val"] == pytest.approx(ols.pvalues["post"], rel=REL)
    assert row["mean_diff"] == pytest.approx(post["score"].mean() - pre["score"].mean(),
                                             rel=REL)


def test_pooled_model_needs_pre_and_a_later_time_point(waves):
    only_pre = pooled_trajectory(waves.loc[waves["wave"] == 1])
    assert only_pre.empty and "converged" in only_pre.columns


def test_a_model_that_cannot_be_fitted_gives_missing_estimates(waves):
    # one cohort seen only before, the other only after: time and cohort cannot be told apart
    split = waves.loc[((waves["cohort"] == "Control") & (waves["wave_kind"] == "pre"))
                      | ((waves["cohort"] == "Meditation") & (waves["wave_kind"] == "post"))]
    row = pooled_trajectory(split).iloc[0]
    assert np.isnan(row["mean_diff"]) and np.isnan(row["ci_low"]) and not row["converged"]
    assert "could not be fitted" in row["fit_warning"] and row["n_obs"] == 60
