"""Reverse keying, the 80% rule, item distributions and Cronbach's alpha."""
import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats

from analysis.reliability import cronbach_alpha, scale_alpha
from analysis.scoring import item_distribution, reverse_key, scale_scores

ITEMS = pd.DataFrame({
    "item": ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3"],
    "construct": ["a"] * 5 + ["b"] * 3,
    "reverse_keyed": [False, True, False, False, True, False, False, True],
    "scale_min": 1, "scale_max": 5,
})


def long(rows):
    """rows: {response_id: {item: value}} -> tidy answers."""
    return pd.DataFrame([{"response_id": r, "wave": 1, "wave_kind": "pre", "cohort": 7,
                          "linkage_key": None, "item": i, "value": v}
                         for r, answers in rows.items() for i, v in answers.items()])


def test_reverse_keying_flips_only_reverse_items():
    keyed = reverse_key(long({"r": {"A1": 1, "A2": 1, "A3": 4, "A5": 5, "B3": 3}}), ITEMS)
    assert keyed.set_index("item")["value"].to_dict() == {"A1": 1, "A2": 5, "A3": 4, "A5": 1,
                                                          "B3": 3}
    assert set(keyed["construct"]) == {"a", "b"}


def test_scale_score_is_the_mean_of_keyed_answers():
    scores = scale_scores(long({"r": {"A1": 5, "A2": 1, "A3": 4, "A4": 4, "A5": 2,
                                      "B1": 2, "B2": 3, "B3": 5}}), ITEMS)
    by = scores.set_index("construct")
    assert by.loc["a", "score"] == pytest.approx((5 + 5 + 4 + 4 + 4) / 5)
    assert by.loc["b", "score"] == pytest.approx((2 + 3 + 1) / 3)
    assert by.loc["a", "n_items"] == 5 and by.loc["b", "n_answered"] == 3
    assert (scores["cohort"] == 7).all() and (scores["wave_kind"] == "pre").all()


def test_eighty_percent_rule():
    four_of_five = {"A1": 5, "A2": 1, "A3": 4, "A4": 4}        # 80%: scored
    three_of_five = {"A1": 5, "A2": 1, "A3": 4}                # 60%: missing
    two_of_three = {"B1": 2, "B2": 4}                          # 67%: missing
    scores = scale_scores(long({"x": four_of_five, "y": {**three_of_five, **two_of_three}}),
                          ITEMS).set_index(["response_id", "construct"])
    assert scores.loc[("x", "a"), "score"] == pytest.approx((5 + 5 + 4 + 4) / 4)
    assert np.isnan(scores.loc[("y", "a"), "score"])
    assert np.isnan(scores.loc[("y", "b"), "score"])
    assert np.isnan(scores.loc[("x", "b"), "score"]) and scores.loc[("x", "b"), "n_answered"] == 0
    looser = scale_scores(long({"y": two_of_three}), ITEMS, min_share=0.6)
    assert looser.set_index("construct").loc["b", "score"] == pytest.approx(3.0)


def test_unknown_item_and_out_of_scale_value_are_refused():
    with pytest.raises(ValueError, match="not in the metadata: Z9"):
        scale_scores(long({"r": {"Z9": 3}}), ITEMS)
    with pytest.raises(ValueError, match="outside their item's scale"):
        scale_scores(long({"r": {"A1": 6}}), ITEMS)
    with pytest.raises(ValueError, match="lacks the column"):
        scale_scores(long({"r": {"A1": 3}}).drop(columns="value"), ITEMS)


def test_item_distribution_counts_every_point():
    dist = item_distribution(long({"r": {"A1": 5}, "s": {"A1": 5}, "t": {"A1": 2}}), ITEMS)
    a1 = dist.loc[dist["item"] == "A1"].set_index("value")
    assert a1["n"].to_dict() == {1: 0, 2: 1, 3: 0, 4: 0, 5: 2}
    assert a1.loc[5, "share"] == pytest.approx(2 / 3) and (a1["n_item"] == 3).all()
    assert dist.loc[dist["item"] == "B1", "share"].isna().all()


# --- Cronbach's alpha against pingouin, on its bundled data set -------------------------------

@pytest.fixture(scope="module")
def alpha_data():
    return pingouin.read_dataset("cronbach_alpha")


def feldt(alpha, n, k, confidence=0.95):
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return (1 - (1 - alpha) * stats.f.ppf(1 - (1 - confidence) / 2, df1, df2),
            1 - (1 - alpha) * stats.f.ppf((1 - confidence) / 2, df1, df2))


def test_alpha_matches_pingouin_on_its_data(alpha_data):
    wide = alpha_data.pivot(index="Subj", columns="Items", values="Scores")
    assert not wide.isna().any().any()
    ours = cronbach_alpha(wide).iloc[0]
    theirs, ci = pingouin.cronbach_alpha(data=alpha_data, items="Items", scores="Scores",
                                         subject="Subj")
    assert ours["alpha"] == pytest.approx(theirs, rel=1e-9)
    low, high = feldt(theirs, len(wide), wide.shape[1])
    assert ours["ci_low"] == pytest.approx(low, rel=1e-9)
    assert ours["ci_high"] == pytest.approx(high, rel=1e-9)
    assert ci[0] == pytest.approx(low, abs=5e-4)  # pingouin rounds its interval to 3 decimals
    assert ours["n"] == len(wide) and ours["k"] == wide.shape[1]


def test_alpha_with_missing_rows_is_listwise(alpha_data):
    wide = pingouin.read_dataset("cronbach_wide_missing")
    ours = cronbach_alpha(wide).iloc[0]
    complete = wide.dropna()
    theirs, _ = pingouin.cronbach_alpha(data=complete)
    assert ours["alpha"] == pytest.approx(theirs, rel=1e-9)
    assert ours["n"] == len(complete) < len(wide)
    low, _ = feldt(theirs, len(complete), wide.shape[1])
    assert ours["ci_low"] == pytest.approx(low, rel=1e-9)


def test_alpha_needs_two_items_and_gives_nan_without_variance():
    with pytest.raises(ValueError):
        cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]}))
    flat = cronbach_alpha(pd.DataFrame({"a": [3, 3, 3], "b": [3, 3, 3]})).iloc[0]
    assert np.isnan(flat["alpha"])


def test_scale_alpha_keys_items_before_computing(alpha_data):
    wide = alpha_data.pivot(index="Subj", columns="Items", values="Scores")
    # store Q2 reversed on a 0-10 scale: alpha must be computed on the keyed values
    items = pd.DataFrame({"item": wide.columns, "construct": "x",
                          "reverse_keyed": [c == "Q2" for c in wide.columns],
                          "scale_min": 0, "scale_max": 10})
    stored = wide.copy()
    stored["Q2"] = 10 - stored["Q2"]
    data = stored.stack().rename("value").reset_index().rename(
        columns={"Subj": "response_id", "Items": "item"})
    data["wave"] = 1
    result = scale_alpha(data, items).iloc[0]
    assert result["alpha"] == pytest.approx(cronbach_alpha(wide).iloc[0]["alpha"], rel=1e-9)


def test_common_items_keeps_what_every_version_offered():
    from analysis.scoring import common_items
    offered = pd.DataFrame({
        "wave": [1, 1, 1, 2, 2, 2, 2, 3],
        "item": ["A1", "A2", "B1", "A1", "A2", "A3", "B1", "B1"],
        "construct": ["a", "a", "b", "a", "a", "a", "b", "b"]})
    table = common_items(offered).set_index("construct")
    assert table.loc["a", "items"] == ["A1", "A2"] and table.loc["a", "n_items_all"] == 3
    assert bool(table.loc["a", "changed"]) and not bool(table.loc["b", "changed"])
    assert table.loc["b", "items"] == ["B1"]  # wave 3 asked only b: it restricts only b


def test_favourable_shares_count_keyed_answers_exactly_with_ties_and_gaps():
    """pingouin's cronbach_alpha answers (15 respondents, 10 statements on 1-7, many ties at
    the midpoint 4): Q1-Q5 one scale where higher is better, Q6-Q10 one where lower is, Q2 and
    Q7 stored reversed, a few answers missing; shares counted by hand as exact fractions."""
    from fractions import Fraction

    from analysis.scoring import favourable_shares
    long = pingouin.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", columns="Items", values="Scores")[
        [f"Q{i}" for i in range(1, 11)]].astype(float)
    wide.iloc[0, 0] = wide.iloc[3, 6] = wide.iloc[7, 9] = np.nan  # "Prefer not to answer"
    construct = {f"Q{i}": "a" if i <= 5 else "b" for i in range(1, 11)}
    items = pd.DataFrame({"item": wide.columns, "construct": [construct[c] for c in wide.columns],
                          "reverse_keyed": [c in ("Q2", "Q7") for c in wide.columns],
                          "scale_min": 1, "scale_max": 7})
    stored = wide.copy()
    for code in ("Q2", "Q7"):
        stored[code] = 8 - stored[code]
    data = stored.stack().rename("value").reset_index()
    data.columns = ["response_id", "item", "value"]
    data["wave"] = 1
    table = favourable_shares(data, items, pd.Series({"a": "higher", "b": "lower"}))
    table = table.set_index("construct")

    for name, good in (("a", lambda x: x > 4), ("b", lambda x: x < 4)):
        answers = [x for c in wide.columns if construct[c] == name for x in wide[c].dropna()]
        bad = (lambda x: x < 4) if name == "a" else (lambda x: x > 4)
        row = table.loc[name]
        assert row["n_answers"] == len(answers) == {"a": 74, "b": 73}[name]
        assert row["n"] == 15
        assert Fraction(row["favourable"]).limit_denominator(1000) == \
            Fraction(sum(map(good, answers)), len(answers))
        assert Fraction(row["unfavourable"]).limit_denominator(1000) == \
            Fraction(sum(map(bad, answers)), len(answers))
        assert Fraction(row["neutral"]).limit_denominator(1000) == \
            Fraction(answers.count(4.0), len(answers))
        assert row[["favourable", "neutral", "unfavourable"]].sum() == pytest.approx(1)
