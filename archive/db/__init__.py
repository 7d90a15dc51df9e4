"""Storage: models, engine and session factory, migrations and query functions."""
