"""Real browsers: Debian's Chromium, driven by Playwright, with no network beyond 127.0.0.1.

The trainer's whole cycle, officers answering on phone-sized screens, and charts that really
draw. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from survey.bank import current_bank
from tests.browsing import (BROWSER_MARKS, browser, console_errors, context,  # noqa: F401
                            demo_live, serve, shot, sign_in)
from tests.conftest import PASSWORD, fresh_database, make_agency, make_cohort, make_staff

pytestmark = BROWSER_MARKS


@pytest.fixture
def live(tmp_path):
    """The app on a real threaded server on 127.0.0.1, with a trainer account."""
    with fresh_database(f"sqlite:///{tmp_path / 'browser.db'}") as app:
        with app.app_context():
            agency = make_agency("Browser Test PD")
            email = make_staff(agency).email
            open_code = make_cohort(agency, name="Open class").waves[0].join_code
        with serve(app) as base:
            yield {"base": base, "trainer": email, "open_code": open_code}


STIGMA_PRE, STIGMA_POST = [4, 5, 4, 3, 5], [3, 3, 2, 3, 4]


def answer_on_a_phone(browser, base, code, officer, stigma):
    """One officer: scan (open the link), read the notice, make a code, answer, send."""
    ctx = context(browser, viewport={"width": 375, "height": 667}, is_mobile=True,
                  has_touch=True)
    page = ctx.new_page()
    page.goto(f"{base}/s/{code}")
    page.get_by_role("link", name="Continue").click()
    page.select_option("#mother_initial", "ACDEF"[officer])
    page.select_option("#birth_month", str(officer + 1))
    page.select_option("#older_siblings", str(officer % 3))
    page.select_option("#birthplace_initial", "T")
    page.select_option("#father_initial", "M")
    page.get_by_role("button", name="Continue").click()
    for item in current_bank().instrument_items("training"):
        value = stigma if item.construct == "stigma" else 3
        value = 6 - value if item.reverse_keyed else value
        page.locator(f"label[for='q_{item.code}-{value - 1}']").click()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("Your answers are in").wait_for()
    ctx.close()


def test_the_trainers_whole_cycle(browser, live):
    base = live["base"]
    ctx = context(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    trainer = ctx.new_page()
    errors = console_errors(trainer)
    sign_in(trainer, base, live["trainer"], PASSWORD)
    trainer.get_by_role("link", name="New class").click()
    trainer.fill("#name", "Browser class")
    trainer.get_by_label("The science of addiction").check()
    trainer.get_by_label("Open the before-training survey now").check()
    trainer.get_by_role("button", name="Create class").click()
    trainer.get_by_text("Class “Browser class” created.").wait_for()
    shot(trainer, "trainer-cohort")
    codes = re.findall(r"\b([A-Z0-9]{3}) ([A-Z0-9]{3})\b", trainer.locator("table.waves").inner_text())
    pre_code, post_code = ("".join(c) for c in codes[:2])

    trainer.get_by_role("link", name="Room page").first.click()
    assert trainer.locator("figure.qr svg path").count() >= 1
    assert trainer.locator("#count").inner_text() == "0"
    for officer, stigma in enumerate(STIGMA_PRE):
        answer_on_a_phone(browser, base, pre_code, officer, stigma)
    # the count rises on the projector without a reload
    expect(trainer.locator("#count")).to_have_text("5", timeout=15000)
    shot(trainer, "trainer-room")

    trainer.get_by_role("link", name="Back to the class").click()
    trainer.get_by_role("button", name="Close now").first.click()
    trainer.get_by_role("button", name="Open now").first.click()
    for officer, stigma in enumerate(STIGMA_POST):
        answer_on_a_phone(browser, base, post_code, officer, stigma)
    trainer.get_by_role("link", name="Report").first.click()
    trainer.get_by_text("After training: 5 answers so far").wait_for()  # counts only while open
    assert "Stigma beliefs fell" not in trainer.content()
    trainer.get_by_role("link", name="Back to the class").click()
    trainer.get_by_role("button", name="Close now").first.click()
    trainer.get_by_text("results are published").wait_for()

    trainer.get_by_role("link", name="Report").first.click()
    trainer.locator(".chart-live svg").first.wait_for(timeout=15000)
    assert trainer.locator(".chart-live svg path").count() > 10
    change = sum(STIGMA_POST) / 5 - sum(STIGMA_PRE) / 5
    assert f"Stigma beliefs fell by {abs(change):.2f} points" in trainer.content()
    shot(trainer, "trainer-report")

    with trainer.expect_download() as download:
        trainer.get_by_role("link", name="change (CSV)", exact=True).click()
    assert "stigma" in Path(download.value.path()).read_text()
    with trainer.expect_download() as download:
        trainer.get_by_role("link", name="SPSS").click()
    assert Path(download.value.path()).stat().st_size > 1000

    trainer.get_by_role("link", name="Compare").first.click()
    trainer.locator(".chart-live svg").first.wait_for(timeout=15000)
    assert trainer.locator(".chart-live svg path").count() > 0  # the forest plot's marks
    assert "Browser class" in trainer.content()
    shot(trainer, "trainer-compare")
    assert not errors, errors
    ctx.close()


def test_officer_path_on_a_phone_with_a_mistake(browser, live):
    """Join by typing the code, miss two statements, fix them, and finish; no network leaves."""
    ctx = context(browser, viewport={"width": 375, "height": 667}, is_mobile=True)
    page = ctx.new_page()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{live['base']}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    code = live["open_code"]
    page.fill("#code", f" {code[:3].lower()}-{code[3:].lower()} ")
    page.get_by_role("button", name="Start the survey").click()
    page.get_by_text("Before you start").wait_for()
    shot(page, "officer-notice")
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Skip this step").click()
    items = current_bank().instrument_items("training")
    for item in items[:-2]:
        page.locator(f"label[for='q_{item.code}-2']").click()
    assert page.locator("#progress").inner_text() == f"{len(items) - 2} of {len(items)} answered"
    shot(page, "officer-questions")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("2 statements still need an answer").wait_for()
    assert page.locator("input[type=radio]:checked").count() == len(items) - 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "officer-missing")
    for item in items[-2:]:
        page.locator(f"label[for='q_{item.code}-4']").click()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("Your answers are in").wait_for()
    shot(page, "officer-thanks")
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in requested), requested
    ctx.close()


def test_the_leaders_dashboard_and_tracker(browser, demo_live):
    from survey import demo
    ctx = context(browser, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors = console_errors(page)
    sign_in(page, demo_live, "leader@demo.example.org", demo.PASSWORD)
    page.get_by_role("heading", name="Cultural temperature").wait_for()
    page.locator("#chart-trends.chart-live svg").wait_for(timeout=20000)
    trends = page.locator("#chart-trends")
    assert trends.locator("path").count() > 50  # eight panels of lines, bands and limits
    assert trends.get_by_text("Deflection counts").count() >= 1
    heat = page.locator("#chart-units")
    page.locator("#chart-units.chart-live svg").wait_for(timeout=20000)
    assert heat.locator("svg path").count() > 10  # the heat map's cells, drawn live
    assert heat.get_by_text("withheld", exact=True).count() >= 8
    before = page.locator("ol.milestones li").count()
    shot(page, "leader-dashboard")

    page.get_by_role("link", name="Tracker").click()
    page.get_by_role("link", name="Update Kotter 6: Create quick wins").click()
    page.select_option("#status", "done")
    page.fill("#done_on", "2026-10-05")
    page.fill("#shared_note", "First ten deflections celebrated at roll call.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("“Kotter 6: Create quick wins” updated.").wait_for()

    page.get_by_role("link", name="Culture").click()
    page.locator("#chart-trends.chart-live svg").wait_for(timeout=20000)
    assert page.locator("ol.milestones li").count() == before + 1
    assert page.get_by_text("Kotter 6: Create quick wins (5 Oct 2026)").count() == 1
    shot(page, "leader-after-update")
    assert not errors, errors
    ctx.close()
