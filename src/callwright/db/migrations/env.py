"""Alembic environment: runs on the connection handed over by callwright.db.migrate."""

from __future__ import annotations

from alembic import context

from callwright.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `callwright migrate` (callwright.db.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
