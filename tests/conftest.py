"""Fixtures. Every database test runs on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from survey import accounts, create_app, services
from survey.extensions import db
from survey.models import Role

PG_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct horse battery"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: the PostgreSQL run is skipped")
    return PG_URL


def make_app(database_url, **config):
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "LINKAGE_SECRET": "test-linkage-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # Jobs run at once, and a closed wave is published at once (the grace-period tests set
        # their own).
        "JOBS_BACKEND": "inline",
        "SUBMIT_GRACE_MINUTES": 0,
        **config,
    })


@contextmanager
def fresh_database(database_url, create_tables=True):
    """An app on an emptied database (tables from the models unless `create_tables` is False);
    emptied again afterwards."""
    app = make_app(database_url)
    with app.app_context():
        db.drop_all()
        _drop_alembic_version()
        if create_tables:
            db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            _drop_alembic_version()
            db.engine.dispose()


@pytest.fixture
def app(database_url):
    with fresh_database(database_url) as app:
        yield app


def _drop_alembic_version():
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- Small factories (the role flaskr's data.sql plays) ----------------------------------------

def make_agency(name="Test Police Department", **settings):
    agency = services.get_or_create_agency(name, **settings)
    db.session.commit()
    return agency


def make_staff(agency, role=Role.TRAINER, email=None):
    return accounts.create_staff_user(
        agency, email=email or f"{role.value}@{agency.id}.example.org", name=f"A {role.value}",
        role=role, password=PASSWORD)


def make_cohort(agency, trainer=None, open_pre=True, name="Deflection basics"):
    import datetime as dt
    cohort = services.create_cohort(agency, name=name, held_on=dt.date(2026, 11, 20),
                                    trainer=trainer, topics=["science_of_addiction", "relapse"])
    if open_pre:
        services.open_wave(cohort.waves[0], hours=24)
    return cohort


@pytest.fixture
def setup(app):
    """An agency with a trainer and a cohort whose pre wave is open; returns plain values."""
    with app.app_context():
        agency = make_agency()
        trainer = make_staff(agency, Role.TRAINER)
        cohort = make_cohort(agency, trainer)
        return {"agency_id": agency.id, "trainer_email": trainer.email,
                "cohort_id": cohort.id, "pre": cohort.waves[0].join_code,
                "pre_id": cohort.waves[0].id, "post": cohort.waves[1].join_code,
                "post_id": cohort.waves[1].id}


class Officer:
    """Walks the officer's path through the real routes, as a browser would."""

    def __init__(self, client, code):
        self.client, self.code = client, code
        self.token = None

    def start(self):
        page = self.client.get(f"/s/{self.code}")
        assert page.status_code == 200, page.text
        return page

    def give_code(self, skip=False, **elements):
        page = self.client.get(f"/s/{self.code}/code")
        data = {"csrf_token": csrf_token(page.text), **elements}
        data["skip" if skip else "proceed"] = "x"
        return self.client.post(f"/s/{self.code}/code", data=data)

    def questions(self):
        page = self.client.get(f"/s/{self.code}/questions")
        self.token = csrf_token(page.text)
        return page

    def fields(self, page=None):
        page = page or self.questions()
        return list(dict.fromkeys(re.findall(r'name="(q_[A-Z0-9_]+)"', page.text)))

    def submit(self, answers: dict, **extra):
        if self.token is None:
            self.questions()
        return self.client.post(f"/s/{self.code}/questions",
                                data={"csrf_token": self.token, **answers, **extra})

    def send(self, answers: dict, **elements):
        """The whole path: join, the code step (skipped without `elements`), then `answers`."""
        self.start()
        self.give_code(**elements) if elements else self.give_code(skip=True)
        self.fields()
        return self.submit(answers)

    def answer_all(self, value="4", **elements):
        self.start()
        self.give_code(**elements) if elements else self.give_code(skip=True)
        fields = self.fields()
        return self.submit({f: value for f in fields})


@pytest.fixture
def officer(client, setup):
    return Officer(client, setup["pre"])


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, email, password=PASSWORD):
        page = self.client.get("/auth/login")
        return self.client.post("/auth/login", data={
            "csrf_token": csrf_token(page.text), "email": email, "password": password})

    def logout(self):
        page = self.client.get("/trainer/")
        return self.client.post("/auth/logout", data={"csrf_token": csrf_token(page.text)})


@pytest.fixture
def auth(client):
    return AuthActions(client)


def publish(app, *wave_ids):
    """Close these waves (those still open) and publish them, as the end of their grace period
    does; returns nothing. The figures of a wave exist only once it is published."""
    from survey import publishing
    from survey.models import Wave, WaveStatus
    with app.app_context():
        for wave_id in wave_ids:
            wave = db.session.get(Wave, wave_id)
            if wave.status() is not WaveStatus.CLOSED:
                services.close_wave(wave)
            publishing.publish_wave(wave_id)


def close_all(app, agency_id):
    """Close and publish every wave of the agency that has opened (pulses included)."""
    from survey.models import Wave
    with app.app_context():
        ids = db.session.scalars(sa.select(Wave.id).where(
            Wave.agency_id == agency_id, Wave.opens_at.is_not(None),
            Wave.sealed_at.is_(None)).order_by(Wave.id)).all()
    publish(app, *ids)


def count_rows(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@contextmanager
def count_statements(engine):
    """Collect the SQL statements run inside the block."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
