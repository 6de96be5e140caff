"""Change statistics against scipy, pingouin and statsmodels, on pingouin's bundled data."""
import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.change import (adjust_pvalues, change_report, hedges_correction, paired_change,
                             retention, unpaired_change)

REL = 1e-9


def arrays(scores):
    pre = scores.loc[scores["wave_kind"] == "pre"].set_index("linkage_key")["score"]
    post = scores.loc[scores["wave_kind"] == "post"].set_index("linkage_key")["score"]
    pre, post = pre.align(post, join="inner")
    return pre.to_numpy(), post.to_numpy()


def test_paired_change_matches_scipy_and_pingouin(pre_post_scores):
    pre, post = arrays(pre_post_scores)
    row = paired_change(pre_post_scores).loc["stigma"]
    ref = stats.ttest_rel(post, pre)
    ci = ref.confidence_interval(0.95)
    assert row["n"] == len(pre) == 60
    assert row["mean_diff"] == pytest.approx(np.mean(post - pre), rel=REL)
    assert row["t"] == pytest.approx(ref.statistic, rel=REL)
    assert row["dof"] == ref.df
    assert row["p_val"] == pytest.approx(ref.pvalue, rel=REL)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=REL)
    assert row["r"] == pytest.approx(stats.pearsonr(pre, post).statistic, rel=REL)
    # d_z = t / sqrt(n), its interval as pingouin computes it
    assert row["d_z"] == pytest.approx(ref.statistic / np.sqrt(60), rel=REL)
    esci = pingouin.compute_esci(stat=row["d_z"], nx=60, ny=60, paired=True, eftype="cohen",
                                 decimals=15)
    assert (row["d_z_ci_low"], row["d_z_ci_high"]) == pytest.approx(tuple(esci), rel=REL)
    # Wilcoxon against pingouin
    w = pingouin.wilcoxon(post, pre, zero_method="wilcox", correction=False, method="auto")
    assert row["w_stat"] == pytest.approx(w["W_val"].iloc[0], rel=REL)
    assert row["w_p_val"] == pytest.approx(w["p_val"].iloc[0], rel=REL)


def test_g_av_follows_lakens_with_hedges_correction(pre_post_scores):
    pre, post = arrays(pre_post_scores)
    row = paired_change(pre_post_scores).loc["stigma"]
    d_av = np.mean(post - pre) / ((np.std(pre, ddof=1) + np.std(post, ddof=1)) / 2)
    assert row["d_av"] == pytest.approx(d_av, rel=REL)
    g_ref = pingouin.convert_effsize(d_av, "cohen", "hedges", nx=60, ny=60)
    assert row["g_av"] == pytest.approx(g_ref, rel=REL)
    esci = pingouin.compute_esci(stat=g_ref, nx=60, ny=60, paired=False, eftype="hedges",
                                 decimals=15)
    assert (row["g_av_ci_low"], row["g_av_ci_high"]) == pytest.approx(tuple(esci), rel=REL)
    assert hedges_correction(120) == pytest.approx(1 - 3 / (4 * 120 - 9))


def test_only_linked_pairs_with_both_scores_count(pre_post_scores):
    scores = pre_post_scores.copy()
    scores.loc[scores.index[:3], "score"] = np.nan            # 3 pre scores missing
    scores.loc[scores.index[-2:], "linkage_key"] = None       # 2 post responses unlinked
    row = paired_change(scores).loc["stigma"]
    assert row["n"] == 55
    with pytest.raises(ValueError, match="appears twice"):
        paired_change(pd.concat([pre_post_scores, pre_post_scores.iloc[:1]]))


def test_unpaired_change_matches_scipy_and_pingouin(mixed):
    x = mixed.loc[mixed["Time"] == "August", "Scores"].to_numpy()[:25]
    y = mixed.loc[mixed["Time"] == "June", "Scores"].to_numpy()[30:]
    scores = pd.DataFrame({"wave_kind": ["pre"] * len(x) + ["post"] * len(y),
                           "construct": "stigma", "score": np.r_[x, y]})
    row = unpaired_change(scores).loc["stigma"]
    ref = stats.ttest_ind(y, x, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert (row["n_before"], row["n_after"]) == (25, 30)
    assert row["t"] == pytest.approx(ref.statistic, rel=REL)
    assert row["dof"] == pytest.approx(ref.df, rel=REL)
    assert row["p_val"] == pytest.approx(ref.pvalue, rel=REL)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=REL)
    g = pingouin.compute_effsize(y, x, eftype="hedges")
    assert row["g"] == pytest.approx(g, rel=REL)
    esci = pingouin.compute_esci(stat=g, nx=30, ny=25, eftype="hedges", decimals=15)
    assert (row["g_ci_low"], row["g_ci_high"]) == pytest.approx(tuple(esci), rel=REL)
    u = pingouin.mwu(y, x)
    assert row["u_stat"] == pytest.approx(u["U_val"].iloc[0], rel=REL)
    assert row["u_p_val"] == pytest.approx(u["p_val"].iloc[0], rel=REL)


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjusted_p_values_match_statsmodels(mixed, method):
    groups = [g["Scores"].to_numpy() for _, g in mixed.groupby("Subject")]
    raw = np.array([stats.ttest_1samp(g, 4.5).pvalue for g in groups[:12]])
    ours = adjust_pvalues(raw, method)
    theirs = multipletests(raw, method=method)[1]
    np.testing.assert_allclose(ours, theirs, rtol=REL)
    with_nan = adjust_pvalues(np.r_[raw[:3], np.nan], method)
    np.testing.assert_allclose(with_nan[:3], multipletests(raw[:3], method=method)[1], rtol=REL)
    assert np.isnan(with_nan[3])
    with pytest.raises(ValueError):
        adjust_pvalues(raw, "bonferonni")


def test_change_report_splits_linked_and_unlinked_without_double_counting(pre_post_scores):
    scores = pre_post_scores.copy()
    unlinked = scores["linkage_key"].isin([f"P{i:03d}" for i in range(10)])
    scores.loc[unlinked & (scores["wave_kind"] == "post"), "linkage_key"] = None
    scores.loc[unlinked & (scores["wave_kind"] == "pre"), "linkage_key"] = None
    scores = pd.concat([scores, scores.assign(construct="intention",
                                              score=scores["score"] * 0.5 + 1)])
    report = change_report(scores)
    linked = report.loc[("stigma", "linked")]
    rest = report.loc[("stigma", "unlinked")]
    assert linked["n"] == 50 and (rest["n_before"], rest["n_after"]) == (10, 10)
    assert linked["linkage_rate"] == pytest.approx(50 / 60)
    assert linked["n_after_all"] == 60
    p = report.xs("linked", level="analysis")["p_val"]
    np.testing.assert_allclose(report.xs("linked", level="analysis")["p_adj"],
                               multipletests(p, method="holm")[1], rtol=REL)
    assert np.isnan(linked["u_stat"]) and np.isnan(rest["d_z"])


def test_retention_compares_post_with_each_follow_up(mixed):
    scores = pd.DataFrame({
        "wave": mixed["Time"].map({"August": 1, "January": 2, "June": 3}),
        "wave_kind": mixed["Time"].map({"August": "post", "January": "followup",
                                        "June": "followup"}),
        "followup_days": mixed["Time"].map({"August": np.nan, "January": 150.0, "June": 300.0}),
        "linkage_key": mixed["Subject"], "construct": "stigma", "score": mixed["Scores"]})
    result = retention(scores)
    assert list(result["followup_days"]) == [150, 300]
    post = mixed.loc[mixed["Time"] == "August", "Scores"].to_numpy()
    june = mixed.loc[mixed["Time"] == "June", "Scores"].to_numpy()
    ref = stats.ttest_rel(june, post)
    assert result.iloc[1]["t"] == pytest.approx(ref.statistic, rel=REL)
    assert result.iloc[1]["p_val"] == pytest.approx(ref.pvalue, rel=REL)


def test_too_few_pairs_give_missing_statistics_not_errors():
    scores = pd.DataFrame({"wave_kind": ["pre", "post"], "linkage_key": ["a", "a"],
                           "construct": "x", "score": [3.0, 4.0]})
    row = paired_change(scores).loc["x"]
    assert row["n"] == 1 and row["mean_diff"] == 1.0 and np.isnan(row["t"])
    flat = pd.DataFrame({"wave_kind": ["pre", "post"] * 3, "linkage_key": list("aabbcc"),
                         "construct": "x", "score": [3.0] * 6})
    row = paired_change(flat).loc["x"]
    assert row["mean_diff"] == 0 and np.isnan(row["t"]) and np.isnan(row["w_stat"])


def test_bad_confidence_is_refused(pre_post_scores):
    with pytest.raises(ValueError, match="confidence"):
        paired_change(pre_post_scores, confidence=95)


def test_a_fully_linked_cohort_reports_an_empty_unlinked_remainder(pre_post_scores):
    report = change_report(pre_post_scores)
    rest = report.loc[("stigma", "unlinked")]
    assert rest["n_before"] == 0 and rest["n_after"] == 0 and np.isnan(rest["p_val"])
    assert report.loc[("stigma", "linked"), "linkage_rate"] == 1.0


def test_a_cohort_with_no_links_reports_only_the_unpaired_analysis(pre_post_scores):
    report = change_report(pre_post_scores.assign(linkage_key=None))
    assert report.loc[("stigma", "linked"), "n"] == 0
    assert report.loc[("stigma", "unlinked"), "n_after"] == 60
    assert report.loc[("stigma", "linked"), "linkage_rate"] == 0
