"""Which reliability to use, item-rest correlations and scale checks, on pingouin's data."""
import numpy as np
import pandas as pd
import pingouin
import pytest

from analysis.reliability import (MIN_ALPHA_N, choose_reliability, cronbach_alpha, item_rest,
                                  scale_check)

REL = 1e-9


@pytest.fixture(scope="module")
def wide():
    """pingouin's cronbach_alpha data: 15 respondents, 10 items on 1-7, complete."""
    data = pingouin.read_dataset("cronbach_alpha")
    return data.pivot(index="Subj", columns="Items", values="Scores")[
        [f"Q{i}" for i in range(1, 11)]]


def as_long(wide, reverse=(), scale_max=7, wave_kind="pre"):
    """Tidy answers and item metadata; items in `reverse` stored reversed, flagged as such."""
    items = pd.DataFrame({"item": wide.columns, "construct": "x",
                          "reverse_keyed": [c in reverse for c in wide.columns],
                          "scale_min": 1, "scale_max": scale_max})
    stored = wide.copy()
    for code in reverse:
        stored[code] = 1 + scale_max - stored[code]
    data = stored.stack().rename("value").reset_index()
    data.columns = ["response_id", "item", "value"]
    return data.assign(wave=1, wave_kind=wave_kind), items


def rest_correlations(wide):
    """Step by step with pandas: each item against the sum of the others, complete rows."""
    complete = wide.dropna()
    return {c: complete[c].corr(complete.drop(columns=c).sum(axis=1)) for c in wide.columns}


def test_item_rest_matches_pandas_step_by_step(wide):
    data, items = as_long(wide, reverse=("Q2", "Q7"))
    table = item_rest(data, items).set_index("item")
    expected = rest_correlations(wide)
    for code, value in expected.items():
        assert table.loc[code, "item_rest"] == pytest.approx(value, rel=REL)
    assert (table["n"] == 15).all() and list(table.index) == list(wide.columns)
    assert list(table["against_scale"]) == [v < 0 for v in expected.values()]


def test_item_rest_is_listwise_like_alpha():
    wide = pingouin.read_dataset("cronbach_wide_missing")
    data, items = as_long(wide.astype(float) + 1, scale_max=2)
    table = item_rest(data.dropna(subset=["value"]), items).set_index("item")
    expected = rest_correlations(wide)
    assert (table["n"] == len(wide.dropna())).all()
    for code, value in expected.items():
        if np.isnan(value):
            assert np.isnan(table.loc[code, "item_rest"])
            assert pd.isna(table.loc[code, "against_scale"])
        else:
            assert table.loc[code, "item_rest"] == pytest.approx(value, rel=REL)


def test_items_against_the_scale_and_a_low_alpha_are_flagged(wide):
    # In this data set Q5 and Q6 run against the other eight items and alpha is .59
    data, items = as_long(wide)
    table = item_rest(data, items).set_index("item")
    assert table.loc["Q5", "item_rest"] < 0 and table.loc["Q6", "item_rest"] < 0
    assert list(table.index[table["against_scale"]]) == ["Q5", "Q6"]
    check = scale_check(data, items).iloc[0]
    assert check["alpha"] == pytest.approx(pingouin.cronbach_alpha(data=wide)[0], rel=REL)
    assert check["alpha"] < 0.6 and check["alpha_low"]
    assert check["items_against"] == "Q5, Q6" and check["n_against"] == 2
    assert check["min_item_rest"] == pytest.approx(table["item_rest"].min(), rel=REL)
    assert not scale_check(data, items, alpha_min=0.5).iloc[0]["alpha_low"]
    with pytest.raises(ValueError):
        scale_check(data, items, alpha_min=60)


def test_keying_is_applied_before_item_rest(wide):
    # Q5 flagged reverse-keyed: the function must correlate the keyed values
    data, items = as_long(wide)
    items.loc[items["item"] == "Q5", "reverse_keyed"] = True
    flipped = wide.assign(Q5=8 - wide["Q5"])
    table = item_rest(data, items).set_index("item")
    expected = rest_correlations(flipped)
    for code, value in expected.items():
        assert table.loc[code, "item_rest"] == pytest.approx(value, rel=REL)
    assert table.loc["Q5", "item_rest"] > 0 and not table.loc["Q5", "against_scale"]
    check = scale_check(data, items).iloc[0]
    assert check["alpha"] == pytest.approx(cronbach_alpha(flipped).iloc[0]["alpha"], rel=REL)
    assert check["items_against"] == ", ".join(c for c, v in expected.items() if v < 0)


def test_choose_reliability_uses_the_cohort_alpha_only_with_enough_responses(wide):
    data, items = as_long(wide)
    pg_alpha, _ = pingouin.cronbach_alpha(data=wide)
    small = choose_reliability(data, items, {"x": 0.85}).loc["x"]
    assert MIN_ALPHA_N == 50 and small["n"] == 15
    assert small["alpha"] == pytest.approx(pg_alpha, rel=REL)
    assert small["reliability"] == 0.85 and small["source"] == "reference"
    enough = choose_reliability(data, items, 0.85, min_n=15).loc["x"]
    assert enough["reliability"] == pytest.approx(pg_alpha, rel=REL)
    assert enough["source"] == "cohort pre-wave alpha"
    neither = choose_reliability(data, items).loc["x"]
    assert np.isnan(neither["reliability"]) and pd.isna(neither["source"])
    with pytest.raises(ValueError):
        choose_reliability(data, items, min_n=1)


def test_choose_reliability_reads_only_the_pre_wave(wide):
    data, items = as_long(wide, wave_kind="post")
    row = choose_reliability(data, items, {"x": 0.8}, min_n=2).loc["x"]
    assert row["n"] == 0 and row["source"] == "reference" and row["reliability"] == 0.8
