"""Accessibility in a real browser (Debian's Chromium, no network beyond 127.0.0.1).

1. An automated WCAG 2.1 A/AA audit with axe-core (shipped by the `axe-playwright-python`
   package, injected with `page.evaluate` because the app's Content-Security-Policy blocks
   script tags from elsewhere) of every page an officer meets, on a 375 x 667 phone, and of the
   staff pages on a phone (375 x 667, where no page may scroll sideways) and a desktop
   (1366 x 900). No violation of impact "serious" or "critical" is allowed;
   axe's color-contrast rule is among those run, so text contrast is checked on every page.
2. The survey, from the join code to the thank-you page, with the keyboard alone (Tab, Space,
   arrow keys, Enter and typing, no mouse), with a visible focus indicator on every stop.
3. Touch targets on the phone (see `test_touch_targets_on_officer_pages`).

Screenshots of every audited page go to test-artifacts/a11y-*.png.
"""
from __future__ import annotations

import datetime as dt
import importlib.resources
import re

import pytest
import sqlalchemy as sa

from survey.bank import current_bank, linkage_elements
from survey.extensions import db
from survey.models import (Answer, Cohort, Instrument, Item, Response, Role, StaffUser, Wave,
                           WaveKind)
from tests.browsing import (BROWSER_MARKS, DESKTOP, PHONE, browser, context,  # noqa: F401
                            serve, shot, sign_in)
from tests.conftest import fresh_database, make_agency, make_cohort

pytestmark = BROWSER_MARKS

AXE_SOURCE = (importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

AXE_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  const brief = (v) => ({id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary || ''}))});
  return {version: axe.version, violations: r.violations.map(brief),
          ran: [...r.passes, ...r.violations, ...r.incomplete].map((v) => v.id)};
}"""


def axe(page) -> dict:
    """Runs axe-core's WCAG 2.1 A/AA rules on the page as it stands."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(AXE_RUN, AXE_TAGS)


def describe(name, violations) -> str:
    lines = [f"{name}:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['url']})")
        for node in v["nodes"][:8]:
            summary = " ".join(node["summary"].split())[:300]
            lines.append(f"      {node['target']}  {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"      ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


class Audit:
    """Audits each page it is shown; fails once at the end, listing every page's problems."""

    def __init__(self, prefix):
        self.prefix, self.failures, self.pages = prefix, [], []

    def __call__(self, page, name):
        wait_for_charts(page)
        result = axe(page)
        assert result["version"].startswith("4."), result["version"]
        assert "color-contrast" in result["ran"], f"{name}: axe's color-contrast rule did not run"
        blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
        if blocking:
            self.failures.append(describe(name, blocking))
        others = [v for v in result["violations"] if v["impact"] not in BLOCKING]
        if others:  # reported, not failed: shown with -rP or when something else fails
            print(describe(f"{name} (minor or moderate, not failing)", others))
        shot(page, f"a11y-{self.prefix}-{name}")
        self.pages.append(name)

    def check(self):
        assert not self.failures, ("axe-core found serious or critical WCAG 2.1 AA violations\n"
                                   + "\n".join(self.failures))


def wait_for_charts(page):
    """Pages with charts are audited as drawn in the browser (the live SVG), not the fallback."""
    charts = page.locator("script.chart-spec").count()
    if charts:
        page.wait_for_function(f"document.querySelectorAll('.chart-live svg').length >= {charts}",
                               timeout=20000)


# --- The data: the demo agency (cohorts with answers, three years of pulses), on a real server.

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from survey import demo
    path = tmp_path_factory.mktemp("a11y") / "demo.db"
    with fresh_database(f"sqlite:///{path}") as app:
        with app.app_context():
            agency = demo.load()
            now = dt.datetime.now(dt.timezone.utc)
            waves = db.session.scalars(sa.select(Wave).where(Wave.agency_id == agency.id)).all()
            open_training = next(w for w in waves if w.kind is WaveKind.PRE
                                 and w.status(now).value == "open")
            open_pulse = next((w for w in waves if w.kind is WaveKind.PULSE
                               and w.status(now).value == "open"), None)
            closed = next(w for w in waves if w.kind is WaveKind.POST
                          and w.status(now).value == "closed")
            reported = db.session.scalar(sa.select(Cohort).where(
                Cohort.agency_id == agency.id, Cohort.name == demo.COHORTS[0].name))
            facts = {"code": open_training.join_code, "closed": closed.join_code,
                     "pulse": open_pulse.join_code if open_pulse else None,
                     "results": agency.results_token, "cohort": reported.id,
                     "room": open_training.id, "password": demo.PASSWORD,
                     "staff": db.session.scalar(sa.select(StaffUser.id).where(
                         StaffUser.agency_id == agency.id, StaffUser.role == Role.TRAINER)),
                     "instrument": db.session.scalar(sa.select(Instrument.id).where(
                         Instrument.key == "pulse", sa.or_(Instrument.agency_id.is_(None),
                         Instrument.agency_id == agency.id)).order_by(Instrument.id.desc()))}
        with serve(app) as base:
            yield {"base": base, **facts}


def _loaded(visit, page, name):
    """Check a page once it has loaded with its stylesheet: a heading can be in the DOM before
    the CSS applies, and an unstyled page is not what officers see."""
    page.wait_for_load_state("load")
    visit(page, name)


def officer_pages(browser, site, visit):
    """Walks every page an officer can meet on a phone, calling `_loaded(visit, page, name)` on each."""
    ctx = context(browser, **PHONE)
    page = ctx.new_page()
    base, code = site["base"], site["code"]
    page.goto(f"{base}/")
    _loaded(visit, page, "join")
    page.fill("#code", "ZZZ-ZZZ")
    page.get_by_role("button", name="Start the survey").click()
    page.locator("#code-error").wait_for()
    _loaded(visit, page, "join-error")
    page.goto(f"{base}/s/ZZZZZZ")
    _loaded(visit, page, "join-unknown-link")
    page.goto(f"{base}/s/{site['closed']}")
    _loaded(visit, page, "survey-closed")
    page.goto(f"{base}/s/{code}")
    _loaded(visit, page, "notice")
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("heading", name="Your personal code").wait_for()
    _loaded(visit, page, "linkage-code")
    page.get_by_role("button", name="Skip this step").click()
    page.get_by_role("heading", name="Your views").wait_for()
    _loaded(visit, page, "questions")
    items = current_bank().instrument_items("training")
    for item in items[:-3]:
        page.locator(f"label[for='q_{item.code}-3']").click()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("3 statements still need an answer").wait_for()
    _loaded(visit, page, "questions-missing")
    for item in items[-3:]:
        page.locator(f"label[for='q_{item.code}-1']").click()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("Your answers are in").wait_for()
    _loaded(visit, page, "thanks")
    page.get_by_role("link", name=re.compile("See what officers across the agency")).click()
    page.get_by_role("heading", name=re.compile("What officers said")).wait_for()
    _loaded(visit, page, "results")
    page.goto(f"{base}/privacy")
    _loaded(visit, page, "privacy")
    if site["pulse"]:  # the pulse adds optional unit and shift questions
        page.goto(f"{base}/s/{site['pulse']}")
        page.get_by_role("link", name="Continue").click()
        page.get_by_role("heading", name="Your views").wait_for()
        _loaded(visit, page, "pulse-questions")
    ctx.close()


STAFF_VIEWPORTS = {"phone": PHONE, "desktop": {"viewport": {"width": 1366, "height": 900}}}


def staff_pages(browser, site, visit, device=DESKTOP):
    """Walks every staff page, signed in as the demo administrator (who may see them all)."""
    ctx = context(browser, **device)
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    base = site["base"]
    page.goto(f"{base}/auth/login")
    _loaded(visit, page, "login")
    sign_in(page, base, "admin@demo.example.org", site["password"])
    page.get_by_role("heading", name=re.compile("^Accounts at")).wait_for()  # the admin's home
    page.goto(f"{base}/trainer/")
    page.get_by_role("heading", name="Training classes").wait_for()
    _loaded(visit, page, "trainer-index")
    for name, path in [
            ("cohort", f"/trainer/cohorts/{site['cohort']}"),
            ("new-cohort", "/trainer/cohorts/new"),
            ("room", f"/trainer/waves/{site['room']}/room"),
            ("report", f"/trainer/cohorts/{site['cohort']}/report"),
            ("brief", f"/trainer/cohorts/{site['cohort']}/brief"),
            ("compare", "/trainer/compare"),
            ("dashboard", "/leadership/"),
            ("pulses", "/leadership/pulses"),
            ("tracker", "/leadership/tracker"),
            ("tracker-step", "/leadership/tracker/kotter_6_quick_wins"),
            ("figures", "/leadership/figures"),
            ("comments", "/leadership/comments"),
            ("pulse-brief", "/leadership/brief"),
            ("cohort-edit", f"/trainer/cohorts/{site['cohort']}/edit"),
            ("admin-home", "/admin/"),
            ("admin-invite", "/admin/staff/new"),
            ("admin-account", f"/admin/staff/{site['staff']}"),
            ("admin-settings", "/admin/settings"),
            ("admin-surveys", "/admin/surveys"),
            ("admin-edit-survey", "/admin/surveys/pulse"),
            ("admin-new-item", "/admin/items/new"),
            ("admin-audit", "/admin/audit"),
            ("admin-archive", "/admin/archive"),
            ("admin-agencies", "/admin/agencies"),
            ("admin-preview", f"/admin/surveys/version/{site['instrument']}/preview"),
            ("admin-audit-filtered", "/admin/audit?action=agency&page=1"),
            ("admin-delete-cohort", f"/admin/cohorts/{site['cohort']}/delete")]:
        reply = page.goto(f"{base}{path}")
        assert reply.status == 200, (name, reply.status)
        _loaded(visit, page, name)
    assert not errors, errors
    ctx.close()


def test_officer_pages_pass_axe_on_a_phone(browser, site):
    audit = Audit("officer")
    officer_pages(browser, site, audit)
    assert len(audit.pages) >= 11, audit.pages
    audit.check()


#: How wide the page is, and the outermost elements that reach past the screen's edge (inside a
#: scroll region does not count). On a phone the layout viewport grows to fit what overflows,
#: so window.innerWidth cannot be the measure: the screen's width is.
WIDTHS = """(screen) => ({page: document.documentElement.scrollWidth,
  wide: [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    if (box.right <= screen + 0.5 || el.closest('.table-scroll, .scroll')) return false;
    const parent = el.parentElement.getBoundingClientRect();
    return parent.right <= screen + 0.5;  // the outermost: its parent fits
  }).slice(0, 6).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '') +
    ' (' + Math.round(el.getBoundingClientRect().right) + ' px)')
})"""


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_staff_pages_pass_axe_on_a_phone_and_a_desktop(browser, site, device):
    """Every staff page at 375 x 667 and at 1366 x 900: no serious or critical axe finding
    (scroll regions the keyboard cannot reach among them), and on the phone no sideways
    scrolling of the page itself: wide tables scroll inside their own region."""
    audit = Audit(f"staff-{device}")
    overflowing = []

    screen = STAFF_VIEWPORTS[device]["viewport"]["width"]

    def visit(page, name):
        audit(page, name)
        widths = page.evaluate(WIDTHS, screen)
        if widths["page"] > screen:
            overflowing.append(f"{name}: the page is {widths['page']} px wide on a {screen} px "
                               f"screen: {', '.join(widths['wide'])}")
    staff_pages(browser, site, visit, STAFF_VIEWPORTS[device])
    assert len(audit.pages) == 29, audit.pages
    audit.check()
    assert not overflowing, "staff pages scroll sideways:\n" + "\n".join(overflowing)


# --- Staff forms on a phone ------------------------------------------------------------------

FIELDS = """() => [...document.querySelectorAll(
    'main input:not([type=hidden]), main select, main textarea')]
  .filter((el) => el.getClientRects().length).map((el) => {
    const box = el.getBoundingClientRect();
    const hit = el.matches('[type=checkbox], [type=radio]') && el.closest('label')
      ? el.closest('label').getBoundingClientRect() : box;
    return {what: el.tagName.toLowerCase() + '[' + (el.type || '') + '] ' + (el.name || el.id),
            type: el.type, height: box.height, hitWidth: hit.width, hitHeight: hit.height,
            border: getComputedStyle(el).borderTopWidth,
            radius: getComputedStyle(el).borderTopLeftRadius};
  })"""


def test_staff_form_fields_are_large_and_alike_on_a_phone(browser, site):
    """Number, month, date and text inputs, selects and text areas on the staff pages' forms are
    at least 44 px tall on a 375 px phone, with one border and corner; every checkbox and radio
    button is inside a label at least 44 x 44 px (its hit area)."""
    ctx = context(browser, **PHONE)
    page = ctx.new_page()
    sign_in(page, site["base"], "admin@demo.example.org", site["password"])
    page.get_by_role("heading", name=re.compile("^Accounts at")).wait_for()
    small, looks, types = [], set(), set()
    for path in ("/trainer/compare", "/trainer/cohorts/new", "/leadership/pulses",
                 "/leadership/figures", "/leadership/tracker/kotter_6_quick_wins",
                 "/admin/settings", "/admin/staff/new", "/admin/items/new", "/admin/audit",
                 f"/admin/staff/{site['staff']}"):
        page.goto(f"{site['base']}{path}")
        page.wait_for_load_state("load")
        for f in page.evaluate(FIELDS):
            types.add(f["type"])
            if f["type"] in ("checkbox", "radio"):
                if f["hitWidth"] < 43.5 or f["hitHeight"] < 43.5:
                    small.append(f"{path}: {f['what']} can be hit on {f['hitWidth']:.0f} x "
                                 f"{f['hitHeight']:.0f} px")
                continue
            looks.add((f["border"], f["radius"]))
            if f["height"] < 43.5:
                small.append(f"{path}: {f['what']} is {f['height']:.0f} px tall")
    ctx.close()
    assert {"number", "month", "date", "text", "select-one", "checkbox", "file"} <= types, types
    assert not small, "fields too small to tap:\n" + "\n".join(small)
    assert looks == {("2px", "6px")}, looks


def test_the_compare_filter_is_a_form_with_large_targets(browser, site):
    """From and To side by side, the trainer and topic choices, each class a large labelled
    target that ticks when tapped anywhere on it, and one submit button."""
    for device in (PHONE, STAFF_VIEWPORTS["desktop"]):
        ctx = context(browser, **device)
        page = ctx.new_page()
        sign_in(page, site["base"], "admin@demo.example.org", site["password"])
        page.get_by_role("heading", name=re.compile("^Accounts at")).wait_for()
        page.goto(f"{site['base']}/trainer/compare")
        form = page.get_by_role("form", name="Choose classes")
        start = form.get_by_label("From", exact=True).bounding_box()
        end = form.get_by_label("To", exact=True).bounding_box()
        assert abs(start["y"] - end["y"]) < 1 and end["x"] >= start["x"] + start["width"], \
            (start, end)
        assert form.get_by_label("Trainer").is_visible()
        assert form.get_by_label("Topic covered").is_visible()
        assert form.locator("button, input[type=submit]").count() == 1
        picks = form.locator("label.pick")
        assert picks.count() >= 3
        for n in range(picks.count()):
            box = picks.nth(n).bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, box
        first = picks.first
        first.scroll_into_view_if_needed()
        box = first.bounding_box()
        page.mouse.click(box["x"] + box["width"] - 6, box["y"] + box["height"] - 6)  # its corner
        assert first.locator("input").is_checked()
        shot(page, f"staff-compare-filter-{device['viewport']['width']}")
        form.get_by_role("button", name="Compare these classes").click()
        page.wait_for_load_state("load")
        assert "cohort=" in page.url
        ctx.close()


# --- Touch targets --------------------------------------------------------------------------

TARGETS = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, label';
  for (const el of document.querySelectorAll(selector)) {
    if (el.tagName === 'LABEL' && !el.querySelector('input')) continue;  // a caption, not a target
    if (el.matches('input[type=radio], input[type=checkbox]') && el.closest('label')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || box.right <= 0 || box.left >= width) continue;
    const inline = el.tagName === 'A' && style.display === 'inline';
    const parts = inline ? [...el.getClientRects()] : [box];
    const label = el.tagName === 'SELECT' ? el.name : (el.innerText || el.value || el.name || '');
    found.push({what: el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') +
                      ' "' + label.trim().slice(0, 40) + '"',
                inline, width: Math.max(...parts.map((r) => r.width)),
                height: Math.min(...parts.map((r) => r.height))});
  }
  return found;
}"""


def test_touch_targets_on_officer_pages(browser, site):
    """Every interactive element of every officer page, measured on a 375 x 667 phone.

    Buttons, button-like links, form fields and answer options (the whole label, which is the
    tappable area of its radio button) must be at least 44 x 44 CSS px: WCAG 2.5.5 Target Size
    (Enhanced, AAA), the size the survey promises officers on a phone. Inline text links inside
    a sentence must be at least 24 x 24 CSS px (each line of a wrapped link): WCAG 2.2's 2.5.8
    Target Size (Minimum, AA), which exempts such links, but a larger tap area costs nothing.
    The "Skip to content" link is left out while it sits off-screen (it appears on keyboard
    focus, where size is not at stake).
    """
    small = []

    def measure(page, name):
        for t in page.evaluate(TARGETS):
            need = 24 if t["inline"] else 44
            if t["width"] < need - 0.5 or t["height"] < need - 0.5:
                small.append(f"{name}: {t['what']} is {t['width']:.1f} x {t['height']:.1f} px "
                             f"(needs {need} x {need})")
    officer_pages(browser, site, measure)
    assert not small, "touch targets too small on a phone:\n" + "\n".join(small)


# --- The keyboard alone ---------------------------------------------------------------------

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const channels = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
  const luminance = (c) => {
    const [r, g, b] = channels(c).map((v) => v / 255)
      .map((v) => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  let behind = 'rgb(255, 255, 255)';
  for (let n = el.parentElement; n; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor;
    const c = channels(bg);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) { behind = bg; break; }
  }
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 &&
    !(channels(s.outlineColor).length === 4 && channels(s.outlineColor)[3] === 0);
  const shadows = s.boxShadow === 'none' ? [] :
    [...s.boxShadow.matchAll(/rgba?\\([^)]*\\)[^,]*?(-?[\\d.]+px ?){3,4}/g)]
      .filter((m) => !m[0].includes('rgba(0, 0, 0, 0)'));
  const colours = [];
  if (outline) colours.push(s.outlineColor);
  for (const m of shadows) colours.push(m[0].match(/rgba?\\([^)]*\\)/)[0]);
  const opaque = colours.filter((c) => channels(c).length === 3 || channels(c)[3] > 0);
  const label = el.tagName === 'SELECT' ? el.value : (el.innerText || el.value || '');
  return {what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.name ? '[' + el.name + ']' : '') + ' "' + label.trim().slice(0, 30) + '"',
          tag: el.tagName, type: el.type || '', name: el.name || '', id: el.id,
          text: (el.innerText || el.value || '').trim(), outline, shadow: shadows.length > 0,
          contrast: Math.max(0, ...opaque.map((c) => contrast(c, behind)))};
}"""


class Keyboard:
    """Tab, Space, arrows and Enter only, checking the focus indicator at every stop."""

    def __init__(self, page):
        self.page, self.stops, self.invisible = page, 0, []

    def focused(self):
        return self.page.evaluate(FOCUS)

    def tab_to(self, wanted, limit=60):
        """Tabs until `wanted(focused element)` holds; returns that element's description."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            now = self.focused()
            if now is None:
                continue
            self.stops += 1
            if not (now["outline"] or now["shadow"]) or now["contrast"] < 3:
                self.invisible.append(f"{now['what']}: outline {now['outline']}, box-shadow "
                                      f"{now['shadow']}, contrast {now['contrast']:.2f}:1")
            if wanted(now):
                return now
        raise AssertionError(f"Tab never reached the element wanted (last: {now})")


@pytest.fixture
def survey_site(database_url):
    """One agency with an open before-training survey, on SQLite and (when set) PostgreSQL."""
    with fresh_database(database_url) as app:
        with app.app_context():
            wave = make_cohort(make_agency("Keyboard PD")).waves[0]
            facts = {"code": wave.join_code, "wave_id": wave.id}
        with serve(app) as base:
            yield {"app": app, "base": base, **facts}


def test_the_survey_with_the_keyboard_alone_on_a_phone(browser, survey_site):
    app, base, code = survey_site["app"], survey_site["base"], survey_site["code"]
    ctx = context(browser, **PHONE)
    page = ctx.new_page()
    keys = Keyboard(page)
    page.goto(f"{base}/")

    keys.tab_to(lambda e: e["id"] == "code")
    page.keyboard.type(f"{code[:3].lower()} {code[3:].lower()}")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Before you start").wait_for()

    keys.tab_to(lambda e: e["tag"] == "A" and e["text"] == "Continue")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your personal code").wait_for()

    for element in linkage_elements():  # each code question: a few presses of the down arrow
        keys.tab_to(lambda e, name=element.code: e["tag"] == "SELECT" and e["name"] == name)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
    chosen = page.evaluate("[...document.querySelectorAll('form.linkage select')]"
                           ".map((s) => s.value)")
    assert all(chosen), f"the arrow keys did not choose an answer: {chosen}"
    keys.tab_to(lambda e: e["tag"] in ("BUTTON", "INPUT") and e["text"] == "Continue")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your views").wait_for()

    items = current_bank().instrument_items("training")
    wanted = {item.code: 1 + (n % 5) for n, item in enumerate(items)}
    for item in items:
        # Tab enters the statement's group on its first option; Space picks it; each arrow
        # press moves to (and picks) the next option.
        keys.tab_to(lambda e, name=f"q_{item.code}": e["type"] == "radio" and e["name"] == name)
        page.keyboard.press("Space")
        for _ in range(wanted[item.code] - 1):
            page.keyboard.press("ArrowDown")
    assert page.locator("#progress").inner_text() == f"{len(items)} of {len(items)} answered"
    keys.tab_to(lambda e: e["tag"] == "BUTTON" and e["text"] == "Send my answers")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Thank you. Your answers are in.").wait_for()
    ctx.close()

    assert keys.stops >= len(items) + 8
    assert not keys.invisible, ("focus not visible (no outline or box-shadow with 3:1 contrast "
                                "against what is behind it):\n" + "\n".join(keys.invisible))
    in_wave = Response.wave_id == survey_site["wave_id"]
    with app.app_context():
        stored = db.session.execute(
            sa.select(Item.code, Answer.value).join(Item, Item.id == Answer.item_id)
            .join(Response, Response.id == Answer.response_id).where(in_wave)).all()
        responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response)
                                      .where(in_wave))
        linked = db.session.scalar(sa.select(Response.linkage).where(in_wave))
        db.session.remove()
    assert responses == 1
    assert dict(stored) == wanted
    assert linked, "the personal code chosen with the arrow keys was not kept"


# --- The error summary's link, on a phone (issue 17) ---------------------------------------------

LANDED = """(field) => {
  const set = document.getElementById(field);
  const legend = set.querySelector('legend').getBoundingClientRect();
  const active = document.activeElement;
  return {focused: active === set || (set.contains(active) && active.type === 'radio'),
          active: active.tagName + '#' + active.id, top: legend.top, bottom: legend.bottom,
          height: window.innerHeight,
          counts: [...document.querySelectorAll('.progress')].map((p) => p.textContent)};
}"""


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_error_link_lands_on_the_statement_with_its_text_in_view(browser, survey_site,
                                                                    javascript):
    """Miss two statements on a 375 px phone, send, follow each error link: the statement's
    fieldset has focus and its legend (the statement) is on the screen, not above it; the
    count at the top says how many are answered, with or without JavaScript."""
    ctx = context(browser, java_script_enabled=javascript, **PHONE)
    page = ctx.new_page()
    base, code = survey_site["base"], survey_site["code"]
    page.goto(f"{base}/s/{code}")
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Skip this step").click()
    page.get_by_role("heading", name="Your views").wait_for()
    items = current_bank().instrument_items("training")
    missed = [items[11], items[-1]]
    for item in items:
        if item not in missed:
            page.locator(f"label[for='q_{item.code}-{'none' if item is items[3] else 2}']").click()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("2 statements still need an answer").wait_for()
    for item in missed:
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("#error-summary").get_by_role("link", name=item.text).click()
        page.wait_for_function(f"location.hash === '#q_{item.code}'")
        landed = page.evaluate(LANDED, f"q_{item.code}")
        assert landed["focused"], f"focus is on {landed['active']}, not the statement"
        assert 0 <= landed["top"] and landed["bottom"] <= landed["height"], landed
        assert landed["counts"] == ["23 of 25 answered"] * 2, landed["counts"]
    shot(page, f"officer-error-link-{'js' if javascript else 'no-js'}")
    page.locator(f"label[for='q_{missed[0].code}-none']").click()
    if javascript:  # the script keeps both counts up to date
        assert page.evaluate(LANDED, f"q_{missed[0].code}")["counts"] == ["24 of 25 answered"] * 2
    page.locator(f"label[for='q_{missed[1].code}-4']").click()
    with page.expect_navigation(timeout=60000):
        page.get_by_role("button", name="Send my answers").click()
    heading = page.locator("h1").inner_text()
    assert heading == "Thank you. Your answers are in.", (heading, page.url)
    ctx.close()
    with survey_site["app"].app_context():
        kept = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
        db.session.remove()
    assert kept == 23  # 25 statements, two of them "Prefer not to answer"
