"""Linkage codes are keyed hashes per element; join codes are short and unambiguous."""
import string

from survey import joincode
from survey.linkage import hash_linkage

ANSWERS = {"mother_initial": "M", "birth_month": "3", "older_siblings": "0"}


def test_same_answers_same_agency_give_the_same_hashes():
    a = hash_linkage(ANSWERS, secret="s", salt="agency-1")
    b = hash_linkage(dict(ANSWERS), secret="s", salt="agency-1")
    assert a == b and set(a) == set(ANSWERS)


def test_one_misremembered_element_changes_only_that_hash():
    a = hash_linkage(ANSWERS, secret="s", salt="agency-1")
    b = hash_linkage({**ANSWERS, "birth_month": "4"}, secret="s", salt="agency-1")
    assert [k for k in a if a[k] != b[k]] == ["birth_month"]


def test_hashes_differ_across_agencies_and_secrets():
    base = hash_linkage(ANSWERS, secret="s", salt="agency-1")
    assert set(base.values()).isdisjoint(hash_linkage(ANSWERS, secret="s", salt="agency-2").values())
    assert set(base.values()).isdisjoint(hash_linkage(ANSWERS, secret="t", salt="agency-1").values())


def test_the_same_value_in_two_elements_hashes_differently():
    h = hash_linkage({"mother_initial": "M", "father_initial": "M"}, secret="s", salt="a")
    assert h["mother_initial"] != h["father_initial"]


def test_unanswered_elements_are_left_out_and_all_unanswered_is_none():
    assert set(hash_linkage({"mother_initial": "M", "birth_month": None}, secret="s",
                            salt="a")) == {"mother_initial"}
    assert hash_linkage({"mother_initial": None, "birth_month": ""}, secret="s", salt="a") is None


def test_hashes_hold_no_answer_in_clear():
    h = hash_linkage(ANSWERS, secret="s", salt="a")
    for digest in h.values():
        assert len(digest) == 32 and all(c in string.hexdigits for c in digest)


def test_join_codes_avoid_look_alikes():
    for bad in "0O1IL2Z5S8B":
        assert bad not in joincode.ALPHABET
    codes = {joincode.new_code() for _ in range(200)}
    assert len(codes) > 190
    assert all(joincode.is_well_formed(c) for c in codes)


def test_join_code_input_is_forgiving():
    assert joincode.normalize(" ac3-x7k ") == "AC3X7K"
    assert joincode.normalize("ac 3x 7k") == "AC3X7K"
    assert joincode.display("AC3X7K") == "AC3 X7K"
    assert not joincode.is_well_formed("AC3X7")
    assert not joincode.is_well_formed("AC3XO7")
