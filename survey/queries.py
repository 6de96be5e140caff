"""Reads: every query that feeds a page or the analysis package lives here, one query each."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .bank import current_bank
from .extensions import db
from .models import Construct, InstrumentItem, Item, Response


@dataclass(frozen=True)
class SurveyItem:
    """What the officer's form needs to know about one item."""

    id: int
    code: str
    text: str
    construct: str
    heading: str
    scale_min: int
    scale_max: int
    labels: tuple[str, ...]

    @property
    def field(self) -> str:
        return f"q_{self.code}"


def instrument_items(instrument_id: int) -> list[SurveyItem]:
    """The items of a published instrument, in order (one query)."""
    rows = db.session.execute(
        sa.select(Item.id, Item.code, Item.text, Construct.code, Construct.officer_heading,
                  Item.scale_min, Item.scale_max, Item.scale_code)
        .join(InstrumentItem, InstrumentItem.item_id == Item.id)
        .join(Construct, Construct.id == Item.construct_id)
        .where(InstrumentItem.instrument_id == instrument_id)
        .order_by(InstrumentItem.position))
    scales = current_bank().scales
    return [SurveyItem(*row[:-1], labels=scales[row.scale_code].labels) for row in rows]


def response_counts(wave_ids: list[int]) -> dict[int, int]:
    """Responses per wave, in one query."""
    if not wave_ids:
        return {}
    rows = db.session.execute(sa.select(Response.wave_id, sa.func.count())
                              .where(Response.wave_id.in_(wave_ids)).group_by(Response.wave_id))
    counts = dict.fromkeys(wave_ids, 0)
    counts.update({wave_id: n for wave_id, n in rows})
    return counts
