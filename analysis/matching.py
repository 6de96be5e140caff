"""Linking one officer's anonymous responses across waves by their self-generated code.

An officer's code is a handful of stable answers (mother's initial, birth month, ...), each
stored as a keyed hash, so the matcher sees only whether two answers to the same element are
equal. The rule follows the literature on self-generated identification codes: match exactly
where possible, tolerate exactly one differing element, and leave ambiguous candidates
unmatched rather than guess (Grube, Morgan & Kearney 1989; McGloin, Holcomb & Main 1996).
Always report the match rate (:func:`match_summary`), since officers who fail to match differ
from those who match.

Everything works within one cohort: pre, post and follow-up waves of one training.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._utils import check_columns

__all__ = ["match_codes", "match_summary", "simulate_codes", "matcher_accuracy"]

WAVE_KINDS = ("pre", "post", "followup")
MATCHES = ("first", "exact", "tolerant", "ambiguous", "unmatched", "no_code")


def _code(linkage, response_id) -> frozenset | None:
    """A response's code as a frozenset of (element, hash) pairs; None when it has none."""
    if isinstance(linkage, Mapping):
        return frozenset((e, h) for e, h in linkage.items() if h not in (None, "")) or None
    if linkage is None or (pd.api.types.is_scalar(linkage) and pd.isna(linkage)):
        return None
    raise ValueError(f"response {response_id!r}: linkage must be a dict of element hashes or "
                     f"None, not {type(linkage).__name__}")


def _check_int(value, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, not {value!r}")


def _wave_order(codes: pd.DataFrame, waves_order) -> list:
    """Wave ids in time order: the explicit list, or pre, post, follow-ups by followup_days."""
    present = list(pd.unique(codes["wave"]))
    if waves_order is not None:
        order = list(waves_order)
        if len(set(order)) != len(order):
            raise ValueError("waves_order lists a wave more than once")
        missing = [w for w in present if w not in order]
        if missing:
            raise ValueError(f"waves_order lacks the wave(s) {missing}")
        return [w for w in order if w in present]
    check_columns(codes, ("wave_kind", "followup_days"), "codes")
    sort_keys = {}
    for wave, rows in codes.groupby("wave", sort=True):
        kinds, days = rows["wave_kind"].unique(), rows["followup_days"].dropna().unique()
        if len(kinds) != 1 or len(days) > 1:
            raise ValueError(f"wave {wave!r} has more than one wave_kind or followup_days")
        kind = kinds[0]
        if kind not in WAVE_KINDS:
            raise ValueError(f"wave {wave!r}: wave_kind must be one of {WAVE_KINDS}, not {kind!r}")
        if kind == "followup" and len(days) == 0:
            raise ValueError(f"follow-up wave {wave!r} has no followup_days")
        sort_keys[wave] = (WAVE_KINDS.index(kind), days[0] if kind == "followup" else 0, wave)
    return sorted(sort_keys, key=sort_keys.get)


def match_codes(codes: pd.DataFrame, *, waves_order=None, min_common: int = 5,
                tolerance: int = 1) -> pd.DataFrame:
    """Link the responses of one cohort to persons by their self-generated codes.

    Parameters
    ----------
    codes : DataFrame
        One row per response of ONE cohort: ``response_id`` (unique), ``wave`` (the wave's id),
        ``wave_kind`` (``"pre"``, ``"post"`` or ``"followup"``), ``followup_days`` (missing
        unless a follow-up) and ``linkage``: a dict {element: hash} of the elements the officer
        answered, or None. ``wave_kind`` and ``followup_days`` are only needed without
        `waves_order`. A ``cohort`` column, if present, must hold a single value.
    waves_order : list, optional
        Wave ids in time order. By default: pre, post, then follow-ups by ``followup_days``
        (ties by wave id).
    min_common : int
        Elements both sides must have answered before a match is considered (default 5).
    tolerance : int
        Compared elements allowed to differ in the tolerant tier (default 1; 0 disables the
        tier). Must be smaller than `min_common`.

    Returns
    -------
    DataFrame
        One row per response, waves in time order and responses in input order within a wave:

        * ``response_id``, ``wave``
        * ``linkage_key``: the person key (``"P0001"``, numbered in order of appearance), None
          for a response without a code
        * ``match``: ``"first"`` (a response of the first wave: starts a person), ``"exact"``,
          ``"tolerant"``, ``"ambiguous"`` (had competing candidates: starts a new person),
          ``"unmatched"`` (had a code but no candidate left: starts a new person) or
          ``"no_code"``

    Notes
    -----
    Waves are taken in time order and persons built up incrementally. Each response of the
    first wave starts a person. A person's code is the union of the element hashes seen in
    their linked responses. A response and a person are compared on the elements both have
    answered; an element agrees when the response's hash is among the person's hashes for it.
    With c compared elements of which k differ, the pair is a candidate

    * in tier 1 (exact) when c >= `min_common` and k = 0;
    * in tier 2 (tolerant) when c >= `min_common` and k <= `tolerance`.

    Tier 1 is resolved first, then tier 2 among the responses and persons still free. Within a
    tier a candidate pair is linked only when the response has no other candidate person and the
    person no other candidate response; every other response with a candidate is ambiguous and
    stays unmatched (McGloin et al. 1996 found 2.7% wrong matches even under careful rules, so
    the matcher does not guess). Links are one-to-one: a person gets at most one response per
    wave, since persons started in a wave are only offered to later waves. Unlinked responses
    with a code start new persons, so they can be linked at later waves (a follow-up can link
    to a person last seen at pre).

    The result does not depend on the order of responses within a wave, except for the
    numbering of the person keys.

    Missing data: an element marked "Not sure" is absent from the dict and is simply not
    compared; a response without a code (None, missing or an empty dict) gets no person.

    References
    ----------
    Grube, J. W., Morgan, M. & Kearney, K. A. (1989). Using self-generated identification codes
    to match questionnaires in panel studies of adolescent substance use. *Addictive Behaviors*
    14, 159-171 (7 elements: 71% matched exactly, 88% allowing one element to differ).

    McGloin, J., Holcomb, S. & Main, D. S. (1996). Matching anonymous pre-posttests using
    subject-generated information. *Evaluation Review* 20, 724-736.
    """
    check_columns(codes, ("response_id", "wave", "linkage"), "codes")
    _check_int(min_common, "min_common", 1)
    _check_int(tolerance, "tolerance", 0)
    if tolerance >= min_common:
        raise ValueError(f"tolerance ({tolerance}) must be smaller than min_common ({min_common})")
    if "cohort" in codes.columns and codes["cohort"].nunique() > 1:
        raise ValueError("codes holds more than one cohort: match one cohort at a time")
    if codes["response_id"].duplicated().any():
        raise ValueError("response_id is not unique")
    if codes["wave"].isna().any():
        raise ValueError("wave is missing for some responses")
    order = _wave_order(codes, waves_order)
    response_codes = [_code(lk, r) for lk, r in zip(codes["linkage"], codes["response_id"])]
    tiers = [("exact", 0)] + ([("tolerant", tolerance)] if tolerance else [])

    person_pairs: list[set] = []      # per person: the (element, hash) pairs seen
    person_elements: list[set] = []   # per person: the elements answered
    key, match, rows_in_order = {}, {}, []
    for wave in order:
        rows = np.flatnonzero(codes["wave"].eq(wave).to_numpy())
        rows_in_order.extend(rows)
        candidates = []               # (row, person, differing elements)
        for i in rows:
            pairs = response_codes[i]
            if pairs is None:
                continue
            elements = {e for e, _ in pairs}
            for p in range(len(person_pairs)):
                common = len(elements & person_elements[p])
                if common >= min_common:
                    differ = common - len(pairs & person_pairs[p])
                    if differ <= tolerance:
                        candidates.append((i, p, differ))
        linked, taken, contested = {}, set(), set()
        for tier, allowed in tiers:
            edges = [(i, p) for i, p, d in candidates
                     if d <= allowed and i not in linked and p not in taken]
            persons_of = Counter(i for i, _ in edges)
            responses_of = Counter(p for _, p in edges)
            for i, p in edges:
                if persons_of[i] == 1 and responses_of[p] == 1:
                    linked[i], match[i] = p, tier
                    taken.add(p)
                else:
                    contested.add(i)
        for i in rows:
            pairs = response_codes[i]
            if pairs is None:
                key[i], match[i] = None, "no_code"
                continue
            if i in linked:
                p = linked[i]
            else:
                p = len(person_pairs)
                person_pairs.append(set())
                person_elements.append(set())
                match[i] = ("ambiguous" if i in contested
                            else "first" if wave == order[0] else "unmatched")
            person_pairs[p] |= pairs
            person_elements[p] |= {e for e, _ in pairs}
            key[i] = f"P{p + 1:04d}"
    return pd.DataFrame({
        "response_id": codes["response_id"].to_numpy()[rows_in_order],
        "wave": codes["wave"].to_numpy()[rows_in_order],
        "linkage_key": pd.Series([key[i] for i in rows_in_order], dtype=object),
        "match": [match[i] for i in rows_in_order],
    })


def match_summary(matches: pd.DataFrame) -> pd.DataFrame:
    """Per wave: how many responses carried a code and how many were linked.

    Parameters
    ----------
    matches : DataFrame
        The output of :func:`match_codes` (``wave`` and ``match`` are used).

    Returns
    -------
    DataFrame
        One row per wave, in the order the waves appear in `matches` (time order, as
        :func:`match_codes` gives them): ``wave``, ``n_responses``, ``n_with_code`` (responses
        whose match is not ``"no_code"``), ``n_exact``, ``n_tolerant``, ``n_ambiguous``,
        ``n_unmatched`` and ``link_rate``.

    Notes
    -----
    link_rate = (n_exact + n_tolerant) / n_with_code: the share of a later wave's coded
    responses linked to a person seen at an earlier wave. It is missing for the first wave
    (the wave whose responses start persons: nothing to link to) and for a wave without codes.
    Responses without a code count in ``n_responses`` only, so the share of officers linked
    among all respondents is (n_exact + n_tolerant) / n_responses.

    References
    ----------
    McGloin, J., Holcomb, S. & Main, D. S. (1996). Matching anonymous pre-posttests using
    subject-generated information. *Evaluation Review* 20, 724-736.
    """
    check_columns(matches, ("wave", "match"), "matches")
    unknown = set(matches["match"]) - set(MATCHES)
    if unknown:
        raise ValueError(f"unknown match value(s) {sorted(map(str, unknown))}")
    rows = []
    for wave, match in matches.groupby("wave", sort=False)["match"]:
        n = match.value_counts()
        with_code = len(match) - n.get("no_code", 0)
        linked = n.get("exact", 0) + n.get("tolerant", 0)
        first_wave = n.get("first", 0) > 0
        rows.append({
            "wave": wave, "n_responses": len(match), "n_with_code": int(with_code),
            "n_exact": int(n.get("exact", 0)), "n_tolerant": int(n.get("tolerant", 0)),
            "n_ambiguous": int(n.get("ambiguous", 0)), "n_unmatched": int(n.get("unmatched", 0)),
            "link_rate": np.nan if first_wave or with_code == 0 else linked / with_code,
        })
    return pd.DataFrame(rows, columns=["wave", "n_responses", "n_with_code", "n_exact",
                                       "n_tolerant", "n_ambiguous", "n_unmatched", "link_rate"])


# Simulated elements: (name, frequencies of the possible answers). The letter profile is a rough,
# skewed profile of first letters of English given names (J and M common, Q, U, X rare): an
# illustration, not a sourced table. Older siblings 0-5 ("5 or more"), mostly 0-2.
_LETTERS = np.array([7.0, 4.5, 7.0, 7.5, 4.0, 2.0, 3.5, 2.5, 0.8, 11.0, 5.0, 5.5, 9.5, 2.5, 0.6,
                     3.0, 0.1, 6.0, 6.5, 4.5, 0.1, 1.3, 2.5, 0.05, 0.3, 0.4])
_LETTERS = _LETTERS / _LETTERS.sum()
_MONTHS = np.full(12, 1 / 12)
_SIBLINGS = np.array([0.32, 0.30, 0.18, 0.10, 0.06, 0.04])
SIMULATED_ELEMENTS = (
    ("mother_initial", _LETTERS), ("father_initial", _LETTERS), ("birth_month", _MONTHS),
    ("older_siblings", _SIBLINGS), ("birthplace_initial", _LETTERS),
    ("first_car_initial", _LETTERS), ("grandmother_initial", _LETTERS),
    ("first_school_initial", _LETTERS),
)


def _check_rate(value, name: str) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1, not {value}")


def simulate_codes(n_officers: int, *, n_elements: int = 6, error_rate: float = 0.07,
                   skip_rate: float = 0.1, unsure_rate: float = 0.02, waves=("pre", "post"),
                   response_rate=0.85, rng=None) -> pd.DataFrame:
    """Simulated linkage codes of one cohort, with the true officer behind each response.

    Parameters
    ----------
    n_officers : int
        Officers in the cohort.
    n_elements : int
        Code elements, 1 to 8: mother_initial, father_initial, birth_month, older_siblings,
        birthplace_initial, first_car_initial, grandmother_initial, first_school_initial (the
        first six are the project's code).
    error_rate : float
        Probability that an officer misremembers one element (chosen at random) in a response
        after the first wave; independent across later waves, and only for that response.
    skip_rate : float
        Probability that a response carries no code at all (``linkage`` None).
    unsure_rate : float
        Probability that an element is marked "Not sure" (absent from the dict), per element and
        response. A response with every element unsure has no code.
    waves : sequence
        ``"pre"``, ``"post"`` or an int (a follow-up that many days after training), in time
        order; wave ids are 1, 2, ... in this order.
    response_rate : float or sequence of float
        Probability that an officer answers a wave; one rate for all waves or one per wave.
    rng : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    DataFrame
        The input format of :func:`match_codes`: ``response_id``, ``wave``, ``wave_kind``,
        ``followup_days``, ``linkage`` (dict of 32-hex hashes or None), plus ``true_person``
        (the officer's index).

    Notes
    -----
    Answers are drawn per officer from realistic cardinalities: letters from 26 with a skewed
    profile, birth month uniform over 12, older siblings 0-5 mostly 0-2. A misremembered
    element takes a different value drawn from the same profile. Hashes are SHA-256 of a
    random per-simulation salt, the element and the value, cut to 32 hex digits (as the app's
    keyed hashes). About 5-10% of officers misremember an element between waves.
    """
    _check_int(n_officers, "n_officers", 1)
    _check_int(n_elements, "n_elements", 1)
    if n_elements > len(SIMULATED_ELEMENTS):
        raise ValueError(f"n_elements must be at most {len(SIMULATED_ELEMENTS)}")
    for value, name in ((error_rate, "error_rate"), (skip_rate, "skip_rate"),
                        (unsure_rate, "unsure_rate")):
        _check_rate(value, name)
    specs = []
    for wave in waves:
        if wave in ("pre", "post"):
            specs.append((wave, np.nan))
        elif isinstance(wave, (int, np.integer)) and not isinstance(wave, bool) and wave > 0:
            specs.append(("followup", float(wave)))
        else:
            raise ValueError(f"waves holds {wave!r}: use 'pre', 'post' or follow-up days (int)")
    if not specs:
        raise ValueError("waves is empty")
    rates = np.asarray(response_rate, dtype=float)
    rates = np.full(len(specs), rates) if rates.ndim == 0 else rates
    if rates.shape != (len(specs),):
        raise ValueError("response_rate must be one rate or one per wave")
    for rate in rates:
        _check_rate(rate, "response_rate")
    rng = np.random.default_rng(rng)
    elements = SIMULATED_ELEMENTS[:n_elements]
    truth = np.column_stack([rng.choice(len(p), size=n_officers, p=p) for _, p in elements])
    salt = rng.bytes(16).hex()

    def digest(element: str, value: int) -> str:
        return hashlib.sha256(f"{salt}|{element}={value}".encode()).hexdigest()[:32]

    rows = []
    for number, ((kind, days), rate) in enumerate(zip(specs, rates), start=1):
        answers = rng.random(n_officers) < rate
        skips = rng.random(n_officers) < skip_rate
        errs = (rng.random(n_officers) < error_rate) & (number > 1)
        wrong = rng.integers(n_elements, size=n_officers)
        unsure = rng.random((n_officers, n_elements)) < unsure_rate
        for officer in np.flatnonzero(answers):
            linkage = None
            if not skips[officer]:
                values = truth[officer].copy()
                if errs[officer]:
                    p = elements[wrong[officer]][1].copy()
                    p[values[wrong[officer]]] = 0
                    values[wrong[officer]] = rng.choice(len(p), p=p / p.sum())
                linkage = {name: digest(name, values[j]) for j, (name, _) in enumerate(elements)
                           if not unsure[officer, j]} or None
            rows.append({"response_id": rng.bytes(8).hex(), "wave": number, "wave_kind": kind,
                         "followup_days": days, "linkage": linkage, "true_person": int(officer)})
    return pd.DataFrame(rows, columns=["response_id", "wave", "wave_kind", "followup_days",
                                       "linkage", "true_person"])


def matcher_accuracy(codes_with_truth: pd.DataFrame, matches: pd.DataFrame) -> dict:
    """Precision and recall of the links, judged on pairs of responses.

    Parameters
    ----------
    codes_with_truth : DataFrame
        ``response_id``, ``linkage`` and ``true_person`` (as from :func:`simulate_codes`).
    matches : DataFrame
        ``response_id`` and ``linkage_key`` (as from :func:`match_codes`), one row for every
        response in `codes_with_truth`.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``n_linked_pairs``, ``n_true_pairs``, ``n_correct_pairs``.

    Notes
    -----
    Two responses are *linked* when they share a linkage_key and *truly paired* when they share
    a true_person; only responses that carry a code count. With L the linked pairs, T the true
    pairs and C = L ∩ T:

    precision = |C| / |L| (the share of links made that are right) and
    recall = |C| / |T| (the share of true pairs, both responses coded, that were linked).

    A person key with m responses contributes m(m-1)/2 pairs. Precision is missing when no link
    was made, recall when there is no true pair.
    """
    check_columns(codes_with_truth, ("response_id", "linkage", "true_person"), "codes_with_truth")
    check_columns(matches, ("response_id", "linkage_key"), "matches")
    if matches["response_id"].duplicated().any():
        raise ValueError("matches holds a response_id more than once")
    if not set(codes_with_truth["response_id"]) <= set(matches["response_id"]):
        raise ValueError("matches lacks some responses of codes_with_truth")
    data = codes_with_truth[["response_id", "linkage", "true_person"]].merge(
        matches[["response_id", "linkage_key"]], on="response_id", how="left")
    coded = data.loc[[_code(lk, r) is not None
                      for lk, r in zip(data["linkage"], data["response_id"])]]
    linked = coded.loc[coded["linkage_key"].notna()]

    def pairs(groups) -> int:
        sizes = groups.size().to_numpy()
        return int((sizes * (sizes - 1) // 2).sum())

    n_true = pairs(coded.groupby("true_person"))
    n_linked = pairs(linked.groupby("linkage_key"))
    n_correct = pairs(linked.groupby(["linkage_key", "true_person"]))
    return {"precision": n_correct / n_linked if n_linked else np.nan,
            "recall": n_correct / n_true if n_true else np.nan,
            "n_linked_pairs": n_linked, "n_true_pairs": n_true, "n_correct_pairs": n_correct}
