"""Alembic migrations of the store, shipped inside the package (run by ``aegis db upgrade``)."""
