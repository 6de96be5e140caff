"""Rank tests on exact values: Wilcoxon, Mann-Whitney and Kruskal-Wallis on scores made of fifths
and sixths, against references computed on exact fractions (the normal approximation by hand
with exact tie counts, the exact distributions by enumeration), against R's documented results,
and against scipy called on integer item sums with the method named."""
from fractions import Fraction
from itertools import combinations, product

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from scipy import stats

from analysis._utils import exact_values
from analysis.change import change_report, paired_change, retention, unpaired_change
from analysis.compare import between_cohorts
from analysis.ranks import CHI_SQUARE, EXACT, NORMAL, kruskal_wallis, rank_sum, signed_rank
from analysis.scoring import scale_scores

REL = 1e-12


# --- References on exact fractions ---------------------------------------------------------------

def average_ranks(values):
    """Average ranks (1-based) of exact values, and the sizes of their tie groups."""
    ordered = sorted(values)
    first = {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i)
    counts = {v: ordered.count(v) for v in first}
    ranks = [Fraction(2 * first[v] + counts[v] + 1, 2) for v in values]
    return ranks, list(counts.values())


def two_sided_normal(stat, mean, var):
    """R's z with a continuity correction of 1/2 towards the mean, and its two-sided p."""
    dev = stat - mean
    corrected = dev - (Fraction(1, 2) if dev > 0 else -Fraction(1, 2) if dev < 0 else 0)
    z = float(corrected) / np.sqrt(float(var))
    return 2 * stats.norm.sf(abs(z))


def signed_rank_reference(diffs):
    """(p, method) of R's wilcox.test(paired = TRUE) on exact differences."""
    d = [x for x in diffs if x != 0]
    zeros = len(d) < len(diffs)
    n = len(d)
    ranks, ties = average_ranks([abs(x) for x in d])
    v = sum(r for r, x in zip(ranks, d) if x > 0)
    if n < 50 and not zeros and max(ties) == 1:
        # every assignment of signs to the ranks 1..n is equally likely: enumerate them
        sums = [sum(r for r, s in zip(range(1, n + 1), signs) if s)
                for signs in product((0, 1), repeat=n)]
        low = sum(s <= v for s in sums) / len(sums)
        high = sum(s >= v for s in sums) / len(sums)
        return min(1.0, 2 * min(low, high)), EXACT
    var = Fraction(n * (n + 1) * (2 * n + 1), 24) - Fraction(sum(t ** 3 - t for t in ties), 48)
    return two_sided_normal(v, Fraction(n * (n + 1), 4), var), NORMAL


def rank_sum_reference(x, y):
    """(U of x, p, method) of R's wilcox.test(x, y) on exact values."""
    pooled = list(x) + list(y)
    ranks, ties = average_ranks(pooled)
    nx, ny, big_n = len(x), len(y), len(pooled)
    u = sum(ranks[:nx]) - Fraction(nx * (nx + 1), 2)
    if nx < 50 and ny < 50 and max(ties) == 1:
        # every choice of nx of the ranks 1..N for x is equally likely: enumerate them
        us = [sum(c) - nx * (nx + 1) // 2 for c in combinations(range(1, big_n + 1), nx)]
        low = sum(s <= u for s in us) / len(us)
        high = sum(s >= u for s in us) / len(us)
        return u, min(1.0, 2 * min(low, high)), EXACT
    var = Fraction(nx * ny, 12) * (big_n + 1 - Fraction(sum(t ** 3 - t for t in ties),
                                                        big_n * (big_n - 1)))
    return u, two_sided_normal(u, Fraction(nx * ny, 2), var), NORMAL


def kruskal_reference(groups):
    """(H, p) of R's kruskal.test on exact values."""
    pooled = [v for g in groups for v in g]
    ranks, ties = average_ranks(pooled)
    big_n = len(pooled)
    h, start = Fraction(0), 0
    for g in groups:
        h += sum(ranks[start:start + len(g)]) ** 2 / len(g)
        start += len(g)
    h = Fraction(12, big_n * (big_n + 1)) * h - 3 * (big_n + 1)
    h /= 1 - Fraction(sum(t ** 3 - t for t in ties), big_n ** 3 - big_n)
    return float(h), stats.chi2.sf(float(h), len(groups) - 1)


# --- Scores made of fifths and sixths, through the app's own scoring -----------------------------

ITEMS = pd.DataFrame({"item": [f"S{i}" for i in range(6)] + [f"F{i}" for i in range(5)],
                      "construct": ["stigma"] * 6 + ["facilitators"] * 5,
                      "reverse_keyed": [False, True, False, False, True, False,
                                        False, False, True, False, False],
                      "scale_min": 1, "scale_max": 5})


def survey(rng, officers, *, cohort=1, shift=0, skip=0.15):
    """Answers of `officers` linked officers before and after training; on the 6-statement scale
    some skip one statement, so that their score is a mean of five (fifths among the sixths).
    Returns the tidy answers and each score as an exact fraction."""
    rows, exact = [], {}
    for wave, kind in ((1, "pre"), (2, "post")):
        for o in range(officers):
            rid = f"{cohort}-{kind}-{o}"
            level = rng.integers(2, 5) + (shift if kind == "post" else 0)
            values = np.clip(level + rng.integers(-1, 2, size=len(ITEMS)), 1, 5)
            answered = np.ones(len(ITEMS), bool)
            if rng.random() < skip:
                answered[rng.integers(0, 6)] = False
            for item, value, given in zip(ITEMS.itertuples(), values, answered):
                rows.append({"response_id": rid, "wave": wave + 10 * cohort, "wave_kind": kind,
                             "followup_days": np.nan, "cohort": cohort,
                             "linkage_key": f"P{o}", "item": item.item,
                             "value": int(value) if given else np.nan})
            for construct in ("stigma", "facilitators"):
                own = [(int(6 - v) if it.reverse_keyed else int(v))
                       for it, v, a in zip(ITEMS.itertuples(), values, answered)
                       if a and it.construct == construct]
                exact[(cohort, kind, f"P{o}", construct)] = Fraction(sum(own), len(own))
    return pd.DataFrame(rows), exact


def exact_changes(exact, construct, cohort=1):
    keys = sorted({k[2] for k in exact if k[0] == cohort and k[3] == construct})
    return [exact[(cohort, "post", key, construct)] - exact[(cohort, "pre", key, construct)]
            for key in keys]


@pytest.fixture(scope="module", params=[(9, 1), (12, 3), (31, 2)], ids=["9", "12", "31"])
def classes(request):
    """A class of 9, 12 or 31 linked officers whose float changes break true ties (the seeds
    are ones for which they do, as the first test checks)."""
    officers, seed = request.param
    answers, exact = survey(np.random.default_rng(seed), officers)
    return scale_scores(answers, ITEMS), exact


def float_changes(scores, construct):
    part = scores.loc[scores["construct"] == construct]
    wide = part.pivot(index="linkage_key", columns="wave_kind", values="score")
    return (wide["post"] - wide["pre"]).to_numpy()


@pytest.mark.parametrize("construct", ["stigma", "facilitators"])
def test_the_data_have_the_floating_point_problem(classes, construct):
    scores, exact = classes
    changes = float_changes(scores, construct)
    true = exact_changes(exact, construct)
    # equal fractions, different floats: a rank test on the raw floats sees too few ties
    assert len(set(np.abs(changes))) > len({abs(c) for c in true})
    assert len(set(np.abs(exact_values(changes)))) == len({abs(c) for c in true})
    assert all(v == round(float(c), 9) for v, c in zip(exact_values(changes), true))
    if construct == "stigma":   # sixths, and fifths where a statement was skipped
        denominators = {c.denominator for c in true}
        assert denominators & {5, 10, 15, 30} and denominators & {3, 6}


@pytest.mark.parametrize("construct", ["stigma", "facilitators"])
def test_wilcoxon_on_sixths_and_fifths_matches_exact_fractions(classes, construct):
    scores, exact = classes
    row = paired_change(scores).loc[construct]
    p, method = signed_rank_reference(exact_changes(exact, construct))
    assert row["w_method"] == method == NORMAL          # these classes have ties
    assert row["w_p_val"] == pytest.approx(p, rel=REL)


def test_wilcoxon_exact_when_no_ties_by_enumeration():
    # 10 officers whose changes are distinct multiples of 1/6 (item sums 18 before, 18 + k after)
    ks = [1, -2, 3, 4, -5, 6, 7, 8, -9, 11]
    pre = np.full(10, 18) / 6
    post = np.array([18 + k for k in ks]) / 6
    scores = pd.DataFrame({"wave_kind": ["pre"] * 10 + ["post"] * 10, "construct": "stigma",
                           "linkage_key": list(range(10)) * 2, "score": np.r_[pre, post]})
    row = paired_change(scores).loc["stigma"]
    p, method = signed_rank_reference([Fraction(k, 6) for k in ks])
    assert row["w_method"] == method == EXACT
    assert row["w_p_val"] == pytest.approx(p, rel=REL)
    # scipy on the integer item-sum differences, the exact method named
    ref = stats.wilcoxon(np.array(ks), method="exact")
    assert (row["w_stat"], row["w_p_val"]) == pytest.approx((ref.statistic, ref.pvalue), rel=REL)


def test_wilcoxon_with_a_zero_change_uses_the_normal_approximation():
    ks = [0, 1, -2, 3, 4, 5, 7]
    stat, p, method = signed_rank(np.array(ks) / 6)
    ref_p, ref_method = signed_rank_reference([Fraction(k, 6) for k in ks])
    assert method == ref_method == NORMAL and p == pytest.approx(ref_p, rel=REL)
    assert signed_rank([0.0, 0.0])[2] == "" and np.isnan(signed_rank([0.0])[1])


def test_wilcoxon_matches_scipy_on_integer_item_sums(classes):
    scores, exact = classes
    row = paired_change(scores).loc["stigma"]
    # the changes times 30 are whole numbers (fifths and sixths): scipy sees the ties right
    whole = np.array([int(c * 30) for c in exact_changes(exact, "stigma")])
    ref = stats.wilcoxon(whole[whole != 0], correction=True, method="asymptotic")
    assert row["w_p_val"] == pytest.approx(ref.pvalue, rel=REL)
    assert row["w_stat"] == pytest.approx(ref.statistic, rel=REL)


def test_retention_uses_the_same_wilcoxon(classes):
    scores, exact = classes
    # the post wave again as a follow-up a month later, with the pre scores: post -> follow-up
    # is minus the pre -> post change, so the same p
    later = scores.loc[scores["wave_kind"] == "pre"].assign(wave=3, wave_kind="followup",
                                                            followup_days=30.0)
    table = retention(pd.concat([scores, later])).set_index("construct")
    p, method = signed_rank_reference([-c for c in exact_changes(exact, "stigma")])
    assert table.loc["stigma", "w_method"] == method
    assert table.loc["stigma", "w_p_val"] == pytest.approx(p, rel=REL)


def test_mann_whitney_on_scores_matches_exact_fractions(classes):
    scores, exact = classes
    unlinked = scores.assign(linkage_key=None)
    row = unpaired_change(unlinked).loc["stigma"]
    keys = sorted({k[2] for k in exact})
    before = [exact[(1, "pre", k, "stigma")] for k in keys]
    after = [exact[(1, "post", k, "stigma")] for k in keys]
    u, p, method = rank_sum_reference(after, before)
    assert row["u_method"] == method == NORMAL
    assert row["u_stat"] == pytest.approx(float(u), rel=REL)
    assert row["u_p_val"] == pytest.approx(p, rel=REL)
    # and in change_report's unlinked rows
    report = change_report(unlinked).loc[("stigma", "unlinked")]
    assert report["u_p_val"] == pytest.approx(p, rel=REL)


def test_mann_whitney_exact_when_no_ties_by_enumeration():
    before = [Fraction(k, 6) for k in (13, 14, 17, 19, 22)]
    after = [Fraction(k, 5) for k in (16, 19, 21, 22, 23, 24)]  # 3.2 ... 4.8
    u, p, method = rank_sum_reference(after, before)
    assert method == EXACT
    ours = rank_sum([float(a) for a in after], [float(b) for b in before])
    assert ours[:2] == pytest.approx((float(u), p), rel=REL) and ours[2] == EXACT
    # scipy on integers (thirtieths), the exact method named
    ref = stats.mannwhitneyu([int(a * 30) for a in after], [int(b * 30) for b in before],
                             method="exact")
    assert ours[:2] == pytest.approx((ref.statistic, ref.pvalue), rel=REL)


def cohorts_frame(seed=4, sizes=(9, 12, 7, 10)):
    rng = np.random.default_rng(seed)
    frames, exact = [], {}
    for cohort, size in enumerate(sizes, start=1):
        answers, own = survey(rng, size, cohort=cohort, shift=cohort % 2)
        frames.append(answers)
        exact.update(own)
    return scale_scores(pd.concat(frames, ignore_index=True), ITEMS), exact, sizes


@pytest.mark.parametrize("construct", ["stigma", "facilitators"])
def test_kruskal_wallis_on_changes_matches_exact_fractions(construct):
    scores, exact, sizes = cohorts_frame()
    row = between_cohorts(scores).loc[construct]
    groups = [exact_changes(exact, construct, cohort) for cohort in range(1, len(sizes) + 1)]
    h, p = kruskal_reference(groups)
    assert row["kruskal_method"] == CHI_SQUARE
    assert row["kruskal_h"] == pytest.approx(h, rel=REL)
    assert row["kruskal_p_val"] == pytest.approx(p, rel=REL)
    whole = [[int(c * 30) for c in g] for g in groups]
    assert row["kruskal_h"] == pytest.approx(stats.kruskal(*whole).statistic, rel=REL)


def test_kruskal_wallis_data_break_ties_in_floating_point():
    scores, exact, sizes = cohorts_frame()
    part = scores.loc[scores["construct"] == "stigma"]
    wide = part.pivot(index=["cohort", "linkage_key"], columns="wave_kind", values="score")
    changes = (wide["post"] - wide["pre"]).groupby("cohort")
    floats = [g.to_numpy() for _, g in changes]
    true = [exact_changes(exact, "stigma", c) for c in range(1, len(sizes) + 1)]
    assert stats.kruskal(*floats).statistic != pytest.approx(kruskal_reference(true)[0],
                                                             rel=1e-9)


# --- R's documented results ----------------------------------------------------------------------

def test_wilcoxon_matches_r_documented_examples():
    # R ?wilcox.test, Hollander & Wolfe (1973) p. 29: Hamilton depression scale, 9 patients.
    # > wilcox.test(x, y, paired = TRUE, alternative = "greater")  V = 40, p-value = 0.01953
    x = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
    y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])
    stat, p, method = signed_rank(x - y)
    assert method == EXACT and stat == 45 - 40
    assert p == pytest.approx(2 * 0.01953, abs=2e-5) and p == 2 * 10 / 512
    # scipy's test suite, from R: wilcox.test(rep(0.1, 10), exact=FALSE, correct=TRUE)
    # (all tied: R has no exact test here, so this is also its default)
    stat, p, method = signed_rank([0.1] * 10)
    assert method == NORMAL and p == pytest.approx(0.00190419504300439, rel=1e-12)
    # scipy's test suite, from R 4.0.3: wilcox.test(x, y, paired=TRUE, exact=FALSE,
    # alternative="greater", correct=TRUE) p = 0.3176446594176; a zero difference and ties,
    # so R's default is this approximation, and V = 27 lies above n(n+1)/4, so two-sided = 2x
    x = np.array([125, 115, 130, 140, 140, 115, 140, 125, 140, 135])
    y = np.array([110, 122, 125, 120, 140, 124, 123, 137, 135, 145])
    stat, p, method = signed_rank(x - y)
    assert method == NORMAL and p == pytest.approx(2 * 0.3176446594176, rel=1e-11)


def test_mann_whitney_matches_r_documented_examples():
    # R ?wilcox.test, Hollander & Wolfe (1973) p. 69: permeability constants.
    # > wilcox.test(x, y, alternative = "g")   W = 35, p-value = 0.1272 (exact)
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    u, p, method = rank_sum(x, y)
    assert (u, method) == (35, EXACT) and p == pytest.approx(2 * 0.1272, abs=2e-4)
    # scipy's test suite, from R: wilcox.test(x, y, exact=TRUE) W = 16, p = 0.7035714285714
    x = [210.052110, 110.190630, 307.918612]
    y = [436.08811482466416, 416.37397329768191, 179.96975939463582, 197.8118754228619,
         34.038757281225756, 138.54220550921517, 128.7769351470246, 265.92721427951852,
         275.6617533155341, 592.34083395416258, 448.73177590617018, 300.61495185038905,
         187.97508449019588]
    u, p, method = rank_sum(x, y)
    assert method == EXACT and (u, p) == pytest.approx((16, 0.7035714285714), rel=1e-11)
    # scipy's test suite, from R: wilcox.test(c(1, 2, 3, 4), c(1, 2, 3, 4, 5), exact=FALSE)
    # W = 8, p = 0.7086240584439 (ties: also R's default)
    u, p, method = rank_sum([1, 2, 3, 4], [1, 2, 3, 4, 5])
    assert method == NORMAL and (u, p) == pytest.approx((8, 0.7086240584439), rel=1e-11)


def test_kruskal_wallis_matches_r_documented_example():
    # R ?kruskal.test, Hollander & Wolfe (1973) p. 116: mucociliary efficiency.
    # > kruskal.test(list(x, y, z))  Kruskal-Wallis chi-squared = 0.77143, df = 2, p = 0.68
    x = [2.9, 3.0, 2.5, 2.6, 3.2]
    y = [3.8, 2.7, 4.0, 2.4]
    z = [2.8, 3.4, 3.7, 2.2, 2.0]
    h, p, method = kruskal_wallis([x, y, z])
    assert method == CHI_SQUARE
    assert h == pytest.approx(0.77143, abs=5e-6) and p == pytest.approx(0.68, abs=5e-3)
    assert kruskal_wallis([[1, 1], [1]])[2] == "" and np.isnan(kruskal_wallis([[1, 2]])[0])


# --- No permutation test, ever -------------------------------------------------------------------

def test_a_demo_sized_report_runs_no_permutation_test(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a permutation test ran")
    monkeypatch.setattr(scipy.stats, "permutation_test", refuse)
    scores, exact, sizes = cohorts_frame(seed=7, sizes=(34, 27, 9, 12, 6))
    # small classes with tied changes: where scipy's method="auto" would permute
    for cohort in (3, 4, 5):
        changes = exact_changes(exact, "stigma", cohort)
        assert len({abs(c) for c in changes if c}) < len([c for c in changes if c])
        whole = [int(c * 30) for c in changes]
        with pytest.raises(AssertionError, match="permutation"):   # the guard works
            stats.wilcoxon(whole, method="auto")
    for cohort, part in scores.groupby("cohort"):
        report = change_report(part)
        assert set(report["w_method"].dropna()) <= {EXACT, NORMAL}
    assert between_cohorts(scores)["kruskal_method"].eq(CHI_SQUARE).all()
