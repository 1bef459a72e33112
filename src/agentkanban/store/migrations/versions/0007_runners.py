"""Remote runners: the tokens that let a process on another host take work, and the labels a
task requires of the runner that takes it.

Revision ID: 0007_runners
Revises: 0006_tallies
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_runners'
down_revision = '0006_tallies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'runners',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('allowed_profiles', sa.Text(), nullable=True),
        sa.Column('allowed_labels', sa.Text(), nullable=True),
        sa.Column('labels', sa.Text(), nullable=True),
        sa.Column('profiles', sa.Text(), nullable=True),
        sa.Column('capacity', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('version', sa.String(64), nullable=True),
        sa.Column('host', sa.String(255), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('registered_at', sa.Float(), nullable=True),
        sa.Column('last_seen_at', sa.Float(), nullable=True),
        sa.Column('revoked_at', sa.Float(), nullable=True),
    )
    op.create_index('ux_runners_token', 'runners', ['token_hash'], unique=True)
    op.create_table(
        'task_runs_on',
        sa.Column('task_id', sa.String(16), sa.ForeignKey('tasks.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('labels', sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('task_runs_on')
    op.drop_index('ux_runners_token', table_name='runners')
    op.drop_table('runners')
