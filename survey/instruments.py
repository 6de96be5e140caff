"""An agency's own versions of the training survey and the pulse, and its local items.

The item bank is the starting point: an agency picks which constructs go into each instrument
and may add local items. Every change publishes a new, immutable version; waves keep the version
they were created with, so responses always keep the wording they answered.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .bank import current_bank
from .extensions import db
from .models import Agency, Construct, Instrument, InstrumentItem, Item, StaffUser, Wave
from .services import agency_instrument, audit, sync_bank

INSTRUMENT_KEYS = ("training", "pulse")


def instrument_label(instrument: Instrument) -> str:
    """How reports name a version: "Deflection training survey, version 2 (agency's own)"."""
    whose = "the agency's own" if instrument.agency_id else f"item bank {instrument.bank_version}"
    return f"{instrument.title}, version {instrument.version} ({whose})"


@dataclass(frozen=True)
class Plan:
    """What an instrument holds: constructs in order and the local items added to them."""

    constructs: tuple[str, ...]
    local_items: tuple[int, ...]


#: Statements an officer answers in a minute, for the time a survey's notice promises.
STATEMENTS_PER_MINUTE = 5
#: Above this many statements the pulse page warns that it is no longer short.
PULSE_WARNING = 15


def answer_time(statements: int) -> str:
    """The time a survey of `statements` takes, as its notice says it: "about 3 minutes"."""
    minutes = max(1, -(-int(statements) // STATEMENTS_PER_MINUTE))
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


def plan_of(instrument: Instrument) -> Plan:
    """The scales whose bank statements the instrument holds, and its local statements (a local
    statement may sit in a scale none of whose bank statements were picked)."""
    constructs = dict.fromkeys(e.item.construct.code for e in instrument.entries
                               if e.item.agency_id is None)
    local = tuple(e.item_id for e in instrument.entries if e.item.agency_id is not None)
    return Plan(tuple(constructs), local)


def local_items(agency: Agency) -> list[Item]:
    return list(db.session.scalars(sa.select(Item).where(Item.agency_id == agency.id)
                                   .order_by(Item.code)))


def _entries(agency: Agency, key: str, plan: Plan) -> list[Item]:
    """Bank items of the picked constructs (the standard instrument's pick where it has one,
    else all of the construct's items), each construct followed by its local items; a local
    item of a construct not picked comes alone, in the construct's place."""
    bank = current_bank()
    by_code = sync_bank(bank)
    standard = {i.code for i in bank.instrument_items(key)} if key in bank.instruments else set()
    local = [i for i in local_items(agency) if i.id in plan.local_items]
    homes = {i.construct.code for i in local}
    order = [c for c in bank.constructs if c in plan.constructs or c in homes]
    chosen = []
    for construct in order:
        if construct in plan.constructs:
            bank_items = bank.items_of(construct)
            picked = [i for i in bank_items if i.code in standard] or bank_items
            chosen += [by_code[i.code] for i in picked]
        chosen += [i for i in local if i.construct.code == construct]
    return chosen


def publish_agency_instrument(agency: Agency, key: str, plan: Plan,
                              by: StaffUser | None) -> Instrument | None:
    """Publish a new version of the agency's instrument `key`; None when nothing changed."""
    if key not in INSTRUMENT_KEYS:
        raise ValueError(f"unknown instrument {key!r}")
    if not plan.constructs:
        raise ValueError("Pick at least one scale.")
    unknown = set(plan.constructs) - set(current_bank().constructs)
    if unknown:
        raise ValueError(f"unknown scales: {', '.join(sorted(unknown))}")
    current = agency_instrument(agency, key)
    items = _entries(agency, key, plan)
    if [e.item_id for e in current.entries] == [i.id for i in items]:
        return None
    latest = db.session.scalar(sa.select(sa.func.max(Instrument.version)).where(
        Instrument.agency_id == agency.id, Instrument.key == key)) or 0
    version = max(latest, current.version if current.agency_id is None else 0) + 1
    instrument = Instrument(agency_id=agency.id, key=key, version=version, title=current.title,
                            bank_version=current_bank().version)
    instrument.entries = [InstrumentItem(item=item, position=n)
                          for n, item in enumerate(items, start=1)]
    db.session.add(instrument)
    db.session.flush()
    audit(agency.id, by, "instrument.publish", f"{key} version {version}",
          items=[i.code for i in items])
    db.session.commit()
    return instrument


def add_local_item(agency: Agency, *, text: str, construct: str, reverse_keyed: bool,
                   scale: str, key: str, by: StaffUser | None) -> tuple[Item, Instrument]:
    """A local item in one of the bank's constructs, published at once into instrument `key`."""
    bank = current_bank()
    if scale not in bank.scales:
        raise ValueError(f"unknown response scale {scale!r}")
    sync_bank(bank)  # the bank's scales are rows before any survey used them
    row = db.session.scalar(sa.select(Construct).where(Construct.code == construct))
    if row is None:
        raise ValueError(f"unknown scale {construct!r}")
    text = " ".join(text.split())
    if not text:
        raise ValueError("Write the statement officers will read.")
    number = db.session.scalar(sa.select(sa.func.count()).select_from(Item)
                               .where(Item.agency_id == agency.id)) + 1
    spec = bank.scales[scale]
    item = Item(code=f"L{agency.id}_{number:03d}", agency_id=agency.id, construct=row, text=text,
                reverse_keyed=reverse_keyed, scale_code=scale, scale_min=spec.min,
                scale_max=spec.max, seed="local", source=f"Local item of {agency.name}")
    db.session.add(item)
    db.session.flush()
    audit(agency.id, by, "item.create", item.code, text=text, construct=construct,
          reverse_keyed=reverse_keyed)
    plan = plan_of(agency_instrument(agency, key))
    # The statement alone: its scale's bank statements come only if the scale was picked.
    instrument = publish_agency_instrument(agency, key,
                                           Plan(plan.constructs, (*plan.local_items, item.id)), by)
    return item, instrument


def versions(agency: Agency) -> list[Instrument]:
    """The versions the agency's waves use or will use, by instrument, newest first."""
    used = sa.select(Wave.instrument_id).where(Wave.agency_id == agency.id)
    current = [agency_instrument(agency, key).id for key in INSTRUMENT_KEYS]
    return list(db.session.scalars(
        sa.select(Instrument).where(sa.or_(Instrument.agency_id == agency.id,
                                           Instrument.id.in_(used), Instrument.id.in_(current)))
        .order_by(Instrument.key.desc(), Instrument.version.desc())))
