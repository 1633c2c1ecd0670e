"""Alembic migrations of the metadata store (a package so that it ships in the wheel)."""
