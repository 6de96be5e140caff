"""Reliable change (Jacobson & Truax 1991), step by step on pingouin's bundled data."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.reliable_change import reliable_change, reliable_change_scores

REL = 1e-9
Z95 = 1.959963984540054          # scipy.stats.norm.ppf(0.975)


def arrays(scores):
    pre = scores.loc[scores["wave_kind"] == "pre"].set_index("linkage_key")["score"]
    post = scores.loc[scores["wave_kind"] == "post"].set_index("linkage_key")["score"]
    pre, post = pre.align(post, join="inner")
    return pre.to_numpy(), post.to_numpy()


def test_each_officer_rci_follows_jacobson_truax(pre_post_scores):
    pre, post = arrays(pre_post_scores)
    table = reliable_change_scores(pre_post_scores, {"stigma": 0.8})
    s_diff = np.sqrt(2) * np.std(pre, ddof=1) * np.sqrt(1 - 0.8)
    np.testing.assert_allclose(table["rci"], (post - pre) / s_diff, rtol=REL)
    np.testing.assert_allclose(table["diff"], post - pre, rtol=REL)
    expected = np.where((post - pre) / s_diff > Z95, "higher",
                        np.where((post - pre) / s_diff < -Z95, "lower", "none"))
    assert list(table["change"]) == list(expected)
    assert set(expected) == {"higher", "none", "lower"}   # the data exercise all three


def test_counts_shares_and_threshold(pre_post_scores):
    pre, post = arrays(pre_post_scores)
    row = reliable_change(pre_post_scores, 0.8, source="reference").loc["stigma"]
    sd = np.std(pre, ddof=1)
    assert row["n"] == 60 and row["reliability"] == 0.8
    assert row["reliability_source"] == "reference"
    assert row["sd_before"] == pytest.approx(sd, rel=REL)
    assert row["sd_source"] == "linked officers' before scores"
    assert row["se_meas"] == pytest.approx(sd * np.sqrt(0.2), rel=REL)
    assert row["s_diff"] == pytest.approx(np.sqrt(2) * sd * np.sqrt(0.2), rel=REL)
    assert row["z"] == pytest.approx(stats.norm.ppf(0.975), rel=REL)
    assert row["threshold"] == pytest.approx(Z95 * row["s_diff"], rel=REL)
    diff = post - pre
    assert row["n_higher"] == np.sum(diff > row["threshold"])
    assert row["n_lower"] == np.sum(diff < -row["threshold"])
    assert row["n_higher"] + row["n_none"] + row["n_lower"] == 60
    assert row["share_higher"] == pytest.approx(row["n_higher"] / 60, rel=REL)
    assert row["share_higher"] + row["share_none"] + row["share_lower"] == pytest.approx(1)


def test_the_worked_example_sd_1_reliability_80_needs_1_24_points(pre_post_scores):
    row = reliable_change(pre_post_scores, 0.8, sd_before={"stigma": 1.0}).loc["stigma"]
    assert row["threshold"] == pytest.approx(1.96 * np.sqrt(2 * 0.2), abs=1e-3)
    assert round(row["threshold"], 2) == 1.24
    assert row["sd_source"] == "reference"


def test_a_wider_confidence_raises_the_threshold(pre_post_scores):
    at95 = reliable_change(pre_post_scores, 0.8).loc["stigma"]
    at90 = reliable_change(pre_post_scores, 0.8, confidence=0.90).loc["stigma"]
    assert at90["threshold"] / at95["threshold"] == pytest.approx(
        stats.norm.ppf(0.95) / Z95, rel=REL)
    assert at90["n_none"] <= at95["n_none"]


def test_reliability_from_the_chooser_carries_its_source(pre_post_scores):
    chosen = pd.DataFrame({"reliability": [0.7], "source": ["cohort pre-wave alpha"]},
                          index=pd.Index(["stigma"], name="construct"))
    row = reliable_change(pre_post_scores, chosen).loc["stigma"]
    assert row["reliability"] == 0.7 and row["reliability_source"] == "cohort pre-wave alpha"


def test_bad_or_missing_reliabilities_are_refused(pre_post_scores):
    for bad in (1.0, -0.1, {"stigma": 1.2}):
        with pytest.raises(ValueError, match="reliability"):
            reliable_change(pre_post_scores, bad)
    with pytest.raises(ValueError, match="stigma"):
        reliable_change(pre_post_scores, {"other": 0.8})


def test_a_missing_reliability_gives_missing_counts(pre_post_scores):
    row = reliable_change(pre_post_scores, {"stigma": np.nan}).loc["stigma"]
    assert row["n"] == 60 and pd.isna(row["n_higher"]) and np.isnan(row["share_none"])
    assert reliable_change_scores(pre_post_scores, np.nan)["change"].isna().all()


def test_only_linked_pairs_with_both_scores_are_classified(pre_post_scores):
    scores = pre_post_scores.copy()
    scores.loc[scores.index[:3], "score"] = np.nan
    scores.loc[scores.index[-2:], "linkage_key"] = None
    row = reliable_change(scores, 0.8).loc["stigma"]
    assert row["n"] == 55 == row["n_higher"] + row["n_none"] + row["n_lower"]


def test_a_reference_sd_may_cover_some_constructs_only(pre_post_scores):
    two = pd.concat([pre_post_scores, pre_post_scores.assign(construct="intent")])
    table = reliable_change(two, 0.8, sd_before={"stigma": 1.0})
    assert table.loc["stigma", "sd_before"] == 1.0
    assert table.loc["intent", "sd_source"] == "linked officers' before scores"
    assert table.loc["intent", "sd_before"] == pytest.approx(
        np.std(arrays(pre_post_scores)[0], ddof=1), rel=REL)
    with pytest.raises(ValueError, match="sd_before"):
        reliable_change(two, 0.8, sd_before=0)
