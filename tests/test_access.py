"""Access control, table-driven: every route of the URL map, as every role, with every object id
swapped for another agency's. Nothing leaks and nothing changes."""
import datetime as dt
import io
import json
import re
import zipfile

import pytest
import sqlalchemy as sa

from survey import accounts, instruments, services
from survey.extensions import db
from survey.models import Agency, Role, Unit
from tests.conftest import PASSWORD, csrf_token, make_agency, make_cohort, make_staff

SECRETS = ("Bravo Secret Class", "Bravo HQ", "bravo-secret-note", "Bravo-Unit",
           "Bravo Staffer", "bravo-staffer@", "Bravo local statement")
ROLES = (None, Role.TRAINER, Role.LEADER, Role.ADMIN)


@pytest.fixture
def two_agencies(app):
    with app.app_context():
        alpha = make_agency("Alpha PD")
        bravo = make_agency("Bravo PD")
        users = {role: make_staff(alpha, role).email for role in ROLES if role}
        unit = Unit(agency=bravo, name="Bravo-Unit")
        db.session.add(unit)
        db.session.commit()
        cohort = services.create_cohort(bravo, name="Bravo Secret Class",
                                        held_on=dt.date(2026, 11, 1), trainer=None, unit=unit,
                                        location="Bravo HQ", followups=[30])
        services.open_wave(cohort.waves[0], hours=24)
        pulse = services.start_pulse(bravo, None, opens_on=dt.date(2026, 11, 1))
        item = services.tracker_items(bravo)["le_policy"]
        services.update_tracker_item(item, None, status="in_progress", done_on=None,
                                     owner="Bravo owner", notes="bravo-secret-note",
                                     shared_note="")
        make_cohort(alpha, name="Alpha class")
        staffer, _ = accounts.invite_staff(bravo, email="bravo-staffer@example.org",
                                           name="Bravo Staffer", role=Role.TRAINER, by=None)
        _, version = instruments.add_local_item(
            bravo, text="Bravo local statement", construct="stigma", reverse_keyed=False,
            scale="agree5", key="training", by=None)
        return {"users": users, "cohort_id": cohort.id, "wave_id": cohort.waves[0].id,
                "user_id": staffer.id, "instrument_id": version.id,
                "pulse_id": pulse.id, "code": cohort.waves[0].join_code,
                "token": bravo.results_token, "bravo_waves": [w.join_code for w in cohort.waves]}


def _first_format(rule):
    return re.search(r"<any\(([a-z0-9]+)", rule.rule).group(1)


def _fill(pattern, values):
    return re.sub(r"<(?:[^:>]+:)?([a-z_]+)(?:\([^)]*\))?>",
                  lambda m: str(values[m.group(1)]),
                  re.sub(r"<any\([^)]*\):([a-z_]+)>", r"<\1>", pattern))


def snapshot():
    """Every row of every table but the audit log (sign-ins are audited, by design)."""
    meta = sa.MetaData()
    meta.reflect(bind=db.engine)
    with db.engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(t.select()).all()))
                for t in meta.sorted_tables if t.name not in ("audit_entry", "alembic_version")}


def session_for(app, role, users):
    client = app.test_client()
    if role is not None:
        page = client.get("/auth/login")
        reply = client.post("/auth/login", data={"csrf_token": csrf_token(page.text),
                                                 "email": users[role], "password": PASSWORD})
        assert reply.status_code == 302
    return client


def walk(app, ids):
    """Call every route as every role; return what each answered."""
    results = []
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    for role in ROLES:
        client = session_for(app, role, ids["users"])
        token = csrf_token(client.get("/").text)
        for rule in rules:
            url = _fill(rule.rule, _values(rule, ids))
            for method in sorted(rule.methods & {"GET", "POST"}):
                if method == "POST" and rule.endpoint == "auth.logout":
                    continue  # would end this session's walk early
                reply = (client.get(url) if method == "GET"
                         else client.post(url, data={"csrf_token": token}))
                body = _text(reply)
                results.append((role, method, rule.endpoint, url, reply.status_code, body))
                reply.close()
    return results


def _text(reply) -> str:
    """A reply's body as text: a zip's files unpacked, SPSS bytes as latin-1, a PDF's text."""
    if reply.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(reply.data)) as archive:
            return "\n".join(archive.read(name).decode() for name in archive.namelist())
    if reply.mimetype == "application/x-spss-sav":
        return reply.data.decode("latin-1")
    if reply.mimetype == "application/pdf":  # a brief: the words on its page
        from pypdf import PdfReader
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(reply.data)).pages)
    return reply.get_data(as_text=True)


def _values(rule, ids):
    values = {}
    for arg in rule.arguments:
        values[arg] = {"cohort_id": ids["cohort_id"], "wave_id": ids["wave_id"],
                       "token": ids["token"], "filename": "css/app.css",
                       "user_id": ids["user_id"], "instrument_id": ids["instrument_id"],
                       "key": "training"}.get(arg)
        if arg == "code":
            values[arg] = ids["code"] if rule.rule.startswith("/s/") else "le_policy"
        if arg in ("fmt", "paper"):  # a file format, a paper size: the first choice
            values[arg] = _first_format(rule)
        if values[arg] is None:
            raise AssertionError(f"teach the access test the argument {arg!r} of {rule.rule}")
    return values


PUBLIC = {"respond.join", "respond.privacy", "respond.notice", "respond.linkage_code",
          "respond.questions", "respond.thanks", "respond.results", "auth.login", "auth.logout",
          "auth.welcome", "health.healthz"}


def test_no_route_leaks_or_changes_another_agencys_data(app, two_agencies):
    ids = two_agencies
    walk(app, ids)  # first pass: pages that make their own rows on first use do so
    with app.app_context():
        before = snapshot()
    results = walk(app, ids)
    with app.app_context():
        assert snapshot() == before, "a request changed data"
    endpoints = {r[2] for r in results}
    assert {"trainer.report", "trainer.responses_export", "leadership.tracker_item",
            "trainer.close_wave", "admin.staff", "admin.preview", "admin.delete_cohort",
            "admin.archive_download"} <= endpoints  # the walk really reached the staff routes
    for role, method, endpoint, url, status, body in results:
        where = f"{role} {method} {url}"
        if endpoint in PUBLIC:
            continue
        if role is None:
            assert status == 302, where  # to the sign-in page
            continue
        assert status in (200, 302, 400, 403, 404), where
        if re.search(r"/(cohorts|waves|staff|version)/\d+", url):
            assert status in (403, 404), f"{where} answered {status} for another agency's id"
        for secret in SECRETS:
            assert secret not in body, f"{where} shows {secret!r}"
        for code in ids["bravo_waves"]:
            assert code not in body and f"{code[:3]} {code[3:]}" not in body, where


def test_every_staff_page_answers_its_own_agency(app, two_agencies):
    """The walk above is only meaningful if the same routes work for the right agency: each
    page shows Alpha's own rows (the navigation names the agency on every page, so the agency's
    name alone proves nothing)."""
    with app.app_context():
        alpha = db.session.scalars(sa.select(Agency).where(Agency.name == "Alpha PD")).one()
        pulse = services.start_pulse(alpha, None, opens_on=dt.date(2026, 11, 1))
        item = services.tracker_items(alpha)["le_policy"]
        services.update_tracker_item(item, None, status="in_progress", done_on=None,
                                     owner="Alpha owner", notes="alpha-own-note", shared_note="")
        services.save_program_figures(alpha, None, [(dt.date(2026, 10, 1), "referrals", 4321)])
        code = pulse.join_code
    client = session_for(app, Role.ADMIN, two_agencies["users"])
    expected = {"/trainer/": "Alpha class", "/trainer/compare": "Alpha class",
                "/leadership/pulses": f"{code[:3]} {code[3:]}", "/leadership/tracker": "Alpha owner",
                "/leadership/tracker/le_policy": "alpha-own-note", "/leadership/figures": "4321"}
    for path, text in expected.items():
        reply = client.get(path)
        assert reply.status_code == 200, path
        assert text in reply.text, (path, text)
    assert client.get("/leadership/").status_code == 200
    doc = json.loads(client.get("/leadership/dashboard.json").data)
    assert doc["meta"]["agency"] == "Alpha PD"
