"""The survey page as an officer sees it: shared by the officer's path and the administrator's
preview. It needs no database once a wave's items are known, so it can be shown again, answers
kept, when the database cannot be reached."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request

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


def render_survey(view: WaveView, items, form, problem=None, preview=None):
    """The survey page; needs no database, so it can be shown when the database is down.

    `preview` (an administrator's preview) marks the page as one that stores nothing."""
    sections = []
    for item in items:
        if not sections or sections[-1][0] != item.heading:
            sections.append((item.heading, []))
        sections[-1][1].append(item)
    missing = [i for i in items if form[i.field].errors]
    return render_template("respond/questions.html", wave=view, form=form, sections=sections,
                           missing=missing, problem=problem, total=len(items),
                           asks_linkage=view.asks_linkage,
                           units=[(key, name) for key, _, name in view.units],
                           shifts=view.shifts, about=request.form, preview=preview)
