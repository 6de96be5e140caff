"""Altair charts built from the analysis tables. Specs only: the web app embeds and serves them.

Every chart takes rows that have already passed :func:`analysis.suppression.suppress`; rows
marked ``withheld`` are never drawn as values (the heat map marks them as withheld instead).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

__all__ = ["agreement_bars", "scale_dumbbell", "forest_plot", "trend_chart", "heat_map",
           "program_chart", "outcomes_chart", "reliable_change_bars", "trajectory_chart",
           "vega_lite_version", "AGREE_COLOURS", "CHANGE_STYLES"]

#: Disagree to agree, colour-blind safe (ColorBrewer PuOr, darkest ends kept for contrast).
#: Orange and purple, not red and blue: agreeing is good for some statements and bad for
#: others, and red and blue are kept for worse and better.
AGREE_COLOURS = ["#b35806", "#f1a340", "#bdbdbd", "#998ec3", "#542788"]
AGREE_LABELS = ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]
FONT = "DejaVu Sans, system-ui, sans-serif"
SERIES_COLOURS = ["#0b4f8a", "#b35806", "#542788", "#1b7837", "#767676"]
SERIES_SHAPES = ["circle", "square", "triangle-up", "diamond", "cross"]
#: Reliable-change outcomes, left to right: (label, colour). Neutral purple-orange (ColorBrewer
#: PuOr, as the agreement bars) when the direction has no value; red-blue once the caller says
#: which direction is better.
CHANGE_STYLES = {
    "neutral": {"lower": ("Reliably lower", "#b35806"), "none": ("No reliable change", "#bdbdbd"),
                "higher": ("Reliably higher", "#542788")},
    "valued": {"worse": ("Reliably worse", "#b2182b"), "none": ("No reliable change", "#bdbdbd"),
               "improved": ("Reliably improved", "#2166ac")},
}


def vega_lite_version() -> str:
    """The Vega-Lite version Altair writes, as vl-convert names it (e.g. ``"v6_4"``)."""
    from altair.utils._importers import vl_version_for_vl_convert
    return vl_version_for_vl_convert()


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    if "withheld" in table.columns:
        return table.loc[~table["withheld"].astype(bool)].copy()
    return table.copy()


def _base(chart: alt.Chart, title: str | None) -> alt.Chart:
    chart = chart.configure_axis(labelFont=FONT, titleFont=FONT, labelLimit=320)
    chart = chart.configure_legend(labelFont=FONT, titleFont=FONT, orient="bottom")
    if title:
        chart = chart.properties(title=alt.TitleParams(title, font=FONT, anchor="start"))
    return chart.configure_view(stroke=None)


def agreement_bars(distribution: pd.DataFrame, *, wave_label: str = "wave_label",
                   item_label: str = "item_label", title: str | None = None) -> alt.Chart:
    """Diverging stacked bars of agreement, one bar per item and wave.

    `distribution` has the columns of :func:`analysis.scoring.item_distribution` on a 5-point
    scale plus `wave_label` (e.g. "Before", "After") and `item_label` (the statement). Disagree
    shares extend left of zero, agree shares right, the neutral share straddles zero.
    """
    data = _shown(distribution)
    data = data.loc[data["n_item"] > 0].copy()
    data["point"] = data["value"].map(dict(enumerate(AGREE_LABELS, start=1)))
    data["share"] = data["share"].astype(float)
    parts = []
    for _, bar in data.sort_values("value").groupby([item_label, wave_label], sort=False):
        shares = bar["share"].to_numpy()
        start = -(shares[0] + shares[1] + shares[2] / 2)
        ends = start + np.cumsum(shares)
        parts.append(bar.assign(x0=np.r_[start, ends[:-1]], x1=ends))
    data = pd.concat(parts) if parts else data.assign(x0=[], x1=[])
    order = list(dict.fromkeys(distribution[wave_label]))
    chart = alt.Chart(data).mark_bar(height={"band": 0.85}).encode(
        x=alt.X("x0:Q", title="Share of officers (disagree ← → agree)",
                axis=alt.Axis(values=[-1, -0.5, 0, 0.5, 1],
                              labelExpr="format(abs(datum.value), '.0%')"),
                scale=alt.Scale(domain=[-1, 1])),
        x2="x1:Q",
        y=alt.Y(f"{wave_label}:N", title=None, sort=order),
        color=alt.Color("point:N", title=None, sort=AGREE_LABELS,
                        scale=alt.Scale(domain=AGREE_LABELS, range=AGREE_COLOURS)),
        tooltip=[alt.Tooltip(f"{item_label}:N", title="Statement"),
                 alt.Tooltip(f"{wave_label}:N", title="Survey"),
                 alt.Tooltip("point:N", title="Answer"),
                 alt.Tooltip("share:Q", title="Share", format=".0%")],
    ).properties(width=420, height=alt.Step(16)).facet(
        row=alt.Row(f"{item_label}:N", title=None, sort=list(dict.fromkeys(data[item_label])),
                    header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=420,
                                      labelOrient="top", labelFont=FONT)),
        spacing=6)
    return _base(chart, title)


def scale_dumbbell(summary: pd.DataFrame, *, label: str = "construct_label",
                   title: str | None = None, domain=(1, 5)) -> alt.Chart:
    """Before and after scale means with their intervals, one row per construct.

    `summary` has one row per construct and wave: `label`, ``wave_label``, ``mean``,
    ``ci_low``, ``ci_high``.
    """
    data = _shown(summary)
    order = list(dict.fromkeys(summary["wave_label"]))
    colour = alt.Color("wave_label:N", title=None, sort=order,
                       scale=alt.Scale(domain=order,
                                       range=["#767676", "#0b4f8a", "#b35806", "#542788"][
                                           :len(order)]))
    shape = alt.Shape("wave_label:N", title=None, sort=order,
                      scale=alt.Scale(domain=order,
                                      range=["circle", "square", "triangle", "diamond"][
                                          :len(order)]))
    offset = alt.YOffset("wave_label:N", sort=order, scale=alt.Scale(domain=order))
    base = alt.Chart(data).encode(y=alt.Y(f"{label}:N", title=None), yOffset=offset,
                                  color=colour)
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="Scale mean (1 = strongly disagree, 5 = strongly agree)",
                scale=alt.Scale(domain=list(domain))), x2="ci_high:Q")
    points = base.mark_point(filled=True, size=90, opacity=1).encode(
        x="mean:Q", shape=shape,
        tooltip=[alt.Tooltip(f"{label}:N", title="Scale"), alt.Tooltip("wave_label:N",
                 title="Survey"), alt.Tooltip("mean:Q", format=".2f"),
                 alt.Tooltip("ci_low:Q", format=".2f", title="95% CI from"),
                 alt.Tooltip("ci_high:Q", format=".2f", title="95% CI to")])
    chart = (bars + points).properties(width=420, height=alt.Step(18))
    return _base(chart, title)


def forest_plot(changes: pd.DataFrame, *, label: str = "cohort_label",
                title: str | None = None) -> alt.Chart:
    """Each cohort's change with its interval, one panel per construct; zero marked.

    `changes` has the columns of :func:`analysis.compare.cohort_changes` plus `label` and
    ``construct_label``. Withheld cohorts are not plotted.
    """
    data = _shown(changes).dropna(subset=["mean_diff", "ci_low", "ci_high"])
    base = alt.Chart().encode(y=alt.Y(f"{label}:N", title=None))
    ci = base.mark_rule(strokeWidth=2, color="#0b4f8a").encode(
        x=alt.X("ci_low:Q", title="Change after training (scale points, 95% CI)"),
        x2="ci_high:Q")
    point = base.mark_square(size=70, color="#0b4f8a").encode(
        x="mean_diff:Q",
        tooltip=[alt.Tooltip(f"{label}:N", title="Cohort"),
                 alt.Tooltip("mean_diff:Q", format="+.2f", title="Change"),
                 alt.Tooltip("ci_low:Q", format="+.2f", title="95% CI from"),
                 alt.Tooltip("ci_high:Q", format="+.2f", title="95% CI to"),
                 alt.Tooltip("n:Q", title="Linked officers")])
    zero = alt.Chart().mark_rule(strokeDash=[4, 3], color="#424242").encode(x=alt.datum(0))
    chart = alt.layer(zero, ci, point, data=data).properties(width=360, height=alt.Step(22))
    chart = chart.facet(row=alt.Row("construct_label:N", title=None,
                                    header=alt.Header(labelAngle=0, labelAlign="left",
                                                      labelOrient="top", labelFont=FONT)))
    return _base(chart, title)


def trend_chart(series: pd.DataFrame, milestones: pd.DataFrame | None = None, *,
                title: str | None = None, panel: str = "construct_label",
                points: pd.DataFrame | None = None) -> alt.Chart:
    """Pulse means over time with intervals, control limits and dated milestones.

    `series` has ``date``, ``mean``, ``ci_low``, ``ci_high``, ``centre``, ``ucl``, ``lcl``,
    ``beyond`` and ``n`` (from :func:`analysis.trends.control_limits`), and, for several
    constructs, a `panel` column: one panel each, y scales independent. `milestones` has
    ``date`` and ``label`` (culture-change steps completed), drawn as dated rules in every panel.
    `points` (``date``, ``mean``, ``label`` and the `panel` column) are other measurements of the
    same scale, such as training cohorts after training, drawn as triangles.
    """
    data = _shown(series).dropna(subset=["mean"]).assign(kind="pulse")
    panels = panel in data.columns
    if milestones is not None and len(milestones):
        marks = milestones.sort_values("date")[["date", "label"]].assign(kind="milestone")
        # Numbered markers stay legible however close the dates; the page lists the numbers.
        marks["number"] = [str(n) for n in range(1, len(marks) + 1)]
        if panels:
            marks = marks.merge(pd.DataFrame({panel: data[panel].unique()}), how="cross")
        data = pd.concat([data, marks], ignore_index=True)
    if points is not None and len(points):
        data = pd.concat([data, _shown(points).assign(kind="cohort")], ignore_index=True)
    data["beyond"] = data.get("beyond", False)
    data["beyond"] = data["beyond"].fillna(False).astype(bool)
    if "rule" not in data:
        data["rule"] = np.where(data["beyond"], "beyond the limits", "")
    data["rule"] = data["rule"].fillna("")
    data["signal"] = data["signal"].fillna("") if "signal" in data else ""
    data["signal"] = data["signal"].replace({"better": "better than usual",
                                             "worse": "worse than usual", "": "no direction"})
    data["phase"] = data["phase"].fillna(0) if "phase" in data else 0
    pulse = alt.datum.kind == "pulse"
    base = alt.Chart().encode(x=alt.X("date:T", title=None))
    band = base.mark_area(opacity=0.18, color="#0b4f8a").encode(
        y=alt.Y("ci_low:Q", title="Mean (1-5)", scale=alt.Scale(zero=False)),
        y2="ci_high:Q").transform_filter(pulse)
    line = base.mark_line(color="#0b4f8a", point=alt.OverlayMarkDef(size=50, filled=True))\
        .encode(y="mean:Q", tooltip=[alt.Tooltip("date:T", title="Pulse"),
                                     alt.Tooltip("mean:Q", format=".2f"),
                                     alt.Tooltip("n:Q", title="Officers")]).transform_filter(pulse)
    # Staged limits: each phase's lines stop where the next phase's begin.
    limits = [base.mark_line(strokeDash=dash, color="#6d6d6d").encode(
        y=f"{field}:Q", detail="phase:N").transform_filter(pulse) for field, dash in
              (("ucl", [6, 4]), ("lcl", [6, 4]), ("centre", [1, 0]))]
    # A flagged pulse: its shape names the rule, its colour the direction (never red for a
    # move in the scale's better direction).
    flagged = base.mark_point(size=170, filled=True).encode(
        y="mean:Q",
        shape=alt.Shape("rule:N", title="Signal", scale=alt.Scale(
            domain=["beyond the limits", "run of 8 on one side"],
            range=["diamond", "square"])),
        color=alt.Color("signal:N", title="Direction", scale=alt.Scale(
            domain=["better than usual", "worse than usual", "no direction"],
            range=["#2166ac", "#b2182b", "#6d6d6d"])),
        tooltip=[alt.Tooltip("date:T", title="Pulse"), alt.Tooltip("rule:N", title="Rule"),
                 alt.Tooltip("signal:N", title="Direction")],
    ).transform_filter(pulse & (alt.datum.rule != ""))
    cohort = base.mark_point(shape="triangle-up", size=90, color="#b35806", filled=True).encode(
        y="mean:Q", tooltip=[alt.Tooltip("label:N", title="Training cohort, after training"),
                             alt.Tooltip("mean:Q", format=".2f"), alt.Tooltip("n:Q")]
    ).transform_filter(alt.datum.kind == "cohort")
    milestone = alt.datum.kind == "milestone"
    rule = base.mark_rule(color="#542788").transform_filter(milestone)
    text = base.mark_text(align="center", dy=-4, color="#542788", font=FONT,
                          fontWeight="bold").encode(
        y=alt.value(-6), text="number:N",
        tooltip=[alt.Tooltip("label:N", title="Step"), alt.Tooltip("date:T", title="Done")],
    ).transform_filter(milestone)
    chart = alt.layer(band, *limits, line, flagged, cohort, rule, text, data=data)\
        .properties(width=520, height=200)
    if panels:
        chart = chart.facet(row=alt.Row(f"{panel}:N", title=None, header=alt.Header(
            labelAngle=0, labelAlign="left", labelOrient="top", labelFont=FONT,
            labelFontSize=13, labelFontWeight="bold")), spacing=24)\
            .resolve_scale(y="independent")
    return _base(chart, title)


def heat_map(table: pd.DataFrame, *, row: str = "unit", column: str = "construct_label",
             value: str = "mean", difference: str | None = None,
             title: str | None = None) -> alt.Chart:
    """Groups by constructs, labelled with `value`; withheld cells marked, never coloured.

    Without `difference`, cells are coloured by `value` on 1-5. With it (a column holding each
    cell's distance from the overall figure, signed so that positive is *better*), cells are
    coloured on a diverging scale centred on zero and symmetric (blue better, red worse, white
    as the whole), with its legend, so that small differences between groups show."""
    data = table.copy()
    data["text"] = np.where(data.get("withheld", False), "withheld",
                            data[value].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"))
    base = alt.Chart(data).encode(x=alt.X(f"{column}:N", title=None,
                                          axis=alt.Axis(labelAngle=-30, labelLimit=180,
                                                        labelAlign="right")),
                                  y=alt.Y(f"{row}:N", title=None))
    if difference is None:
        shade, dark = (alt.Color(f"{value}:Q", title="Mean",
                                 scale=alt.Scale(scheme="blues", domain=[1, 5])),
                       f"datum['{value}'] > 3.6")
        valid = value
    else:
        reach = float(np.nanmax(np.abs(data[difference]))) if data[difference].notna().any() \
            else 0.0
        reach = max(0.25, round(reach + 0.005, 2))
        shade = alt.Color(f"{difference}:Q", title="Than the whole: worse (-), better (+)",
                          scale=alt.Scale(scheme="redblue", domain=[-reach, reach],
                                          domainMid=0),
                          legend=alt.Legend(format="+.2f"))
        dark, valid = f"abs(datum['{difference}']) > {0.6 * reach}", difference
    cells = base.mark_rect(stroke="#ffffff").encode(
        color=alt.condition(f"isValid(datum['{valid}'])", shade, alt.value("#eeeeee")))
    text = base.mark_text(font=FONT).encode(
        text="text:N",
        color=alt.condition(f"isValid(datum['{valid}']) && {dark}",
                            alt.value("#ffffff"), alt.value("#1b1f24")))
    chart = (cells + text).properties(width=alt.Step(110), height=alt.Step(34))
    return _base(chart, title)


def program_chart(figures: pd.DataFrame, *, labels: dict | None = None,
                  title: str | None = None) -> alt.Chart:
    """Monthly program counts (referrals, deflections...), one line per measure."""
    data = figures.copy()
    data["month"] = pd.to_datetime(data["month"])
    data["measure_label"] = data["measure"].map(labels or {}).fillna(data["measure"])
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("month:T", title=None),
        y=alt.Y("value:Q", title="Per month"),
        color=alt.Color("measure_label:N", title=None,
                        scale=alt.Scale(range=["#0b4f8a", "#b35806", "#542788", "#1b7837"])),
        tooltip=[alt.Tooltip("month:T", format="%B %Y"), alt.Tooltip("measure_label:N",
                 title="Measure"), alt.Tooltip("value:Q", title="Count")],
    ).properties(width=520, height=180)
    return _base(chart, title)


def outcomes_chart(attitude: pd.DataFrame, figures: pd.DataFrame,
                   milestones: pd.DataFrame | None = None, points: pd.DataFrame | None = None, *,
                   scale_label: str = "Mean (1-5)", labels: dict | None = None,
                   title: str | None = None) -> alt.Chart:
    """One scale's pulse means above the program's monthly counts, on one time axis.

    `attitude` has ``date``, ``mean``, ``ci_low``, ``ci_high`` and ``n`` for one scale
    (withheld rows are left out); `figures` has ``month``, ``measure`` and ``value``.
    `milestones` (``date``, ``label``) are drawn as dated rules in both panels and `points`
    (``date``, ``mean``, ``label``: training classes after training) as triangles on the
    scale's panel. Every kind of mark is named in a legend."""
    kinds = ["Pulse mean", "Class after training", "Culture-change step"]
    colours = ["#0b4f8a", "#b35806", "#542788"]
    scale = _shown(attitude).dropna(subset=["mean"]).assign(kind=kinds[0])
    classes = (_shown(points).dropna(subset=["mean"]).assign(kind=kinds[1])
               if points is not None and len(points) else scale.iloc[:0])
    counts = figures.assign(date=pd.to_datetime(figures["month"]),
                            measure_label=figures["measure"].map(labels or {})
                            .fillna(figures["measure"])).drop(columns="month")
    dates = pd.concat([pd.to_datetime(scale["date"]), pd.to_datetime(classes["date"]),
                       counts["date"]])
    start, end = dates.min(), dates.max()
    x = alt.X("date:T", title=None, scale=alt.Scale(domain=[start.isoformat(),
                                                            end.isoformat()]))
    values = pd.concat([scale["ci_low"], scale["ci_high"], scale["mean"], classes["mean"]])
    y_scale = alt.Scale(domain=[float(values.min()) - 0.1, float(values.max()) + 0.1],
                        nice=False)
    y = alt.Y("mean:Q", title=scale_label, scale=y_scale)
    kind = alt.Color("kind:N", title=None, scale=alt.Scale(domain=kinds, range=colours))
    steps = (milestones.sort_values("date")[["date", "label"]].assign(kind=kinds[2])
             if milestones is not None and len(milestones) else pd.DataFrame(
                 columns=["date", "label", "kind"]))
    steps = steps.assign(date=pd.to_datetime(steps["date"]))
    steps = steps.loc[(steps["date"] >= start) & (steps["date"] <= end)]
    band = alt.Chart(scale).mark_area(opacity=0.18, color=colours[0]).encode(
        x=x, y=alt.Y("ci_low:Q", title=scale_label, scale=y_scale), y2="ci_high:Q")
    line = alt.Chart(scale).mark_line(point=alt.OverlayMarkDef(size=50, filled=True)).encode(
        x=x, y=y, color=kind,
        tooltip=[alt.Tooltip("date:T", title="Pulse"), alt.Tooltip("mean:Q", format=".2f"),
                 alt.Tooltip("n:Q", title="Officers")])
    layers = [band, line]
    if len(classes):
        layers.append(alt.Chart(classes).mark_point(shape="triangle-up", size=90, filled=True)
                      .encode(x=x, y=y, color=kind, tooltip=[
                          alt.Tooltip("label:N", title="Class, after training"),
                          alt.Tooltip("mean:Q", format=".2f")]))
    rules = alt.Chart(steps).mark_rule(strokeDash=[2, 2]).encode(
        x=x, color=kind, tooltip=[alt.Tooltip("label:N", title="Step"),
                                  alt.Tooltip("date:T", title="Done")])
    top = alt.layer(*layers, rules).properties(width=520, height=170)
    measures = sorted(counts["measure_label"].unique())
    measure = {"title": "Program figure", "sort": measures}
    bottom = alt.layer(
        alt.Chart(counts).mark_line(color="#1b1f24", point=alt.OverlayMarkDef(
            color="#1b1f24", filled=True)).encode(
            x=x, y=alt.Y("value:Q", title="Per month"),
            strokeDash=alt.StrokeDash("measure_label:N", **measure, scale=alt.Scale(
                domain=measures, range=[[1, 0], [6, 3], [2, 2], [8, 3, 2, 3]][:len(measures)])),
            shape=alt.Shape("measure_label:N", **measure, scale=alt.Scale(
                domain=measures, range=SERIES_SHAPES[:len(measures)])),
            tooltip=[alt.Tooltip("date:T", title="Month", format="%B %Y"),
                     alt.Tooltip("measure_label:N", title="Measure"),
                     alt.Tooltip("value:Q", title="Count")]),
        rules).properties(width=520, height=150)
    chart = alt.vconcat(top, bottom, spacing=12).resolve_scale(x="shared", color="shared")
    return _base(chart, title)


def _outcomes(construct, better: dict | None) -> list[tuple[str, str]]:
    """(outcome key, column suffix) left to right for one construct."""
    if better is None:
        return [("lower", "lower"), ("none", "none"), ("higher", "higher")]
    if better.get(construct) not in ("higher", "lower"):
        raise ValueError(f"better must say 'higher' or 'lower' for {construct!r}")
    worse = "lower" if better[construct] == "higher" else "higher"
    return [("worse", worse), ("none", "none"), ("improved", better[construct])]


def reliable_change_bars(table: pd.DataFrame, *, label: str = "construct_label",
                         better: dict | None = None, labels: dict | None = None,
                         title: str | None = None, description: str | None = None
                         ) -> alt.Chart:
    """One stacked bar per scale: the shares of officers reliably lower, unchanged, higher.

    `table` has the columns of :func:`analysis.reliable_change.reliable_change` with
    ``construct`` as a column, plus `label` (else the construct is shown). Without `better`
    the outcomes stay neutral (reliably lower / higher on the scale); with `better`, a mapping
    construct → ``"higher"`` or ``"lower"`` (for stigma, lower is better), they read worse /
    improved. `labels` renames outcomes (keys ``"lower"``, ``"none"``, ``"higher"``, or
    ``"worse"``, ``"none"``, ``"improved"``). Shares of 8% or more are printed on the bar, so
    colour is not the only cue. Rows without shares (or withheld) are not drawn.
    """
    data = _shown(table).dropna(subset=["share_none"])
    styles = CHANGE_STYLES["neutral" if better is None else "valued"]
    names = {key: (labels or {}).get(key, text) for key, (text, _) in styles.items()}
    rows = []
    for _, row in data.iterrows():
        x0 = 0.0
        for key, column in _outcomes(row["construct"], better):
            share = float(row[f"share_{column}"])
            rows.append({label: row.get(label, row["construct"]), "outcome": names[key],
                         "share": share, "count": int(row[f"n_{column}"]), "n": int(row["n"]),
                         "x0": x0, "x1": x0 + share, "dark": key != "none"})
            x0 += share
    bars = pd.DataFrame(rows, columns=[label, "outcome", "share", "count", "n", "x0", "x1",
                                       "dark"])
    order = [names[key] for key in styles]
    base = alt.Chart(bars).encode(y=alt.Y(f"{label}:N", title=None,
                                          sort=list(dict.fromkeys(bars[label]))))
    segments = base.mark_bar(height={"band": 0.7}).encode(
        x=alt.X("x0:Q", title="Share of linked officers", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        x2="x1:Q",
        color=alt.Color("outcome:N", title=None, sort=order,
                        scale=alt.Scale(domain=order, range=[c for _, c in styles.values()])),
        tooltip=[alt.Tooltip(f"{label}:N", title="Scale"), alt.Tooltip("outcome:N"),
                 alt.Tooltip("share:Q", title="Share", format=".0%"),
                 alt.Tooltip("count:Q", title="Officers"),
                 alt.Tooltip("n:Q", title="Linked officers")])
    text = base.mark_text(font=FONT, fontWeight="bold").encode(
        x="mid:Q", text=alt.Text("share:Q", format=".0%"),
        color=alt.condition(alt.datum.dark, alt.value("#ffffff"), alt.value("#1b1f24")),
    ).transform_calculate(mid="(datum.x0 + datum.x1) / 2").transform_filter(
        alt.datum.share >= 0.08)
    chart = alt.layer(segments, text).properties(
        width=420, height=alt.Step(28),
        description=description or ("Share of linked officers whose score changed by more "
                                    "than measurement error, per scale."))
    return _base(chart, title)


def trajectory_chart(table: pd.DataFrame, *, label: str = "construct_label",
                     time: str = "time_point", series: str | None = None,
                     title: str | None = None, description: str | None = None) -> alt.Chart:
    """Change from before training at each later time point, with intervals, one panel per scale.

    `table` has `time`, ``mean_diff``, ``ci_low``, ``ci_high`` and `label`, as from
    :func:`analysis.trajectory.trajectory` or :func:`analysis.trajectory.pooled_trajectory`
    plus a label column; time points are drawn in the order of their categories (an ordered
    categorical, as those functions give) or of first appearance. `series` (optional) names a
    column to tell apart several lines, such as cohorts and the pooled model estimate; they are
    coloured, shaped and set side by side. Zero, no change from before, is a dashed rule.
    """
    data = _shown(table).dropna(subset=["mean_diff"])
    column = table[time]
    order = ([str(c) for c in column.cat.categories if (column == c).any()]
             if isinstance(column.dtype, pd.CategoricalDtype)
             else list(dict.fromkeys(map(str, column))))
    data[time] = data[time].astype(str)
    panel = label if label in data.columns else "construct"
    encode, shape, colour = {}, {}, {"color": "#0b4f8a"}
    if series is not None:
        kinds = list(dict.fromkeys(data[series].astype(str)))
        data[series] = data[series].astype(str)
        encode = {"color": alt.Color(f"{series}:N", title=None, sort=kinds, scale=alt.Scale(
                      domain=kinds, range=SERIES_COLOURS[:len(kinds)])),
                  "xOffset": alt.XOffset(f"{series}:N", sort=kinds)}
        shape = {"shape": alt.Shape(f"{series}:N", title=None, sort=kinds, scale=alt.Scale(
                     domain=kinds, range=SERIES_SHAPES[:len(kinds)]))}
        colour = {}
    base = alt.Chart().encode(x=alt.X(f"{time}:N", title=None, sort=order,
                                      axis=alt.Axis(labelAngle=0, labelLimit=140)), **encode)
    ci = base.mark_rule(strokeWidth=2, **colour).encode(
        y=alt.Y("ci_low:Q", title="Change (scale points)"),
        y2="ci_high:Q").transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)")
    tips = [alt.Tooltip(f"{time}:N", title="Time point"),
            alt.Tooltip("mean_diff:Q", format="+.2f", title="Change"),
            alt.Tooltip("ci_low:Q", format="+.2f", title="CI from"),
            alt.Tooltip("ci_high:Q", format="+.2f", title="CI to")]
    if "n" in data.columns:
        tips.append(alt.Tooltip("n:Q", title="Officers"))
    if series is not None:
        tips.insert(0, alt.Tooltip(f"{series}:N", title="Series"))
    point = base.mark_point(filled=True, size=80, opacity=1, **colour).encode(
        y="mean_diff:Q", tooltip=tips, **shape)
    zero = alt.Chart().mark_rule(strokeDash=[4, 3], color="#424242").encode(y=alt.datum(0))
    chart = alt.layer(zero, ci, point, data=data).properties(width=360, height=180)
    chart = chart.facet(row=alt.Row(f"{panel}:N", title=None, header=alt.Header(
        labelAngle=0, labelAlign="left", labelOrient="top", labelFont=FONT,
        labelFontWeight="bold")), spacing=18).properties(
        description=description or ("Change from before training at each later time point "
                                    "with confidence intervals, one panel per scale; the "
                                    "dashed line is no change."))
    return _base(chart, title)
