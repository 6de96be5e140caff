"""Charts on pages: Altair specs from `analysis.charts`, drawn in the browser by the Vega bundle
the app serves itself, with a static SVG for printing and for browsers without JavaScript."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import vl_convert
from markupsafe import Markup

from analysis import charts
from analysis.charts import vega_lite_version

BUNDLE_PATH = Path(__file__).parent / "static" / "vendor" / "vega-bundle.js"


def build_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed in one script, for the Vega-Lite version Altair writes."""
    return vl_convert.javascript_bundle(vl_version=vega_lite_version())


def _spec(chart) -> dict:
    # Altair's schema validation is slow and the analysis tests validate every chart kind.
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def spec_json(chart: alt.TopLevelMixin | dict) -> Markup:
    """The chart's spec as JSON safe inside <script type="application/json">."""
    text = json.dumps(_spec(chart), separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def static_svg(chart: alt.TopLevelMixin | dict) -> Markup:
    """The chart drawn on the server, for print and for browsers without JavaScript.

    Drawing is most of a report's or dashboard's time, and the same data gives the same spec,
    so each worker keeps the drawings of its last specs (a changed figure is a new spec)."""
    return Markup(_drawn(json.dumps(_spec(chart), sort_keys=True, separators=(",", ":"))))


@lru_cache(maxsize=128)
def _drawn(spec_text: str) -> str:
    return vl_convert.vegalite_to_svg(json.loads(spec_text), vl_version=vega_lite_version())


@dataclass
class Figure:
    """A chart ready for a page: its spec for the browser and its server-drawn SVG."""

    id: str
    spec: Markup
    svg: Markup
    description: str


def figure(id: str, chart: alt.TopLevelMixin, description: str) -> Figure:
    spec = _spec(chart)
    return Figure(id, spec_json(spec), static_svg(spec), description)


def cohort_charts(report) -> dict[str, Figure]:
    """The cohort report's charts, from the suppressed tables only."""
    out = {}
    means = report.means
    if len(means) and (~means["withheld"]).any():
        table = means.rename(columns={"construct_name": "construct_label"})
        out["means"] = figure("chart-means", charts.scale_dumbbell(table),
                              "Scale means in each survey with 95% confidence intervals; the "
                              "table below gives the same numbers.")
    dist = report.distribution
    if dist is not None and len(dist):
        kinds = ["Before training", "After training"]
        part = dist.loc[dist["wave_label"].isin(kinds) & ~dist["withheld"]]
        if part["wave_label"].nunique() == 2:
            part = part.rename(columns={"text": "item_label"})
            out["agreement"] = figure("chart-agreement", charts.agreement_bars(part),
                                      "Agreement with each statement before and after training; "
                                      "the table below gives the share who agreed.")
    bars = _reliable_bars(report.reliable, "construct_name")
    if bars is not None:
        out["reliable"] = figure("chart-reliable", bars,
                                 "For each scale, the share of linked officers who reliably "
                                 "improved, did not change beyond measurement error, or reliably "
                                 "got worse; the table below gives the numbers.")
    path = report.trajectory
    if len(path) and (~path["withheld"] & path["mean_diff"].notna()).any():
        table = path.rename(columns={"construct_name": "construct_label"})
        out["trajectory"] = figure(
            "chart-trajectory", charts.trajectory_chart(table, time="wave_label"),
            "Change from before training after training and at each follow-up, with 95% "
            "confidence intervals, one panel per scale; the table below gives the numbers.")
    return out


def _reliable_bars(table, label: str):
    """Reliable-change bars from the shown rows with counts, or None when there are none."""
    if table is None or table.empty:
        return None
    shown = table.loc[~table["withheld"] & table["share_none"].notna()]
    if shown.empty:
        return None
    better = dict(zip(shown["construct"], shown["favourable"]))
    return charts.reliable_change_bars(shown.assign(bar_label=shown[label]), label="bar_label",
                                       better=better)


def compare_charts(comparison) -> dict[str, Figure]:
    """The comparison's charts besides the forest plot, from its suppressed tables only."""
    out = {}
    reliable = comparison.reliable
    if len(reliable):
        ordered = reliable.sort_values(["construct", "cohort"]).assign(
            pair_label=lambda t: t["construct_name"] + ": " + t["cohort_label"])
        bars = _reliable_bars(ordered, "pair_label")
        if bars is not None:
            out["reliable"] = figure("chart-reliable", bars,
                                     "For each scale and class, the share of linked officers "
                                     "who reliably improved, did not change beyond measurement "
                                     "error, or reliably got worse; the table below gives the "
                                     "numbers.")
    pooled = comparison.pooled
    if len(pooled) and (~pooled["withheld"]).any():
        table = pooled.rename(columns={"construct_name": "construct_label"})
        out["pooled"] = figure(
            "chart-pooled", charts.trajectory_chart(table, time="time_label"),
            "Change from before training at each time point, estimated across the classes by a "
            "mixed model, with 95% confidence intervals, one panel per scale; the table below "
            "gives the numbers.")
    return out


def forest(comparison) -> Figure | None:
    changes = comparison.changes
    if changes.empty or changes["withheld"].all():
        return None
    table = changes.rename(columns={"construct_name": "construct_label"})
    return figure("chart-forest", charts.forest_plot(table),
                  "Change after training in each scale for each cohort, with 95% confidence "
                  "intervals; the table below gives the same numbers.")


def dashboard_charts(board) -> dict[str, Figure]:
    """The trends (a panel per construct, control limits, milestones), heat maps, figures."""
    out = {}
    trend = board.trend
    if len(trend) and (~trend["withheld"]).any():
        names = trend.drop_duplicates("construct").set_index("construct")["construct_name"]
        points = board.cohorts.assign(construct_label=board.cohorts["construct"].map(names),
                                      label=board.cohorts["cohort_label"])
        out["trends"] = figure(
            "chart-trends", charts.trend_chart(
                trend.rename(columns={"construct_name": "construct_label"}), board.milestones,
                points=points),
            "Each scale's mean in each pulse with its 95% confidence band, control limits, and "
            "completed culture-change steps as dated lines; the table below gives the numbers.")
    whole = (board.glance.set_index("construct") if len(board.glance) else pd.DataFrame())
    for key, table, row in (("units", board.units, "unit"), ("shifts", board.shifts, "shift")):
        if len(table):
            table = table.rename(columns={"construct_name": "construct_label"})
            if len(whole) and {"mean", "favourable"} <= set(whole.columns):
                overall = table["construct"].map(whole["mean"])
                sign = np.where(table["construct"].map(whole["favourable"]) == "lower", -1, 1)
                table = table.assign(better_than_whole=(table["mean"] - overall) * sign)
                drawn = charts.heat_map(table, row=row, difference="better_than_whole")
                how = ("coloured by how far each group is from the agency as a whole, blue "
                       "where better, red where worse")
            else:
                drawn, how = charts.heat_map(table, row=row), "coloured by the mean"
            out[key] = figure(f"chart-{key}", drawn,
                              f"Latest pulse by {row} and scale, {how}; withheld cells are "
                              "marked.")
    if len(board.figures):
        from .services import PROGRAM_MEASURES
        out["figures"] = figure("chart-figures", charts.program_chart(
            board.figures, labels=PROGRAM_MEASURES), "Monthly program counts.")
        scale = trend.loc[(trend["construct"] == OUTCOME_SCALE) & ~trend["withheld"]] \
            if len(trend) else trend
        if len(scale):
            classes = board.cohorts.loc[board.cohorts["construct"] == OUTCOME_SCALE] \
                .assign(label=lambda t: t["cohort_label"]) if len(board.cohorts) else None
            name = scale["construct_name"].iloc[0]
            out["outcomes"] = figure("chart-outcomes", charts.outcomes_chart(
                scale, board.figures, board.milestones, classes,
                scale_label=f"{name} (1-5)", labels=PROGRAM_MEASURES),
                f"{name} at each pulse, with training classes after training, above the "
                "program's monthly counts on the same time axis, with the completed "
                "culture-change steps as dated lines in both; the table below gives the "
                "correlations.")
    return out


#: The scale set beside the program's figures: the attitude meant to drive referrals.
OUTCOME_SCALE = "intention"
