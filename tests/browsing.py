"""What the browser tests share: Debian's Chromium through Playwright, a context that cannot
reach anything but 127.0.0.1, the app on a real threaded server, and screenshots.

Chromium comes from Debian (`scripts/ensure-chromium`, run by `make test`), never from a test
tool's download. Without it every browser test is skipped, each saying so in capitals.
"""
from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

#: Marks for a module of browser tests: skipped, loudly, when Chromium is missing.
BROWSER_MARKS = [pytest.mark.browser,
                 pytest.mark.skipif(CHROMIUM is None, reason="CHROMIUM NOT FOUND: install "
                                    "Debian's chromium package (make test does) to run the "
                                    "browser tests")]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def context(browser, **options):
    """A browser context that cannot reach anything but 127.0.0.1."""
    ctx = browser.new_context(**options)

    def only_local(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            return route.continue_()
        return route.abort()
    ctx.route("**/*", only_local)
    return ctx


def sign_in(page, base, email, password):
    """Sign in through the staff sign-in page."""
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()


def console_errors(page) -> list[str]:
    """The console errors the page logs from now on (the list fills as they come)."""
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextmanager
def serve(app):
    """The app on a real threaded server on 127.0.0.1; yields its base address."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def demo_live(tmp_path):
    """The app with the full demo data set on a real server; yields its base address."""
    from survey import demo
    from tests.conftest import fresh_database
    with fresh_database(f"sqlite:///{tmp_path / 'demo.db'}") as app:
        with app.app_context():
            demo.load()
        with serve(app) as base:
            yield base
