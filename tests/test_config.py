"""Configuration: safe by default, from the environment, and air-gapped.

Production (the default environment) refuses unsafe settings at start-up, in one line: in the
factory, and in gunicorn's start-up hook, which alone knows the number of workers.
"""
import os
import re
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from survey import create_app
from survey.config import ConfigError
from survey.extensions import db
from tests.conftest import make_app
from tests.servers import PRODUCTION, SETTINGS, Browser, free_port, gunicorn, gunicorn_exit

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "a-long-random-secret-from-the-secrets-store-0123456789"


@pytest.fixture
def bare_environment(monkeypatch):
    """No setting from the environment of whoever runs the tests."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_secrets(bare_environment):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError, match="LINKAGE_SECRET"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": GOOD_SECRET})


@pytest.mark.parametrize("environment, reason", [
    ({"SECRET_KEY": "changeme"}, "SECRET_KEY is a well-known placeholder, not a secret"),
    ({"SECRET_KEY": "development-only"}, "SECRET_KEY is a well-known placeholder"),
    ({"SECRET_KEY": "x" * 31}, "SECRET_KEY is shorter than 32 characters"),
    ({"LINKAGE_SECRET": "development-only-linkage"}, "LINKAGE_SECRET is a well-known placeholder"),
    ({"SESSION_COOKIE_SECURE": "0"},
     "SESSION_COOKIE_SECURE is off, but production cookies must be HTTPS-only"),
    ({"FLASK_DEBUG": "1"}, "FLASK_DEBUG is on"),
    ({"SURVEY_ENV": "staging"}, "SURVEY_ENV must be 'production' or 'development', not 'staging'"),
    ({"TRUSTED_PROXIES": "nginx"}, "TRUSTED_PROXIES must be a whole number"),
])
def test_production_refuses_unsafe_settings_in_one_line(bare_environment, environment, reason):
    for name, value in {"SECRET_KEY": GOOD_SECRET, "LINKAGE_SECRET": GOOD_SECRET[::-1],
                        **environment}.items():
        bare_environment.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    message = str(refused.value)
    assert reason in message and "\n" not in message
    assert GOOD_SECRET not in message and "changeme" not in message  # never echo a secret


def test_production_starts_with_safe_settings(bare_environment):
    bare_environment.setenv("SECRET_KEY", GOOD_SECRET)
    bare_environment.setenv("LINKAGE_SECRET", GOOD_SECRET[::-1])
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SURVEY_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_runs_with_weak_settings_on_plain_http(bare_environment):
    """`make run`: SQLite, plain http on 127.0.0.1; secrets default to development values."""
    bare_environment.setenv("SURVEY_ENV", "development")
    bare_environment.setenv("SESSION_COOKIE_SECURE", "0")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SURVEY_ENV"] == "development"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["REMEMBER_COOKIE_SECURE"] is False
    assert app.config["SECRET_KEY"] == "development-only"


def test_settings_come_from_the_environment(bare_environment, tmp_path):
    bare_environment.setenv("SECRET_KEY", GOOD_SECRET)
    bare_environment.setenv("LINKAGE_SECRET", GOOD_SECRET[::-1])
    bare_environment.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    bare_environment.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    bare_environment.setenv("TRUSTED_PROXIES", "1")
    app = create_app()
    assert app.config["SECRET_KEY"] == GOOD_SECRET
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/x.db"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert app.config["TRUSTED_PROXIES"] == "1"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024


def test_postgresql_connections_give_up_within_seconds(bare_environment):
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1/x"})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 5}
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


# --- Refused for real: gunicorn and the flask command in their own processes ----------------

def _production(**environment):
    return {**PRODUCTION, "DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/db",
            "REDIS_URL": "redis://127.0.0.1:6379/15", "WEB_CONCURRENCY": "2", **environment}


@pytest.mark.slow
@pytest.mark.parametrize("environment, reason", [
    (_production(SECRET_KEY="changeme"), "SECRET_KEY is a well-known placeholder, not a secret"),
    (_production(SECRET_KEY="short"), "SECRET_KEY is shorter than 32 characters"),
    (_production(SECRET_KEY=""), "SECRET_KEY is not set"),
    (_production(SESSION_COOKIE_SECURE="0"),
     "SESSION_COOKIE_SECURE is off, but production cookies must be HTTPS-only"),
    (_production(DATABASE_URL="sqlite:////tmp/survey-refused.db"),
     "SQLite cannot serve 2 workers: set DATABASE_URL to PostgreSQL, or run one worker "
     "(WEB_CONCURRENCY=1)"),
    (_production(REDIS_URL=""),
     "rate limits kept in memory would be counted apart by each of 2 workers: set REDIS_URL"),
], ids=["placeholder-secret", "short-secret", "no-secret", "insecure-cookies",
        "sqlite-2-workers", "memory-limits-2-workers"])
def test_gunicorn_refuses_production_misconfiguration_in_one_line(environment, reason):
    ran = gunicorn_exit(environment)
    assert ran.returncode != 0, ran.stderr
    said = [line for line in (ran.stdout + ran.stderr).splitlines()
            if line.strip() and not line.startswith("{")]  # "{": gunicorn's own JSON lines
    assert said == [f"Error: refusing to start in production: {reason}"], said
    assert "Traceback" not in ran.stderr and "Booting worker" not in ran.stdout + ran.stderr


@pytest.mark.slow
def test_gunicorn_names_every_problem_in_the_same_line():
    ran = gunicorn_exit(_production(SECRET_KEY="changeme", DATABASE_URL="", REDIS_URL="",
                                    WEB_CONCURRENCY="3"))
    said = [line for line in ran.stderr.splitlines() if line.startswith("Error:")]
    assert ran.returncode == 1 and len(said) == 1
    for reason in ("SECRET_KEY is a well-known placeholder", "SQLite cannot serve 3 workers",
                   "counted apart by each of 3 workers"):
        assert reason in said[0]


@pytest.mark.slow
def test_the_flask_command_refuses_production_misconfiguration(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(_production(SESSION_COOKIE_SECURE="0", DATABASE_URL=f"sqlite:///{tmp_path}/x.db"),
               FLASK_APP="wsgi")
    ran = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [
        "Error: refusing to start in production: SESSION_COOKIE_SECURE is off, but production "
        "cookies must be HTTPS-only"]
    assert not (tmp_path / "x.db").exists()


@pytest.mark.slow
def test_production_serves_sqlite_with_one_worker_and_limits_in_memory(tmp_path):
    """One worker on one host: nothing to share, so SQLite and in-memory counters are allowed."""
    port = free_port()
    with gunicorn(f"sqlite:///{tmp_path / 'one.db'}", port, workers=1,
                  **{**PRODUCTION, "REDIS_URL": ""}):
        status, _, body = Browser(port).request("GET", "/healthz")
    assert status == 200 and body.strip() == '{"database":"ok"}'


@contextmanager
def another_app(database_url, **config):
    """A second app on the test's database, its connections closed afterwards."""
    app = make_app(database_url, RATELIMIT_KEY_PREFIX=uuid.uuid4().hex, **config)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def test_behind_a_proxy_rate_limits_count_each_client_apart(app, database_url):
    """TRUSTED_PROXIES=1: the address nginx saw (X-Forwarded-For) tells clients apart."""
    with another_app(database_url, TRUSTED_PROXIES="1") as proxied:
        client = proxied.test_client()
        one, two = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
        assert {client.get("/s/QQQ777", headers=one).status_code for _ in range(20)} == {404}
        assert client.get("/s/QQQ777", headers=one).status_code == 429
        assert client.get("/s/QQQ777", headers=two).status_code == 404


def test_without_trusted_proxies_a_forged_forwarded_header_evades_no_limit(app, database_url):
    with another_app(database_url) as direct:
        client = direct.test_client()
        statuses = [client.get("/s/QQQ777", headers={"X-Forwarded-For": f"198.51.100.{n}"})
                    .status_code for n in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/survey.db")


def test_templates_live_at_the_top_level():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert Path(app.template_folder) == ROOT / "templates"


def test_no_asset_is_loaded_from_another_site():
    remote = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.I)
    files = [*ROOT.joinpath("templates").rglob("*.html"),
             *ROOT.joinpath("survey", "static").rglob("*")]
    assert files
    for path in files:
        if path.is_file():
            text = path.read_text()
            assert not remote.search(text), path
            assert "@import url(http" not in text and "fonts.googleapis" not in text, path


def test_every_page_is_served_with_a_strict_content_security_policy(client, setup):
    for path in ("/", "/privacy", "/auth/login", f"/s/{setup['pre']}"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


def test_pages_reference_only_static_files_that_exist(client, setup):
    for path in ("/", f"/s/{setup['pre']}", "/auth/login"):
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', client.get(path).text):
            with client.get(asset) as reply:
                assert reply.status_code == 200, asset
