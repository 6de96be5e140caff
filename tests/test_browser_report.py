"""The honest-change report in a real browser, on the demo's class with a follow-up: who changed
officer by officer, the three effect sizes with r, whether the linked officers are typical, and
whether the change lasted."""
from __future__ import annotations

from tests.browsing import (BROWSER_MARKS, browser, console_errors, context,  # noqa: F401
                            demo_live, shot, sign_in)

pytestmark = BROWSER_MARKS


def live_marks(page, section: str) -> int:
    """Marks of the live (browser-drawn) chart in a report section, once it has rendered."""
    chart = page.locator(f"section[aria-labelledby={section}] .chart-live svg").first
    chart.wait_for(timeout=15000)
    return chart.locator("path, rect").count()


def test_the_report_shows_who_changed_and_whether_it_lasted(browser, demo_live):
    ctx = context(browser, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors = console_errors(page)
    sign_in(page, demo_live, "trainer@demo.example.org", "demo-password")
    page.get_by_role("link", name="Deflection basics, day shift").click()
    page.get_by_role("link", name="Report").first.click()

    assert live_marks(page, "reliable") > 5
    reliable = page.locator("section[aria-labelledby=reliable] table").inner_text()
    assert "Reliably improved" in reliable and "Reliably got worse" in reliable
    assert "Stigma beliefs" in reliable

    effects = page.locator("#effect-sizes ~ div table").first.inner_text()
    for column in ("dz", "dav", "gav", "r"):
        assert column in effects.replace(" ", "").replace("\n", ""), column
    assert "The sentences under “In brief” use Hedges" in page.locator(".effect-note").inner_text()

    typical = page.locator("section[aria-labelledby=typical]").inner_text()
    assert ("may not hold for the others" in typical
            or "On no scale do the linked officers differ" in typical)

    assert live_marks(page, "followup") > 5
    assert "follow-up" in page.locator("section[aria-labelledby=followup] table").first \
        .inner_text().lower()
    shot(page, "trainer-report-honest-change")
    assert not [e for e in errors if "Infinite extent" not in e], errors
    ctx.close()
