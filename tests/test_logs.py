"""Structured logs, read from a real gunicorn's output: one JSON object per line, nothing about
respondents (no line for their routes), no client address and no user agent anywhere."""
import http.client
import json
import socket

import pytest

from tests.servers import PRODUCTION, free_port, gunicorn

pytestmark = pytest.mark.slow
AGENT = "Officer-Phone-Agent/9.9"


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"User-Agent": AGENT, "Referer": "http://example.org/"})
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def test_gunicorn_writes_json_lines_without_respondents_addresses_or_agents(tmp_path):
    """The database is a PostgreSQL port nothing listens on, so /healthz answers 503 and the
    survey's own error line is written too."""
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/survey"
    port = free_port()
    with open(tmp_path / "gunicorn.log", "w") as log, \
            gunicorn(dead, port, workers=2, log=log, **{**PRODUCTION, "REDIS_URL":
                                                       "redis://127.0.0.1:6379/15"}):
        assert get(port, "/auth/login") == 200
        assert get(port, "/healthz") == 503
        assert get(port, "/trainer/cohorts/12") == 302  # to the sign-in page
        assert get(port, "/") == 200
        assert get(port, "/s/ACD347") == 503
        assert get(port, "/static/css/app.css") == 200
        assert get(port, "/privacy") == 200
        assert get(port, "/auth/welcome/one-time-secret-token") == 500  # database down
        with socket.create_connection(("127.0.0.1", port)) as raw:  # a malformed request
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            raw.recv(1024)
    text = (tmp_path / "gunicorn.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # JSON, each
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines), lines
    assert all(line["time"].endswith("Z") for line in lines)

    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    by_path = {line["path"]: line for line in access}
    assert set(by_path) == {"/auth/login", "/healthz", "/trainer/cohorts/12",
                            "/auth/welcome/-"}, access
    assert by_path["/healthz"]["status"] == 503
    assert by_path["/trainer/cohorts/12"]["route"] == "/trainer/cohorts/<int:cohort_id>"
    for line in access:
        assert set(line) == {"time", "level", "logger", "message", "method", "path", "route",
                             "status", "duration_ms"}
        assert line["method"] == "GET" and isinstance(line["duration_ms"], float)

    app = [line for line in lines if line["logger"] == "survey"]
    assert [line["message"] for line in app] == ["database unreachable on a respondent page",
                                                 "Exception on /auth/welcome/- [GET]"]
    assert any("Invalid request from ip=-:" in line["message"] for line in lines), lines

    for line in lines:
        said = json.dumps(line)
        assert AGENT not in said and "example.org" not in said
        assert "one-time-secret-token" not in said  # a password link's token is never kept
        assert "/s/" not in said and "/static/" not in said and "/privacy" not in said
        if "127.0.0.1" in said:  # only where gunicorn listens, or the database server's address
            assert (line["logger"] == "gunicorn.error" and "Listening at" in line["message"]) \
                or "connection to server at" in said
