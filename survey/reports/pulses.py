"""Leadership's dashboard and the officers' results page, assembled from pulses with every
figure under the minimum group size withheld (complementary cells too) before it leaves here."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.outcomes import lagged_correlation
from analysis.scoring import scale_scores
from analysis.suppression import hold_small_changes, suppress
from analysis.trends import control_limits, pulse_summary, trend_slope

from ..bank import current_bank, tracker_steps
from ..models import Agency, StepStatus, TrackerItem
from ..queries import program_figures, pulse_frames, pulse_list
from .common import like_with_like, with_favourable_shares

NOT_GIVEN = "Not given"


@dataclass
class Dashboard:
    k: int
    constructs: pd.DataFrame      # construct: name, what a high score means
    trend: pd.DataFrame           # pulse x construct: mean, CI, n, limits, flags (suppressed)
    glance: pd.DataFrame          # construct: latest mean, change, slope, flag
    pulses: pd.DataFrame          # pulse: date, responses, headcount, participation
    units: pd.DataFrame           # unit x construct for the latest pulse (suppressed)
    shifts: pd.DataFrame          # shift x construct for the latest pulse (suppressed)
    milestones: pd.DataFrame      # date, label: completed culture-change steps
    figures: pd.DataFrame         # month, measure, value
    cohorts: pd.DataFrame         # cohort x construct: post-training mean, for shared scales
    notes: list = field(default_factory=list)  # scales compared on shared statements
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)  # scale x measure x lag: r, CI
    benchmark: pd.DataFrame = field(default_factory=pd.DataFrame)  # scale: among similar agencies

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"trend": self.trend, "at_a_glance": self.glance, "pulses": self.pulses,
                "units": self.units, "shifts": self.shifts, "milestones": self.milestones,
                "program_figures": self.figures, "training_cohorts": self.cohorts,
                "attitudes_and_outcomes": self.outcomes, "benchmark": self.benchmark}

    def outcomes_of(self, construct: str) -> list[dict]:
        """One scale's correlations as the page lays them out: a row per program measure,
        ``measure_label``, ``name`` (the scale's) and ``lags`` (its rows, by lag)."""
        table = self.outcomes
        if table.empty:
            return []
        table = table.loc[table["construct"] == construct]
        return [{"measure_label": part["measure_label"].iloc[0],
                 "name": part["construct_name"].iloc[0],
                 "lags": list(part.sort_values("lag").itertuples())}
                for _, part in table.groupby("measure", sort=True)]


def cohort_points(published: pd.DataFrame, constructs: list[str]) -> pd.DataFrame:
    """Each training cohort's after-training mean on the scales the pulse also measures, as its
    published report shows it (withheld there, withheld here: one disclosure rule for both).

    `published` holds the cohorts' published scale means with ``cohort``, ``cohort_label`` and
    ``date`` added (see :func:`survey.publishing.published_cohort_means`)."""
    columns = ["cohort", "cohort_label", "date", "construct", "n", "mean", "withheld",
               "withheld_reason"]
    if published.empty or not constructs:
        return pd.DataFrame(columns=columns)
    table = published.loc[(published["wave_kind"] == "post")
                          & published["construct"].isin(constructs)]
    return table[columns].reset_index(drop=True)


def milestones(items: dict[str, TrackerItem]) -> pd.DataFrame:
    """Completed steps with their dates, to draw as markers on the trends."""
    labels = {s.code: s.label for s in tracker_steps()}
    rows = [{"date": pd.Timestamp(t.done_on), "label": labels.get(code, code), "code": code}
            for code, t in items.items() if t.status is StepStatus.DONE and t.done_on]
    return pd.DataFrame(rows, columns=["date", "label", "code"]).sort_values("date")


def _breakdown(scores: pd.DataFrame, by: str, names: pd.Series, k: int, wave=None,
               previous: pd.DataFrame | None = None, frozen=()) -> pd.DataFrame:
    """Mean per group and construct in one pulse; groups that add up to the shown agency figure,
    so a hidden group also hides the next-smallest (no recovery by subtraction). A cell shown
    in the previous publication of the same pulse keeps its figures unless it grew by k."""
    part = scores.assign(**{by: scores[by].fillna(NOT_GIVEN)}).dropna(subset=["score"])
    table = (part.groupby([by, "construct"])["score"].agg(n="count", mean="mean")
             .reset_index())
    if previous is not None and len(previous) and "wave" in previous:
        same = previous.loc[previous["wave"] == wave]
        table = hold_small_changes(table, same, keys=[by, "construct"], k=k,
                                   frozen=() if wave not in frozen else set(same[by]))
        table = table.drop(columns="held")
    table["construct_name"] = table["construct"].map(names)
    table = suppress(table, k=k, groups=["construct"])
    table["wave"] = wave
    return table


def _direction(movement: float, favourable: str) -> str:
    """"better", "worse" or "" (no movement): a move up or down read against the construct's
    favourable direction, so that a rise in intention and a fall in cynicism are both better.
    A move that rounds to 0.00, as the pages show it, is no movement: "0.00 (worse)" would
    name a direction nobody can see."""
    if movement != movement or round(movement, 2) == 0:
        return ""
    return "better" if (movement > 0) == (favourable != "lower") else "worse"


def dashboard(agency: Agency, items: dict[str, TrackerItem],
              cohort_means: pd.DataFrame | None = None,
              previous: dict[str, pd.DataFrame] | None = None, frozen=()) -> Dashboard:
    """The dashboard from the agency's sealed pulses (and, for an agency that publishes interim
    snapshots, its open ones) and its cohorts' published means.

    `previous` holds the tables of the dashboard published before: a pulse figure shown there
    keeps its value until at least k more officers stand behind it (see
    :func:`analysis.suppression.hold_small_changes`); pulses in `frozen` keep theirs whatever
    the change (their last snapshot is less than a day old)."""
    k = agency.min_group_size
    published = previous or {}
    answers, meta, waves = pulse_frames(agency.id, open_too=agency.interim_results)
    names = meta.drop_duplicates("construct").set_index("construct")
    constructs = pd.DataFrame({"construct": names.index, "name": names["construct_name"]})
    marks = milestones(items)
    figures = program_figures(agency.id)
    trained = cohort_points(pd.DataFrame() if cohort_means is None else cohort_means,
                            list(current_bank().instruments["pulse"].constructs))
    empty = pd.DataFrame()
    if answers.empty:
        pulses = pulse_list(agency.id, sealed_only=True, open_too=agency.interim_results)
        return Dashboard(k, constructs, empty, empty, pulses, empty, empty, marks, figures,
                         trained)

    answers, meta, notes = like_with_like(answers, meta, list(waves["wave"]), "wave",
                                    "pulse survey versions")
    scores = scale_scores(answers, meta)
    scores = scores.merge(answers.drop_duplicates("response_id")[["response_id", "unit",
                                                                  "shift"]], on="response_id")
    summary = pulse_summary(scores, waves[["wave", "date", "headcount"]])
    summary = hold_small_changes(summary, published.get("trend"), keys=["wave", "construct"],
                                 k=k, frozen=frozen).drop(columns="held")
    summary = suppress(summary, k=k, values=["mean", "sd", "se", "ci_low", "ci_high"])
    shown = summary.loc[~summary["withheld"]]
    # Staged limits: a sustained shift after a completed step starts a phase of its own.
    trend = control_limits(shown, steps=marks.rename(columns={"label": "step"})) \
        if len(shown) else shown.assign(centre=np.nan, ucl=np.nan, lcl=np.nan, beyond=False,
                                        run=False, phase=0, phase_step="", rule="")
    favourable = names["favourable"] if "favourable" in names else pd.Series(dtype=object)
    trend["signal"] = [
        _direction(m - c, favourable.get(k, "higher")) if rule else ""
        for m, c, k, rule in zip(trend["mean"], trend["centre"], trend["construct"],
                                 trend["rule"])]
    trend = pd.concat([trend, summary.loc[summary["withheld"]]], ignore_index=True)
    trend["construct_name"] = trend["construct"].map(names["construct_name"])
    trend = trend.sort_values(["construct", "date"], ignore_index=True)

    slopes = trend_slope(shown) if len(shown) else pd.DataFrame(columns=["construct"])
    glance = []
    for construct, part in trend.loc[~trend["withheld"]].groupby("construct", sort=True):
        last, previous = part.iloc[-1], (part.iloc[-2] if len(part) > 1 else None)
        slope = slopes.set_index("construct").reindex([construct]).iloc[0] \
            if len(slopes) else pd.Series(dtype=float)
        glance.append({
            "construct": construct, "construct_name": names.loc[construct, "construct_name"],
            "wave": last["wave"], "date": last["date"], "mean": last["mean"], "n": last["n"],
            "change": last["mean"] - previous["mean"] if previous is not None else np.nan,
            "slope_per_year": slope.get("slope_per_year", np.nan),
            "slope_ci_low": slope.get("ci_low", np.nan),
            "slope_ci_high": slope.get("ci_high", np.nan),
            "beyond": bool(last.get("beyond", False)), "run": bool(last.get("run", False)),
            "rule": last.get("rule", ""), "phase_step": last.get("phase_step", ""),
            "favourable": names.loc[construct].get("favourable", "higher"),
            "change_direction": _direction(
                last["mean"] - previous["mean"] if previous is not None else np.nan,
                names.loc[construct].get("favourable", "higher")),
            "direction": _direction(last["mean"] - last.get("centre", np.nan),
                                    names.loc[construct].get("favourable", "higher"))})
    glance = pd.DataFrame(glance)
    if len(glance):  # never from an open pulse's snapshot: its figures are held, these are not
        glance = with_favourable_shares(glance, answers, meta,
                                        allowed=waves.loc[waves["sealed"], "wave"])
        glance["sealed"] = glance["wave"].isin(waves.loc[waves["sealed"], "wave"])

    pulses = pulse_list(agency.id, sealed_only=True, open_too=agency.interim_results)

    latest = pulses.loc[pulses["responses"] > 0, "wave"].iloc[-1]
    latest_scores = scores.loc[scores["wave"] == latest]
    units = _breakdown(latest_scores, "unit", names["construct_name"], k, latest,
                       published.get("units"), frozen)
    shifts = _breakdown(latest_scores, "shift", names["construct_name"], k, latest,
                        published.get("shifts"), frozen)
    return Dashboard(k, constructs, trend, glance, pulses, units, shifts, marks, figures,
                     trained, notes, attitudes_and_outcomes(shown, figures, names))


#: Months between a pulse and the program month it is paired with.
OUTCOME_LAGS = (0, 1, 2, 3)


def attitudes_and_outcomes(shown: pd.DataFrame, figures: pd.DataFrame,
                           names: pd.DataFrame) -> pd.DataFrame:
    """Each scale's shown pulse means (withheld ones never) against each program measure's
    monthly count 0 to 3 months later (:func:`analysis.outcomes.lagged_correlation`)."""
    from ..services import PROGRAM_MEASURES
    if shown.empty or figures.empty:
        return pd.DataFrame()
    table = lagged_correlation(shown[["date", "construct", "mean"]], figures, lags=OUTCOME_LAGS)
    table.insert(1, "construct_name", table["construct"].map(names["construct_name"]))
    table.insert(3, "measure_label", table["measure"].map(PROGRAM_MEASURES)
                 .fillna(table["measure"]))
    return table


@dataclass
class Results:
    """What officers see: the agency's latest pulse and what was done about it."""

    k: int
    date: pd.Timestamp | None
    latest: pd.DataFrame          # construct: mean and change since the pulse before
    actions: pd.DataFrame         # "you said, we did": date, step, what officers are told


def officer_results(board: Dashboard, items: dict[str, TrackerItem]) -> Results:
    """The officers' page, from the dashboard's figures (published with it)."""
    labels = {s.code: s.label for s in tracker_steps()}
    actions = pd.DataFrame(
        [{"date": t.done_on, "step": labels.get(code, code), "note": t.shared_note}
         for code, t in items.items() if t.shared_note and t.status is not StepStatus.NOT_STARTED],
        columns=["date", "step", "note"]).sort_values("date", ascending=False, na_position="last")
    if board.glance.empty:
        return Results(board.k, None, board.glance, actions)
    return Results(board.k, board.glance["date"].max(), board.glance, actions)


#: The leadership brief names at most this many movements.
BRIEF_MOVES = 3


def pulse_brief_lines(board: Dashboard) -> list[str]:
    """What moved at the latest published pulse, in words, for the leadership brief: first the
    scales whose latest figure is a control-chart signal (with its rule), then the largest
    changes since the pulse before that round to a direction, each called better or worse by
    its scale's favourable direction; at most :data:`BRIEF_MOVES` lines."""
    glance = board.glance
    if glance.empty:
        return []
    lines = []
    signals = glance.loc[glance["beyond"] | glance["run"]]
    for row in signals.itertuples():
        kind = "beyond the usual range" if row.beyond else "a sustained shift"
        way = f", {row.direction} than usual" if row.direction else ""
        lines.append(f"{row.construct_name} ({row.mean:.2f}): {kind}{way} (rule: {row.rule}).")
    moved = glance.loc[~glance.index.isin(signals.index) & (glance["change_direction"] != "")
                       & glance["change"].notna()]
    for row in moved.reindex(moved["change"].abs().sort_values(ascending=False).index)\
            .itertuples():
        way = "rose" if row.change > 0 else "fell"
        lines.append(f"{row.construct_name} {way} by {abs(row.change):.2f} since the pulse "
                     f"before ({row.change_direction}), now {row.mean:.2f}.")
    if not lines and glance["change"].notna().any():
        lines.append("No scale moved since the pulse before, and every one is within its "
                     "usual range.")
    elif not lines:
        lines.append("This is the first published pulse: the next one will show what moved.")
    return lines[:BRIEF_MOVES]
