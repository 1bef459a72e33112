"""Labels and due dates on tasks, and the colours chosen for labels.

Revision ID: 0004_labels
Revises: 0003_review
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_labels'
down_revision = '0003_review'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('labels', sa.Text(), nullable=True))
        batch.add_column(sa.Column('due_at', sa.Float(), nullable=True))
    op.create_table('label_colors',
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('color', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['board'], ['boards.slug'], name=op.f('fk_label_colors_board_boards'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('board', 'name', name=op.f('pk_label_colors')),
    )


def downgrade() -> None:
    op.drop_table('label_colors')
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('due_at')
        batch.drop_column('labels')
