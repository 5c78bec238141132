"""异地就医备案: persons filed to be treated in another pooling region.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('filings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('place', sa.String(length=6), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint("kind IN ('filed', 'referred')", name=op.f('ck_filings_kind_values')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_filings_end_date_after_start_date')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_filings_psn_no_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_filings'))
    )
    op.create_index(op.f('ix_filings_psn_no_start_date'), 'filings', ['psn_no', 'start_date'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_filings_psn_no_start_date'), table_name='filings')
    op.drop_table('filings')
