"""Change statistics against scipy, pingouin and statsmodels, on pingouin's bundled data."""
import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.change import (adjust_pvalues, change_report, hedges_correction,
                             linked_vs_unlinked, paired_change, partially_overlapping_change,
                             retention, unpaired_change)

REL = 1e-9


def arrays(scores):
    pre = scores.loc[scores["wave_kind"] == "pre"].set_index("linkage_key")["score"]
    post = scores.loc[scores["wave_kind"] == "post"].set_index("linkage_key")["score"]
    pre, post = pre.align(post, join="inner")
    return pre.to_numpy(), post.to_numpy()



def assert_welch_and_hedges(row, y, x):
    """`row` holds Welch's t of y - x with its CI, and Hedges' g with its CI, as scipy and
    pingouin give them; returns scipy's interval."""
    ref = stats.ttest_ind(y, x, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert row["t"] == pytest.approx(ref.statistic, rel=REL)
    assert row["dof"] == pytest.approx(ref.df, rel=REL)
    assert row["p_val"] == pytest.approx(ref.pvalue, rel=REL)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=REL)
    g = pingouin.compute_effsize(y, x, eftype="hedges")
    assert row["g"] == pytest.approx(g, rel=REL)
    esci = pingouin.compute_esci(stat=g, nx=len(y), ny=len(x), eftype="hedges", decimals=15)
    assert (row["g_ci_low"], row["g_ci_high"]) == pytest.approx(tuple(esci), rel=REL)
    return ci

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
    # Wilcoxon against pingouin: 60 pairs, so R's rule gives the normal approximation with the
    # continuity correction (tests/analysis/test_ranks.py checks the rule on exact fractions)
    w = pingouin.wilcoxon(post, pre, zero_method="wilcox", correction=True, method="asymptotic")
    assert row["w_stat"] == pytest.approx(w["W_val"].iloc[0], rel=REL)
    assert row["w_p_val"] == pytest.approx(w["p_val"].iloc[0], rel=REL)
    assert row["w_method"] == "normal approximation, tie- and continuity-corrected"


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


def test_d_av_has_the_same_interval_method_as_g_av(pre_post_scores):
    row = paired_change(pre_post_scores).loc["stigma"]
    esci = pingouin.compute_esci(stat=row["d_av"], nx=60, ny=60, paired=False, eftype="cohen",
                                 decimals=15)
    assert (row["d_av_ci_low"], row["d_av_ci_high"]) == pytest.approx(tuple(esci), rel=REL)
    # the two-sample formula written out: d ± t(2n-2) sqrt(2/n + d²/(4n))
    half = stats.t.ppf(0.975, 118) * np.sqrt(2 / 60 + row["d_av"] ** 2 / 240)
    assert row["d_av_ci_high"] - row["d_av"] == pytest.approx(half, rel=REL)
    # every effect size has an interval around it
    for name in ("d_z", "d_av", "g_av"):
        assert row[f"{name}_ci_low"] < row[name] < row[f"{name}_ci_high"]


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
    assert (row["n_before"], row["n_after"]) == (25, 30)
    assert_welch_and_hedges(row, y, x)
    # 25 and 30 scores without ties: R's rule gives the exact distribution
    u = pingouin.mwu(y, x, method="exact")
    assert row["u_stat"] == pytest.approx(u["U_val"].iloc[0], rel=REL)
    assert row["u_p_val"] == pytest.approx(u["p_val"].iloc[0], rel=REL)
    assert row["u_method"] == "exact"


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


# --- Partially overlapping samples (Derrick, Russ, Toher & White 2017) ------------------------

def test_overlap_without_unpaired_responses_is_the_paired_t_test(pre_post_scores):
    pre, post = arrays(pre_post_scores)
    row = partially_overlapping_change(pre_post_scores).loc["stigma"]
    ref = stats.ttest_rel(post, pre)
    ci = ref.confidence_interval(0.95)
    assert (row["n_paired"], row["n_before_only"], row["n_after_only"]) == (60, 0, 0)
    assert row["t"] == pytest.approx(ref.statistic, rel=REL)
    assert row["dof"] == pytest.approx(ref.df, rel=REL)
    assert row["p_val"] == pytest.approx(ref.pvalue, rel=REL)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=REL)


@pytest.mark.parametrize("equal_var", [False, True])
def test_overlap_without_pairs_is_welch_or_student(mixed, equal_var):
    x = mixed.loc[mixed["Time"] == "August", "Scores"].to_numpy()[:25]
    y = mixed.loc[mixed["Time"] == "June", "Scores"].to_numpy()[30:]
    scores = pd.DataFrame({"wave_kind": ["pre"] * 25 + ["post"] * 30, "construct": "stigma",
                           "linkage_key": None, "score": np.r_[x, y]})
    row = partially_overlapping_change(scores, equal_var=equal_var).loc["stigma"]
    ref = stats.ttest_ind(y, x, equal_var=equal_var)
    ci = ref.confidence_interval(0.95)
    assert (row["n_paired"], row["n_before_only"], row["n_after_only"]) == (0, 25, 30)
    assert row["t"] == pytest.approx(ref.statistic, rel=REL)
    assert row["dof"] == pytest.approx(ref.df, rel=REL)
    assert row["p_val"] == pytest.approx(ref.pvalue, rel=REL)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=REL)


@pytest.fixture
def partly_linked(pre_post_scores):
    """40 pairs; 10 before-only (5 unlinked, 5 linked but absent after, 1 missing after score
    makes 11); 10 after-only."""
    s = pre_post_scores.copy()
    key = s["linkage_key"].str[1:].astype(int)
    pre, post = s["wave_kind"] == "pre", s["wave_kind"] == "post"
    s = s.loc[~(post & key.between(40, 49)) & ~(pre & key.between(50, 59))].copy()
    key = s["linkage_key"].str[1:].astype(int)
    s.loc[key.between(40, 44), "linkage_key"] = None
    s.loc[(s["wave_kind"] == "post") & (key == 39), "score"] = np.nan
    return s


def test_overlap_follows_the_published_formula_step_by_step(partly_linked):
    s = partly_linked
    row = partially_overlapping_change(s).loc["stigma"]
    key = s["linkage_key"].fillna("none")
    paired_keys = [f"P{i:03d}" for i in range(39)]
    pb = s.loc[(s["wave_kind"] == "pre") & key.isin(paired_keys)].sort_values("linkage_key")
    pa = s.loc[(s["wave_kind"] == "post") & key.isin(paired_keys)].sort_values("linkage_key")
    xa = s.loc[(s["wave_kind"] == "pre") & ~key.isin(paired_keys), "score"].to_numpy()
    xb = s.loc[(s["wave_kind"] == "post") & ~key.isin(paired_keys), "score"].dropna().to_numpy()
    na, nb, nc = len(xa), len(xb), len(pb)
    assert (row["n_paired"], row["n_before_only"], row["n_after_only"]) == (39, 11, 10) \
        == (nc, na, nb)
    one = np.concatenate([xa, pb["score"].to_numpy()])
    two = np.concatenate([xb, pa["score"].to_numpy()])
    n1, n2 = na + nc, nb + nc
    s1, s2 = np.std(one, ddof=1), np.std(two, ddof=1)
    r = stats.pearsonr(pb["score"], pa["score"]).statistic
    se = np.sqrt(s1 ** 2 / n1 + s2 ** 2 / n2 - 2 * r * s1 * s2 * nc / (n1 * n2))
    t = (np.mean(two) - np.mean(one)) / se
    gamma = (s1 ** 2 / n1 + s2 ** 2 / n2) ** 2 / (
        (s1 ** 2 / n1) ** 2 / (n1 - 1) + (s2 ** 2 / n2) ** 2 / (n2 - 1))
    v2 = (nc - 1) + (gamma - nc + 1) / (na + nb + 2 * nc) * (na + nb)
    assert row["r"] == pytest.approx(r, rel=REL)
    assert row["se"] == pytest.approx(se, rel=REL)
    assert row["t"] == pytest.approx(t, rel=REL)
    assert row["dof"] == pytest.approx(v2, rel=REL)
    assert row["p_val"] == pytest.approx(2 * stats.t.sf(abs(t), v2), rel=REL)
    half = stats.t.ppf(0.975, v2) * se
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (row["mean_diff"] - half, row["mean_diff"] + half), rel=REL)
    assert row["mean_diff"] == pytest.approx(np.mean(two) - np.mean(one), rel=REL)


def test_overlap_reproduces_the_r_package_example():
    # Partiallyoverlapping::Partover.test(a.unpaired, b.unpaired, a.paired, b.paired,
    #                                     var.equal=TRUE)  # documented: p.value = 0.026
    a_unpaired = [20, 21, 16, 18, 14, 12, 14, 17]
    a_paired = [14, 15, 18, 20, 11, 19, 14, 15]
    b_unpaired = [10, 16, 18, 16, 15, 14, 13, 10]
    b_paired = [15, 10, 15, 17, 13, 19, 12, 13]
    scores = pd.DataFrame({
        "wave_kind": ["pre"] * 16 + ["post"] * 16, "construct": "x",
        "linkage_key": [None] * 8 + list("abcdefgh") + [None] * 8 + list("abcdefgh"),
        "score": a_unpaired + a_paired + b_unpaired + b_paired})
    row = partially_overlapping_change(scores, equal_var=True).loc["x"]
    assert round(row["p_val"], 3) == 0.026
    assert row["dof"] == 18.5                    # 7 + (23 / 32) * 16
    assert row["mean_diff"] == -2.0              # after (b) minus before (a)
    assert row["t"] < 0


def test_overlap_with_too_few_scores_gives_missing_statistics():
    scores = pd.DataFrame({"wave_kind": ["pre", "post", "post"], "construct": "x",
                           "linkage_key": [None, None, None], "score": [3.0, 4.0, 5.0]})
    row = partially_overlapping_change(scores).loc["x"]
    assert row["mean_diff"] == 1.5 and np.isnan(row["t"]) and np.isnan(row["ci_low"])


# --- Are the linked officers typical? ---------------------------------------------------------

def test_linked_vs_unlinked_compares_before_scores_with_welch(partly_linked):
    s = partly_linked
    table = linked_vs_unlinked(s)
    row = table.loc["stigma"]
    pre = s.loc[s["wave_kind"] == "pre"]
    linked = pre["linkage_key"].isin([f"P{i:03d}" for i in range(39)])
    x, y = pre.loc[~linked, "score"].to_numpy(), pre.loc[linked, "score"].to_numpy()
    assert (row["n_linked"], row["n_unlinked"]) == (39, 11)
    assert row["n_linked"] == paired_change(s).loc["stigma", "n"]
    assert row["mean_diff"] == pytest.approx(y.mean() - x.mean(), rel=REL)
    ci = assert_welch_and_hedges(row, y, x)
    assert row["differs"] == bool(ci.low > 0 or ci.high < 0)
    assert str(table["differs"].dtype) == "boolean"


def test_linked_vs_unlinked_flags_a_shifted_group(partly_linked):
    s = partly_linked.copy()
    s.loc[s["linkage_key"].isna(), "score"] += 3        # unlinked officers start 3 points up
    row = linked_vs_unlinked(s).loc["stigma"]
    assert bool(row["differs"]) and row["ci_high"] < 0


def test_linked_vs_unlinked_without_a_comparison_group_is_missing(pre_post_scores):
    one_unlinked = pre_post_scores.copy()
    one_unlinked.loc[one_unlinked.index[0], "linkage_key"] = None
    row = linked_vs_unlinked(one_unlinked).loc["stigma"]
    assert (row["n_linked"], row["n_unlinked"]) == (59, 1)
    assert pd.isna(row["differs"]) and np.isnan(row["p_val"])
