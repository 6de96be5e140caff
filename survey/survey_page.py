"""The survey page as an officer sees it: shared by the officer's path and the administrator's
preview. It needs no database once a wave's items are known, so it can be shown again, answers
kept, when the database cannot be reached."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request

from . import comments
from .forms import PREFER_NOT
from .models import WaveKind
from .queries import SurveyItem, instrument_items


def cached_items(instrument_id: int) -> list[SurveyItem]:
    """Published instruments never change, so each process reads their items once."""
    cache = current_app.extensions.setdefault("survey_items", {})
    if instrument_id not in cache:
        cache[instrument_id] = instrument_items(instrument_id)
    return cache[instrument_id]


@dataclass(frozen=True)
class AgencyView:
    name: str
    min_group_size: int
    min_comment_group_size: int = 10


@dataclass(frozen=True)
class WaveView:
    """What the survey page shows about its wave. Each process keeps the last one per code, so
    the page can be shown again with the officer's answers when the database cannot be reached."""

    id: int
    join_code: str
    label: str
    kind: WaveKind
    instrument_id: int
    agency: AgencyView
    asks_linkage: bool
    units: tuple[tuple[str, int, str], ...]
    shifts: tuple[str, ...]
    #: The pulse's open question (its words), or None.
    prompt: str | None = None


#: A pulse of at most this many statements (the bank's pulse has 12, about three minutes) is one
#: list of statements with no parts: cut by heading it made "Part 1 of 7" over one or two
#: statements each, more headings to read than statements. Above 15 a pulse is no longer short.
PULSE_ONE_PART = 15
#: A longer pulse is cut into parts of at most this many statements, each made of whole
#: consecutive headings (a heading with more statements than this is a part of its own).
PART_SIZE = 8


def parts(items, kind: WaveKind) -> list[tuple[str | None, list]]:
    """The survey's parts, each (heading, statements); one part with no heading for a short
    pulse. Training surveys keep one part per heading (five parts of four to six statements)."""
    groups: list[tuple[str, list]] = []
    for item in items:
        if not groups or groups[-1][0] != item.heading:
            groups.append((item.heading, []))
        groups[-1][1].append(item)
    if kind is not WaveKind.PULSE:
        return groups
    if len(items) <= PULSE_ONE_PART:
        return [(None, list(items))]
    packed: list[tuple[list[str], list]] = []
    for heading, group in groups:
        if packed and len(packed[-1][1]) + len(group) <= PART_SIZE:
            if heading not in packed[-1][0]:
                packed[-1][0].append(heading)
            packed[-1][1].extend(group)
        else:
            packed.append(([heading], list(group)))
    return [(" · ".join(headings), group) for headings, group in packed]


def render_survey(view: WaveView, items, form, problem=None, preview=None):
    """The survey page; needs no database, so it can be shown when the database is down.

    `preview` (an administrator's preview) marks the page as one that stores nothing."""
    missing = [i for i in items if form[i.field].errors]
    answered = sum(1 for i in items if form[i.field].data)  # "Prefer not to answer" included
    return render_template("respond/questions.html", wave=view, form=form,
                           sections=parts(items, view.kind), missing=missing, problem=problem,
                           total=len(items), answered=answered, prefer_not=PREFER_NOT,
                           asks_linkage=view.asks_linkage,
                           units=[(key, name) for key, _, name in view.units],
                           shifts=view.shifts, about=request.form, preview=preview,
                           comment_notice=comments.NOTICE.format(
                               minimum=view.agency.min_comment_group_size),
                           comment_max=comments.MAX_LENGTH)
