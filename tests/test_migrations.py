"""The models and the migrations agree (no drift), on SQLite and PostgreSQL."""

from alembic import command
from sqlalchemy import create_engine, inspect

from archive.db import migrate


def test_no_drift_between_models_and_migrations(db_url):
    command.check(migrate.alembic_config(db_url))


def test_schema_has_the_tables(db_url):
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"articles", "raw_documents", "band_keys", "clusters", "cluster_members", "ingest_runs",
            "rejected_inputs", "sources"} <= names
