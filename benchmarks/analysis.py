"""Benchmark of the analysis package, each figure beside a bare baseline measured in the same run.

    .venv/bin/python benchmarks/analysis.py

1. A cohort report for 200 officers x 40 items x 3 waves (target <= 100 ms), beside the bare
   pandas aggregation of the same means (keying, per-response scale means, per-wave means).
2. The agency trend over 200,000 pulse responses (target <= 1 s), beside the bare groupby.
3. The pooled trajectory model of Compare over 50 classes x 25 officers x 3 time points and 5
   scales, 2 of them with no officer variance (boundary fits), in CPU seconds (target < 1 s),
   beside bare least squares on the same design matrices; with --statsmodels, also statsmodels'
   MixedLM on one boundary scale (the fit this replaced: seconds, then "did not converge").
4. The matcher's precision and recall at the literature's recall-error rates (benchmarks/matching.py
   has the full table).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.change import change_report, retention  # noqa: E402
from analysis.matching import match_codes, matcher_accuracy, simulate_codes  # noqa: E402
from analysis.reliability import scale_alpha  # noqa: E402
from analysis.scoring import item_distribution, scale_scores  # noqa: E402
from analysis.suppression import suppress  # noqa: E402
from analysis.trajectory import pooled_trajectory  # noqa: E402
from analysis.trends import control_limits, pulse_summary, trend_slope  # noqa: E402


def timed(fn, repeat=7):
    """Median and best wall time of `fn` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def items_frame(n_items, constructs):
    per = n_items // len(constructs)
    return pd.DataFrame({"item": [f"I{i:02d}" for i in range(n_items)],
                         "construct": [constructs[min(i // per, len(constructs) - 1)]
                                       for i in range(n_items)],
                         "reverse_keyed": [i % 4 == 3 for i in range(n_items)],
                         "scale_min": 1, "scale_max": 5})


def cohort_answers(rng, officers=200, n_items=40):
    items = items_frame(n_items, ["stigma", "barriers", "facilitators", "knowledge",
                                  "intention", "climate", "fatigue", "cynicism"])
    waves = [(1, "pre", np.nan), (2, "post", np.nan), (3, "followup", 90.0)]
    frames = []
    for wave, kind, days in waves:
        values = rng.integers(1, 6, size=(officers, n_items))
        frames.append(pd.DataFrame({
            "response_id": np.repeat([f"{wave}-{o}" for o in range(officers)], n_items),
            "wave": wave, "wave_kind": kind, "followup_days": days, "cohort": 1,
            "linkage_key": np.repeat([f"P{o}" for o in range(officers)], n_items),
            "item": np.tile(items["item"], officers), "value": values.ravel()}))
    return pd.concat(frames, ignore_index=True), items


def cohort_report(answers, items):
    scores = scale_scores(answers, items)
    report = change_report(scores)
    follow = retention(scores)
    alpha = scale_alpha(answers, items)
    dist = item_distribution(answers, items)
    counts = scores.groupby(["wave", "construct"])["score"].count().rename("n").reset_index()
    return suppress(counts, k=5), report, follow, alpha, dist


def bare_cohort(answers, items):
    merged = answers.merge(items, on="item")
    keyed = merged["value"].where(~merged["reverse_keyed"], 6 - merged["value"])
    per_response = keyed.groupby([merged["response_id"], merged["construct"]]).mean()
    waves = merged.drop_duplicates("response_id").set_index("response_id")["wave"]
    frame = per_response.rename("score").reset_index()
    frame["wave"] = frame["response_id"].map(waves)
    return frame.groupby(["wave", "construct"])["score"].mean()


def pulse_scores(rng, responses=200_000, pulses=24):
    constructs = ["executive_support", "discretion", "change_fatigue", "cynicism",
                  "referral_speed", "outcomes", "intention", "evaluation"]
    wave = rng.integers(0, pulses, size=responses)
    frames = pd.DataFrame({
        "response_id": np.repeat(np.arange(responses), len(constructs)),
        "wave": np.repeat(wave, len(constructs)),
        "construct": np.tile(constructs, responses),
        "score": rng.normal(3.2, 0.7, size=responses * len(constructs)).clip(1, 5)})
    waves = pd.DataFrame({"wave": np.arange(pulses),
                          "date": pd.date_range("2025-01-01", periods=pulses, freq="MS"),
                          "headcount": 9_000})
    return frames, waves


def agency_trend(scores, waves):
    summary = pulse_summary(scores, waves)
    return control_limits(summary), trend_slope(summary)


def bare_trend(scores):
    return scores.groupby(["wave", "construct"])["score"].agg(["mean", "std", "count"])


#: Officer SD per scale in the Compare benchmark. Two scales give boundary fits: barriers has no
#: officer variance, and on knowledge an officer's deviation flips sign after training (negative
#: SD), so that answers within an officer anti-correlate.
POOLED_TAU = {"stigma": 0.5, "barriers": 0.0, "facilitators": 0.4, "knowledge": -0.3,
              "intention": 0.3}


def compare_scores(rng, classes=50, officers=25):
    """Scores on 6-statement scales (sixths) of `classes` classes at pre, post and a 90-day
    follow-up, a fifth of officers missing each later wave."""
    rows = [(c, o, kind, days) for c in range(classes) for o in range(officers)
            for kind, days in (("pre", np.nan), ("post", np.nan), ("followup", 90.0))
            if kind == "pre" or rng.random() > 0.2]
    base = pd.DataFrame(rows, columns=["cohort", "officer", "wave_kind", "followup_days"])
    shift = base["wave_kind"].map({"pre": 0, "post": -0.4, "followup": -0.25}).to_numpy()
    frames = []
    for construct, tau in POOLED_TAU.items():
        level = rng.normal(0, abs(tau), size=(classes, officers))[base["cohort"],
                                                                   base["officer"]]
        if tau < 0:
            level = np.where(base["wave_kind"] == "pre", level, -level)
        raw = 3 + level + shift + rng.normal(0, 0.6, len(base))
        frames.append(base.assign(construct=construct,
                                  linkage_key="P" + base["officer"].astype(str),
                                  score=np.clip(np.round(raw * 6), 6, 30) / 6))
    return pd.concat(frames, ignore_index=True)


def bare_least_squares(scores):
    """numpy's least squares of score on time and class dummies, per scale."""
    out = []
    for _, part in scores.groupby("construct"):
        x = pd.get_dummies(part[["wave_kind", "cohort"]].astype(str), drop_first=True)
        x = np.column_stack([np.ones(len(part)), x.to_numpy(float)])
        out.append(np.linalg.lstsq(x, part["score"].to_numpy(), rcond=None)[0])
    return out


def cpu(fn, repeat=3):
    """Median and best CPU time of `fn` in seconds."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times), min(times)


def statsmodels_boundary(scores):
    import warnings

    import statsmodels.formula.api as smf
    part = scores.loc[scores["construct"] == "barriers"].assign(
        officer=lambda p: p["cohort"].astype(str) + ":" + p["linkage_key"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("score ~ C(wave_kind) + C(cohort)", part,
                          groups=part["officer"]).fit(reml=True, method=["bfgs", "cg"],
                                                      gtol=1e-8)
    return fit.converged


def main():
    rng = np.random.default_rng(2026)
    print(f"{'figure':58} {'median':>9} {'best':>9} {'target':>8}")

    answers, items = cohort_answers(rng)
    report = timed(lambda: cohort_report(answers, items))
    bare = timed(lambda: bare_cohort(answers, items))
    print(f"{'cohort report, 200 officers x 40 items x 3 waves':58} {report[0]:7.1f}ms "
          f"{report[1]:7.1f}ms {'100ms':>8}")
    print(f"{'  bare pandas means of the same':58} {bare[0]:7.1f}ms {bare[1]:7.1f}ms")
    print(f"{'  ratio report / bare':58} {report[0] / bare[0]:8.1f}x")

    scores, waves = pulse_scores(rng)
    trend = timed(lambda: agency_trend(scores, waves), repeat=5)
    bare_t = timed(lambda: bare_trend(scores), repeat=5)
    print(f"{'agency trend, 200,000 pulse responses x 8 constructs':58} {trend[0]:7.1f}ms "
          f"{trend[1]:7.1f}ms {'1000ms':>8}")
    print(f"{'  bare pandas groupby of the same':58} {bare_t[0]:7.1f}ms {bare_t[1]:7.1f}ms")
    print(f"{'  ratio trend / bare':58} {trend[0] / bare_t[0]:8.1f}x")

    scores = compare_scores(rng)
    table = pooled_trajectory(scores)
    boundary = table.loc[table["var_officer"] == 0, "construct"].unique()
    model = cpu(lambda: pooled_trajectory(scores))
    bare_m = cpu(lambda: bare_least_squares(scores))
    print(f"{'pooled model, Compare over 50 classes x 5 scales (CPU)':58} {model[0]:8.3f}s "
          f"{model[1]:8.3f}s {'1s':>8}")
    print(f"{'  boundary fits among them: ' + ', '.join(boundary):58}")
    print(f"{'  bare numpy least squares of the same designs (CPU)':58} {bare_m[0]:8.3f}s "
          f"{bare_m[1]:8.3f}s")
    if "--statsmodels" in sys.argv:
        old = cpu(lambda: statsmodels_boundary(scores), repeat=1)
        print(f"{'  statsmodels MixedLM, one boundary scale (CPU)':58} {old[0]:8.3f}s")

    for error_rate in (0.05, 0.10):
        precision, recall = [], []
        for seed in range(10):
            codes = simulate_codes(200, error_rate=error_rate, rng=np.random.default_rng(seed))
            result = matcher_accuracy(codes, match_codes(codes))
            precision.append(result["precision"])
            recall.append(result["recall"])
        print(f"{'matcher, 200 officers, recall errors %.0f%%' % (error_rate * 100):58} "
              f"precision {np.mean(precision):.3f}  recall {np.mean(recall):.3f}")


if __name__ == "__main__":
    main()
