"""Each role's main pages in a real browser, on a phone and a desktop, on the demo.

Walks the officer (a pulse from the join page to the thanks page, then the agency's results
page), the trainer, the leader and the administrator through every main page at both widths,
saving a screenshot of each to test-artifacts/ (`roles-<width>-<page>.png`). On every page:
no sideways scrolling, no console error, and no red mark on an improvement. The last is read
from the charts themselves: every mark Vega draws carries its data as an aria-label, so a mark
that says "better than usual", "Reliably improved" or a positive difference from the whole
must not be drawn in a red hue, and one that says the opposite must not be blue.
"""
from __future__ import annotations

import re

import pytest

from tests.browsing import (BROWSER_MARKS, DESKTOP, PHONE, browser, console_errors,  # noqa: F401
                            context, serve, shot, sign_in)
from tests.conftest import fresh_database

pytestmark = BROWSER_MARKS

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}

#: Every drawn mark's fill and stroke with its aria-label (its own or its group's).
MARKS = """() => [...document.querySelectorAll('svg path, svg rect, svg circle, svg line')]
  .map(e => {
    const s = getComputedStyle(e);
    const labelled = e.closest('svg [aria-label]');
    return {fill: s.fill, stroke: s.stroke, label: labelled ? labelled.getAttribute('aria-label')
                                                            : ''};
  })"""

IMPROVED = re.compile(r"better than usual|Reliably improved|better \(\+\): \+0\.[0-9]*[1-9]")
WORSENED = re.compile(r"worse than usual|Reliably worse|better \(\+\): [−-]0\.[0-9]*[1-9]")


def _rgb(colour: str) -> tuple[int, int, int] | None:
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", colour)
    return tuple(int(v) for v in found.groups()) if found else None


def _hue(colour: str) -> str | None:
    """'red' or 'blue' for a clearly tinted colour, None for greys, white and none."""
    rgb = _rgb(colour)
    if rgb is None:
        return None
    r, g, b = rgb
    if max(rgb) - min(rgb) < 12:  # grey, white, black
        return None
    if r > b and r >= g:
        return "red"
    if b > r:
        return "blue"
    return None


def wrong_colours(page) -> list[str]:
    """The marks whose colour says the opposite of their label."""
    wrong = []
    for mark in page.evaluate(MARKS):
        if mark["label"].startswith(("Symbol legend", "Gradient legend")):
            continue  # a legend's swatches are labelled with all of its values at once
        hues = {_hue(mark["fill"]), _hue(mark["stroke"])} - {None}
        if IMPROVED.search(mark["label"]) and "red" in hues:
            wrong.append(f"red improvement: {mark['label'][:120]}")
        if WORSENED.search(mark["label"]) and "blue" in hues:
            wrong.append(f"blue worsening: {mark['label'][:120]}")
    return wrong


def charts_drawn(page) -> int:
    """Wait for each chart on the page to draw live; how many there are."""
    charts = page.locator(".chart-box[id^=chart-]")
    for i in range(charts.count()):
        page.locator(f"#{charts.nth(i).get_attribute('id')}.chart-live svg").wait_for(
            timeout=20000)
    return charts.count()


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The demo on a real server, with its open pulse's code and the officers' results page."""
    from survey import demo
    from survey.models import Agency, Cohort, WaveKind
    from survey.extensions import db
    path = tmp_path_factory.mktemp("roles") / "demo.db"
    with fresh_database(f"sqlite:///{path}") as app:
        with app.app_context():
            demo.load()
            pulse = next(w for w in demo.demo_join_codes() if w.kind is WaveKind.PULSE)
            agency = db.session.get(Agency, pulse.agency_id)
            reported = db.session.scalars(db.select(Cohort).order_by(Cohort.held_on)).first()
            site = {"pulse": pulse.join_code, "results": f"/results/{agency.results_token}",
                    "cohort": reported.id, "password": demo.PASSWORD}
        with serve(app) as base:
            yield {**site, "base": base}


def visit(page, url, name, width, checked):
    """Open a page, let its charts draw, keep a screenshot, and check it."""
    errors = console_errors(page)
    page.goto(url)
    drawn = charts_drawn(page)
    shot(page, f"roles-{width}-{name}")
    viewport = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport, name
    assert not wrong_colours(page), (name, wrong_colours(page))
    assert not errors, (name, errors)
    checked.append((name, drawn))


@pytest.mark.parametrize("width", WIDTHS)
def test_an_officer_answers_a_pulse_and_reads_the_results(browser, demo_site, width):
    ctx = context(browser, **WIDTHS[width])
    page = ctx.new_page()
    base, checked = demo_site["base"], []
    visit(page, f"{base}/", "officer-join", width, checked)
    page.fill("#code", demo_site["pulse"])
    page.get_by_role("button", name="Start the survey").click()
    page.get_by_text("Before you start").wait_for()
    shot(page, f"roles-{width}-officer-notice")
    page.get_by_role("link", name="Continue").click()
    while True:
        for fieldset in page.locator("fieldset:has(input[type=radio])").all():
            fieldset.locator("label").nth(2).click()  # the middle of each scale
        if page.locator("#comment").count():
            page.fill("#comment", f"On the {width}: call me at (312) 555-0177 about the van.")
        shot(page, f"roles-{width}-officer-questions-{len(checked)}")
        checked.append(("questions", 0))
        send = page.get_by_role("button", name="Send my answers")
        if send.count():
            send.click()
            break
        page.get_by_role("button", name="Continue").click()
    page.get_by_text("Your answers are in").wait_for()
    shot(page, f"roles-{width}-officer-thanks")
    visit(page, base + demo_site["results"], "officer-results", width, checked)
    ctx.close()


STAFF = {
    "trainer": ["/trainer/", "/trainer/cohorts/{cohort}", "/trainer/cohorts/{cohort}/report",
                "/trainer/compare"],
    "leader": ["/leadership/", "/leadership/tracker", "/leadership/figures",
               "/leadership/pulses", "/leadership/comments"],
    "admin": ["/admin/", "/admin/staff/new", "/admin/settings", "/admin/surveys",
              "/admin/audit", "/admin/archive"],
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", STAFF)
def test_each_staff_role_walks_its_main_pages(browser, demo_site, role, width):
    ctx = context(browser, **WIDTHS[width])
    page = ctx.new_page()
    sign_in(page, demo_site["base"], f"{role}@demo.example.org", demo_site["password"])
    checked = []
    for path in STAFF[role]:
        name = f"{role}-" + (path.strip("/").replace("/", "-").replace("{cohort}", "class")
                             or "home")
        visit(page, demo_site["base"] + path.format(cohort=demo_site["cohort"]), name, width,
              checked)
    assert [name for name, _ in checked] and sum(drawn for _, drawn in checked) >= {
        "trainer": 4, "leader": 3, "admin": 0}[role]  # the charts were there to be checked
    ctx.close()


def test_a_leader_tags_comments_and_links_a_step_that_officers_then_see(browser, demo_site):
    """The demo's latest closed pulse has 13 comments, 5 already tagged time and paperwork:
    the leader tags the one untagged comment with it too, links the tracker's written-policy
    step to that theme, and the officers' page shows the theme beside what was done, never the
    words."""
    ctx = context(browser, **DESKTOP)
    page = ctx.new_page()
    sign_in(page, demo_site["base"], "leader@demo.example.org", demo_site["password"])
    page.get_by_role("link", name="Comments", exact=True).click()
    page.get_by_role("heading", name="Officers' comments").wait_for()
    counts = page.locator("#counts + * , #counts ~ *")
    assert counts.get_by_text("5 of 13").count() >= 1
    item = page.locator("li", has_text="Honestly it is quicker already than it was last year.")
    item.get_by_label("Time and paperwork").check()
    item.get_by_role("button", name="Save themes").click()
    page.get_by_text("Themes saved.").wait_for()
    shot(page, "roles-desktop-leader-comments-tagged")
    assert counts.get_by_text("6 of 13").count() >= 1
    page.get_by_role("link", name="Tracker", exact=True).click()
    page.locator("a[href$='/tracker/le_policy']").first.click()
    page.select_option("#theme", "time")
    page.fill("#shared_note", "The referral form is one page now.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("updated.").first.wait_for()
    results = ctx.new_page()
    results.goto(demo_site["base"] + demo_site["results"])
    told = results.locator("h2#told + p + ul")
    assert "Time and paperwork: 6 of 13 comments" in told.inner_text()
    assert "The referral form is one page now." in told.inner_text()
    assert results.get_by_text("Cut the form").count() == 0
    shot(results, "roles-desktop-officer-results-themes")
    ctx.close()


def test_the_colour_check_catches_a_red_improvement(browser, demo_site):
    """The check above can fail: paint the dashboard's improvements red and it says so."""
    ctx = context(browser, **DESKTOP)
    page = ctx.new_page()
    sign_in(page, demo_site["base"], "leader@demo.example.org", demo_site["password"])
    page.goto(demo_site["base"] + "/leadership/")
    charts_drawn(page)
    assert not wrong_colours(page)
    page.evaluate("""() => document.querySelectorAll('svg [aria-label]').forEach(e => {
        if (/better than usual/.test(e.getAttribute('aria-label'))) e.style.fill = '#b2182b';
    })""")
    assert any(w.startswith("red improvement") for w in wrong_colours(page))
    ctx.close()


def test_a_local_statement_grows_the_pulse_by_exactly_one(browser, demo_site):
    """Last in this module (it changes the demo's pulse): the administrator adds one statement
    to a scale the pulse does not ask, and the preview an officer would see has one more
    statement, that one, and no other of its scale."""
    ctx = context(browser, **DESKTOP)
    page = ctx.new_page()
    sign_in(page, demo_site["base"], "admin@demo.example.org", demo_site["password"])
    page.goto(demo_site["base"] + "/admin/surveys")
    pulse = page.locator("section[aria-labelledby=current-pulse]")

    def preview_count():
        pulse.get_by_role("link", name="Preview as an officer sees it").click()
        count = page.locator("fieldset:has(input[type=radio])").count()
        page.go_back()
        return count

    before = preview_count()
    statement = "Our treatment partner tells us what happened after a referral."
    page.get_by_role("link", name="Add your own statement").click()
    page.fill("#text", statement)
    page.select_option("#construct", "facilitators")
    page.get_by_label("The agency pulse").check()
    page.get_by_role("button", name="Add and publish").click()
    page.get_by_text(f"{before + 1} statements").first.wait_for()
    shot(page, "roles-desktop-admin-pulse-grown")
    assert preview_count() == before + 1
    pulse.get_by_role("link", name="Preview as an officer sees it").click()
    assert page.get_by_text(statement).count() == 1
    ctx.close()
