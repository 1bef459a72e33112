"""Alembic environment: always handed a connection already inside a write transaction."""

from __future__ import annotations

from alembic import context

from agentkanban.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
