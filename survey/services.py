"""Plain functions that change the database. Views call them; each commits or raises."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import joincode
from .bank import Bank, BankError, current_bank, tracker_steps
from .extensions import db
from .models import (Agency, Answer, AuditEntry, Cadence, Cohort, CohortTopic, Comment,
                     CommentTheme, Construct,
                     Instrument, InstrumentItem, Item, ProgramFigure, Response, StaffUser,
                     StepStatus, TrackerItem, Unit, Wave, WaveKind, utcnow)


# --- The item bank in the database -------------------------------------------------------------

def sync_bank(bank: Bank) -> dict[str, Item]:
    """Make sure every construct and item of the bank exists; return items by code.

    Item codes are stable: an existing code whose wording or keying differs from the bank is an
    error, since responses already given answered the old wording.
    """
    constructs = {c.code: c for c in db.session.scalars(sa.select(Construct))}
    for cdef in bank.constructs.values():
        if cdef.code not in constructs:
            constructs[cdef.code] = Construct(code=cdef.code, name=cdef.name,
                                              description=cdef.description,
                                              higher_means=cdef.higher_means,
                                              officer_heading=cdef.officer_heading,
                                              favourable=cdef.favourable)
            db.session.add(constructs[cdef.code])
    items = {i.code: i for i in db.session.scalars(sa.select(Item))}
    for idef in bank.items.values():
        scale = bank.scales[idef.scale]
        existing = items.get(idef.code)
        if existing is None:
            items[idef.code] = Item(code=idef.code, construct=constructs[idef.construct],
                                    text=idef.text, reverse_keyed=idef.reverse_keyed,
                                    scale_code=scale.code, scale_min=scale.min,
                                    scale_max=scale.max, seed=idef.seed, source=idef.source)
            db.session.add(items[idef.code])
        elif (existing.text, existing.reverse_keyed) != (idef.text, idef.reverse_keyed):
            raise BankError(f"item {idef.code}: wording or keying changed; give it a new code")
    return items


def publish_instrument(key: str = "training", bank: Bank | None = None) -> Instrument:
    """The standard instrument `key` as the bank defines it, publishing a new version if needed."""
    bank = bank or current_bank()
    if key not in bank.instruments:
        raise BankError(f"the item bank has no instrument '{key}'")
    latest = db.session.scalar(
        sa.select(Instrument).where(Instrument.agency_id.is_(None), Instrument.key == key)
        .order_by(Instrument.version.desc()).limit(1))
    wanted = [i.code for i in bank.instrument_items(key)]
    if latest is not None and [e.item.code for e in latest.entries] == wanted:
        return latest
    items = sync_bank(bank)
    spec = bank.instruments[key]
    instrument = Instrument(key=key, version=(latest.version + 1) if latest else 1,
                            title=spec.title, bank_version=bank.version)
    instrument.entries = [InstrumentItem(item=items[code], position=n)
                          for n, code in enumerate(wanted, start=1)]
    db.session.add(instrument)
    db.session.flush()
    return instrument


def agency_instrument(agency: Agency, key: str) -> Instrument:
    """The version new waves of `agency` use: its own latest, else the bank's standard one."""
    own = db.session.scalar(
        sa.select(Instrument).where(Instrument.agency_id == agency.id, Instrument.key == key)
        .order_by(Instrument.version.desc()).limit(1))
    return own or publish_instrument(key)


# --- Staff ----------------------------------------------------------------------------------------

def get_or_create_agency(name: str, **settings) -> Agency:
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == name))
    if agency is None:
        agency = Agency(name=name, **settings)
        db.session.add(agency)
        db.session.flush()
    return agency


# --- Cohorts and waves ----------------------------------------------------------------------------

def _unused_join_code() -> str:
    while True:
        code = joincode.new_code()
        if not db.session.scalar(sa.select(Wave.id).where(Wave.join_code == code)):
            return code


def new_wave(agency: Agency, kind: WaveKind, instrument: Instrument, *,
             cohort: Cohort | None = None, followup_days: int | None = None) -> Wave:
    wave = Wave(agency=agency, cohort=cohort, kind=kind, instrument=instrument,
                followup_days=followup_days, join_code=_unused_join_code())
    db.session.add(wave)
    db.session.flush()
    return wave


#: Default follow-up offsets in days, and how long each follow-up stays open.
FOLLOWUP_DAYS = (30, 90, 180)
FOLLOWUP_OPEN_DAYS = 14


def schedule_followup(wave: Wave, held_on: dt.date) -> None:
    """A follow-up opens at midnight (agency time) `followup_days` after the training and
    closes FOLLOWUP_OPEN_DAYS later, on its own."""
    opens = dt.datetime.combine(held_on + dt.timedelta(days=wave.followup_days), dt.time(0),
                                ZoneInfo(wave.agency.timezone))
    wave.opens_at = opens
    wave.closes_at = opens + dt.timedelta(days=FOLLOWUP_OPEN_DAYS)


def add_followups(cohort: Cohort, days: list[int]) -> None:
    """Add follow-up waves at these offsets, skipping offsets the cohort already has."""
    have = {w.followup_days for w in cohort.waves if w.kind is WaveKind.FOLLOWUP}
    instrument = next(w.instrument for w in cohort.waves if w.kind is WaveKind.PRE)
    for offset in sorted(set(days) - have):
        wave = new_wave(cohort.agency, WaveKind.FOLLOWUP, instrument, cohort=cohort,
                        followup_days=offset)
        schedule_followup(wave, cohort.held_on)


def create_cohort(agency: Agency, *, name: str, held_on: dt.date, trainer: StaffUser | None,
                  unit: Unit | None = None, location: str = "",
                  topics: list[str] = (), followups: list[int] = (),
                  by: StaffUser | None = None, co_trainers: list[StaffUser] = ()) -> Cohort:
    """A training class with its pre and post waves (not yet open) and any follow-ups."""
    instrument = agency_instrument(agency, "training")
    cohort = Cohort(agency=agency, name=name.strip(), held_on=held_on, trainer=trainer,
                    unit=unit, location=location.strip(), co_trainers=list(co_trainers),
                    topics=[CohortTopic(topic=t) for t in dict.fromkeys(topics)])
    db.session.add(cohort)
    for kind in (WaveKind.PRE, WaveKind.POST):
        new_wave(agency, kind, instrument, cohort=cohort)
    add_followups(cohort, list(followups))
    db.session.flush()
    audit(agency.id, by, "cohort.create", f"cohort {cohort.id}", name=cohort.name,
          held_on=held_on.isoformat(), waves=[w.join_code for w in cohort.waves])
    db.session.commit()
    return cohort


def update_cohort(cohort: Cohort, *, name: str, held_on: dt.date, trainer: StaffUser | None,
                  unit: Unit | None, location: str, topics: list[str],
                  followups: list[int], by: StaffUser | None = None,
                  co_trainers: list[StaffUser] | None = None) -> None:
    """Change a cohort's details; follow-ups not yet open move with a new training date."""
    audit(cohort.agency_id, by, "cohort.update", f"cohort {cohort.id}",
          before={"name": cohort.name, "held_on": cohort.held_on.isoformat(),
                  "topics": cohort.topic_codes},
          after={"name": name.strip(), "held_on": held_on.isoformat(), "topics": list(topics)})
    cohort.name, cohort.unit, cohort.location = name.strip(), unit, location.strip()
    cohort.trainer = trainer
    if co_trainers is not None:
        cohort.co_trainers = list(co_trainers)
    cohort.topics = [CohortTopic(topic=t) for t in dict.fromkeys(topics)]
    if held_on != cohort.held_on:
        cohort.held_on = held_on
        now = utcnow()
        for wave in cohort.waves:
            if wave.kind is WaveKind.FOLLOWUP and (wave.opens_at is None or wave.opens_at > now):
                schedule_followup(wave, held_on)
    add_followups(cohort, followups)
    db.session.commit()


def open_wave(wave: Wave, hours: int, now: dt.datetime | None = None,
              by: StaffUser | None = None) -> None:
    """Open now; close automatically after `hours` unless closed sooner."""
    now = now or utcnow()
    wave.opens_at = now
    wave.closes_at = now + dt.timedelta(hours=hours)
    audit(wave.agency_id, by, "wave.open", f"wave {wave.id} ({wave.join_code})", hours=hours)
    db.session.commit()


def close_wave(wave: Wave, now: dt.datetime | None = None, by: StaffUser | None = None) -> None:
    now = now or utcnow()
    if wave.opens_at is None or wave.opens_at >= now:
        wave.opens_at = now - dt.timedelta(seconds=1)
    wave.closes_at = now
    audit(wave.agency_id, by, "wave.close", f"wave {wave.id} ({wave.join_code})")
    db.session.commit()


# --- Responses ------------------------------------------------------------------------------------

def local_date(agency: Agency, now: dt.datetime | None = None) -> dt.date:
    """Today in the agency's time zone: the only time a response keeps."""
    return (now or utcnow()).astimezone(ZoneInfo(agency.timezone)).date()


def response_id(secret: str, nonce: str) -> uuid.UUID:
    """The response's key, derived from the survey session's random nonce.

    A double tap or a resend carries the same nonce and so the same key, which the database
    refuses to store twice. The nonce alone, without the server's secret, does not give the key.
    """
    digest = hmac.new(secret.encode(), b"response:" + nonce.encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


class WaveSealed(Exception):
    """The wave was sealed for publishing: it takes no more answers."""


def record_response(wave: Wave, answers: dict[int, int], *, linkage: dict | None,
                    key: uuid.UUID, today: dt.date, unit_id: int | None = None,
                    shift: str | None = None) -> bool:
    """Store one response and its answers in one transaction.

    Returns False, writing nothing, when a response with this key is already stored; raises
    `WaveSealed`, writing nothing, when the wave was sealed. The seal is read after the rows are
    written, in the same transaction: on PostgreSQL under a share lock that a sealing UPDATE
    waits for (or that waits for it), on SQLite while holding the database's write lock. So an
    answer either lands before the seal, and is published, or not at all.
    """
    db.session.add(Response(id=key, wave_id=wave.id, submitted_on=today, linkage=linkage,
                            unit_id=unit_id, shift=shift))
    try:
        db.session.flush()
        if answers:  # every statement "Prefer not to answer" keeps a sheet with none
            db.session.execute(sa.insert(Answer), [
                {"response_id": key, "item_id": item_id, "value": value}
                for item_id, value in answers.items()])
        sealed = db.session.execute(sa.select(Wave.sealed_at).where(Wave.id == wave.id)
                                    .with_for_update(read=True)).scalar()
        if sealed is not None:
            db.session.rollback()
            raise WaveSealed(wave.id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if db.session.get(Response, key) is not None:
            return False
        raise
    return True


# --- Audit log ------------------------------------------------------------------------------------

def audit(agency_id: int, user: StaffUser | None, action: str, target: str, **detail) -> None:
    """Record a staff action (added to the session; committed with the change it records)."""
    db.session.add(AuditEntry(agency_id=agency_id, staff_user_id=user.id if user else None,
                              action=action, target=target[:120], detail=detail))


# --- Pulses ---------------------------------------------------------------------------------------

PULSE_OPEN_DAYS = 14
CADENCE_MONTHS = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3}


def next_pulse_date(agency: Agency, last: dt.date | None, today: dt.date) -> dt.date:
    """When the next pulse is due on the agency's cadence (today if none is due later)."""
    if last is None:
        return today
    months = last.year * 12 + last.month - 1 + CADENCE_MONTHS[agency.pulse_cadence]
    due = dt.date(months // 12, months % 12 + 1, min(last.day, 28))
    return max(due, today)


def start_pulse(agency: Agency, user: StaffUser | None, *, opens_on: dt.date,
                days_open: int = PULSE_OPEN_DAYS, headcount: int | None = None) -> Wave:
    """A new agency pulse: a wave of the pulse instrument, open for `days_open` days."""
    instrument = agency_instrument(agency, "pulse")
    wave = new_wave(agency, WaveKind.PULSE, instrument)
    opens = dt.datetime.combine(opens_on, dt.time(0), ZoneInfo(agency.timezone))
    wave.opens_at, wave.closes_at = opens, opens + dt.timedelta(days=days_open)
    wave.headcount = headcount or agency.headcount
    wave.comment_prompt = agency.comment_prompt
    audit(agency.id, user, "pulse.start", f"wave {wave.id}", opens_on=opens_on.isoformat(),
          days_open=days_open)
    db.session.commit()
    return wave


def record_comment(wave: Wave, text: str) -> None:
    """Store an officer's masked comment apart from the answer sheet, in a transaction of its
    own, and leave the wave's comments with no order of arrival: all of them are rewritten
    together in random order (one transaction id for all on PostgreSQL, rows in random places),
    and SQLite's write-ahead log is checkpointed so it keeps no trace of which came last."""
    import random
    rows = [(c.id, c.text) for c in db.session.scalars(
        sa.select(Comment).where(Comment.wave_id == wave.id))] + [(uuid.uuid4(), text)]
    random.SystemRandom().shuffle(rows)
    db.session.execute(sa.delete(Comment).where(Comment.wave_id == wave.id))
    db.session.execute(sa.insert(Comment), [{"id": key, "wave_id": wave.id, "text": body}
                                            for key, body in rows])
    sealed = db.session.execute(sa.select(Wave.sealed_at).where(Wave.id == wave.id)
                                .with_for_update(read=True)).scalar()
    if sealed is not None:  # published already: a late comment would change what was shown
        db.session.rollback()
        return
    db.session.commit()
    engine = db.session.get_bind()
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def taggable_comments(agency: Agency) -> list[tuple[Wave, list[tuple[Comment, list[str]]]]]:
    """Each closed pulse with an open question whose comments reached the agency's comment
    minimum (below it, nothing of the comments shows anywhere, themes included), newest first,
    with its comments (in random order) and their themes."""
    import random
    waves = db.session.scalars(sa.select(Wave).where(
        Wave.agency_id == agency.id, Wave.kind == WaveKind.PULSE,
        Wave.sealed_at.is_not(None), Wave.comment_prompt.is_not(None))
        .order_by(Wave.opens_at.desc())).all()
    out = []
    for wave in waves:
        found = list(db.session.scalars(sa.select(Comment).where(Comment.wave_id == wave.id)))
        if len(found) < agency.min_comment_group_size:
            continue
        tags: dict = {}
        for comment_id, theme in db.session.execute(
                sa.select(CommentTheme.comment_id, CommentTheme.theme)
                .join(Comment, Comment.id == CommentTheme.comment_id)
                .where(Comment.wave_id == wave.id)):
            tags.setdefault(comment_id, []).append(theme)
        random.SystemRandom().shuffle(found)
        out.append((wave, [(c, sorted(tags.get(c.id, []))) for c in found]))
    return out


def tag_comment(agency: Agency, user: StaffUser | None, comment_id: uuid.UUID,
                themes: list[str]) -> bool:
    """Give a comment of one of the agency's taggable pulses these themes (replacing its
    others); audited. False, changing nothing, for a comment that is not one of them."""
    taggable = {c.id for _, found in taggable_comments(agency) for c, _ in found}
    if comment_id not in taggable:
        return False
    before = sorted(db.session.scalars(sa.select(CommentTheme.theme).where(
        CommentTheme.comment_id == comment_id)))
    db.session.execute(sa.delete(CommentTheme).where(CommentTheme.comment_id == comment_id))
    db.session.add_all([CommentTheme(comment_id=comment_id, theme=t) for t in themes])
    if before != sorted(themes):
        audit(agency.id, user, "comment.themes", "a comment", changes=[before, sorted(themes)])
    db.session.commit()
    return True


def theme_counts(agency: Agency) -> list[dict]:
    """How many comments of each taggable pulse carry each theme: pulse date, theme, its
    words, comments; most recent pulse first, commonest theme first."""
    from .comments import theme_label
    rows = []
    for wave, found in taggable_comments(agency):
        counts: dict[str, int] = {}
        for _, themes in found:
            for theme in themes:
                counts[theme] = counts.get(theme, 0) + 1
        for theme, n in sorted(counts.items(), key=lambda kv: (-kv[1], theme_label(kv[0]))):
            rows.append({"opened": wave.opens_at, "theme": theme, "label": theme_label(theme),
                         "comments": n, "of": len(found)})
    return rows


# --- The culture-change tracker -------------------------------------------------------------------

def tracker_items(agency: Agency) -> dict[str, TrackerItem]:
    """The agency's tracker, one row per step of the tracker file (made on first use)."""
    have = {t.code: t for t in db.session.scalars(
        sa.select(TrackerItem).where(TrackerItem.agency_id == agency.id))}
    missing = [s for s in tracker_steps() if s.code not in have]
    for step in missing:
        have[step.code] = TrackerItem(agency_id=agency.id, code=step.code)
        db.session.add(have[step.code])
    if missing:
        db.session.commit()
    return have


def update_tracker_item(item: TrackerItem, user: StaffUser | None, *, status: StepStatus,
                        done_on: dt.date | None, owner: str, notes: str,
                        shared_note: str, theme: str | None = None) -> None:
    """Change a step (and the officers' theme it answers); every change is audited with what
    it was before."""
    before = {"status": item.status.value if item.status else None,
              "done_on": item.done_on.isoformat() if item.done_on else None,
              "owner": item.owner, "notes": item.notes, "shared_note": item.shared_note,
              "theme": item.theme}
    item.status, item.done_on = StepStatus(status), done_on
    item.owner, item.notes, item.shared_note = owner.strip(), notes.strip(), shared_note.strip()
    item.theme = theme or None
    after = {"status": item.status.value, "done_on": done_on.isoformat() if done_on else None,
             "owner": item.owner, "notes": item.notes, "shared_note": item.shared_note,
             "theme": item.theme}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        audit(item.agency_id, user, "tracker.update", item.code, changes=changed)
    db.session.commit()


# --- Program figures ------------------------------------------------------------------------------

PROGRAM_MEASURES = {"referrals": "Referrals", "deflections": "Deflections",
                    "contacts": "Contacts", "arrests_avoided": "Arrests avoided"}


def save_program_figures(agency: Agency, user: StaffUser | None,
                         rows: list[tuple[dt.date, str, int]]) -> int:
    """Store monthly counts (month, measure, value), replacing any already given; audited."""
    for month, measure, value in rows:
        if measure not in PROGRAM_MEASURES:
            raise ValueError(f"unknown measure {measure!r}")
        if value < 0:
            raise ValueError("counts cannot be negative")
        month = month.replace(day=1)
        row = db.session.scalar(sa.select(ProgramFigure).where(
            ProgramFigure.agency_id == agency.id, ProgramFigure.month == month,
            ProgramFigure.measure == measure))
        if row is None:
            db.session.add(ProgramFigure(agency_id=agency.id, month=month, measure=measure,
                                         value=value))
        else:
            row.value = value
    audit(agency.id, user, "program_figures.save", f"{len(rows)} figures",
          months=sorted({m.replace(day=1).isoformat() for m, _, _ in rows}))
    db.session.commit()
    return len(rows)
