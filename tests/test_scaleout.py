"""Scale-out: two app servers, one PostgreSQL, one Redis.

Two gunicorn servers on two ports of 127.0.0.1, each with several workers and production
settings (long secrets, HTTPS-only cookies, which the test browser sends over plain http), share
one PostgreSQL and one Redis, as two hosts behind a load balancer do. A client's requests land on
either server: its session, the rate limits and the stored answers must not care which.
"""
from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest
import redis
from flask_migrate import upgrade

from survey import services
from survey.config import Config
from survey.extensions import db
from tests.conftest import PG_URL, fresh_database, make_agency, make_cohort, make_staff
from tests.servers import PRODUCTION, Browser, free_port, gunicorn, job_worker
from tests.test_load import answers, burst, stored_ids

pytestmark = pytest.mark.slow
REDIS = "redis://127.0.0.1:6379/15"
WORKERS = 2
OFFICERS = 40
#: Failed sign-ins per minute before the limit trips (10 unless the config changes).
LOGIN_LIMIT = int(re.match(r"\s*(\d+)", Config.LOGIN_LIMIT).group(1))


@pytest.fixture
def servers():
    """Two production servers on one migrated PostgreSQL database and one Redis."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: two servers share one PostgreSQL (production "
                    "refuses SQLite behind several workers), so this runs on PostgreSQL only")
    store = redis.Redis.from_url(REDIS)
    store.ping()  # Redis is a real part of the deployment: it must be running here
    prefix = f"test-scaleout-{uuid.uuid4().hex}"
    with fresh_database(PG_URL, create_tables=False) as app:
        app.config["SECRET_KEY"] = PRODUCTION["SECRET_KEY"]
        with app.app_context():
            upgrade()
            agency = make_agency()
            trainer = make_staff(agency)
            cohort = make_cohort(agency, trainer)
            code, email = cohort.waves[0].join_code, trainer.email
            cohort_id, wave_id = cohort.id, cohort.waves[0].id
            db.session.remove()
        ports = [free_port()]
        while len(ports) < 2:
            ports = list({*ports, free_port()})
        settings = {**PRODUCTION, "REDIS_URL": REDIS, "RATELIMIT_KEY_PREFIX": prefix,
                    "SUBMIT_GRACE_MINUTES": "0"}
        for key in store.scan_iter("rq:*"):
            store.delete(key)
        try:
            with gunicorn(PG_URL, ports[0], workers=WORKERS, **settings), \
                    gunicorn(PG_URL, ports[1], workers=WORKERS, **settings), \
                    job_worker(PG_URL, **settings):
                yield SimpleNamespace(app=app, ports=ports, code=code, email=email,
                                      redis=store, prefix=prefix, cohort_id=cohort_id,
                                      wave_id=wave_id)
        finally:
            for key in [*store.scan_iter(f"*{prefix}*"), *store.scan_iter("rq:*")]:
                store.delete(key)


def sign_in(browser, port, email, password):
    browser.port = port
    browser.request("GET", "/auth/login")
    return browser.request("POST", "/auth/login", {"csrf_token": browser.token, "email": email,
                                                   "password": password})[0]


def test_a_login_limit_counts_the_sum_of_attempts_on_both_servers(servers):
    """Failed sign-ins alternate between the servers: each sees only half of them, yet the
    limit trips after LOGIN_LIMIT in all, on both, even for the right password."""
    browser, one, two = Browser(servers.ports[0]), *servers.ports
    tries = [(port, sign_in(browser, port, servers.email, "wrong password"))
             for port in [one, two] * (LOGIN_LIMIT // 2)]
    assert [status for _, status in tries] == [200] * LOGIN_LIMIT  # the form, with its error
    assert sum(port == one for port, _ in tries) == LOGIN_LIMIT // 2  # under the limit alone
    for port in (one, two):
        assert sign_in(browser, port, servers.email, "wrong password") == 429
        assert sign_in(browser, port, servers.email, "correct horse battery") == 429
    assert sign_in(Browser(one), one, servers.email, "correct horse battery") == 429
    keys = [key.decode() for key in servers.redis.scan_iter(f"*{servers.prefix}*")]
    assert keys and not [key for key in keys if "127.0.0.1" in key]


def expected_id(app, officer):
    """The response key the servers derive from this officer's session nonce."""
    serializer = app.session_interface.get_signing_serializer(app)
    state = serializer.loads(officer.cookies[app.config["SESSION_COOKIE_NAME"]])
    nonce = next(v for k, v in state.items() if k.startswith("nonce"))
    return services.response_id(PRODUCTION["SECRET_KEY"], nonce)


def test_a_burst_split_across_both_servers_stores_every_response_once(servers):
    """Officers open the survey on one server and press Send on the other, all at once; a
    quarter of them double-tap, the second tap reaching the first server at the same moment."""
    one, two = servers.ports
    officers = [Browser(one if i % 2 else two).ready(servers.code) for i in range(OFFICERS)]
    keys = [expected_id(servers.app, officer) for officer in officers]
    twins = []
    for i, officer in enumerate(officers):
        if i % 4 == 0:
            twin = Browser(officer.port)
            twin.cookies, twin.token = dict(officer.cookies), officer.token
            twins.append(twin)
        officer.port = two if officer.port == one else one
    results = burst(officers + twins, servers.code)
    assert {officer.port for officer in officers} == {one, two}
    assert all(status == 302 and location.endswith("/thanks")
               for status, location in results), results  # no 5xx, no error page
    stored = stored_ids(servers.app)
    assert len(stored) == OFFICERS and sorted(stored) == sorted(keys)  # each exactly once


def test_a_close_on_one_server_is_published_by_the_worker_and_read_on_the_other(servers):
    """The trainer presses Close on one server; neither server computes anything; the job
    worker publishes, and the other server serves the published report."""
    import time
    one, two = servers.ports
    for i in range(6):
        officer = Browser(one if i % 2 else two).ready(servers.code)
        assert officer.send(servers.code, answers(i))[0] == 302
    trainer = Browser(one)
    assert sign_in(trainer, one, servers.email, "correct horse battery") == 302
    trainer.request("GET", f"/trainer/cohorts/{servers.cohort_id}")
    status, _, _ = trainer.request("POST", f"/trainer/waves/{servers.wave_id}/close",
                                   {"csrf_token": trainer.token})
    assert status == 302
    trainer.port = two
    for _ in range(200):
        _, _, page = trainer.request("GET", f"/trainer/cohorts/{servers.cohort_id}/report")
        if "Scale scores in each survey" in page:
            break
        time.sleep(0.1)
    assert "from 6 answer sheets in before training" in page
