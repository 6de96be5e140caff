"""The network of agencies: each agency's profile, and benchmarks against similar agencies.

Nothing crosses an agency's boundary unless its administrator opts in. An agency that has opted
in contributes one small published summary per pulse (each scale's mean and number of officers
at its latest closed pulse: never answer sheets, codes or units); its benchmark is computed,
when its own dashboard is published, from the summaries the other opted-in agencies have
published. See :func:`analysis.benchmarks.benchmark` for the figures and the group rules.
"""
from __future__ import annotations

import json
import zlib

import pandas as pd
import sqlalchemy as sa

from analysis.benchmarks import apart, benchmark

from .extensions import db
from .models import Agency, PublicationStatus, PublishedPart, PublishedResult

#: Agency types (the profile's first question).
KINDS = {"municipal": "Municipal police", "sheriff": "Sheriff's office",
         "state": "State police or highway patrol", "tribal": "Tribal police",
         "other": "Other first responder"}

#: Who leads the deflection program (the distinction the research makes).
PROGRAM_MODELS = {"police": "Law enforcement-led",
                  "partner": "Led by a health or community partner"}

#: Sworn headcount bands: (lowest, label).
SIZE_BANDS = [(1, "1–24 sworn"), (25, "25–99 sworn"), (100, "100–499 sworn"),
              (500, "500–999 sworn"), (1000, "1,000 or more sworn")]

#: US Census regions by state postal code.
REGIONS = {
    **dict.fromkeys(["CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA"], "Northeast"),
    **dict.fromkeys(["IL", "IN", "MI", "OH", "WI", "IA", "KS", "MN", "MO", "NE", "ND", "SD"],
                    "Midwest"),
    **dict.fromkeys(["DE", "DC", "FL", "GA", "MD", "NC", "SC", "VA", "WV", "AL", "KY", "MS",
                     "TN", "AR", "LA", "OK", "TX"], "South"),
    **dict.fromkeys(["AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY", "AK", "CA", "HI", "OR",
                     "WA"], "West"),
}

#: What an agency that opts in is told leaves it.
OPT_IN_STATEMENT = (
    "Your agency's published pulse summaries join the network's benchmarks: for each scale, its "
    "average and the number of officers behind it at your latest closed pulse, only where at "
    "least your smallest group of officers answered. Never answer sheets, personal codes, "
    "units, shifts or comments. Your agency is never in its own comparison group, and no "
    "group is shown with fewer than 5 agencies and 50 officers. Opting out removes your "
    "summaries from every benchmark published afterwards.")

#: The published part holding an agency's own contribution.
SUMMARY_PART = "network.json"


def size_band(headcount: int | None) -> str | None:
    if not headcount:
        return None
    return [label for low, label in SIZE_BANDS if headcount >= low][-1]


def region(state: str | None) -> str | None:
    return REGIONS.get((state or "").upper())


def profile(agency: Agency) -> dict:
    """The profile facts a comparison group is drawn by."""
    return {"agency": agency.id, "size_band": size_band(agency.headcount),
            "region": region(agency.state), "kind": agency.kind,
            "program_model": agency.program_model}


def latest_closed(trend: pd.DataFrame, pulses: pd.DataFrame) -> pd.DataFrame:
    """Each scale's mean and officers at the latest closed pulse that shows it: from the
    dashboard's trend, withheld rows and open pulses' snapshots left out."""
    if trend.empty or "sealed" not in pulses:
        return pd.DataFrame(columns=["construct", "mean", "n"])
    closed = set(pulses.loc[pulses["sealed"].astype(bool), "wave"])
    shown = trend.loc[~trend["withheld"].astype(bool) & trend["wave"].isin(closed)]
    return (shown.sort_values("date").groupby("construct", sort=True).tail(1)
            [["construct", "mean", "n"]].sort_values("construct", ignore_index=True))


def summary(closed: pd.DataFrame) -> str:
    """An agency's contribution: :func:`latest_closed` as published JSON."""
    return json.dumps({"scales": [{"construct": r.construct, "mean": float(r.mean),
                                   "n": int(r.n)} for r in closed.itertuples()]})


def contributions(agency: Agency) -> pd.DataFrame:
    """The latest published summaries of every other agency that has opted in, with their
    profiles: one query for the agencies, one for their summaries, whatever their number."""
    others = db.session.scalars(sa.select(Agency).where(
        Agency.benchmark_opt_in.is_(True), Agency.id != agency.id)).all()
    minimum = {f"agency:{a.id}": a.min_group_size for a in others}
    if not others:
        return pd.DataFrame(columns=["agency", "construct", "mean", "n", "size_band", "region"])
    newest = (sa.select(PublishedResult.subject, sa.func.max(PublishedResult.version)
                        .label("version"))
              .where(PublishedResult.subject.in_([f"agency:{a.id}" for a in others]),
                     PublishedResult.status == PublicationStatus.COMPLETE)
              .group_by(PublishedResult.subject).subquery())
    bodies = db.session.execute(
        sa.select(PublishedResult.subject, PublishedPart.body, PublishedResult.k)
        .join(newest, sa.and_(newest.c.subject == PublishedResult.subject,
                              newest.c.version == PublishedResult.version))
        .join(PublishedPart, PublishedPart.result_id == PublishedResult.id)
        .where(PublishedPart.name == SUMMARY_PART)).all()
    profiles = {f"agency:{a.id}": profile(a) for a in others}
    # A summary published under a smaller minimum than the agency's own today is not used.
    rows = [{**profiles[subject], **scale}
            for subject, body, k in bodies if k >= minimum[subject]
            for scale in json.loads(zlib.decompress(body))["scales"]]
    return pd.DataFrame(rows, columns=["agency", "construct", "mean", "n", "size_band",
                                       "region", "kind", "program_model"])


def agency_benchmark(agency: Agency, closed: pd.DataFrame) -> pd.DataFrame:
    """This agency's benchmark table from the other agencies' published summaries, `closed`
    being its own scales at its latest closed pulse (:func:`latest_closed`).

    Every group shown is kept on the agency (``benchmark_groups``, never shown, kept across
    opt-outs and purges). A new group is shown only if, against every group shown before, each
    side holds 0 or at least 5 agencies the other lacks. Otherwise the last group shown is used
    again while all its members still take part, and nothing is shown while they do not. So no
    two benchmarks an agency sees, however far apart in time and whoever opts in or out, tell
    apart fewer than 5 agencies. The caller holds the agency's row locked (one publication of
    an agency at a time)."""
    kept = agency.benchmark_groups or {"shown": [], "group": "", "widened": False}
    if not agency.benchmark_opt_in or closed.empty:
        return pd.DataFrame()
    own = closed[["construct", "mean"]]
    others = contributions(agency)
    table, members = benchmark(own, others, profile(agency))
    shown = kept["shown"]
    if not members:
        return table
    if all(apart(members, past) for past in shown):
        if sorted(members) not in shown:
            agency.benchmark_groups = {"shown": [*shown, sorted(members)],
                                       "group": table["group"].iloc[0],
                                       "widened": bool(table["widened"].iloc[0])}
        return table
    last = shown[-1]
    if set(last) <= set(others["agency"]):
        table, again = benchmark(own, others.loc[others["agency"].isin(last)],
                                 profile(agency), levels=[(kept["group"], [])])
        if again == last:
            table["widened"] = kept["widened"]
            return table
    return table.iloc[0:0]
