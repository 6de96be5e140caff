"""The end of a large class: 500 officers press Send at the same moment.

    .venv/bin/python benchmarks/burst.py [--officers 500] [--database postgresql+psycopg://...]

Against the real app under gunicorn on 127.0.0.1 (SQLite in a temporary folder by default, or the
database given, which is emptied first). Prints p50/p99 latency, 5xx and lost responses, and the
same burst against a bare Flask route served by the same gunicorn settings, measured in the same
run (targets: p99 < 300 ms, none lost). Progress is printed as sessions are prepared.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from survey.extensions import db  # noqa: E402
from survey.models import Response  # noqa: E402
from tests.conftest import fresh_database, make_agency, make_cohort  # noqa: E402
from tests.servers import Browser, free_port, gunicorn  # noqa: E402
from tests.test_load import answers  # noqa: E402


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
    times = sorted(t for _, t in results)
    ok = sum(1 for s, _ in results if s in (200, 302))
    errors = sum(1 for s, _ in results if s is None or s >= 500)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    print(f"{name:44} ok {ok:4}  5xx/refused {errors:3}  p50 {statistics.median(times) * 1000:7.0f} "
          f"ms  p99 {p99:7.0f} ms")
    return p99


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=500)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'burst.db'}"
        with fresh_database(url, create_tables=False) as app:
            app.config["SECRET_KEY"] = "load-test-secret"
            with app.app_context():
                upgrade()
                code = make_cohort(make_agency()).waves[0].join_code
                db.session.remove()
            port = free_port()
            print(f"database: {url.split('@')[-1]}; {args.officers} officers")
            with gunicorn(url, port, workers=4):
                officers = []
                for n in range(args.officers):
                    officers.append(Browser(port).ready(code))
                    if (n + 1) % 100 == 0:
                        print(f"  {n + 1} officers have the survey open")
                bare = fire(officers, lambda i: Browser(port).request("GET", "/privacy")[0])
                survey = fire(officers, lambda i: officers[i].send(code, answers(i))[0])
            bare_p99 = summary("bare page (GET /privacy), same burst", bare)
            p99 = summary("survey submit, same burst", survey)
            with app.app_context():
                stored = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
                db.session.remove()
            print(f"stored {stored} of {args.officers}; lost "
                  f"{args.officers - stored}; p99 ratio submit/bare {p99 / bare_p99:.1f}x "
                  f"(target: p99 < 300 ms, none lost)")


if __name__ == "__main__":
    main()
