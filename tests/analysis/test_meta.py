"""The random-effects meta-analysis against the reference values statsmodels ships from R:
metafor's Paule-Mandel fit of Kacker's (2004) interlaboratory data, and the meta package's
DerSimonian-Laird fit with the Knapp-Hartung adjustment and a prediction interval of 17 trials'
odds ratios."""
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import effectsize_2proportions
from statsmodels.stats.tests.results import results_meta

from analysis.meta import random_effects


def test_paule_mandel_matches_metafor_on_kacker_2004():
    ref = results_meta.exk1_metafor
    table = random_effects(pd.DataFrame({"effect": ref.yi, "variance": ref.vi}), method="pm")
    row = table.iloc[0]
    assert row["k"] == ref.k
    assert row["tau2"] == pytest.approx(ref.tau2, rel=1e-5)  # iterated to a tolerance
    assert row["effect"] == pytest.approx(ref.b, rel=1e-7)
    assert row["se"] == pytest.approx(ref.se, rel=1e-5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ref.ci_lb, ref.ci_ub), rel=1e-6)
    assert row["i2"] * 100 == pytest.approx(ref.I2, rel=1e-5)
    assert row["q"] == pytest.approx(ref.QE, rel=1e-11)  # metafor prints 14 digits
    # Cochran's Q in exact arithmetic on the same (binary) inputs
    from fractions import Fraction
    w = [1 / Fraction(x) for x in ref.vi]
    y = [Fraction(x) for x in ref.yi]
    fixed = sum(a * b for a, b in zip(w, y)) / sum(w)
    assert row["q"] == pytest.approx(float(sum(a * (b - fixed) ** 2 for a, b in zip(w, y))),
                                     rel=1e-15)
    assert row["q_p"] == pytest.approx(ref.QEp, rel=1e-9)


def test_dersimonian_laird_with_knapp_hartung_and_the_prediction_interval_match_r_meta():
    ref = results_meta.results_or_dl_hk
    eff, var = effectsize_2proportions(ref.event_e, ref.n_e, ref.event_c, ref.n_c,
                                       statistic="odds-ratio")
    row = random_effects(pd.DataFrame({"effect": eff, "variance": var}), method="dl",
                         knapp_hartung=True).iloc[0]
    assert row["tau2"] == pytest.approx(ref.tau2, rel=1e-10)
    assert row["effect"] == pytest.approx(ref.TE_random, rel=1e-12)
    assert row["se"] == pytest.approx(ref.seTE_random, rel=1e-12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (ref.lower_random, ref.upper_random), rel=1e-10)
    assert np.sqrt(row["se"] ** 2 + row["tau2"]) == pytest.approx(ref.seTE_predict, rel=1e-10)
    assert (row["pi_low"], row["pi_high"]) == pytest.approx(
        (ref.lower_predict, ref.upper_predict), rel=1e-10)
    assert row["q"] == pytest.approx(ref.Q, rel=1e-12)
    assert row["q_p"] == pytest.approx(ref.pval_Q, rel=1e-10)


def test_rows_without_an_effect_or_variance_are_left_out_and_one_class_pools_nothing():
    data = pd.DataFrame({"effect": [0.5, np.nan, 0.3, 0.2], "variance": [0.1, 0.1, 0.0, 0.2]})
    assert random_effects(data).iloc[0]["k"] == 2
    one = random_effects(data.iloc[[0]]).iloc[0]
    assert one["k"] == 1 and np.isnan(one["effect"])
    with pytest.raises(ValueError):
        random_effects(data, method="reml")


@pytest.mark.parametrize("method", ["pm", "dl"])
def test_identical_or_homogeneous_effects_give_no_between_class_variance_and_no_warning(method):
    same = random_effects(pd.DataFrame({"effect": [0.4, 0.4, 0.4], "variance": [0.1, 0.2, 0.1]}),
                          method=method).iloc[0]
    assert same["tau2"] == 0 and same["i2"] == 0 and same["effect"] == pytest.approx(0.4)
    close = random_effects(pd.DataFrame({"effect": [0.40, 0.41, 0.39, 0.40],
                                         "variance": [0.1, 0.1, 0.1, 0.1]}), method=method)
    assert close.iloc[0]["tau2"] == 0  # DerSimonian-Laird's (Q - df) / c is negative here
    assert close.iloc[0]["se"] == pytest.approx(np.sqrt(0.1 / 4))
