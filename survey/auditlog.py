"""The audit log as administrators read it: filters checked, one page of entries, readable changes.

A page takes the same statements however long the log is: one count and one page of rows (with
who did it, joined in), newest first.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .extensions import db
from .models import AuditEntry, StaffUser

PER_PAGE = 50
#: The largest page number a URL may ask for (50 entries a page: five million entries).
MAX_PAGE = 100_000
#: Dates outside these years are typing mistakes, not a range anyone means.
FIRST_YEAR, LAST_YEAR = 2000, 2100

#: Each kind of action (the part of its name before the dot), as the filter names it.
KINDS = {
    "account": "Accounts and links", "auth": "Signing in", "agency": "Agency settings",
    "cohort": "Classes", "wave": "Opening and closing surveys", "instrument": "Survey versions",
    "item": "Local statements", "pulse": "Pulses", "tracker": "Change tracker",
    "program_figures": "Program figures", "export": "Downloads of answers",
    "archive": "Archives", "responses": "Deleting old answers",
}

#: What each action did, in words.
ACTIONS = {
    "account.create": "Created an account", "account.change": "Changed an account",
    "account.invite_link": "Made an invitation link", "account.reset_link": "Made a password link",
    "account.password_set": "Set a password", "account.sessions_ended": "Signed out everywhere",
    "account.unlock": "Unlocked sign-in", "auth.login": "Signed in",
    "auth.login_failed": "Failed to sign in", "agency.create": "Created an agency",
    "agency.settings": "Changed the settings", "cohort.create": "Created a class",
    "cohort.update": "Changed a class", "cohort.delete": "Deleted a class",
    "wave.open": "Opened a survey", "wave.close": "Closed a survey",
    "instrument.publish": "Published a survey version", "item.create": "Added a local statement",
    "pulse.start": "Scheduled a pulse", "tracker.update": "Updated a change step",
    "program_figures.save": "Saved program figures", "export.responses": "Downloaded answers",
    "archive.download": "Downloaded the archive", "archive.write": "Wrote the archive",
    "responses.purge": "Deleted old answers",
}

ARROW = "→"
#: A longer list is shown by its ends and its length.
LONGEST_LIST = 8


@dataclasses.dataclass(frozen=True)
class Filters:
    who: int | str | None = None  # a staff id, "system", or anyone
    kind: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    page: int = 1

    def query(self, **override) -> dict:
        """The filters as URL parameters (for the pager's links), leaving out those unset."""
        values = {"who": self.who, "kind": self.kind, "start": self.start, "end": self.end,
                  "page": self.page} | override
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()
                if v is not None and not (k == "page" and v == 1)}


def parse_filters(args, staff_ids: set[int]) -> tuple[Filters, list[str]]:
    """The filters from the query string, and a plain message for each value that cannot be used
    (an unusable value is left out, never guessed)."""
    problems = []
    who = (args.get("who") or "").strip() or None
    if who is not None and who != "system":
        if who.isdigit() and int(who) in staff_ids:
            who = int(who)
        else:
            problems.append("The person chosen is not one of your agency's accounts.")
            who = None
    kind = (args.get("kind") or "").strip() or None
    if kind is not None and kind not in KINDS:
        problems.append("There is no such kind of action.")
        kind = None
    start, end = (_date(args.get(name), label, problems)
                  for name, label in (("start", "From"), ("end", "To")))
    if start and end and start > end:
        problems.append("The From date is after the To date.")
        start = end = None
    raw = (args.get("page") or "1").strip()
    page = 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        problems.append(f"The page number must be a whole number from 1 to {MAX_PAGE:,}.")
    else:
        page = int(raw)
    return Filters(who, kind, start, end, page), problems


def _date(raw: str | None, label: str, problems: list[str]) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(f"The {label} date must be a date such as 2026-03-31.")
        return None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        problems.append(f"The {label} date must be between {FIRST_YEAR} and {LAST_YEAR}.")
        return None
    return value


@dataclasses.dataclass(frozen=True)
class Row:
    at: dt.datetime
    who: str
    what: str
    action: str
    target: str
    changes: list[str]


@dataclasses.dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def entries(agency_id: int, timezone: str, filters: Filters, per_page: int = PER_PAGE) -> Page:
    """One page of the agency's log, newest first, as the filters ask (two statements)."""
    where = [AuditEntry.agency_id == agency_id]
    if filters.who == "system":
        where.append(AuditEntry.staff_user_id.is_(None))
    elif filters.who is not None:
        where.append(AuditEntry.staff_user_id == filters.who)
    if filters.kind:
        where.append(AuditEntry.action.startswith(filters.kind + ".", autoescape=True))
    zone = ZoneInfo(timezone)
    if filters.start:
        where.append(AuditEntry.at >= dt.datetime.combine(filters.start, dt.time(), zone))
    if filters.end:
        where.append(AuditEntry.at < dt.datetime.combine(filters.end + dt.timedelta(days=1),
                                                         dt.time(), zone))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*where))
    found = db.session.execute(
        sa.select(AuditEntry, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == AuditEntry.staff_user_id).where(*where)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(per_page).offset((filters.page - 1) * per_page)).all()
    rows = [Row(entry.at, name or "System", ACTIONS.get(entry.action, entry.action),
                entry.action, entry.target, readable(entry.detail))
            for entry, name in found]
    return Page(rows, total, filters.page)


def readable(detail: dict | None) -> list[str]:
    """An entry's details as lines of text: "Min group size: 5 → 8" for each change."""
    if not detail:
        return []
    lines = []
    detail = dict(detail)
    changes = detail.pop("changes", None)
    if isinstance(changes, dict):
        for key, pair in changes.items():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                lines.append(f"{_label(key)}: {_value(pair[0])} {ARROW} {_value(pair[1])}")
            else:
                lines.append(f"{_label(key)}: {_value(pair)}")
    before, after = detail.pop("before", None), detail.pop("after", None)
    if isinstance(before, dict) and isinstance(after, dict):
        changed = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        for key in changed:
            lines.append(f"{_label(key)}: {_value(before.get(key))} {ARROW} "
                         f"{_value(after.get(key))}")
        if not changed:
            lines.append("Saved without a change")
    for key, value in detail.items():
        lines.append(f"{_label(key)}: {_value(value)}")
    return lines


def _label(key: str) -> str:
    words = str(key).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value(value) -> str:
    if value is None or value == "":
        return "(none)"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, (list, tuple)):
        if len(value) > LONGEST_LIST:  # 36 months or 25 statement codes: the ends and a count
            return (", ".join(_value(v) for v in value[:3]) + ", …, "
                    + ", ".join(_value(v) for v in value[-2:]) + f" ({len(value)} in all)")
        return ", ".join(_value(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {_value(v)}" for k, v in value.items()) or "(none)"
    return str(value)
