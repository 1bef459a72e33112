"""Checkpoints, sessions and log tails kept per attempt; the usage ledger; per-task cost limits.

Revision ID: 0002_costs
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_costs'
down_revision = '0002_ops'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('run_state',
    sa.Column('run_id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('checkpoint_note', sa.Text(), nullable=True),
    sa.Column('checkpoint_data', sa.Text(), nullable=True),
    sa.Column('checkpoint_at', sa.Float(), nullable=True),
    sa.Column('session_id', sa.String(length=256), nullable=True),
    sa.Column('workspace', sa.Text(), nullable=True),
    sa.Column('resumed_from', sa.String(length=256), nullable=True),
    sa.Column('launch_note', sa.Text(), nullable=True),
    sa.Column('usage_from', sa.String(length=32), nullable=True),
    sa.Column('settled_at', sa.Float(), nullable=True),
    sa.Column('log_tail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_run_state_run_id_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_run_state_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_run_state'))
    )
    with op.batch_alter_table('run_state', schema=None) as batch_op:
        batch_op.create_index('ix_run_state_task', ['task_id'], unique=False)
        batch_op.create_index('ix_run_state_unsettled', ['settled_at'], unique=False)

    op.create_table('usage',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=128), nullable=True),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cache_read_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cache_write_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cost_usd', sa.Float(), server_default='0', nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.create_index('ix_usage_task', ['task_id'], unique=False)
        batch_op.create_index('ix_usage_run', ['run_id'], unique=False)
        batch_op.create_index('ix_usage_day_profile', ['day', 'profile'], unique=False)
        batch_op.create_index('ix_usage_day_board', ['day', 'board'], unique=False)

    op.create_table('usage_daily',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=128), nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cache_read_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cache_write_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cost_usd', sa.Float(), server_default='0', nullable=False),
    sa.Column('reports', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('day', 'board', 'profile', name=op.f('pk_usage_daily'))
    )
    op.create_table('task_limits',
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('max_cost_usd', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_limits_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_task_limits'))
    )


def downgrade() -> None:
    op.drop_table('task_limits')
    op.drop_table('usage_daily')
    op.drop_table('usage')
    op.drop_table('run_state')
