"""Issue 16, each finding through the real routes on both engines: forms without a valid token,
sessions that end, join codes that cannot be probed, sign-in that tells nothing and locks nobody
out from elsewhere, input without a bound, formulas in CSV, classes that belong to their
trainers, and what the officer's cookie holds."""
import csv
import datetime as dt
import hashlib
import io
import logging
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import accounts, publishing, services
from survey.extensions import db
from survey.models import Cohort, LinkPurpose, Role, StaffUser, Wave
from tests.conftest import (
    PASSWORD,
    AuthActions,
    Officer,
    csrf_token,
    make_agency,
    make_cohort,
    make_staff,
)
from tests.test_access import _fill, snapshot
from tests.test_anonymity import every_value

CLASS = "Night class"


@pytest.fixture
def agency(app):
    """One agency: an administrator (platform), a leader, two trainers, a class of the first
    trainer with an open pre wave, a closed post wave, and a pulse."""
    with app.app_context():
        agency = make_agency("Alpha PD")
        admin = accounts.create_staff_user(agency, email="admin@alpha.example.org",
                                           name="Ada Admin", role=Role.ADMIN, password=PASSWORD,
                                           platform_admin=True)
        leader = make_staff(agency, Role.LEADER)
        one = make_staff(agency, Role.TRAINER, email="one@alpha.example.org")
        two = make_staff(agency, Role.TRAINER, email="two@alpha.example.org")
        cohort = make_cohort(agency, one, name=CLASS)
        services.close_wave(cohort.waves[1], now=services.utcnow() - dt.timedelta(hours=2))
        pulse = services.start_pulse(agency, None, opens_on=dt.date(2026, 11, 1))
        return {"admin": admin.email, "admin_id": admin.id, "leader": leader.email,
                "leader_id": leader.id, "one": one.email, "one_id": one.id, "two": two.email,
                "two_id": two.id, "cohort_id": cohort.id, "wave_id": cohort.waves[0].id,
                "open": cohort.waves[0].join_code, "closed": cohort.waves[1].join_code,
                "pulse_id": pulse.id, "token": agency.results_token,
                "instrument_id": cohort.waves[0].instrument_id}


def signed_in(app, email, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert AuthActions(client).login(email).status_code == 302
    return client


def values(rule, ids):
    """A real value for each argument of `rule`, in the signed-in user's own agency."""
    known = {"cohort_id": ids["cohort_id"], "wave_id": ids["wave_id"], "token": ids["token"],
             "user_id": ids["leader_id"], "instrument_id": ids["instrument_id"],
             "key": "training", "filename": "css/app.css"}
    out = {}
    for arg in rule.arguments:
        if arg == "code":
            out[arg] = ids["open"] if rule.rule.startswith("/s/") else "le_policy"
        elif arg in ("fmt", "paper"):  # a file format, a paper size: the first choice
            out[arg] = re.search(r"<any\(([a-z0-9]+)", rule.rule).group(1)
        else:
            out[arg] = known[arg]
    return out


# --- 1. A missing or stale form token ------------------------------------------------------------

def test_every_post_route_answers_a_bad_or_missing_token_with_a_clear_400(app, agency, caplog):
    """Every POST route of the URL map, officer and staff, signed in as a platform
    administrator so that nothing but the token can refuse: 400 with a plain reason, nothing
    written, no log line (an officer's page never logs)."""
    client = signed_in(app, agency["admin"])
    Officer(client, agency["open"]).start()
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(rules) >= 20
    with app.app_context():
        before = snapshot()
    for rule in rules:
        url = _fill(rule.rule, values(rule, agency))
        officer = rule.endpoint.startswith("respond.")
        typed = {"respond.join": {"code": "QQQ777"}, "respond.linkage_code": {"birth_month": "3"},
                 "respond.questions": {}}[rule.endpoint] if officer \
            else {"name": "Typed name", "status": "done", "role": "admin"}
        for token in ("not-a-token", None):
            data = dict(typed, **({"csrf_token": token} if token else {}))
            with caplog.at_level(logging.DEBUG):
                caplog.clear()
                reply = client.post(url, data=data)
            where = f"{rule.endpoint} {url} token={token}"
            assert reply.status_code == 400, where
            assert re.search(r"expired|open a long time|lost the personal code", reply.text), where
            logged = [r for r in caplog.records if r.levelno >= logging.INFO]
            assert not logged if officer else not [r for r in logged
                                                   if r.levelno >= logging.WARNING], where
    with app.app_context():
        assert snapshot() == before
    # still signed in: a refused sign-out form ended nothing
    assert client.get("/trainer/").status_code == 200


def test_an_officer_form_with_a_stale_token_keeps_what_was_typed(app, agency):
    client = app.test_client()
    reply = client.post("/", data={"csrf_token": "stale", "code": "abc-def"})
    assert reply.status_code == 400 and 'value="abc-def"' in reply.text
    assert "press Start the survey once more" in reply.text
    Officer(client, agency["open"]).start()
    reply = client.post(f"/s/{agency['open']}/code", data={
        "birth_month": "11", "mother_initial": "Q", "proceed": "x"})
    assert reply.status_code == 400
    assert re.search(r'<option selected value="11">|<option value="11" selected>', reply.text)
    # and with a good token the same page goes on
    reply = client.post(f"/s/{agency['open']}/code", data={
        "csrf_token": csrf_token(reply.text), "birth_month": "11", "proceed": "x"})
    assert reply.status_code == 302


# --- 2. Sessions that end -------------------------------------------------------------------------

def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _reset_password(app, ids, client):
    with app.app_context():
        user = db.session.get(StaffUser, ids["leader_id"])
        token = accounts.issue_link(user, LinkPurpose.RESET, None)
    fresh = app.test_client()
    page = fresh.get(f"/auth/welcome/{token}")
    reply = fresh.post(f"/auth/welcome/{token}", data={
        "csrf_token": csrf_token(page.text), "password": "a brand new passphrase here",
        "confirm": "a brand new passphrase here"})
    assert reply.status_code == 302
    return fresh


def _admin_post(app, ids, path, **data):
    admin = signed_in(app, ids["admin"])
    page = admin.get(f"/admin/staff/{ids['leader_id']}")
    reply = admin.post(path.format(**ids), data={"csrf_token": csrf_token(page.text), **data})
    assert reply.status_code == 302, reply.text


EVENTS = {
    "sign-out": lambda app, ids, owner: AuthActions(owner).logout(),
    "password reset": _reset_password,
    "role change": lambda app, ids, owner: _admin_post(
        app, ids, "/admin/staff/{leader_id}", role="trainer", active="y"),
    "switched off": lambda app, ids, owner: _admin_post(
        app, ids, "/admin/staff/{leader_id}", role="leader"),
    "sign out everywhere": lambda app, ids, owner: _admin_post(
        app, ids, "/admin/staff/{leader_id}/sessions"),
}


@pytest.mark.parametrize("event", EVENTS)
def test_a_copied_session_cookie_stops_working(app, agency, event):
    """A cookie copied while signed in (and a second device's session) end with the event;
    another account's session does not."""
    owner = signed_in(app, agency["leader"])
    other_device = signed_in(app, agency["leader"], "10.0.0.2")
    colleague = signed_in(app, agency["one"])
    thief = copy_of(app, owner)
    assert thief.get("/trainer/").status_code == 200
    EVENTS[event](app, agency, owner)
    for client in (thief, other_device):
        reply = client.get("/trainer/")
        assert reply.status_code == 302 and "/auth/login" in reply.location, event
    assert colleague.get("/trainer/").status_code == 200


def test_signing_in_again_after_sign_out_works_and_sessions_stay_bounded(app, agency):
    owner = signed_in(app, agency["leader"])
    AuthActions(owner).logout()
    again = signed_in(app, agency["leader"])
    assert again.get("/leadership/").status_code == 200
    # a session cookie older than the session lifetime loads no account
    app.permanent_session_lifetime = dt.timedelta(seconds=-1)
    assert again.get("/leadership/").status_code == 302


# --- 3. Join codes that cannot be probed ----------------------------------------------------------

def probes(client, n, code="QQQ777"):
    """`n` wrong codes, spread over every route that looks a code up."""
    token = csrf_token(client.get("/join").text)
    routes = [lambda: client.get(f"/s/{code}"), lambda: client.get(f"/s/{code}/code"),
              lambda: client.post(f"/s/{code}/code", data={"csrf_token": token}),
              lambda: client.get(f"/s/{code}/questions"),
              lambda: client.post(f"/s/{code}/questions", data={"csrf_token": token}),
              lambda: client.post("/join", data={"csrf_token": token, "code": code}),
              lambda: client.post("/", data={"csrf_token": token, "code": code})]
    return [routes[i % len(routes)]().status_code for i in range(n)]


def test_one_limit_covers_every_route_that_looks_a_code_up(app, agency):
    client = app.test_client()
    statuses = probes(client, 20)
    assert 429 not in statuses
    for path in ("/s/QQQ777/code", "/s/QQQ777/questions", "/s/QQQ777", f"/s/{agency['closed']}"):
        assert client.get(path).status_code == 429, path
    # the officer with the right code, from another address, is untouched
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert other.get(f"/s/{agency['open']}").status_code == 200


def _plain(text, *codes):
    """A page with its form token and the codes in it blanked, to compare two pages."""
    text = re.sub(r'name="csrf_token"[^>]*>', "", text)
    for code in codes:
        text = text.replace(code, "CODE").replace(f"{code[:3]} {code[3:]}", "CODE")
    return text


def test_below_the_notice_a_closed_code_answers_like_a_wrong_one(app, agency):
    closed, wrong = agency["closed"], "QQQ777"
    for page in ("code", "questions"):
        a = app.test_client().get(f"/s/{closed}/{page}")
        b = app.test_client().get(f"/s/{wrong}/{page}")
        assert a.status_code == b.status_code == 404, page
        assert _plain(a.text, closed) == _plain(b.text, wrong), page
        assert "Alpha PD" not in a.text and CLASS not in a.text
    # an officer who started before it closed is told it closed
    officer = app.test_client()
    with app.app_context():
        wave = db.session.scalar(sa.select(Wave).where(Wave.join_code == agency["open"]))
    Officer(officer, agency["open"]).start()
    with app.app_context():
        services.close_wave(db.session.get(Wave, wave.id),
                            now=services.utcnow() - dt.timedelta(hours=2))
    reply = officer.get(f"/s/{agency['open']}/questions")
    assert reply.status_code == 403 and "This survey is closed" in reply.text


def test_thanks_reveals_nothing_to_a_browser_that_did_not_answer(app, agency):
    pages = {code: app.test_client().get(f"/s/{code}/thanks")
             for code in (agency["open"], agency["closed"], "QQQ777", "not-a-code")}
    bodies = {_plain(reply.text, code) for code, reply in pages.items()}
    assert {reply.status_code for reply in pages.values()} == {200} and len(bodies) == 1
    assert "Alpha PD" not in bodies.pop()
    officer = Officer(app.test_client(), agency["open"])
    assert officer.answer_all().status_code == 302
    assert "Alpha PD" in officer.client.get(f"/s/{agency['open']}/thanks").text


# --- 4. and 5. Sign-in: same work, and no lockout from elsewhere ---------------------------------

def test_sign_in_does_the_same_hashing_work_for_every_account(app, agency, monkeypatch):
    """Counted, not timed: the key-derivation calls (and their cost parameters) for an unknown
    e-mail, a switched-off account, an account without a password and a wrong password."""
    calls = []
    real_scrypt, real_pbkdf2 = hashlib.scrypt, hashlib.pbkdf2_hmac

    def scrypt(password, *, salt, n, r, p, maxmem=0, dklen=64):
        calls.append(("scrypt", n, r, p, dklen))
        return real_scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    def pbkdf2(name, password, salt, iterations, dklen=None):
        calls.append(("pbkdf2", name, iterations))
        return real_pbkdf2(name, password, salt, iterations, dklen)
    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", pbkdf2)
    with app.app_context():
        user = db.session.get(StaffUser, agency["two_id"])
        user.active = False
        accounts.invite_staff(user.agency, email="invited@alpha.example.org", name="New One",
                              role=Role.TRAINER, by=None)
        db.session.commit()
    AuthActions(app.test_client()).login("warm-up@alpha.example.org", "x")  # the process's first
    work = {}
    for email in (agency["one"], "nobody@alpha.example.org", agency["two"],
                  "invited@alpha.example.org"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.{len(work)}.1"
        calls.clear()
        reply = AuthActions(client).login(email, "wrong password entirely")
        assert "do not match an active account" in reply.text
        work[email] = list(calls)
    assert len(work[agency["one"]]) == 1
    assert all(calls == work[agency["one"]] for calls in work.values()), work


def test_nobody_locks_another_person_out_while_guessing_stays_slow(app, agency):
    limit = 10  # LOGIN_LIMIT per address, per minute
    owner = signed_in(app, agency["one"], "10.1.1.1")
    AuthActions(owner).logout()
    colleague = signed_in(app, agency["two"], "10.6.6.6")
    AuthActions(colleague).logout()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "10.6.6.6"  # the colleague's station, behind one NAT
    statuses = [AuthActions(attacker).login(agency["one"], "guess").status_code
                for _ in range(limit + 1)]
    assert statuses == [200] * limit + [429]
    assert AuthActions(attacker).login(agency["one"]).status_code == 429  # guessing stays slow
    # the colleague on the same address signs in from the browser they used before
    assert AuthActions(colleague).login(agency["two"]).status_code == 302
    # guessing from many addresses: the account's own counter trips for unknown browsers...
    for n in range(10):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"10.2.{n}.1"
        for _ in range(5):
            AuthActions(other).login(agency["one"], "guess")
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "10.3.3.3"
    assert AuthActions(stranger).login(agency["one"]).status_code == 429
    # ...but never for the owner's own browser, anywhere
    owner.environ_base["REMOTE_ADDR"] = "10.4.4.4"
    assert AuthActions(owner).login(agency["one"]).status_code == 302
    # an administrator unlocks the account for other browsers too
    admin = signed_in(app, agency["admin"], "10.5.5.5")
    page = admin.get(f"/admin/staff/{agency['one_id']}")
    assert admin.post(f"/admin/staff/{agency['one_id']}/unlock",
                      data={"csrf_token": csrf_token(page.text)}).status_code == 302
    assert AuthActions(stranger).login(agency["one"]).status_code == 302


# --- 6. Input without a bound ---------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/trainer/cohorts/99999999999999999999", "/trainer/cohorts/2147483648/report",
    "/trainer/cohorts/0", "/trainer/waves/9223372036854775808/room",
    "/admin/staff/2147483648", "/results/abc%00def"])
def test_out_of_range_ids_are_not_found(app, agency, path):
    client = signed_in(app, agency["admin"])
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("field, value, error", [
    ("held_on", "9999-12-31", "Give a date between"),
    ("held_on", "0001-01-01", "Give a date between"),
    ("name", "Night\x00class", "control characters"),
    ("name", "    ", "Give the class a name"),
    ("location", "HQ\x01", "control characters"),
])
def test_cohort_form_bounds_are_field_errors(app, agency, field, value, error):
    client = signed_in(app, agency["one"])
    page = client.get("/trainer/cohorts/new")
    data = {"csrf_token": csrf_token(page.text), "name": "Fine name", "held_on": "2026-11-20",
            "trainer_id": str(agency["one_id"]), "unit_id": "0", "followups": ["30", "180"],
            field: value}
    with app.app_context():
        before = snapshot()
    reply = client.post("/trainer/cohorts/new", data=data)
    assert reply.status_code == 200 and error in reply.text
    with app.app_context():
        assert snapshot() == before


def test_names_are_stored_trimmed(app, agency):
    client = signed_in(app, agency["one"])
    page = client.get("/trainer/cohorts/new")
    reply = client.post("/trainer/cohorts/new", data={
        "csrf_token": csrf_token(page.text), "name": "  Spaced class  ", "held_on": "2026-11-20",
        "trainer_id": str(agency["one_id"]), "unit_id": "0"})
    assert reply.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Cohort.name).order_by(Cohort.id.desc()).limit(1)) \
            == "Spaced class"


def test_a_pulse_opening_at_the_end_of_time_is_a_field_error(app, agency):
    client = signed_in(app, agency["leader"])
    page = client.get("/leadership/pulses")
    reply = client.post("/leadership/pulses", data={
        "csrf_token": csrf_token(page.text), "opens_on": "9999-12-31", "days_open": "14"})
    assert reply.status_code == 200 and "Give a date between" in reply.text


# --- 7. Formulas in CSV ---------------------------------------------------------------------------

FORMULA_NAME = "Night class;=1+2;@SUM(9),-3+4\t+5"


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_no_csv_cell_is_a_formula_whatever_the_separator(app, agency, separator):
    client = signed_in(app, agency["one"])
    page = client.get(f"/trainer/cohorts/{agency['cohort_id']}/edit")
    reply = client.post(f"/trainer/cohorts/{agency['cohort_id']}/edit", data={
        "csrf_token": csrf_token(page.text), "name": FORMULA_NAME, "held_on": "2026-11-20",
        "trainer_id": str(agency["one_id"]), "unit_id": "0"})
    assert reply.status_code == 302
    body = client.get("/trainer/compare.csv?table=cohorts").text
    assert "=1+2" in body  # the text is there, as text
    for line in body.splitlines():
        assert line.startswith('"') and line.endswith('"'), line  # every field quoted
    # a spreadsheet that honours the quotes, splitting on `separator`
    cells = [c for row in csv.reader(io.StringIO(body), delimiter=separator) for c in row]
    # and one that ignores them (a naive import): every piece between separators
    cells += [piece.strip().strip('"') for line in body.splitlines()
              for piece in re.split(r"[;,\t]", line)]
    formulas = [c for c in cells if c.strip() and c.strip()[0] in "=+@-"
                and not re.fullmatch(r"-?[\d.]+(e-?\d+)?", c.strip())]
    assert not formulas, formulas


# --- 6. The property: extreme values in every staff form and every converter ---------------------

EXTREME_TEXT = st.one_of(
    st.sampled_from(["", " ", "   ", "\x00", "a\x00b", "\x1b[31m", "x" * 5000, "9999-12-31",
                     "0001-01-01", "2026-02-30", "99999999999999999999", "-1", "2147483648",
                     "1e309", "NaN", "٣", "=1+2", "<script>", "null"]),
    st.text(max_size=30))
#: Staff forms by route, with the fields each carries (values come from EXTREME_TEXT).
FORMS = {
    "/trainer/cohorts/new": ["name", "held_on", "trainer_id", "unit_id", "location", "topics",
                             "followups", "co_trainer_ids", "open_pre"],
    "/trainer/cohorts/{cohort_id}/edit": ["name", "held_on", "trainer_id", "unit_id", "location",
                                          "followups", "co_trainer_ids"],
    "/leadership/pulses": ["opens_on", "days_open", "headcount"],
    "/leadership/tracker/le_policy": ["status", "done_on", "owner", "notes", "shared_note"],
    "/leadership/figures": ["month", "referrals", "deflections", "contacts", "arrests_avoided"],
    "/admin/staff/new": ["name", "email", "role"],
    "/admin/staff/{leader_id}": ["role", "active"],
    "/admin/settings": ["min_group_size", "min_comment_group_size", "ask_linkage", "units",
                        "shifts", "pulse_cadence", "headcount", "retention_months",
                        "trainers_read_all_reports"],
    "/admin/surveys/training": ["constructs", "local_items"],
    "/admin/items/new": ["text", "construct", "reverse_keyed", "scale", "instrument"],
    "/admin/agencies": ["name", "timezone", "admin_name", "admin_email"],
    "/admin/cohorts/{cohort_id}/delete": ["confirm_name"],
    "/auth/login": ["email", "password"],
}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(sorted(FORMS)), data=st.data())
def test_no_staff_form_answers_500_or_half_writes(app, agency, route, data):
    if route == "/auth/login":
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.78.0.1"
        token = csrf_token(client.get(route).text)
    else:  # one administrator's session for every example (the examples share the database)
        client = app.extensions.get("test-admin") or signed_in(app, agency["admin"], "10.77.0.1")
        app.extensions["test-admin"] = client
        token = csrf_token(client.get("/admin/").text)
    url = route.format(**agency)
    client.get(url)  # pages that make their own rows on first use (the tracker) do so now
    fields = {name: data.draw(st.lists(EXTREME_TEXT, max_size=2) if name in (
        "topics", "followups", "co_trainer_ids", "constructs", "local_items") else EXTREME_TEXT,
        label=name) for name in FORMS[route]}
    with app.app_context():
        before = snapshot()
    reply = client.post(url, data={"csrf_token": token, **fields})
    assert reply.status_code < 500, (url, fields, reply.text[-400:])
    with app.app_context():
        if reply.status_code != 302:
            assert snapshot() == before, (url, fields)
        # every text cell of every table: none may hold a control character or a blank name
        for table, column, value in every_value(app):
            if not isinstance(value, str):
                continue
            assert "\x00" not in value and "\x1b" not in value, (table, column)
            if column == "name":
                assert value.strip() == value and value, (table, column)


BIG_IDS = ["0", "2147483647", "2147483648", "9223372036854775808", "99999999999999999999"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_url_argument_answers_500(app, agency, data):
    """Every rule of the URL map, every argument replaced by an extreme value."""
    client = app.test_client()
    AuthActions(client).login(agency["admin"])
    rules = sorted((r for r in app.url_map.iter_rules() if r.arguments and r.endpoint != "static"),
                   key=lambda r: r.rule)
    rule = data.draw(st.sampled_from(rules), label="rule")
    good = values(rule, agency)
    args = {}
    for arg in rule.arguments:
        if arg in ("fmt", "paper"):
            args[arg] = good[arg]
        elif "int:" + arg in rule.rule:
            args[arg] = data.draw(st.sampled_from(BIG_IDS), label=arg)
        else:
            args[arg] = data.draw(st.one_of(
                st.sampled_from(["%00", "a%00b", "x" * 300, "%E2%80%AE", "..", "%FF"]),
                st.text(alphabet="ACDEFGHJK34679-_", min_size=1, max_size=40)), label=arg)
    url = _fill(rule.rule, args)
    reply = client.get(url) if "GET" in rule.methods else client.post(
        url, data={"csrf_token": csrf_token(client.get("/trainer/").text)})
    assert reply.status_code < 500, (url, reply.status_code)
    if "int:" in rule.rule and any(args[a] in BIG_IDS[2:] for a in args):
        assert reply.status_code == 404, url


# --- 8. Classes belong to their trainers ----------------------------------------------------------

MANAGE = {"trainer.edit_cohort", "trainer.open_wave", "trainer.close_wave",
          "trainer.responses_export", "trainer.codebook", "admin.delete_cohort"}
READ = {"trainer.cohort", "trainer.report", "trainer.report_export", "trainer.room",
        "trainer.qr_svg", "trainer.count"}


def class_walk(app, client, ids):
    """Every route naming the first trainer's class or its wave, GET and POST."""
    token = csrf_token(client.get("/trainer/").text)
    seen = {}
    for rule in app.url_map.iter_rules():
        if not {"cohort_id", "wave_id"} & set(rule.arguments):
            continue
        url = _fill(rule.rule, values(rule, ids))
        for method in sorted(rule.methods & {"GET", "POST"}):
            reply = client.get(url) if method == "GET" else client.post(
                url, data={"csrf_token": token, "name": "Taken over", "held_on": "2026-01-01",
                           "trainer_id": str(ids["two_id"]), "unit_id": "0",
                           "confirm_name": CLASS})
            seen[(rule.endpoint, method)] = reply.status_code
    return seen


@pytest.mark.parametrize("reads", [True, False])
def test_a_trainer_changes_only_classes_they_teach(app, agency, reads):
    with app.app_context():
        db.session.get(Cohort, agency["cohort_id"]).agency.trainers_read_all_reports = reads
        db.session.commit()
        # A page read publishes what is due; that is the system's doing, not the trainer's.
        publishing.publish_due()
        before = snapshot()
    seen = class_walk(app, signed_in(app, agency["two"]), agency)
    with app.app_context():
        assert snapshot() == before, "another trainer changed the class"
    assert {e for e, _ in seen} >= MANAGE | READ  # the walk reached every class route
    for (endpoint, method), status in seen.items():
        if endpoint in MANAGE:
            assert status == 403, (endpoint, method, status)
        elif endpoint in READ:
            assert status == (200 if reads else 403), (endpoint, method, status)
    page = signed_in(app, agency["two"]).get("/trainer/").text
    assert (CLASS in page) == reads


def test_a_co_trainer_and_the_trainer_manage_the_class(app, agency):
    with app.app_context():
        cohort = db.session.get(Cohort, agency["cohort_id"])
        cohort.co_trainers = [db.session.get(StaffUser, agency["two_id"])]
        cohort.agency.trainers_read_all_reports = False
        db.session.commit()
    for email in (agency["two"], agency["one"], agency["admin"]):
        client = signed_in(app, email)
        page = client.get(f"/trainer/cohorts/{agency['cohort_id']}/edit")
        assert page.status_code == 200, email
        assert client.get(f"/trainer/cohorts/{agency['cohort_id']}/responses.csv"
                          ).status_code == 200, email
        reply = client.post(f"/trainer/waves/{agency['wave_id']}/close",
                            data={"csrf_token": csrf_token(page.text)})
        assert reply.status_code == 302, email
    # the edit form names co-trainers, and keeps them
    client = signed_in(app, agency["one"])
    page = client.get(f"/trainer/cohorts/{agency['cohort_id']}/edit")
    assert client.post(f"/trainer/cohorts/{agency['cohort_id']}/edit", data={
        "csrf_token": csrf_token(page.text), "name": CLASS, "held_on": "2026-11-20",
        "trainer_id": str(agency["one_id"]), "unit_id": "0",
        "co_trainer_ids": [str(agency["two_id"]), str(agency["admin_id"])]}).status_code == 302
    with app.app_context():
        names = {u.email for u in db.session.get(Cohort, agency["cohort_id"]).co_trainers}
    assert names == {agency["two"], agency["admin"]}


# --- 9. The officer's cookie ----------------------------------------------------------------------

def cookie_state(app, client):
    return app.session_interface.get_signing_serializer(app).loads(
        client.get_cookie("session").value)


def test_the_officer_cookie_holds_only_the_surveys_state(app, agency):
    client = app.test_client()
    officer = Officer(client, agency["open"])
    officer.start()
    officer.give_code(mother_initial="Q", birth_month="11")
    fields = officer.fields()
    with app.app_context():
        wave_id = db.session.scalar(sa.select(Wave.id).where(Wave.join_code == agency["open"]))
    state = cookie_state(app, client)
    assert set(state) == {"csrf_token", f"nonce{wave_id}", f"link{wave_id}"}
    assert set(state[f"link{wave_id}"]) == {"mother_initial", "birth_month"}
    assert "Q" not in state[f"link{wave_id}"].values()  # keyed hashes, not the answers
    assert officer.submit({f: "4" for f in fields}).status_code == 302
    assert list(cookie_state(app, client)) == ["done"]
    # a resend after Send (the token went with the answers) is not a second answer
    again = officer.submit({f: "4" for f in fields})
    assert again.status_code == 302 and again.location.endswith("/thanks")
    with app.app_context():
        from survey.models import Response
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
