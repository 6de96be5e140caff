"""Who may open a staff page, and the rows of their own agency: shared by every staff audience.

Within an agency, a class belongs to its trainer and co-trainers: they and administrators
change, open, close and export it (`manages_class`). Reading a class's pages and reports is open
to leaders and administrators, and to other trainers when the agency allows it
(``Agency.trainers_read_all_reports``, `reads_class`).
"""
from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Cohort, Role, StaffUser, Wave, cohort_trainer
from .web import MAX_ID


def role_required(*roles: Role):
    """Signed in, with one of `roles`; anything else is refused."""
    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, "Your account's role does not give access to this page.")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def agency_row(model, row_id: int, missing: str, options=()):
    """The row, if it belongs to the signed-in user's agency; else 404 with `missing` (another
    agency's id answers exactly like an id that does not exist)."""
    row = db.session.get(model, row_id, options=options) if 0 < row_id <= MAX_ID else None
    if row is None or row.agency_id != current_user.agency_id:
        abort(404, missing)
    return row


def get_cohort(cohort_id: int) -> Cohort:
    # With its surveys, in the same statement: every page of a class shows them.
    return agency_row(Cohort, cohort_id, "There is no such class in your agency.",
                      [joinedload(Cohort.waves)])


def get_wave(wave_id: int) -> Wave:
    return agency_row(Wave, wave_id, "There is no such survey in your agency.")


def teaches(cohort: Cohort | None, user: StaffUser) -> bool:
    return cohort is not None and (cohort.trainer_id == user.id or user in cohort.co_trainers)


def can_manage(cohort: Cohort | None, user: StaffUser | None = None) -> bool:
    """May `user` (default: the signed-in one) change, open, close or export this class?"""
    user = user or current_user
    return user.role is Role.ADMIN or (user.role is Role.TRAINER and teaches(cohort, user))


def can_read(cohort: Cohort | None, user: StaffUser | None = None) -> bool:
    """May `user` read this class's pages and reports?"""
    user = user or current_user
    if user.role is not Role.TRAINER:
        return True  # administrators and leaders read the whole agency
    return user.agency.trainers_read_all_reports or teaches(cohort, user)


def readable_cohorts():
    """A WHERE clause for the classes the signed-in user may read (for lists and comparisons)."""
    if can_read(None):
        return sa.true()
    return sa.or_(Cohort.trainer_id == current_user.id, Cohort.id.in_(
        sa.select(cohort_trainer.c.cohort_id)
        .where(cohort_trainer.c.staff_user_id == current_user.id)))


def _class_check(allowed, refusal: str):
    """A view decorator: the class named by the view's ``cohort_id`` or ``wave_id`` (found in
    the user's agency, else 404) must pass `allowed`, else 403."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if "cohort_id" in kwargs:
                cohort = get_cohort(kwargs["cohort_id"])
            else:
                cohort = get_wave(kwargs["wave_id"]).cohort
            if not allowed(cohort):
                abort(403, refusal)
            return view(*args, **kwargs)
        return wrapped
    return decorator


manages_class = _class_check(can_manage, "Only the class's trainers and administrators may "
                                         "change, open, close or export it.")
reads_class = _class_check(can_read, "Your agency lets trainers read only the classes they "
                                     "teach.")
