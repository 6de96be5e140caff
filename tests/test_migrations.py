"""Migrations own the schema: they build both databases from empty, matching the models."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from survey.extensions import db
from tests.conftest import fresh_database


@pytest.fixture
def empty_app(database_url):
    with fresh_database(database_url, create_tables=False) as app:
        yield app


def test_upgrade_builds_the_schema_the_models_describe(empty_app):
    with empty_app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"agency", "unit", "staff_user", "construct", "item", "instrument",
                "instrument_item", "cohort", "cohort_topic", "wave", "response",
                "answer", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    db.metadata)
        assert diff == []


def test_downgrade_returns_to_empty(empty_app):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_no_production_path_calls_create_all():
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    for path in [*root.joinpath("survey").rglob("*.py"), root / "wsgi.py"]:
        assert "create_all(" not in path.read_text(), path
