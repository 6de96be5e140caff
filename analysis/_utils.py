"""Checks shared by the analysis functions."""
from __future__ import annotations

import pandas as pd

LONG_COLUMNS = ("response_id", "wave", "wave_kind", "cohort", "linkage_key", "item", "value")
ITEM_COLUMNS = ("item", "construct", "reverse_keyed", "scale_min", "scale_max")


def check_columns(data: pd.DataFrame, columns, what: str = "data") -> None:
    """Raise ValueError naming the columns `data` lacks."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, not {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(missing)}")


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
