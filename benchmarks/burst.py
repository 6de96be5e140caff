"""The end of a large class: 500 officers press Send at the same moment.

    .venv/bin/python benchmarks/burst.py [--officers 500] [--database postgresql+psycopg://...]

Against the real app under gunicorn on 127.0.0.1 (SQLite in a temporary folder by default, or the
database given, which is emptied first). Each officer first walks the real path (join page,
notice, personal code, questions page). Prints p50/p99 latency, 5xx and lost responses, and the
same burst against the bare route of benchmarks/bench_wsgi.py, served by the same gunicorn
server, measured in the same run (targets: p99 < 300 ms, none lost). Progress is printed as
sessions are prepared. benchmarks/speed.py runs this on each engine.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# The project first: benchmarks/analysis.py must not stand in for the analysis package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (Browser, answers, gunicorn, migrated_database,  # noqa: E402
                     officer_at_questions, open_training_wave, say, stored_answers)


def fire(officers, send):
    """Everyone at once; returns (status, seconds) per officer."""
    start = threading.Barrier(len(officers))
    results = [None] * len(officers)

    def press(i):
        start.wait()
        began = time.perf_counter()
        try:
            status = send(i)
        except Exception:  # noqa: BLE001 - a refused connection counts as lost
            status = None
        results[i] = (status, time.perf_counter() - began)
    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(officers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def summary(name, results):
    """Prints and returns (p50 ms, p99 ms, ok, 5xx or refused)."""
    times = sorted(t for _, t in results)
    ok = sum(1 for s, _ in results if s in (200, 302))
    errors = sum(1 for s, _ in results if s is None or s >= 500)
    p50 = statistics.median(times) * 1000
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    say(f"    {name:40} ok {ok:4}  5xx/refused {errors:3}  p50 {p50:7.0f} ms  p99 {p99:7.0f} ms")
    return p50, p99, ok, errors


def run(url: str, officers: int = 500) -> dict:
    """The burst on the (emptied) database `url`; returns its figures."""
    with migrated_database(url) as app:
        code = open_training_wave(app)
        say(f"    database: {url.split('@')[-1]}; {officers} officers")
        with gunicorn(url, workers=4) as port:
            ready = []
            for n in range(officers):
                ready.append(officer_at_questions(port, code, n))
                if (n + 1) % 100 == 0:
                    say(f"    {n + 1} officers have the survey open")
            bare = fire(ready, lambda i: Browser(port).request("GET", "/bench/bare")[0])
            survey = fire(ready, lambda i: ready[i].send(code, answers(i))[0])
        bare_p50, bare_p99, _, _ = summary("bare route (GET /bench/bare), same burst", bare)
        p50, p99, ok, errors = summary("survey submit, same burst", survey)
        stored = stored_answers(app, code)
    lost = officers - stored
    say(f"    stored {stored} of {officers}; lost {lost}; p99 ratio submit/bare "
        f"{p99 / bare_p99:.1f}x (target: p99 < 300 ms, none lost)")
    return {"p50": p50, "p99": p99, "bare_p50": bare_p50, "bare_p99": bare_p99, "ok": ok,
            "errors": errors, "stored": stored, "lost": lost}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=500)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args.database or f"sqlite:///{Path(tmp) / 'burst.db'}", args.officers)


if __name__ == "__main__":
    main()
