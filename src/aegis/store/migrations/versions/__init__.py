"""Alembic revisions; each file is one schema version, applied in order, never edited."""
