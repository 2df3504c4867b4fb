"""workspace preferences: default song, answer channels, private mode

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_song', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('answer_channels', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('private_mode', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('private_mode')
        batch_op.drop_column('answer_channels')
        batch_op.drop_column('default_song')
