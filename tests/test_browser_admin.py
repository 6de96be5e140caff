"""The administrator in a real browser: invite a trainer, add a local statement, and see it reach
the next survey while the earlier class's report stays as it was."""
from __future__ import annotations

import re

import pytest

from survey import publishing, services
from survey.models import Role
from tests.browsing import (BROWSER_MARKS, browser, context, serve, shot,  # noqa: F401
                            sign_in)
from tests.conftest import PASSWORD, fresh_database, make_agency, make_cohort, make_staff

pytestmark = BROWSER_MARKS

LOCAL = "Our county's detox unit takes referrals at any hour."
NEW_PASSWORD = "night shift crossword champion"


@pytest.fixture
def admin_live(tmp_path):
    """An agency with an administrator and an earlier class answered before and after."""
    with fresh_database(f"sqlite:///{tmp_path / 'admin.db'}") as app:
        with app.app_context():
            agency = make_agency("Browser Admin PD")
            admin = make_staff(agency, Role.ADMIN).email
            earlier = make_cohort(agency, name="Earlier class")
            today = services.local_date(agency)
            for wave, shift in ((earlier.waves[0], 0), (earlier.waves[1], 1)):
                services.open_wave(wave, hours=24)
                items = [e.item_id for e in wave.instrument.entries]
                for n in range(6):
                    services.record_response(
                        wave, {item: 1 + (n + shift + i) % 5 for i, item in enumerate(items)},
                        linkage=None, key=services.response_id("seed", f"{wave.id}-{n}"),
                        today=today)
                services.close_wave(wave)
                publishing.publish_wave(wave.id)
            earlier_id = earlier.id
        with serve(app) as base:
            yield {"base": base, "admin": admin, "earlier": earlier_id}


def test_admin_invites_a_trainer_and_adds_a_local_statement(browser, admin_live):
    base = admin_live["base"]
    desk = context(browser, viewport={"width": 1280, "height": 900})
    admin = desk.new_page()
    sign_in(admin, base, admin_live["admin"], PASSWORD)
    report_url = f"{base}/trainer/cohorts/{admin_live['earlier']}/report"
    admin.goto(report_url)
    means_before = admin.locator("section[aria-labelledby=means] table").inner_text()
    assert "version 1 (item bank" in admin.content()

    admin.get_by_role("link", name="Admin", exact=True).click()
    shot(admin, "admin-accounts")
    admin.get_by_role("link", name="Add a person").click()
    admin.fill("#name", "Dana Reyes")
    admin.fill("#email", "dana@browser.example.org")
    admin.get_by_label("Trainer: runs classes").check()
    admin.get_by_role("button", name="Create the account and its link").click()
    link = admin.locator("#link").input_value()
    assert "/auth/welcome/" in link
    admin.get_by_role("button", name="Copy the link").click()  # the whole link, not a cut-off field
    admin.locator("#link-status").get_by_text(re.compile("Copied|Selected")).wait_for()

    other = context(browser, viewport={"width": 1280, "height": 900})
    trainer = other.new_page()
    trainer.goto(link)
    trainer.get_by_role("heading", name="Welcome, Dana Reyes").wait_for()
    trainer.fill("#password", "password1234")
    trainer.fill("#confirm", "password1234")
    trainer.get_by_role("button", name="Set my password").click()
    trainer.get_by_text("lists of common passwords").wait_for()
    trainer.fill("#password", NEW_PASSWORD)
    trainer.fill("#confirm", NEW_PASSWORD)
    trainer.get_by_role("button", name="Set my password").click()
    trainer.get_by_text("Your password is set and you are signed in.").wait_for()
    trainer.get_by_role("button", name="Sign out").click()
    sign_in(trainer, base, "dana@browser.example.org", NEW_PASSWORD)
    trainer.get_by_role("heading", name="Training classes").wait_for()

    admin.get_by_role("link", name="Surveys").click()
    admin.get_by_role("link", name="Add your own statement").click()
    admin.fill("#text", LOCAL)
    admin.select_option("#construct", "knowledge")
    admin.get_by_role("button", name="Add and publish").click()
    admin.get_by_text("version 2 (the agency's own)").first.wait_for()
    shot(admin, "admin-surveys")

    trainer.get_by_role("link", name="New class").click()
    trainer.fill("#name", "Later class")
    trainer.get_by_label("Open the before-training survey now").check()
    trainer.get_by_role("button", name="Create class").click()
    trainer.get_by_text("Class “Later class” created.").wait_for()
    code = trainer.locator("table.waves code.joincode").first.inner_text().replace(" ", "")

    phone = context(browser, viewport={"width": 375, "height": 667}, is_mobile=True,
                    has_touch=True)
    officer = phone.new_page()
    officer.goto(f"{base}/s/{code}")
    officer.get_by_role("link", name="Continue").click()
    officer.get_by_role("button", name="Skip this step").click()
    statement = officer.get_by_text(LOCAL)
    statement.wait_for()
    for fieldset in officer.locator("fieldset.item").all():
        fieldset.locator("label.option").nth(3).click()
    officer.get_by_role("button", name="Send my answers").click()
    officer.get_by_text("Your answers are in").wait_for()

    admin.goto(report_url)
    assert admin.locator("section[aria-labelledby=means] table").inner_text() == means_before
    assert "version 1 (item bank" in admin.content() and LOCAL not in admin.content()
    for ctx in (desk, other, phone):
        ctx.close()

