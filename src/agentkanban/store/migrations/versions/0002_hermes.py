"""Reference-dashboard features: attachments, profile notes, board defaults, goal and schedule fields.

Revision ID: 0002_hermes
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_hermes'
down_revision = '0002_costs'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('boards') as batch:
        batch.add_column(sa.Column('default_workdir', sa.Text(), nullable=True))
        batch.add_column(sa.Column('default_workspace_kind', sa.String(length=16), nullable=True))
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('goal_mode', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('goal_max_turns', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('scheduled_at', sa.Float(), nullable=True))
    op.create_table('attachments',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('task_id', sa.String(length=16), nullable=False),
    sa.Column('board', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('stored_name', sa.String(length=128), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_attachments_task_id_tasks'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name')),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_attachments_task', 'attachments', ['task_id', 'id'], unique=False)
    op.create_table('profile_notes',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('description_auto', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_profile_notes')),
    )


def downgrade() -> None:
    op.drop_index('ix_attachments_task', table_name='attachments')
    op.drop_table('profile_notes')
    op.drop_table('attachments')
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('scheduled_at')
        batch.drop_column('goal_max_turns')
        batch.drop_column('goal_mode')
    with op.batch_alter_table('boards') as batch:
        batch.drop_column('default_workspace_kind')
        batch.drop_column('default_workdir')
