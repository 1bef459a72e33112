"""Review, acceptance and approval: a task's review policy and state, and each attempt's kind.

Revision ID: 0003_review
Revises: 0002_hermes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_review'
down_revision = '0002_hermes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('review_by', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('review_max_rounds', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('review_rounds', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('review_stage', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('requires_approval', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('approval', sa.String(length=16), nullable=True))
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='work', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        batch.drop_column('kind')
    with op.batch_alter_table('tasks') as batch:
        for name in ('approval', 'requires_approval', 'review_stage', 'review_rounds',
                     'review_max_rounds', 'review_by'):
            batch.drop_column(name)
