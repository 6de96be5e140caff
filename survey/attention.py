"""What an agency's administrator should look at first: open surveys, invitations not yet
taken up, and the latest changes (the failed publishing runs come from `publishing.failures`).

Each function is one statement, whatever the agency's size.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from .extensions import db
from .models import AccountLink, Cohort, LinkPurpose, StaffUser, Wave, WaveKind


@dataclasses.dataclass(frozen=True)
class OpenSurvey:
    wave_id: int
    cohort_id: int | None
    cohort: str | None  # None for an agency pulse
    label: str
    join_code: str
    closes_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class Invitation:
    user_id: int
    name: str
    email: str
    expires_at: dt.datetime | None  # the newest invitation link's expiry
    expired: bool


def open_surveys(agency_id: int, now: dt.datetime) -> list[OpenSurvey]:
    """Surveys taking answers now, those closing soonest first."""
    rows = db.session.execute(
        sa.select(Wave, Cohort.name).outerjoin(Cohort, Cohort.id == Wave.cohort_id)
        .where(Wave.agency_id == agency_id, Wave.opens_at <= now,
               sa.or_(Wave.closes_at.is_(None), Wave.closes_at > now))
        .order_by(Wave.closes_at.is_(None), Wave.closes_at, Wave.id)).all()
    return [OpenSurvey(w.id, w.cohort_id, name, "Agency pulse" if w.kind is WaveKind.PULSE
                       else w.label, w.join_code, w.closes_at) for w, name in rows]


def pending_invitations(agency_id: int, now: dt.datetime) -> list[Invitation]:
    """Active accounts whose owner has not chosen a password yet, with their link's expiry."""
    newest = (sa.select(sa.func.max(AccountLink.expires_at))
              .where(AccountLink.staff_user_id == StaffUser.id,
                     AccountLink.purpose == LinkPurpose.INVITE)
              .correlate(StaffUser).scalar_subquery())
    rows = db.session.execute(
        sa.select(StaffUser.id, StaffUser.name, StaffUser.email, newest.label("expires"))
        .where(StaffUser.agency_id == agency_id, StaffUser.active.is_(True),
               sa.func.coalesce(StaffUser.password_hash, "") == "")
        .order_by(StaffUser.name)).all()
    result = []
    for user_id, name, email, expires in rows:
        if expires is not None and expires.tzinfo is None:  # SQLite gives MAX() back naive
            expires = expires.replace(tzinfo=dt.timezone.utc)
        result.append(Invitation(user_id, name, email, expires,
                                 expires is None or expires <= now))
    return result
