"""The README's pictures, drawn from the demo in Debian's Chromium.

    .venv/bin/python scripts/readme_pictures.py

Loads the demo into a temporary SQLite database, serves it on 127.0.0.1, signs in as its leader
and its trainer, and writes docs/dashboard.png (the dashboard's glance and trends), docs/brief.png
(a class's one-page brief), docs/pulse-brief.png (the latest pulse's) and docs/comments.png
(officers' own words).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from survey import create_app, demo  # noqa: E402
from survey.extensions import db  # noqa: E402

DOCS = ROOT / "docs"


def sign_in(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/demo.db",
                      "SECRET_KEY": "pictures", "LINKAGE_SECRET": "pictures",
                      "JOBS_BACKEND": "inline", "SESSION_COOKIE_SECURE": False,
                      "TESTING": True})
    with app.app_context():
        db.create_all()
        demo.load()
        from survey.models import Cohort
        cohort = db.session.scalars(db.select(Cohort).order_by(Cohort.held_on)).first().id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(viewport={"width": 1100, "height": 1500}).new_page()
            sign_in(page, base, "leader@demo.example.org")
            page.goto(f"{base}/leadership/")
            page.locator("#chart-trends.chart-live svg").wait_for(timeout=30000)
            page.screenshot(path=str(DOCS / "dashboard.png"))
            page.locator("section[aria-labelledby=own-words]").screenshot(
                path=str(DOCS / "comments.png"))
            page.goto(f"{base}/leadership/brief")
            page.locator("article.brief").screenshot(path=str(DOCS / "pulse-brief.png"))
            page.goto(f"{base}/auth/login")
            page.context.clear_cookies()
            sign_in(page, base, "trainer@demo.example.org")
            page.goto(f"{base}/trainer/cohorts/{cohort}/brief")
            page.locator("article.brief").screenshot(path=str(DOCS / "brief.png"))
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    print("wrote", ", ".join(sorted(p.name for p in DOCS.glob("*.png"))))


if __name__ == "__main__":
    main()
