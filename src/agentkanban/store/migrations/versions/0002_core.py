"""Indexes for the dashboard's paged board: a column's page is one index range in its order.

Revision ID: 0002_core
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_core'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_board_status_page',
                              ['board', 'status', sa.text('priority DESC'), 'created_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_tasks_board_status_recent', ['board', 'status', 'updated_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_board_status_recent')
        batch_op.drop_index('ix_tasks_board_status_page')
