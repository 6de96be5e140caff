"""Demo data: an agency, staff logins, cohorts and synthetic responses that look like real ones.

Officers get a latent level per construct; each answer is that level plus noise, rounded onto the
5-point scale (reverse-keyed items flipped). After training the levels shift by a cohort-specific
amount with individual spread, so some officers get worse. Linkage is partial as in the
literature: some officers skip the code, some misremember one element at a later wave, some answer
only one wave.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from flask import current_app

from . import accounts, linkage, publishing, services
from .bank import current_bank, linkage_elements
from .comments import clean_comment
from .extensions import db
from .models import (Agency, Answer, Comment, CommentTheme, Item, Response, Role, StaffUser,
                     StepStatus, Unit, Wave, WaveKind)

AGENCY = "Riverside Police Department (demo)"
PASSWORD = "demo-password"
USERS = [("admin@demo.example.org", "Dana Reyes", Role.ADMIN),
         ("trainer@demo.example.org", "Sgt. Terry Okafor", Role.TRAINER),
         ("leader@demo.example.org", "Chief Lee Martins", Role.LEADER)]
UNITS = ["Patrol North", "Patrol South", "Traffic", "Community Policing", "K9"]
#: Share of pulse respondents per unit (K9 is small: its cells are withheld) and not given.
UNIT_WEIGHTS = [0.34, 0.30, 0.14, 0.08, 0.02, 0.12]
HEADCOUNT = 240
TIMEZONE = "America/Chicago"

#: Pre-training mean on the 1-5 agreement scale, and the mean shift after training, per construct.
PRE_MEAN = {"stigma": 3.3, "barriers": 3.4, "facilitators": 2.7, "knowledge": 2.5, "intention": 3.0}
SHIFT = {"stigma": -0.55, "barriers": -0.35, "facilitators": 0.3, "knowledge": 0.8, "intention": 0.45}


@dataclass
class DemoCohort:
    name: str
    days_ago: int
    officers: int
    unit: str
    topics: tuple[str, ...]
    effect: float  # multiplies SHIFT
    followup_days: int | None = None


#: Quarterly pulses over three years.
PULSES = 12

COHORTS = [
    DemoCohort("Deflection basics, day shift", 120, 34, "Patrol North",
               ("science_of_addiction", "aces", "relapse", "local_treatment", "post_referral",
                "policy_eligibility"), 1.0, followup_days=90),
    DemoCohort("Deflection basics, night shift", 60, 27, "Patrol South",
               ("science_of_addiction", "relapse", "policy_eligibility"), 0.6, followup_days=30),
    DemoCohort("Recovery voices: lived experience panel", 20, 22, "Community Policing",
               ("lived_experience", "historical_context", "local_treatment", "post_referral"), 1.2),
]
#: Steps `load` reports to its progress callback: each cohort, the open class, each pulse, the end.
#: Loading steps, then publishing: each class with a closed survey, then the agency.
STEPS = len(COHORTS) + 1 + PULSES + 1 + len(COHORTS) + 1


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), ZoneInfo(TIMEZONE))




def _ignore(_: int) -> None:
    pass


def load(rng_seed: int = 2026, progress=_ignore) -> Agency:
    """Fill an empty database with the demo agency; returns it. `progress(n)` is called as
    steps finish (STEPS in all), for a progress bar."""
    rng = np.random.default_rng(rng_seed)
    agency = services.get_or_create_agency(AGENCY, timezone=TIMEZONE, headcount=HEADCOUNT)
    units = {name: Unit(agency=agency, name=name) for name in UNITS}
    db.session.add_all(units.values())
    db.session.flush()
    users = {role: accounts.create_staff_user(agency, email=email, name=name, role=role,
                                              password=PASSWORD,
                                              platform_admin=role is Role.ADMIN)
             for email, name, role in USERS}
    agency.retention_months = 60
    bank = current_bank()
    items = bank.instrument_items("training")
    today = services.local_date(agency)
    for spec in COHORTS:
        held_on = today - dt.timedelta(days=spec.days_ago)
        cohort = services.create_cohort(agency, name=spec.name, held_on=held_on,
                                        trainer=users[Role.TRAINER], unit=units[spec.unit],
                                        location="Training room B", topics=list(spec.topics))
        pre, post = cohort.waves
        waves = [(pre, held_on, 0.0), (post, held_on, 1.0)]
        if spec.followup_days:
            followup = services.new_wave(agency, WaveKind.FOLLOWUP, pre.instrument,
                                         cohort=cohort, followup_days=spec.followup_days)
            waves.append((followup, held_on + dt.timedelta(days=spec.followup_days), 0.7))
        for wave, day, _ in waves:
            wave.opens_at = _local(day, 8)
            wave.closes_at = _local(day + dt.timedelta(days=3 if wave.kind is WaveKind.FOLLOWUP
                                                       else 0), 18)
        _simulate(rng, agency, spec, waves, items)
        progress(1)
    upcoming = services.create_cohort(
        agency, name="Deflection basics, weekend shift", held_on=today,
        trainer=users[Role.TRAINER], unit=units["Traffic"], location="Training room A",
        topics=["science_of_addiction", "aces", "relapse", "local_treatment"])
    services.open_wave(upcoming.waves[0], current_app.config["WAVE_OPEN_HOURS"])
    progress(1)
    _culture(rng, agency, users[Role.LEADER], units, today, progress)
    agency.kind, agency.state, agency.program_model = "municipal", "IL", "partner"
    agency.benchmark_opt_in = True
    neighbours = _network(rng, today)
    db.session.commit()
    progress(1)
    for other in neighbours:  # their summaries first: the demo's benchmark is drawn from them
        publishing.republish(other)
    publishing.republish(agency.id, progress=progress)  # what closed is published, as it would be
    return agency


#: The demo's network: synthetic agencies that opted in to the benchmarks, with one closed
#: pulse each (name, state, sworn officers, how much warmer than the demo's first pulse).
NEIGHBOURS = [("Lakeshore Police Department (demo network)", "IL", 310, 0.35),
              ("Prairie County Sheriff's Office (demo network)", "IN", 180, 0.05),
              ("Fox Valley Police Department (demo network)", "WI", 260, 0.5),
              ("Cedar Falls Police Department (demo network)", "IA", 140, 0.2),
              ("Maumee Police Department (demo network)", "OH", 420, 0.6),
              ("Gateway City Police Department (demo network)", "MO", 205, 0.3),
              ("Desert Springs Police Department (demo network)", "AZ", 90, 0.4)]


def _network(rng, today: dt.date) -> list[int]:
    """The neighbouring agencies of :data:`NEIGHBOURS`, each with a closed pulse of 30 to 60
    officers; returns their ids."""
    pulse_items = current_bank().instrument_items("pulse")
    item_ids = {i.code: i.id for i in db.session.scalars(sa.select(Item).where(
        Item.code.in_([i.code for i in pulse_items])))}
    ids, responses, answers = [], [], []
    for name, state, headcount, warmer in NEIGHBOURS:
        other = services.get_or_create_agency(name, timezone=TIMEZONE, headcount=headcount)
        other.kind = "sheriff" if "Sheriff" in name else "municipal"
        other.state, other.benchmark_opt_in = state, True
        opens_on = _months_ago(today, 4)
        wave = services.start_pulse(other, None, opens_on=opens_on, days_open=14)
        for _ in range(int(rng.integers(30, 61))):
            key = uuid.uuid4()
            responses.append({"id": key, "wave_id": wave.id, "linkage": None,
                              "submitted_on": opens_on, "unit_id": None, "shift": None})
            person = rng.normal(0, 0.55)
            for item in pulse_items:
                lower = item.construct in ("change_fatigue", "cynicism")
                mean = PULSE_START[item.construct] + (-warmer if lower else warmer)
                value = int(np.clip(np.rint(mean + (-1 if lower else 1) * person
                                            + rng.normal(0, 0.6)), 1, 5))
                answers.append({"response_id": key, "item_id": item_ids[item.code],
                                "value": 6 - value if item.reverse_keyed else value})
        ids.append(other.id)
    db.session.execute(sa.insert(Response), responses)
    db.session.execute(sa.insert(Answer), answers)
    return ids


#: Culture-change steps completed (months before today), with what officers were told.
DONE_STEPS = [
    (34, "kotter_1_urgency", "Overdose deaths in the county were shared at every roll call."),
    (32, "le_executive_support", "The chief briefed every shift on why deflection matters."),
    (30, "kotter_2_coalition", ""),
    (27, "le_policy", "A written deflection policy is on the intranet."),
    (26, "le_eligibility", "Eligibility is now a one-page card in every car."),
    (24, "all_faster_than_arrest", "You said referral took too long: the clinic now picks up "
                                   "at the scene within 20 minutes."),
    (20, "all_outcomes_shared", "You asked what happens after a referral: monthly outcome "
                                "figures are now in the briefing."),
    (16, "le_referral_metric", "You said referrals did not count: they are now part of "
                               "annual evaluations."),
    (12, "le_incentives", ""),
    (8, "all_officer_feedback", "Suggestions from the last pulse changed the referral form."),
]
IN_PROGRESS = ["kotter_6_quick_wins", "le_line_officers_in_policy", "all_lived_experience"]

#: Pulse construct means at the start, and their yearly drift; steps that shift them when done.
PULSE_START = {"executive_support": 2.6, "discretion": 2.8, "change_fatigue": 3.4,
               "cynicism": 3.5, "referral_speed": 2.3, "outcome_feedback": 2.1,
               "intention": 2.9, "recognition": 2.0}
PULSE_DRIFT = {"cynicism": -0.12, "discretion": 0.08, "intention": 0.1}
STEP_EFFECTS = {"le_executive_support": ("executive_support", 0.5),
                "all_faster_than_arrest": ("referral_speed", 0.6),
                "all_outcomes_shared": ("outcome_feedback", 0.7),
                "le_referral_metric": ("recognition", 0.8)}


def _months_ago(today: dt.date, months: int) -> dt.date:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return dt.date(year, month + 1, 1)


#: What officers wrote to the latest closed pulse's open question (masked on the way in: the
#: sergeant's name and the phone number never reach the database), with the themes a leader
#: gave each.
DEMO_COMMENTS = [
    ("If the clinic van met us at the scene, a referral would be faster than booking.",
     ("time", "treatment")),
    ("The referral form is three pages. Booking is one. Cut the form.", ("time",)),
    ("Let us drop people at the crisis center without waiting for intake.",
     ("time", "treatment")),
    ("A direct line to intake that answers at night, like (312) 555-0142 but staffed.",
     ("treatment",)),
    ("Sgt. Okafor's roll-call talk helped. More of that, less email.", ("training",)),
    ("Tell us what happened after the referral. We never hear back.", ("after",)),
    ("Count referrals in evaluations the same as arrests.", ("recognition",)),
    ("Most of my shift is nights: the program is closed when I need it.", ("treatment",)),
    ("A card in every car with who to call and what they take.", ("treatment", "training")),
    ("Faster intake. Twenty minutes is still too long on a busy night.", ("time",)),
    ("Let the navigator ride along one shift a month.", ("training",)),
    ("Make the paperwork a phone app.", ("time",)),
    ("Honestly it is quicker already than it was last year.", ()),
]


def _culture(rng, agency: Agency, leader, units: dict, today: dt.date, progress=_ignore) -> None:
    """Tracker progress, twelve quarterly pulses over three years, and program figures."""
    items = services.tracker_items(agency)
    done_on = {}
    for months, code, note in DONE_STEPS:
        day = _months_ago(today, months) + dt.timedelta(days=int(rng.integers(0, 25)))
        item = items[code]
        item.status, item.done_on, item.shared_note = StepStatus.DONE, day, note
        item.owner = "Chief Lee Martins" if code.startswith("kotter") else "Dana Reyes"
        done_on[code] = day
    for code in IN_PROGRESS:
        items[code].status, items[code].owner = StepStatus.IN_PROGRESS, "Sgt. Terry Okafor"

    bank = current_bank()
    pulse_items = bank.instrument_items("pulse")
    item_ids = {i.code: i.id for i in db.session.scalars(sa.select(Item).where(
        Item.code.in_([i.code for i in pulse_items])))}
    unit_list = [units[name] for name in UNITS] + [None]
    responses, answers, comments, themes = [], [], [], []
    agency.comment_prompt = "quicker"
    for quarter in range(PULSES):
        opens_on = _months_ago(today, 36 - 3 * quarter)
        wave = services.start_pulse(agency, leader, opens_on=opens_on, days_open=14)
        years = quarter / 4
        n = int(HEADCOUNT * rng.uniform(0.5, 0.72))
        for _ in range(n):
            key = uuid.uuid4()
            unit = unit_list[rng.choice(len(unit_list), p=UNIT_WEIGHTS)]
            shift = None if rng.random() < 0.1 else agency.shifts[rng.integers(3)]
            responses.append({"id": key, "wave_id": wave.id, "linkage": None,
                              "submitted_on": opens_on + dt.timedelta(days=int(rng.integers(14))),
                              "unit_id": unit.id if unit else None, "shift": shift})
            person = rng.normal(0, 0.55)
            for item in pulse_items:
                mean = PULSE_START[item.construct] + PULSE_DRIFT.get(item.construct, 0) * years
                for code, (construct, effect) in STEP_EFFECTS.items():
                    if construct == item.construct and done_on[code] <= opens_on:
                        mean += effect
                if unit is not None and unit.name == "Traffic":
                    mean -= 0.3  # a unit leadership should notice
                sign = -1 if item.construct in ("change_fatigue", "cynicism") else 1
                value = int(np.clip(np.rint(mean + sign * person + rng.normal(0, 0.6)), 1, 5))
                if item.reverse_keyed:
                    value = 6 - value
                answers.append({"response_id": key, "item_id": item_ids[item.code],
                                "value": value})
        if quarter == PULSES - 1:  # the latest closed pulse's open question
            for i in rng.permutation(len(DEMO_COMMENTS)):  # no order of writing kept
                text, said = DEMO_COMMENTS[i]
                comments.append({"id": uuid.uuid4(), "wave_id": wave.id,
                                 "text": clean_comment(text)})
                themes += [{"comment_id": comments[-1]["id"], "theme": t} for t in said]
        progress(1)
    db.session.execute(sa.insert(Response), responses)
    db.session.execute(sa.insert(Answer), answers)
    db.session.execute(sa.insert(Comment), comments)
    db.session.execute(sa.insert(CommentTheme), themes)
    services.start_pulse(agency, leader, opens_on=today, days_open=14)  # open now, to try

    figures = []
    for months in range(36, 0, -1):
        month = _months_ago(today, months)
        level = 36 - months
        referrals = int(max(0, rng.normal(4 + level * 1.1, 3)))
        figures += [(month, "referrals", referrals),
                    (month, "deflections", int(referrals * rng.uniform(0.6, 0.85))),
                    (month, "contacts", int(max(0, rng.normal(30 + level * 2, 6)))),
                    (month, "arrests_avoided", int(referrals * rng.uniform(0.4, 0.6)))]
    services.save_program_figures(agency, leader, figures)


def _linkage_values(rng) -> dict[str, str]:
    values = {}
    for element in linkage_elements():
        options = [value for value, _ in element.choices]
        values[element.code] = options[rng.integers(len(options))]
    return values


def _simulate(rng, agency: Agency, spec: DemoCohort, waves, items) -> None:
    constructs = list(PRE_MEAN)
    secret = current_app.config["LINKAGE_SECRET"]
    item_ids = {i.code: i.id for i in db.session.scalars(sa.select(
        Item).where(Item.code.in_([i.code for i in items])))}
    level = rng.normal(0, 0.7, size=(spec.officers, len(constructs)))
    change = rng.normal(1.0, 0.9, size=(spec.officers, len(constructs)))
    codes = [_linkage_values(rng) for _ in range(spec.officers)]
    gives_code = rng.random(spec.officers) < 0.85
    responses, answers = [], []
    for wave, day, dose in waves:
        answers_wave = 0.92 if wave.kind is WaveKind.PRE else (
            0.85 if wave.kind is WaveKind.POST else 0.65)
        for officer in range(spec.officers):
            if rng.random() > answers_wave:
                continue
            key = uuid.uuid4()
            link = None
            if gives_code[officer] and rng.random() < 0.95:
                values = dict(codes[officer])
                if wave.kind is not WaveKind.PRE and rng.random() < 0.08:
                    element = rng.choice(list(values))
                    values[element] = _linkage_values(rng)[element]
                link = linkage.hash_linkage(values, secret=secret, salt=agency.linkage_salt)
            responses.append({"id": key, "wave_id": wave.id, "submitted_on": day,
                              "linkage": link})
            for item in items:
                c = constructs.index(item.construct)
                mean = (PRE_MEAN[item.construct] + level[officer, c]
                        + dose * spec.effect * SHIFT[item.construct] * change[officer, c])
                value = int(np.clip(np.rint(mean + rng.normal(0, 0.6)), 1, 5))
                if item.reverse_keyed:
                    value = 6 - value
                answers.append({"response_id": key, "item_id": item_ids[item.code],
                                "value": value})
    db.session.flush()
    db.session.execute(sa.insert(Response), responses)
    db.session.execute(sa.insert(Answer), answers)


def is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Agency)) == 0


def keep_alive() -> list[str]:
    """Whatever the day, leave the demo agency an open training survey and an open pulse to
    try (run by ``flask demo --if-empty``, so by every ``make run``): a class held today with
    its before-training survey open, and a pulse opening today, where none is open now.
    Returns what it opened, for the console."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == AGENCY))
    if agency is None:
        return []
    kinds = {w.kind for w in demo_join_codes()}
    today = services.local_date(agency)
    opened = []
    if not kinds & {WaveKind.PRE, WaveKind.POST, WaveKind.FOLLOWUP}:
        trainer = db.session.scalar(sa.select(StaffUser).where(
            StaffUser.agency_id == agency.id, StaffUser.role == Role.TRAINER))
        cohort = services.create_cohort(
            agency, name=f"Deflection basics, {today:%-d %B}", held_on=today, trainer=trainer,
            location="Training room A",
            topics=["science_of_addiction", "aces", "relapse", "local_treatment"])
        services.open_wave(cohort.waves[0], current_app.config["WAVE_OPEN_HOURS"])
        opened.append(f"a class held today ({cohort.name})")
    if WaveKind.PULSE not in kinds:
        leader = db.session.scalar(sa.select(StaffUser).where(
            StaffUser.agency_id == agency.id, StaffUser.role == Role.LEADER))
        services.start_pulse(agency, leader, opens_on=today, days_open=14)
        opened.append("a pulse opening today")
    db.session.commit()
    return opened


def demo_join_codes() -> list[Wave]:
    """The demo agency's waves that are open now, for trying the officer's path."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == AGENCY))
    if agency is None:
        return []
    waves = db.session.scalars(sa.select(Wave).where(Wave.agency_id == agency.id))
    return [w for w in waves if w.status().value == "open"]
