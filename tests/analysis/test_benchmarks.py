"""Benchmarks against similar agencies: the group rules, and the figures against numpy, scipy
and the standard library, on penguins' body masses (many ties) as agency means."""
import statistics

import pandas as pd
import pingouin
import pytest
from scipy import stats

from analysis.benchmarks import apart, benchmark, percentile_rank


def network(means, n=10, size="25–99 sworn", region="Midwest", start=0):
    return pd.DataFrame({"agency": range(start, start + len(means)), "construct": "x",
                         "mean": means, "n": n, "size_band": size, "region": region})


PROFILE = {"size_band": "25–99 sworn", "region": "Midwest"}


def test_percentile_rank_is_scipy_s_mean_kind_with_ties():
    masses = pingouin.read_dataset("penguins")["body_mass_g"].dropna().to_numpy()
    for score in (3400.0, 3800.0, 4050.0, 5000.0, 2000.0, 7000.0):
        assert percentile_rank(masses, score) == pytest.approx(
            stats.percentileofscore(masses, score, kind="mean"), abs=1e-12)


def test_median_and_middle_half_are_type_7_quantiles():
    masses = pingouin.read_dataset("penguins")["body_mass_g"].dropna().to_numpy()[:40]
    table, members = benchmark(pd.DataFrame({"construct": ["x"], "mean": [4000.0]}),
                               network(masses), PROFILE)
    q1, median, q3 = statistics.quantiles(masses, n=4, method="inclusive")
    row = table.iloc[0]
    assert (row["q1"], row["median"], row["q3"]) == pytest.approx((q1, median, q3), abs=1e-9)
    assert row["n_agencies"] == 40 and members == list(range(40))


def test_a_group_needs_five_agencies_and_fifty_officers_or_it_widens():
    own = pd.DataFrame({"construct": ["x"], "mean": [3.0]})
    four = network([3.1, 3.2, 3.3, 3.4])
    table, members = benchmark(own, four, PROFILE)
    assert table.empty and members == []
    nine_each = network([3.1, 3.2, 3.3, 3.4, 3.5], n=9)  # 45 officers
    assert benchmark(own, nine_each, PROFILE)[0].empty
    wider = pd.concat([four, network([2.0], region="West", start=10)])
    table, members = benchmark(own, wider, PROFILE)
    assert table.iloc[0]["widened"] and table.iloc[0]["group"].endswith("in any region")
    assert members == [0, 1, 2, 3, 10]
    assert table.iloc[0]["officers"] == 50
    # without a region in the profile, the narrowest level is ruled out
    table, _ = benchmark(own, network([3.0] * 6), {"size_band": "25–99 sworn", "region": None})
    assert table.iloc[0]["widened"]


def test_an_agency_without_every_scale_is_left_out_so_all_scales_share_one_group():
    own = pd.DataFrame({"construct": ["x", "y"], "mean": [3.0, 3.0]})
    both = pd.concat([network([3.0] * 5), network([3.0] * 5).assign(construct="y")])
    partial = network([9.0], start=99)  # has x only
    table, members = benchmark(own, pd.concat([both, partial]), PROFILE)
    assert members == [0, 1, 2, 3, 4] and set(table["n_agencies"]) == {5}
    assert not apart(members, [0, 1, 2, 3, 4, 99])  # one agency apart
