"""Officers' own words: one optional open question per pulse (issue 19).

Masked before storage, stored apart from the answer sheet with nothing that joins them, shown
only in the pulse's published result and only when at least the agency's comment minimum wrote
one. Played as an attacker with a database dump, on both engines.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from survey import services
from survey.bank import current_bank
from survey.comments import MAX_LENGTH, clean_comment, mask
from survey.extensions import db
from survey.models import Agency, Comment, Response, Role
from tests.conftest import Officer, close_all, csrf_token, make_agency, make_staff

#: Each kind of personal detail, and what must be gone from it.
CORPUS = [
    ("Call Sgt. Okafor at (312) 555-0199 if the clinic is closed.", ["Okafor", "555-0199"]),
    ("Mail jo.smith@riverside-pd.example.org for the referral form.", ["jo.smith", "@"]),
    ("Maria Lopez at intake was great with the man I brought in.", ["Maria", "Lopez"]),
    ("Ask Officer Dana how she got it done so fast.", ["Dana"]),
    ("The guy from last week, badge 4471, made it quicker.", ["4471"]),
    ("Case 24-001234 took two hours of paperwork; report CR24-5678 too.",
     ["24-001234", "CR24-5678"]),
    ("The form at www.riverside.org/deflect is too long.", ["riverside.org"]),
    ("My partner John says the same as I do.", ["John"]),
]

#: Words that must stay: a name-like word starting a sentence, years, small numbers.
KEPT = ("Will the clinic take people at night? In 2024 it took 40 minutes, and 12 beds is not "
        "enough.")


@pytest.mark.parametrize("text, gone", CORPUS)
def test_every_kind_of_personal_detail_is_masked(text, gone):
    masked = mask(text)
    for detail in gone:
        assert detail not in masked, (text, masked)
    assert "[" in masked


def test_ordinary_words_years_and_small_numbers_stay():
    assert mask(KEPT) == KEPT


def test_a_comment_is_tidied_cut_and_masked_before_storage():
    assert clean_comment("   ") is None and clean_comment(None) is None
    assert clean_comment("  Too   much\n\npaperwork. ") == "Too much paperwork."
    assert len(clean_comment("x" * 900)) == MAX_LENGTH


@pytest.fixture
def pulse_site(app):
    """An agency whose pulses ask an open question (comment minimum 10), with a leader."""
    with app.app_context():
        agency = make_agency(headcount=40)
        agency.comment_prompt = "quicker"
        db.session.commit()
        leader = make_staff(agency, Role.LEADER)
        return {"agency_id": agency.id, "leader": leader.email, "token": agency.results_token}


def start_pulse(app, agency_id):
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        return services.start_pulse(agency, None, opens_on=dt.date.today()
                                    - dt.timedelta(days=3), days_open=8).join_code


def answers():
    return {f"q_{i.code}": "3" for i in current_bank().instrument_items("pulse")}


def send(app, code, comment=""):
    officer = Officer(app.test_client(), code)
    officer.start()
    page = officer.questions()
    assert "What would make a referral quicker for you than an arrest?" in page.text
    return officer.submit({**answers(), "comment": comment})


def dashboard(app, email):
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"csrf_token": csrf_token(page.text), "email": email,
                                     "password": "correct horse battery"})
    return client.get("/leadership/").text


def test_below_the_comment_minimum_nothing_of_the_comments_shows(app, pulse_site):
    code = start_pulse(app, pulse_site["agency_id"])
    for n in range(9):
        assert send(app, code, f"More detox beds, please (officer {n}).").status_code == 302
    send(app, code)  # a tenth officer writes nothing
    close_all(app, pulse_site["agency_id"])
    page = dashboard(app, pulse_site["leader"])
    assert "In their own words" in page
    assert "Fewer than 10 officers wrote a comment, so none are shown." in page
    assert "detox" not in page and "9 officers" not in page
    results = app.test_client().get(f"/results/{pulse_site['token']}").text
    assert "detox" not in results


def test_at_the_minimum_every_comment_shows_masked_in_the_published_result_only(
        app, pulse_site):
    code = start_pulse(app, pulse_site["agency_id"])
    texts = [text for text, _ in CORPUS] + ["Faster intake.", "Less paperwork."]
    for text in texts:
        assert send(app, code, text).status_code == 302
    open_page = dashboard(app, pulse_site["leader"])
    assert "Faster intake" not in open_page  # an open pulse shows its count, nothing else
    close_all(app, pulse_site["agency_id"])
    page = dashboard(app, pulse_site["leader"])
    assert "10 officers wrote a comment" in page
    shown = re.findall(r"<li>([^<]*)</li>", page.split('aria-labelledby="own-words"')[1]
                       .split("</section>")[0])
    assert sorted(shown) == sorted(mask(t).replace("'", "&#39;").replace('"', "&#34;")
                                   for t in texts)
    for _, gone in CORPUS:
        assert not any(detail in page for detail in gone if len(detail) > 4)
    results = app.test_client().get(f"/results/{pulse_site['token']}").text
    assert "Faster intake" not in results  # the officers' page never shows the text


def test_a_comment_too_long_is_refused_with_the_answers_kept(app, pulse_site):
    code = start_pulse(app, pulse_site["agency_id"])
    reply = send(app, code, "y" * (MAX_LENGTH + 1))
    assert reply.status_code == 400
    assert f"please shorten it to {MAX_LENGTH}" in reply.text
    assert 'value="3" checked' in reply.text or "checked" in reply.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_a_pulse_without_a_question_keeps_no_comment(app, pulse_site):
    with app.app_context():
        db.session.get(Agency, pulse_site["agency_id"]).comment_prompt = None
        db.session.commit()
    code = start_pulse(app, pulse_site["agency_id"])
    officer = Officer(app.test_client(), code)
    officer.start()
    assert 'name="comment"' not in officer.questions().text
    assert officer.submit({**answers(), "comment": "forged"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_a_database_dump_cannot_join_a_comment_to_its_sheet(app, pulse_site):
    """The attacker holds the whole database: the comment table has nothing but a random key,
    the wave and the masked text; on PostgreSQL every comment of the wave carries one
    transaction id, the latest's, so neither xmin nor position says which sheet came with
    which comment; on SQLite no write-ahead log is left behind a comment."""
    code = start_pulse(app, pulse_site["agency_id"])
    for n in range(6):
        send(app, code, f"Comment number {'abcdef'[n]}.")
    with app.app_context():
        engine = db.engine
        inspector = sa.inspect(engine)
        assert {c["name"] for c in inspector.get_columns("comment")} == {"id", "wave_id", "text"}
        assert [fk["referred_table"] for fk in inspector.get_foreign_keys("comment")] == ["wave"]
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                comment_xmins = set(conn.execute(sa.text(
                    "SELECT xmin::text FROM comment")).scalars())
                sheet_xmins = set(conn.execute(sa.text(
                    "SELECT xmin::text FROM response")).scalars())
            assert len(comment_xmins) == 1 and not comment_xmins & sheet_xmins
        else:
            wal = engine.url.database + "-wal"
            import os
            assert not os.path.exists(wal) or os.path.getsize(wal) == 0
        stored = list(db.session.scalars(sa.select(Comment.text)))
        assert sorted(stored) == sorted(f"Comment number {c}." for c in "abcdef")
    close_all(app, pulse_site["agency_id"])
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                keys = [str(k) for k in conn.execute(sa.text(
                    "SELECT id FROM comment ORDER BY ctid")).scalars()]
            assert keys == sorted(keys)  # physical order is key order: random


def test_the_notice_says_a_comment_is_kept_only_when_the_pulse_asks_for_one(app, pulse_site):
    code = start_pulse(app, pulse_site["agency_id"])
    notice = app.test_client().get(f"/s/{code}").text
    assert "your comment to the open question" in notice and "at least 10 officers" in notice
    with app.app_context():
        db.session.get(Agency, pulse_site["agency_id"]).comment_prompt = None
        db.session.commit()
    silent = app.test_client().get(f"/s/{start_pulse(app, pulse_site['agency_id'])}").text
    assert "your comment" not in silent
    assert "your comment to the open question" in app.test_client().get(f"/s/{code}").text


def test_the_administrator_chooses_the_question_and_it_is_audited(app, pulse_site):
    with app.app_context():
        agency = db.session.get(Agency, pulse_site["agency_id"])
        email = make_staff(agency, Role.ADMIN).email
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"csrf_token": csrf_token(page.text), "email": email,
                                     "password": "correct horse battery"})
    form = client.get("/admin/settings").text
    assert "What should leadership do next to support deflection?" in form
    data = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    data.update({"csrf_token": csrf_token(form), "comment_prompt": "leadership",
                 "min_group_size": "5", "min_comment_group_size": "10",
                 "units": "", "shifts": "Days\nNights", "pulse_cadence": "quarterly"})
    reply = client.post("/admin/settings", data=data)
    assert reply.status_code == 302, re.findall(r'field-error[^>]*>([^<]+)', reply.text)
    with app.app_context():
        assert db.session.get(Agency, pulse_site["agency_id"]).comment_prompt == "leadership"
        from survey.models import AuditEntry
        entry = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "agency.settings")).all()[-1]
        assert "comment_prompt" in str(entry.detail)
    bad = client.post("/admin/settings", data={**data, "comment_prompt": "x" * 30})
    assert bad.status_code in (200, 400) and "Not a valid choice" in bad.text


def tagged_site(app, pulse_site):
    """A closed pulse with 10 comments, and a signed-in leader."""
    code = start_pulse(app, pulse_site["agency_id"])
    for n in range(10):
        send(app, code, "Too much paperwork." if n < 6 else f"Beds at night, please ({n}).")
    close_all(app, pulse_site["agency_id"])
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"csrf_token": csrf_token(page.text),
                                     "email": pulse_site["leader"],
                                     "password": "correct horse battery"})
    return client


def tag(client, comment_id, *themes, own=""):
    page = client.get("/leadership/comments").text
    return client.post("/leadership/comments", data={
        "csrf_token": csrf_token(page), "comment": comment_id, "theme": list(themes),
        "own": own})


def test_a_leader_tags_comments_and_links_a_step_for_the_officers_page(app, pulse_site):
    client = tagged_site(app, pulse_site)
    page = client.get("/leadership/comments").text
    ids = re.findall(r'name="comment" value="([0-9a-f-]{36})"', page)
    assert len(ids) == 10 and "Too much paperwork." in page
    with app.app_context():
        texts = {str(c.id): c.text for c in db.session.scalars(sa.select(Comment))}
    paperwork = [i for i in ids if texts[i] == "Too much paperwork."]
    for comment_id in paperwork:
        assert tag(client, comment_id, "time").status_code == 302
    night = next(i for i in ids if i not in paperwork)
    assert tag(client, night, "treatment", own="Night shift").status_code == 302
    page = client.get("/leadership/comments").text
    assert "Time and paperwork" in page and 'value="Night shift"' in page
    counts = page.split('id="counts"')[1]
    assert re.search(r"Time and paperwork</th><td class=\"num\">6 of 10", counts)

    # The step that answers it: linked to the theme, with what officers are told.
    item = client.get("/leadership/tracker/le_policy").text
    reply = client.post("/leadership/tracker/le_policy", data={
        "csrf_token": csrf_token(item), "status": "done", "done_on": "2026-11-20",
        "owner": "", "notes": "", "shared_note": "The referral form is one page now.",
        "theme": "time"})
    assert reply.status_code == 302
    dashboard_page = client.get("/leadership/").text
    assert re.search(r"Time and paperwork</th><td class=\"num\">6 of 10", dashboard_page)
    results = app.test_client().get(f"/results/{pulse_site['token']}").text
    assert "What you told us" in results and "Time and paperwork</strong>: 6 of 10" in results
    assert "The referral form is one page now." in results
    assert "Too much paperwork" not in results and "Beds at night" not in results


def test_tagging_refuses_forged_themes_foreign_comments_and_bad_ids(app, pulse_site):
    client = tagged_site(app, pulse_site)
    page = client.get("/leadership/comments").text
    comment_id = re.findall(r'name="comment" value="([0-9a-f-]{36})"', page)[0]
    assert tag(client, comment_id, "bribery").status_code == 400
    assert tag(client, comment_id, own="x" * 41).status_code == 400
    assert tag(client, "not-a-uuid", "time").status_code == 400
    assert tag(client, "00000000-0000-4000-8000-000000000000", "time").status_code == 404
    with app.app_context():
        from survey.models import CommentTheme
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentTheme)) == 0


def test_below_the_minimum_there_is_nothing_to_tag_and_no_theme_anywhere(app, pulse_site):
    code = start_pulse(app, pulse_site["agency_id"])
    for n in range(9):
        send(app, code, "Too much paperwork.")
    close_all(app, pulse_site["agency_id"])
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"csrf_token": csrf_token(page.text),
                                     "email": pulse_site["leader"],
                                     "password": "correct horse battery"})
    page = client.get("/leadership/comments").text
    assert "paperwork" not in page and 'name="comment"' not in page
    with app.app_context():
        comment_id = db.session.scalars(sa.select(Comment.id)).first()
    assert tag(client, str(comment_id), "time").status_code == 404
    results = app.test_client().get(f"/results/{pulse_site['token']}").text
    assert "What you told us" not in results
