"""The real servers: their access logs carry no client address and nothing for respondent routes."""
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.request

import pytest
from werkzeug.serving import make_server

from tests.servers import ROOT, SECRET, free_port, gunicorn




def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            reply.read()  # let the server finish writing, so it closes what it sent
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def test_development_server_logs_no_respondent_line_and_no_address(app, setup, caplog):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            assert _get(f"{base}/") == 200
            assert _get(f"{base}/s/{setup['pre']}") == 200
            assert _get(f"{base}/static/css/app.css") == 200
            assert _get(f"{base}/auth/login") == 200
    finally:
        server.shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/auth/login" in line for line in lines), lines
    for line in lines:
        assert "127.0.0.1" not in line
        assert "/s/" not in line and "/static/" not in line and '"GET / ' not in line


@pytest.mark.slow
def test_gunicorn_serves_a_migrated_database_and_keeps_respondents_out_of_its_log(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET,
           "LINKAGE_SECRET": "test-linkage-secret", "FLASK_APP": "wsgi",
           "SURVEY_ENV": "development"}
    env.pop("FLASK_DEBUG", None)
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    demo = subprocess.run([*flask, "demo"], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    code = re.search(r"/s/([A-Z0-9]{6})", demo.stdout).group(1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "gunicorn.log", "w") as log, gunicorn(url, port, workers=2, log=log):
        assert _get(f"{base}/auth/login") == 200
        assert _get(f"{base}/") == 200
        assert _get(f"{base}/s/{code}") == 200
        assert _get(f"{base}/s/{code}/questions") in (200, 302)
    text = (tmp_path / "gunicorn.log").read_text()
    access = [line for line in text.splitlines() if '"GET ' in line or '"POST ' in line]
    assert any("/auth/login" in line for line in access), text
    assert "127.0.0.1 -" not in text and "Mozilla" not in text and "Python-urllib" not in text
    assert not [line for line in access if "/s/" in line or '"GET / ' in line], access
