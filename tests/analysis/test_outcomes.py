"""analysis.outcomes against scipy, on statsmodels' US macroeconomic data (quarterly, 1959-2009).

Inflation plays a scale's pulse means, one a quarter; unemployment plays a program count,
given in each quarter's first month only, so that a lag of 3 months pairs a quarter with the
next one and a lag of 1 month finds no count at all.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.outcomes import lagged_correlation


@pytest.fixture(scope="module")
def macro():
    data = sm.datasets.macrodata.load_pandas().data
    start = pd.to_datetime({"year": data["year"].astype(int),
                            "month": (data["quarter"].astype(int) - 1) * 3 + 1, "day": 1})
    attitudes = pd.DataFrame({"date": start + pd.Timedelta(days=14), "construct": "inflation",
                              "mean": data["infl"]})
    outcomes = pd.DataFrame({"month": start, "measure": "unemployment",
                             "value": data["unemp"]})
    return data, attitudes, outcomes


def test_each_lag_equals_scipy_pearsonr_with_its_fisher_interval(macro):
    data, attitudes, outcomes = macro
    result = lagged_correlation(attitudes, outcomes, lags=(0, 1, 3, -3)).set_index("lag")
    for lag, shift in ((0, 0), (3, 1), (-3, -1)):
        x, y = data["infl"].to_numpy(), data["unemp"].shift(-shift).to_numpy()
        keep = ~np.isnan(y)
        reference = stats.pearsonr(x[keep], y[keep])
        interval = reference.confidence_interval(0.95)
        row = result.loc[lag]
        assert row["n"] == keep.sum() == len(data) - abs(shift)
        assert row["r"] == pytest.approx(reference.statistic, abs=1e-12)
        assert row["p_val"] == pytest.approx(reference.pvalue, rel=1e-9)
        assert row["ci_low"] == pytest.approx(interval.low, abs=1e-12)
        assert row["ci_high"] == pytest.approx(interval.high, abs=1e-12)
    assert result.loc[1, "n"] == 0 and np.isnan(result.loc[1, "r"])  # no count that month


def test_missing_means_and_months_drop_out_of_their_pairs_only(macro):
    data, attitudes, outcomes = macro
    attitudes = attitudes.assign(mean=attitudes["mean"].where(attitudes.index % 7 != 0))
    outcomes = outcomes.loc[outcomes.index % 5 != 0]
    row = lagged_correlation(attitudes, outcomes, lags=[0]).iloc[0]
    keep = (data.index % 7 != 0) & (data.index % 5 != 0)
    reference = stats.pearsonr(data["infl"][keep], data["unemp"][keep])
    assert row["n"] == keep.sum()
    assert row["r"] == pytest.approx(reference.statistic, abs=1e-12)


def test_ties_and_a_constant_series():
    dates = pd.date_range("2024-01-01", periods=6, freq="MS")
    attitudes = pd.DataFrame({"date": dates, "construct": "intention",
                              "mean": [3.0, 3.0, 3.5, 3.5, 4.0, 4.0]})
    outcomes = pd.DataFrame({"month": dates, "measure": "referrals", "value": [2, 2, 3, 5, 5, 8]})
    row = lagged_correlation(attitudes, outcomes, lags=[0]).iloc[0]
    reference = stats.pearsonr(attitudes["mean"], outcomes["value"])
    assert row["r"] == pytest.approx(reference.statistic, abs=1e-12)
    flat = lagged_correlation(attitudes, outcomes.assign(value=4), lags=[0]).iloc[0]
    assert flat["n"] == 6 and np.isnan(flat["r"]) and np.isnan(flat["ci_low"])
    few = lagged_correlation(attitudes.head(3), outcomes, lags=[0]).iloc[0]
    assert few["n"] == 3 and np.isnan(few["r"])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="mean"):
        lagged_correlation(pd.DataFrame({"date": [], "construct": []}),
                           pd.DataFrame({"month": [], "measure": [], "value": []}))
    with pytest.raises(ValueError, match="confidence"):
        lagged_correlation(pd.DataFrame({"date": [], "construct": [], "mean": []}),
                           pd.DataFrame({"month": [], "measure": [], "value": []}),
                           confidence=1.5)
