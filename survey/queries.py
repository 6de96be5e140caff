"""Reads: every query that feeds a page or the analysis package lives here, one query each."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa

from analysis.matching import match_codes

from .bank import current_bank
from .extensions import db
from .models import (Agency, Answer, Cohort, Construct, InstrumentItem, Item, ProgramFigure,
                     Response, Unit, Wave, WaveKind, utcnow)


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


# --- The bridge to analysis/: rows become the tidy long format here, and only here ----------

def _wave_columns():
    return (Wave.id.label("wave"), Wave.kind.label("wave_kind"),
            Wave.followup_days.label("followup_days"), Wave.cohort_id.label("cohort"))


def answers_frame(wave_ids: list[int]) -> pd.DataFrame:
    """Every answer given in these waves, long (one query): the format `analysis` takes.

    Columns: ``response_id``, ``wave``, ``wave_kind``, ``followup_days``, ``cohort``, ``item``,
    ``value``. ``linkage_key`` is added by :func:`cohort_frames` after matching.
    """
    statement = (sa.select(Response.id.label("response_id"), *_wave_columns(),
                           Item.code.label("item"), Answer.value.label("value"))
                 .join(Response, Response.id == Answer.response_id)
                 .join(Wave, Wave.id == Response.wave_id)
                 .join(Item, Item.id == Answer.item_id)
                 .where(Response.wave_id.in_(wave_ids))
                 # A fixed order whatever the database keeps: figures never depend on it.
                 .order_by(Response.wave_id, Answer.response_id, Item.code))
    rows = db.session.execute(statement).all()
    frame = pd.DataFrame(rows, columns=["response_id", "wave", "wave_kind", "followup_days",
                                        "cohort", "item", "value"])
    return _tidy(frame)


def codes_frame(wave_ids: list[int]) -> pd.DataFrame:
    """Each response's linkage hashes (one query), in the matcher's input format, in the order
    of the responses' random keys: whatever order the database keeps rows in, the matcher (and
    so the export's officer numbers) never sees the order of arrival."""
    statement = (sa.select(Response.id.label("response_id"), *_wave_columns(),
                           Response.linkage.label("linkage"))
                 .join(Wave, Wave.id == Response.wave_id)
                 .where(Response.wave_id.in_(wave_ids)).order_by(Response.id))
    rows = db.session.execute(statement).all()
    frame = pd.DataFrame(rows, columns=["response_id", "wave", "wave_kind", "followup_days",
                                        "cohort", "linkage"])
    return _tidy(frame)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame["response_id"] = frame["response_id"].map(str)
    frame["wave_kind"] = frame["wave_kind"].map(lambda k: getattr(k, "value", k))
    frame["followup_days"] = frame["followup_days"].astype("float")
    return frame


def item_metadata(instrument_ids: list[int]) -> pd.DataFrame:
    """The items of these instruments with construct, keying and scale range, and the direction
    the program hopes each construct moves (``favourable``: "higher" or "lower"), in one query."""
    statement = (sa.select(Item.code.label("item"), Construct.code.label("construct"),
                           Item.reverse_keyed, Item.scale_min, Item.scale_max,
                           Item.text, Construct.name.label("construct_name"),
                           Construct.favourable)
                 .join(Construct, Construct.id == Item.construct_id)
                 .join(InstrumentItem, InstrumentItem.item_id == Item.id)
                 .where(InstrumentItem.instrument_id.in_(instrument_ids))
                 .distinct().order_by(Item.code))
    return pd.DataFrame(db.session.execute(statement).all(),
                        columns=["item", "construct", "reverse_keyed", "scale_min", "scale_max",
                                 "text", "construct_name", "favourable"])


def offered_items(wave_ids: list[int]) -> pd.DataFrame:
    """The items each wave's survey version offered (one query): ``wave``, ``cohort``,
    ``item``, ``construct``."""
    rows = db.session.execute(
        sa.select(Wave.id, Wave.cohort_id, Item.code, Construct.code)
        .join(InstrumentItem, InstrumentItem.instrument_id == Wave.instrument_id)
        .join(Item, Item.id == InstrumentItem.item_id)
        .join(Construct, Construct.id == Item.construct_id)
        .where(Wave.id.in_(wave_ids))).all()
    return pd.DataFrame(rows, columns=["wave", "cohort", "item", "construct"])


@dataclass
class CohortData:
    """One cohort's answers with linkage keys, its item metadata and how linkage went."""

    answers: pd.DataFrame
    items: pd.DataFrame
    matches: pd.DataFrame


def cohort_frames(cohort: Cohort, *, sealed_only: bool = True) -> CohortData:
    """Load one cohort for analysis in a fixed number of queries, whatever its size."""
    return cohorts_frames([cohort], sealed_only=sealed_only)


def cohorts_frames(cohorts: list[Cohort], *, sealed_only: bool = True) -> CohortData:
    """Load cohorts for analysis in a fixed number of queries, whatever their number and size.

    Only sealed waves (closed for good, their answers fixed) are read unless `sealed_only` is
    False: figures are published from them and from nothing still changing.
    Responses are linked across each cohort's waves by :func:`analysis.matching.match_codes`;
    keys are prefixed with the cohort so that no two cohorts share one.
    """
    statement = sa.select(Wave.id, Wave.instrument_id).where(
        Wave.cohort_id.in_([c.id for c in cohorts]))
    if sealed_only:
        statement = statement.where(Wave.sealed_at.is_not(None))
    waves = db.session.execute(statement).all()
    wave_ids = [w.id for w in waves]
    codes = codes_frame(wave_ids)
    parts = [match_codes(part).assign(cohort=cohort)
             for cohort, part in codes.groupby("cohort", sort=True)]
    matches = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["response_id", "wave", "linkage_key", "match", "cohort"])
    answers = answers_frame(wave_ids)
    keys = pd.Series([None if k is None or pd.isna(k) else f"{c}:{k}"
                      for k, c in zip(matches["linkage_key"], matches["cohort"])],
                     index=matches["response_id"], dtype=object)
    answers["linkage_key"] = answers["response_id"].map(keys)
    items = item_metadata(sorted({w.instrument_id for w in waves}))
    return CohortData(answers=answers, items=items, matches=matches)


def compare_frames(cohorts: list[Cohort]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answers (with linkage keys) and item metadata of several cohorts' sealed waves."""
    data = cohorts_frames(cohorts)
    return data.answers, data.items


def pulse_waves(agency_id: int, *, sealed_only: bool = False, open_too: bool = False
                ) -> pd.DataFrame:
    """An agency's pulses, oldest first (one query): ``wave``, ``instrument_id``, ``date``
    (opening date, agency time), ``headcount``, ``join_code``, ``opens_at``, ``closes_at``,
    ``sealed`` (published: its answers rewritten and final)."""
    statement = (
        sa.select(Wave.id, Wave.instrument_id, Wave.opens_at, Wave.closes_at, Wave.headcount,
                  Wave.join_code, Wave.sealed_at, Agency.timezone,
                  Agency.headcount.label("agency_headcount"))
        .join(Agency, Agency.id == Wave.agency_id)
        .where(Wave.agency_id == agency_id, Wave.kind == WaveKind.PULSE)
        .order_by(Wave.opens_at, Wave.id))
    if sealed_only and open_too:
        statement = statement.where(Wave.sealed_at.is_not(None) | (Wave.opens_at <= utcnow()))
    elif sealed_only:
        statement = statement.where(Wave.sealed_at.is_not(None))
    waves = db.session.execute(statement).all()
    return pd.DataFrame([{
        "wave": w.id, "instrument_id": w.instrument_id,
        "date": pd.Timestamp((w.opens_at or utcnow()).astimezone(ZoneInfo(w.timezone)).date()),
        "headcount": w.headcount or w.agency_headcount, "join_code": w.join_code,
        "opens_at": w.opens_at, "closes_at": w.closes_at, "sealed": w.sealed_at is not None}
        for w in waves],
        columns=["wave", "instrument_id", "date", "headcount", "join_code", "opens_at",
                 "closes_at", "sealed"])


def pulse_list(agency_id: int, *, sealed_only: bool = False, open_too: bool = False
               ) -> pd.DataFrame:
    """The agency's pulses with responses and participation (two queries, no answers read)."""
    waves = pulse_waves(agency_id, sealed_only=sealed_only, open_too=open_too)
    counts = response_counts(list(waves["wave"]))
    waves["responses"] = waves["wave"].map(counts).fillna(0).astype(int)
    waves["participation"] = waves["responses"] / waves["headcount"].where(waves["headcount"] > 0)
    return waves


def pulse_frames(agency_id: int, *, open_too: bool = False
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """An agency's sealed pulses (and with `open_too` those open now, for interim snapshots)
    for the dashboard, in a fixed number of queries.

    Returns the long answers (with ``unit`` and ``shift`` per response), the item metadata,
    and the pulses of :func:`pulse_waves`.
    """
    waves = pulse_waves(agency_id, sealed_only=True, open_too=open_too)
    wave_ids = list(waves["wave"])
    statement = (sa.select(Response.id.label("response_id"), Response.wave_id.label("wave"),
                           Unit.name.label("unit"), Response.shift.label("shift"),
                           Item.code.label("item"), Answer.value.label("value"))
                 .join(Response, Response.id == Answer.response_id)
                 .join(Item, Item.id == Answer.item_id)
                 .outerjoin(Unit, Unit.id == Response.unit_id)
                 .where(Response.wave_id.in_(wave_ids))
                 .order_by(Response.wave_id, Answer.response_id, Item.code))
    answers = pd.DataFrame(db.session.execute(statement).all(),
                           columns=["response_id", "wave", "unit", "shift", "item", "value"])
    answers["response_id"] = answers["response_id"].map(str)
    answers["wave_kind"] = "pulse"
    items = item_metadata(sorted(set(waves["instrument_id"])))
    return answers, items, waves.drop(columns="instrument_id")


def program_figures(agency_id: int) -> pd.DataFrame:
    """Monthly program counts: ``month``, ``measure``, ``value``."""
    rows = db.session.execute(sa.select(ProgramFigure.month, ProgramFigure.measure,
                                        ProgramFigure.value)
                              .where(ProgramFigure.agency_id == agency_id)
                              .order_by(ProgramFigure.month, ProgramFigure.measure)).all()
    return pd.DataFrame(rows, columns=["month", "measure", "value"])
