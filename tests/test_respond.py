"""The officer's path through the real routes, and every bad input on it."""
import datetime as dt
import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from survey import services
from survey.extensions import db
from survey.models import Answer, Response, Wave
from tests.conftest import PG_URL, Officer, count_rows, count_statements, csrf_token


LINKAGE_CODE = {"mother_initial": "Q", "birth_month": "11", "first_car_initial": "V"}


def stored(app):
    with app.app_context():
        return count_rows(Response), count_rows(Answer)


def test_join_page_takes_a_code_forgivingly(client, setup):
    page = client.get("/")
    assert page.status_code == 200
    assert 'name="code"' in page.text
    messy = f"  {setup['pre'][:3].lower()}-{setup['pre'][3:].lower()} "
    reply = client.post("/", data={"csrf_token": csrf_token(page.text), "code": messy})
    assert reply.status_code == 302
    assert reply.location.endswith(f"/s/{setup['pre']}")


def test_unknown_code_says_so_and_offers_retry(client, setup):
    page = client.get("/join")
    reply = client.post("/join", data={"csrf_token": csrf_token(page.text), "code": "QQQ777"})
    assert reply.status_code == 200
    assert "No survey uses the code “QQQ777”" in reply.text
    assert 'value="QQQ777"' in reply.text  # the typed code stays, ready to correct
    assert "Start the survey" in reply.text


def test_unknown_code_in_link_is_a_404_with_a_way_to_retry(client, setup):
    page = client.get("/s/QQQ777")
    assert page.status_code == 404
    assert "No survey uses the code QQQ777" in page.text
    assert 'name="code"' in page.text


def test_lower_case_link_is_redirected_to_the_canonical_code(client, setup):
    reply = client.get(f"/s/{setup['pre'].lower()}")
    assert reply.status_code == 302 and reply.location.endswith(f"/s/{setup['pre']}")


def test_notice_says_what_is_and_is_not_kept(officer):
    page = officer.start()
    text = page.text
    for kept in ("Your answers", "The date you answered (not the time)"):
        assert kept in text
    for never in ("name, e-mail or badge number", "IP address", "time of day"):
        assert never in text
    assert "groups of at least 5 officers" in text
    assert "/privacy" in text


def zone_off_utc_today() -> str:
    """A time zone whose date differs from UTC's right now (+14 h late in the UTC day,
    -11 h early in it), so that a date taken in UTC cannot pass for the local one."""
    return "Pacific/Kiritimati" if dt.datetime.now(dt.timezone.utc).hour >= 10 \
        else "Pacific/Pago_Pago"


def test_whole_path_stores_one_response_with_every_answer(app, officer, setup):
    from zoneinfo import ZoneInfo

    from survey.models import Agency
    zone = zone_off_utc_today()
    with app.app_context():
        db.session.get(Agency, setup["agency_id"]).timezone = zone
        db.session.commit()
    local_before = dt.datetime.now(ZoneInfo(zone)).date()
    officer.start()
    reply = officer.give_code(mother_initial="M", father_initial="J", birth_month="3",
                              older_siblings="1", birthplace_initial="T",
                              first_car_initial="F")
    assert reply.location.endswith(f"/s/{setup['pre']}/questions")
    fields = officer.fields()
    assert len(fields) == 25
    reply = officer.submit({f: "4" for f in fields})
    assert reply.status_code == 302 and reply.location.endswith("/thanks")
    thanks = officer.client.get(reply.location)
    assert "Your answers are in" in thanks.text
    with app.app_context():
        response = db.session.scalars(sa.select(Response)).one()
        assert response.wave_id == setup["pre_id"]
        # the agency's date, worked out here from the zone (the date can turn mid-test)
        local_after = dt.datetime.now(ZoneInfo(zone)).date()
        assert response.submitted_on in {local_before, local_after}
        assert dt.datetime.now(dt.timezone.utc).date() not in {local_before, local_after} \
            or local_before != local_after
        assert {a.value for a in response.answers} == {4}
        assert len(response.answers) == 25
        assert set(response.linkage) == {"mother_initial", "father_initial", "birth_month",
                                         "older_siblings", "birthplace_initial",
                                         "first_car_initial"}


def test_skipping_the_linkage_code_still_counts(app, officer):
    reply = officer.answer_all("2")
    assert reply.status_code == 302
    with app.app_context():
        response = db.session.scalars(sa.select(Response)).one()
        assert response.linkage is None


def test_questions_without_a_code_decision_go_to_the_code_step(officer, setup):
    reply = officer.client.get(f"/s/{setup['pre']}/questions")
    assert reply.status_code == 302 and reply.location.endswith("/code")


def test_agency_that_does_not_ask_for_linkage_skips_the_step(app, client, setup):
    with app.app_context():
        wave = db.session.get(Wave, setup["pre_id"])
        wave.agency.ask_linkage = False
        db.session.commit()
    reply = client.get(f"/s/{setup['pre']}/code")
    assert reply.location.endswith("/questions")
    assert client.get(f"/s/{setup['pre']}/questions").status_code == 200


def test_survey_page_is_accessible_markup(officer):
    officer.start()
    officer.give_code(skip=True)
    page = officer.questions().text
    assert page.count("<fieldset") == 25
    assert page.count("<legend>") == 25
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    # every radio button has a label naming its point on the scale
    radios = re.findall(r'<input id="(q_[A-Z0-9]+-\d)"', page)
    assert len(radios) == 125
    for radio_id in radios[:5]:
        assert f'<label class="option" for="{radio_id}">' in page
    for label in ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
                  "Strongly agree"):
        assert f"<span>{label}</span>" in page
    assert "Part 1 of 5" in page and "Part 5 of 5" in page


def test_missing_answers_are_named_and_given_answers_kept(app, officer):
    officer.start()
    officer.give_code(skip=True)
    fields = officer.fields()
    given = {f: str(1 + n % 5) for n, f in enumerate(fields[:-3])}
    page = officer.submit(given)
    assert page.status_code == 200
    assert "3 statements still need an answer" in page.text
    assert page.text.count("Choose an answer for this statement, or “Prefer not to answer”.") == 3
    for field, value in given.items():
        assert re.search(rf'<input checked id="{field}-\d" name="{field}" required type="radio" '
                         rf'value="{value}">', page.text), field
    for field in fields[-3:]:
        assert f'href="#{field}"' in page.text  # the statement's fieldset, not its first point
        assert re.search(rf'<fieldset class="item has-error" id="{field}" tabindex="-1"', page.text)
        assert "checked" not in re.search(rf'<fieldset[^>]*>(?:(?!</fieldset>).)*name="{field}"'
                                          rf'(?:(?!</fieldset>).)*</fieldset>', page.text,
                                          re.S).group(0)
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("forged, reason", [
    ({"q_STG01": "6"}, "off the 1 to 5 scale"),
    ({"q_STG01": "0"}, "off the 1 to 5 scale"),
    ({"q_STG01": "-1"}, "off the 1 to 5 scale"),
    ({"q_STG01": "3.5"}, "off the 1 to 5 scale"),
    ({"q_STG01": "abc"}, "off the 1 to 5 scale"),
    ({"q_STG01": "٣"}, "off the 1 to 5 scale"),  # a non-ASCII digit
    ({"q_NOPE99": "3"}, "does not have"),
    ({"respondent_name": "J. Smith"}, "does not have"),
])
def test_forged_values_are_refused_and_nothing_written(app, officer, forged, reason):
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "3" for f in officer.fields()}
    answers.update(forged)
    reply = officer.submit(answers)
    assert reply.status_code == 400
    assert reason in reply.text and "Nothing was saved" in reply.text
    assert stored(app) == (0, 0)


def test_two_answers_to_one_statement_are_refused(app, officer):
    officer.start()
    officer.give_code(skip=True)
    fields = officer.fields()
    data = [(f, "3") for f in fields] + [(fields[0], "5"), ("csrf_token", officer.token)]
    reply = officer.client.post(f"/s/{officer.code}/questions", data=MultiDict(data))
    assert reply.status_code == 400
    assert stored(app) == (0, 0)


def test_double_submit_is_stored_once(app, officer):
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "5" for f in officer.fields()}
    first = officer.submit(answers)
    second = officer.submit(answers)  # a double tap: same page, same session
    assert first.status_code == second.status_code == 302
    assert second.location.endswith("/thanks")
    assert stored(app) == (1, 25)


def test_back_and_resend_after_thanks_is_stored_once(app, officer):
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "3" for f in officer.fields()}
    assert officer.submit(answers).location.endswith("/thanks")
    back = officer.client.get(f"/s/{officer.code}/questions")  # browser back
    assert back.status_code == 302 and back.location.endswith("/thanks")
    resend = officer.submit(answers)  # "resend the form?" answered yes
    assert resend.status_code == 302 and resend.location.endswith("/thanks")
    assert stored(app) == (1, 25)


def test_the_same_nonce_twice_is_refused_by_the_database(app, setup):
    """The guard does not rely on the session: two requests racing past it still store one."""
    with app.app_context():
        wave = db.session.get(Wave, setup["pre_id"])
        key = services.response_id("secret", "same-nonce")
        answers = {1: 3, 2: 4}
        assert services.record_response(wave, answers, linkage=None, key=key,
                                        today=dt.date(2026, 11, 23)) is True
        assert services.record_response(wave, answers, linkage=None, key=key,
                                        today=dt.date(2026, 11, 23)) is False
        assert count_rows(Response) == 1 and count_rows(Answer) == 2


def test_two_officers_on_two_phones_are_two_responses(app, client, setup):
    Officer(client, setup["pre"]).answer_all("4")
    other = app.test_client()
    Officer(other, setup["pre"]).answer_all("2")
    assert stored(app) == (2, 50)


def test_wave_not_open_yet_says_so(app, client, setup):
    page = client.get(f"/s/{setup['post']}")
    assert page.status_code == 403
    assert "This survey is not open yet" in page.text
    assert "Your trainer opens it in class" in page.text
    with app.app_context():
        wave = db.session.get(Wave, setup["post_id"])
        wave.opens_at = dt.datetime(2030, 1, 5, 14, 0, tzinfo=dt.timezone.utc)
        db.session.commit()
    page = client.get(f"/s/{setup['post']}")
    assert "opens on 5 January 2030, 14:00" in page.text


def test_closed_wave_says_when_it_closed_and_whom_to_ask(app, client, setup):
    with app.app_context():
        services.close_wave(db.session.get(Wave, setup["pre_id"]),
                            now=dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.timezone.utc))
    page = client.get(f"/s/{setup['pre']}")
    assert page.status_code == 403
    assert "This survey is closed" in page.text
    assert "closed on 20 November 2026, 17:30" in page.text
    assert "ask the trainer" in page.text


def test_answers_sent_just_after_closing_are_kept(app, officer, setup):
    app.config["SUBMIT_GRACE_MINUTES"] = 10
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "4" for f in officer.fields()}
    with app.app_context():
        services.close_wave(db.session.get(Wave, setup["pre_id"]))
    reply = officer.submit(answers)
    assert reply.status_code == 302 and reply.location.endswith("/thanks")
    assert stored(app) == (1, 25)


def test_answers_sent_long_after_closing_are_refused(app, officer, setup):
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "4" for f in officer.fields()}
    with app.app_context():
        services.close_wave(db.session.get(Wave, setup["pre_id"]),
                            now=services.utcnow() - dt.timedelta(hours=2))
    reply = officer.submit(answers)
    assert reply.status_code == 403 and "This survey is closed" in reply.text
    assert stored(app) == (0, 0)


def test_oversized_body_is_413(app, officer):
    officer.start()
    officer.give_code(skip=True)
    officer.fields()
    reply = officer.submit({"q_STG01": "3" * 100_000})
    assert reply.status_code == 413
    assert stored(app) == (0, 0)


def test_expired_session_keeps_the_answers(app, officer):
    """The cookie is lost mid-survey: the officer is asked for the personal code again (the
    answers carried along), then is back at the answers, and Send stores them with the code."""
    officer.start()
    officer.give_code(**LINKAGE_CODE)
    fields = officer.fields()
    answers = {f: "2" for f in fields}
    officer.client.delete_cookie("session")  # the browser session ended mid-survey
    reply = officer.submit(answers)
    assert reply.status_code == 400
    assert "lost the personal code" in reply.text
    assert stored(app) == (0, 0)
    carried = dict(re.findall(r'<input type="hidden" name="(q_[A-Z0-9_]+)" value="([^"]*)"',
                              reply.text))
    assert carried == answers
    back = officer.client.post(f"/s/{officer.code}/code", data={
        "csrf_token": csrf_token(reply.text), "proceed": "x", **LINKAGE_CODE, **carried})
    assert back.status_code == 200 and "Your answers are still here" in back.text
    assert back.text.count("checked") == len(fields)
    assert stored(app) == (0, 0)
    resend = officer.client.post(f"/s/{officer.code}/questions",
                                 data={"csrf_token": csrf_token(back.text), **answers})
    assert resend.status_code == 302
    assert stored(app) == (1, 25)
    with app.app_context():
        linkage = db.session.scalars(sa.select(Response.linkage)).one()
    assert linkage is not None and set(linkage) == set(LINKAGE_CODE)


def test_a_session_lost_without_a_personal_code_still_asks_for_it(app, officer):
    """Even after "Skip", a lost cookie means the server cannot know the officer skipped:
    it asks again; skipping again keeps the answers and stores them without a code."""
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "3" for f in officer.fields()}
    officer.client.delete_cookie("session")
    reply = officer.submit(answers)
    assert reply.status_code == 400 and "lost the personal code" in reply.text
    back = officer.client.post(f"/s/{officer.code}/code", data={
        "csrf_token": csrf_token(reply.text), "skip": "x", **answers})
    resend = officer.client.post(f"/s/{officer.code}/questions",
                                 data={"csrf_token": csrf_token(back.text), **answers})
    assert resend.status_code == 302 and stored(app) == (1, 25)
    with app.app_context():
        assert db.session.scalars(sa.select(Response.linkage)).one() is None


def test_database_unreachable_before_anything_keeps_the_answers(tmp_path):
    """The database disappears between opening the survey and pressing Send (its file moved
    away): the officer sees a 'try again' page with every answer still selected, nothing is
    written, and pressing Send once it is back stores the response once."""
    from tests.conftest import fresh_database, make_agency, make_cohort
    path = tmp_path / "survey.db"
    with fresh_database(f"sqlite:///{path}") as app:
        with app.app_context():
            code = make_cohort(make_agency()).waves[0].join_code
        officer = Officer(app.test_client(), code)
        officer.start()
        officer.give_code(skip=True)
        fields = officer.fields()
        answers = {f: "4" for f in fields}
        with app.app_context():
            db.engine.dispose()
        away = tmp_path / "away"
        away.mkdir()
        for part in tmp_path.glob("survey.db*"):
            part.rename(away / part.name)
        reply = officer.submit(answers)
        assert reply.status_code == 503
        assert "could not save your answers" in reply.text
        assert reply.text.count("checked") == len(fields)
        with app.app_context():
            db.engine.dispose()
        for part in tmp_path.glob("survey.db*"):
            part.unlink()
        for part in away.iterdir():
            part.rename(tmp_path / part.name)
        assert stored(app) == (0, 0)
        assert officer.submit(answers).status_code == 302
        assert stored(app) == (1, 25)


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set: the PostgreSQL run is "
                                       "skipped")
def test_postgresql_cut_off_mid_survey_keeps_the_answers():
    """The real PostgreSQL, reached through a TCP proxy that drops every connection and refuses
    new ones between opening the survey and pressing Send: a 'try again' page with every answer
    still selected, nothing written; once it is back, Send stores the response once."""
    from sqlalchemy.engine import make_url
    from tests.conftest import fresh_database, make_agency, make_app, make_cohort
    from tests.servers import TcpProxy
    url = make_url(PG_URL)
    with fresh_database(PG_URL) as direct:
        with direct.app_context():
            code = make_cohort(make_agency()).waves[0].join_code
        proxy = TcpProxy(url.port or 5432, url.host or "127.0.0.1").start()
        app = make_app(url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False))
        officer = Officer(app.test_client(), code)
        officer.start()
        officer.give_code(skip=True)
        answers = {f: "4" for f in officer.fields()}
        proxy.cut()
        reply = officer.submit(answers)
        assert reply.status_code == 503
        assert "could not save your answers" in reply.text
        assert reply.text.count("checked") == len(answers)
        assert stored(direct) == (0, 0)
        proxy.restore()
        assert officer.submit(answers).status_code == 302
        assert officer.submit(answers).status_code == 302  # a second press: still stored once
        assert stored(direct) == (1, 25)
        proxy.cut()
        with app.app_context():
            db.engine.dispose()


def test_submit_takes_a_fixed_number_of_statements(app, officer):
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "3" for f in officer.fields()}
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as statements:
        reply = officer.submit(answers)
    assert reply.status_code == 302
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 2, statements  # the response, then all its answers in one statement
    # ...and the seal read under a share lock after the writes, in the same transaction.
    assert any("sealed_at" in s for s in statements[statements.index(writes[-1]):]), statements
    assert len(statements) <= 5, statements


def test_respondent_pages_are_not_cached(officer):
    page = officer.start()
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


# --- "Prefer not to answer", the count at the top, parts (issue 17) ----------------------------

def answered_count(page: str) -> str:
    """The server-written count at the top of the form (before the first statement)."""
    top = page[page.index('<form method="post"'):page.index("<fieldset")]
    return re.search(r'<p class="progress" id="progress"[^>]*>([^<]*)</p>', top).group(1)


def test_every_statement_offers_prefer_not_to_answer_and_says_what_it_means(officer):
    officer.start()
    officer.give_code(skip=True)
    page = officer.questions().text
    assert page.count("<span>Prefer not to answer</span>") == 25
    assert len(re.findall(r'id="q_[A-Z0-9]+-none" name="q_[A-Z0-9]+" required type="radio" '
                          r'value="none"', page)) == 25
    top = page[:page.index("<form")]  # said before the first statement, in plain words
    assert "You may choose “Prefer not to answer” on any statement: nothing is kept for it." \
        in top
    assert "if you skip more than 1 in 5 of a topic’s statements, you are left out of that " \
           "topic’s result" in top
    assert answered_count(page) == "0 of 25 answered"


def test_prefer_not_to_answer_stores_no_answer_for_that_statement(app, officer):
    officer.start()
    officer.give_code(skip=True)
    fields = officer.fields()
    answers = {f: "4" for f in fields}
    answers[fields[0]] = answers[fields[7]] = "none"
    assert officer.submit(answers).status_code == 302
    with app.app_context():
        codes = db.session.scalars(sa.select(Answer.item_id)).all()
        from survey.models import Item
        kept = set(db.session.scalars(sa.select(Item.code).where(Item.id.in_(codes))))
    assert stored(app) == (1, 23)
    assert f"q_{sorted(kept)[0]}" in fields
    assert {fields[0][2:], fields[7][2:]}.isdisjoint(kept) and len(kept) == 23


def test_prefer_not_to_answer_on_every_statement_is_sent_and_keeps_no_answer(app, officer):
    """An officer may decline every statement: the sheet is sent (it counts as taking part)
    and holds no answer; nothing fails."""
    officer.start()
    officer.give_code(skip=True)
    reply = officer.submit({f: "none" for f in officer.fields()})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/thanks")
    assert stored(app) == (1, 0)


def test_a_statement_left_without_any_choice_still_needs_one(app, officer):
    """"Prefer not to answer" is a choice: leaving a statement blank is still a mistake."""
    officer.start()
    officer.give_code(skip=True)
    fields = officer.fields()
    answers = {f: "none" for f in fields[:-1]}
    page = officer.submit(answers)
    assert page.status_code == 200
    assert "1 statement still needs an answer" in page.text
    assert answered_count(page.text) == "24 of 25 answered"  # without JavaScript, at the top
    assert page.text.count('value="none">') == 25 and page.text.count('checked id="') == 24
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("forged", ["None", "none ", "NONE", ""])
def test_only_the_form_s_own_prefer_not_value_passes(app, officer, forged):
    officer.start()
    officer.give_code(skip=True)
    answers = {f: "3" for f in officer.fields()}
    answers["q_STG01"] = forged
    reply = officer.submit(answers)
    assert reply.status_code == 400 and "Nothing was saved" in reply.text
    assert stored(app) == (0, 0)


def test_the_pulse_is_one_list_of_statements_and_training_keeps_its_parts(app, setup, officer):
    from survey.models import Agency
    with app.app_context():
        agency = db.session.get(Agency, setup["agency_id"])
        code = services.start_pulse(agency, None, opens_on=dt.date.today()).join_code
    pulse = Officer(app.test_client(), code)
    pulse.start()
    page = pulse.questions().text
    assert page.count("<fieldset") == 12
    assert "Part 1 of" not in page  # twelve statements: one list, no one-statement parts
    assert answered_count(page) == "0 of 12 answered"
    assert page.count("<span>Prefer not to answer</span>") == 12
    answers = {f: "3" for f in pulse.fields(pulse.questions())}
    answers[next(iter(answers))] = "none"
    assert pulse.submit(answers).status_code == 302
    assert stored(app) == (1, 11)
    officer.start()
    officer.give_code(skip=True)
    training = officer.questions().text
    assert [int(n) for n in re.findall(r"Part (\d) of 5", training)] == [1, 2, 3, 4, 5]


def test_a_long_pulse_is_cut_into_parts_of_whole_headings():
    from survey.models import WaveKind
    from survey.queries import SurveyItem
    from survey.survey_page import PART_SIZE, parts

    def items(*sizes):
        out = []
        for h, size in enumerate(sizes):
            out += [SurveyItem(len(out) + 1, f"I{len(out)}", "text", f"c{h}", f"Heading {h}", 1, 5,
                               ("a", "b", "c", "d", "e")) for _ in range(size)]
        return out

    short = items(2, 2, 3, 1, 2, 1, 1)  # the bank's pulse: 12 statements under 7 headings
    assert parts(short, WaveKind.PULSE) == [(None, short)]
    assert len(parts(short, WaveKind.PRE)) == 7  # a training survey keeps a part per heading
    long = items(3, 3, 2, 4, 4, 1, 2)  # 19 statements
    cut = parts(long, WaveKind.PULSE)
    assert [len(group) for _, group in cut] == [8, 8, 3]
    assert [heading for heading, _ in cut] == ["Heading 0 · Heading 1 · Heading 2",
                                               "Heading 3 · Heading 4", "Heading 5 · Heading 6"]
    assert [i for _, group in cut for i in group] == long
    assert all(len(group) <= PART_SIZE for _, group in cut)
    big = items(10, 7)  # a heading larger than a part stays whole, on its own
    assert [len(group) for _, group in parts(big, WaveKind.PULSE)] == [10, 7]


def test_prefer_not_to_answer_is_carried_through_a_lost_session(app, officer):
    """Asked for the personal code again, the officer's "Prefer not to answer" choices come
    back chosen, and are still stored as no answer."""
    officer.start()
    officer.give_code(skip=True)
    fields = officer.fields()
    answers = {f: ("none" if n % 10 == 0 else "4") for n, f in enumerate(fields)}
    officer.client.delete_cookie("session")
    reply = officer.submit(answers)
    assert reply.status_code == 400 and "lost the personal code" in reply.text
    back = officer.client.post(f"/s/{officer.code}/code", data={
        "csrf_token": csrf_token(reply.text), "skip": "x", **answers})
    assert back.status_code == 200 and "Your answers are still here" in back.text
    assert len(re.findall(r'<input checked id="q_[A-Z0-9]+-none"', back.text)) == 3
    assert answered_count(back.text) == "25 of 25 answered"
    resend = officer.client.post(f"/s/{officer.code}/questions",
                                 data={"csrf_token": csrf_token(back.text), **answers})
    assert resend.status_code == 302 and stored(app) == (1, 22)
