"""Coverage choices (居民缴费档次, supplementary tiers joined) and 个人账户 opening balances, per person
and year.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('coverage_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('tier', sa.SmallInteger(), nullable=False),
    sa.Column('supplementary', sa.Text(), nullable=True),
    sa.CheckConstraint('tier >= 0', name=op.f('ck_coverage_choices_tier_nonneg')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_coverage_choices_psn_no_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_choices')),
    sa.UniqueConstraint('psn_no', 'year', name=op.f('uq_coverage_choices_psn_no_year'))
    )
    op.create_table('account_balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('balance_fen >= 0', name=op.f('ck_account_balances_balance_fen_nonneg')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_account_balances_psn_no_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_balances')),
    sa.UniqueConstraint('psn_no', 'year', name=op.f('uq_account_balances_psn_no_year'))
    )


def downgrade() -> None:
    op.drop_table('account_balances')
    op.drop_table('coverage_choices')
