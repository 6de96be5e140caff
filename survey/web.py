"""What every page shares: security headers, template helpers, the staff user loader, the
session cookie's signing and the bound on ids in addresses."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import time
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from werkzeug.routing import IntegerConverter

from . import joincode
from .extensions import db, login_manager
from .logs import is_respondent_path
from .models import StaffUser
from .reports.common import SHARES, fixed

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


# --- Static files: content-hashed addresses, kept by browsers for a year ----------------------

#: A year, the longest max-age caches honour; "immutable": no revalidation on reload.
STATIC_FOREVER = "public, max-age=31536000, immutable"
_digests: dict[tuple[str, float], str] = {}
_known: dict[tuple[str, str], str | None] = {}


def static_digest(filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256 (kept per file and modification time;
    outside debug mode, kept per name: deployed static files change only with a deploy)."""
    folder = current_app.static_folder
    if not current_app.debug and (folder, filename) in _known:
        return _known[folder, filename]
    path = os.path.realpath(os.path.join(folder, filename))
    if not path.startswith(os.path.realpath(folder) + os.sep) or not os.path.isfile(path):
        return None
    key = (path, os.path.getmtime(path))
    if key not in _digests:
        with open(path, "rb") as fh:
            _digests[key] = hashlib.sha256(fh.read()).hexdigest()[:12]
    _known[folder, filename] = _digests[key]
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


#: The staff navigation's destinations (endpoints with no arguments).
STAFF_NAV = ("trainer.index", "trainer.compare", "leadership.index", "leadership.pulses",
             "leadership.tracker", "leadership.comments", "leadership.figures", "admin.index",
             "auth.logout")
_nav: dict[str, dict[str, str]] = {}


def staff_nav() -> dict[str, str]:
    """The staff navigation's addresses by endpoint: the same on every page, so built once per
    application root rather than on every view."""
    root = request.script_root
    if root not in _nav:
        _nav[root] = {endpoint: url_for(endpoint) for endpoint in STAFF_NAV}
    return _nav[root]


#: Where a stored page part goes in the page around it (never in any template's own text).
_PART_MARK = f"<!--published-part-{secrets.token_hex(8)}-->"


def render_published(template: str, body: bytes | None, **context) -> Response:
    """`template` rendered around a published page part: the part's stored bytes go into the
    response as they are, so a page that can hold half a megabyte of figures and drawings is
    not decoded and encoded again on every view. The template shows ``body`` once."""
    if body is None:
        return current_app.response_class(render_template(template, body=None, **context))
    page = render_template(template, body=Markup(_PART_MARK), **context).encode()
    head, mark, tail = page.partition(_PART_MARK.encode())
    return current_app.response_class(head + body + tail if mark else page)


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


def shares(row) -> str:
    """A row's favourable / neutral / unfavourable shares of answers, as percentages, or a dash
    where they are not shown."""
    values = [getattr(row, name, None) for name in SHARES]
    if any(v is None or v != v for v in values):
        return "–"
    return " / ".join(map(percent, values))


def shown_rows(table):
    """The rows of a published table that show figures (for a page's loop); the withheld ones
    are summed up in one line by :func:`withheld_counts`."""
    if table is None or len(table) == 0 or "withheld" not in table:
        return [] if table is None else table.itertuples()
    return table.loc[~table["withheld"].astype(bool)].itertuples()


def withheld_counts(table) -> list[tuple[str, int]]:
    """(reason, number of rows) for a table's withheld rows, most common reason first."""
    if table is None or len(table) == 0 or "withheld" not in table:
        return []
    hidden = table.loc[table["withheld"].astype(bool)]
    counts = hidden["withheld_reason"].fillna("").value_counts(sort=True)
    return [(reason or "withheld", int(n)) for reason, n in counts.items()]


def local_time(value: dt.datetime | None, tz: str, fmt: str = "%-d %B %Y, %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


#: The largest id a URL may name: PostgreSQL's integer; a larger one is a page that cannot exist.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a positive id that fits the database's integer, else 404."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class UntimedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session without the time of signing in the cookie.

    Flask's serializer stamps every cookie with the second it was written: on an officer's
    phone, the second Send was pressed. This one signs the same way with no time. Staff sessions
    keep their own bound instead (``STAFF_SESSION_KEY``, checked by the user loader)."""

    def get_signing_serializer(self, app: Flask) -> URLSafeSerializer | None:
        if not app.secret_key:
            return None
        keys = [*(app.config.get("SECRET_KEY_FALLBACKS") or []), app.secret_key]
        return URLSafeSerializer(keys, salt=self.salt, serializer=self.serializer,
                                 signer_kwargs={"key_derivation": self.key_derivation,
                                                "digest_method": self.digest_method})

    def open_session(self, app: Flask, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            return self.session_class(serializer.loads(value))
        except BadSignature:
            return self.session_class()


#: When a staff member signed in (seconds): a staff session ends after the session lifetime.
STAFF_SESSION_KEY = "_signed_in"


def start_staff_session() -> None:
    session[STAFF_SESSION_KEY] = int(time.time())


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The account a session names, only while its session version is the account's current
    one (so sign-out, a new password or a role change end every copy of the cookie) and the
    session is younger than the session lifetime."""
    ident, _, version = user_id.partition(":")
    if not (ident.isascii() and ident.isdigit() and version.isascii() and version.isdigit()):
        return None
    if not 0 < int(ident) <= MAX_ID:
        return None
    started = session.get(STAFF_SESSION_KEY)
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if not isinstance(started, int) or time.time() - started > lifetime:
        return None
    # The agency comes in the same statement: nearly every staff page reads it.
    user = db.session.get(StaffUser, int(ident), options=[joinedload(StaffUser.agency)])
    if user is None or str(user.session_version) != version:
        return None
    return user


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: their routes' ``int`` converter is `IdConverter`."""
    app.url_map.converters["int"] = IdConverter
    app.session_interface = UntimedSessionInterface()
    app.after_request(security_headers)
    app.after_request(static_caching)
    app.url_defaults(static_address)
    app.view_functions["static"] = in_memory_static(app.view_functions["static"])
    app.context_processor(lambda: {"now": dt.datetime.now(dt.timezone.utc)})
    app.add_template_global(staff_nav)
    app.add_template_filter(joincode.display, "join_code")
    app.add_template_filter(local_time, "local_time")
    from .publishing import publishes_at
    app.add_template_filter(publishes_at, "publishes_at")
    from .instruments import answer_time
    app.add_template_filter(answer_time, "answer_time")
    for name, function in (("number", number), ("percent", percent), ("p_value", p_value),
                           ("shown_rows", shown_rows), ("withheld_counts", withheld_counts),
                           ("shares", shares)):
        app.add_template_filter(function, name)
