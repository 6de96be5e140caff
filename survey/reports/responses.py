"""Response-level data for evaluators: one row per response, a codebook and SPSS labels."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


from ..models import Cohort
from ..queries import CohortData, cohort_frames


WAVE_KIND_CODES = {"pre": 1, "post": 2, "followup": 3}


@dataclass
class ResponseData:
    rows: pd.DataFrame        # one row per response: ids, wave, item answers, scale scores
    codebook: pd.DataFrame    # one row per variable
    notes: list[str]
    value_labels: dict        # variable -> {code: label}, for SPSS


def response_data(cohort: Cohort, data: CohortData | None = None) -> ResponseData:
    """Every answer of a cohort, one row per response, for an evaluator's own analysis.

    No linkage hash and no database identifier leaves: responses get export-only numbers
    (R0001...) in the order of their random keys, and linked officers an export-only person
    number (P001...). A wave answered by fewer than the minimum group size is left out.
    """
    from analysis.scoring import scale_scores as scores_of
    k = cohort.agency.min_group_size
    data = data if data is not None else cohort_frames(cohort)
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
        # A person number marks an officer whose responses were linked across surveys; a code
        # seen once (nothing matched it) links nothing and stays empty, as the codebook says.
        seen = rows["linkage_key"].value_counts()
        people = {key: f"P{n:03d}" for n, key in enumerate(
            sorted(seen.index[seen > 1]), start=1)}
        rows["person"] = [people.get(key, "") for key in rows["linkage_key"]]
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
                     "Agreement as answered (not reverse-keyed); empty when not answered "
                     "(“Prefer not to answer”, or a survey version without it)"))
    for construct in constructs:
        name = items.loc[items["construct"] == construct, "construct_name"].iloc[0]
        book.append((f"score_{construct}", f"{name}: scale score", "scale", "1 to 5",
                     construct, "", "Mean of the keyed items when at least 80% were answered"))
    codebook = pd.DataFrame(book, columns=["variable", "label", "type", "values", "construct",
                                           "reverse_keyed", "notes"])
    value_labels = {code: {n: t for n, t in enumerate(scale, start=1)} for code in item_codes}
    value_labels["wave_kind"] = {1: "Before training", 2: "After training", 3: "Follow-up"}
    reversed_items = [i.item for i in items.itertuples() if i.reverse_keyed]
    labels = {code: (f"{text} [reverse-keyed in scores]" if code in reversed_items else text)
              for code, text in labels.items()}
    rows.attrs["column_labels"] = {**dict(zip(codebook["variable"], codebook["label"])),
                                   **labels}
    rows.attrs["documents"] = [
        "Items hold agreement as answered, 1 = Strongly disagree to 5 = Strongly agree; an "
        "empty cell is no answer (the officer chose “Prefer not to answer”, or the survey "
        "version did not ask it). Nothing else marks it: it is missing, never a value.",
        "Scale scores (score_...) are the mean of the keyed items, counted when at least 80% "
        "of a scale's items were answered; a reverse-keyed item enters as 6 minus the answer.",
        "Reverse-keyed items: " + (", ".join(reversed_items) or "none") + ".",
        "person marks one officer's linked responses; it is empty for a response not linked "
        "to another survey of this class.",
        *notes]
    return ResponseData(rows, codebook, notes, value_labels)
