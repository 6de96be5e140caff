"""Administration through the real routes: accounts by one-time link, settings, survey versions,
the preview, the archive, deleting a cohort, retention purges and platform administrators."""
import datetime as dt
import email
import email.policy
import io
import json
import re
import zipfile

import pytest
import sqlalchemy as sa

from survey import accounts, lifecycle, services
from survey.extensions import db
from survey.models import (AccountLink, Agency, AuditEntry, Cohort, Instrument, LinkPurpose,
                           Response, Role, StaffUser, Unit, Wave)
from tests.servers import free_port
from tests.conftest import (AuthActions, Officer, close_all, count_rows, csrf_token, make_agency,
                            publish,
                            make_cohort, make_staff)

GOOD_PASSWORD = "patrol car coffee at dawn"


@pytest.fixture
def agency_admin(app):
    with app.app_context():
        agency = make_agency("Metro PD")
        admin = make_staff(agency, Role.ADMIN)
        return {"agency_id": agency.id, "admin": admin.email, "admin_id": admin.id}


@pytest.fixture
def admin_client(app, agency_admin):
    client = app.test_client()
    reply = AuthActions(client).login(agency_admin["admin"])
    # an administrator lands on their own home page (accounts, settings, surveys), not on classes
    assert reply.status_code == 302 and reply.location.endswith("/admin/")
    return client


def post_form(client, url, **data):
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data})


def invite(client, name="Dana Reyes", email="dana@metro.example.org", role="trainer"):
    reply = post_form(client, "/admin/staff/new", name=name, email=email, role=role)
    assert reply.status_code == 200, reply.text
    return re.search(r'<textarea id="link"[^>]*>(http[^<]+/auth/welcome/[^<]+)</textarea>',
                     reply.text).group(1)


def test_invited_trainer_sets_a_password_and_signs_in(app, admin_client):
    link = invite(admin_client)
    path = link.split("localhost", 1)[1]
    officer_browser = app.test_client()
    page = officer_browser.get(path)
    assert page.status_code == 200 and "Welcome, Dana Reyes" in page.text

    for password, message in (("short", "at least 12 characters"),
                              ("password1234", "common passwords"),
                              ("dana reyes is great", "your name")):
        reply = officer_browser.post(path, data={"csrf_token": csrf_token(page.text),
                                                 "password": password, "confirm": password})
        assert reply.status_code == 200 and message in reply.text, password
    reply = officer_browser.post(path, data={"csrf_token": csrf_token(page.text),
                                             "password": GOOD_PASSWORD, "confirm": "other"})
    assert "not the same" in reply.text
    reply = officer_browser.post(path, data={"csrf_token": csrf_token(page.text),
                                             "password": GOOD_PASSWORD,
                                             "confirm": GOOD_PASSWORD})
    assert reply.status_code == 302 and reply.location.endswith("/trainer/")
    assert officer_browser.get("/trainer/").status_code == 200

    assert app.test_client().get(path).status_code == 404  # the link worked once
    fresh = app.test_client()
    assert AuthActions(fresh).login("dana@metro.example.org", GOOD_PASSWORD).status_code == 302
    with app.app_context():
        token = path.rsplit("/", 1)[1]
        stored = " ".join(map(str, db.session.execute(sa.select(AccountLink)).scalars()
                              .one().__dict__.values()))
        assert token not in stored  # only its hash is kept
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
        assert {"account.create", "account.invite_link", "account.password_set"} <= set(actions)


def test_invited_account_cannot_sign_in_before_setting_a_password(app, admin_client):
    invite(admin_client)
    reply = AuthActions(app.test_client()).login("dana@metro.example.org", "")
    assert reply.status_code == 200  # refused, form shown again


def test_links_expire_and_a_new_link_replaces_the_old(app, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        user, first = accounts.invite_staff(agency, email="x@metro.example.org", name="X Y",
                                            role=Role.LEADER, by=None)
        later = services.utcnow() + dt.timedelta(hours=73)
        assert accounts.find_link(first) is not None
        assert accounts.find_link(first, now=later) is None  # 72 hours for an invitation
        second = accounts.issue_link(user, LinkPurpose.INVITE, None)
        assert accounts.find_link(first) is None and accounts.find_link(second) is not None


def test_admin_changes_role_and_switches_an_account_off(app, admin_client, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        trainer = make_staff(agency, Role.TRAINER)
        trainer_id, email = trainer.id, trainer.email
    reply = post_form(admin_client, f"/admin/staff/{trainer_id}", role="leader")
    assert reply.status_code == 302
    with app.app_context():
        user = db.session.get(StaffUser, trainer_id)
        assert user.role is Role.LEADER and not user.active
        entry = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "account.change")).one()
        assert entry.detail["before"] == {"role": "trainer", "active": True}
    assert AuthActions(app.test_client()).login(email).status_code == 200  # switched off

    own = post_form(admin_client, f"/admin/staff/{agency_admin['admin_id']}", role="trainer",
                    active="y")
    assert own.status_code == 200 and "cannot remove your own administrator" in own.text


def test_reset_link_for_a_forgotten_password(app, admin_client, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        trainer_id = make_staff(agency, Role.TRAINER).id
    reply = post_form(admin_client, f"/admin/staff/{trainer_id}")  # the staff page's forms
    page = admin_client.get(f"/admin/staff/{trainer_id}")
    reply = admin_client.post(f"/admin/staff/{trainer_id}/link",
                              data={"csrf_token": csrf_token(page.text)})
    assert "Password reset" in reply.text and "/auth/welcome/" in reply.text


def test_settings_refuse_a_group_below_three_and_keep_the_answers(app, admin_client,
                                                                  agency_admin):
    reply = post_form(admin_client, "/admin/settings", min_group_size="2",
                      min_comment_group_size="10", units="Patrol\nK9", shifts="Days",
                      pulse_cadence="monthly", retention_months="36")
    assert reply.status_code == 200 and "Between 3 and 50" in reply.text
    assert "K9" in reply.text and 'value="36"' in reply.text  # nothing typed is lost
    with app.app_context():
        assert db.session.get(Agency, agency_admin["agency_id"]).min_group_size == 5

    reply = post_form(admin_client, "/admin/settings", min_group_size="7",
                      min_comment_group_size="12", units="Patrol\nK9", shifts="Days\nNights",
                      pulse_cadence="monthly", retention_months="36", ask_linkage="")
    assert reply.status_code == 302
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        assert (agency.min_group_size, agency.retention_months, agency.shifts) == (
            7, 36, ["Days", "Nights"])
        assert sorted(u.name for u in agency.units) == ["K9", "Patrol"]
        assert agency.ask_linkage is False
        entry = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "agency.settings")).one()
        assert entry.detail["changes"]["min_group_size"] == [5, 7]


def test_a_unit_with_answers_cannot_be_removed(app, admin_client, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        unit = Unit(agency=agency, name="K9")
        db.session.add(unit)
        db.session.commit()
        pulse = services.start_pulse(agency, None, opens_on=services.local_date(agency))
        store(pulse, services.local_date(agency), "n", unit_id=unit.id)
    reply = post_form(admin_client, "/admin/settings", min_group_size="5",
                      min_comment_group_size="10", units="Patrol", shifts="",
                      pulse_cadence="quarterly")
    assert reply.status_code == 200 and "stays" in reply.text
    with app.app_context():
        assert [u.name for u in db.session.get(Agency, agency_admin["agency_id"]).units] == ["K9"]


def test_local_item_reaches_the_next_wave_and_not_the_earlier_cohort(app, admin_client,
                                                                       agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        earlier = make_cohort(agency, name="Earlier class")
        earlier_code, earlier_version = earlier.waves[0].join_code, earlier.waves[0].instrument_id
    reply = post_form(admin_client, "/admin/items/new",
                      text="Our county's detox unit takes referrals at any hour.",
                      construct="knowledge", scale="agree5", instrument="training")
    assert reply.status_code == 302
    surveys = admin_client.get("/admin/surveys").text
    assert "training survey, version 2 (the agency&#39;s own)" in surveys

    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        later = make_cohort(agency, name="Later class")
        later_code = later.waves[0].join_code
        assert later.waves[0].instrument_id != earlier_version
        assert db.session.get(Wave, earlier.waves[0].id).instrument_id == earlier_version
    new_page = Officer(app.test_client(), later_code)
    new_page.start()
    new_page.give_code(skip=True)
    assert "detox unit takes referrals" in new_page.questions().text
    old_page = Officer(app.test_client(), earlier_code)
    old_page.start()
    old_page.give_code(skip=True)
    assert "detox unit takes referrals" not in old_page.questions().text
    with app.app_context():
        earlier_id = db.session.scalar(sa.select(Cohort.id).where(Cohort.name == "Earlier class"))
        earlier_pre = db.session.get(Cohort, earlier_id).waves[0].id
    publish(app, earlier_pre)
    report = admin_client.get(f"/trainer/cohorts/{earlier_id}/report").text
    assert "Deflection training survey, version 1 (item bank" in report


def test_picking_scales_publishes_a_version_and_unchanged_choice_does_not(app, admin_client,
                                                                          agency_admin):
    reply = post_form(admin_client, "/admin/surveys/pulse", constructs=["cynicism",
                                                                        "change_fatigue"])
    assert reply.status_code == 302
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        pulse = services.agency_instrument(agency, "pulse")
        assert pulse.agency_id == agency.id
        assert {e.item.construct.code for e in pulse.entries} == {"cynicism", "change_fatigue"}
        versions = count_rows(Instrument)
    reply = post_form(admin_client, "/admin/surveys/pulse", constructs=["cynicism",
                                                                        "change_fatigue"])
    with app.app_context():
        assert count_rows(Instrument) == versions  # nothing changed: no new version
    reply = post_form(admin_client, "/admin/surveys/pulse")
    assert reply.status_code == 200 and "Pick at least one scale" in reply.text


def test_preview_shows_the_survey_and_stores_nothing(app, admin_client, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        version = services.agency_instrument(agency, "training")
        db.session.commit()
        version_id = version.id
        fields = [f"q_{e.item.code}" for e in version.entries]
    page = admin_client.get(f"/admin/surveys/version/{version_id}/preview")
    assert page.status_code == 200 and "Nothing you send here is stored" in page.text
    assert all(f'name="{f}"' in page.text for f in fields)
    reply = admin_client.post(f"/admin/surveys/version/{version_id}/preview",
                              data={"csrf_token": csrf_token(page.text),
                                    **{f: "3" for f in fields}})
    assert reply.status_code == 200 and "nothing was stored" in reply.text
    with app.app_context():
        assert count_rows(Response) == 0


def test_trainer_and_leader_cannot_reach_administration(app, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        emails = [make_staff(agency, role).email for role in (Role.TRAINER, Role.LEADER)]
    for address in emails:
        client = app.test_client()
        AuthActions(client).login(address)
        for path in ("/admin/", "/admin/settings", "/admin/surveys", "/admin/audit",
                     "/admin/archive.zip", "/admin/agencies"):
            assert client.get(path).status_code == 403, (address, path)


def test_only_platform_admins_create_agencies(app, admin_client, agency_admin):
    assert admin_client.get("/admin/agencies").status_code == 403
    with app.app_context():
        db.session.get(StaffUser, agency_admin["admin_id"]).platform_admin = True
        db.session.commit()
    reply = post_form(admin_client, "/admin/agencies", name="Harbor Sheriff",
                      timezone="Mars/Olympus", admin_name="Sam Lee",
                      admin_email="sam@harbor.example.org")
    assert "Not a time zone" in reply.text and "Harbor Sheriff" in reply.text
    reply = post_form(admin_client, "/admin/agencies", name="Harbor Sheriff",
                      timezone="x" * 5000, admin_name="Sam Lee",  # no file lookup, no 500
                      admin_email="sam@harbor.example.org")
    assert reply.status_code == 200 and "Not a time zone" in reply.text
    reply = post_form(admin_client, "/admin/agencies", name="Harbor Sheriff",
                      timezone="America/Denver", admin_name="Sam Lee",
                      admin_email="sam@harbor.example.org")
    assert "/auth/welcome/" in reply.text
    with app.app_context():
        sam = db.session.scalars(sa.select(StaffUser).where(
            StaffUser.email == "sam@harbor.example.org")).one()
        assert sam.role is Role.ADMIN and sam.agency.name == "Harbor Sheriff"
        assert not sam.platform_admin


def store(wave, day, nonce, unit_id=None):
    """One response answering the wave's first item, submitted on `day`."""
    key = services.response_id("s", nonce)
    services.record_response(wave, {wave.instrument.entries[0].item_id: 3}, linkage=None,
                             key=key, today=day, unit_id=unit_id)
    return key


def answer(app, code, value="4", n=1):
    for _ in range(n):
        Officer(app.test_client(), code).answer_all(value)


def test_deleting_a_cohort_asks_for_its_name_and_is_audited(app, admin_client, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        keep = make_cohort(agency, name="Keep me")
        gone = make_cohort(agency, name="Delete me")
        keep_code, gone_code, gone_id = keep.waves[0].join_code, gone.waves[0].join_code, gone.id
    answer(app, keep_code, n=2)
    answer(app, gone_code, n=3)
    page = admin_client.get(f"/admin/cohorts/{gone_id}/delete")
    assert "all 3 responses" in page.text
    wrong = admin_client.post(f"/admin/cohorts/{gone_id}/delete",
                              data={"csrf_token": csrf_token(page.text), "confirm_name": "Keep"})
    assert wrong.status_code == 400
    with app.app_context():
        assert count_rows(Response) == 5
    right = admin_client.post(f"/admin/cohorts/{gone_id}/delete",
                              data={"csrf_token": csrf_token(page.text),
                                    "confirm_name": "Delete me"})
    assert right.status_code == 302
    with app.app_context():
        assert count_rows(Response) == 2
        assert db.session.get(Cohort, gone_id) is None
        assert db.session.scalar(sa.select(Wave.id).where(Wave.join_code == gone_code)) is None
        entry = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "cohort.delete")).one()
        assert entry.detail["responses"] == 3 and entry.detail["name"] == "Delete me"


def test_archive_holds_everything_but_hashes_and_small_surveys(app, admin_client, agency_admin):
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        cohort = make_cohort(agency, name="Archive class")
        cohort_id = cohort.id
        services.open_wave(cohort.waves[1], hours=24)
        pre, post = cohort.waves[0].join_code, cohort.waves[1].join_code
        services.save_program_figures(agency, None, [(dt.date(2026, 10, 1), "referrals", 12)])
    for value in "12345":
        officer = Officer(app.test_client(), pre)
        officer.start()
        officer.give_code(mother_initial="A", birth_month="3")
        officer.submit({f: value for f in officer.fields()})
    answer(app, post, n=2)  # fewer than 5: left out
    with app.app_context():
        open_reply = admin_client.get("/admin/archive.zip")  # nothing of an open survey
        with zipfile.ZipFile(io.BytesIO(open_reply.data)) as archive:
            assert not any(n.startswith("cohorts/") for n in archive.namelist())
            assert "Archive class: nothing published yet" in archive.read("README.txt").decode()
        publish(app, *[w.id for w in db.session.get(Cohort, cohort_id).waves[:2]])
    reply = admin_client.get("/admin/archive.zip")
    assert reply.status_code == 200 and reply.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.data)) as archive:
        names = set(archive.namelist())
        assert {"instrument_versions.csv", "pulses/responses.csv", "program_figures.csv",
                "README.txt", "cohorts/001-archive-class/responses.csv",
                "cohorts/001-archive-class/codebook.csv"} <= names
        responses = archive.read("cohorts/001-archive-class/responses.csv").decode()
        readme = archive.read("README.txt").decode()
        everything = "".join(archive.read(n).decode() for n in names)
    assert len(responses.strip().splitlines()) == 1 + 5  # the 5 pre answers, no post
    # The archive holds what was published: the class's own download, byte for byte.
    assert responses == admin_client.get(f"/trainer/cohorts/{cohort_id}/responses.csv").text
    assert "After training: fewer than 5 responses, left out." in readme
    assert '"referrals","12"' in archive_text(reply.data, "program_figures.csv")
    with app.app_context():
        hashes = [v for r in db.session.scalars(sa.select(Response.linkage)) if r
                  for v in r.values() if v]
        ids = [str(i) for i in db.session.scalars(sa.select(Response.id))]
        assert hashes and not any(h in everything for h in hashes)
        assert not any(i in everything for i in ids)
        assert len(db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.action == "archive.download")).all()) == 2


def archive_text(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name).decode()


def test_purge_removes_exactly_the_expired_responses(app):
    """Both engines: responses before the cutoff go, later ones and other agencies' stay."""
    with app.app_context():
        kept_agency = make_agency("Keeps everything")
        agency = make_agency("Two-year retention", retention_months=24)
        today = dt.date(2026, 11, 23)
        keys = {}
        for owner in (agency, kept_agency):
            pulse = services.start_pulse(owner, None, opens_on=dt.date(2024, 1, 1))
            for n, day in enumerate([dt.date(2024, 11, 22), dt.date(2024, 11, 23),
                                     dt.date(2025, 6, 1)]):
                keys[(owner.name, day)] = store(pulse, day, f"{owner.id}-{n}")
        assert lifecycle.retention_cutoff(agency, today) == dt.date(2024, 11, 23)
        deleted = lifecycle.purge_expired(agency, today=today)
        assert deleted == 1
        left = set(db.session.scalars(sa.select(Response.id)))
        assert keys[("Two-year retention", dt.date(2024, 11, 22))] not in left
        assert len(left) == 5
        entry = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "responses.purge")).one()
        assert entry.detail["before"] == "2024-11-23"
        assert lifecycle.purge_expired(kept_agency, today=today) == 0


def test_purge_command_reports_counts(app, runner):
    with app.app_context():
        agency = make_agency("Short memory", retention_months=1)
        pulse = services.start_pulse(agency, None, opens_on=dt.date(2026, 1, 1))
        for n in range(3):
            store(pulse, dt.date(2026, 1, 5), str(n))
    result = runner.invoke(args=["responses", "purge", "--today", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert "Short memory: deleted 3 responses submitted before 2026-10-23" in result.output
    assert "Done: 3 responses deleted." in result.output


def test_archive_command_writes_a_zip(app, runner, tmp_path):
    with app.app_context():
        make_cohort(make_agency("Zip PD"), name="One class")
    out = tmp_path / "zip-pd.zip"
    result = runner.invoke(args=["archive", str(out), "--agency", "Zip PD"])
    assert result.exit_code == 0, result.output
    assert zipfile.ZipFile(out).namelist()


def test_months_before_handles_short_months():
    assert lifecycle.months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert lifecycle.months_before(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)


class Inbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def inbox(app):
    from aiosmtpd.controller import Controller
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_STARTTLS=False,
                      MAIL_FROM="survey@metro.example.org")
    yield box
    controller.stop()


def test_links_are_e_mailed_when_smtp_is_configured(app, admin_client, inbox):
    link = invite(admin_client)
    (message,) = inbox.messages
    assert message["To"] == "dana@metro.example.org"
    assert message["From"] == "survey@metro.example.org"
    assert link in message.get_content()
    page = admin_client.get("/admin/")
    assert "Dana Reyes" in page.text


def test_an_unreachable_mail_server_still_shows_the_link(app, admin_client):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_STARTTLS=False,
                      MAIL_FROM="survey@metro.example.org")
    reply = post_form(admin_client, "/admin/staff/new", name="Dana Reyes",
                      email="dana@metro.example.org", role="trainer")
    assert "could not be sent" in reply.text and "/auth/welcome/" in reply.text


def test_without_smtp_nothing_is_sent_and_the_page_says_hand_it_over(app, admin_client):
    reply = post_form(admin_client, "/admin/staff/new", name="Dana Reyes",
                      email="dana@metro.example.org", role="trainer")
    assert "in person or by a channel you trust" in reply.text
    assert "could not be sent" not in reply.text


def test_pulse_trend_compares_a_changed_scale_on_its_shared_statements(app, admin_client,
                                                                         agency_admin):
    """A local cynicism statement joins the pulse between two pulses. The second pulse's
    cynicism score leaves it out, so the two pulses compare like with like, and the page says so."""
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        today = services.local_date(agency)
        first = services.start_pulse(agency, None, opens_on=today - dt.timedelta(days=40),
                                     days_open=60).join_code
    for _ in range(5):
        officer = Officer(app.test_client(), first)
        officer.start()
        assert officer.submit({f: "4" for f in officer.fields()}).status_code == 302
    reply = post_form(admin_client, "/admin/items/new", text="Deflection is another fad.",
                      construct="cynicism", scale="agree5", instrument="pulse")
    assert reply.status_code == 302
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        second = services.start_pulse(agency, None, opens_on=today).join_code
    for _ in range(5):
        officer = Officer(app.test_client(), second)
        officer.start()
        fields = officer.fields()
        assert "q_L1_001" in fields
        assert officer.submit({f: ("1" if f == "q_L1_001" else "4")
                               for f in fields}).status_code == 302
    close_all(app, agency_admin["agency_id"])
    page = admin_client.get("/leadership/")
    assert "Cynicism and apathy: its statements changed between pulse survey versions" \
        in page.text
    doc = json.loads(admin_client.get("/leadership/dashboard.json").data)
    cynicism = [row["mean"] for row in doc["tables"]["trend"] if row["construct"] == "cynicism"]
    assert len(cynicism) == 2 and cynicism[0] == cynicism[1]  # the local statement left out


def test_a_local_statement_grows_the_pulse_by_exactly_one(app, admin_client, agency_admin):
    """Adding one "Perceived facilitators" statement to the pulse (which has no facilitators)
    adds that statement, not the scale's six bank statements; the message and the officer's
    notice give the real count and time."""
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        before = len(services.agency_instrument(agency, "pulse").entries)
    reply = post_form(admin_client, "/admin/items/new",
                      text="Our treatment partner tells us what happened after a referral.",
                      construct="facilitators", scale="agree5", instrument="pulse")
    assert reply.status_code == 302, re.findall(r'error[^>]*>([^<]+)', reply.text)
    with app.app_context():
        agency = db.session.get(Agency, agency_admin["agency_id"])
        pulse = services.agency_instrument(agency, "pulse")
        codes = [e.item.code for e in pulse.entries]
        assert len(codes) == before + 1 == 13
        assert [c for c in codes if c.startswith("FAC")] == []
        code = services.start_pulse(agency, None, opens_on=services.local_date(agency)).join_code
    surveys = admin_client.get("/admin/surveys").text
    assert "13 statements, about 3 minutes to answer" in surveys
    officer = Officer(app.test_client(), code)
    notice = officer.client.get(f"/s/{code}").text
    assert "13 short statements and takes about 3 minutes" in notice
    # The scales picked for the pulse stay as they were: choosing them again changes nothing.
    page = admin_client.get("/admin/surveys/pulse").text
    assert 'value="facilitators" checked' not in page and "facilitators" in page
