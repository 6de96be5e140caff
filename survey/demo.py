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

from . import linkage, services
from .bank import current_bank, linkage_elements
from .extensions import db
from .models import Agency, Answer, Item, Response, Role, Unit, Wave, WaveKind

AGENCY = "Riverside Police Department (demo)"
PASSWORD = "demo-password"
USERS = [("admin@demo.example.org", "Dana Reyes", Role.ADMIN),
         ("trainer@demo.example.org", "Sgt. Terry Okafor", Role.TRAINER),
         ("leader@demo.example.org", "Chief Lee Martins", Role.LEADER)]
UNITS = ["Patrol North", "Patrol South", "Traffic", "Community Policing"]
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


COHORTS = [
    DemoCohort("Deflection basics, day shift", 120, 34, "Patrol North",
               ("science_of_addiction", "aces", "relapse", "local_treatment", "post_referral",
                "policy_eligibility"), 1.0, followup_days=90),
    DemoCohort("Deflection basics, night shift", 60, 27, "Patrol South",
               ("science_of_addiction", "relapse", "policy_eligibility"), 0.6, followup_days=30),
    DemoCohort("Recovery voices: lived experience panel", 20, 22, "Community Policing",
               ("lived_experience", "historical_context", "local_treatment", "post_referral"), 1.2),
]


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), ZoneInfo(TIMEZONE))


def load(rng_seed: int = 2026) -> Agency:
    """Fill an empty database with the demo agency; returns it."""
    rng = np.random.default_rng(rng_seed)
    agency = services.get_or_create_agency(AGENCY, timezone=TIMEZONE)
    units = {name: Unit(agency=agency, name=name) for name in UNITS}
    db.session.add_all(units.values())
    db.session.flush()
    users = {role: services.create_staff_user(agency, email=email, name=name, role=role,
                                              password=PASSWORD)
             for email, name, role in USERS}
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
    upcoming = services.create_cohort(
        agency, name="Deflection basics, weekend shift", held_on=today,
        trainer=users[Role.TRAINER], unit=units["Traffic"], location="Training room A",
        topics=["science_of_addiction", "aces", "relapse", "local_treatment"])
    services.open_wave(upcoming.waves[0], current_app.config["WAVE_OPEN_HOURS"])
    db.session.commit()
    return agency


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


def demo_join_codes() -> list[Wave]:
    """The demo agency's waves that are open now, for trying the officer's path."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == AGENCY))
    if agency is None:
        return []
    waves = db.session.scalars(sa.select(Wave).where(Wave.agency_id == agency.id))
    return [w for w in waves if w.status().value == "open"]
