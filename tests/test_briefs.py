"""The one-page briefs: a class's (for the sergeant to hand out) and the latest pulse's (for the
chief), published with their report and dashboard, as a page and as PDFs on Letter and A4 that
each fit on one sheet, saying in words what changed and never a figure the report withholds."""
import io
import re

import pytest
from pypdf import PdfReader

from tests.conftest import close_all, csrf_token
from tests.test_comments import pulse_site, send, start_pulse, tag, tagged_site  # noqa: F401
from tests.test_reports import POST, PRE, run_cohort, take_survey

#: PDF page sizes in points (1/72 inch).
SIZES = {"letter": (612, 792), "a4": (595, 842)}


@pytest.fixture
def trainer(client, auth, setup):
    auth.login(setup["trainer_email"])
    return client


def pdf(client, address):
    reply = client.get(address)
    assert reply.status_code == 200, reply.text
    assert reply.mimetype == "application/pdf"
    assert "attachment" in reply.headers["Content-Disposition"]
    return PdfReader(io.BytesIO(reply.data))


def sheet(document, paper):
    """The one page's text, after checking there is exactly one, of the paper's size."""
    assert len(document.pages) == 1
    box = document.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == SIZES[paper]
    return " ".join(document.pages[0].extract_text().split())


def test_a_class_brief_says_what_changed_on_one_sheet_of_letter_and_of_a4(app, trainer, setup):
    run_cohort(app, setup, PRE, POST)  # stigma falls by a point: lower is better
    cohort = setup["cohort_id"]
    page = trainer.get(f"/trainer/cohorts/{cohort}/brief").text
    headline = "Stigma beliefs fell by 1.00 points on the 1–5 scale, an improvement"
    assert headline in page
    assert "8</strong> before training" in page and "(8 linked to their before answers)" in page
    assert "No clear change in" in page  # the other scales, in one line
    assert "<svg" in page
    assert "Lower is better for perceived barriers to referral and stigma beliefs" in page
    assert "brief-letter.pdf" in page and "brief-a4.pdf" in page
    for paper in SIZES:
        text = sheet(pdf(trainer, f"/trainer/cohorts/{cohort}/brief-{paper}.pdf"), paper)
        assert "Deflection basics" in text and "20 November 2026" in text
        assert "Stigma beliefs fell by 1.00 points" in text and "an improvement" in text
    # From the class and its report, one link away.
    assert f"/trainer/cohorts/{cohort}/brief" in trainer.get(f"/trainer/cohorts/{cohort}").text
    assert f"/trainer/cohorts/{cohort}/brief" in trainer.get(
        f"/trainer/cohorts/{cohort}/report").text


def test_an_open_class_has_no_brief_only_its_count(app, trainer, setup):
    for i in range(6):
        take_survey(app, setup["pre"], i, 4)
    page = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/brief").text
    assert "6 answers so far" in page and "What changed" not in page
    assert trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/brief-letter.pdf")\
        .status_code == 404


def test_a_small_class_brief_shows_no_figure_and_says_how_many_are_withheld(app, trainer,
                                                                             setup):
    run_cohort(app, setup, PRE[:3], POST[:3])  # three officers: under the minimum of five
    page = trainer.get(f"/trainer/cohorts/{setup['cohort_id']}/brief").text
    assert "fell by" not in page and "rose by" not in page and "<svg" not in page
    assert re.search(r"\d+ figures withheld: fewer than 5", page)
    text = sheet(pdf(trainer, f"/trainer/cohorts/{setup['cohort_id']}/brief-a4.pdf"), "a4")
    assert "fell by" not in text and "withheld" in text


def test_another_agencys_brief_is_not_found(app, client, auth, setup):
    from survey.models import Role
    from tests.conftest import make_agency, make_staff
    run_cohort(app, setup, PRE, POST)
    with app.app_context():
        email = make_staff(make_agency("Other Police Department"), Role.TRAINER).email
    auth.login(email)
    for address in ("brief", "brief-letter.pdf", "brief-a4.pdf"):
        assert client.get(f"/trainer/cohorts/{setup['cohort_id']}/{address}").status_code == 404
    assert client.get(f"/trainer/cohorts/{setup['cohort_id']}/brief-legal.pdf")\
        .status_code == 404


def leader_client(app, email):
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"csrf_token": csrf_token(page.text), "email": email,
                                     "password": "correct horse battery"})
    return client


def test_the_pulse_brief_gives_the_temperature_and_the_top_themes_on_one_sheet(
        app, pulse_site):  # noqa: F811
    client = tagged_site(app, pulse_site)
    page = client.get("/leadership/comments").text
    ids = re.findall(r'name="comment" value="([0-9a-f-]{36})"', page)
    for comment_id in ids[:6]:
        assert tag(client, comment_id, "time").status_code == 302
    assert tag(client, ids[6], "treatment").status_code == 302
    brief = client.get("/leadership/brief").text
    assert "Cultural temperature" in brief and "At a glance" in brief
    assert "10 officers answered" in brief
    assert "What officers told us" in brief
    assert "Time and paperwork (6 of 10 comments)</li><li>Treatment availability (1 of 10" in brief
    assert "Too much paperwork" not in brief  # themes, never the words
    assert "/leadership/brief" in client.get("/leadership/").text
    for paper in SIZES:
        text = sheet(pdf(client, f"/leadership/brief-{paper}.pdf"), paper)
        assert "At a glance" in text and "Time and paperwork" in text
        assert "Too much paperwork" not in text


def test_below_the_comment_minimum_the_pulse_brief_names_no_theme(app, pulse_site):  # noqa: F811
    code = start_pulse(app, pulse_site["agency_id"])
    for n in range(9):
        send(app, code, "Too much paperwork.")
    send(app, code)
    close_all(app, pulse_site["agency_id"])
    client = leader_client(app, pulse_site["leader"])
    brief = client.get("/leadership/brief").text
    assert "At a glance" in brief
    assert "What officers told us" not in brief and "paperwork" not in brief.lower()
    text = sheet(pdf(client, "/leadership/brief-letter.pdf"), "letter")
    assert "paperwork" not in text.lower()


def test_trainers_cannot_reach_the_pulse_brief(app, client, auth, setup):
    auth.login(setup["trainer_email"])
    assert client.get("/leadership/brief").status_code == 403
    assert client.get("/leadership/brief-a4.pdf").status_code == 403
