"""Configuration: safe by default, from the environment, and air-gapped."""
import re
from pathlib import Path

import pytest

from survey import create_app

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("LINKAGE_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError, match="LINKAGE_SECRET"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("LINKAGE_SECRET", "linkage-from-env")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/x.db"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024


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
