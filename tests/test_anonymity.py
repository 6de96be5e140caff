"""After officers submit, nothing in the database identifies them, their device or the time."""
import datetime as dt
import hashlib
import hmac
import uuid

import pytest
import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from survey.extensions import db
from survey.linkage import agency_key
from survey.models import Agency, Response
from tests.conftest import Officer

ADDRESS = "203.0.113.77"
FORWARDED = "198.51.100.23"
AGENT = "Mozilla/5.0 (Linux; Android 14; Pixel 8) UniqueTestAgent/9.9"
CODE = {"mother_initial": "Q", "father_initial": "X", "birth_month": "11", "older_siblings": "3",
        "birthplace_initial": "Z", "first_car_initial": "V"}


@pytest.fixture
def submitted(app, setup):
    """Three officers submit from identifiable devices; returns the app."""
    for n in range(3):
        client = app.test_client()
        client.environ_base.update({"REMOTE_ADDR": f"{ADDRESS[:-1]}{n}",
                                    "HTTP_USER_AGENT": AGENT,
                                    "HTTP_X_FORWARDED_FOR": FORWARDED})
        reply = Officer(client, setup["pre"]).answer_all(str(n + 2), **CODE)
        assert reply.status_code == 302
    return app


def every_value(app):
    """(table, column, value) for every cell of every table."""
    with app.app_context():
        meta = sa.MetaData()
        meta.reflect(bind=db.engine)
        with db.engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(table.select()):
                    for column, value in row._mapping.items():
                        yield table.name, column, value


def test_no_address_agent_or_forwarded_header_anywhere(submitted):
    for table, column, value in every_value(submitted):
        text = str(value)
        assert ADDRESS[:-2] not in text, (table, column)
        assert FORWARDED not in text, (table, column)
        assert "UniqueTestAgent" not in text and "Android" not in text, (table, column)


def test_respondent_tables_hold_no_time_of_day(submitted):
    with submitted.app_context():
        inspector = sa.inspect(db.engine)
        for table in ("response", "answer"):
            for column in inspector.get_columns(table):
                assert not isinstance(column["type"], (sa.DateTime, sa.Time)), (table, column)
        for table, column, value in every_value(submitted):
            if table in ("response", "answer"):
                assert not isinstance(value, (dt.datetime, dt.time)), (table, column)
                if isinstance(value, str):
                    assert ":" not in value or column == "linkage", (table, column, value)


def test_responses_carry_only_id_wave_date_linkage_and_optional_unit_and_shift(app):
    columns = {c.name for c in Response.__table__.columns}
    assert columns == {"id", "wave_id", "submitted_on", "linkage", "unit_id", "shift"}


def test_response_ids_are_random(submitted):
    with submitted.app_context():
        ids = db.session.scalars(sa.select(Response.id)).all()
    assert len(ids) == 3
    assert all(isinstance(i, uuid.UUID) and i.version == 4 for i in ids)
    assert len({i.hex[:8] for i in ids}) == 3  # no shared, time-based prefix


def test_linkage_is_stored_only_as_keyed_hashes(submitted):
    with submitted.app_context():
        agency = db.session.scalars(sa.select(Agency)).one()
        linkages = db.session.scalars(sa.select(Response.linkage)).all()
        key = agency_key(submitted.config["LINKAGE_SECRET"], agency.linkage_salt)
    for linkage in linkages:
        assert set(linkage) == set(CODE)
        for element, digest in linkage.items():
            raw = CODE[element]
            unkeyed = {h(text.encode()).hexdigest()[:32] for h in (hashlib.sha256, hashlib.sha1,
                                                                  hashlib.md5)
                       for text in (raw, f"{element}={raw}", f"{element}{raw}")}
            assert digest not in unkeyed  # anyone could recompute an unkeyed hash
            expected = hmac.new(key, f"{element}={raw}".encode(), hashlib.sha256).hexdigest()
            assert digest == expected[:32]
    # the raw answers appear nowhere in the database as a whole
    for table, column, value in every_value(submitted):
        if table == "response" and column == "linkage":
            continue
        assert str(value) not in ("Q", "X", "Z", "V"), (table, column)


def test_dictionary_attack_on_a_dump_fails_without_the_secret(submitted):
    """Whoever holds the dump (and the salt in it) but not the server secret finds nothing."""
    with submitted.app_context():
        salt = db.session.scalars(sa.select(Agency.linkage_salt)).one()
        digest = db.session.scalars(sa.select(Response.linkage)).first()["birth_month"]

    def attack(secret):
        key = agency_key(secret, salt)
        return [month for month in range(1, 13) if hmac.new(
            key, f"birth_month={month}".encode(), hashlib.sha256).hexdigest()[:32] == digest]
    # the attack itself works: with the server's secret it finds the month at once...
    assert attack(submitted.config["LINKAGE_SECRET"]) == [int(CODE["birth_month"])]
    # ...and with anything a dump holds or an attacker would try first, it finds nothing
    for guess in ["x", "secret", "changeme", "development-only-linkage", salt,
                  submitted.config["SECRET_KEY"]]:
        assert attack(guess) == [], guess


def test_session_cookie_ends_with_the_browser_and_forgets_the_survey(app, setup):
    client = app.test_client()
    officer = Officer(client, setup["pre"])
    officer.start()
    reply = officer.give_code(**CODE)
    cookie = reply.headers["Set-Cookie"]
    assert "Expires" not in cookie and "Max-Age" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    during = client.get_cookie("session").value
    officer.submit({f: "3" for f in officer.fields()})
    after = client.get_cookie("session").value
    serializer = app.session_interface.get_signing_serializer(app)
    # after Send only a keyed mark of the answered wave remains: no wave id, nonce, linkage
    # hashes or form token
    state = serializer.loads(after)
    assert list(state) == ["done"] and len(state["done"]) == 1
    assert [type(mark) for mark in state["done"]] == [str] and len(state["done"][0]) == 16
    # and no cookie of the survey carries the time it was written (Flask's default signer
    # stamps the second: for the cookie written at Send, the second Send was pressed)
    timed = SecureCookieSessionInterface().get_signing_serializer(app)
    for value in (during, after):
        with pytest.raises(BadSignature):
            timed.loads(value)
        payload = serializer.loads(value)
        assert serializer.dumps(payload) == value  # the same state signs to the same cookie


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_respondent_tables_have_no_insertion_order(submitted):
    """Without a rowid, SQLite stores rows in the order of their random key."""
    with submitted.app_context(), db.engine.connect() as conn:
        for table in ("response", "answer"):
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = :t"),
                               {"t": table}).scalar_one()
            assert "WITHOUT ROWID" in sql.upper()
            with pytest.raises(sa.exc.OperationalError):
                conn.execute(sa.text(f"SELECT rowid FROM {table}"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_row_order_and_transaction_ids_reveal_nothing_after_closing(app, setup):
    """Officers leave the room in order; after the wave closes, neither the heap order nor the
    transaction ids of the rows follow that order."""
    from survey import publishing, services
    from survey.models import Wave
    for n in range(12):
        Officer(app.test_client(), setup["pre"]).answer_all(str(1 + n % 5))

    def physical(table, key):
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                f"SELECT {key}, xmin::text FROM {table} ORDER BY ctid")).all()
        return [r[0] for r in rows], {r[1] for r in rows}

    with app.app_context():
        order, xmins = physical("response", "id")
        assert len(xmins) == 12  # before: one transaction per officer, in leaving order
        services.close_wave(db.session.get(Wave, setup["pre_id"]))
        publishing.publish_wave(setup["pre_id"])  # the end of the grace period
        order, xmins = physical("response", "id")
        assert order == sorted(order) and len(xmins) == 1
        answers, answer_xmins = physical("answer", "response_id")
        assert answers == sorted(answers) and len(answer_xmins) == 1
        assert len(answers) == 12 * 25


def test_scramble_command_reports_what_it_did(app, runner):
    result = runner.invoke(args=["responses", "scramble"])
    assert result.exit_code == 0
    with app.app_context():
        dialect = db.engine.dialect.name
    expected = {"postgresql": "respondent tables rewritten in random-key order",
                "sqlite": "database file rebuilt in key order; write-ahead log emptied"}
    assert expected[dialect] in result.output
