"""Data shipped inside the reference packages, shaped into the project's tidy formats."""
import numpy as np
import pandas as pd
import pingouin
import pytest


@pytest.fixture(scope="session")
def mixed():
    """pingouin's mixed_anova data: 60 subjects measured in August, January and June."""
    return pingouin.read_dataset("mixed_anova")


@pytest.fixture(scope="session")
def pre_post_scores(mixed):
    """August as 'pre' and January as 'post', one construct, every subject linked."""
    part = mixed.loc[mixed["Time"].isin(["August", "January"])].copy()
    return pd.DataFrame({
        "response_id": [f"{s}-{t}" for s, t in zip(part["Subject"], part["Time"])],
        "wave_kind": np.where(part["Time"] == "August", "pre", "post"),
        "linkage_key": part["Subject"].map(lambda s: f"P{s:03d}"),
        "construct": "stigma",
        "score": part["Scores"].to_numpy(),
        "cohort": part["Group"].to_numpy(),
    })
