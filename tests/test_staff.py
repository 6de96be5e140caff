"""Staff sign-in, cohort creation, opening and closing waves, the room page and its QR code."""
import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Cohort, Role, Wave, WaveKind
from tests.conftest import Officer, csrf_token, make_agency, make_cohort, make_staff


@pytest.fixture
def staff(app, setup):
    with app.app_context():
        agency = db.session.get(Cohort, setup["cohort_id"]).agency
        leader = make_staff(agency, Role.LEADER)
        other = make_agency("Elsewhere Sheriff's Office")
        outsider = make_staff(other, Role.TRAINER)
        foreign = make_cohort(other, outsider, name="Their class")
        return {**setup, "leader": leader.email, "outsider": outsider.email,
                "foreign_cohort": foreign.id, "foreign_wave": foreign.waves[0].id}


def test_login_with_wrong_password_is_refused(client, auth, setup):
    reply = auth.login(setup["trainer_email"], "wrong password")
    assert reply.status_code == 200
    assert "do not match an active account" in reply.text
    assert client.get("/trainer/").status_code == 302


def test_login_and_logout(client, auth, setup):
    reply = auth.login(setup["trainer_email"])
    assert reply.status_code == 302 and reply.location.endswith("/trainer/")
    page = client.get("/trainer/")
    assert page.status_code == 200 and "Deflection basics" in page.text
    auth.logout()
    assert client.get("/trainer/").status_code == 302


def test_login_never_redirects_off_site(client, auth, setup):
    page = client.get("/auth/login?next=https://evil.example/")
    reply = client.post("/auth/login?next=https://evil.example/", data={
        "csrf_token": csrf_token(page.text), "email": setup["trainer_email"],
        "password": "correct horse battery"})
    assert reply.location.endswith("/trainer/")


def test_disabled_account_cannot_sign_in(app, auth, setup):
    with app.app_context():
        from survey.models import StaffUser
        user = db.session.scalars(sa.select(StaffUser)).one()
        user.active = False
        db.session.commit()
    assert "do not match an active account" in auth.login(setup["trainer_email"]).text


def test_passwords_are_hashed(app, setup):
    with app.app_context():
        from survey.models import StaffUser
        user = db.session.scalars(sa.select(StaffUser)).one()
        assert "correct horse" not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_trainer_creates_a_cohort_with_pre_and_post_waves(app, client, auth, setup):
    auth.login(setup["trainer_email"])
    page = client.get("/trainer/cohorts/new")
    assert "The science of addiction" in page.text and "Adverse childhood" in page.text
    reply = client.post("/trainer/cohorts/new", data={
        "csrf_token": csrf_token(page.text), "name": "Night shift class",
        "held_on": "2026-12-01", "unit_id": "0", "location": "Room 4",
        "topics": ["aces", "lived_experience"], "open_pre": "y"})
    assert reply.status_code == 302
    cohort_page = client.get(reply.location)
    assert "Night shift class" in cohort_page.text
    assert "Adverse childhood experiences (ACEs), Speaker with lived experience" in cohort_page.text
    with app.app_context():
        cohort = db.session.scalars(sa.select(Cohort).where(Cohort.name == "Night shift class")).one()
        assert [w.kind for w in cohort.waves] == [WaveKind.PRE, WaveKind.POST]
        assert cohort.waves[0].status().value == "open"
        assert cohort.waves[1].status().value == "scheduled"
        assert sorted(cohort.topic_codes) == ["aces", "lived_experience"]
        codes = [w.join_code for w in cohort.waves]
    for code in codes:
        assert f"{code[:3]} {code[3:]}" in cohort_page.text


def test_cohort_form_errors_keep_what_was_typed(client, auth, setup):
    auth.login(setup["trainer_email"])
    page = client.get("/trainer/cohorts/new")
    reply = client.post("/trainer/cohorts/new", data={
        "csrf_token": csrf_token(page.text), "name": "", "held_on": "2026-12-01",
        "location": "Room 9", "topics": ["aces"]})
    assert reply.status_code == 200
    assert "Give the class a name." in reply.text
    assert 'value="Room 9"' in reply.text
    assert re.search(r'<input checked id="topics-\d" name="topics" type="checkbox" value="aces">',
                     reply.text)


def test_open_and_close_a_wave(app, client, auth, setup):
    auth.login(setup["trainer_email"])
    page = client.get(f"/trainer/cohorts/{setup['cohort_id']}")
    token = csrf_token(page.text)
    assert client.post(f"/trainer/waves/{setup['post_id']}/open",
                       data={"csrf_token": token}).status_code == 302
    assert Officer(app.test_client(), setup["post"]).start().status_code == 200
    client.post(f"/trainer/waves/{setup['post_id']}/close", data={"csrf_token": token})
    assert app.test_client().get(f"/s/{setup['post']}").status_code == 403


def test_open_without_csrf_token_changes_nothing(app, client, auth, setup):
    auth.login(setup["trainer_email"])
    reply = client.post(f"/trainer/waves/{setup['post_id']}/open")
    assert reply.status_code == 400
    with app.app_context():
        assert db.session.get(Wave, setup["post_id"]).opens_at is None


def test_counts_of_responses_per_wave(app, client, auth, setup):
    for _ in range(2):
        Officer(app.test_client(), setup["pre"]).answer_all("3")
    auth.login(setup["trainer_email"])
    page = client.get(f"/trainer/cohorts/{setup['cohort_id']}")
    assert re.search(r'<td class="num">2</td>', page.text)
    assert client.get(f"/trainer/waves/{setup['pre_id']}/count.json").get_json() == {
        "count": 2, "status": "open"}


def test_room_page_shows_qr_code_and_join_code(client, auth, setup):
    auth.login(setup["trainer_email"])
    page = client.get(f"/trainer/waves/{setup['pre_id']}/room")
    assert page.status_code == 200
    assert "<svg" in page.text and "<path" in page.text
    code = setup["pre"]
    assert f"{code[:3]} {code[3:]}" in page.text
    assert "0</span> <span id=\"count-label\">answers" in page.text
    svg = client.get(f"/trainer/waves/{setup['pre_id']}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")


def test_qr_code_encodes_the_survey_address(app, client, auth, setup):
    """Decode nothing: rebuild the QR for the expected address and compare the drawing."""
    import segno
    auth.login(setup["trainer_email"])
    svg = client.get(f"/trainer/waves/{setup['pre_id']}/qr.svg").data.decode()
    expected = segno.make_qr(f"http://localhost/s/{setup['pre']}", error="m")
    assert expected.svg_inline(scale=10, border=4) == svg
    assert expected.version >= 1 and not expected.is_micro


def test_public_base_url_is_used_for_the_qr_code(app, client, auth, setup):
    import segno
    app.config["PUBLIC_BASE_URL"] = "https://survey.riverside.example/"
    auth.login(setup["trainer_email"])
    page = client.get(f"/trainer/waves/{setup['pre_id']}/room")
    assert "https://survey.riverside.example</p>" in page.text
    expected = segno.make_qr(f"https://survey.riverside.example/s/{setup['pre']}", error="m")
    assert client.get(f"/trainer/waves/{setup['pre_id']}/qr.svg").data.decode() == \
        expected.svg_inline(scale=10, border=4)


def test_leader_sees_classes_but_cannot_create_or_open(client, auth, staff):
    auth.login(staff["leader"])
    page = client.get("/trainer/")
    assert page.status_code == 200 and "Deflection basics" in page.text
    assert "New class" not in page.text
    assert client.get("/trainer/cohorts/new").status_code == 403
    token = csrf_token(client.get(f"/trainer/cohorts/{staff['cohort_id']}").text)
    assert client.post(f"/trainer/waves/{staff['post_id']}/open",
                       data={"csrf_token": token}).status_code == 403


@pytest.mark.parametrize("path", [
    "/trainer/cohorts/{foreign_cohort}", "/trainer/waves/{foreign_wave}/room",
    "/trainer/waves/{foreign_wave}/qr.svg", "/trainer/waves/{foreign_wave}/count.json"])
def test_another_agencys_objects_are_not_found(client, auth, staff, path):
    auth.login(staff["trainer_email"])
    assert client.get(path.format(**staff)).status_code == 404


def test_another_agencys_wave_cannot_be_closed(app, client, auth, staff):
    auth.login(staff["trainer_email"])
    token = csrf_token(client.get("/trainer/").text)
    reply = client.post(f"/trainer/waves/{staff['foreign_wave']}/close",
                        data={"csrf_token": token})
    assert reply.status_code == 404
    with app.app_context():
        assert db.session.get(Wave, staff["foreign_wave"]).status().value == "open"


def test_other_agencys_cohorts_are_not_listed(client, auth, staff):
    auth.login(staff["trainer_email"])
    assert "Their class" not in client.get("/trainer/").text


@pytest.mark.parametrize("path", ["/trainer/", "/trainer/cohorts/new",
                                  "/trainer/cohorts/1", "/trainer/waves/1/room"])
def test_anonymous_visitors_are_sent_to_sign_in(client, setup, path):
    reply = client.get(path)
    assert reply.status_code == 302 and "/auth/login" in reply.location


def test_follow_ups_open_and_close_on_their_own_dates(app, client, auth, setup):
    import datetime as dt
    from zoneinfo import ZoneInfo
    auth.login(setup["trainer_email"])
    page = client.get("/trainer/cohorts/new")
    assert page.text.count('name="followups"') == 3 and page.text.count("checked") >= 3
    reply = client.post("/trainer/cohorts/new", data={
        "csrf_token": csrf_token(page.text), "name": "With follow-ups", "held_on": "2026-12-01",
        "unit_id": "0", "followups": ["30", "180"]})
    cohort_page = client.get(reply.location)
    assert "30-day follow-up" in cohort_page.text and "opens 31 December 2026" in cohort_page.text
    with app.app_context():
        cohort = db.session.scalars(sa.select(Cohort).where(Cohort.name == "With follow-ups")).one()
        followups = [w for w in cohort.waves if w.kind is WaveKind.FOLLOWUP]
        assert sorted(w.followup_days for w in followups) == [30, 180]
        first = min(followups, key=lambda w: w.followup_days)
        tz = ZoneInfo(cohort.agency.timezone)
        assert first.opens_at == dt.datetime(2026, 12, 31, tzinfo=tz)
        assert first.closes_at - first.opens_at == dt.timedelta(days=14)
        assert first.status(dt.datetime(2027, 1, 5, tzinfo=dt.timezone.utc)).value == "open"
        assert first.status(dt.datetime(2027, 1, 20, tzinfo=dt.timezone.utc)).value == "closed"
        code = first.join_code
    page = app.test_client().get(f"/s/{code}")
    assert page.status_code == 403 and "opens on 31 December 2026" in page.text


def test_editing_the_date_moves_unopened_follow_ups(app, client, auth, setup):
    auth.login(setup["trainer_email"])
    page = client.get(f"/trainer/cohorts/{setup['cohort_id']}/edit")
    assert 'value="Deflection basics"' in page.text
    with app.app_context():
        agency = db.session.get(Cohort, setup["cohort_id"]).agency
        colleague = make_staff(agency, Role.ADMIN, email="colleague@example.org").id
    page = client.get(f"/trainer/cohorts/{setup['cohort_id']}/edit")
    assert "A admin" in page.text
    reply = client.post(f"/trainer/cohorts/{setup['cohort_id']}/edit", data={
        "csrf_token": csrf_token(page.text), "name": "Deflection basics (revised)",
        "held_on": "2027-02-01", "unit_id": "0", "location": "Hall",
        "trainer_id": str(colleague),
        "topics": ["aces"], "followups": ["90"]})
    assert reply.status_code == 302
    with app.app_context():
        cohort = db.session.get(Cohort, setup["cohort_id"])
        assert cohort.name == "Deflection basics (revised)" and cohort.topic_codes == ["aces"]
        assert cohort.trainer_id == colleague
        followup = next(w for w in cohort.waves if w.kind is WaveKind.FOLLOWUP)
        assert followup.followup_days == 90
        assert followup.opens_at.date().isoformat() == "2027-05-02"


def test_staff_actions_are_audited(app, client, auth, setup):
    from survey.models import AuditEntry
    auth.login(setup["trainer_email"], "wrong password")
    auth.login(setup["trainer_email"])
    page = client.get("/trainer/cohorts/new")
    client.post("/trainer/cohorts/new", data={
        "csrf_token": csrf_token(page.text), "name": "Audited class", "held_on": "2026-12-01",
        "unit_id": "0", "open_pre": "y"})
    token = csrf_token(client.get(f"/trainer/cohorts/{setup['cohort_id']}").text)
    client.post(f"/trainer/waves/{setup['pre_id']}/close", data={"csrf_token": token})
    client.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.csv")
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        mine = [(e.action, e.staff_user.email if e.staff_user else None) for e in entries
                if e.staff_user is not None]
        assert mine == [("auth.login_failed", setup["trainer_email"]),
                        ("auth.login", setup["trainer_email"]),
                        ("cohort.create", setup["trainer_email"]),
                        ("wave.open", setup["trainer_email"]),
                        ("wave.close", setup["trainer_email"]),
                        ("export.responses", setup["trainer_email"])]
        assert all(e.at is not None for e in entries)
        create = next(e for e in entries if e.action == "cohort.create" and e.staff_user)
        assert create.detail["name"] == "Audited class"
