"""Hostile input: script in every staff text field stays inert everywhere; random survey forms
either store exactly one valid response or nothing."""
import csv
import io
import json
import string

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.bank import current_bank
from survey.extensions import db
from survey.models import Answer, Response
from tests.conftest import Officer, csrf_token

PAYLOAD = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'><svg onload=alert(3)>'
FORMULA = "=HYPERLINK(\"http://evil.example\",\"x\")"


def test_script_in_staff_fields_is_inert_on_every_page_and_export(app, client, auth, setup):
    from survey.models import Role
    from tests.conftest import make_staff
    with app.app_context():
        from survey.models import Cohort
        agency = db.session.get(Cohort, setup["cohort_id"]).agency
        admin = make_staff(agency, Role.ADMIN).email
    auth.login(admin)
    page = client.get(f"/trainer/cohorts/{setup['cohort_id']}/edit")
    client.post(f"/trainer/cohorts/{setup['cohort_id']}/edit", data={
        "csrf_token": csrf_token(page.text), "name": PAYLOAD, "held_on": "2026-11-20",
        "unit_id": "0", "location": PAYLOAD, "trainer_id": "1"})
    form = client.get("/leadership/tracker/le_policy")
    client.post("/leadership/tracker/le_policy", data={
        "csrf_token": csrf_token(form.text), "status": "done", "done_on": "2026-10-01",
        "owner": PAYLOAD, "notes": PAYLOAD, "shared_note": PAYLOAD})
    pages = ["/trainer/", f"/trainer/cohorts/{setup['cohort_id']}",
             f"/trainer/cohorts/{setup['cohort_id']}/report", "/trainer/compare",
             f"/trainer/waves/{setup['pre_id']}/room", "/leadership/", "/leadership/tracker",
             "/leadership/tracker/le_policy", f"/s/{setup['pre']}"]
    with app.app_context():
        token = db.session.get(Cohort, setup["cohort_id"]).agency.results_token
    pages.append(f"/results/{token}")
    for path in pages:
        text = client.get(path).text
        for tag in ("<script>alert", "<img src=x", "<svg onload"):
            assert tag not in text, (path, tag)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/trainer/").text
    doc = client.get("/trainer/compare.json").get_data(as_text=True)
    assert json.loads(doc)["tables"]["cohorts"][0]["cohort_label"].startswith("<script>")


def test_formula_in_staff_fields_is_neutralised_in_csv(app, client, auth, setup):
    auth.login(setup["trainer_email"])
    page = client.get(f"/trainer/cohorts/{setup['cohort_id']}/edit")
    client.post(f"/trainer/cohorts/{setup['cohort_id']}/edit", data={
        "csrf_token": csrf_token(page.text), "name": FORMULA, "held_on": "2026-11-20",
        "unit_id": "0", "trainer_id": "1"})
    cells = []
    for table in ("cohorts", "changes"):
        rows = csv.reader(io.StringIO(client.get(f"/trainer/compare.csv?table={table}").text))
        cells += [cell for row in rows for cell in row]
    assert not [c for c in cells if c and (c[0] in "=+@" or (c[0] == "-" and not _number(c)))]
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def _number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


FIELDS = [f"q_{i.code}" for i in current_bank().instrument_items("training")]
VALUE = st.one_of(st.sampled_from(["1", "2", "3", "4", "5"]),
                  st.text(alphabet=string.printable + "٣¹½", max_size=6))
FORM = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), VALUE,
                       max_size=len(FIELDS) + 3)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=FORM)
def test_any_survey_form_stores_one_valid_response_or_nothing(app, setup, form):
    officer = Officer(app.test_client(), setup["pre"])
    officer.start()
    officer.give_code(skip=True)
    officer.fields()
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    form.pop("csrf_token", None)
    reply = officer.submit(form)
    complete = (set(FIELDS) <= set(form) and set(form) <= set(FIELDS)
                and all(form[f] in {"1", "2", "3", "4", "5"} for f in FIELDS))
    with app.app_context():
        after = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
        if complete:
            assert reply.status_code == 302 and after == before + 1
            stored = db.session.scalars(sa.select(Answer.value).join(Response)).all()
            assert all(1 <= v <= 5 for v in stored)
        else:
            assert reply.status_code in (200, 400) and after == before
