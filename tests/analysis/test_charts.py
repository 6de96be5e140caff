"""Charts: valid Vega-Lite, rendered offline with marks, and nothing withheld drawn as a value."""
import json
import re

import numpy as np
import pandas as pd
import pytest
import vl_convert

from analysis import charts
from analysis.suppression import suppress


def render(chart) -> str:
    return vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=charts.vega_lite_version())


def marks(svg: str, kind: str) -> int:
    return len(re.findall(rf'class="mark-{kind}', svg))


def labels(svg: str, kind: str) -> list[list[str]]:
    """The aria labels of the items of each `kind` mark group, one list per group: what each
    drawn point, line or rule says it shows."""
    groups = re.findall(rf'<g class="mark-{kind} role-mark[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    return [re.findall(r'aria-label="([^"]*)"', group) for group in groups]


def x_of(svg: str, label_start: str) -> float:
    match = re.search(rf'aria-label="{re.escape(label_start)}[^"]*"[^>]*'
                      r'transform="translate\(([-\d.]+),', svg)
    assert match, label_start
    return float(match.group(1))


@pytest.fixture
def distribution():
    rows = []
    for item, label in [("STG01", "Addiction is a moral failing"), ("STG02", "Could quit")]:
        for wave, shares in [("Before", [.1, .2, .2, .3, .2]), ("After", [.3, .3, .2, .1, .1])]:
            for value, share in enumerate(shares, start=1):
                rows.append({"item": item, "item_label": label, "wave_label": wave,
                             "value": value, "share": share, "n": share * 20, "n_item": 20})
    return pd.DataFrame(rows)


def test_agreement_bars_diverge_around_zero(distribution):
    chart = charts.agreement_bars(distribution)
    spec = chart.to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    before = [v for v in values if v["item"] == "STG01" and v["wave_label"] == "Before"]
    neutral = next(v for v in before if v["value"] == 3)
    assert neutral["x0"] == pytest.approx(-0.1) and neutral["x1"] == pytest.approx(0.1)
    assert min(v["x0"] for v in before) == pytest.approx(-0.4)
    assert max(v["x1"] for v in before) == pytest.approx(0.6)
    svg = render(chart)
    assert marks(svg, "rect") >= 1 and svg.count("<path") >= 20


def test_dumbbell_renders_means_and_intervals():
    summary = pd.DataFrame({"construct_label": ["Stigma", "Stigma", "Intention", "Intention"],
                            "wave_label": ["Before", "After"] * 2, "mean": [3.4, 2.9, 3.0, 3.5],
                            "ci_low": [3.2, 2.7, 2.8, 3.3], "ci_high": [3.6, 3.1, 3.2, 3.7]})
    svg = render(charts.scale_dumbbell(summary))
    points = [label for group in labels(svg, "symbol") for label in group]
    means = {re.search(r"construct_label: (\w+); wave_label: (\w+)", p).groups():
             float(re.search(r"mean: ([\d.]+)", p).group(1)) for p in points}
    assert len(points) == 4 and means == {("Stigma", "Before"): 3.4, ("Stigma", "After"): 2.9,
                                          ("Intention", "Before"): 3.0,
                                          ("Intention", "After"): 3.5}
    # each mean drawn where its value is: x grows with the mean, by the same scale
    xs = {mean: x_of(svg, f"mean: {mean:g};") for mean in (2.9, 3.0, 3.4, 3.5)}
    per_unit = (xs[3.5] - xs[2.9]) / 0.6
    assert per_unit > 0
    for mean, x in xs.items():
        assert x == pytest.approx(xs[2.9] + (mean - 2.9) * per_unit, abs=0.5)
    intervals = [label for group in labels(svg, "rule") for label in group]
    assert len(intervals) == 4 and any("3.2" in i and "ci_high: 3.6" in i for i in intervals)


def test_forest_plot_leaves_out_withheld_cohorts():
    changes = pd.DataFrame({"cohort": [1, 2, 3], "cohort_label": ["Day", "Night", "Tiny"],
                            "construct": "stigma", "construct_label": "Stigma",
                            "n": [30, 24, 3], "mean_diff": [-0.5, -0.2, -1.4],
                            "ci_low": [-0.7, -0.45, -2.0], "ci_high": [-0.3, 0.05, -0.8]})
    shown = suppress(changes, k=5)
    spec = json.dumps(charts.forest_plot(shown).to_dict())
    assert "Night" in spec and "Tiny" not in spec and "-1.4" not in spec
    svg = render(charts.forest_plot(shown))
    assert svg.count("<path") >= 5


def test_trend_chart_draws_limits_flags_and_milestones():
    series = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=6, freq="MS"),
                           "mean": [3.0, 3.1, 2.9, 3.0, 3.6, 3.1], "n": 40,
                           "ci_low": [2.8] * 6, "ci_high": [3.3] * 6, "centre": 3.1,
                           "ucl": 3.5, "lcl": 2.7,
                           "beyond": [False, False, False, False, True, False]})
    milestones = pd.DataFrame({"date": [pd.Timestamp("2026-04-15")],
                               "label": ["Referrals became a performance metric"]})
    chart = charts.trend_chart(series, milestones)
    svg = render(chart)
    lines = [group[0] for group in labels(svg, "line") if group]
    for limit in ("ucl: 3.5", "lcl: 2.7", "centre: 3.1"):  # the control limits and centre line
        assert any(limit in line for line in lines), limit
    groups = labels(svg, "symbol")
    pulses = next(g for g in groups if len(g) == 6)  # every pulse mean, in order
    assert [float(re.search(r"mean: ([\d.]+)", p).group(1)) for p in pulses] \
        == [3.0, 3.1, 2.9, 3.0, 3.6, 3.1]
    # the one point beyond the limits is flagged, and only it
    flagged = [g for g in groups if len(g) == 1 and "Rule: beyond the limits" in g[0]]
    assert len(flagged) == 1 and "mean: 3.6" in flagged[0][0]
    assert ["date: Apr 15, 2026"] in groups  # the milestone's marker, on its date
    assert "Referrals became a performance metric" in svg


def test_heat_map_marks_withheld_cells_without_their_value():
    table = suppress(pd.DataFrame({"unit": ["North", "South", "K9"], "construct": "stigma",
                                   "construct_label": "Stigma", "n": [20, 12, 2],
                                   "mean": [3.2, 2.8, 4.9]}), k=5, groups=["construct"])
    svg = render(charts.heat_map(table))
    assert svg.count(">withheld<") == 2 and "4.90" not in svg and "2.80" not in svg
    assert "3.20" in svg


def test_charts_load_nothing_from_the_internet(distribution):
    spec = json.dumps(charts.agreement_bars(distribution).to_dict())
    assert "http" not in spec.replace("https://vega.github.io/schema", "")


def symbols_drawn(svg: str) -> int:
    import xml.etree.ElementTree as ET
    root = ET.fromstring(svg)
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g")
              if "mark-symbol" in (g.get("class") or "")]
    return sum(len(list(g.iter("{http://www.w3.org/2000/svg}path"))) for g in groups)


def test_forest_plot_draws_each_cohort_once_per_scale():
    changes = pd.DataFrame({"cohort": [1, 2, 1, 2], "cohort_label": ["Day", "Night"] * 2,
                            "construct": ["stigma", "stigma", "intention", "intention"],
                            "construct_label": ["Stigma", "Stigma", "Intention", "Intention"],
                            "n": 20, "mean_diff": [-0.5, -0.2, 0.3, 0.1],
                            "ci_low": [-0.7, -0.4, 0.1, -0.1], "ci_high": [-0.3, 0.0, 0.5, 0.3]})
    assert symbols_drawn(render(charts.forest_plot(changes))) == 4


@pytest.fixture
def reliable():
    return pd.DataFrame({"construct": ["stigma", "intent"], "construct_label": ["Stigma",
                                                                                "Intention"],
                         "n": [40, 20], "n_higher": [4, 12], "n_none": [26, 6],
                         "n_lower": [10, 2], "share_higher": [0.1, 0.6],
                         "share_none": [0.65, 0.3], "share_lower": [0.25, 0.1]})


def drawn(svg: str, kind: str = "symbol") -> int:
    """Data marks of one kind drawn (legend symbols not counted)."""
    import xml.etree.ElementTree as ET
    groups = [g for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g")
              if f"mark-{kind} role-mark" in (g.get("class") or "")]
    return sum(len([e for e in g if e.tag.endswith(("path", "line"))]) for g in groups)


def chart_rows(chart) -> list[dict]:
    spec = chart.to_dict()
    return [row for values in spec["datasets"].values() for row in values]


def test_reliable_change_bars_stay_neutral_without_a_direction(reliable):
    chart = charts.reliable_change_bars(reliable)
    rows = chart_rows(chart)
    stigma = [r for r in rows if r["construct_label"] == "Stigma"]
    assert [r["outcome"] for r in stigma] == ["Reliably lower", "No reliable change",
                                              "Reliably higher"]
    assert [r["x0"] for r in stigma] == pytest.approx([0, 0.25, 0.9])
    assert stigma[-1]["x1"] == pytest.approx(1)
    spec = json.dumps(chart.to_dict())
    assert "improved" not in spec.lower() and "worse" not in spec.lower()
    assert chart.to_dict()["description"]
    svg = render(chart)
    assert marks(svg, "rect") >= 1 and ">65%<" in svg and ">60%<" in svg


def test_reliable_change_bars_read_better_per_construct(reliable):
    chart = charts.reliable_change_bars(reliable, better={"stigma": "lower",
                                                          "intent": "higher"})
    rows = {(r["construct_label"], r["outcome"]): r for r in chart_rows(chart)}
    # for stigma lower is better, so the 25% reliably lower are the improved
    assert rows[("Stigma", "Reliably improved")]["share"] == 0.25
    assert rows[("Stigma", "Reliably worse")]["count"] == 4
    assert rows[("Intention", "Reliably improved")]["share"] == 0.6
    renamed = charts.reliable_change_bars(reliable, better={"stigma": "lower",
                                                            "intent": "higher"},
                                          labels={"improved": "Better"})
    assert {r["outcome"] for r in chart_rows(renamed)} >= {"Better", "Reliably worse"}
    with pytest.raises(ValueError, match="intent"):
        charts.reliable_change_bars(reliable, better={"stigma": "lower"})
    assert render(chart).count("<path") >= 6


def test_reliable_change_bars_leave_out_withheld_scales(reliable):
    shown = suppress(reliable, k=30)
    spec = json.dumps(charts.reliable_change_bars(shown).to_dict())
    assert "Stigma" in spec and "Intention" not in spec


@pytest.fixture
def changes():
    from analysis.trajectory import _ordered, FOLLOWUP_BINS
    table = pd.DataFrame({
        "construct": ["stigma"] * 2 + ["intent"] * 2, "construct_label": ["Stigma"] * 2
        + ["Intention"] * 2, "time_point": ["post", "follow-up ~6 months"] * 2,
        "n": [30, 22, 30, 21], "mean_diff": [-0.5, -0.3, 0.4, 0.1],
        "ci_low": [-0.8, -0.6, 0.1, -0.2], "ci_high": [-0.2, 0.0, 0.7, 0.4]})
    table["time_point"] = _ordered(table["time_point"], FOLLOWUP_BINS)
    return table


def test_trajectory_chart_draws_each_point_with_its_interval(changes):
    chart = charts.trajectory_chart(changes)
    spec = chart.to_dict()
    assert spec["description"] and "http" not in json.dumps(spec).replace(
        "https://vega.github.io/schema", "")
    svg = render(chart)
    assert drawn(svg) == 4 and marks(svg, "rule") >= 1
    assert "Stigma" in svg and "follow-up ~6 months" in svg


def test_trajectory_chart_layers_the_pooled_model(changes):
    pooled = changes.assign(series="All cohorts (model)", mean_diff=changes["mean_diff"] / 2)
    both = pd.concat([changes.assign(series="This cohort"), pooled], ignore_index=True)
    chart = charts.trajectory_chart(both, series="series")
    svg = render(chart)
    assert drawn(svg) == 8
    assert "All cohorts (model)" in svg
    # a point without an interval is still drawn, its interval left out
    gaps = changes.assign(ci_low=[np.nan, -0.6, 0.1, -0.2])
    svg = render(charts.trajectory_chart(gaps))
    assert drawn(svg) == 4
    assert drawn(svg, "rule") == drawn(render(charts.trajectory_chart(changes)), "rule") - 1


def test_heat_map_shows_better_and_worse_than_the_whole_on_a_diverging_scale():
    """Values spanning 2.4-3.5 all look alike on a 1-5 blue; coloured by the distance from the
    agency's figure (positive = better) they do not, and the legend says which way is which."""
    table = pd.DataFrame({"unit": ["North", "South", "K9"], "construct": "cynicism",
                          "construct_label": "Cynicism", "n": [20, 12, 9],
                          "mean": [2.4, 3.5, 3.0], "withheld": False,
                          "better_than_whole": [0.6, -0.5, 0.0]})
    spec = charts.heat_map(table, difference="better_than_whole").to_dict()
    colour = spec["layer"][0]["encoding"]["color"]["condition"]
    assert colour["field"] == "better_than_whole"
    assert colour["scale"]["scheme"] == "redblue" and colour["scale"]["domain"] == [-0.6, 0.6]
    assert colour["scale"]["domainMid"] == 0 and "better (+)" in colour["title"]
    svg = render(charts.heat_map(table, difference="better_than_whole"))
    fills = dict(re.findall(r'aria-label="[^"]*unit: (\w+);[^"]*"[^>]*fill="(rgb\([^)]*\))"',
                            svg))
    assert "2.40" in svg and "3.50" in svg and "better (+)" in svg
    red, green, blue = (int(v) for v in re.findall(r"\d+", fills["North"]))
    assert blue > red  # better than the whole: blue
    red, green, blue = (int(v) for v in re.findall(r"\d+", fills["South"]))
    assert red > blue  # worse: red


def test_trend_chart_colours_a_signal_by_its_direction_and_breaks_limits_by_phase():
    """A flagged improvement is blue, never red; staged limits draw one line per phase."""
    series = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=6, freq="MS"),
                           "mean": [3.0, 3.1, 2.9, 3.6, 3.6, 3.7], "n": 40,
                           "ci_low": [2.8] * 6, "ci_high": [3.9] * 6,
                           "centre": [3.0] * 3 + [3.63] * 3, "ucl": [3.3] * 3 + [3.9] * 3,
                           "lcl": [2.7] * 3 + [3.4] * 3, "beyond": [False] * 5 + [True],
                           "rule": [""] * 5 + ["beyond the limits"],
                           "signal": [""] * 5 + ["better"], "phase": [0] * 3 + [1] * 3})
    def flagged_fill(svg):
        marks = re.findall(r'<path[^>]*aria-label="[^"]*Rule: beyond the limits[^"]*"[^>]*>', svg)
        assert len(marks) == 1
        return re.search(r'fill="([^"]+)"', marks[0]).group(1).lower()

    svg = render(charts.trend_chart(series))
    assert flagged_fill(svg) == "#2166ac"  # better: blue
    worse = render(charts.trend_chart(series.assign(signal=[""] * 5 + ["worse"])))
    assert flagged_fill(worse) == "#b2182b"  # worse: red
    centre_lines = [g for g in labels(svg, "line") if g and "centre:" in g[0]]
    assert len(centre_lines) == 2  # one centre line per phase
