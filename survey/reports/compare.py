"""Comparing cohorts: each class's change per scale, the tests for differences between classes,
reliable change per class and the pooled trajectory."""
from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.compare import between_cohorts, cohort_changes
from analysis.meta import random_effects
from analysis.scoring import scale_scores
from analysis.suppression import suppress
from analysis.trajectory import BOUNDARY_NOTE, pooled_trajectory, time_points

from ..models import Cohort
from ..queries import compare_frames
from .common import SHARES, like_with_like, reliability_choice, reliable_table, withhold


NOT_CONVERGED = "the model did not converge, so no estimate is shown"


@dataclass
class Comparison:
    k: int
    cohorts: pd.DataFrame          # the cohorts picked, with their linked n
    changes: pd.DataFrame          # cohort x construct change with CI (forest plot rows)
    tests: pd.DataFrame            # construct: between-cohort tests
    notes: list[str] = field(default_factory=list)  # scales compared on shared statements
    reliable: pd.DataFrame = field(default_factory=pd.DataFrame)  # cohort x construct
    pooled: pd.DataFrame = field(default_factory=pd.DataFrame)    # construct x time point
    across: pd.DataFrame = field(default_factory=pd.DataFrame)    # construct: random effects

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"cohorts": self.cohorts, "changes": self.changes, "tests": self.tests,
                "reliable_change": self.reliable, "pooled_trajectory": self.pooled,
                "across_classes": self.across}

    def _boundary(self) -> pd.Series:
        return self.pooled["fit_warning"].eq(BOUNDARY_NOTE)

    def main_model(self) -> str:
        """The pooled model in words: the mixed model, unless every scale's fit was a boundary
        fit."""
        mixed = self.pooled.loc[~self._boundary(), "model"]
        return (mixed if len(mixed) else self.pooled["model"]).iloc[0]

    def boundary_note(self) -> str:
        """One sentence naming the scales whose officer variance was estimated at zero, and the
        model shown for them instead."""
        hit = self.pooled.loc[self._boundary()]
        if hit.empty:
            return ""
        scales = ", ".join(dict.fromkeys(hit["construct_name"]))
        return f"{scales}: {BOUNDARY_NOTE} Model: {hit['model'].iloc[0]}."

    def not_converged(self) -> list[str]:
        """The scales whose pooled mixed model did not converge (no estimate shown)."""
        if self.pooled.empty:
            return []
        stalled = self.pooled.loc[~self.pooled["converged"].astype(bool), "construct_name"]
        return list(dict.fromkeys(stalled))


def compare_cohorts(cohorts: list[Cohort], k: int,
                    published: pd.DataFrame | None = None) -> Comparison:
    """Each cohort's change per scale, and whether cohorts differ; small cohorts not plotted.
    `published`: the cohorts' published scale means (see
    :func:`survey.publishing.published_cohort_means`), whose after-training favourable shares
    stand beside each change as the class's report shows them (withheld there, withheld
    here)."""
    answers, items = compare_frames(cohorts)
    names = items.drop_duplicates("construct").set_index("construct")["construct_name"]
    listing = pd.DataFrame([{"cohort": c.id, "cohort_label": f"{c.name} ({c.held_on:%d %b %Y})",
                             "held_on": c.held_on, "trainer": c.trainer.name if c.trainer else "",
                             "topics": ", ".join(c.topic_codes)} for c in cohorts])
    if answers.empty:
        return Comparison(k, listing, pd.DataFrame(), pd.DataFrame())
    answers, items, notes = like_with_like(answers, items, sorted(answers["wave"].unique()),
                                           "cohort", "the classes' survey versions")
    scores = scale_scores(answers, items)
    changes = cohort_changes(scores)
    changes["variance"] = changes["sd_diff"] ** 2 / changes["n"]  # of the mean change
    changes = changes.merge(listing[["cohort", "cohort_label"]], on="cohort")
    changes["construct_name"] = changes["construct"].map(names)
    estimates = ["mean_diff", "ci_low", "ci_high", "d_z", "g_av", "p_val"]
    changes = suppress(changes[["cohort", "cohort_label", "construct", "construct_name", "n",
                                *estimates, "variance"]], k=k,
                       values=[*estimates, "variance"])  # the class id stays
    across = _across_classes(changes, names)
    changes = _after_training_shares(changes, published)
    tests = between_cohorts(scores, min_n=k)
    if len(tests):
        tests = tests.reset_index().assign(construct_name=lambda t: t["construct"].map(names))
    linked = changes.groupby("cohort")["n"].max()
    listing["linked"] = listing["cohort"].map(linked)
    listing["plotted"] = listing["cohort"].isin(set(changes.loc[~changes["withheld"], "cohort"]))
    reliable = _compare_reliable(answers, items, scores, listing, k)
    pooled = _pooled_table(scores, changes, names, k)
    return Comparison(k, listing, changes.drop(columns="variance"), tests, notes, reliable,
                      pooled, across)


def _across_classes(changes: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """Per scale, the shown classes' mean changes pooled under a random-effects model
    (:func:`analysis.meta.random_effects`, Paule-Mandel): the typical change, how much classes
    differ (tau², I²) and the range to expect from the next class. Withheld classes take no
    part, so the pooled figures say nothing the page does not already show."""
    shown = changes.loc[~changes["withheld"].astype(bool)]
    rows = [random_effects(part, effect="mean_diff").assign(construct=construct)
            for construct, part in shown.groupby("construct", sort=True)]
    if not rows:
        return pd.DataFrame()
    out = pd.concat(rows, ignore_index=True)
    out = out.loc[out["k"] >= 2]
    out.insert(0, "construct_name", out["construct"].map(names))
    return out[["construct", *[c for c in out.columns if c != "construct"]]]


def _after_training_shares(changes: pd.DataFrame, published: pd.DataFrame | None
                           ) -> pd.DataFrame:
    """`changes` with each class's after-training favourable, neutral and unfavourable shares
    from its published report (blank where the report shows none)."""
    have = published is not None and len(published) and set(SHARES) <= set(published)
    after = (published.loc[published["wave_kind"] == "post", ["cohort", "construct", *SHARES]]
             if have else pd.DataFrame(columns=["cohort", "construct", *SHARES]))
    out = changes.merge(after.astype({s: float for s in SHARES}), on=["cohort", "construct"],
                        how="left")
    out.loc[out["withheld"].astype(bool), SHARES] = np.nan
    return out


def _compare_reliable(answers, items, scores, listing, k) -> pd.DataFrame:
    """Each cohort's reliable change per scale, its reliability chosen from its own answers."""
    parts = []
    labels = listing.set_index("cohort")["cohort_label"]
    for cohort, part in scores.groupby("cohort", sort=True):
        if not {"pre", "post"} <= set(part["wave_kind"]):
            continue
        own = answers.loc[answers["cohort"] == cohort]
        offered = items.loc[items["item"].isin(own["item"].unique())]
        table = reliable_table(part, reliability_choice(own, offered), offered, k)
        parts.append(table.assign(cohort=cohort, cohort_label=labels.get(cohort, "")))
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    first = ["cohort", "cohort_label", "construct", "construct_name"]
    return out[first + [c for c in out.columns if c not in first]]


def _time_label(point: str) -> str:
    """A time point of :func:`analysis.trajectory.time_points` as the page names it."""
    return "After training" if point == "post" else point[0].upper() + point[1:]


def _pooled_fit(part: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.trajectory.pooled_trajectory` for one construct. A fit during which numpy
    warned (an overflow or a log of zero on the way) is treated as not converged, its warning
    kept in ``fit_warning``; other warnings pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = pooled_trajectory(part)
    numeric = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    for other in (w for w in caught if not issubclass(w.category, RuntimeWarning)):
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if numeric and len(table):
        table["converged"] = False
        table["fit_warning"] = "; ".join(dict.fromkeys(
            [w for w in table["fit_warning"].iloc[:1] if w] + numeric))
    return table


def _pooled_table(scores: pd.DataFrame, changes: pd.DataFrame, names: pd.Series, k: int
                  ) -> pd.DataFrame:
    """The pooled trajectory (mixed model) across the cohorts, for cohorts with follow-ups.

    So that no small group can be worked out from the pooled estimate and the cohorts' own
    figures, a scale's model uses only the cohorts shown in the forest plot for that scale, and
    within each only the time points at least k of its officers answered; an estimate resting on
    fewer than k officers is withheld, and so is every estimate of a model that did not converge.
    """
    if not (scores["wave_kind"] == "followup").any():
        return pd.DataFrame()
    used = scores.loc[scores["wave_kind"].isin(["pre", "post", "followup"])
                      & scores["linkage_key"].notna() & scores["score"].notna()].copy()
    shown = set(zip(changes.loc[~changes["withheld"], "cohort"],
                    changes.loc[~changes["withheld"], "construct"]))
    used = used.loc[[(c, s) in shown for c, s in zip(used["cohort"], used["construct"])]]
    if used.empty:
        return pd.DataFrame()
    used["time_point"] = time_points(used).astype(str)
    size = used.groupby(["cohort", "construct", "time_point"])["linkage_key"].transform("nunique")
    used = used.loc[size >= k].drop(columns="time_point")
    if not (used["wave_kind"] == "followup").any():
        return pd.DataFrame()
    table = pd.concat([_pooled_fit(part) for _, part in used.groupby("construct", sort=True)
                       if part["score"].nunique() > 1],  # all answers alike: nothing to model
                      ignore_index=True) if len(used) else pd.DataFrame()
    if table.empty:
        return pd.DataFrame()
    table.insert(1, "construct_name", table["construct"].map(names))
    order = [_time_label(t) for t in table["time_point"].cat.categories if t != "pre"]
    table["time_label"] = pd.Categorical(table["time_point"].astype(str).map(_time_label),
                                         categories=order, ordered=True)
    table["time_point"] = table["time_point"].astype(str)
    estimates = ["mean_diff", "se", "ci_low", "ci_high", "p_val", "var_officer",
                 "var_residual"]
    table = suppress(table, k=k, values=estimates)
    return withhold(table, ~table["converged"].astype(bool), NOT_CONVERGED, values=estimates)


def filter_cohorts(cohorts: list[Cohort], *, trainer_id=None, topic=None,
                   start: dt.date | None = None, end: dt.date | None = None) -> list[Cohort]:
    """The cohorts matching the compare page's filters."""
    return [c for c in cohorts
            if (not trainer_id or c.trainer_id == trainer_id)
            and (not topic or topic in c.topic_codes)
            and (not start or c.held_on >= start) and (not end or c.held_on <= end)]
