"""How well and how fast the linkage matcher links simulated officers.

Run from the project root: ``.venv/bin/python benchmarks/matching.py``. Cohorts of 200 officers
answer pre, post and a 90-day follow-up (85% response, 10% skip the code, 2% "Not sure" per
element); each officer misremembers one element in a later response with the given error rate.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from analysis.matching import (match_codes, match_summary, matcher_accuracy,  # noqa: E402
                               simulate_codes)

OFFICERS, WAVES, SEEDS = 200, ("pre", "post", 90), range(20)


def later_link_rate(matches) -> float:
    """Linked share of the coded responses of all waves after the first."""
    later = match_summary(matches).iloc[1:]
    return (later["n_exact"] + later["n_tolerant"]).sum() / later["n_with_code"].sum()


def main() -> None:
    print(f"{OFFICERS} officers per cohort, waves {WAVES}, {len(SEEDS)} seeds (mean, [min])")
    print(f"{'error_rate':>10} {'tolerance':>9} {'precision':>17} {'recall':>17} {'link_rate':>17}")
    for error_rate in (0.05, 0.10):
        cohorts = [simulate_codes(OFFICERS, error_rate=error_rate, waves=WAVES, rng=seed)
                   for seed in SEEDS]
        for tolerance in (0, 1):
            stats = []
            for codes in cohorts:
                matches = match_codes(codes, tolerance=tolerance)
                acc = matcher_accuracy(codes, matches)
                stats.append((acc["precision"], acc["recall"], later_link_rate(matches)))
            mean, low = np.mean(stats, axis=0), np.min(stats, axis=0)
            cells = " ".join(f"{m:>9.4f} [{lo:.3f}]" for m, lo in zip(mean, low))
            print(f"{error_rate:>10.2f} {tolerance:>9d} {cells}")
    codes = simulate_codes(OFFICERS, waves=WAVES, rng=0)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        match_codes(codes)
        times.append(time.perf_counter() - start)
    print(f"match_codes on {len(codes)} responses ({OFFICERS} officers, {len(WAVES)} waves): "
          f"best {min(times) * 1000:.1f} ms, median {np.median(times) * 1000:.1f} ms of 7 runs")


if __name__ == "__main__":
    main()
