"""Counts kept beside the tasks: per board, the tasks in each status and the non-archived tasks
carrying each label, maintained by triggers on ``tasks`` so that every write (from any path, a
bulk insert or a cascade) keeps them exact. The dashboard reads its column and label counts from
here instead of counting the board's rows.

On PostgreSQL each transaction adds to its own slice (``shard``: the server process's id modulo
16), so concurrent writers of one board rarely wait on the same row; a count is the sum of the
slices. A later migration that rebuilds ``tasks`` with ``batch_alter_table`` on SQLite drops
these triggers and must create them again (``create_triggers``).

Revision ID: 0006_tallies
Revises: 0005_progress
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_tallies'
down_revision = '0005_progress'
branch_labels = None
depends_on = None

_CHANGED = ("OLD.board IS DISTINCT FROM NEW.board OR OLD.status IS DISTINCT FROM NEW.status "
            "OR OLD.labels IS DISTINCT FROM NEW.labels")

_SQLITE_ADD = """
    INSERT INTO tallies (board, kind, name, shard, n) VALUES ({r}.board, 'status', {r}.status, 0, {d})
        ON CONFLICT (board, kind, name, shard) DO UPDATE SET n = n + excluded.n;
    INSERT INTO tallies (board, kind, name, shard, n)
        SELECT {r}.board, 'label', j.value, 0, {d} FROM json_each({r}.labels) AS j
        WHERE {r}.labels IS NOT NULL AND {r}.status <> 'archived'
        ON CONFLICT (board, kind, name, shard) DO UPDATE SET n = n + excluded.n;"""

_SQLITE = [
    "CREATE TRIGGER tally_tasks_insert AFTER INSERT ON tasks BEGIN"
    + _SQLITE_ADD.format(r="NEW", d=1) + "\nEND",
    "CREATE TRIGGER tally_tasks_delete AFTER DELETE ON tasks BEGIN"
    + _SQLITE_ADD.format(r="OLD", d=-1) + "\nEND",
    "CREATE TRIGGER tally_tasks_update AFTER UPDATE OF board, status, labels ON tasks "
    f"WHEN {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN"
    + _SQLITE_ADD.format(r="OLD", d=-1) + _SQLITE_ADD.format(r="NEW", d=1) + "\nEND",
]

# One PL/pgSQL function (its statements' plans are cached per connection; an SQL-language helper
# would be planned again at every call). The usual change, a status change on one board, is one
# statement over two rows in name order; the labels' counts are touched only when the labels,
# the board or whether the task is archived changed.
_UPSERT = ("INSERT INTO tallies (board, kind, name, shard, n) {rows} "
           "ON CONFLICT (board, kind, name, shard) DO UPDATE SET n = tallies.n + excluded.n;")
_LABELS = _UPSERT.format(rows="SELECT {r}.board, 'label', l.name, s, {d} FROM "
                              "json_array_elements_text({r}.labels::json) AS l(name) ORDER BY l.name")
_POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION kanban_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        s integer := pg_backend_pid() % 16;
        labels_too boolean := TG_OP <> 'UPDATE' OR OLD.board IS DISTINCT FROM NEW.board
            OR OLD.labels IS DISTINCT FROM NEW.labels
            OR (OLD.status = 'archived') <> (NEW.status = 'archived');
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.board = NEW.board AND OLD.status <> NEW.status THEN
            {_UPSERT.format(rows="VALUES (NEW.board, 'status', LEAST(OLD.status, NEW.status), s, "
                                 "CASE WHEN OLD.status < NEW.status THEN -1 ELSE 1 END), "
                                 "(NEW.board, 'status', GREATEST(OLD.status, NEW.status), s, "
                                 "CASE WHEN OLD.status < NEW.status THEN 1 ELSE -1 END)")}
        ELSE
            IF TG_OP <> 'INSERT' THEN
                {_UPSERT.format(rows="VALUES (OLD.board, 'status', OLD.status, s, -1)")}
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_UPSERT.format(rows="VALUES (NEW.board, 'status', NEW.status, s, 1)")}
            END IF;
        END IF;
        IF labels_too THEN
            IF TG_OP <> 'INSERT' AND OLD.labels IS NOT NULL AND OLD.status <> 'archived' THEN
                {_LABELS.format(r="OLD", d=-1)}
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.labels IS NOT NULL AND NEW.status <> 'archived' THEN
                {_LABELS.format(r="NEW", d=1)}
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER tally_tasks_insert AFTER INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION kanban_tally()",
    "CREATE TRIGGER tally_tasks_delete AFTER DELETE ON tasks FOR EACH ROW EXECUTE FUNCTION kanban_tally()",
    "CREATE TRIGGER tally_tasks_update AFTER UPDATE OF board, status, labels ON tasks FOR EACH ROW "
    f"WHEN ({_CHANGED}) EXECUTE FUNCTION kanban_tally()",
]

_FILL = {
    "sqlite": [
        "INSERT INTO tallies (board, kind, name, shard, n) "
        "SELECT board, 'status', status, 0, count(*) FROM tasks GROUP BY board, status",
        "INSERT INTO tallies (board, kind, name, shard, n) "
        "SELECT t.board, 'label', j.value, 0, count(*) FROM tasks AS t, json_each(t.labels) AS j "
        "WHERE t.labels IS NOT NULL AND t.status <> 'archived' GROUP BY t.board, j.value",
    ],
    "postgresql": [
        "INSERT INTO tallies (board, kind, name, shard, n) "
        "SELECT board, 'status', status, 0, count(*) FROM tasks GROUP BY board, status",
        "INSERT INTO tallies (board, kind, name, shard, n) "
        "SELECT t.board, 'label', l.name, 0, count(*) FROM tasks AS t, "
        "json_array_elements_text(t.labels::json) AS l(name) "
        "WHERE t.labels IS NOT NULL AND t.status <> 'archived' GROUP BY t.board, l.name",
    ],
}


def create_triggers() -> None:
    for stmt in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(stmt)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect != "sqlite":
        # No task changes between the first count and the triggers taking over.
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        'tallies',
        sa.Column('board', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('shard', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('board', 'kind', 'name', 'shard', name=op.f('pk_tallies')),
    )
    for stmt in _FILL[dialect]:
        op.execute(stmt)
    create_triggers()


def downgrade() -> None:
    for name in ("tally_tasks_insert", "tally_tasks_delete", "tally_tasks_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if op.get_bind().dialect.name == "sqlite"
                                                        else " ON tasks"))
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS kanban_tally()")
    op.drop_table('tallies')
