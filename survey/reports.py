"""Reports assembled from the loader and `analysis/`, with small groups withheld before anything
leaves this module: pages, charts and exports all read what these functions return.

Differencing: a page never shows the before/after means of linked officers beside the means of
all respondents (the difference would reveal the unlinked few); linked officers appear only
through their change.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.change import change_report, retention
from analysis.compare import between_cohorts, cohort_changes
from analysis.matching import match_summary
from analysis.reliability import scale_alpha
from analysis.scoring import common_items, item_distribution, scale_scores
from analysis.suppression import suppress
from analysis.trends import pulse_summary

from .instruments import instrument_label
from .models import Cohort, WaveKind
from .queries import cohort_frames, compare_frames, offered_items

WAVE_ORDER = {WaveKind.PRE: 0, WaveKind.POST: 1, WaveKind.FOLLOWUP: 2}


def magnitude(effect: float) -> str:
    """Cohen's (1988) benchmarks for a standardised difference, in words."""
    size = abs(effect)
    if np.isnan(size):
        return "unknown"
    return ("negligible" if size < 0.2 else "small" if size < 0.5
            else "medium" if size < 0.8 else "large")


@dataclass
class CohortReport:
    cohort: Cohort
    k: int
    waves: pd.DataFrame            # one row per wave: label, kind, n responses, linked
    means: pd.DataFrame            # construct x wave: n, mean, CI (all respondents)
    change: pd.DataFrame           # construct: linked change and the unlinked remainder
    followup: pd.DataFrame         # follow-up x construct: change since post
    alpha: pd.DataFrame            # construct x wave
    items: pd.DataFrame            # item x wave: agreement distribution
    sentences: list[str] = field(default_factory=list)
    distribution: pd.DataFrame | None = None  # item x wave x point, for the agreement chart

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report, as the exports write them."""
        return {"waves": self.waves, "scale_means": self.means, "change": self.change,
                "follow_up": self.followup, "reliability": self.alpha,
                "item_agreement": self.items}


def _wave_frame(cohort: Cohort, counts: pd.Series, linked: pd.Series) -> pd.DataFrame:
    waves = sorted(cohort.waves, key=lambda w: (WAVE_ORDER[w.kind], w.followup_days or 0))
    return pd.DataFrame([{
        "wave": w.id, "wave_label": w.label, "wave_kind": w.kind.value,
        "followup_days": w.followup_days, "join_code": w.join_code,
        "date": (w.opens_at.date() if w.opens_at else cohort.held_on),
        "responses": int(counts.get(w.id, 0)), "linked": int(linked.get(w.id, 0)),
        "survey_version": instrument_label(w.instrument),
    } for w in waves])


def cohort_report(cohort: Cohort) -> CohortReport:
    """The trainer's report for one cohort, small groups withheld."""
    k = cohort.agency.min_group_size
    data = cohort_frames(cohort)
    answers, items = data.answers, data.items
    names = items.drop_duplicates("construct").set_index("construct")["construct_name"]
    counts = answers.groupby("wave")["response_id"].nunique()
    summary = match_summary(data.matches) if len(data.matches) else pd.DataFrame()
    linked = (summary.set_index("wave")[["n_exact", "n_tolerant"]].sum(axis=1)
              if len(summary) else pd.Series(dtype=int))
    waves = _wave_frame(cohort, counts, linked)
    label = waves.set_index("wave")["wave_label"]
    if answers.empty:
        empty = pd.DataFrame()
        return CohortReport(cohort, k, waves, empty, empty, empty, empty, empty,
                            ["No answers yet."])

    scores = scale_scores(answers, items)
    means = pulse_summary(scores, waves[["wave", "date"]])
    means = means.assign(wave_label=means["wave"].map(label),
                         construct_name=means["construct"].map(names))
    means = suppress(means[["construct", "construct_name", "wave", "wave_label", "n", "mean",
                            "ci_low", "ci_high"]], k=k)

    change = _change_table(scores, names, k)
    followup = pd.DataFrame()
    if (scores["wave_kind"] == "followup").any() and (scores["wave_kind"] == "post").any():
        followup = retention(scores).assign(construct_name=lambda f: f["construct"].map(names))
        followup = suppress(followup[["followup_days", "construct", "construct_name", "n",
                                      "mean_diff", "ci_low", "ci_high", "p_val", "p_adj"]], k=k)

    alpha = scale_alpha(answers, items)
    alpha = suppress(alpha.assign(wave_label=alpha["wave"].map(label),
                                  construct_name=alpha["construct"].map(names)), k=k)

    dist = item_distribution(answers, items)
    agree = (dist.assign(agree=dist["value"] >= 4)
             .groupby(["wave", "item", "construct"], sort=False)
             .apply(lambda g: pd.Series({"n": g["n"].sum(),
                                          "agree": g.loc[g["agree"], "n"].sum()}),
                    include_groups=False).reset_index())
    agree["agree_share"] = agree["agree"] / agree["n"].where(agree["n"] > 0)
    agree = agree.merge(items[["item", "text"]], on="item")
    agree["wave_label"] = agree["wave"].map(label)
    agree = suppress(agree.drop(columns="agree"), k=k, values=["agree_share"])
    dist = dist.merge(agree[["wave", "item", "withheld"]], on=["wave", "item"])
    report = CohortReport(cohort, k, waves, means, change, followup, alpha, agree)
    report.sentences = _sentences(report)
    report.distribution = dist.assign(wave_label=dist["wave"].map(label)).merge(
        items[["item", "text"]], on="item")
    return report


def _change_table(scores: pd.DataFrame, names: pd.Series, k: int) -> pd.DataFrame:
    """One row per construct: the linked change, and the unlinked remainder beside it."""
    if not {"pre", "post"} <= set(scores["wave_kind"]):
        return pd.DataFrame()
    full = change_report(scores)
    linked = full.xs("linked", level="analysis")
    rest = full.xs("unlinked", level="analysis")
    table = pd.DataFrame({
        "construct": linked.index, "construct_name": linked.index.map(names),
        "n": linked["n"].to_numpy(), "linkage_rate": linked["linkage_rate"].to_numpy(),
        "mean_diff": linked["mean_diff"].to_numpy(), "ci_low": linked["ci_low"].to_numpy(),
        "ci_high": linked["ci_high"].to_numpy(), "r": linked["r"].to_numpy(),
        "d_z": linked["d_z"].to_numpy(), "d_z_ci_low": linked["d_z_ci_low"].to_numpy(),
        "d_z_ci_high": linked["d_z_ci_high"].to_numpy(), "g_av": linked["g_av"].to_numpy(),
        "g_av_ci_low": linked["g_av_ci_low"].to_numpy(),
        "g_av_ci_high": linked["g_av_ci_high"].to_numpy(), "t": linked["t"].to_numpy(),
        "p_val": linked["p_val"].to_numpy(), "p_holm": linked["p_adj"].to_numpy(),
        "wilcoxon_p_val": linked["w_p_val"].to_numpy(),
    })
    table["effect"] = table["g_av"].map(magnitude)
    table = suppress(table, k=k)
    unlinked = pd.DataFrame({
        "construct": rest.index, "n": rest[["n_before", "n_after"]].min(axis=1).to_numpy(),
        "unlinked_n_before": rest["n_before"].to_numpy(),
        "unlinked_n_after": rest["n_after"].to_numpy(),
        "unlinked_mean_diff": rest["mean_diff"].to_numpy(),
        "unlinked_ci_low": rest["ci_low"].to_numpy(), "unlinked_ci_high": rest["ci_high"].to_numpy(),
        "unlinked_g": rest["g"].to_numpy(), "unlinked_p_val": rest["p_val"].to_numpy(),
        "unlinked_mwu_p_val": rest["u_p_val"].to_numpy()})
    unlinked = suppress(unlinked, k=k).rename(columns={"withheld": "unlinked_withheld",
                                                       "withheld_reason": "unlinked_reason"})
    return table.merge(unlinked.drop(columns="n"), on="construct")


def _sentences(report: CohortReport) -> list[str]:
    """A few plain sentences a sergeant can read aloud, from shown figures only."""
    out = []
    change = report.change
    if change.empty:
        out.append("The report compares the surveys before and after training once both have "
                   "answers.")
        return out
    shown = change.loc[~change["withheld"]]
    if shown.empty:
        out.append(f"Fewer than {report.k} officers could be linked before and after, so no "
                   "change is reported, to protect their anonymity.")
    for row in shown.sort_values("g_av", key=abs, ascending=False).itertuples():
        if row.ci_low <= 0 <= row.ci_high:
            out.append(f"{row.construct_name}: no clear change ({int(row.n)} linked officers; "
                       f"change {row.mean_diff:+.2f} points, 95% CI {row.ci_low:+.2f} to "
                       f"{row.ci_high:+.2f}).")
        else:
            way = "fell" if row.mean_diff < 0 else "rose"
            out.append(f"{row.construct_name} {way} by {abs(row.mean_diff):.2f} points on the "
                       f"1-5 scale ({int(row.n)} linked officers; 95% CI {row.ci_low:+.2f} to "
                       f"{row.ci_high:+.2f}; {row.effect} effect).")
    items = report.items.loc[~report.items["withheld"]]
    pre = items.loc[items["wave_label"] == "Before training"].set_index("item")
    post = items.loc[items["wave_label"] == "After training"].set_index("item")
    both = pre.join(post, suffixes=("_pre", "_post"), how="inner")
    if len(both):
        both["shift"] = both["agree_share_post"] - both["agree_share_pre"]
        for item in both.reindex(both["shift"].abs().sort_values(ascending=False).index)[:2]\
                .itertuples():
            way = "fell" if item.shift < 0 else "rose"
            out.append(f"Agreement with “{item.text_pre.rstrip('.')}” {way} from "
                       f"{item.agree_share_pre:.0%} to {item.agree_share_post:.0%}.")
    return out


def like_with_like(answers: pd.DataFrame, items: pd.DataFrame, wave_ids: list[int], by: str,
                   between: str) -> tuple[pd.DataFrame, list[str]]:
    """Answers restricted, scale by scale, to the statements every compared survey version
    offered, and a sentence for each scale whose statements changed between `between`."""
    shared = common_items(offered_items(wave_ids), by=by)
    changed = shared.loc[shared["changed"]]
    if changed.empty:
        return answers, []
    keep = {item for row in shared.itertuples() for item in row.items}
    names = items.drop_duplicates("construct").set_index("construct")["construct_name"]
    notes = [f"{names.get(row.construct, row.construct)}: its statements changed between "
             f"{between}, so it is compared on the {len(row.items)} of {row.n_items_all} "
             "statements they share." for row in changed.itertuples()]
    return answers.loc[answers["item"].isin(keep)], notes


# --- Comparing cohorts ---------------------------------------------------------------------------

@dataclass
class Comparison:
    k: int
    cohorts: pd.DataFrame          # the cohorts picked, with their linked n
    changes: pd.DataFrame          # cohort x construct change with CI (forest plot rows)
    tests: pd.DataFrame            # construct: between-cohort tests
    notes: list[str] = field(default_factory=list)  # scales compared on shared statements

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"cohorts": self.cohorts, "changes": self.changes, "tests": self.tests}


def compare_cohorts(cohorts: list[Cohort], k: int) -> Comparison:
    """Each cohort's change per scale, and whether cohorts differ; small cohorts not plotted."""
    answers, items = compare_frames(cohorts)
    names = items.drop_duplicates("construct").set_index("construct")["construct_name"]
    listing = pd.DataFrame([{"cohort": c.id, "cohort_label": f"{c.name} ({c.held_on:%d %b %Y})",
                             "held_on": c.held_on, "trainer": c.trainer.name if c.trainer else "",
                             "topics": ", ".join(c.topic_codes)} for c in cohorts])
    if answers.empty:
        return Comparison(k, listing, pd.DataFrame(), pd.DataFrame())
    answers, notes = like_with_like(answers, items, sorted(answers["wave"].unique()), "cohort",
                                    "the classes' survey versions")
    scores = scale_scores(answers, items)
    changes = cohort_changes(scores)
    changes = changes.merge(listing[["cohort", "cohort_label"]], on="cohort")
    changes["construct_name"] = changes["construct"].map(names)
    changes = suppress(changes[["cohort", "cohort_label", "construct", "construct_name", "n",
                                "mean_diff", "ci_low", "ci_high", "d_z", "g_av", "p_val"]], k=k)
    tests = between_cohorts(scores, min_n=k)
    if len(tests):
        tests = tests.reset_index().assign(construct_name=lambda t: t["construct"].map(names))
    linked = changes.groupby("cohort")["n"].max()
    listing["linked"] = listing["cohort"].map(linked)
    listing["plotted"] = listing["cohort"].map(
        changes.groupby("cohort")["withheld"].apply(lambda w: not w.all())).fillna(False)
    return Comparison(k, listing, changes, tests, notes)


def filter_cohorts(cohorts: list[Cohort], *, trainer_id=None, topic=None,
                   start: dt.date | None = None, end: dt.date | None = None) -> list[Cohort]:
    """The cohorts matching the compare page's filters."""
    return [c for c in cohorts
            if (not trainer_id or c.trainer_id == trainer_id)
            and (not topic or topic in c.topic_codes)
            and (not start or c.held_on >= start) and (not end or c.held_on <= end)]


# --- Response-level data for evaluators ----------------------------------------------------------

WAVE_KIND_CODES = {"pre": 1, "post": 2, "followup": 3}


@dataclass
class ResponseData:
    rows: pd.DataFrame        # one row per response: ids, wave, item answers, scale scores
    codebook: pd.DataFrame    # one row per variable
    notes: list[str]
    value_labels: dict        # variable -> {code: label}, for SPSS


def response_data(cohort: Cohort) -> ResponseData:
    """Every answer of a cohort, one row per response, for an evaluator's own analysis.

    No linkage hash and no database identifier leaves: responses get export-only numbers
    (R0001...) in the order of their random keys, and linked officers an export-only person
    number (P001...). A wave answered by fewer than the minimum group size is left out.
    """
    from analysis.scoring import scale_scores as scores_of
    k = cohort.agency.min_group_size
    data = cohort_frames(cohort)
    answers, items = data.answers, data.items
    waves = {w.id: w for w in cohort.waves}
    notes = []
    counts = answers.groupby("wave")["response_id"].nunique()
    small = [w for w, n in counts.items() if n < k]
    for wave in small:
        notes.append(f"{waves[wave].label}: fewer than {k} responses, left out.")
    answers = answers.loc[~answers["wave"].isin(small)]
    item_codes = list(items["item"])
    constructs = sorted(items["construct"].unique())
    columns = ["respondent", "person", "wave", "wave_kind", "followup_days", "wave_date",
               *item_codes, *[f"score_{c}" for c in constructs]]
    if answers.empty:
        rows = pd.DataFrame(columns=columns)
    else:
        wide = answers.pivot_table(index="response_id", columns="item", values="value",
                                   aggfunc="first").reindex(columns=item_codes)
        meta = answers.drop_duplicates("response_id").set_index("response_id")[
            ["wave", "wave_kind", "followup_days", "linkage_key"]]
        scores = scores_of(answers, items).pivot(index="response_id", columns="construct",
                                                 values="score")
        scores.columns = [f"score_{c}" for c in scores.columns]
        rows = meta.join(wide).join(scores).sort_index()
        people = {key: f"P{n:03d}" for n, key in enumerate(
            sorted(rows["linkage_key"].dropna().unique()), start=1)}
        rows["person"] = rows["linkage_key"].map(people).fillna("")
        rows["respondent"] = [f"R{n:04d}" for n in range(1, len(rows) + 1)]
        rows["wave_date"] = rows["wave"].map(
            lambda w: (waves[w].opens_at.date() if waves[w].opens_at else cohort.held_on))
        rows["wave_kind"] = rows["wave_kind"].map(WAVE_KIND_CODES)
        rows["wave"] = rows["wave"].map(lambda w: waves[w].label)
        rows = rows.reset_index(drop=True)[columns]
    labels = dict(zip(items["item"], items["text"]))
    scale = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
             "Strongly agree"]
    book = [("respondent", "Response number in this file (not stored anywhere else)", "text",
             "", "", "", ""),
            ("person", "Officer number in this file: the same number marks one officer's linked "
                       "responses; empty when unlinked", "text", "", "", "", ""),
            ("wave", "Survey", "text", "", "", "", ""),
            ("wave_kind", "Kind of survey", "code", "1 = before, 2 = after, 3 = follow-up",
             "", "", ""),
            ("followup_days", "Days after training (follow-ups)", "number", "", "", "", ""),
            ("wave_date", "Date the survey opened", "date", "", "", "", "")]
    for item in items.itertuples():
        book.append((item.item, item.text, "ordinal",
                     "; ".join(f"{n} = {t}" for n, t in enumerate(scale, start=1)),
                     item.construct, "yes" if item.reverse_keyed else "no",
                     "Agreement as answered (not reverse-keyed)"))
    for construct in constructs:
        name = items.loc[items["construct"] == construct, "construct_name"].iloc[0]
        book.append((f"score_{construct}", f"{name}: scale score", "scale", "1 to 5",
                     construct, "", "Mean of the keyed items when at least 80% were answered"))
    codebook = pd.DataFrame(book, columns=["variable", "label", "type", "values", "construct",
                                           "reverse_keyed", "notes"])
    value_labels = {code: {n: t for n, t in enumerate(scale, start=1)} for code in item_codes}
    value_labels["wave_kind"] = {1: "Before training", 2: "After training", 3: "Follow-up"}
    rows.attrs["column_labels"] = {**dict(zip(codebook["variable"], codebook["label"])),
                                   **labels}
    return ResponseData(rows, codebook, notes, value_labels)
