"""Migrations own the schema: they build both databases from empty, matching the models."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from survey.extensions import db
from tests.conftest import _drop_alembic_version, make_app


@pytest.fixture
def empty_app(database_url):
    app = make_app(database_url)
    with app.app_context():
        db.drop_all()
        _drop_alembic_version()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        _drop_alembic_version()
        db.engine.dispose()


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
