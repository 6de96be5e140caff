"""Published results, measured: what publishing costs once, and what a page costs after it.

    .venv/bin/python benchmarks/published.py [--database postgresql+psycopg://...] [--quick]

On SQLite (a temporary folder) and, when a URL is given or BENCH_DATABASE_URL /
TEST_DATABASE_URL is set, on PostgreSQL (that database is EMPTIED). In one process, through the
app's own WSGI stack (Flask's test client, signed in as the agency's administrator), with:

- a training class of 1,000 officers answering before, after and at 30- and 90-day follow-ups;
- 50 classes of 30 officers each (before and after), for Compare;
- ten years of monthly pulses of 300 officers each (120 pulses, 36,000 answer sheets).

Figures: the CPU seconds of publishing that class, those pulses and a new Compare selection
(the work a job does once); then, per page, the median CPU milliseconds over repeated requests
beside a bare route measured in the same run, their ratio (target: at most 5), and the SQL
statements each page ran. CPU time (`time.process_time`) hardly moves when other programs share
the cores. No test asserts on these times; `tests/test_publishing.py` holds the statement counts.
"""
from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask import current_app  # noqa: E402

from benchmarks.harness import migrated_database, run_in_process, say, sign_in  # noqa: E402
from flask import render_template  # noqa: E402

from survey import accounts, linkage, publishing, services  # noqa: E402
from survey.access import role_required  # noqa: E402
from survey.bank import current_bank, linkage_elements  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Agency, Answer, Item, Response, Role, Unit, Wave  # noqa: E402

PASSWORD = "lantern orchard quietly seventeen"


def _codes(rng):
    return {e.code: e.choices[rng.integers(len(e.choices))][0] for e in linkage_elements()}


def training_class(agency, rng, name, officers, held_on, followups=()):
    """A class whose officers answered every wave, closed (not yet published)."""
    cohort = services.create_cohort(agency, name=name, held_on=held_on, trainer=None,
                                    topics=["relapse"], followups=list(followups))
    items = current_bank().instrument_items("training")
    ids = {i.code: i.id for i in db.session.scalars(sa.select(Item).where(
        Item.code.in_([i.code for i in items])))}
    codes = [_codes(rng) for _ in range(officers)]
    secret = current_app.config["LINKAGE_SECRET"]
    level = rng.normal(3, 0.7, size=officers)
    responses, answers = [], []
    for n, wave in enumerate(cohort.waves):
        day = held_on + dt.timedelta(days=wave.followup_days or 0)
        wave.opens_at = dt.datetime.combine(day, dt.time(8), dt.timezone.utc)
        wave.closes_at = wave.opens_at + dt.timedelta(hours=8)
        for officer in range(officers):
            key = uuid.uuid4()
            responses.append({"id": key, "wave_id": wave.id, "submitted_on": day,
                              "linkage": linkage.hash_linkage(codes[officer], secret=secret,
                                                              salt=agency.linkage_salt)})
            shift = -0.4 * (n > 0)
            for item in items:
                value = int(np.clip(np.rint(level[officer] + shift + rng.normal(0, .7)), 1, 5))
                answers.append({"response_id": key, "item_id": ids[item.code], "value": value})
    db.session.flush()
    _insert(responses, answers)
    return cohort


def monthly_pulses(agency, rng, months, officers):
    units = [Unit(agency=agency, name=f"Unit {n}") for n in range(6)]
    db.session.add_all(units)
    db.session.flush()
    items = current_bank().instrument_items("pulse")
    ids = {i.code: i.id for i in db.session.scalars(sa.select(Item).where(
        Item.code.in_([i.code for i in items])))}
    today = dt.date.today()
    for month in range(months):
        opens = today - dt.timedelta(days=30 * (months - month) + 20)
        wave = services.start_pulse(agency, None, opens_on=opens, days_open=14)
        responses, answers = [], []
        for _ in range(officers):
            key = uuid.uuid4()
            unit = units[rng.integers(len(units))]
            responses.append({"id": key, "wave_id": wave.id, "submitted_on": opens,
                              "linkage": None, "unit_id": unit.id,
                              "shift": agency.shifts[rng.integers(3)]})
            for item in items:
                answers.append({"response_id": key, "item_id": ids[item.code],
                                "value": int(rng.integers(1, 6))})
        _insert(responses, answers)


def _insert(responses, answers):
    db.session.execute(sa.insert(Response), responses)
    for start in range(0, len(answers), 50_000):
        db.session.execute(sa.insert(Answer), answers[start:start + 50_000])
    db.session.commit()


def cpu(function, *args):
    began = time.process_time()
    function(*args)
    return time.process_time() - began


def publish_all_due(agency_id):
    for wave_id in publishing.due_wave_ids(agency_id):
        publishing.seal(wave_id)
    cohorts = db.session.scalars(sa.select(Wave.cohort_id).where(
        Wave.agency_id == agency_id, Wave.cohort_id.is_not(None),
        Wave.sealed_at.is_not(None)).distinct()).all()
    for cohort_id in cohorts:
        publishing.publish_cohort(cohort_id)
    publishing.publish_agency(agency_id)
    publishing.scramble()


def page_cpu(client, engine, url, repeats):
    """Median CPU ms of `url` over `repeats` requests, and its SQL statement count."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    client.get(url)
    times = []
    for n in range(repeats):
        if n == 0:
            sa.event.listen(engine, "before_cursor_execute", count)
        began = time.process_time()
        reply = client.get(url)
        times.append((time.process_time() - began) * 1000)
        if n == 0:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert reply.status_code == 200, (url, reply.status_code)
        reply.close()
    return statistics.median(times), len(statements)


def run(label, url, quick):
    rng = np.random.default_rng(2026)
    big, classes, per_class = (100, 10, 20) if quick else (1000, 50, 30)
    months, pulse_n = (12, 60) if quick else (120, 300)
    rows = []
    with migrated_database(url) as app:
        app.config["JOBS_BACKEND"] = "inline"

        @app.get("/bench/bare")
        def bare():
            return "ok"

        @app.get("/bench/shell")
        @role_required(Role.ADMIN)
        def shell():  # a signed-in staff page with nothing on it: the staff shell alone
            return render_template("staff_base.html")

        with app.app_context():
            agency = services.get_or_create_agency("Benchmark PD")
            email = accounts.create_staff_user(agency, email="admin@bench.example.org",
                                               name="Admin", role=Role.ADMIN,
                                               password=PASSWORD).email
            say(f"{label}: a class of {big} officers with two follow-ups")
            cohort = training_class(agency, rng, "Big class", big, dt.date(2026, 1, 10),
                                    followups=(30, 90))
            big_id, agency_id = cohort.id, agency.id
            say(f"{label}: publishing it")
            for wave_id in publishing.due_wave_ids(agency_id):
                publishing.seal(wave_id)
            rows.append(("Publish the 1,000-officer class (job)",
                         cpu(publishing.publish_cohort, big_id), "s CPU", "target <= 10"))
            say(f"{label}: {classes} classes of {per_class}, {months} monthly pulses of "
                f"{pulse_n}")
            for n in range(classes):
                training_class(agency, rng, f"Class {n:02d}", per_class,
                               dt.date(2025, 1, 1) + dt.timedelta(days=7 * n))
            monthly_pulses(db.session.get(Agency, agency_id), rng, months, pulse_n)
            began = time.process_time()
            publish_all_due(agency_id)
            rows.append((f"Publish {classes} classes and {months} pulses (jobs)",
                         time.process_time() - began, "s CPU", ""))
            began = time.process_time()
            publishing.publish_agency(agency_id)
            rows.append((f"  of which the dashboard over {months} pulses",
                         time.process_time() - began, "s CPU", ""))
            engine = db.engine
            token = db.session.get(Agency, agency_id).results_token
        client = app.test_client()
        sign_in(client, email, PASSWORD)
        began = time.process_time()
        client.get("/trainer/compare")  # a new selection: computed once, in the job
        rows.append((f"Compare {classes + 1} classes, first time (job)",
                     time.process_time() - began, "s CPU", ""))
        repeats = 10 if quick else 30
        bare_ms, bare_sql = page_cpu(client, engine, "/bench/bare", repeats)
        rows.append(("Bare route", bare_ms, "ms CPU", f"{bare_sql} SQL"))
        shell_ms, shell_sql = page_cpu(client, engine, "/bench/shell", repeats)
        rows.append(("Empty signed-in staff page", shell_ms, "ms CPU",
                     f"{shell_ms / bare_ms:.1f}x bare, {shell_sql} SQL"))
        for name, path in (("Report, 1,000-officer class", f"/trainer/cohorts/{big_id}/report"),
                           ("Report JSON", f"/trainer/cohorts/{big_id}/report.json"),
                           ("Responses CSV", f"/trainer/cohorts/{big_id}/responses.csv"),
                           (f"Compare, {classes + 1} classes", "/trainer/compare"),
                           (f"Dashboard, {months} pulses", "/leadership/"),
                           ("Officers' results page", f"/results/{token}")):
            ms, statements = page_cpu(client, engine, path, repeats)
            rows.append((name, ms, "ms CPU", f"{ms / bare_ms:.1f}x bare (target <= 5), "
                                              f"{ms / shell_ms:.1f}x empty staff page, "
                                              f"{statements} SQL"))
    return rows


def main():
    run_in_process(__doc__, run, width=48, digits=2)


if __name__ == "__main__":
    main()
