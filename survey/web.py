"""What every page shares: security headers, template helpers, the staff user loader."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request

from . import joincode
from .extensions import db, login_manager
from .logs import is_respondent_path
from .models import StaffUser
from .reports.common import fixed

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


# --- Static files: content-hashed addresses, kept by browsers for a year ----------------------

#: A year, the longest max-age caches honour; "immutable": no revalidation on reload.
STATIC_FOREVER = "public, max-age=31536000, immutable"
_digests: dict[tuple[str, float], str] = {}


def static_digest(filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256 (kept per file and modification time)."""
    folder = current_app.static_folder
    path = os.path.realpath(os.path.join(folder, filename))
    if not path.startswith(os.path.realpath(folder) + os.sep) or not os.path.isfile(path):
        return None
    key = (path, os.path.getmtime(path))
    if key not in _digests:
        with open(path, "rb") as fh:
            _digests[key] = hashlib.sha256(fh.read()).hexdigest()[:12]
    return _digests[key]


def static_address(endpoint: str, values: dict) -> None:
    """`url_for('static', filename=...)` gives ``/static/<file>?v=<content hash>``: a changed
    file is a new address, so an unchanged one can be cached for good."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        digest = static_digest(values["filename"])
        if digest:
            values["v"] = digest


def static_caching(response):
    """A static file asked for under its current hash is cached for a year; any other
    address of it (no hash, an old hash) is revalidated each time."""
    if request.endpoint == "static" and response.status_code == 200:
        filename = (request.view_args or {}).get("filename", "")
        current = static_digest(filename)
        response.headers["Cache-Control"] = (STATIC_FOREVER if current and
                                             request.args.get("v") == current else "no-cache")
    return response


def in_memory_static(view):
    """Static files read whole and the file closed at once: compression then works on bytes,
    with no file handle left open (a streamed file is not closed by flask-compress)."""
    def serve(**kwargs):
        response = view(**kwargs)
        if response.direct_passthrough:
            response.direct_passthrough = False
            body = response.get_data()
            response.close()
            response.set_data(body)
        return response
    return serve


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
    app.after_request(static_caching)
    app.url_defaults(static_address)
    app.view_functions["static"] = in_memory_static(app.view_functions["static"])
    app.context_processor(lambda: {"now": dt.datetime.now(dt.timezone.utc)})
    app.add_template_filter(joincode.display, "join_code")
    app.add_template_filter(local_time, "local_time")
    from .publishing import publishes_at
    app.add_template_filter(publishes_at, "publishes_at")
    for name, function in (("number", number), ("percent", percent), ("p_value", p_value)):
        app.add_template_filter(function, name)
