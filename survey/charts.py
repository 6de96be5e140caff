"""Charts on pages: Altair specs from `analysis.charts`, drawn in the browser by the Vega bundle
the app serves itself, with a static SVG for printing and for browsers without JavaScript."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import vl_convert
from markupsafe import Markup

from analysis import charts
from analysis.charts import vega_lite_version

BUNDLE_PATH = Path(__file__).parent / "static" / "vendor" / "vega-bundle.js"


def build_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed in one script, for the Vega-Lite version Altair writes."""
    return vl_convert.javascript_bundle(vl_version=vega_lite_version())


def spec_json(chart: alt.TopLevelMixin) -> Markup:
    """The chart's spec as JSON safe inside <script type="application/json">."""
    text = json.dumps(chart.to_dict(), separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def static_svg(chart: alt.TopLevelMixin) -> Markup:
    """The chart drawn on the server, for print and for browsers without JavaScript."""
    return Markup(vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=vega_lite_version()))


@dataclass
class Figure:
    """A chart ready for a page: its spec for the browser and its server-drawn SVG."""

    id: str
    spec: Markup
    svg: Markup
    description: str


def figure(id: str, chart: alt.TopLevelMixin, description: str) -> Figure:
    return Figure(id, spec_json(chart), static_svg(chart), description)


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
    return out


def forest(comparison) -> Figure | None:
    changes = comparison.changes
    if changes.empty or changes["withheld"].all():
        return None
    table = changes.rename(columns={"construct_name": "construct_label"})
    return figure("chart-forest", charts.forest_plot(table),
                  "Change after training in each scale for each cohort, with 95% confidence "
                  "intervals; the table below gives the same numbers.")
