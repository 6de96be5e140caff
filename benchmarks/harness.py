"""What the web benchmarks share, without pytest: a database built by the migrations, the app
under real gunicorn (the deployed settings in gunicorn.conf.py) on 127.0.0.1, officers walking
the real survey path, and small timing helpers.

The gunicorn helper mirrors tests/servers.py's, but can serve `benchmarks/bench_wsgi.py`: the
real app plus one bare route, so that both are measured against the same server in the same run.
"""
from __future__ import annotations

import io
import os
import statistics
import sys
from contextlib import contextmanager, redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from survey import create_app, services  # noqa: E402
from survey.bank import current_bank, linkage_elements  # noqa: E402
from survey.extensions import db  # noqa: E402
from tests import servers  # noqa: E402  (no pytest in there)
from tests.servers import Browser, free_port  # noqa: E402

SECRET = "bench-secret"
LINKAGE_SECRET = "bench-linkage-secret"


def sign_in(client, email: str, password: str) -> None:
    """Sign a Flask test client in through the real login form."""
    import re
    page = client.get("/auth/login").text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/auth/login", data={"csrf_token": csrf, "email": email,
                                            "password": password}).status_code == 302


def print_results(results: dict, width: int = 48, digits: int = 2) -> None:
    """Each engine's rows of (name, value, unit, note), as the in-process benchmarks print."""
    for label, rows in results.items():
        print(f"\n{label}")
        for name, value, unit, note in rows:
            print(f"  {name:{width}} {value:9.{digits}f} {unit:7} {note}")


def run_in_process(doc: str, run, width: int = 48, digits: int = 2) -> None:
    """The command line of an in-process benchmark: ``--database`` (a PostgreSQL URL, emptied)
    and ``--quick``; `run(label, url, quick)` on each engine, then its rows printed."""
    import argparse
    import tempfile
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL URL (emptied)")
    parser.add_argument("--quick", action="store_true", help="a smoke run, small data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {label: run(label, url, args.quick)
                   for label, url in database_urls(args.database, Path(tmp))}
    print_results(results, width, digits)


def say(*parts) -> None:
    """Progress: long runs print each step as it starts."""
    print(*parts, flush=True)


def database_urls(given: str | None, tmp: Path) -> list[tuple[str, str]]:
    """(engine name, URL): SQLite in `tmp`, and PostgreSQL when a URL is given or set in
    BENCH_DATABASE_URL or TEST_DATABASE_URL (that database is emptied)."""
    urls = [("SQLite", f"sqlite:///{tmp / 'bench.db'}")]
    pg = given or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        urls.append(("PostgreSQL", pg))
    return urls


def make_app(url: str):
    # Development settings: plain http on 127.0.0.1 and SQLite behind several workers, which
    # production refuses; nothing else differs.
    return create_app({"SURVEY_ENV": "development", "SECRET_KEY": SECRET,
                       "LINKAGE_SECRET": LINKAGE_SECRET,
                       "SQLALCHEMY_DATABASE_URI": url, "SESSION_COOKIE_SECURE": False,
                       "REMEMBER_COOKIE_SECURE": False})


@contextmanager
def migrated_database(url: str):
    """An app on the emptied database `url`, built by the migrations; emptied afterwards."""
    app = make_app(url)
    with app.app_context():
        _empty()
        with redirect_stderr(io.StringIO()):  # Alembic's line per migration
            upgrade()
        db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            _empty()
            db.engine.dispose()


def _empty():
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def open_training_wave(app, agency_name: str = "Benchmark Police Department") -> str:
    """An agency with a class whose before-training survey is open; returns its join code."""
    import datetime as dt
    with app.app_context():
        agency = services.get_or_create_agency(agency_name)
        cohort = services.create_cohort(agency, name="Benchmark class",
                                        held_on=dt.date.today(), trainer=None,
                                        topics=["science_of_addiction"])
        services.open_wave(cohort.waves[0], hours=24)
        db.session.commit()
        code = cohort.waves[0].join_code
        db.session.remove()
    return code


@contextmanager
def gunicorn(database_url: str, workers: int = 4, app: str = "benchmarks.bench_wsgi:app"):
    """Gunicorn with the deployed settings, serving `app` from benchmarks/; yields the port."""
    port = free_port()
    with servers.gunicorn(database_url, port, workers, app=app, backlog=2048,
                          SECRET_KEY=SECRET, LINKAGE_SECRET=LINKAGE_SECRET):
        yield port


def stored_answers(app, code: str) -> int:
    """Answer sheets stored for the survey with this join code."""
    from survey.models import Response, Wave
    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Response)
                              .join(Wave, Wave.id == Response.wave_id)
                              .where(Wave.join_code == code))
        db.session.remove()
    return n


def answers(n: int) -> dict[str, str]:
    """A full training survey's answers, varied per officer."""
    return {f"q_{item.code}": str(1 + (n + i) % 5)
            for i, item in enumerate(current_bank().instrument_items("training"))}


def linkage(n: int) -> dict[str, str]:
    """A personal code: the first choice of each element, shifted per officer."""
    code = {}
    for i, element in enumerate(linkage_elements()):
        values = [value for value, _ in element.choices]
        code[element.code] = values[(n + i) % len(values)]
    return code


def officer_at_questions(port: int, code: str, n: int) -> Browser:
    """One officer's real path up to the questions: the join page and its form, the notice,
    the personal-code page and its form (every second officer skips it), the questions page.
    Returns the officer's browser, holding the session cookie and the page's CSRF token."""
    officer = Browser(port)
    officer.request("GET", "/")
    status, location, _ = officer.request("POST", "/", {"csrf_token": officer.token,
                                                        "code": code.lower()})
    assert status == 302 and location.endswith(f"/s/{code}"), (status, location)
    assert officer.request("GET", f"/s/{code}")[0] == 200
    officer.request("GET", f"/s/{code}/code")
    form = {"csrf_token": officer.token, "skip": "1"} if n % 2 else {
        "csrf_token": officer.token, "proceed": "1", **linkage(n)}
    assert officer.request("POST", f"/s/{code}/code", form)[0] == 302
    status, _, page = officer.request("GET", f"/s/{code}/questions")
    assert status == 200 and "Send my answers" in page, status
    return officer


def percentile(values, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def median(values) -> float:
    return statistics.median(values)
