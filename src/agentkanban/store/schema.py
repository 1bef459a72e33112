"""SQLAlchemy Core tables: the single source of the schema (migrations must match it)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

boards = Table(
    "boards",
    metadata,
    Column("slug", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("icon", Text, nullable=False, server_default=""),
    Column("color", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
    Column("archived_at", Float),
    Column("default_workdir", Text),
    Column("default_workspace_kind", String(16)),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("board", String(64), ForeignKey("boards.slug", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text),
    Column("assignee", String(128)),
    Column("status", String(16), nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("tenant", String(128)),
    Column("created_by", String(128)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("started_at", Float),
    Column("completed_at", Float),
    Column("workspace_kind", String(16), nullable=False, server_default="scratch"),
    Column("workspace_path", Text),
    Column("idempotency_key", String(256)),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("last_failure_error", Text),
    Column("max_runtime_seconds", Integer),
    Column("max_retries", Integer),
    Column("last_heartbeat_at", Float),
    Column("current_run_id", BigInteger),
    Column("worker_pid", Integer),
    Column("claim_lock", String(256)),
    Column("claim_expires", Float),
    Column("skills", Text),  # JSON array
    Column("result", Text),
    Column("goal_mode", Integer, nullable=False, server_default="0"),
    Column("goal_max_turns", Integer),
    Column("scheduled_at", Float),
    Column("review_by", String(128)),
    Column("review_max_rounds", Integer),
    Column("review_rounds", Integer, nullable=False, server_default="0"),
    Column("review_stage", String(16)),
    Column("requires_approval", Integer, nullable=False, server_default="0"),
    Column("approval", String(16)),
    Column("labels", Text),  # JSON array of label names, sorted
    Column("due_at", Float),
    Index("ix_tasks_board_status_order", "board", "status", "priority", "created_at"),
    # The dashboard's paged board reads a column's page as one index range, in the column's
    # order, and stops at the page's end (store/board_page.py): newest first for done and
    # archived; by priority then age (ix_tasks_board_status_page, below) for the others.
    Index("ix_tasks_board_status_recent", "board", "status", "updated_at", "id"),
    Index("ix_tasks_board_assignee", "board", "assignee", "status"),
    Index("ix_tasks_board_tenant", "board", "tenant"),
    # The database, not a check-then-insert, makes a concurrent double create return one task.
    # Archived tasks free their key: the index is partial (PARTIAL_INDEXES below).
    _idempotency := Index("uq_tasks_board_idempotency", "board", "idempotency_key", unique=True),
)

Index("ix_tasks_board_status_page", tasks.c.board, tasks.c.status, tasks.c.priority.desc(),
      tasks.c.created_at, tasks.c.id)

task_links = Table(
    "task_links",
    metadata,
    Column("parent_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("child_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_task_links_child", "child_id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_comments_task", "task_id", "id"),
    sqlite_autoincrement=True,
)

runs = Table(
    "runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("board", String(64), nullable=False),
    Column("profile", String(128)),
    Column("status", String(32), nullable=False),
    Column("claim_lock", String(256)),
    Column("token_hash", String(64)),  # sha256 of the worker's fencing token; the token is never stored
    Column("claim_expires", Float),
    Column("worker_pid", Integer),
    Column("max_runtime_seconds", Integer),
    Column("last_heartbeat_at", Float),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("outcome", String(32)),
    Column("summary", Text),
    Column("metadata", Text),  # JSON object
    Column("error", Text),
    Column("kind", String(16), nullable=False, server_default="work"),  # work, review, acceptance, approval
    Index("ix_runs_task", "task_id", "id"),
    Index("ix_runs_board_status", "board", "status"),
    Index("ix_runs_profile_outcome", "profile", "outcome", "ended_at"),
    sqlite_autoincrement=True,
)

# Append-only; ``id`` is the global cursor for the WebSocket, ``watch`` and the notifier.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("board", String(64), nullable=False),
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", BigInteger),
    Column("kind", String(48), nullable=False),
    Column("payload", Text),  # JSON or NULL
    Column("created_at", Float, nullable=False),
    Index("ix_events_board_id", "board", "id"),
    Index("ix_events_task_id", "task_id", "id"),
    sqlite_autoincrement=True,
)

notify_subs = Table(
    "notify_subs",
    metadata,
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("platform", String(32), primary_key=True),
    Column("chat_id", String(256), primary_key=True),
    Column("thread_id", String(256), primary_key=True, server_default=""),
    Column("user_id", String(256)),
    Column("created_at", Float, nullable=False),
)

# One row per (event, destination) owed a message; written in the event's own transaction.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("board", String(64), nullable=False),
    Column("task_id", String(16), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("chat_id", String(256), nullable=False),
    Column("thread_id", String(256), nullable=False, server_default=""),
    # pending | sending | sent | failed. ``sending`` marks an attempt in flight: its
    # ``next_attempt_at`` is then the lease expiry after which another notifier may resend it.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", Text),
    Column("sent_at", Float),
    Column("created_at", Float, nullable=False),
    Column("message_id", String(256)),  # the platform's id for the message it posted
    UniqueConstraint("event_id", "platform", "chat_id", "thread_id"),
    Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    # Per-destination ordering: "is an earlier delivery to this chat still unfinished?"
    Index("ix_deliveries_destination", "platform", "chat_id", "thread_id", "id"),
    sqlite_autoincrement=True,
)

# Files attached to a task; the bytes live in the attachment store, named by ``stored_name``.
attachments = Table(
    "attachments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("board", String(64), nullable=False),
    Column("filename", Text, nullable=False),
    Column("stored_name", String(128), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_attachments_task", "task_id", "id"),
    sqlite_autoincrement=True,
)

# What a person wrote about a worker profile (what an orchestrator reads to route work).
profile_notes = Table(
    "profile_notes",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("description", Text),
    Column("description_auto", Text),
    Column("updated_at", Float, nullable=False),
)

# Small named values shared between processes (the dispatcher's last tick, ...).
# A label's colour when someone chose one; otherwise it is derived from the name (services.labels).
label_colors = Table(
    "label_colors",
    metadata,
    Column("board", String(64), ForeignKey("boards.slug", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("color", String(16), nullable=False),
)

# Per board, the tasks in each status (kind "status") and the non-archived tasks carrying each
# label (kind "label"), kept exact by triggers on ``tasks`` (migration 0006_tallies); a count is
# the sum over its slices (``shard``), one per writing process on PostgreSQL.
tallies = Table(
    "tallies",
    metadata,
    Column("board", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)

# Remote runners (``kanban runner``): one row per runner token; only the token's hash is kept.
# ``allowed_*`` are the token's limits (NULL: any); ``labels``/``profiles`` what the runner
# announced when it last registered.
runners = Table(
    "runners",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("allowed_profiles", Text),  # JSON array
    Column("allowed_labels", Text),  # JSON array
    Column("labels", Text),  # JSON array
    Column("profiles", Text),  # JSON array
    Column("capacity", Integer, nullable=False, server_default="1"),
    Column("version", String(64)),
    Column("host", String(255)),
    Column("created_at", Float, nullable=False),
    Column("registered_at", Float),
    Column("last_seen_at", Float),
    Column("revoked_at", Float),
    Index("ux_runners_token", "token_hash", unique=True),
)

# The labels a task requires of the runner that takes it (``runs_on``), beside its profile's.
task_runs_on = Table(
    "task_runs_on",
    metadata,
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("labels", Text, nullable=False),  # JSON array
)

kv = Table(
    "kv",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


# Recurring work: each occurrence of ``cron`` (in ``tz``) creates one task from ``template``.
# ``last_occurrence`` is the cursor every dispatcher advances with a compare-and-set.
schedules = Table(
    "schedules",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("board", String(64), ForeignKey("boards.slug", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("cron", String(128), nullable=False),
    Column("tz", String(64), nullable=False, server_default="UTC"),
    Column("catch_up", String(16), nullable=False, server_default="latest"),
    Column("skip_if_open", Integer, nullable=False, server_default="0"),
    Column("template", Text, nullable=False),  # JSON: the create options of each task
    Column("paused", Integer, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("last_occurrence", Float),
    Column("next_at", Float),
    Column("last_task_id", String(16)),
    Column("skipped", Integer, nullable=False, server_default="0"),
    Index("ix_schedules_next", "paused", "next_at"),
)

# What an attempt left for the next one: its last checkpoint, its agent's session, its log tail.
run_state = Table(
    "run_state",
    metadata,
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("checkpoint_note", Text),
    Column("checkpoint_data", Text),  # JSON
    Column("checkpoint_at", Float),
    Column("progress_done", Integer),  # the worker's last reported progress: done of total
    Column("progress_total", Integer),
    Column("session_id", String(256)),
    Column("workspace", Text),  # where the worker ran, to know whether a session can resume there
    Column("resumed_from", String(256)),  # the session this attempt resumed, if any
    Column("launch_note", Text),  # why it did not resume, when it could have
    Column("usage_from", String(32)),  # the parser to settle the log with once the worker is gone
    Column("settled_at", Float),  # when the log was read (tail kept, usage parsed)
    Column("log_tail", Text),
    Index("ix_run_state_task", "task_id"),
    Index("ix_run_state_unsettled", "settled_at"),
)

# The usage ledger: one row per report (the CLI, MCP, or the parsed worker log); never updated.
usage = Table(
    "usage",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, nullable=False),
    # No foreign key: money spent stays spent when a task is deleted (budgets keep counting it).
    Column("task_id", String(16), nullable=False),
    Column("board", String(64), nullable=False),
    Column("profile", String(128)),
    Column("day", String(10), nullable=False),  # UTC YYYY-MM-DD of the report
    Column("model", String(128)),
    Column("source", String(32), nullable=False),  # cli | mcp | api | claude-json | codex-json
    Column("input_tokens", BigInteger, nullable=False, server_default="0"),
    Column("output_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_read_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_write_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cost_usd", Float, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    Index("ix_usage_task", "task_id"),
    Index("ix_usage_run", "run_id"),
    Index("ix_usage_day_profile", "day", "profile"),
    Index("ix_usage_day_board", "day", "board"),
    sqlite_autoincrement=True,
)

# The ledger summed per UTC day, board and profile, kept in the same transaction as each report:
# the dispatcher reads a month of it on every pass (a few hundred rows, whatever the ledger size).
usage_daily = Table(
    "usage_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("board", String(64), primary_key=True),
    Column("profile", String(128), primary_key=True),  # "" when the attempt had none
    Column("input_tokens", BigInteger, nullable=False, server_default="0"),
    Column("output_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_read_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_write_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cost_usd", Float, nullable=False, server_default="0"),
    Column("reports", Integer, nullable=False, server_default="0"),
)

# Per-task spending limit (kept apart from ``tasks`` so the hot task row stays as it is).
task_limits = Table(
    "task_limits",
    metadata,
    Column("task_id", String(16), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("max_cost_usd", Float, nullable=False),
)

# Partial indexes and their WHERE. SQLAlchemy spells that per backend (``sqlite_where=``,
# ``postgresql_where=``) and imports a dialect to check an option named after it, so spelling both
# on the Index would load the PostgreSQL dialect into every SQLite process (~25 ms of each `kanban`
# command). use_dialect() adds the one a store needs when the store is opened. The migrations spell
# out both, and a test checks that the database's index is partial on each backend.
PARTIAL_INDEXES: dict[Index, str] = {
    _idempotency: "idempotency_key IS NOT NULL AND status != 'archived'",
}


def use_dialect(name: str) -> None:
    """Give the partial indexes their WHERE for the backend ``name``; ``open_store`` calls this."""
    if name not in ("sqlite", "postgresql"):
        return
    for index, where in PARTIAL_INDEXES.items():
        if index.dialect_kwargs.get(f"{name}_where") is None:
            index.dialect_kwargs[f"{name}_where"] = text(where)
