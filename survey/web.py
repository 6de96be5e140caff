"""What every page shares: security headers, template helpers, the staff user loader."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, request

from . import joincode
from .extensions import db, login_manager
from .logs import is_respondent_path
from .models import StaffUser
from .reports.common import fixed

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if is_respondent_path(request.path) and not request.path.startswith("/static/"):
        # Nothing an officer answered stays in the device's cache or history of pages.
        response.headers["Cache-Control"] = "no-store"
    return response


def number(value, digits: int = 2, sign: bool = False) -> str:
    """A figure for a page; a missing or withheld one is a dash, never a zero; one that rounds
    to zero has no sign (see :func:`survey.reports.common.fixed`)."""
    return fixed(value, digits, sign)


def percent(value) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.0%}"


def p_value(value) -> str:
    if value is None or value != value:
        return "–"
    return "< .001" if value < 0.001 else f"{value:.3f}".lstrip("0")


def local_time(value: dt.datetime | None, tz: str, fmt: str = "%-d %B %Y, %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    return db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None


def init_app(app: Flask) -> None:
    app.after_request(security_headers)
    app.context_processor(lambda: {"now": dt.datetime.now(dt.timezone.utc)})
    app.add_template_filter(joincode.display, "join_code")
    app.add_template_filter(local_time, "local_time")
    from .publishing import publishes_at
    app.add_template_filter(publishes_at, "publishes_at")
    for name, function in (("number", number), ("percent", percent), ("p_value", p_value)):
        app.add_template_filter(function, name)
