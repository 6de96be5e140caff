"""The honest-change report in a real browser, on the demo's class with a follow-up: who changed
officer by officer, the three effect sizes with r, whether the linked officers are typical, and
whether the change lasted."""
from __future__ import annotations

import io
import unicodedata

from pypdf import PdfReader

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
    # The numbers sit behind disclosure widgets, closed until asked for.
    change_table = page.locator("section[aria-labelledby=change] table").first
    assert not change_table.is_visible()
    for summary in page.locator("details.numbers > summary").all():
        summary.click()
    assert change_table.is_visible()
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


def test_the_report_prints_in_four_pages_with_every_main_table_and_the_brief_on_one(
        browser, demo_live):
    """Printed from the browser (Playwright's print, Letter and A4): the day shift's report, all
    its disclosures open on paper, in at most four pages; the brief on one."""
    ctx = context(browser, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, demo_live, "trainer@demo.example.org", "demo-password")
    page.get_by_role("link", name="Deflection basics, day shift").click()
    page.get_by_role("link", name="Report").first.click()
    page.locator("section[aria-labelledby=means] .chart-live svg").wait_for(timeout=15000)
    for paper in ("Letter", "A4"):
        printed = PdfReader(io.BytesIO(page.pdf(format=paper)))
        assert len(printed.pages) <= 4, (paper, len(printed.pages))
        text = " ".join(unicodedata.normalize(  # the PDF's ligatures (ﬁ, ﬃ) as letters
            "NFKC", " ".join(p.extract_text() for p in printed.pages)).split())
        for heading in ("In brief", "Change from before to after training", "Who changed",
                        "Did it last?", "How consistent the scales are"):
            assert heading in text, heading
        assert "Reliably improved" in text and "Linked officers" in text  # tables, open
        assert "Not printed: effect sizes side by side" in text
        assert "The numbers:" not in text  # no disclosure's summary on paper
    page.go_back()
    page.get_by_role("link", name="Brief").first.click()
    assert "What changed" in page.locator("article.brief").inner_text()
    shot(page, "trainer-brief")
    for paper in ("Letter", "A4"):
        assert len(PdfReader(io.BytesIO(page.pdf(format=paper))).pages) == 1, paper
    ctx.close()
