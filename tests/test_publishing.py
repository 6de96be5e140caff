"""Published results, through the real routes on both engines: an open wave shows its count and
nothing else; one more answer sheet changes nothing an attacker can subtract; what is published
equals a fresh computation; publishing leaves no arrival order in PostgreSQL or in the SQLite
file; a failed run publishes nothing and the administrator sees why."""
import datetime as dt
import csv
import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey import exports, publishing, reports, services
from survey.extensions import db
from survey.models import (Agency, Cohort, PublicationStatus, PublishedResult, Response, Role,
                           Unit, Wave)
from tests.conftest import (AuthActions, Officer, close_all, count_statements, csrf_token,
                            make_staff, publish)
from tests.test_leadership import answer_pulse
from tests.test_reports import PRE, POST, take_survey

COHORT_ROUTES = ("report", "report.json", "report.csv?table=change",
                 "report.csv?table=scale_means", "responses.csv", "responses.xlsx",
                 "responses.sav", "codebook.csv")
AGENCY_ROUTES = ("/leadership/", "/leadership/dashboard.json",
                 "/leadership/dashboard.csv?table=trend", "/leadership/dashboard.csv?table=units",
                 "/trainer/compare", "/trainer/compare.json", "/admin/archive.zip")


@pytest.fixture
def admin(app, setup):
    with app.app_context():
        agency = db.session.get(Agency, setup["agency_id"])
        email = make_staff(agency, Role.ADMIN).email
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    return client


def everything(app, client, setup) -> dict[str, tuple[int, bytes]]:
    """What every staff route and the officers' page answer, as an attacker would save it."""
    with app.app_context():
        token = db.session.get(Agency, setup["agency_id"]).results_token
    urls = [f"/trainer/cohorts/{setup['cohort_id']}/{r}" for r in COHORT_ROUTES]
    urls += [*AGENCY_ROUTES, f"/results/{token}"]
    out = {}
    for url in urls:
        reply = client.get(url)
        body = reply.data
        if reply.mimetype == "application/zip":
            import io
            import zipfile
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                body = b"".join(archive.read(n) for n in sorted(archive.namelist())
                                if n != "README.txt")
        # What may differ between two visits: the form tokens, and the open wave's count.
        text = re.sub(rb'value="[^"]+" name="csrf_token"|name="csrf_token"[^>]*>', b"", body)
        text = re.sub(rb"\d+ answers? so far", b"N so far", text)
        out[url] = (reply.status_code, text)
    return out


def test_an_open_wave_shows_its_count_and_nothing_else(app, admin, setup):
    for i, score in enumerate(PRE):
        take_survey(app, setup["pre"], i, score)
    page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert "Before training: 8 answers so far" in page
    assert "No results are published yet" in page
    assert "chart-spec" not in page and "Scale scores in each survey" not in page
    for route in COHORT_ROUTES[1:]:
        reply = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/{route}")
        assert reply.status_code == 404 and b"Nothing is published" in reply.data, route
    cohort_page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}").text
    assert '<td class="num">8</td>' in cohort_page  # the count staff do see
    doc = json.loads(admin.get("/trainer/compare.json").data)
    assert all(r["withheld"] or r["mean_diff"] is None for r in doc["tables"]["changes"])
    assert doc["tables"]["changes"] == [] and "linked" not in doc["tables"]["cohorts"][0]


def test_one_more_answer_sheet_changes_nothing_but_the_count(app, admin, setup):
    """The subtraction attack: save every page and download, let one officer answer, save them
    again. Before the wave closes, nothing differs; once it has closed, there is one published
    result, so there are no two figures to subtract."""
    for i, score in enumerate(PRE[:6]):
        take_survey(app, setup["pre"], i, score)
    with app.app_context():
        pulse = services.start_pulse(db.session.get(Agency, setup["agency_id"]), None,
                                     opens_on=dt.date.today() - dt.timedelta(days=1))
        pulse_code = pulse.join_code
    for _ in range(6):
        answer_pulse(app, pulse_code, 4)
    before = everything(app, admin, setup)
    take_survey(app, setup["pre"], 7, 1)                      # one more officer, training
    answer_pulse(app, pulse_code, 1)                          # and one more, pulse
    after = everything(app, admin, setup)
    assert before.keys() == after.keys()
    for url in before:
        assert before[url] == after[url], url
    assert "7 answers so far" in admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text

    close_all(app, setup["agency_id"])
    doc = json.loads(admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    waves = {w["wave_label"]: w["responses"] for w in doc["tables"]["waves"]}
    assert waves["Before training"] == 7  # all seven, published once
    board = json.loads(admin.get("/leadership/dashboard.json").data)
    assert {r["n"] for r in board["tables"]["trend"]} == {7}
    with app.app_context():
        versions = db.session.scalars(sa.select(PublishedResult.version).where(
            PublishedResult.subject == f"cohort:{setup['cohort_id']}")).all()
    assert versions == [1]
    # Seen again later, nothing moves: no figure can be subtracted from an earlier one.
    assert everything(app, admin, setup) == everything(app, admin, setup)


def test_a_new_pulse_with_one_answer_changes_nothing_a_leader_sees_but_its_count(app, admin,
                                                                                setup):
    with app.app_context():
        agency = db.session.get(Agency, setup["agency_id"])
        first = services.start_pulse(agency, None, opens_on=dt.date.today()
                                     - dt.timedelta(days=30), days_open=40).join_code
    for n in range(9):
        answer_pulse(app, first, 2 + n % 3)
    close_all(app, setup["agency_id"])
    board = admin.get("/leadership/dashboard.json").data
    page = admin.get("/leadership/").text
    assert page.count(">withheld<") == 0 and "chart-units" in page
    with app.app_context():
        second = services.start_pulse(db.session.get(Agency, setup["agency_id"]), None,
                                      opens_on=dt.date.today()).join_code
    answer_pulse(app, second, 5)
    assert admin.get("/leadership/dashboard.json").data == board
    again = admin.get("/leadership/").text
    assert "1 answer so far" in again
    strip = re.compile(r'<p class="note">Pulse opened.*?</p>|name="csrf_token"[^>]*>|\s+', re.S)
    assert strip.sub("", again) == strip.sub("", page)


def test_published_result_equals_a_fresh_computation(app, admin, setup):
    for i, score in enumerate(PRE):
        take_survey(app, setup["pre"], i, score)
    publish(app, setup["pre_id"])
    with app.app_context():
        services.open_wave(db.session.get(Wave, setup["post_id"]), hours=24)
    for i, score in enumerate(POST):
        take_survey(app, setup["post"], i, score)
    publish(app, setup["post_id"])
    published = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data.decode()
    with app.app_context():
        cohort = db.session.get(Cohort, setup["cohort_id"])
        fresh = reports.cohort_report(cohort)
        expected = exports.to_json(fresh.tables, cohort=cohort.name, held_on=cohort.held_on,
                                   minimum_group_size=fresh.k, sentences=fresh.sentences,
                                   effect_size_in_sentences=reports.HEADLINE_EFFECT,
                                   effect_size_why=reports.HEADLINE_WHY,
                                   headline_rule=reports.HEADLINE_RULE)
        rows = exports.to_csv(reports.response_data(cohort).rows)
    assert published == expected
    assert admin.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.csv").text == rows
    # ...and the page shows the published figures, stamped with what they came from.
    page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert "from 16 answer sheets in before training, after training" in page


def test_answers_stop_at_the_seal(app, setup):
    """Within the grace period a started survey may still be sent; once the wave is sealed
    for publishing, nothing more is stored."""
    app.config["SUBMIT_GRACE_MINUTES"] = 10
    late, later = Officer(app.test_client(), setup["pre"]), Officer(app.test_client(),
                                                                    setup["pre"])
    for officer in (late, later):
        officer.start()
        officer.give_code(skip=True)
    fields = late.fields()
    later.fields()
    with app.app_context():
        services.close_wave(db.session.get(Wave, setup["pre_id"]))
    assert late.submit({f: "4" for f in fields}).status_code == 302  # in the grace period
    with app.app_context():
        assert publishing.due_wave_ids() == []  # not before the grace period is over
        wave = db.session.get(Wave, setup["pre_id"])
        wave.opens_at -= dt.timedelta(hours=1)
        wave.closes_at -= dt.timedelta(minutes=11)
        db.session.commit()
        publishing.publish_wave(setup["pre_id"])
    reply = later.submit({f: "4" for f in fields})
    assert reply.status_code == 403 and "closed" in reply.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
        result = publishing.latest(f"cohort:{setup['cohort_id']}")
        assert result.basis["waves"][str(setup["pre_id"])] == 1


def test_a_sealed_wave_cannot_reopen(app, admin, setup):
    publish(app, setup["pre_id"])
    page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}").text
    assert "results published" in page and "Reopen" not in page
    reply = admin.post(f"/trainer/waves/{setup['pre_id']}/open",
                       data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "cannot open again" in reply.text
    with app.app_context():
        assert db.session.get(Wave, setup["pre_id"]).status().value == "closed"


def test_a_failed_run_publishes_nothing_and_the_administrator_sees_why(app, admin, setup,
                                                                        monkeypatch):
    for i, score in enumerate(PRE):
        take_survey(app, setup["pre"], i, score)

    def broken(cohort, *shown):
        raise RuntimeError("the item bank lost a scale")
    monkeypatch.setattr(reports, "cohort_report", broken)
    page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}").text
    reply = admin.post(f"/trainer/waves/{setup['pre_id']}/close",
                       data={"csrf_token": csrf_token(page)})
    assert reply.status_code == 302  # the trainer's Close never fails with the job
    with app.app_context():
        rows = db.session.scalars(sa.select(PublishedResult).where(
            PublishedResult.subject == f"cohort:{setup['cohort_id']}")).all()
        assert [r.status for r in rows] == [PublicationStatus.FAILED]
        assert publishing.part(rows[0], "report.json") is None
    report = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert "The last publishing run failed" in report and "the item bank lost a scale" in report
    assert "Scale scores in each survey" not in report
    listing = admin.get("/admin/").text
    assert "Results that could not be published" in listing
    assert "RuntimeError: the item bank lost a scale" in listing

    monkeypatch.undo()
    assert "Published" in app.test_cli_runner().invoke(args=["results", "publish"]).output
    assert "Scale scores in each survey" in admin.get(
        f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert "Results that could not be published" not in admin.get("/admin/").text


@pytest.mark.parametrize("size", [6, 40])
def test_published_pages_take_a_fixed_number_of_statements(app, admin, setup, size):
    """The same statements whatever the class's size: a page reads what was published."""
    for i in range(size):
        take_survey(app, setup["pre"], i, 1 + i % 5)
    publish(app, setup["pre_id"])
    close_all(app, setup["agency_id"])
    with app.app_context():
        engine = db.engine
    counts = {}
    for url in (f"/trainer/cohorts/{setup['cohort_id']}/report",
                f"/trainer/cohorts/{setup['cohort_id']}/report.json",
                f"/trainer/cohorts/{setup['cohort_id']}/responses.csv", "/leadership/",
                "/trainer/compare", f"/trainer/cohorts/{setup['cohort_id']}/brief",
                f"/trainer/cohorts/{setup['cohort_id']}/brief-a4.pdf", "/leadership/brief",
                "/leadership/brief-letter.pdf"):
        admin.get(url)  # the first visit may compute a comparison; the rest read
        with count_statements(engine) as statements:
            assert admin.get(url).status_code == 200
        counts[url] = len(statements)
    assert counts == EXPECTED_STATEMENTS


EXPECTED_STATEMENTS = {
    "/trainer/cohorts/1/report": 4, "/trainer/cohorts/1/report.json": 4,
    "/trainer/cohorts/1/responses.csv": 5, "/leadership/": 4, "/trainer/compare": 8,
    "/trainer/cohorts/1/brief": 3, "/trainer/cohorts/1/brief-a4.pdf": 4, "/leadership/brief": 3,
    "/leadership/brief-letter.pdf": 3}


# --- No arrival order left after publishing ------------------------------------------------

def arrival(app, code, n, pulse=False):
    """n officers answer one after another; returns their response ids in arrival order."""
    for i in range(n):
        if pulse:
            answer_pulse(app, code, 1 + i % 5)
        else:
            Officer(app.test_client(), code).answer_all(str(1 + i % 5))
    with app.app_context():
        return db.session.scalars(sa.select(Response.id)).all()


def assert_no_arrival_order(app):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                for table, key in (("response", "id"), ("answer", "response_id")):
                    rows = conn.execute(sa.text(
                        f"SELECT {key}, xmin::text FROM {table} ORDER BY ctid")).all()
                    keys = [r[0] for r in rows]
                    assert keys == sorted(keys), table           # physical order = key order
                    assert len({r[1] for r in rows}) == 1, table  # one transaction id for all
            return
        path = Path(engine.url.database)
        ids = db.session.scalars(sa.select(Response.id)).all()
        page_size = db.session.execute(sa.text("PRAGMA page_size")).scalar()
        data = path.read_bytes()
        stored = [str(i).replace("-", "").encode() for i in ids]
        # Where each key first appears in the file: rebuilt in key order, pages follow the key
        # and, within a page, cells fill from the page's end (so their offsets run backwards).
        found = {s: data.find(s) for s in stored}
        assert all(p >= 0 for p in found.values())
        layout = sorted(stored, key=lambda s: (found[s] // page_size, -found[s]))
        assert layout == sorted(stored)
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0 or not any(
            s in wal.read_bytes() for s in stored)


def test_no_arrival_order_after_a_manual_close(app, admin, setup):
    arrival(app, setup["pre"], 12)
    page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}").text
    admin.post(f"/trainer/waves/{setup['pre_id']}/close", data={"csrf_token": csrf_token(page)})
    assert_no_arrival_order(app)


def test_no_arrival_order_after_closing_by_its_own_time(app, admin, setup):
    arrival(app, setup["pre"], 12)
    with app.app_context():
        wave = db.session.get(Wave, setup["pre_id"])
        wave.opens_at = services.utcnow() - dt.timedelta(hours=1)
        wave.closes_at = services.utcnow() - dt.timedelta(minutes=1)
        db.session.commit()
    assert admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").status_code == 200
    with app.app_context():
        assert db.session.get(Wave, setup["pre_id"]).sealed_at is not None
    assert_no_arrival_order(app)


def test_no_arrival_order_after_late_answers_in_the_grace_period(app, setup):
    app.config["SUBMIT_GRACE_MINUTES"] = 10
    officers = [Officer(app.test_client(), setup["pre"]) for _ in range(8)]
    for officer in officers:
        officer.start()
        officer.give_code(skip=True)
        officer.fields()
    with app.app_context():
        services.close_wave(db.session.get(Wave, setup["pre_id"]))
    for officer in officers:
        assert officer.submit({f: "3" for f in officer.fields()}).status_code == 302
    with app.app_context():
        wave = db.session.get(Wave, setup["pre_id"])
        wave.opens_at -= dt.timedelta(hours=1)
        wave.closes_at -= dt.timedelta(minutes=10)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["results", "publish", "--due"])
    assert "Published 1 wave" in result.output
    assert_no_arrival_order(app)


def test_no_arrival_order_after_a_pulse_ends(app, setup):
    with app.app_context():
        code = services.start_pulse(db.session.get(Agency, setup["agency_id"]), None,
                                    opens_on=dt.date.today()).join_code
    arrival(app, code, 10, pulse=True)
    close_all(app, setup["agency_id"])
    assert_no_arrival_order(app)


def test_person_numbers_do_not_follow_arrival(app, admin, setup):
    """Officer numbers (P001...) follow the random keys, not the order officers answered."""
    from tests.test_reports import code_for
    for i in range(8):
        take_survey(app, setup["pre"], i, 3)
    publish(app, setup["pre_id"])
    rows = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.csv").text.splitlines()
    with app.app_context():
        ids = sorted(str(i) for i in db.session.scalars(sa.select(Response.id)))
    assert len(rows) == 9 and len(ids) == 8
    del code_for


# --- The real job queue -------------------------------------------------------------------

REDIS = "redis://127.0.0.1:6379/15"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rq_worker_publishes_what_a_close_queued(app, admin, setup):
    """With the queue, Close only queues the job; a worker (here in burst mode) publishes."""
    import redis
    from survey import jobs
    server = redis.Redis.from_url(REDIS)
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (the CI script starts it)")
    server.flushdb()
    app.config.update(JOBS_BACKEND="rq", RATELIMIT_STORAGE_URI=REDIS)
    for i, score in enumerate(PRE):
        take_survey(app, setup["pre"], i, score)
    page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}").text
    admin.post(f"/trainer/waves/{setup['pre_id']}/close", data={"csrf_token": csrf_token(page)})
    report = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert "No results are published yet" in report  # a page never computes them itself
    with app.app_context():
        jobs.work(burst=True)
    report = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert "Scale scores in each survey" in report and "from 8 answer sheets" in report
    server.flushdb()


# --- Interim snapshots of an open pulse ----------------------------------------------------

def _versions(app, agency_id):
    """Every published dashboard of the agency, oldest first: {table: rows}."""
    with app.app_context():
        results = db.session.scalars(sa.select(PublishedResult).where(
            PublishedResult.subject == f"agency:{agency_id}",
            PublishedResult.status == PublicationStatus.COMPLETE)
            .order_by(PublishedResult.version)).all()
        return [json.loads(publishing.part(r, "dashboard.json"))["tables"] for r in results]


def _age_snapshots(app, agency_id, days=2):
    with app.app_context():
        for result in db.session.scalars(sa.select(PublishedResult).where(
                PublishedResult.subject == f"agency:{agency_id}")):
            result.created_at = result.created_at - dt.timedelta(days=days)
        db.session.commit()


def test_interim_snapshots_never_differ_by_fewer_than_k_sheets(app, admin, setup):
    with app.app_context():
        agency = db.session.get(Agency, setup["agency_id"])
        agency.interim_results = True
        db.session.add_all([Unit(agency=agency, name=n) for n in ("North", "South")])
        db.session.commit()
        units = {u.name: str(u.id) for u in agency.units}
        code = services.start_pulse(agency, None, opens_on=dt.date.today()
                                    - dt.timedelta(days=3), days_open=20).join_code
    for n in range(6):
        answer_pulse(app, code, 4, unit=units["North"])
    page = admin.get("/leadership/").text                    # the first snapshot: 6 officers
    assert "an interim snapshot" in page
    for n in range(9):                                        # 9 more, within the same day
        answer_pulse(app, code, 2, unit=units["South" if n < 6 else "North"])
    admin.get("/leadership/")
    with app.app_context():
        publishing.publish_agency(setup["agency_id"])         # e.g. a tracker change
    _age_snapshots(app, setup["agency_id"])
    admin.get("/leadership/")                                 # a day later: 15, 9 more
    for n in range(3):                                        # 3 more: too few to show
        answer_pulse(app, code, 1, unit=units["North"])
    _age_snapshots(app, setup["agency_id"])
    admin.get("/leadership/")
    close_all(app, setup["agency_id"])                        # the pulse ends: 18 in all

    versions = _versions(app, setup["agency_id"])
    ns = [sorted({r["n"] for r in v["trend"] if r["construct"] == "cynicism"}) for v in versions]
    shown = [n for i, n in enumerate(ns) if i == 0 or n != ns[i - 1]]
    # 6, then 15 once a day had passed (not 15 within the day), and the 15 stay at the close:
    # the 3 who answered after the last snapshot would be 18 - 15 < 5 officers.
    assert shown == [[6], [15]], ns
    for before, after in zip(versions, versions[1:]):
        for table, keys in (("trend", ("wave", "construct")),
                            ("units", ("wave", "unit", "construct"))):
            old = {tuple(r[k] for k in keys): r["n"] for r in before[table] if r["n"]}
            for row in after[table]:
                key = tuple(row[k] for k in keys)
                if row["n"] and key in old:
                    assert row["n"] == old[key] or row["n"] - old[key] >= 5, (table, key)


def test_without_interim_results_an_open_pulse_shows_nothing(app, admin, setup):
    with app.app_context():
        code = services.start_pulse(db.session.get(Agency, setup["agency_id"]), None,
                                    opens_on=dt.date.today()).join_code
    for _ in range(8):
        answer_pulse(app, code, 3)
    doc = json.loads(admin.get("/leadership/dashboard.json").data)
    assert doc["tables"]["trend"] == [] and doc["tables"]["units"] == []
    assert "an interim snapshot" not in admin.get("/leadership/").text


def test_a_mean_published_earlier_is_never_the_key_to_a_later_small_group(app, admin, setup):
    """Seven answer before training, two of them without a code; the same five answer after.
    The before-training means are published first. When the after-training survey publishes,
    the linked change with the after-training mean (all five linked) would give the linked
    officers' before mean, and with the published before mean of all seven, the two others':
    so the after-training mean goes, not the before mean that is already out."""
    from tests.test_reports import answers_for, code_for
    for i in range(7):
        officer = Officer(app.test_client(), setup["pre"])
        officer.start()
        officer.give_code(**code_for(i)) if i < 5 else officer.give_code(skip=True)
        officer.fields()
        assert officer.submit(answers_for(2 + i % 3)).status_code == 302
    publish(app, setup["pre_id"])
    first = json.loads(admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    before = {r["construct"]: r for r in first["tables"]["scale_means"]}
    assert not before["stigma"]["withheld"] and before["stigma"]["n"] == 7
    with app.app_context():
        services.open_wave(db.session.get(Wave, setup["post_id"]), hours=24)
    for i in range(5):
        take_survey(app, setup["post"], i, 1 + i % 3)
    publish(app, setup["post_id"])
    second = json.loads(admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    change = {r["construct"]: r for r in second["tables"]["change"]}
    assert not change["stigma"]["withheld"] and change["stigma"]["n"] == 5
    means = {(r["construct"], r["wave_label"]): r for r in second["tables"]["scale_means"]}
    assert means[("stigma", "After training")]["withheld"]          # the new figure goes
    assert means[("stigma", "After training")]["mean"] is None
    assert not means[("stigma", "Before training")]["withheld"]     # what was out stays out
    agree = [r for r in second["tables"]["item_agreement"]
             if r["wave_label"] == "After training" and r["construct"] == "stigma"]
    assert agree and all(r["agree_share"] is None for r in agree)


def test_prefer_not_to_answer_is_missing_to_the_80_percent_rule(app, admin, setup):
    """Six officers answer; on the five-statement facilitators scale one prefers not to answer
    one statement (4 of 5 answered: still scored) and one prefers not to answer two (3 of 5: no
    score). The published mean and count equal a pandas computation of the same rule, and the
    downloads keep the skipped statements empty (issue 17)."""
    import pandas as pd
    from survey.bank import current_bank
    items = [i for i in current_bank().instrument_items("training")]
    facilitators = [i for i in items if i.construct == "facilitators"]
    assert len(facilitators) == 5
    sheets = []
    for n in range(6):
        answers = {f"q_{i.code}": str(1 + (n + k) % 5) for k, i in enumerate(items)}
        for item in facilitators[:{0: 1, 1: 2}.get(n, 0)]:
            answers[f"q_{item.code}"] = "none"
        assert Officer(app.test_client(), setup["pre"]).send(answers).status_code == 302
        sheets.append(answers)
    publish(app, setup["pre_id"])

    long = pd.DataFrame([(n, i.code, int(a[f"q_{i.code}"]), i.reverse_keyed)
                         for n, a in enumerate(sheets) for i in facilitators
                         if a[f"q_{i.code}"] != "none"],
                        columns=["officer", "item", "value", "reverse"])
    long["keyed"] = long["value"].where(~long["reverse"], 6 - long["value"])
    per = long.groupby("officer")["keyed"].agg(["mean", "size"])
    scored = per.loc[per["size"] >= 0.8 * 5, "mean"]
    assert list(per["size"]) == [4, 3, 5, 5, 5, 5] and list(scored.index) == [0, 2, 3, 4, 5]

    doc = json.loads(admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    row = next(r for r in doc["tables"]["scale_means"] if r["construct"] == "facilitators")
    assert row["n"] == 5
    assert row["mean"] == pytest.approx(scored.mean())
    page = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report").text
    assert f"{scored.mean():.2f}" in page

    rows = list(csv.DictReader(io.StringIO(
        admin.get(f"/trainer/cohorts/{setup['cohort_id']}/responses.csv").text)))
    assert len(rows) == 6
    skipped = sorted(rows, key=lambda r: sum(r[i.code] == "" for i in facilitators))
    assert [sum(r[i.code] == "" for i in facilitators) for r in skipped] == [0, 0, 0, 0, 1, 2]
    assert skipped[-1]["score_facilitators"] == ""       # 3 of 5: no score
    assert float(skipped[-2]["score_facilitators"]) == pytest.approx(scored[0])  # 4 of 5
    book = admin.get(f"/trainer/cohorts/{setup['cohort_id']}/codebook.csv").text
    assert "Prefer not to answer" in book


def test_a_statement_fewer_than_the_smallest_group_answered_is_withheld(app, admin, setup):
    """Six officers answer; two prefer not to answer one statement, so four answered it: that
    statement's agreement is withheld (fewer than 5 answers), the others are shown."""
    from survey.bank import current_bank
    items = current_bank().instrument_items("training")
    quiet = items[0].code
    for n in range(6):
        answers = {f"q_{i.code}": "4" for i in items}
        if n < 2:
            answers[f"q_{quiet}"] = "none"
        assert Officer(app.test_client(), setup["pre"]).send(answers).status_code == 302
    publish(app, setup["pre_id"])
    doc = json.loads(admin.get(f"/trainer/cohorts/{setup['cohort_id']}/report.json").data)
    rows = {r["item"]: r for r in doc["tables"]["item_agreement"]}
    assert rows[quiet]["withheld"] and rows[quiet]["agree_share"] is None
    shown = [r for code, r in rows.items() if code != quiet]
    assert shown and all(not r["withheld"] and r["agree_share"] == 1.0 for r in shown)
