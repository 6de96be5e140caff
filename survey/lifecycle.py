"""The data lifecycle: retention purges, deleting a cohort, and the agency's archive.

Long jobs take a `progress` callable (called with the number of steps just done), so the command
line can draw a progress bar and the web can ignore it.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa

from .exports import to_csv
from .extensions import db
from .models import (Agency, Answer, Cohort, CohortTopic, Comment, CommentTheme, Response,
                     StaffUser, Wave, WaveKind)
from .queries import answers_frame, program_figures
from . import jobs, publishing
from .services import audit, local_date

Progress = Callable[[int], None]


def _ignore(_: int) -> None:
    pass


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the month's last day when it has fewer days)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def retention_cutoff(agency: Agency, today: dt.date | None = None) -> dt.date | None:
    """Responses submitted before this date have outlived the agency's retention period."""
    if not agency.retention_months:
        return None
    return months_before(today or local_date(agency), agency.retention_months)


def _delete_responses(response_ids) -> int:
    ids = list(response_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.session.execute(sa.delete(Answer).where(Answer.response_id.in_(chunk)))
        db.session.execute(sa.delete(Response).where(Response.id.in_(chunk)))
    return len(ids)


def purge_expired(agency: Agency, *, today: dt.date | None = None,
                  progress: Progress = _ignore, by: StaffUser | None = None) -> int:
    """Delete the agency's responses older than its retention period; audited, one transaction.

    Returns the number of responses deleted (0, with no audit entry, when retention is unset).
    """
    cutoff = retention_cutoff(agency, today)
    if cutoff is None:
        return 0
    waves = db.session.scalars(sa.select(Wave.id).where(Wave.agency_id == agency.id)).all()
    deleted = 0
    for wave_id in waves:
        expired = db.session.scalars(sa.select(Response.id).where(
            Response.wave_id == wave_id, Response.submitted_on < cutoff)).all()
        deleted += _delete_responses(expired)
        progress(1)
    # Comments carry no date of their own: they go with the pulse that closed before the cutoff.
    closed_before = dt.datetime.combine(cutoff, dt.time(0), dt.timezone.utc)
    old_waves = sa.select(Wave.id).where(Wave.agency_id == agency.id,
                                         Wave.closes_at < closed_before)
    db.session.execute(sa.delete(CommentTheme).where(CommentTheme.comment_id.in_(
        sa.select(Comment.id).where(Comment.wave_id.in_(old_waves)))))
    deleted += db.session.execute(sa.delete(Comment).where(Comment.wave_id.in_(old_waves))
                                  ).rowcount or 0
    audit(agency.id, by, "responses.purge", f"{deleted} responses",
          before=cutoff.isoformat(), retention_months=agency.retention_months)
    if deleted:
        # Published results hold the purged answers too (response files, figures): they go,
        # and what remains is published again.
        publishing.forget(agency.id)
    db.session.commit()
    if deleted:
        publishing.republish(agency.id)
    return deleted


def delete_cohort(cohort: Cohort, by: StaffUser | None) -> int:
    """Delete a cohort with its waves, responses and answers; audited. Returns responses deleted."""
    wave_ids = [w.id for w in cohort.waves]
    responses = db.session.scalars(sa.select(Response.id).where(
        Response.wave_id.in_(wave_ids))).all() if wave_ids else []
    deleted = _delete_responses(responses)
    audit(cohort.agency_id, by, "cohort.delete", f"cohort {cohort.id}", name=cohort.name,
          held_on=cohort.held_on.isoformat(), responses=deleted,
          waves=[w.join_code for w in cohort.waves])
    if wave_ids:
        db.session.execute(sa.delete(Wave).where(Wave.id.in_(wave_ids)))
    db.session.execute(sa.delete(CohortTopic).where(CohortTopic.cohort_id == cohort.id))
    agency_id = cohort.agency_id
    publishing.forget(agency_id, [publishing.cohort_subject(cohort.id)])
    db.session.execute(sa.delete(Cohort).where(Cohort.id == cohort.id))
    db.session.commit()
    db.session.expunge_all()
    jobs.enqueue("publish_agency", agency_id)
    return deleted


# --- The agency archive ---------------------------------------------------------------------------

def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "cohort"


def instrument_table(agency: Agency) -> pd.DataFrame:
    """Every instrument version the agency has used or uses, item by item."""
    from .instruments import versions
    rows = [{"instrument": i.key, "version": i.version,
             "owner": "agency" if i.agency_id else "item bank", "bank_version": i.bank_version,
             "published": i.published_at.date(), "position": e.position, "item": e.item.code,
             "construct": e.item.construct.code, "text": e.item.text,
             "reverse_keyed": e.item.reverse_keyed, "scale": e.item.scale_code,
             "source": e.item.source}
            for i in versions(agency) for e in i.entries]
    return pd.DataFrame(rows)


def pulse_responses(agency: Agency) -> tuple[pd.DataFrame, list[str]]:
    """Pulse answers one row per response, small pulses left out; no unit, shift or hash."""
    k = agency.min_group_size
    waves = {w.id: w for w in db.session.scalars(sa.select(Wave).where(
        Wave.agency_id == agency.id, Wave.kind == WaveKind.PULSE, Wave.sealed_at.is_not(None))
        .order_by(Wave.opens_at))}
    answers = answers_frame(list(waves))
    counts = answers.groupby("wave")["response_id"].nunique()
    small = [w for w in waves if counts.get(w, 0) and counts.get(w, 0) < k]
    notes = [f"Pulse opened {waves[w].opens_at:%Y-%m-%d}: fewer than {k} responses, left out."
             for w in small]
    answers = answers.loc[~answers["wave"].isin(small)]
    if answers.empty:
        return pd.DataFrame(columns=["respondent", "pulse_opened"]), notes
    wide = answers.pivot_table(index=["wave", "response_id"], columns="item", values="value",
                               aggfunc="first").reset_index().sort_values(["wave", "response_id"])
    wide.insert(0, "pulse_opened", wide.pop("wave").map(lambda w: waves[w].opens_at.date()))
    wide = wide.drop(columns="response_id")
    wide.insert(0, "respondent", [f"R{n:05d}" for n in range(1, len(wide) + 1)])
    wide.columns.name = None
    return wide, notes


def agency_archive(agency: Agency, *, progress: Progress = _ignore) -> bytes:
    """One zip with instrument versions, each cohort's responses and codebook as published,
    the sealed pulses and the program figures. No linkage hash, database id, unit or shift leaves; small surveys are
    left out as in every other export."""
    cohorts = db.session.scalars(sa.select(Cohort).where(Cohort.agency_id == agency.id)
                                 .order_by(Cohort.held_on, Cohort.id)).all()
    notes = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("instrument_versions.csv", to_csv(instrument_table(agency)))
        for n, cohort in enumerate(cohorts, start=1):
            # As published when its surveys closed: the same files its own downloads give.
            shown = publishing.published_part(publishing.cohort_subject(cohort.id),
                                              agency.min_group_size, "responses.csv")
            folder = f"cohorts/{n:03d}-{slug(cohort.name)}"
            if shown.body is None:
                notes.append(f"{cohort.name}: nothing published yet (no survey of it has "
                             "closed), left out.")
            else:
                archive.writestr(f"{folder}/responses.csv", shown.body)
                archive.writestr(f"{folder}/codebook.csv",
                                 publishing.part(shown.result, "codebook.csv") or b"")
                summary = json.loads(publishing.part(shown.result, "summary.json") or b"{}")
                notes += [f"{cohort.name}: {note}" for note in summary.get("notes", [])]
            progress(1)
        pulses, pulse_notes = pulse_responses(agency)
        archive.writestr("pulses/responses.csv", to_csv(pulses))
        notes += pulse_notes
        archive.writestr("program_figures.csv", to_csv(program_figures(agency.id)))
        archive.writestr("README.txt", _archive_readme(agency, len(cohorts), notes))
        progress(1)
    return buffer.getvalue()


def archive_steps(agency: Agency) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)
                             .where(Cohort.agency_id == agency.id)) + 1


def _archive_readme(agency: Agency, n_cohorts: int, notes: list[str]) -> str:
    lines = [f"Archive of {agency.name}, made {local_date(agency).isoformat()}.", "",
             "instrument_versions.csv  every survey version used, item by item, with its source",
             f"cohorts/                 {n_cohorts} training classes: responses.csv (one row per "
             "response) and codebook.csv",
             "pulses/responses.csv     agency pulses, one row per response",
             "program_figures.csv      monthly program counts", "",
             "Not included, by design: linkage-code hashes, database identifiers, units and "
             "shifts of pulse answers (they could single out officers in small units), and any "
             f"survey answered by fewer than {agency.min_group_size} officers.",
             "Officer numbers (P001...) and response numbers (R0001...) exist only in this file."]
    if notes:
        lines += ["", "Left out:", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"
