"""Recurring schedules.

Revision ID: 0002_ops
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_ops'
down_revision = '0002_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedules',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('cron', sa.String(length=128), nullable=False),
    sa.Column('tz', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('catch_up', sa.String(length=16), server_default='latest', nullable=False),
    sa.Column('skip_if_open', sa.Integer(), server_default='0', nullable=False),
    sa.Column('template', sa.Text(), nullable=False),
    sa.Column('paused', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('last_occurrence', sa.Float(), nullable=True),
    sa.Column('next_at', sa.Float(), nullable=True),
    sa.Column('last_task_id', sa.String(length=16), nullable=True),
    sa.Column('skipped', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['board'], ['boards.slug'], name=op.f('fk_schedules_board_boards'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules'))
    )
    op.create_index('ix_schedules_next', 'schedules', ['paused', 'next_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_schedules_next', table_name='schedules')
    op.drop_table('schedules')
