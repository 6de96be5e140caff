"""The audit log through its route: a table of who, what and when (in the agency's time zone),
changes as readable text, filters, paging with a fixed number of statements, and clear messages
for values that cannot be used. On SQLite and, when set, PostgreSQL."""
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry, Role
from tests.conftest import AuthActions, count_statements, make_agency, make_staff

UTC = dt.timezone.utc
#: 03:30 UTC on 1 March is 21:30 on 28 February in Chicago (UTC-6 in winter).
LATE = dt.datetime(2026, 3, 1, 3, 30, tzinfo=UTC)


@pytest.fixture
def log(app):
    with app.app_context():
        agency = make_agency("Lakeside PD", timezone="America/Chicago")
        admin = make_staff(agency, Role.ADMIN, email="admin@lakeside.example.org")
        trainer = make_staff(agency, Role.TRAINER, email="trainer@lakeside.example.org")
        other = make_agency("Elsewhere PD")
        facts = {"agency_id": agency.id, "admin_id": admin.id, "trainer_id": trainer.id,
                 "other_id": other.id}
    client = app.test_client()
    AuthActions(client).login("admin@lakeside.example.org")
    with app.app_context():
        # the accounts' creation and the sign-in are audited too: a clean log to read
        db.session.execute(sa.delete(AuditEntry))
        agency_id, admin_id = facts["agency_id"], facts["admin_id"]
        db.session.add_all([
            AuditEntry(agency_id=agency_id, staff_user_id=admin_id, at=LATE,
                       action="agency.settings", target="Lakeside PD",
                       detail={"changes": {"min_group_size": [5, 8],
                                           "shifts": [["Day"], ["Day", "Night"]]}}),
            AuditEntry(agency_id=agency_id, staff_user_id=admin_id,
                       at=LATE - dt.timedelta(days=2), action="account.change",
                       target="trainer@lakeside.example.org",
                       detail={"before": {"role": "trainer", "active": True},
                               "after": {"role": "leader", "active": True}}),
            AuditEntry(agency_id=agency_id, staff_user_id=None,
                       at=LATE - dt.timedelta(days=3), action="archive.write",
                       target="/srv/archive.zip", detail={"bytes": 2048}),
            AuditEntry(agency_id=agency_id, staff_user_id=admin_id,
                       at=LATE - dt.timedelta(days=4), action="instrument.publish",
                       target="pulse version 2",
                       detail={"items": [f"PF_{n:03}" for n in range(1, 19)]}),
            AuditEntry(agency_id=facts["other_id"], staff_user_id=None, at=LATE,
                       action="agency.settings", target="Elsewhere PD",
                       detail={"changes": {"min_group_size": [5, 3]}}),
        ])
        db.session.commit()
    return {"client": client, **facts}


def rows(html: str) -> list[str]:
    """Each row of the log's table as its cells' text, separated by " | "."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.DOTALL)
        out.append(" | ".join(" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells))
    return out


def test_the_log_is_a_readable_table_in_the_agencys_time(log):
    page = log["client"].get("/admin/audit")
    assert page.status_code == 200
    assert rows(page.text) == [
        ("28 February 2026, 21:30 | A admin | Changed the settings Lakeside PD | "
         "Min group size: 5 → 8 Shifts: Day → Day, Night"),
        ("26 February 2026, 21:30 | A admin | Changed an account trainer@lakeside.example.org"
         " | Role: trainer → leader"),
        "25 February 2026, 21:30 | System | Wrote the archive /srv/archive.zip | Bytes: 2048",
        ("24 February 2026, 21:30 | A admin | Published a survey version pulse version 2 | "
         "Items: PF_001, PF_002, PF_003, …, PF_017, PF_018 (18 in all)"),
    ]
    assert "{&#34;" not in page.text and '{"' not in page.text  # no raw JSON
    assert "Elsewhere PD" not in page.text  # another agency's log stays its own
    assert 'role="region"' in page.text and 'tabindex="0"' in page.text


def test_filters_by_who_kind_and_dates_in_local_time(log):
    client = log["client"]

    def shown(**query):
        reply = client.get("/admin/audit", query_string=query)
        assert reply.status_code == 200, reply.text
        return [r.split(" | ")[2] for r in rows(reply.text)]

    assert shown(who="system") == ["Wrote the archive /srv/archive.zip"]
    assert shown(who=str(log["admin_id"])) == [
        "Changed the settings Lakeside PD", "Changed an account trainer@lakeside.example.org",
        "Published a survey version pulse version 2"]
    assert shown(who=str(log["trainer_id"])) == []
    assert shown(kind="account") == ["Changed an account trainer@lakeside.example.org"]
    # 03:30 UTC on 1 March belongs to 28 February in Chicago, not to 1 March
    assert shown(start="2026-02-28", end="2026-02-28") == ["Changed the settings Lakeside PD"]
    assert shown(start="2026-03-01") == []
    assert shown(end="2026-02-26", start="2026-02-25") == [
        "Changed an account trainer@lakeside.example.org", "Wrote the archive /srv/archive.zip"]
    page = client.get("/admin/audit?kind=account&who=system")
    assert "No entries match these choices." in page.text


@pytest.mark.parametrize("query, message", [
    ("page=abc", "The page number must be a whole number from 1 to 100,000."),
    ("page=0", "The page number must be a whole number from 1 to 100,000."),
    ("page=99999999999999999999", "The page number must be a whole number from 1 to 100,000."),
    ("start=2026-13-45", "The From date must be a date such as 2026-03-31."),
    ("end=yesterday", "The To date must be a date such as 2026-03-31."),
    ("start=0001-01-01", "The From date must be between 2000 and 2100."),
    ("start=2026-03-02&end=2026-03-01", "The From date is after the To date."),
    ("who=999999", "The person chosen is not one of your agency's accounts."),
    ("who=%27%3B+drop", "The person chosen is not one of your agency's accounts."),
    ("kind=nothing", "There is no such kind of action."),
])
def test_values_that_cannot_be_used_get_a_clear_message(log, query, message):
    reply = log["client"].get(f"/admin/audit?{query}")
    assert reply.status_code == 400
    assert message.replace("'", "&#39;") in reply.text
    assert "These choices cannot be used" in reply.text
    assert len(rows(reply.text)) == 4  # the unusable value is left out, the log still shows


def add_entries(app, agency_id, count):
    with app.app_context():
        start = dt.datetime(2026, 1, 1, 12, tzinfo=UTC)
        db.session.add_all([AuditEntry(agency_id=agency_id, staff_user_id=None,
                                       at=start + dt.timedelta(minutes=n), action="wave.open",
                                       target=f"wave {n}", detail={"hours": n})
                            for n in range(count)])
        db.session.commit()


def test_fifty_a_page_newest_first_and_a_page_past_the_end(app, log):
    add_entries(app, log["agency_id"], 116)  # 120 entries in all: three pages
    client = log["client"]
    first = client.get("/admin/audit")
    assert "120 entries; page 1 of 3." in first.text
    assert len(rows(first.text)) == 50
    assert rows(first.text)[0].startswith("28 February 2026")
    assert "Older entries" in first.text and "Newer entries" not in first.text
    second = rows(client.get("/admin/audit?page=2").text)
    assert len(second) == 50 and "wave 69" in second[0]  # page 1: 4 newer, then waves 115 to 70
    third = client.get("/admin/audit?page=3")
    assert len(rows(third.text)) == 20 and "Newer entries" in third.text
    assert "Older entries" not in third.text
    assert rows(third.text)[-1].split(" | ")[2] == "Opened a survey wave 0"
    # the pager keeps the filters
    filtered = client.get("/admin/audit?kind=wave&page=2")
    assert "kind=wave&amp;page=3" in filtered.text
    past = client.get("/admin/audit?page=4")
    assert past.status_code == 404
    assert "There is no page 4: what you chose fills 3 pages." in past.text


@pytest.mark.parametrize("size", [0, 300])
def test_a_page_takes_the_same_statements_whatever_the_log_size(app, log, size):
    add_entries(app, log["agency_id"], size)
    with app.app_context():
        engine = db.engine
    client = log["client"]
    client.get("/admin/audit")
    counts = {}
    for url in ("/admin/audit", "/admin/audit?page=1&kind=wave&start=2026-01-01",
                f"/admin/audit?who={log['admin_id']}"):
        with count_statements(engine) as statements:
            assert client.get(url).status_code == 200
        counts[url] = len(statements)
    assert counts == dict.fromkeys(counts, AUDIT_STATEMENTS), counts


AUDIT_STATEMENTS = 4


# --- The administrator's home page -----------------------------------------------------------

def test_the_admin_home_shows_what_needs_attention(app, log):
    from survey import accounts
    from survey.models import AccountLink, Agency
    from tests.conftest import make_cohort
    with app.app_context():
        agency = db.session.get(Agency, log["agency_id"])
        cohort = make_cohort(agency, name="Night shift basics")
        code = cohort.waves[0].join_code
        accounts.invite_staff(agency, email="new@lakeside.example.org", name="Robin New",
                              role=Role.TRAINER, by=None)
        late, _ = accounts.invite_staff(agency, email="late@lakeside.example.org",
                                        name="Sam Late", role=Role.LEADER, by=None)
        link = db.session.scalar(sa.select(AccountLink).where(AccountLink.staff_user_id == late.id))
        link.expires_at = dt.datetime(2026, 3, 2, 18, tzinfo=UTC)  # noon in Chicago
        db.session.commit()
    page = log["client"].get("/admin/")
    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", "", page.text).split())
    assert "Invitations not taken up (2)" in text
    assert "Robin New (new@lakeside.example.org): the link works until" in text
    assert "Sam Late (late@lakeside.example.org): the link expired 2 March 2026, 12:00" in text
    assert "Surveys open now (1)" in text
    assert f"Night shift basics: before training, code {code}, closes" in text
    # the latest five changes, newest first, readable; and the way to the whole log
    recent = text.split("Latest changes", 1)[1].split("The whole audit log", 1)[0]
    assert recent.count("December 2026") == 5  # of the ten entries
    assert "System: created an account (late@lakeside.example.org): Role: leader" in recent
    assert recent.index("late@") < recent.index("new@") < recent.index("opened a survey")
    assert "changed the settings" not in recent
    assert "The whole audit log (10 entries)" in text
    assert "Accounts at Lakeside PD" in text and "Sam Late" in text.split("Accounts at")[1]


def test_an_admin_home_with_nothing_waiting_says_so(app, log):
    with app.app_context():
        db.session.execute(sa.delete(AuditEntry))
        db.session.commit()
    text = " ".join(re.sub(r"<[^>]+>", " ", log["client"].get("/admin/").text).split())
    assert ("Nothing: every result is published, no invitation is waiting and no survey is "
            "open.") in text
    assert "No change recorded yet." in text
