"""What the cohort report and the comparison share: effect-size words, withholding helpers,
reliable change with its reliability choice, and comparing survey versions like with like."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.reliability import MIN_ALPHA_N, choose_reliability
from analysis.reliable_change import reliable_change
from analysis.scoring import common_items, favourable_shares
from analysis.suppression import suppress

from ..bank import current_bank
from ..queries import offered_items

#: Complete before-training responses a cohort needs for its own alpha to set the reliable-change
#: threshold; below it the item bank's reference alpha is used.
RELIABILITY_MIN_N = MIN_ALPHA_N


def fixed(value, digits: int = 2, sign: bool = False) -> str:
    """`value` with `digits` decimals, a + or - in front when `sign`; a dash when missing.

    A value that rounds to zero prints without a sign ("0.00", never "-0.00" or "+0.00"): an
    interval bound of -0.001 is zero at the precision shown, not below it.
    """
    if value is None or value != value:  # NaN
        return "–"
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        return f"{0:.{digits}f}"
    return f"{value:+.{digits}f}" if sign else text


def magnitude(effect: float) -> str:
    """Cohen's (1988) benchmarks for a standardised difference, in words."""
    size = abs(effect)
    if np.isnan(size):
        return "unknown"
    return ("negligible" if size < 0.2 else "small" if size < 0.5
            else "medium" if size < 0.8 else "large")


def withhold(table: pd.DataFrame, mask, reason: str, values=None) -> pd.DataFrame:
    """Withhold the rows of `mask` not already withheld, for `reason`, as :func:`suppress` does:
    `values` (default: every numeric or yes/no column) set to missing."""
    out = table.copy()
    if "withheld" not in out.columns:
        out["withheld"], out["withheld_reason"] = False, ""
    new = np.asarray(mask, dtype=bool) & ~out["withheld"].to_numpy(dtype=bool)
    out.loc[new, "withheld_reason"] = reason
    out.loc[new, "withheld"] = True
    if values is None:
        values = list(out.select_dtypes(["number", "boolean"]).columns)
    hidden = out["withheld"].to_numpy(dtype=bool)
    for column in values:
        out.loc[hidden, column] = (pd.NA if isinstance(out[column].dtype, pd.BooleanDtype)
                                   else np.nan)
    return out


def flags(values: pd.Series) -> pd.Series:
    """Yes/no flags as plain True, False or None (missing), for pages and exports alike."""
    return pd.Series([None if pd.isna(v) else bool(v) for v in values], index=values.index,
                     dtype=object)


def reference_alphas() -> dict[str, float]:
    """Each construct's reference reliability, from the item bank (``reference_alpha``)."""
    return {code: c.reference_alpha for code, c in current_bank().constructs.items()
            if c.reference_alpha is not None}


def reliability_choice(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The reliability per construct for reliable change: the cohort's pre-wave alpha when at
    least RELIABILITY_MIN_N before-training responses are complete, else the bank's reference."""
    pre = answers.loc[answers["wave_kind"] == "pre"]
    offered = items.loc[items["item"].isin(pre["item"].unique())]
    if offered.empty:
        offered = items
    return choose_reliability(pre, offered, reference=pd.Series(reference_alphas(), dtype=float),
                              min_n=RELIABILITY_MIN_N)


def reliable_table(scores: pd.DataFrame, choice: pd.DataFrame, items: pd.DataFrame,
                    k: int) -> pd.DataFrame:
    """Reliable change per construct (Jacobson & Truax), with outcomes named improved or worse
    by the construct's favourable direction; a construct under `k` linked officers withheld."""
    constructs = sorted(scores["construct"].unique())
    choice = choice.reindex(constructs)
    table = reliable_change(scores, choice[["reliability", "source"]], constructs=constructs)
    table = table.reset_index()
    meta = items.drop_duplicates("construct").set_index("construct")
    table.insert(1, "construct_name", table["construct"].map(meta["construct_name"]))
    table.insert(2, "favourable", table["construct"].map(meta["favourable"]).fillna("higher"))
    good = np.where(table["favourable"] == "lower", "lower", "higher")
    for outcome, side in (("improved", good), ("worse", np.where(good == "higher", "lower",
                                                                    "higher"))):
        for kind in ("n", "share"):
            table[f"{kind}_{outcome}"] = [table.loc[i, f"{kind}_{s}"]
                                          for i, s in zip(table.index, side)]
    table["reliability_source"] = table["reliability_source"].fillna("none available")
    table["pre_alpha"] = table["construct"].map(choice["alpha"]).to_numpy()
    table["pre_alpha_n"] = table["construct"].map(choice["n"]).to_numpy()
    table["reference_alpha"] = table["construct"].map(choice["reference"]).to_numpy()
    for column in [c for c in table.columns if c.startswith("n_")]:
        table[column] = table[column].to_numpy(dtype=float, na_value=np.nan)
    table = table.drop(columns=["sd_source", "z"])
    return suppress(table, k=k)


def like_with_like(answers: pd.DataFrame, items: pd.DataFrame, wave_ids: list[int], by: str,
                   between: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Answers and item metadata restricted, scale by scale, to the statements every compared
    survey version offered (so the 80% rule counts only those), and a sentence for each scale
    whose statements changed between `between`."""
    shared = common_items(offered_items(wave_ids), by=by)
    changed = shared.loc[shared["changed"]]
    if changed.empty:
        return answers, items, []
    keep = {item for row in shared.itertuples() for item in row.items}
    names = items.drop_duplicates("construct").set_index("construct")["construct_name"]
    notes = [f"{names.get(row.construct, row.construct)}: its statements changed between "
             f"{between}, so it is compared on the {len(row.items)} of {row.n_items_all} "
             "statements they share." for row in changed.itertuples()]
    return answers.loc[answers["item"].isin(keep)], items.loc[items["item"].isin(keep)], notes


#: The three shares of a scale's answers beside its mean (see :func:`with_favourable_shares`).
SHARES = ["favourable_share", "neutral_share", "unfavourable_share"]


def with_favourable_shares(table: pd.DataFrame, answers: pd.DataFrame, items: pd.DataFrame, *,
                           allowed=None) -> pd.DataFrame:
    """`table` (rows of ``wave`` and ``construct``) with the share of each scale's answers on
    its favourable side, at its midpoint and on the other side
    (:func:`analysis.scoring.favourable_shares`), blank wherever the row's figures are withheld
    or its wave is not in `allowed` (an open pulse's snapshot): the shares show exactly where
    the mean does, so they tell nothing of a group the mean does not."""
    favourable = (items.drop_duplicates("construct").set_index("construct")["favourable"]
                  if "favourable" in items else pd.Series(dtype=object))
    shares = favourable_shares(answers, items, favourable).rename(columns={
        "favourable": "favourable_share", "neutral": "neutral_share",
        "unfavourable": "unfavourable_share"})
    out = table.drop(columns=[c for c in SHARES if c in table]).merge(
        shares[["wave", "construct", *SHARES]], on=["wave", "construct"], how="left")
    hide = out["withheld"].astype(bool) if "withheld" in out else pd.Series(False, out.index)
    if allowed is not None:
        hide |= ~out["wave"].isin(list(allowed))
    out.loc[hide, SHARES] = np.nan
    return out
