"""The network's benchmarks, measured: a dashboard beside 2,000 other agencies costs what it costs
alone.

    .venv/bin/python benchmarks/network.py [--database postgresql+psycopg://...] [--quick]

On SQLite (a temporary folder) and, when a URL is given or BENCH_DATABASE_URL /
TEST_DATABASE_URL is set, on PostgreSQL (that database is EMPTIED). One agency that has opted
in, with 12 monthly pulses of 100 officers, is published and its dashboard measured (median CPU
milliseconds over repeated requests through the app's own WSGI stack, and its SQL statements)
with no other agency; then 2,000 other opted-in agencies of every size and region are added,
each with ten years of quarterly published pulse summaries (40 versions, 80,000 results in
all: what the benchmark reads, since it never reads answers), the agency is published again
and measured again. The figures: the publishing job's CPU seconds and the page's CPU
milliseconds, before and after, and their ratios (target for the page: 1.0, the same cost).
"""
from __future__ import annotations

import json
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from benchmarks.harness import migrated_database, run_in_process, say, sign_in  # noqa: E402
from benchmarks.published import PASSWORD, monthly_pulses, page_cpu, publish_all_due  # noqa: E402
from survey import accounts, network, publishing, services  # noqa: E402
from survey.bank import current_bank  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import (Agency, Cadence, PublicationStatus, PublishedPart,  # noqa: E402
                           PublishedResult, Role)


def other_agencies(rng, count, versions):
    """`count` opted-in agencies with `versions` published summaries each, inserted as the
    publishing job stores them (only the summary part: the rest is never read by a benchmark)."""
    constructs = list(current_bank().instruments["pulse"].constructs)
    states = sorted(network.REGIONS)
    agencies = [{"name": f"Network PD {n:04d}", "timezone": "UTC", "min_group_size": 5,
                 "min_comment_group_size": 10, "ask_linkage": False, "shifts": [],
                 "pulse_cadence": Cadence.QUARTERLY, "headcount": int(rng.choice([20, 60, 240, 700,
                                                                            2000])),
                 "interim_results": False, "results_token": f"net{n:05d}",
                 "linkage_salt": f"salt{n}", "trainers_read_all_reports": True,
                 "state": states[rng.integers(len(states))], "kind": "municipal",
                 "benchmark_opt_in": True} for n in range(count)]
    db.session.execute(sa.insert(Agency), agencies)
    ids = db.session.scalars(sa.select(Agency.id).where(Agency.name.like("Network PD %"))
                             .order_by(Agency.id)).all()
    for start in range(0, len(ids), 250):
        results, parts = [], []
        for agency_id in ids[start:start + 250]:
            for version in range(1, versions + 1):
                results.append({"agency_id": agency_id, "subject": f"agency:{agency_id}",
                                "version": version, "status": PublicationStatus.COMPLETE,
                                "k": 5, "basis": {}, "interim": False, "error": ""})
        db.session.execute(sa.insert(PublishedResult), results)
        made = db.session.execute(sa.select(PublishedResult.id).where(
            PublishedResult.agency_id.in_(ids[start:start + 250]))).scalars().all()
        for result_id in made:
            summary = {"scales": [{"construct": c, "mean": float(rng.normal(3, 0.3)),
                                   "n": int(rng.integers(20, 200))} for c in constructs]}
            parts.append({"result_id": result_id, "name": network.SUMMARY_PART,
                          "media_type": "application/json",
                          "body": zlib.compress(json.dumps(summary).encode(), 6)})
        db.session.execute(sa.insert(PublishedPart), parts)
        db.session.commit()
    return len(ids)


def run(label, url, quick):
    rng = np.random.default_rng(2026)
    count, versions, repeats = (200, 8, 10) if quick else (2000, 40, 30)
    rows = []
    with migrated_database(url) as app:
        app.config["JOBS_BACKEND"] = "inline"

        @app.get("/bench/bare")
        def bare():
            return "ok"

        with app.app_context():
            agency = services.get_or_create_agency("Home PD", headcount=240)
            agency.state, agency.benchmark_opt_in = "IL", True
            email = accounts.create_staff_user(agency, email="admin@bench.example.org",
                                               name="Admin", role=Role.ADMIN,
                                               password=PASSWORD).email
            agency_id = agency.id
            say(f"{label}: 12 monthly pulses of 100 officers")
            services.agency_instrument(agency, "pulse")  # the bank's statements, stored
            monthly_pulses(agency, rng, 12, 100)
            publish_all_due(agency_id)
            engine = db.engine
        client = app.test_client()
        sign_in(client, email, PASSWORD)
        measured = {}
        for stage in ("alone", "beside"):
            if stage == "beside":
                with app.app_context():
                    say(f"{label}: {count} other agencies, {versions} published pulses each")
                    other_agencies(rng, count, versions)
            with app.app_context():
                publishing.publish_agency(agency_id)  # warm
                began = time.process_time()
                publishing.publish_agency(agency_id)
                job = time.process_time() - began
                began = time.process_time()
                others = network.contributions(db.session.get(Agency, agency_id))
                read = time.process_time() - began
            ms, statements = page_cpu(client, engine, "/leadership/", repeats)
            measured[stage] = (job, read, ms, statements, others["agency"].nunique())
        bare_ms, _ = page_cpu(client, engine, "/bench/bare", repeats)
    (job0, read0, ms0, sql0, n0), (job1, read1, ms1, sql1, n1) = \
        measured["alone"], measured["beside"]
    rows.append(("Publish the dashboard, alone (job)", job0, "s CPU", f"{n0} other agencies"))
    rows.append((f"Publish the dashboard beside {n1:,} agencies (job)", job1, "s CPU",
                 f"{job1 / job0:.2f}x alone"))
    rows.append(("  of which reading their summaries", read1, "s CPU",
                 f"{read0 * 1000:.1f} ms alone"))
    rows.append(("Dashboard page, alone", ms0, "ms CPU", f"{ms0 / bare_ms:.1f}x bare, "
                                                         f"{sql0} SQL"))
    rows.append((f"Dashboard page beside {n1:,} agencies", ms1, "ms CPU",
                 f"{ms1 / ms0:.2f}x alone (target 1.0), {sql1} SQL"))
    rows.append(("Bare route", bare_ms, "ms CPU", ""))
    return rows


def main():
    run_in_process(__doc__, run, width=52, digits=3)


if __name__ == "__main__":
    main()
