"""The item bank loads, validates, and refuses an item that loses any of its facts."""
import copy

import pytest

from survey.bank import (BankError, bank_files, current_bank, curriculum_topics,
                         linkage_elements, parse_bank, read_toml)

REQUIRED_CONSTRUCTS = {"stigma", "barriers", "facilitators", "intention", "knowledge"}


@pytest.fixture
def raw():
    return read_toml(bank_files()[-1])


def test_bank_loads_with_every_required_construct():
    bank = current_bank()
    assert REQUIRED_CONSTRUCTS <= set(bank.constructs)
    for code in REQUIRED_CONSTRUCTS:
        assert 3 <= len(bank.items_of(code)) <= 6, code


def test_every_item_has_construct_keying_scale_and_source():
    bank = current_bank()
    for item in bank.items.values():
        assert item.construct in bank.constructs
        assert isinstance(item.reverse_keyed, bool)
        assert item.scale == "agree5"
        assert item.seed in bank.seeds and item.source.strip()


def test_five_point_agreement_scale_every_point_labelled():
    scale = current_bank().scales["agree5"]
    assert scale.points == [(1, "Strongly disagree"), (2, "Disagree"),
                            (3, "Neither agree nor disagree"), (4, "Agree"), (5, "Strongly agree")]


def test_stigma_covers_the_seed_beliefs():
    sources = " ".join(i.source for i in current_bank().items_of("stigma")).lower()
    for belief in ("moral failing", "could stop", "don't want to get better",
                   "chronic brain disease", "relapse"):
        assert belief in sources, belief


def test_both_keying_directions_are_used():
    keyed = {i.reverse_keyed for i in current_bank().items.values()}
    assert keyed == {True, False}


def test_training_instrument_has_no_free_text_and_every_construct():
    bank = current_bank()
    training = bank.instruments["training"]
    assert set(training.constructs) == REQUIRED_CONSTRUCTS
    assert all(i.scale in bank.scales for i in bank.instrument_items("training"))


@pytest.mark.parametrize("field", ["code", "construct", "text", "reverse_keyed", "scale", "seed",
                                   "source"])
def test_item_losing_a_field_is_refused(raw, field):
    broken = copy.deepcopy(raw)
    del broken["items"][3][field]
    with pytest.raises(BankError, match=f"missing '{field}'"):
        parse_bank(broken)


@pytest.mark.parametrize("field, value, message", [
    ("construct", "morale", "unknown construct"),
    ("scale", "agree7", "unknown response scale"),
    ("seed", "999", "unknown seed"),
    ("reverse_keyed", "yes", "must be bool"),
    ("source", "   ", "missing 'source'"),
    ("code", "stg01", "upper case"),
])
def test_item_with_a_bad_field_is_refused(raw, field, value, message):
    broken = copy.deepcopy(raw)
    broken["items"][0][field] = value
    with pytest.raises(BankError, match=message):
        parse_bank(broken)


def test_duplicate_item_code_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["items"][1]["code"] = broken["items"][0]["code"]
    with pytest.raises(BankError, match="appears twice"):
        parse_bank(broken)


def test_construct_with_too_few_items_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["items"] = [i for i in broken["items"] if i["construct"] != "knowledge"][:] + [
        i for i in broken["items"] if i["construct"] == "knowledge"][:2]
    with pytest.raises(BankError, match="knowledge: has 2 items"):
        parse_bank(broken)


def test_scale_without_a_label_per_point_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["scales"]["agree5"]["labels"].pop()
    with pytest.raises(BankError, match="one label for each point"):
        parse_bank(broken)


def test_curriculum_topics_from_the_research():
    topics = curriculum_topics()
    assert {"science_of_addiction", "aces", "relapse", "historical_context", "local_treatment",
            "post_referral", "lived_experience", "policy_eligibility"} == set(topics)
    assert all(t.source and t.seed for t in topics.values())


def test_linkage_elements_are_stable_and_not_on_record():
    elements = {e.code: e for e in linkage_elements()}
    assert 6 <= len(elements) <= 8
    assert "birth_month" in elements
    # nothing an agency's personnel file holds in full: no birth date, badge or name
    for forbidden in ("birth_day", "badge", "middle", "surname", "date_of_birth"):
        assert not any(forbidden in code for code in elements)
    assert [v for v, _ in elements["birth_month"].choices] == [str(m) for m in range(1, 13)]
    assert elements["older_siblings"].choices[-1] == ("5", "5 or more")


CULTURE = {"executive_support", "discretion", "change_fatigue", "cynicism", "referral_speed",
           "outcome_feedback", "intention", "recognition"}


def test_every_shipped_bank_version_still_validates():
    from survey.bank import bank_files
    versions = [parse_bank(read_toml(path)).version for path in bank_files()]
    assert versions == [str(n) for n in range(1, len(versions) + 1)]


def test_pulse_is_short_and_covers_the_culture_constructs():
    bank = current_bank()
    items = bank.instrument_items("pulse")
    assert 8 <= len(items) <= 12
    assert {i.construct for i in items} == CULTURE
    assert set(bank.instruments["pulse"].constructs) == CULTURE


def test_training_items_did_not_change_between_versions():
    from survey.bank import bank_files
    old = parse_bank(read_toml(bank_files()[0]))
    new = current_bank()
    assert [i.code for i in old.instrument_items("training")] == \
        [i.code for i in new.instrument_items("training")]
    for code, item in old.items.items():
        assert new.items[code] == item  # a code keeps its wording and keying for ever


def test_pulse_item_outside_its_constructs_is_refused(raw):
    broken = copy.deepcopy(raw)
    broken["instruments"]["pulse"]["items"].append("STG01")
    with pytest.raises(BankError, match="not in its constructs"):
        parse_bank(broken)
