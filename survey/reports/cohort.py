"""The trainer's report for one cohort, small groups withheld before anything leaves this module.

Differencing: a page never shows the before/after means of linked officers beside the means of
all respondents (the difference would reveal the unlinked few); linked officers appear only
through their change. Where a linked change, the means of all respondents and a remainder of
fewer than k unlinked responses would still give that remainder away by subtraction, the figure
that closes the sum is withheld too (see :func:`_combination_guard` and the rules in
:func:`_combined_table` and :func:`_typical_table`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.change import (change_report, linked_vs_unlinked, partially_overlapping_change,
                             retention)
from analysis.matching import match_summary
from analysis.reliability import item_rest, scale_check
from analysis.scoring import item_distribution, scale_scores
from analysis.suppression import PRIMARY, SECONDARY, combination_guard, suppress
from analysis.trajectory import trajectory
from analysis.trends import pulse_summary

from ..instruments import instrument_label
from ..models import Cohort, WaveKind
from ..queries import CohortData, cohort_frames
from .common import (fixed, flags, magnitude, reliability_choice, reliable_table,
                     with_favourable_shares, withhold)


WAVE_ORDER = {WaveKind.PRE: 0, WaveKind.POST: 1, WaveKind.FOLLOWUP: 2}


#: The effect size the report's sentences use, and why (shown under the effect-size table and
#: carried in the exports).
HEADLINE_EFFECT = "g_av"


HEADLINE_WHY = ("The sentences use Hedges' g_av: it is comparable with studies that compare two "
                "groups, and it is not inflated by the correlation between an officer's before and "
                "after answers. d_z is shown because it is the paired t-test's own effect size "
                "(t divided by the square root of n); it exceeds d_av when r is above .5.")


#: The In brief names a change ("rose", "fell") only when its Holm-adjusted p is below this:
#: the same rule as the change table's Holm column, so a sentence never claims what the table
#: does not support.
HEADLINE_ALPHA = 0.05
HEADLINE_RULE = ("“In brief” says a scale rose or fell only when its Holm-adjusted p (the scales "
                 "are tested together) is below .05 and its 95% interval excludes zero; "
                 "otherwise it says there is no clear change.")


@dataclass
class CohortReport:
    cohort: Cohort
    k: int
    waves: pd.DataFrame            # one row per wave: label, kind, n responses, linked
    means: pd.DataFrame            # construct x wave: n, mean, CI (all respondents)
    change: pd.DataFrame           # construct: linked change and the unlinked remainder
    followup: pd.DataFrame         # follow-up x construct: change since post
    alpha: pd.DataFrame            # construct x wave: alpha and its items' fit, flagged
    items: pd.DataFrame            # item x wave: agreement distribution
    sentences: list[str] = field(default_factory=list)
    distribution: pd.DataFrame | None = None  # item x wave x point, for the agreement chart
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)     # construct: d_z, d_av, g_av
    reliable: pd.DataFrame = field(default_factory=pd.DataFrame)    # construct: reliable change
    combined: pd.DataFrame = field(default_factory=pd.DataFrame)    # construct: every response
    typical: pd.DataFrame = field(default_factory=pd.DataFrame)     # construct: linked v. not
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)  # wave x construct: from pre
    item_fit: pd.DataFrame = field(default_factory=pd.DataFrame)    # item x wave: item-rest r

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report, as the exports write them."""
        return {"waves": self.waves, "scale_means": self.means, "change": self.change,
                "effect_sizes": self.effects, "reliable_change": self.reliable,
                "combined_change": self.combined, "linked_vs_unlinked": self.typical,
                "trajectory": self.trajectory, "follow_up": self.followup,
                "reliability": self.alpha, "item_rest": self.item_fit,
                "item_agreement": self.items}

    def rank_note(self) -> str:
        """The method note for the rank tests of the change table: which ran, where."""
        if self.change.empty:
            return ""
        parts = []
        for column, test in (("wilcoxon_method", "the Wilcoxon signed-rank test for linked "
                                                 "officers"),
                             ("unlinked_mwu_method", "the Mann-Whitney test for officers not "
                                                     "linked")):
            ran = self.change.loc[self.change[column] != ""]
            by = [f"{method} on {', '.join(ran.loc[ran[column] == method, 'construct_name'])}"
                  for method in dict.fromkeys(ran[column])]
            if by:
                parts.append(f"{test} ({'; '.join(by)})")
        if not parts:
            return ""
        return ("The downloads also give rank tests, computed as R's wilcox.test computes them "
                "and on scores taken as exact fractions, so that equal scores tie: "
                f"{' and '.join(parts)}. Exact when no values tie and fewer than 50 are "
                "compared, otherwise the normal approximation with the tie and continuity "
                "corrections.")

    def evidence(self) -> list[tuple]:
        """(linked change row, combined test row) per construct, for the page's side-by-side
        table: the paired, the unpaired and the combined results of one scale on one line."""
        if self.change.empty or self.combined.empty:
            return []
        combined = {row.construct: row for row in self.combined.itertuples()}
        return [(row, combined[row.construct]) for row in self.change.itertuples()
                if row.construct in combined]


def _wave_frame(cohort: Cohort, counts: pd.Series, linked: pd.Series) -> pd.DataFrame:
    """The sealed waves (the only ones a report reads), in the order of the training."""
    waves = sorted((w for w in cohort.waves if w.sealed_at is not None),
                   key=lambda w: (WAVE_ORDER[w.kind], w.followup_days or 0))
    return pd.DataFrame([{
        "wave": w.id, "wave_label": w.label, "wave_kind": w.kind.value,
        "followup_days": w.followup_days, "join_code": w.join_code,
        "date": (w.opens_at.date() if w.opens_at else cohort.held_on),
        "responses": int(counts.get(w.id, 0)), "linked": int(linked.get(w.id, 0)),
        "survey_version": instrument_label(w.instrument),
    } for w in waves], columns=["wave", "wave_label", "wave_kind", "followup_days", "join_code",
                                "date", "responses", "linked", "survey_version"])


def cohort_report(cohort: Cohort, shown_before: frozenset = frozenset(),
                  data: CohortData | None = None) -> CohortReport:
    """The trainer's report for one cohort from its sealed waves, small groups withheld.

    `shown_before` holds the (wave, construct) scale means an earlier publication of the class
    showed: they stay known, so where a figure must go to protect a small group, a figure of a
    newly sealed wave goes instead (see :func:`_combination_guard`). `data`: the class as
    :func:`survey.queries.cohort_frames` loads it, when the caller has it already."""
    k = cohort.agency.min_group_size
    data = data if data is not None else cohort_frames(cohort)
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
                            ["No survey of this class has closed with answers yet."])

    scores = scale_scores(answers, items)
    means = pulse_summary(scores, waves[["wave", "date"]])
    # in the order of the survey table (before, after, follow-ups by day), not by opening date:
    # a follow-up opened early, or a pre wave opened late, must not come first
    order = {wave: i for i, wave in enumerate(waves["wave"])}
    means = means.sort_values(["wave", "construct"], key=lambda c: c.map(order)
                              if c.name == "wave" else c, kind="stable")
    means = means.assign(wave_label=means["wave"].map(label),
                         construct_name=means["construct"].map(names))
    means = suppress(means[["construct", "construct_name", "wave", "wave_label", "n", "mean",
                            "ci_low", "ci_high"]], k=k)

    kinds = set(scores["wave_kind"])
    both = {"pre", "post"} <= kinds
    full = change_report(scores) if both else None
    change = _change_table(full, names, k) if both else pd.DataFrame()
    followup = pd.DataFrame()
    raw_retention = pd.DataFrame()
    if "followup" in kinds and "post" in kinds:
        raw_retention = retention(scores)
        followup = raw_retention.assign(construct_name=lambda f: f["construct"].map(names))
        followup = suppress(followup[["followup_days", "construct", "construct_name", "n",
                                      "mean_diff", "ci_low", "ci_high", "p_val", "p_adj"]], k=k)
    honest = {}
    raw_trajectory = pd.DataFrame()
    if both:
        raw_trajectory = trajectory(scores)
        honest = _honest_change(answers, items, scores, full, raw_trajectory, names, label, k)

    alpha, item_fit = _scale_checks(answers, items, names, label, k)

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
    guarded = _combination_guard(scores, k, shown_before, {
        "means": means, "agree": agree, "change": change, "followup": followup,
        "combined": honest.get("combined", pd.DataFrame()),
        "typical": honest.get("typical", pd.DataFrame()),
        "trajectory": honest.get("trajectory", pd.DataFrame())})
    means, agree, change, followup = (guarded[t] for t in ("means", "agree", "change",
                                                           "followup"))
    means = with_favourable_shares(means, answers, items)
    honest.update({t: guarded[t] for t in ("combined", "typical", "trajectory") if t in honest})
    dist = dist.merge(agree[["wave", "item", "withheld"]], on=["wave", "item"])
    report = CohortReport(cohort, k, waves, means, change, followup, alpha, agree, **honest,
                          item_fit=item_fit)
    report.sentences = _sentences(report)
    report.distribution = dist.assign(wave_label=dist["wave"].map(label)).merge(
        items[["item", "text"]], on="item")
    return report


def _change_table(full: pd.DataFrame, names: pd.Series, k: int) -> pd.DataFrame:
    """One row per construct: the linked change, and the unlinked remainder beside it."""
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
        "wilcoxon_method": linked["w_method"].fillna("").to_numpy(),
    })
    table["effect"] = table["g_av"].map(magnitude)
    table = suppress(table, k=k)
    table.loc[table["withheld"], "wilcoxon_method"] = ""
    unlinked = pd.DataFrame({
        "construct": rest.index, "n": rest[["n_before", "n_after"]].min(axis=1).to_numpy(),
        "unlinked_n_before": rest["n_before"].to_numpy(),
        "unlinked_n_after": rest["n_after"].to_numpy(),
        "unlinked_mean_diff": rest["mean_diff"].to_numpy(),
        "unlinked_ci_low": rest["ci_low"].to_numpy(), "unlinked_ci_high": rest["ci_high"].to_numpy(),
        "unlinked_g": rest["g"].to_numpy(), "unlinked_p_val": rest["p_val"].to_numpy(),
        "unlinked_mwu_p_val": rest["u_p_val"].to_numpy(),
        "unlinked_mwu_method": rest["u_method"].fillna("").to_numpy()})
    unlinked = suppress(unlinked, k=k)
    unlinked.loc[unlinked["withheld"], "unlinked_mwu_method"] = ""
    unlinked = unlinked.rename(columns={"withheld": "unlinked_withheld",
                                                       "withheld_reason": "unlinked_reason"})
    return table.merge(unlinked.drop(columns="n"), on="construct")


def _combined_table(raw: pd.DataFrame, names: pd.Series, k: int) -> pd.DataFrame:
    """The partially overlapping samples t-test (Derrick et al. 2017) per construct, from the
    table of :func:`analysis.change.partially_overlapping_change`.

    Only the change, its interval and test are shown, never the means it compares (those mix
    linked and unlinked officers). Withheld when fewer than k officers are linked, or when the
    unlinked remainder of either wave is between 1 and k - 1: the combined change, the paired
    change and the unpaired one would then let a reader work out that small remainder.
    """
    table = raw.reset_index()
    table.insert(1, "construct_name", table["construct"].map(names))
    table = table[["construct", "construct_name", "n_paired", "n_before_only", "n_after_only",
                   "mean_diff", "ci_low", "ci_high", "se", "t", "dof", "p_val"]]
    small = (table["n_paired"] < k)
    remainder = (table["n_before_only"].between(1, k - 1)
                 | table["n_after_only"].between(1, k - 1))
    table = withhold(table, small, PRIMARY.format(k=k))
    return withhold(table, remainder, SECONDARY)


def _typical_table(scores: pd.DataFrame, names: pd.Series, combined_raw: pd.DataFrame,
                   k: int) -> pd.DataFrame:
    """Linked officers' before scores against the unlinked officers': the difference only.

    Withheld when either group has fewer than k officers, or when the after wave's unlinked
    remainder is between 1 and k - 1 (with the means of all respondents and the paired change,
    the difference would give that remainder's mean away). The group means are not shown: the
    linked officers' before mean beside all respondents' is what the module never shows.
    """
    table = linked_vs_unlinked(scores).reset_index()
    table.insert(1, "construct_name", table["construct"].map(names))
    table = table[["construct", "construct_name", "n_linked", "n_unlinked", "mean_diff",
                   "ci_low", "ci_high", "p_val", "g", "g_ci_low", "g_ci_high", "differs"]]
    after_only = table["construct"].map(combined_raw["n_after_only"]).fillna(0)
    small = (table["n_linked"] < k) | (table["n_unlinked"] < k)
    table = withhold(table, small, PRIMARY.format(k=k))
    table = withhold(table, after_only.between(1, k - 1).to_numpy(), SECONDARY)
    table["differs"] = flags(table["differs"])
    table["note"] = [
        (f"Officers whose answers could be linked started "
         f"{'higher' if row.mean_diff > 0 else 'lower'} on {row.construct_name.lower()} "
         f"({fixed(row.mean_diff, sign=True)} points, 95% CI {_interval(row)}) than "
         "officers whose answers could not be linked; the change may not hold for the others.")
        if not row.withheld and row.differs is True else ""
        for row in table.itertuples()]
    return table


def _honest_change(answers, items, scores, full, raw_trajectory, names, label, k) -> dict:
    """Effect sizes side by side, reliable change, the combined test, whether the linked
    officers are typical, and the trajectory from pre: the tables of issue 10."""
    linked = full.xs("linked", level="analysis")
    columns = ["n", "r"] + [f"{e}{s}" for e in ("d_z", "d_av", "g_av")
                            for s in ("", "_ci_low", "_ci_high")]
    effects = linked[columns].reset_index()
    effects.insert(1, "construct_name", effects["construct"].map(names))
    effects = suppress(effects, k=k)
    effects["in_sentences"] = HEADLINE_EFFECT
    reliable = reliable_table(scores, reliability_choice(answers, items), items, k)
    overlap = partially_overlapping_change(scores)
    combined = _combined_table(overlap, names, k)
    typical = _typical_table(scores, names, overlap, k)
    path = pd.DataFrame()
    if (raw_trajectory["wave_kind"] == "followup").any():
        path = raw_trajectory.assign(time_point=raw_trajectory["time_point"].astype(str),
                                     wave_label=raw_trajectory["wave"].map(label),
                                     construct_name=raw_trajectory["construct"].map(names))
        path = path[["wave", "wave_label", "wave_kind", "followup_days", "time_point",
                     "construct", "construct_name", "n", "mean_diff", "ci_low", "ci_high",
                     "p_val", "n_responses", "n_responses_pre", "retention"]]
        path = suppress(path, k=k, values=["mean_diff", "ci_low", "ci_high", "p_val"])
    return {"effects": effects, "reliable": reliable, "combined": combined, "typical": typical,
            "trajectory": path}


def _scale_checks(answers, items, names, label, k) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per wave and construct: alpha, its items' item-rest correlations and the flags (alpha
    below .6, an item running against its scale); per item and wave the item-rest correlation.
    Each wave uses the statements its survey version offered (in one pass when every wave
    offered the same)."""
    offered = answers.groupby("wave")["item"].agg(frozenset)
    parts = ([(answers, items)] if offered.nunique() == 1 else
             [(part, items.loc[items["item"].isin(offered[wave])])
              for wave, part in answers.groupby("wave", sort=True)])
    checks = [scale_check(part, own) for part, own in parts]
    fits = [item_rest(part, own) for part, own in parts]
    alpha = pd.concat(checks, ignore_index=True)
    alpha = alpha.assign(wave_label=alpha["wave"].map(label),
                         construct_name=alpha["construct"].map(names))
    alpha = suppress(alpha, k=k, values=["k", "alpha", "ci_low", "ci_high", "min_item_rest",
                                         "n_against"])
    alpha["alpha_low"] = flags(alpha["alpha_low"].astype("boolean").mask(alpha["withheld"]))
    alpha["items_against"] = alpha["items_against"].where(~alpha["withheld"], "")
    fit = pd.concat(fits, ignore_index=True)
    fit = fit.merge(items[["item", "text"]], on="item", how="left")
    fit = fit.assign(wave_label=fit["wave"].map(label),
                     construct_name=fit["construct"].map(names))
    fit = suppress(fit, k=k, values=["item_rest"])
    fit["against_scale"] = flags(fit["against_scale"].astype("boolean").mask(fit["withheld"]))
    return alpha, fit


def _linkage_atoms(scores: pd.DataFrame, construct: str) -> pd.Series:
    """Each scored response of `construct` as its atom, ``(wave, waves its officer answered)``:
    the sets of responses that every published figure of the class treats alike. A response
    without a code, or with one found in no other survey, is an atom of its own wave alone."""
    part = scores.loc[(scores["construct"] == construct) & scores["score"].notna()]
    seen = part.dropna(subset=["linkage_key"]).groupby("linkage_key")["wave"].agg(frozenset)
    patterns = [seen[key] if key == key and key is not None else frozenset([wave])
                for key, wave in zip(part["linkage_key"], part["wave"])]
    return pd.Series(list(zip(part["wave"], patterns)), index=part.index, dtype=object)


def _combination_guard(scores: pd.DataFrame, k: int, shown_before, tables: dict) -> dict:
    """Withhold what, combined with the class's other published figures, would give a group of
    1 to k - 1 officers away (:func:`analysis.suppression.combination_guard`).

    Per construct, every shown figure that is a sum or a difference of means is written over
    the atoms of :func:`_linkage_atoms`: the linked change, the changes since after training
    and from before training to each follow-up, each survey's scale mean, the unlinked
    officers' change, the change using every response and the linked officers' difference
    from the others. They are kept in that order of importance (a group's size counted in
    officers), scale means of surveys with no small unlinked remainder first; scale means published earlier (`shown_before`) stay and count as known. A withheld
    scale mean takes its statements' agreement with it (the mean can be rebuilt from them).
    `tables`: means, agree, change, followup, combined, typical, trajectory; returned updated.
    """
    out = dict(tables)
    waves = scores.drop_duplicates("wave").set_index("wave")
    kinds = waves["wave_kind"]
    pre = list(kinds.index[kinds == "pre"])
    post = list(kinds.index[kinds == "post"])
    order = {w: i for i, w in enumerate(tables["means"]["wave"].drop_duplicates())}
    withheld = set()
    for construct in scores["construct"].unique():
        atoms = _linkage_atoms(scores, construct)
        sizes = atoms.value_counts().to_dict()

        def sums(select, weight=1.0):
            return {a: weight for a in sizes if select(a)}

        def pairs(before, after):
            return {**sums(lambda a: a[0] == after and before in a[1]),
                    **sums(lambda a: a[0] == before and after in a[1], -1.0)}

        def mean_gap(first, second):
            n1 = sum(sizes[a] for a in sizes if first(a))
            n2 = sum(sizes[a] for a in sizes if second(a))
            return {**sums(first, 1 / n1), **sums(second, -1 / n2)} if n1 and n2 else {}

        def shown(table, **keys):
            """Whether `table` shows a figure for the row with these keys."""
            if table is None or table.empty:
                return False
            mask = np.logical_and.reduce([table[c].to_numpy() == v for c, v in keys.items()])
            rows = table.loc[mask]
            return len(rows) > 0 and not rows["withheld"].astype(bool).all()

        figures, known = {}, []
        change = tables["change"]
        if pre and post and len(pre) == len(post) == 1:
            before, after = pre[0], post[0]
            if shown(change, construct=construct):
                figures[("change", construct)] = pairs(before, after)
            followup = tables["followup"]
            for wave in kinds.index[kinds == "followup"]:
                days = waves.loc[wave, "followup_days"]
                if shown(followup, followup_days=days, construct=construct):
                    figures[("retention", wave, construct)] = pairs(after, wave)
            for wave in tables["trajectory"].get("wave", pd.Series(dtype=object)).unique():
                if wave != after and shown(tables["trajectory"], wave=wave, construct=construct):
                    figures[("trajectory", wave, construct)] = pairs(before, wave)
        remainder = {w: sum(n for a, n in sizes.items() if a[0] == w and len(a[1]) == 1)
                     for w in kinds.index}
        for wave in sorted(kinds.index, key=lambda w: (0 < remainder[w] < k,
                                                       order.get(w, len(order)))):
            if not shown(tables["means"], wave=wave, construct=construct):
                continue
            figure = sums(lambda a, w=wave: a[0] == w)
            if (wave, construct) in shown_before:
                known.append(figure)
            else:
                figures[("mean", wave, construct)] = figure
        if pre and post and len(pre) == len(post) == 1:
            before, after = pre[0], post[0]
            linked = (lambda w: lambda a: a[0] == w and {before, after} <= a[1])
            unlinked = (lambda w: lambda a: a[0] == w and not {before, after} <= a[1])
            row = change.loc[change["construct"] == construct] if len(change) else change
            if len(row) and not row["unlinked_withheld"].all():
                figures[("unlinked", construct)] = mean_gap(unlinked(after), unlinked(before))
            if shown(tables["combined"], construct=construct):
                figures[("combined", construct)] = mean_gap(lambda a: a[0] == after,
                                                            lambda a: a[0] == before)
            if shown(tables["typical"], construct=construct):
                figures[("typical", construct)] = mean_gap(linked(before), unlinked(before))
        withheld |= set(combination_guard(sizes, figures, k, known=known,
                                          people={a: a[1] for a in sizes}))
    return _withhold_figures(out, withheld, waves)


def _withhold_figures(tables: dict, withheld: set, waves: pd.DataFrame) -> dict:
    """The figures :func:`_combination_guard` named, withheld in their tables."""
    def hit(table, kind, columns):
        keys = {tuple(f[1:]) for f in withheld if f[0] == kind}
        return [tuple(row) in keys for row in table[columns].itertuples(index=False)]

    out = dict(tables)
    if not withheld:
        return out
    means, agree = out["means"], out["agree"]
    out["means"] = withhold(means, hit(means, "mean", ["wave", "construct"]), SECONDARY,
                           values=["n", "mean", "ci_low", "ci_high"])
    out["agree"] = withhold(agree, hit(agree, "mean", ["wave", "construct"]), SECONDARY,
                           values=["n", "agree_share"])
    change = out["change"]
    if len(change):
        out["change"] = withhold(change, hit(change, "change", ["construct"]), SECONDARY)
        unlinked = [c for c in change.columns if c.startswith("unlinked_")
                    and c not in ("unlinked_withheld", "unlinked_reason", "unlinked_mwu_method")]
        mask = pd.Series(hit(change, "unlinked", ["construct"]), index=change.index) \
            & ~change["unlinked_withheld"].astype(bool)
        fresh = out["change"]
        fresh.loc[mask, unlinked] = np.nan
        fresh.loc[mask, "unlinked_mwu_method"] = ""
        fresh.loc[mask, "unlinked_withheld"] = True
        fresh.loc[mask, "unlinked_reason"] = SECONDARY
    for name, kind, columns in (("combined", "combined", ["construct"]),
                                ("typical", "typical", ["construct"]),
                                ("trajectory", "trajectory", ["wave", "construct"])):
        table = out[name]
        if len(table):
            out[name] = withhold(table, hit(table, kind, columns), SECONDARY)
    followup = out["followup"]
    if len(followup):
        days = {(waves.loc[f[1], "followup_days"], f[2]) for f in withheld if f[0] == "retention"}
        out["followup"] = withhold(followup, [tuple(r) in days for r in followup[
            ["followup_days", "construct"]].itertuples(index=False)], SECONDARY)
    if "note" in out["typical"]:
        out["typical"].loc[out["typical"]["withheld"].astype(bool), "note"] = ""
    return out


def _p(value: float) -> str:
    return "< .001" if value < 0.001 else f"= {value:.3f}".replace("0.", ".", 1)


def _interval(row) -> str:
    return f"{fixed(row.ci_low, sign=True)} to {fixed(row.ci_high, sign=True)}"


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
    tested = len(shown)
    for row in shown.sort_values("g_av", key=abs, ascending=False).itertuples():
        if row.ci_low <= 0 <= row.ci_high:
            out.append(f"{row.construct_name}: no clear change ({int(row.n)} linked officers; "
                       f"change {fixed(row.mean_diff, sign=True)} points, 95% CI "
                       f"{_interval(row)}).")
        elif not row.p_holm < HEADLINE_ALPHA:
            out.append(f"{row.construct_name}: no clear change once the {tested} scales tested "
                       f"together are allowed for ({int(row.n)} linked officers; change "
                       f"{fixed(row.mean_diff, sign=True)} points, 95% CI {_interval(row)}, "
                       f"Holm-adjusted p {_p(row.p_holm)}).")
        else:
            way = "fell" if row.mean_diff < 0 else "rose"
            out.append(f"{row.construct_name} {way} by {abs(row.mean_diff):.2f} points on the "
                       f"1-5 scale ({int(row.n)} linked officers; 95% CI {_interval(row)}; "
                       f"{row.effect} effect).")
    reliable = report.reliable
    if len(reliable):
        counted = reliable.loc[~reliable["withheld"] & reliable["n_none"].notna()]
        parts = [f"{row.construct_name.lower()}: {int(row.n_improved)} improved and "
                 f"{int(row.n_worse)} got worse" for row in counted.itertuples()]
        if parts:
            out.append(f"Of the linked officers, beyond measurement error, {'; '.join(parts)}.")
    if len(report.typical):
        out += [note for note in report.typical["note"] if note]
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


#: The class brief names at most this many changes one by one, clearest first.
BRIEF_CHANGES = 3


def brief_lines(report: CohortReport) -> list[str]:
    """The class brief's headline changes in words (at most four lines), from shown figures only.

    A change is named when it is clear by the rule of "In brief" (:data:`HEADLINE_RULE`): the
    :data:`BRIEF_CHANGES` with the largest Hedges' g_av one by one, each called an improvement
    or a worsening by its scale's favourable direction; every other shown scale in one last
    line (further clear changes, then "no clear change"). Without a change to report, the
    report's first sentence."""
    change = report.change
    shown = change.loc[~change["withheld"]] if len(change) else change
    if shown.empty:
        return report.sentences[:1]
    better = (report.reliable.set_index("construct")["favourable"]
              if len(report.reliable) and "favourable" in report.reliable else pd.Series())
    clear = shown.loc[(shown["p_holm"] < HEADLINE_ALPHA)
                      & ((shown["ci_low"] > 0) | (shown["ci_high"] < 0))]
    clear = clear.reindex(clear["g_av"].abs().sort_values(ascending=False).index)
    lines = []
    for row in clear.head(BRIEF_CHANGES).itertuples():
        way = "fell" if row.mean_diff < 0 else "rose"
        good = (row.mean_diff < 0) == (better.get(row.construct, "higher") == "lower")
        lines.append(f"{row.construct_name} {way} by {abs(row.mean_diff):.2f} points on the 1–5 "
                     f"scale, {'an improvement' if good else 'a worsening'} ({row.effect} effect; "
                     f"{int(row.n)} officers linked before and after).")
    named = set(clear.head(BRIEF_CHANGES)["construct"])
    more = [row.construct_name for row in clear.itertuples() if row.construct not in named]
    unclear = [row.construct_name for row in shown.itertuples()
               if row.construct not in set(clear["construct"])]
    rest = []
    if more:
        rest.append(f"also a clear change in {_series(more)} (see the report)")
    if unclear:
        rest.append(f"no clear change in {_series([n[0].lower() + n[1:] for n in unclear])}")
    if rest:  # the fourth line says all the rest
        text = "; ".join(rest)
        lines.append(f"{text[0].upper()}{text[1:]}.")
    return lines


def _series(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def withheld_summary(tables: dict[str, pd.DataFrame]) -> list[str]:
    """One line per reason for every figure a set of tables withholds ("7 figures withheld:
    fewer than 5 officers"), most common first; none when nothing is withheld."""
    reasons = pd.concat([t.loc[t["withheld"].astype(bool), "withheld_reason"].fillna("")
                         for t in tables.values() if len(t) and "withheld" in t]
                        or [pd.Series(dtype=object)])
    return [f"{n} figure{'' if n == 1 else 's'} withheld: {reason or 'withheld'}"
            for reason, n in reasons.value_counts().items()]
