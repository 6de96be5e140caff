"""Who may open a staff page, and the rows of their own agency: shared by every staff audience."""
from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user, login_required

from .extensions import db
from .models import Cohort, Role, Wave


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


def agency_row(model, row_id: int, missing: str):
    """The row, if it belongs to the signed-in user's agency; else 404 with `missing` (another
    agency's id answers exactly like an id that does not exist)."""
    row = db.session.get(model, row_id)
    if row is None or row.agency_id != current_user.agency_id:
        abort(404, missing)
    return row


def get_cohort(cohort_id: int) -> Cohort:
    return agency_row(Cohort, cohort_id, "There is no such class in your agency.")


def get_wave(wave_id: int) -> Wave:
    return agency_row(Wave, wave_id, "There is no such survey in your agency.")
