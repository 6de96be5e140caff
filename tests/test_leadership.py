"""Leadership through the HTTP routes: pulses, the dashboard, the tracker, figures, and the
officers' results page; nothing under the minimum group size anywhere, subtraction included."""
import csv
import datetime as dt
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from survey import services
from survey.bank import current_bank
from survey.extensions import db
from survey.models import Agency, AuditEntry, ProgramFigure, Role, TrackerItem, Unit, Wave
from tests.conftest import Officer, close_all, csrf_token, make_agency, make_staff


@pytest.fixture
def agency_setup(app):
    with app.app_context():
        agency = make_agency(headcount=40)
        db.session.add_all([Unit(agency=agency, name=n) for n in ("Alpha", "Bravo", "Charlie")])
        db.session.commit()
        leader = make_staff(agency, Role.LEADER)
        trainer = make_staff(agency, Role.TRAINER)
        units = {u.name: str(u.id) for u in agency.units}
        return {"agency_id": agency.id, "leader": leader.email, "trainer": trainer.email,
                "units": units, "token": agency.results_token}


@pytest.fixture
def leader(client, auth, agency_setup):
    auth.login(agency_setup["leader"])
    return client


def schedule_pulse(app, agency_id, days_ago):
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        wave = services.start_pulse(agency, None, opens_on=dt.date.today()
                                    - dt.timedelta(days=days_ago), days_open=days_ago + 5)
        return wave.join_code


def pulse_answers(level: int) -> dict:
    """Every pulse construct keyed to `level` (reverse-keyed items flipped)."""
    return {f"q_{i.code}": str(6 - level if i.reverse_keyed else level)
            for i in current_bank().instrument_items("pulse")}


def answer_pulse(app, code, level, unit="", shift=""):
    officer = Officer(app.test_client(), code)
    officer.start()
    page = officer.questions()
    assert page.status_code == 200, page.text  # no linkage step on a pulse
    reply = officer.submit({**pulse_answers(level), "about_unit": unit, "about_shift": shift})
    assert reply.status_code == 302, reply.text
    return reply


def test_pulse_path_has_no_linkage_step_and_keeps_unit_and_shift(app, agency_setup):
    code = schedule_pulse(app, agency_setup["agency_id"], 1)
    client = app.test_client()
    assert client.get(f"/s/{code}/code").location.endswith("/questions")
    page = Officer(client, code).questions().text
    assert "12 statements, about 3 minutes" in page and page.count("<fieldset") == 12
    assert 'name="about_unit"' in page and "Prefer not to say" in page
    answer_pulse(app, code, 4, unit=agency_setup["units"]["Bravo"], shift="Nights")
    with app.app_context():
        from survey.models import Response
        response = db.session.scalars(sa.select(Response)).one()
        assert response.linkage is None and response.shift == "Nights"
        assert response.unit_id == int(agency_setup["units"]["Bravo"])


@pytest.mark.parametrize("field, value", [("about_unit", "99999"), ("about_shift", "Swing"),
                                          ("about_unit", "Alpha")])
def test_forged_unit_or_shift_is_refused(app, agency_setup, field, value):
    code = schedule_pulse(app, agency_setup["agency_id"], 1)
    officer = Officer(app.test_client(), code)
    officer.questions()
    reply = officer.submit({**pulse_answers(3), field: value})
    assert reply.status_code == 400 and "Nothing was saved" in reply.text
    with app.app_context():
        from survey.models import Response
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_no_cell_under_k_including_by_subtraction(app, leader, agency_setup):
    code = schedule_pulse(app, agency_setup["agency_id"], 2)
    units = agency_setup["units"]
    for n in range(10):
        answer_pulse(app, code, 4, unit=units["Alpha"], shift="Days")
    for n in range(7):
        answer_pulse(app, code, 2, unit=units["Bravo"], shift="Days")
    for n in range(2):
        answer_pulse(app, code, 5, unit=units["Charlie"], shift="Nights")
    close_all(app, agency_setup["agency_id"])
    doc = json.loads(leader.get("/leadership/dashboard.json").data)
    cells = {(r["unit"], r["construct"]): r for r in doc["tables"]["units"]}
    for construct in ("executive_support", "cynicism"):
        assert cells[("Charlie", construct)]["withheld"] is True
        assert cells[("Charlie", construct)]["mean"] is None
        # Bravo is hidden too: agency total minus Alpha would reveal Charlie otherwise
        assert cells[("Bravo", construct)]["withheld"] is True
        assert "subtraction" in cells[("Bravo", construct)]["withheld_reason"]
        assert cells[("Alpha", construct)]["mean"] == pytest.approx(4.0)
    # the agency figure is shown; subtracting every shown unit leaves 9 officers, never 2
    trend = [r for r in doc["tables"]["trend"] if r["construct"] == "executive_support"]
    assert trend[-1]["n"] == 19
    shown_n = sum(r["n"] for r in doc["tables"]["units"]
                  if r["construct"] == "executive_support" and not r["withheld"])
    assert 19 - shown_n >= 5
    shifts = {(r["shift"], r["construct"]): r for r in doc["tables"]["shifts"]}
    assert shifts[("Nights", "cynicism")]["withheld"] is True
    assert shifts[("Days", "cynicism")]["withheld"] is True  # else total - Days = Nights

    page = leader.get("/leadership/").text
    assert page.count(">withheld<") >= 8  # marked in the heat maps
    # coloured by each unit's distance from the agency as a whole, on a diverging scale
    assert '"scheme": "redblue"' in page or '"scheme":"redblue"' in page
    assert "Than the whole: worse (-), better (+)" in page
    assert "5.00" not in page  # Charlie's mean appears nowhere
    rows = list(csv.DictReader(io.StringIO(leader.get(
        "/leadership/dashboard.csv?table=units").text)))
    assert all(r["mean"] == "" for r in rows if r["unit"] in ("Charlie", "Bravo"))


def test_a_pulse_under_k_is_withheld_from_the_trend(app, leader, agency_setup):
    small = schedule_pulse(app, agency_setup["agency_id"], 60)
    for _ in range(3):
        answer_pulse(app, small, 5)
    big = schedule_pulse(app, agency_setup["agency_id"], 2)
    for _ in range(6):
        answer_pulse(app, big, 3)
    close_all(app, agency_setup["agency_id"])
    doc = json.loads(leader.get("/leadership/dashboard.json").data)
    rows = [r for r in doc["tables"]["trend"] if r["construct"] == "intention"]
    assert [r["withheld"] for r in rows] == [True, False]
    assert rows[0]["mean"] is None and rows[0]["ci_low"] is None
    assert all(r["mean"] is None for r in doc["tables"]["trend"] if r["withheld"])


def test_control_limits_follow_the_textbook_formula(app, leader, agency_setup):
    levels = [[3, 3, 4, 3, 3], [4, 4, 4, 3, 4], [2, 3, 3, 3, 2], [4, 5, 4, 4, 4]]
    for age, pulse in zip((120, 90, 60, 30), levels):
        code = schedule_pulse(app, agency_setup["agency_id"], age)
        for level in pulse:
            answer_pulse(app, code, level)
    close_all(app, agency_setup["agency_id"])
    doc = json.loads(leader.get("/leadership/dashboard.json").data)
    rows = [r for r in doc["tables"]["trend"] if r["construct"] == "executive_support"]
    means = np.array([np.mean(p) for p in levels])
    centre = means.mean()
    mr_bar = np.abs(np.diff(means)).mean()
    assert [r["mean"] for r in rows] == pytest.approx(list(means))
    for r in rows:
        assert r["centre"] == pytest.approx(centre)
        assert r["ucl"] == pytest.approx(centre + 2.66 * mr_bar)
        assert r["lcl"] == pytest.approx(centre - 2.66 * mr_bar)
    pulses = doc["tables"]["pulses"]
    assert [p["participation"] for p in pulses] == pytest.approx([5 / 40] * 4)


def test_a_checklist_change_is_stored_audited_and_drawn(app, leader, agency_setup):
    page = leader.get("/leadership/tracker")
    assert "Referrals count as a performance metric" in page.text and "Kotter 8" in page.text
    form = leader.get("/leadership/tracker/le_referral_metric")
    missing_date = leader.post("/leadership/tracker/le_referral_metric", data={
        "csrf_token": csrf_token(form.text), "status": "done", "owner": "Chief"})
    assert "Give the date it was done." in missing_date.text
    reply = leader.post("/leadership/tracker/le_referral_metric", data={
        "csrf_token": csrf_token(form.text), "status": "done", "done_on": "2026-03-02",
        "owner": "Chief Martins", "notes": "Evaluations updated",
        "shared_note": "You said referrals did not count: now they do."})
    assert reply.status_code == 302, re.findall(r"field-error[^>]*>([^<]+)", reply.text)
    with app.app_context():
        item = db.session.scalars(sa.select(TrackerItem).where(
            TrackerItem.code == "le_referral_metric")).one()
        assert item.status.value == "done" and item.done_on == dt.date(2026, 3, 2)
        entry = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "tracker.update")).one()
        assert entry.staff_user.email == agency_setup["leader"]
        assert entry.detail["changes"]["status"] == ["not_started", "done"]
        assert entry.target == "le_referral_metric"
    doc = json.loads(leader.get("/leadership/dashboard.json").data)
    assert [m["label"] for m in doc["tables"]["milestones"]] == [
        "Referrals count as a performance metric"]
    results = app.test_client().get(f"/results/{agency_setup['token']}").text
    assert "You said referrals did not count: now they do." in results


def test_program_figures_typed_and_uploaded(app, leader, agency_setup):
    page = leader.get("/leadership/figures")
    leader.post("/leadership/figures", data={"csrf_token": csrf_token(page.text),
                                             "month": "2026-01", "referrals": "12",
                                             "deflections": "9"})
    bad = "month,referrals\n2026-02,7\n2026-03,lots\n"
    reply = leader.post("/leadership/figures/upload", data={
        "csrf_token": csrf_token(page.text),
        "file": (io.BytesIO(bad.encode()), "figures.csv")}, follow_redirects=True)
    assert "row 3: referrals must be a whole number" in reply.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProgramFigure)) == 2
    good = "month,referrals,contacts\n2026-02,7,30\n2026-03,,31\n"
    leader.post("/leadership/figures/upload", data={
        "csrf_token": csrf_token(page.text), "file": (io.BytesIO(good.encode()), "f.csv")})
    with app.app_context():
        rows = db.session.execute(sa.select(ProgramFigure.month, ProgramFigure.measure,
                                            ProgramFigure.value)).all()
        assert (dt.date(2026, 2, 1), "contacts", 30) in rows and len(rows) == 5
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "program_figures.save")) == 2


def test_leader_schedules_a_pulse(app, leader, agency_setup):
    page = leader.get("/leadership/pulses")
    reply = leader.post("/leadership/pulses", data={
        "csrf_token": csrf_token(page.text), "opens_on": "2026-12-01", "days_open": "10",
        "headcount": "55"})
    assert reply.status_code == 302
    with app.app_context():
        wave = db.session.scalars(sa.select(Wave)).one()
        assert wave.kind.value == "pulse" and wave.headcount == 55
        assert (wave.closes_at - wave.opens_at).days == 10
        assert db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.staff_user_id.is_not(None)).order_by(AuditEntry.id)).all() \
            == ["auth.login", "pulse.start"]


def test_officers_results_page(app, agency_setup):
    code = schedule_pulse(app, agency_setup["agency_id"], 3)
    for _ in range(5):
        answer_pulse(app, code, 4)
    thanks = app.test_client()
    reply = answer_pulse(app, code, 4)
    assert app.test_client().get(reply.location).status_code == 200
    close_all(app, agency_setup["agency_id"])
    page = app.test_client().get(f"/results/{agency_setup['token']}")
    assert page.status_code == 200 and "4.00" in page.text and "Cynicism" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert re.search(r'<div class="scroll"[^>]*><table>', page.text)  # scrolls on a phone
    assert app.test_client().get("/results/not-a-token").status_code == 404
    del thanks


def test_results_page_shows_nothing_for_a_small_agency(app, agency_setup):
    code = schedule_pulse(app, agency_setup["agency_id"], 3)
    for _ in range(3):
        answer_pulse(app, code, 5)
    close_all(app, agency_setup["agency_id"])
    page = app.test_client().get(f"/results/{agency_setup['token']}").text
    assert "There are no results to share yet." in page and "5.00" not in page


def test_trainers_cannot_reach_leadership_pages(client, auth, agency_setup):
    auth.login(agency_setup["trainer"])
    for path in ("/leadership/", "/leadership/pulses", "/leadership/tracker",
                 "/leadership/figures", "/leadership/dashboard.json"):
        assert client.get(path).status_code == 403


def test_each_agency_sees_only_its_own_tracker(app, client, auth, agency_setup):
    with app.app_context():
        other = make_agency("Other Sheriff")
        services.update_tracker_item(services.tracker_items(other)["le_policy"], None,
                                     status="done", done_on=dt.date(2026, 1, 1), owner="X",
                                     notes="their secret note", shared_note="")
    auth.login(agency_setup["leader"])
    assert "their secret note" not in client.get("/leadership/tracker/le_policy").text
    doc = json.loads(client.get("/leadership/dashboard.json").data)
    assert doc["tables"]["milestones"] == []


def test_training_cohorts_are_laid_beside_the_trend(app, leader, agency_setup):
    from tests.conftest import make_cohort
    from tests.test_reports import answers_for
    with app.app_context():
        agency = db.session.get(Agency, agency_setup["agency_id"])
        codes = []
        for name in ("Big class", "Small class"):
            cohort = make_cohort(agency, name=name, open_pre=False)
            services.open_wave(cohort.waves[1], hours=24)
            codes.append(cohort.waves[1].join_code)
    for code, officers in zip(codes, (5, 2)):
        for _ in range(officers):
            officer = Officer(app.test_client(), code)
            officer.start()
            officer.give_code(skip=True)
            officer.fields()
            assert officer.submit(answers_for(3, rest=4)).status_code == 302
    close_all(app, agency_setup["agency_id"])
    doc = json.loads(leader.get("/leadership/dashboard.json").data)
    rows = {r["cohort_label"]: r for r in doc["tables"]["training_cohorts"]}
    assert set(r["construct"] for r in doc["tables"]["training_cohorts"]) == {"intention"}
    assert rows["Big class"]["mean"] == pytest.approx(4.0) and rows["Big class"]["n"] == 5
    assert rows["Small class"]["withheld"] is True and rows["Small class"]["mean"] is None


def test_the_next_pulse_is_proposed_on_the_agencys_cadence(app, leader, agency_setup):
    from survey.models import Cadence
    today = dt.date.today()
    schedule_pulse(app, agency_setup["agency_id"], 5)
    page = leader.get("/leadership/pulses").text
    opened = today - dt.timedelta(days=5)
    months = opened.year * 12 + opened.month - 1 + 3
    due = dt.date(months // 12, months % 12 + 1, min(opened.day, 28))
    assert f'value="{due.isoformat()}"' in page
    with app.app_context():
        db.session.get(Agency, agency_setup["agency_id"]).pulse_cadence = Cadence.MONTHLY
        db.session.commit()
    months -= 2
    due = dt.date(months // 12, months % 12 + 1, min(opened.day, 28))
    assert f'value="{max(due, today).isoformat()}"' in leader.get("/leadership/pulses").text


def scale_rows(page: str, *names: str) -> list[str]:
    """The table rows (as HTML) of the scales whose names start with `names`, in that order."""
    rows = {m.group(1): m.group(0) for m in re.finditer(
        r"<tr><th scope=\"row\">([^<]+?) <span.*?</tr>", page, re.S)}
    return [next(v for k, v in rows.items() if k.startswith(name)) for name in names]


def test_a_rise_reads_better_or_worse_by_each_scale_s_direction(app, leader, agency_setup):
    """Every scale rises from 3 to 4: for intention to deflect that is better, for cynicism
    worse; the dashboard and the officers' page say which, and which way is better."""
    first = schedule_pulse(app, agency_setup["agency_id"], 20)
    for _ in range(5):
        answer_pulse(app, first, 3)
    close_all(app, agency_setup["agency_id"])
    second = schedule_pulse(app, agency_setup["agency_id"], 10)
    for _ in range(5):
        answer_pulse(app, second, 4)
    close_all(app, agency_setup["agency_id"])
    for page in (leader.get("/leadership/").text,
                 app.test_client().get(f"/results/{agency_setup['token']}").text):
        cynicism, intention = scale_rows(page, "Cynicism", "Intention")
        assert "(lower is better)" in cynicism and "+1.00" in cynicism
        assert 'class="signal-worse">(worse)' in cynicism and "(better)" not in cynicism
        assert "(higher is better)" in intention
        assert 'class="signal-better">(better)' in intention and "(worse)" not in intention


def test_a_signal_is_named_better_or_worse_never_red_for_an_improvement():
    from survey.reports.pulses import _direction
    assert _direction(0.4, "higher") == "better" and _direction(0.4, "lower") == "worse"
    assert _direction(-0.4, "lower") == "better" and _direction(-0.4, "higher") == "worse"
    assert _direction(0.0, "higher") == "" and _direction(float("nan"), "lower") == ""
    assert _direction(-0.004, "higher") == "" and _direction(0.006, "higher") == "better"


def test_each_notice_says_exactly_what_its_survey_keeps(app, agency_setup):
    """The pulse asks no code but unit and shift; the training survey the reverse; both give
    the agency's real retention and who can download rows."""
    from tests.conftest import make_cohort
    with app.app_context():
        agency = db.session.get(Agency, agency_setup["agency_id"])
        agency.retention_months = 60
        db.session.commit()
        training = make_cohort(agency, name="Notice class").waves[0].join_code
    pulse = app.test_client().get(f"/s/{schedule_pulse(app, agency_setup['agency_id'], 1)}").text
    assert "scrambled form of your personal code" not in pulse
    assert "No personal code" in pulse and "Your unit and shift, if you choose" in pulse
    assert "deleted after 60 months" in pulse and "administrators can download" in pulse
    assert "set by your agency's policy" not in pulse
    notice = app.test_client().get(f"/s/{training}").text
    assert "scrambled form of your personal code" in notice
    assert "unit and shift" not in notice and "deleted after 60 months" in notice
    assert "trainers and the agency's administrators can download" in notice


def test_attitudes_beside_outcomes_on_the_demo_match_scipy(app, client, auth):
    """The demo's intention-to-deflect pulses beside its monthly program figures: each lag's
    correlation, as published, equals scipy's on the dashboard's own published numbers; the
    page says it is not proof of cause, and a withheld pulse never enters the pairs."""
    import json

    from scipy import stats

    from survey import demo
    with app.app_context():
        demo.load()
    auth.login("leader@demo.example.org", demo.PASSWORD)
    tables = json.loads(client.get("/leadership/dashboard.json").data)["tables"]
    shown = [r for r in tables["trend"] if r["construct"] == "intention" and not r["withheld"]]
    counts = {}
    for row in tables["program_figures"]:
        counts.setdefault(row["measure"], {})[row["month"][:7]] = row["value"]
    published = [r for r in tables["attitudes_and_outcomes"] if r["construct"] == "intention"]
    assert {r["lag"] for r in published} == {0, 1, 2, 3} and len(published) == 16
    for row in published:
        pairs = []
        for pulse in shown:
            month = str(pd.Period(pulse["date"][:7], "M") + row["lag"])
            if month in counts[row["measure"]]:
                pairs.append((pulse["mean"], counts[row["measure"]][month]))
        assert row["n"] == len(pairs) >= 10
        reference = stats.pearsonr(*zip(*pairs))
        interval = reference.confidence_interval(0.95)
        assert row["r"] == pytest.approx(reference.statistic, abs=1e-12)
        assert row["ci_low"] == pytest.approx(interval.low, abs=1e-12)
        assert row["ci_high"] == pytest.approx(interval.high, abs=1e-12)
    page = client.get("/leadership/").text
    assert "Attitudes beside outcomes" in page and "not proof of cause" in page
    assert 'id="chart-outcomes"' in page
    referrals = re.search(r"<th scope=\"row\">Referrals</th>(.*?)</tr>", page, re.S).group(1)
    first = next(r for r in published if r["measure"] == "referrals" and r["lag"] == 0)
    assert f"{first['r']:+.2f}" in referrals.replace("−", "-")


def test_favourable_shares_of_the_latest_pulse_follow_each_scale_s_direction(
        app, leader, agency_setup):
    """Six officers answer 4 throughout (keyed), four answer 2: on a scale where higher is
    better 60% of answers are favourable, where lower is better (cynicism) 40%; the dashboard,
    its JSON and the officers' page say so."""
    code = schedule_pulse(app, agency_setup["agency_id"], 10)
    for level in [4] * 6 + [2] * 4:
        answer_pulse(app, code, level)
    close_all(app, agency_setup["agency_id"])
    glance = {r["construct"]: r for r in json.loads(
        leader.get("/leadership/dashboard.json").data)["tables"]["at_a_glance"]}
    assert (glance["intention"]["favourable_share"], glance["intention"]["neutral_share"],
            glance["intention"]["unfavourable_share"]) == pytest.approx((0.6, 0, 0.4))
    assert glance["cynicism"]["favourable_share"] == pytest.approx(0.4)
    for page in (leader.get("/leadership/").text,
                 app.test_client().get(f"/results/{agency_setup['token']}").text):
        cynicism, intention = scale_rows(page, "Cynicism", "Intention")
        assert "40% / 0% / 60%" in cynicism and "60% / 0% / 40%" in intention
