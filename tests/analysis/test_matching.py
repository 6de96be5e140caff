"""The linkage matcher: exact first, one differing element tolerated, ambiguity left unmatched."""
import hashlib

import numpy as np
import pandas as pd
import pytest

from analysis.matching import match_codes, match_summary, matcher_accuracy, simulate_codes

BASE = {"mother_initial": "M", "father_initial": "J", "birth_month": "3", "older_siblings": "1",
        "birthplace_initial": "S", "first_car_initial": "F"}


def code(unsure=(), **changes):
    """Hashed code: BASE with `changes`, leaving out the `unsure` elements."""
    values = {**BASE, **changes}
    return {e: hashlib.md5(f"{e}={v}".encode()).hexdigest() for e, v in values.items()
            if e not in unsure}


WAVES = {1: ("pre", np.nan), 2: ("post", np.nan), 3: ("followup", 30.0), 4: ("followup", 90.0)}


def frame(*responses):
    """responses: (response_id, wave id, linkage) with the wave kinds of WAVES."""
    return pd.DataFrame([{"response_id": r, "wave": w, "wave_kind": WAVES[w][0],
                          "followup_days": WAVES[w][1], "linkage": lk} for r, w, lk in responses])


def matched(codes, **kwargs):
    return match_codes(codes, **kwargs).set_index("response_id")


def test_identical_codes_match_exactly():
    m = matched(frame(("a", 1, code()), ("b", 2, code())))
    assert list(m["match"]) == ["first", "exact"]
    assert m.loc["a", "linkage_key"] == m.loc["b", "linkage_key"] == "P0001"


def test_one_misremembered_element_matches_as_tolerant():
    m = matched(frame(("a", 1, code()), ("b", 2, code(birth_month="4"))))
    assert m.loc["b", "match"] == "tolerant"
    assert m.loc["a", "linkage_key"] == m.loc["b", "linkage_key"]


def test_two_differing_elements_do_not_match():
    m = matched(frame(("a", 1, code()), ("b", 2, code(birth_month="4", mother_initial="K"))))
    assert m.loc["b", "match"] == "unmatched"
    assert m.loc["a", "linkage_key"] != m.loc["b", "linkage_key"]


def test_tolerance_zero_refuses_a_misremembered_element():
    m = matched(frame(("a", 1, code()), ("b", 2, code(birth_month="4"))), tolerance=0)
    assert m.loc["b", "match"] == "unmatched"


def test_an_unsure_element_is_left_out_of_the_comparison():
    codes = frame(("a", 1, code()), ("b", 2, code(unsure=["birth_month"])))
    m = matched(codes)
    assert m.loc["b", "match"] == "exact" and m.loc["b", "linkage_key"] == "P0001"
    # 5 compared elements fall short of min_common=6
    assert matched(codes, min_common=6).loc["b", "match"] == "unmatched"
    # unsure on one side, misremembered on the other: 5 compared, 1 differs
    m = matched(frame(("a", 1, code(unsure=["older_siblings"])),
                      ("b", 2, code(first_car_initial="T"))))
    assert m.loc["b", "match"] == "tolerant"
    # two unsure elements: only 4 compared
    m = matched(frame(("a", 1, code(unsure=["older_siblings"])),
                      ("b", 2, code(unsure=["birth_month"]))))
    assert m.loc["b", "match"] == "unmatched"


def test_a_response_within_tolerance_of_two_persons_is_left_unmatched():
    # a and c differ in the mother's initial; b differs from each in that element only
    codes = frame(("a", 1, code()), ("c", 1, code(mother_initial="K")),
                  ("b", 2, code(mother_initial="R")))
    m = matched(codes)
    assert m.loc["b", "match"] == "ambiguous"
    assert m.loc["b", "linkage_key"] not in {m.loc["a", "linkage_key"], m.loc["c", "linkage_key"]}
    assert m["linkage_key"].nunique() == 3


def test_two_identical_responses_in_one_wave_are_both_left_unmatched():
    m = matched(frame(("a", 1, code()), ("b", 2, code()), ("c", 2, code())))
    assert list(m.loc[["b", "c"], "match"]) == ["ambiguous", "ambiguous"]
    assert m["linkage_key"].nunique() == 3


def test_exact_matches_are_resolved_before_tolerant_ones():
    # with tolerance alone, b and d would each have two candidates (a and c)
    codes = frame(("a", 1, code()), ("c", 1, code(mother_initial="K")),
                  ("b", 2, code()), ("d", 2, code(mother_initial="K")))
    m = matched(codes)
    assert list(m.loc[["b", "d"], "match"]) == ["exact", "exact"]
    assert m.loc["b", "linkage_key"] == m.loc["a", "linkage_key"]
    assert m.loc["d", "linkage_key"] == m.loc["c", "linkage_key"]


def test_a_response_is_never_linked_to_two_responses_of_one_earlier_wave():
    codes = frame(("a", 1, code()), ("c", 1, code(mother_initial="K")), ("b", 2, code()))
    m = matched(codes)
    assert m.loc["b", "match"] == "exact"
    assert m.loc["b", "linkage_key"] == m.loc["a", "linkage_key"] != m.loc["c", "linkage_key"]
    assert m.groupby("linkage_key")["wave"].apply(lambda w: w.is_unique).all()


def test_a_taken_person_is_not_offered_to_the_tolerant_tier():
    codes = frame(("a", 1, code()), ("b", 2, code()), ("c", 2, code(birth_month="9")))
    m = matched(codes)
    assert m.loc["b", "match"] == "exact"
    assert m.loc["c", "match"] == "unmatched"
    assert m.loc["c", "linkage_key"] != m.loc["a", "linkage_key"]


def test_responses_without_a_code_get_no_person():
    codes = frame(("a", 1, None), ("b", 1, code()), ("c", 2, {}), ("d", 2, np.nan))
    m = matched(codes)
    assert list(m.loc[["a", "c", "d"], "match"]) == ["no_code"] * 3
    assert all(k is None for k in m.loc[["a", "c", "d"], "linkage_key"])
    assert m.loc["b", "linkage_key"] == "P0001"


def test_a_followup_links_to_a_person_last_seen_at_pre():
    codes = frame(("a", 1, code()), ("x", 1, code(mother_initial="A", birth_month="11")),
                  ("y", 2, code(mother_initial="A", birth_month="11")),
                  ("f", 3, code(older_siblings="2")))
    m = matched(codes)
    assert m.loc["f", "match"] == "tolerant"
    assert m.loc["f", "linkage_key"] == m.loc["a", "linkage_key"]
    assert m.loc["y", "linkage_key"] == m.loc["x", "linkage_key"] != m.loc["a", "linkage_key"]


def test_unmatched_responses_start_persons_that_later_waves_can_join():
    codes = frame(("a", 1, code()), ("b", 2, code(mother_initial="A", birth_month="11")),
                  ("f", 3, code(mother_initial="A", birth_month="11")))
    m = matched(codes)
    assert list(m["match"]) == ["first", "unmatched", "exact"]
    assert m.loc["f", "linkage_key"] == m.loc["b", "linkage_key"] == "P0002"


def test_waves_are_ordered_by_kind_and_followup_days():
    # 90 days after pre differs in two elements, but matches the 30-day response tolerantly,
    # whose hashes join the person's code: only the right order links all three
    codes = frame(("late", 4, code(mother_initial="K", birth_month="9")),
                  ("early", 3, code(mother_initial="K")), ("pre", 1, code()))
    m = match_codes(codes)
    assert list(m["wave"]) == [1, 3, 4]
    assert list(m["match"]) == ["first", "tolerant", "tolerant"]
    assert m["linkage_key"].nunique() == 1


def test_an_explicit_wave_order_overrides_the_kinds():
    codes = frame(("late", 4, code(mother_initial="K", birth_month="9")),
                  ("early", 3, code(mother_initial="K")), ("pre", 1, code()))
    m = match_codes(codes, waves_order=[4, 1, 3]).set_index("response_id")
    assert m.loc["late", "match"] == "first"
    assert m.loc["pre", "match"] == "unmatched"
    assert m.loc["early", "match"] == "ambiguous"   # within one element of both persons


def test_the_result_does_not_depend_on_row_order():
    codes = simulate_codes(120, waves=("pre", "post", 30), rng=11)
    a = match_codes(codes)
    b = match_codes(codes.sample(frac=1, random_state=3))
    persons = lambda m: {frozenset(g) for _, g in m.groupby("linkage_key")["response_id"]}
    assert persons(a) == persons(b)
    merged = a.merge(b, on="response_id")
    assert (merged["match_x"] == merged["match_y"]).all()
    pd.testing.assert_frame_equal(a, match_codes(codes))


def test_summary_counts_and_link_rate():
    codes = frame(("a", 1, code()), ("n", 1, None),
                  ("b", 2, code()), ("c", 2, code(mother_initial="A", birth_month="11")),
                  ("d", 2, None),
                  ("e", 3, code(first_car_initial="T")),
                  ("f", 3, code(mother_initial="A", birth_month="11", father_initial="Q")),
                  ("g", 3, code(mother_initial="A", birth_month="11", father_initial="Q")))
    s = match_summary(match_codes(codes)).set_index("wave")
    assert list(s.columns) == ["n_responses", "n_with_code", "n_exact", "n_tolerant",
                               "n_ambiguous", "n_unmatched", "link_rate"]
    assert s.loc[1].drop("link_rate").tolist() == [2, 1, 0, 0, 0, 0]
    assert np.isnan(s.loc[1, "link_rate"])
    assert s.loc[2].tolist() == [3, 2, 1, 0, 0, 1, 0.5]
    # e within one element of a's person; f and g both within one of c's: ambiguous
    assert s.loc[3].tolist() == [3, 3, 0, 1, 2, 0, 1 / 3]


def test_accuracy_counts_pairs_of_responses():
    truth = pd.DataFrame({"response_id": ["a1", "b1", "c1", "a2", "b2", "n2"],
                          "true_person": [1, 1, 1, 2, 2, 2],
                          "linkage": [code()] * 5 + [None]})
    matches = pd.DataFrame({"response_id": ["a1", "b1", "c1", "a2", "b2", "n2"],
                            "linkage_key": ["P1", "P2", "P1", "P3", "P1", None]})
    acc = matcher_accuracy(truth, matches)
    # linked: a1-c1 (right), a1-b2, c1-b2; true: a1-b1, a1-c1, b1-c1, a2-b2 (n2 has no code)
    assert (acc["n_linked_pairs"], acc["n_true_pairs"], acc["n_correct_pairs"]) == (3, 4, 1)
    assert acc["precision"] == pytest.approx(1 / 3)
    assert acc["recall"] == pytest.approx(1 / 4)


def test_simulated_codes_look_like_the_app_codes():
    codes = simulate_codes(400, error_rate=0.1, waves=("pre", "post", 90), rng=5)
    assert list(codes.columns) == ["response_id", "wave", "wave_kind", "followup_days",
                                   "linkage", "true_person"]
    assert codes["response_id"].is_unique
    assert codes.groupby(["wave", "true_person"]).size().max() == 1
    assert list(codes.groupby("wave")["wave_kind"].first()) == ["pre", "post", "followup"]
    assert codes.loc[codes["wave_kind"] == "followup", "followup_days"].eq(90).all()
    assert 0.8 < len(codes) / 1200 < 0.9
    with_code = codes["linkage"].notna()
    assert 0.85 < with_code.mean() < 0.95
    hashes = [h for lk in codes.loc[with_code, "linkage"] for h in lk.values()]
    assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes)
    # the misremembering rate: later responses differing from the same officer's pre code
    pre = codes.loc[codes["wave"].eq(1) & with_code].set_index("true_person")["linkage"]
    later = codes.loc[codes["wave"].gt(1) & with_code & codes["true_person"].isin(pre.index)]
    differs = [any(pre[p].get(e, h) != h for e, h in lk.items())
               for p, lk in zip(later["true_person"], later["linkage"])]
    assert 0.06 < np.mean(differs) < 0.14
    # realistic cardinalities: 12 birth months, 6 sibling counts (0 to "5 or more")
    values = lambda e: codes.loc[with_code, "linkage"].map(lambda lk: lk.get(e)).nunique()
    assert (values("birth_month"), values("older_siblings")) == (12, 6)
    assert 20 <= values("mother_initial") <= 26
    assert simulate_codes(50, rng=1).equals(simulate_codes(50, rng=1))


def test_the_matcher_links_simulated_officers_accurately_and_tolerance_matters():
    codes = simulate_codes(300, error_rate=0.07, waves=("pre", "post", 90), rng=2024)
    tolerant = matcher_accuracy(codes, match_codes(codes))
    exact_only = matcher_accuracy(codes, match_codes(codes, tolerance=0))
    assert tolerant["precision"] >= 0.98
    assert tolerant["recall"] >= 0.85
    assert exact_only["recall"] < tolerant["recall"] - 0.03


def test_without_errors_or_unsure_answers_every_pair_links_exactly():
    codes = simulate_codes(200, error_rate=0, unsure_rate=0, skip_rate=0, rng=7)
    m = match_codes(codes, tolerance=0)
    acc = matcher_accuracy(codes, m)
    assert acc["recall"] == 1 and acc["precision"] == 1
    assert set(m.loc[m["wave"] == 2, "match"]) <= {"exact", "unmatched"}


@pytest.mark.parametrize("drop", ["response_id", "wave", "linkage", "wave_kind", "followup_days"])
def test_missing_columns_are_refused(drop):
    with pytest.raises(ValueError, match=drop):
        match_codes(frame(("a", 1, code())).drop(columns=drop))


def test_bad_arguments_are_refused():
    codes = frame(("a", 1, code()), ("b", 2, code()))
    for kwargs in ({"tolerance": -1}, {"tolerance": 5}, {"min_common": 0}, {"tolerance": 1.5},
                   {"waves_order": [1]}, {"waves_order": [1, 2, 1]}):
        with pytest.raises(ValueError):
            match_codes(codes, **kwargs)
    with pytest.raises(ValueError, match="not unique"):
        match_codes(frame(("a", 1, code()), ("a", 2, code())))
    with pytest.raises(ValueError, match="linkage"):
        match_codes(frame(("a", 1, "M-3-1")))
    with pytest.raises(ValueError, match="cohort"):
        match_codes(codes.assign(cohort=[1, 2]))
    with pytest.raises(ValueError, match="followup_days"):
        match_codes(codes.assign(wave_kind="followup", followup_days=np.nan))
    with pytest.raises(ValueError, match="wave_kind"):
        match_codes(codes.assign(wave_kind="pulse"))
    with pytest.raises(ValueError):
        simulate_codes(10, waves=("pre", "later"))
    with pytest.raises(ValueError):
        simulate_codes(10, error_rate=1.5)
    with pytest.raises(ValueError):
        simulate_codes(10, waves=("pre", "post"), response_rate=[0.9])
