"""A worker's reported progress on its attempt (``kanban heartbeat --progress 3/12``).

Revision ID: 0005_progress
Revises: 0004_labels
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_progress'
down_revision = '0004_labels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run_state') as batch:
        batch.add_column(sa.Column('progress_done', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('progress_total', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('run_state') as batch:
        batch.drop_column('progress_total')
        batch.drop_column('progress_done')
