"""Initial schema: boards, tasks, links, comments, runs, events, subscriptions, deliveries, kv.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('boards',
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('icon', sa.Text(), server_default='', nullable=False),
    sa.Column('color', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('archived_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_boards'))
    )
    op.create_table('kv',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_kv'))
    )
    op.create_table('tasks',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('assignee', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tenant', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=True),
    sa.Column('completed_at', sa.Float(), nullable=True),
    sa.Column('workspace_kind', sa.String(length=16), server_default='scratch', nullable=False),
    sa.Column('workspace_path', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=256), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_failure_error', sa.Text(), nullable=True),
    sa.Column('max_runtime_seconds', sa.Integer(), nullable=True),
    sa.Column('max_retries', sa.Integer(), nullable=True),
    sa.Column('last_heartbeat_at', sa.Float(), nullable=True),
    sa.Column('current_run_id', sa.BigInteger(), nullable=True),
    sa.Column('worker_pid', sa.Integer(), nullable=True),
    sa.Column('claim_lock', sa.String(length=256), nullable=True),
    sa.Column('claim_expires', sa.Float(), nullable=True),
    sa.Column('skills', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['board'], ['boards.slug'], name=op.f('fk_tasks_board_boards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_board_assignee', ['board', 'assignee', 'status'], unique=False)
        batch_op.create_index('ix_tasks_board_status_order', ['board', 'status', 'priority', 'created_at'], unique=False)
        batch_op.create_index('ix_tasks_board_tenant', ['board', 'tenant'], unique=False)
        batch_op.create_index('uq_tasks_board_idempotency', ['board', 'idempotency_key'], unique=True, sqlite_where=sa.text("idempotency_key IS NOT NULL AND status != 'archived'"), postgresql_where=sa.text("idempotency_key IS NOT NULL AND status != 'archived'"))

    op.create_table('comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_comments_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_task', ['task_id', 'id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_events_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_board_id', ['board', 'id'], unique=False)
        batch_op.create_index('ix_events_task_id', ['task_id', 'id'], unique=False)

    op.create_table('notify_subs',
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('chat_id', sa.String(length=256), nullable=False),
    sa.Column('thread_id', sa.String(length=256), server_default='', nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_notify_subs_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'platform', 'chat_id', 'thread_id', name=op.f('pk_notify_subs'))
    )
    op.create_table('runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('claim_lock', sa.String(length=256), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('claim_expires', sa.Float(), nullable=True),
    sa.Column('worker_pid', sa.Integer(), nullable=True),
    sa.Column('max_runtime_seconds', sa.Integer(), nullable=True),
    sa.Column('last_heartbeat_at', sa.Float(), nullable=True),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('ended_at', sa.Float(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('metadata', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_runs_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_board_status', ['board', 'status'], unique=False)
        batch_op.create_index('ix_runs_profile_outcome', ['profile', 'outcome', 'ended_at'], unique=False)
        batch_op.create_index('ix_runs_task', ['task_id', 'id'], unique=False)

    op.create_table('task_links',
    sa.Column('parent_id', sa.String(length=16), nullable=False),
    sa.Column('child_id', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['tasks.id'], name=op.f('fk_task_links_child_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['tasks.id'], name=op.f('fk_task_links_parent_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('parent_id', 'child_id', name=op.f('pk_task_links'))
    )
    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.create_index('ix_task_links_child', ['child_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('chat_id', sa.String(length=256), nullable=False),
    sa.Column('thread_id', sa.String(length=256), server_default='', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.Float(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('message_id', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_deliveries_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('event_id', 'platform', 'chat_id', 'thread_id', name=op.f('uq_deliveries_event_id_platform_chat_id_thread_id')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_deliveries_destination', ['platform', 'chat_id', 'thread_id', 'id'], unique=False)
    # Every install has the board "default"; it can be neither archived nor deleted.
    op.bulk_insert(
        sa.table("boards", sa.column("slug"), sa.column("name"), sa.column("description"),
                 sa.column("icon"), sa.column("color"), sa.column("created_at")),
        [{"slug": "default", "name": "Default", "description": "", "icon": "", "color": "",
          "created_at": time.time()}],
    )


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_destination')
        batch_op.drop_index('ix_deliveries_status_next')

    op.drop_table('deliveries')
    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.drop_index('ix_task_links_child')

    op.drop_table('task_links')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_task')
        batch_op.drop_index('ix_runs_profile_outcome')
        batch_op.drop_index('ix_runs_board_status')

    op.drop_table('runs')
    op.drop_table('notify_subs')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_task_id')
        batch_op.drop_index('ix_events_board_id')

    op.drop_table('events')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_task')

    op.drop_table('comments')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_tasks_board_idempotency', sqlite_where=sa.text("idempotency_key IS NOT NULL AND status != 'archived'"), postgresql_where=sa.text("idempotency_key IS NOT NULL AND status != 'archived'"))
        batch_op.drop_index('ix_tasks_board_tenant')
        batch_op.drop_index('ix_tasks_board_status_order')
        batch_op.drop_index('ix_tasks_board_assignee')

    op.drop_table('tasks')
    op.drop_table('kv')
    op.drop_table('boards')
