"""Employers say whether they run 企业补充医疗保险 (enterprise supplementary medical insurance).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('employers') as batch:
        batch.add_column(sa.Column('has_supplementary', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('employers') as batch:
        batch.drop_column('has_supplementary')
