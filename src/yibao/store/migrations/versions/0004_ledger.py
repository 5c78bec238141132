"""The settlement ledger (结算台账): credentials, sign-ins, encounters, fee lines, person-year positions,
append-only settlements, messages by msgid, the audit chain, 结算清单 and interface files.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_heads',
    sa.Column('chain', sa.String(length=12), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_heads'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chain', sa.String(length=12), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('chain', 'seq', name=op.f('uq_audit_log_chain_seq'))
    )
    op.create_table('messages',
    sa.Column('msgid', sa.String(length=40), nullable=False),
    sa.Column('infno', sa.String(length=8), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('body_digest', sa.String(length=64), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('reversed_by', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('msgid', name=op.f('pk_messages'))
    )
    op.create_index(op.f('ix_messages_fixmedins_code'), 'messages', ['fixmedins_code'], unique=False)
    op.create_table('credentials',
    sa.Column('access_key', sa.String(length=64), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institutions.fixmedins_code'], name=op.f('fk_credentials_fixmedins_code_institutions')),
    sa.PrimaryKeyConstraint('access_key', name=op.f('pk_credentials'))
    )
    op.create_index(op.f('ix_credentials_fixmedins_code'), 'credentials', ['fixmedins_code'], unique=False)
    op.create_table('encounters',
    sa.Column('mdtrt_id', sa.String(length=30), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('med_type', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ipt_otp_no', sa.String(length=30), nullable=False),
    sa.Column('begntime', sa.DateTime(), nullable=False),
    sa.Column('endtime', sa.DateTime(), nullable=True),
    sa.Column('diagnoses', sa.Text(), nullable=True),
    sa.Column('chronic_disease', sa.String(length=32), nullable=True),
    sa.Column('insured', sa.Text(), nullable=False),
    sa.Column('msgid', sa.String(length=40), nullable=False),
    sa.CheckConstraint("kind IN ('outpatient', 'inpatient')", name=op.f('ck_encounters_kind_values')),
    sa.CheckConstraint("status IN ('open', 'discharged', 'cancelled')", name=op.f('ck_encounters_status_values')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institutions.fixmedins_code'], name=op.f('fk_encounters_fixmedins_code_institutions')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_encounters_psn_no_persons')),
    sa.PrimaryKeyConstraint('mdtrt_id', name=op.f('pk_encounters'))
    )
    op.create_index(op.f('ix_encounters_fixmedins_code'), 'encounters', ['fixmedins_code'], unique=False)
    op.create_index(op.f('ix_encounters_psn_no_begntime'), 'encounters', ['psn_no', 'begntime'], unique=False)
    op.create_table('interface_files',
    sa.Column('file_qury_no', sa.String(length=64), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institutions.fixmedins_code'], name=op.f('fk_interface_files_fixmedins_code_institutions')),
    sa.PrimaryKeyConstraint('file_qury_no', name=op.f('pk_interface_files'))
    )
    op.create_table('positions',
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('year', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('accumulators', sa.Text(), nullable=False),
    sa.Column('account_fen', sa.BigInteger(), nullable=False),
    sa.Column('family_fen', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('account_fen >= 0', name=op.f('ck_positions_account_fen_nonneg')),
    sa.CheckConstraint('family_fen >= 0', name=op.f('ck_positions_family_fen_nonneg')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_positions_psn_no_persons')),
    sa.PrimaryKeyConstraint('psn_no', 'year', name=op.f('pk_positions'))
    )
    op.create_table('sign_ins',
    sa.Column('sign_no', sa.String(length=30), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('opter_no', sa.String(length=30), nullable=False),
    sa.Column('sign_time', sa.DateTime(), nullable=False),
    sa.Column('signout_time', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institutions.fixmedins_code'], name=op.f('fk_sign_ins_fixmedins_code_institutions')),
    sa.PrimaryKeyConstraint('sign_no', name=op.f('pk_sign_ins'))
    )
    op.create_table('fee_lines',
    sa.Column('mdtrt_id', sa.String(length=30), nullable=False),
    sa.Column('feedetl_sn', sa.String(length=30), nullable=False),
    sa.Column('med_list_codg', sa.String(length=50), nullable=False),
    sa.Column('medins_list_codg', sa.String(length=150), nullable=True),
    sa.Column('fee_ocur_time', sa.DateTime(), nullable=False),
    sa.Column('pric', sa.Numeric(precision=16, scale=6), nullable=False),
    sa.Column('cnt', sa.Numeric(precision=16, scale=4), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('chrg_bchno', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('setl_id', sa.String(length=30), nullable=True),
    sa.Column('msgid', sa.String(length=40), nullable=False),
    sa.CheckConstraint("status IN ('active', 'withdrawn')", name=op.f('ck_fee_lines_status_values')),
    sa.ForeignKeyConstraint(['mdtrt_id'], ['encounters.mdtrt_id'], name=op.f('fk_fee_lines_mdtrt_id_encounters')),
    sa.PrimaryKeyConstraint('mdtrt_id', 'feedetl_sn', name=op.f('pk_fee_lines'))
    )
    op.create_table('settlements',
    sa.Column('setl_id', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reverses', sa.String(length=30), nullable=True),
    sa.Column('mdtrt_id', sa.String(length=30), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('clr_type', sa.String(length=8), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('setl_time', sa.DateTime(), nullable=False),
    sa.Column('mid_setl', sa.Boolean(), nullable=False),
    sa.Column('medfee_sumamt_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund_pay_sumamt_fen', sa.BigInteger(), nullable=False),
    sa.Column('acct_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('psn_cash_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('change', sa.Text(), nullable=False),
    sa.Column('msgid', sa.String(length=40), nullable=False),
    sa.CheckConstraint("kind IN ('settlement', 'reversal')", name=op.f('ck_settlements_kind_values')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institutions.fixmedins_code'], name=op.f('fk_settlements_fixmedins_code_institutions')),
    sa.ForeignKeyConstraint(['mdtrt_id'], ['encounters.mdtrt_id'], name=op.f('fk_settlements_mdtrt_id_encounters')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_settlements_psn_no_persons')),
    sa.ForeignKeyConstraint(['reverses'], ['settlements.setl_id'], name=op.f('fk_settlements_reverses_settlements')),
    sa.PrimaryKeyConstraint('setl_id', name=op.f('pk_settlements')),
    sa.UniqueConstraint('reverses', name=op.f('uq_settlements_reverses'))
    )
    op.create_index(op.f('ix_settlements_fixmedins_code_setl_time'), 'settlements', ['fixmedins_code', 'setl_time'], unique=False)
    op.create_index(op.f('ix_settlements_mdtrt_id'), 'settlements', ['mdtrt_id'], unique=False)
    op.create_table('settle_lists',
    sa.Column('setl_id', sa.String(length=30), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('msgid', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institutions.fixmedins_code'], name=op.f('fk_settle_lists_fixmedins_code_institutions')),
    sa.ForeignKeyConstraint(['setl_id'], ['settlements.setl_id'], name=op.f('fk_settle_lists_setl_id_settlements')),
    sa.PrimaryKeyConstraint('setl_id', name=op.f('pk_settle_lists'))
    )


def downgrade() -> None:
    op.drop_table('settle_lists')
    op.drop_index(op.f('ix_settlements_mdtrt_id'), table_name='settlements')
    op.drop_index(op.f('ix_settlements_fixmedins_code_setl_time'), table_name='settlements')
    op.drop_table('settlements')
    op.drop_table('fee_lines')
    op.drop_table('sign_ins')
    op.drop_table('positions')
    op.drop_table('interface_files')
    op.drop_index(op.f('ix_encounters_psn_no_begntime'), table_name='encounters')
    op.drop_index(op.f('ix_encounters_fixmedins_code'), table_name='encounters')
    op.drop_table('encounters')
    op.drop_index(op.f('ix_credentials_fixmedins_code'), table_name='credentials')
    op.drop_table('credentials')
    op.drop_index(op.f('ix_messages_fixmedins_code'), table_name='messages')
    op.drop_table('messages')
    op.drop_table('audit_log')
    op.drop_table('audit_heads')
