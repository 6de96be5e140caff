"""The item bank, curriculum topics and linkage elements: versioned data files, loaded and checked.

The files live in `survey/itembank/`. Loading validates them; a bank that fails validation is
refused with a message naming the item and the field, so a bad edit never reaches officers.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

ITEMBANK = resources.files("survey") / "itembank"
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
CONSTRUCT_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
ITEMS_PER_CONSTRUCT = (3, 6)


class BankError(ValueError):
    """The item bank file is malformed."""


@dataclass(frozen=True)
class ResponseScale:
    code: str
    min: int
    max: int
    labels: tuple[str, ...]

    @property
    def points(self) -> list[tuple[int, str]]:
        return list(zip(range(self.min, self.max + 1), self.labels))


@dataclass(frozen=True)
class ConstructDef:
    code: str
    name: str
    description: str
    higher_means: str
    officer_heading: str
    #: The way the program hopes scores move: "higher" or "lower".
    favourable: str
    #: A reference reliability (Cronbach's alpha) for reliable change when a cohort is too
    #: small for its own alpha to be stable; None when the bank gives none.
    reference_alpha: float | None = None


@dataclass(frozen=True)
class ItemDef:
    code: str
    construct: str
    text: str
    reverse_keyed: bool
    scale: str
    seed: str
    source: str


@dataclass(frozen=True)
class InstrumentDef:
    key: str
    title: str
    description: str
    constructs: tuple[str, ...]
    #: Items picked one by one (a short pulse); empty means every item of the constructs.
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bank:
    version: str
    seeds: dict[str, str]
    scales: dict[str, ResponseScale]
    constructs: dict[str, ConstructDef]
    items: dict[str, ItemDef]
    instruments: dict[str, InstrumentDef]

    def items_of(self, construct: str) -> list[ItemDef]:
        return [i for i in self.items.values() if i.construct == construct]

    def instrument_items(self, key: str) -> list[ItemDef]:
        """The items of an instrument, construct by construct, in bank order."""
        spec = self.instruments[key]
        return [i for c in spec.constructs for i in self.items_of(c)
                if not spec.items or i.code in spec.items]


def _require(entry: dict, fields: dict[str, type], where: str) -> None:
    for name, kind in fields.items():
        value = entry.get(name)
        if value is None or (kind is str and not str(value).strip()):
            raise BankError(f"{where}: missing '{name}'")
        if not isinstance(value, kind):
            raise BankError(f"{where}: '{name}' must be {kind.__name__}, not {value!r}")


def _unique(entries: list[dict], what: str) -> None:
    seen = set()
    for entry in entries:
        code = entry.get("code")
        if code is None:
            raise BankError(f"a {what} is missing 'code'")
        if code in seen:
            raise BankError(f"{what} code {code} appears twice")
        seen.add(code)


def parse_bank(raw: dict) -> Bank:
    """Validate a bank as read from TOML and return it; raise BankError naming what is wrong."""
    _require(raw, {"version": str, "seeds": dict, "scales": dict, "constructs": list,
                   "items": list, "instruments": dict}, "bank")
    scales = {}
    for code, s in raw["scales"].items():
        _require(s, {"min": int, "max": int, "labels": list}, f"scale {code}")
        if s["min"] >= s["max"] or len(s["labels"]) != s["max"] - s["min"] + 1:
            raise BankError(f"scale {code}: needs one label for each point from min to max")
        scales[code] = ResponseScale(code, s["min"], s["max"], tuple(s["labels"]))

    _unique(raw["constructs"], "construct")
    constructs = {}
    for c in raw["constructs"]:
        where = f"construct {c.get('code', '?')}"
        _require(c, {f: str for f in ("code", "name", "description", "higher_means",
                                      "officer_heading", "favourable")}, where)
        if c["favourable"] not in ("higher", "lower"):
            raise BankError(f"{where}: favourable is 'higher' or 'lower'")
        if not CONSTRUCT_RE.match(c["code"]):
            raise BankError(f"{where}: codes are lower case letters, digits and _")
        reference = c.get("reference_alpha")
        if reference is not None and (isinstance(reference, bool)
                                      or not isinstance(reference, (int, float))
                                      or not 0 < reference < 1):
            raise BankError(f"{where}: reference_alpha is a number between 0 and 1")
        constructs[c["code"]] = ConstructDef(**{k: c.get(k) for k in ConstructDef.__annotations__})

    _unique(raw["items"], "item")
    items = {}
    for i in raw["items"]:
        where = f"item {i.get('code', '?')}"
        _require(i, {"code": str, "construct": str, "text": str, "reverse_keyed": bool,
                     "scale": str, "seed": str, "source": str}, where)
        if not CODE_RE.match(i["code"]):
            raise BankError(f"{where}: codes are upper case letters, digits and _")
        if i["construct"] not in constructs:
            raise BankError(f"{where}: unknown construct '{i['construct']}'")
        if i["scale"] not in scales:
            raise BankError(f"{where}: unknown response scale '{i['scale']}'")
        if i["seed"] not in raw["seeds"]:
            raise BankError(f"{where}: unknown seed '{i['seed']}'")
        items[i["code"]] = ItemDef(**{k: i[k] for k in ItemDef.__annotations__})

    low, high = ITEMS_PER_CONSTRUCT
    for code in constructs:
        n = sum(1 for i in items.values() if i.construct == code)
        if not low <= n <= high:
            raise BankError(f"construct {code}: has {n} items, needs {low} to {high}")

    instruments = {}
    for key, ins in raw["instruments"].items():
        _require(ins, {"title": str, "description": str, "constructs": list}, f"instrument {key}")
        unknown = set(ins["constructs"]) - set(constructs)
        if unknown:
            raise BankError(f"instrument {key}: unknown constructs {sorted(unknown)}")
        picked = tuple(ins.get("items", ()))
        stray = [c for c in picked if c not in items or items[c].construct not in ins["constructs"]]
        if stray:
            raise BankError(f"instrument {key}: items {stray} are not in its constructs")
        missing = [c for c in ins["constructs"] if picked and not any(
            items[i].construct == c for i in picked)]
        if missing:
            raise BankError(f"instrument {key}: no item picked for {missing}")
        instruments[key] = InstrumentDef(key, ins["title"], ins["description"],
                                         tuple(ins["constructs"]), picked)
    return Bank(raw["version"], dict(raw["seeds"]), scales, constructs, items, instruments)


def bank_files() -> list[Path]:
    """The bank files shipped with the package, oldest version first."""
    files = [Path(str(p)) for p in ITEMBANK.iterdir() if re.match(r"bank-v\d+\.toml$", p.name)]
    return sorted(files, key=lambda p: int(re.search(r"\d+", p.name).group()))


def read_toml(path: Path | str) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@cache
def current_bank() -> Bank:
    """The newest item bank shipped with the package."""
    return parse_bank(read_toml(bank_files()[-1]))


@dataclass(frozen=True)
class Topic:
    code: str
    label: str
    seed: str
    source: str


@cache
def curriculum_topics() -> dict[str, Topic]:
    raw = read_toml(ITEMBANK / "curriculum.toml")
    return {t["code"]: Topic(t["code"], t["label"], t["seed"], t["source"])
            for t in raw["topics"]}


@dataclass(frozen=True)
class LinkageElement:
    code: str
    question: str
    kind: str
    hint: str = ""
    max: int | None = None

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(value, label) pairs an officer picks from; values are what gets hashed."""
        if self.kind == "letter":
            return [(c, c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        if self.kind == "month":
            import calendar
            return [(str(m), calendar.month_name[m]) for m in range(1, 13)]
        if self.kind == "count":
            return [(str(n), str(n)) for n in range(self.max)] + [
                (str(self.max), f"{self.max} or more")]
        raise BankError(f"linkage element {self.code}: unknown kind {self.kind}")


@cache
def linkage_elements() -> tuple[LinkageElement, ...]:
    raw = read_toml(ITEMBANK / "linkage.toml")
    return tuple(LinkageElement(**e) for e in raw["elements"])


@dataclass(frozen=True)
class TrackerStep:
    framework: str
    group: str
    code: str
    label: str


@cache
def tracker_steps() -> tuple[TrackerStep, ...]:
    """The culture-change steps an agency tracks (IACP checklist, Kotter's eight steps)."""
    raw = read_toml(ITEMBANK / "tracker.toml")
    return tuple(TrackerStep(**s) for s in raw["steps"])


@cache
def tracker_frameworks() -> dict[str, str]:
    raw = read_toml(ITEMBANK / "tracker.toml")
    return {code: f["name"] for code, f in raw["frameworks"].items()}
