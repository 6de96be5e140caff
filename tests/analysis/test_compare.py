"""Cohort comparison against scipy and pingouin; suppression that holds against subtraction."""
import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats

from analysis.compare import between_cohorts, change_scores, cohort_changes, welch_anova
from analysis.suppression import suppress

REL = 1e-9


@pytest.fixture(scope="module")
def cohorts():
    """pingouin's mixed_anova, August (pre) and January (post), as three cohorts: its Control
    group split in two (15 and 15 subjects) and its Meditation group (30)."""
    mixed = pingouin.read_dataset("mixed_anova")
    part = mixed.loc[mixed["Time"].isin(["August", "January"])]
    cohort = np.where(part["Group"] == "Meditation", "Meditation",
                      np.where(part["Subject"] < 15, "Control A", "Control B"))
    return pd.DataFrame({
        "cohort": cohort,
        "wave_kind": np.where(part["Time"] == "August", "pre", "post"),
        "linkage_key": part["Subject"].to_numpy(), "construct": "stigma",
        "score": part["Scores"].to_numpy()})


def test_cohort_changes_match_scipy_per_cohort(cohorts):
    table = cohort_changes(cohorts).set_index("cohort")
    for cohort, part in cohorts.groupby("cohort"):
        pre = part.loc[part["wave_kind"] == "pre"].set_index("linkage_key")["score"]
        post = part.loc[part["wave_kind"] == "post"].set_index("linkage_key")["score"]
        ref = stats.ttest_rel(post.loc[pre.index], pre)
        ci = ref.confidence_interval()
        assert table.loc[cohort, "n"] == len(pre)
        assert table.loc[cohort, "ci_low"] == pytest.approx(ci.low, rel=REL)
        assert table.loc[cohort, "ci_high"] == pytest.approx(ci.high, rel=REL)


def test_between_cohort_tests_match_scipy_and_pingouin(cohorts):
    row = between_cohorts(cohorts).loc["stigma"]
    changes = change_scores(cohorts)
    groups = [g["change"].to_numpy() for _, g in changes.groupby("cohort")]
    f = stats.f_oneway(*groups)
    assert row["anova_f"] == pytest.approx(f.statistic, rel=REL)
    assert row["anova_p_val"] == pytest.approx(f.pvalue, rel=REL)
    welch = pingouin.welch_anova(data=changes, dv="change", between="cohort").iloc[0]
    assert row["welch_f"] == pytest.approx(welch["F"], rel=REL)
    assert row["welch_df2"] == pytest.approx(welch["ddof2"], rel=REL)
    assert row["welch_p_val"] == pytest.approx(welch["p_unc"], rel=REL)
    h = stats.kruskal(*groups)
    assert row["kruskal_h"] == pytest.approx(h.statistic, rel=REL)
    assert row["kruskal_p_val"] == pytest.approx(h.pvalue, rel=REL)
    assert row["k"] == 3 and row["n"] == 60 and "Welch" in row["read"]


def test_welch_anova_on_penguins_matches_pingouin():
    penguins = pingouin.read_dataset("penguins").dropna(subset=["body_mass_g"])
    groups = [g["body_mass_g"].to_numpy() for _, g in penguins.groupby("species")]
    f, df1, df2, p = welch_anova(groups)
    ref = pingouin.welch_anova(data=penguins, dv="body_mass_g", between="species").iloc[0]
    assert (f, df1, df2) == pytest.approx((ref["F"], ref["ddof1"], ref["ddof2"]), rel=REL)


def test_small_cohorts_are_left_out_of_the_tests(cohorts):
    small = cohorts.loc[~((cohorts["cohort"] == "Control A") & (cohorts["linkage_key"] > 3))]
    row = between_cohorts(small, min_n=5).loc["stigma"]
    assert row["k"] == 2 and row["n"] == 45


# --- Suppression ---------------------------------------------------------------------------------

def units(ns, mean=3.0):
    return pd.DataFrame({"unit": [f"U{i}" for i in range(len(ns))], "construct": "stigma",
                         "n": ns, "mean": mean})


def test_groups_under_k_are_withheld_and_marked():
    table = suppress(units([12, 4, 9, 5]), k=5)
    assert table["withheld"].tolist() == [False, True, False, False]
    assert np.isnan(table.loc[1, "mean"]) and np.isnan(table.loc[1, "n"])
    assert table.loc[1, "withheld_reason"] == "fewer than 5 responses"
    assert table.loc[3, "mean"] == 3.0  # exactly k is shown


def test_a_single_withheld_unit_takes_the_next_smallest_with_it():
    table = suppress(units([12, 4, 9, 7]), k=5, groups=["construct"])
    assert table["withheld"].tolist() == [False, True, False, True]
    assert "subtraction" in table.loc[3, "withheld_reason"]
    # with the second unit hidden, no total minus shown units isolates fewer than k officers
    hidden = units([12, 4, 9, 7])["n"][table["withheld"]].sum()
    assert hidden >= 5


def test_withheld_units_that_add_up_to_less_than_k_take_another():
    table = suppress(units([1, 2, 30, 8, 6]), k=5, groups=["construct"])
    assert table["withheld"].tolist() == [True, True, False, False, True]


def test_each_set_is_suppressed_on_its_own():
    table = pd.concat([units([12, 4, 9]), units([12, 8, 9]).assign(construct="intention")],
                      ignore_index=True)
    out = suppress(table, k=5, groups=["construct"])
    assert out["withheld"].tolist() == [False, True, True, False, False, False]


def test_k_has_a_floor():
    with pytest.raises(ValueError, match="below 3"):
        suppress(units([10]), k=2)
    assert suppress(units([3, 3]), k=3)["withheld"].tolist() == [False, False]
