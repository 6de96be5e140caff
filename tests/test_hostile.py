"""Hostile input: script in every staff text field stays inert everywhere; random survey forms
either store exactly one valid response or nothing."""
import csv
import io
import json
import string

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from survey.bank import current_bank
from survey.extensions import db
from survey.models import Answer, Item, Response
from tests.conftest import Officer, csrf_token

PAYLOAD = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'><svg onload=alert(3)>'
FORMULA = "=HYPERLINK(\"http://evil.example\",\"x\")"


def test_script_in_staff_fields_is_inert_on_every_page_and_export(app, client, auth, setup):
    from survey.models import Cohort, Role
    from tests.conftest import make_staff
    with app.app_context():
        agency = db.session.get(Cohort, setup["cohort_id"]).agency
        admin = make_staff(agency, Role.ADMIN).email
    auth.login(admin)
    page = client.get(f"/trainer/cohorts/{setup['cohort_id']}/edit")
    saved = client.post(f"/trainer/cohorts/{setup['cohort_id']}/edit", data={
        "csrf_token": csrf_token(page.text), "name": PAYLOAD, "held_on": "2026-11-20",
        "unit_id": "0", "location": PAYLOAD, "trainer_id": "1"})
    assert saved.status_code == 302, saved.text
    form = client.get("/leadership/tracker/le_policy")
    saved = client.post("/leadership/tracker/le_policy", data={
        "csrf_token": csrf_token(form.text), "status": "done", "done_on": "2026-10-01",
        "owner": PAYLOAD, "notes": PAYLOAD, "shared_note": PAYLOAD})
    assert saved.status_code == 302, saved.text
    with app.app_context():  # every payload is stored as typed, so the pages below show it
        from survey.models import TrackerItem
        cohort = db.session.get(Cohort, setup["cohort_id"])
        assert cohort.name == PAYLOAD.strip() and cohort.location == PAYLOAD.strip()
        item = db.session.scalars(sa.select(TrackerItem).where(
            TrackerItem.code == "le_policy")).one()
        assert item.owner == item.notes == item.shared_note == PAYLOAD
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
    escaped = PAYLOAD.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    cohort_page = client.get(f"/trainer/cohorts/{setup['cohort_id']}").text
    assert escaped.replace('"', "&#34;").replace("'", "&#39;")[:40] in cohort_page  # location
    assert "&lt;script&gt;" in client.get(f"/results/{token}").text  # the shared note
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
VALID = st.sampled_from(["1", "2", "3", "4", "5"])
VALUE = st.one_of(VALID, st.text(alphabet=string.printable + "٣¹½", max_size=6))
RANDOM_FORM = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), VALUE,
                              max_size=len(FIELDS) + 3)
#: Complete forms on purpose (random forms are never complete): every field, a valid answer.
COMPLETE_FORM = st.fixed_dictionaries({field: VALID for field in FIELDS})
FORM = st.one_of(COMPLETE_FORM, RANDOM_FORM,
                 st.tuples(COMPLETE_FORM, RANDOM_FORM).map(lambda pair: {**pair[0], **pair[1]}))


def is_complete(form) -> bool:
    return set(form) == set(FIELDS) and all(form[f] in {"1", "2", "3", "4", "5"} for f in FIELDS)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(form={field: "3" for field in FIELDS})
@given(form=FORM)
def test_any_survey_form_stores_one_valid_response_or_nothing(app, setup, form):
    officer = Officer(app.test_client(), setup["pre"])
    officer.start()
    officer.give_code(skip=True)
    officer.fields()
    with app.app_context():
        before = set(db.session.scalars(sa.select(Response.id)))
    form.pop("csrf_token", None)
    reply = officer.submit(form)
    with app.app_context():
        new = set(db.session.scalars(sa.select(Response.id))) - before
        if is_complete(form):
            assert reply.status_code == 302 and len(new) == 1
            stored = db.session.execute(sa.select(Item.code, Answer.value).join(Answer)
                                        .where(Answer.response_id == new.pop())).all()
            assert {f"q_{code}": str(value) for code, value in stored} == form  # as sent
        else:
            assert reply.status_code in (200, 400) and not new


def test_complete_forms_are_generated():
    """The strategy above really produces complete forms (the branch that stores)."""
    from hypothesis import find
    assert is_complete(find(FORM, is_complete))
