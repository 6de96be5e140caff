"""Charts on pages: Altair specs from `analysis.charts`, drawn in the browser by the Vega bundle
the app serves itself, with a static SVG for printing and for browsers without JavaScript."""
from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import vl_convert
from markupsafe import Markup

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
