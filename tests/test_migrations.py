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


def _physical_order_is_random(app):
    """On SQLite, the respondent tables must stay WITHOUT ROWID through every migration."""
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        for table in ("response", "answer"):
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = :t"),
                               {"t": table}).scalar_one()
            assert "WITHOUT ROWID" in sql.upper(), table


def test_respondent_tables_keep_no_rowid_after_every_migration(empty_app):
    with empty_app.app_context():
        upgrade()
        _physical_order_is_random(empty_app)
        downgrade(revision="e2ac824284f1")
        _physical_order_is_random(empty_app)


def test_upgrade_and_downgrade_keep_existing_data(empty_app):
    """A database holding agencies and responses upgrades, and downgrades, with its rows intact."""
    import datetime as dt
    import uuid
    with empty_app.app_context():
        upgrade(revision="e2ac824284f1")
        key = uuid.uuid4()
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO agency (id, name, timezone, min_group_size, "
                "min_comment_group_size, ask_linkage, linkage_salt, created_at) VALUES "
                "(1, 'Old PD', 'UTC', 5, 10, :t, 'salt', :now), "
                "(2, 'Older PD', 'UTC', 7, 10, :t, 'salt2', :now)"),
                {"t": True, "now": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)})
            conn.execute(sa.text(
                "INSERT INTO instrument (id, key, version, title, bank_version, published_at) "
                "VALUES (1, 'training', 1, 'T', '1', :now)"),
                {"now": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)})
            conn.execute(sa.text(
                "INSERT INTO wave (id, agency_id, kind, instrument_id, join_code) "
                "VALUES (1, 1, 'pulse', 1, 'ACDEFG')"))
            conn.execute(sa.text(
                "INSERT INTO response (id, wave_id, submitted_on) VALUES (:id, 1, :day)"),
                {"id": key.hex if db.engine.dialect.name == "sqlite" else key,
                 "day": dt.date(2026, 1, 2)})
        upgrade()
        from survey.models import Agency, Response
        agencies = db.session.scalars(sa.select(Agency).order_by(Agency.id)).all()
        assert [a.name for a in agencies] == ["Old PD", "Older PD"]
        assert agencies[1].min_group_size == 7
        assert agencies[0].shifts == ["Days", "Evenings", "Nights"]
        assert len({a.results_token for a in agencies}) == 2
        response = db.session.scalars(sa.select(Response)).one()
        assert response.id == key and response.unit_id is None
        db.session.remove()
        downgrade(revision="e2ac824284f1")  # and back down, still holding the same rows
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name, min_group_size FROM agency ORDER BY id")
                                ).all() == [("Old PD", 5), ("Older PD", 7)]
            assert conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one() == 1
            assert "shift" not in {c["name"] for c in sa.inspect(conn).get_columns("response")}
