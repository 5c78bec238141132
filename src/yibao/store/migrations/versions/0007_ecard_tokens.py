"""医保电子凭证 tokens: what an insured person shows instead of a card, good for a few minutes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ecard_tokens',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_ecard_tokens_expires_after_issued')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_ecard_tokens_psn_no_persons')),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_ecard_tokens'))
    )
    op.create_index(op.f('ix_ecard_tokens_psn_no'), 'ecard_tokens', ['psn_no'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ecard_tokens_psn_no'), table_name='ecard_tokens')
    op.drop_table('ecard_tokens')
