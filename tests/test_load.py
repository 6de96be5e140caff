"""Load and faults against the real app under gunicorn on 127.0.0.1, on SQLite and PostgreSQL.

A class of 50 officers presses Send at the same moment: every response is stored once, no 5xx.
The server is killed in the middle of such a burst and restarted: every officer who saw the
thank-you page has a response in the database, and when the others press Send again, nobody is
stored twice.
"""
from __future__ import annotations

import http.client
import signal
import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from survey import services
from survey.bank import current_bank
from survey.extensions import db
from survey.models import Response
from tests.conftest import fresh_database, make_agency, make_cohort
from tests.servers import SECRET, Browser, free_port, gunicorn, stop

OFFICERS = 50
pytestmark = pytest.mark.slow


@pytest.fixture
def migrated(database_url):
    """An app on a database built by the migrations, with one open wave."""
    with fresh_database(database_url, create_tables=False) as app:
        app.config["SECRET_KEY"] = SECRET
        with app.app_context():
            upgrade()
            code = make_cohort(make_agency()).waves[0].join_code
            db.session.remove()
        yield app, database_url, code


def answers(n):
    return {f"q_{item.code}": str(1 + (n + i) % 5)
            for i, item in enumerate(current_bank().instrument_items("training"))}


def burst(officers, code):
    """Everyone presses Send at the same moment; returns (status, location) per officer."""
    start = threading.Barrier(len(officers))
    results = [None] * len(officers)

    def press(i):
        start.wait()
        try:
            status, location, _ = officers[i].send(code, answers(i))
            results[i] = (status, location)
        except (OSError, http.client.HTTPException) as error:  # the server died mid-answer
            results[i] = (None, repr(error))
    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(officers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def expected_id(app, officer):
    """The response key the server derives from this officer's session nonce."""
    serializer = app.session_interface.get_signing_serializer(app)
    state = serializer.loads(officer.cookies[app.config["SESSION_COOKIE_NAME"]])
    nonce = next(v for k, v in state.items() if k.startswith("nonce"))
    return services.response_id(SECRET, nonce)


def stored_ids(app):
    with app.app_context():
        ids = db.session.scalars(sa.select(Response.id)).all()
        db.session.remove()
        return ids


def test_fifty_officers_pressing_send_at_once(migrated):
    app, url, code = migrated
    port = free_port()
    with gunicorn(url, port):
        officers = [Browser(port).ready(code) for _ in range(OFFICERS)]
        keys = [expected_id(app, o) for o in officers]
        results = burst(officers, code)
    assert all(status == 302 and location.endswith("/thanks") for status, location in results), \
        results
    ids = stored_ids(app)
    assert len(ids) == OFFICERS and sorted(ids) == sorted(keys)


def test_server_killed_mid_burst_loses_no_confirmed_answer_and_stores_none_twice(migrated):
    app, url, code = migrated
    port = free_port()
    with gunicorn(url, port) as server:
        officers = [Browser(port).ready(code) for _ in range(OFFICERS)]
        keys = [expected_id(app, o) for o in officers]
        killer = threading.Timer(0.15, stop, args=(server, signal.SIGKILL))
        killer.start()
        results = burst(officers, code)
        killer.join()
    confirmed = [k for k, (status, loc) in zip(keys, results)
                 if status == 302 and loc.endswith("/thanks")]
    stored = stored_ids(app)
    assert set(confirmed) <= set(stored)  # every thank-you page is backed by a stored response
    assert len(stored) == len(set(stored))
    again = [(o, k) for o, k, (status, loc) in zip(officers, keys, results)
             if not (status == 302 and loc.endswith("/thanks"))]
    # the kill really cut the burst off: some officers got no thank-you page, and the server
    # did not answer every Send before it died
    assert again, "every request was answered before the kill: the test proved nothing"
    assert len(stored) < len(keys)
    with gunicorn(url, port):  # restarted; those who saw an error press Send again
        for officer, _ in again:
            status, location, _ = officer.send(code, answers(0))
            assert status == 302 and location.endswith("/thanks")
    stored = stored_ids(app)
    assert sorted(stored) == sorted(keys)  # everyone in, exactly once
