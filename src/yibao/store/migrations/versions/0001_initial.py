"""The initial schema of the operational store: registry, institutions, catalog, claims, accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('item_class', sa.String(length=1), nullable=False),
    sa.Column('preselfpay_ppm', sa.Integer(), nullable=False),
    sa.Column('price_cap_fen', sa.BigInteger(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('restrict_sex', sa.String(length=1), nullable=True),
    sa.Column('restrict_min_age', sa.SmallInteger(), nullable=True),
    sa.Column('restrict_max_age', sa.SmallInteger(), nullable=True),
    sa.Column('inpatient_only', sa.Boolean(), nullable=False),
    sa.Column('restrict_min_level', sa.String(length=1), nullable=True),
    sa.Column('required_dx', sa.Text(), nullable=True),
    sa.Column('restriction_text', sa.Text(), nullable=True),
    sa.Column('begin_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.String(length=32), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.CheckConstraint("item_class IN ('A', 'B', 'C')", name=op.f('ck_catalog_items_item_class_values')),
    sa.CheckConstraint("kind IN ('drug', 'service', 'consumable')", name=op.f('ck_catalog_items_kind_values')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= begin_date', name=op.f('ck_catalog_items_end_date_after_begin_date')),
    sa.CheckConstraint('preselfpay_ppm >= 0 AND preselfpay_ppm <= 1000000', name=op.f('ck_catalog_items_preselfpay_ppm_range')),
    sa.CheckConstraint('price_cap_fen >= 0', name=op.f('ck_catalog_items_price_cap_fen_nonneg')),
    sa.CheckConstraint('restrict_min_age IS NULL OR restrict_max_age IS NULL OR restrict_max_age >= restrict_min_age', name=op.f('ck_catalog_items_restrict_age_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_items')),
    sa.UniqueConstraint('item_code', 'begin_date', name=op.f('uq_catalog_items_item_code_begin_date'))
    )
    op.create_table('employers',
    sa.Column('emp_no', sa.String(length=32), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('admdvs', sa.String(length=6), nullable=False),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('avg_wage_fen', sa.BigInteger(), nullable=True),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.CheckConstraint('avg_wage_fen >= 0', name=op.f('ck_employers_avg_wage_fen_nonneg')),
    sa.CheckConstraint('headcount >= 0', name=op.f('ck_employers_headcount_nonneg')),
    sa.PrimaryKeyConstraint('emp_no', name=op.f('pk_employers')),
    sa.UniqueConstraint('uscc', name=op.f('uq_employers_uscc'))
    )
    op.create_table('institutions',
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=1), nullable=False),
    sa.Column('admdvs', sa.String(length=6), nullable=False),
    sa.Column('beds', sa.Integer(), nullable=True),
    sa.Column('agreement_start', sa.Date(), nullable=True),
    sa.Column('agreement_end', sa.Date(), nullable=True),
    sa.CheckConstraint("kind IN ('hospital', 'primary', 'pharmacy')", name=op.f('ck_institutions_kind_values')),
    sa.CheckConstraint("level IN ('3', '2', '1', '0')", name=op.f('ck_institutions_level_values')),
    sa.CheckConstraint('agreement_end IS NULL OR agreement_end >= agreement_start', name=op.f('ck_institutions_agreement_end_after_agreement_start')),
    sa.CheckConstraint('beds >= 0', name=op.f('ck_institutions_beds_nonneg')),
    sa.PrimaryKeyConstraint('fixmedins_code', name=op.f('pk_institutions'))
    )
    op.create_table('persons',
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('certno', sa.String(length=18), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('admdvs', sa.String(length=6), nullable=False),
    sa.Column('household_id', sa.String(length=32), nullable=True),
    sa.Column('death_date', sa.Date(), nullable=True),
    sa.CheckConstraint("sex IN ('1', '2')", name=op.f('ck_persons_sex_values')),
    sa.CheckConstraint('death_date IS NULL OR death_date >= birth_date', name=op.f('ck_persons_death_date_after_birth_date')),
    sa.PrimaryKeyConstraint('psn_no', name=op.f('pk_persons')),
    sa.UniqueConstraint('certno', name=op.f('uq_persons_certno'))
    )
    op.create_index(op.f('ix_persons_household_id'), 'persons', ['household_id'], unique=False)
    op.create_table('regions',
    sa.Column('admdvs', sa.String(length=6), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('parent_admdvs', sa.String(length=6), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('admdvs', name=op.f('pk_regions'))
    )
    op.create_table('accounts',
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.CheckConstraint('balance_fen >= 0', name=op.f('ck_accounts_balance_fen_nonneg')),
    sa.CheckConstraint('entry_count >= 0', name=op.f('ck_accounts_entry_count_nonneg')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_accounts_psn_no_persons')),
    sa.PrimaryKeyConstraint('psn_no', name=op.f('pk_accounts'))
    )
    op.create_table('claims',
    sa.Column('claim_id', sa.String(length=32), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('med_type', sa.String(length=8), nullable=False),
    sa.Column('adm_date', sa.Date(), nullable=False),
    sa.Column('dscg_date', sa.Date(), nullable=True),
    sa.Column('los', sa.SmallInteger(), nullable=True),
    sa.Column('diagnoses', sa.Text(), nullable=True),
    sa.Column('procedures', sa.Text(), nullable=True),
    sa.Column('dscg_way', sa.String(length=2), nullable=True),
    sa.Column('newborn_weight_g', sa.Integer(), nullable=True),
    sa.Column('dept', sa.String(length=64), nullable=True),
    sa.Column('doctor_code', sa.String(length=32), nullable=True),
    sa.Column('medfee_sumamt_fen', sa.BigInteger(), nullable=False),
    sa.Column('mdtrtarea_admdvs', sa.String(length=6), nullable=True),
    sa.Column('insuplc_admdvs', sa.String(length=6), nullable=True),
    sa.Column('out_of_region', sa.Boolean(), nullable=False),
    sa.Column('filing', sa.String(length=16), nullable=True),
    sa.Column('chronic_disease', sa.String(length=32), nullable=True),
    sa.CheckConstraint('dscg_date IS NULL OR dscg_date >= adm_date', name=op.f('ck_claims_dscg_date_after_adm_date')),
    sa.CheckConstraint('los >= 0', name=op.f('ck_claims_los_nonneg')),
    sa.CheckConstraint('medfee_sumamt_fen >= 0', name=op.f('ck_claims_medfee_sumamt_fen_nonneg')),
    sa.CheckConstraint('newborn_weight_g >= 0', name=op.f('ck_claims_newborn_weight_g_nonneg')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institutions.fixmedins_code'], name=op.f('fk_claims_fixmedins_code_institutions')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_claims_psn_no_persons')),
    sa.PrimaryKeyConstraint('claim_id', name=op.f('pk_claims'))
    )
    op.create_index(op.f('ix_claims_psn_no_adm_date'), 'claims', ['psn_no', 'adm_date'], unique=False)
    op.create_table('contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('employer_fen', sa.BigInteger(), nullable=False),
    sa.Column('individual_fen', sa.BigInteger(), nullable=False),
    sa.Column('subsidy_fen', sa.BigInteger(), nullable=False),
    sa.Column('sponsored_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('employer_fen >= 0', name=op.f('ck_contributions_employer_fen_nonneg')),
    sa.CheckConstraint('individual_fen >= 0', name=op.f('ck_contributions_individual_fen_nonneg')),
    sa.CheckConstraint('sponsored_fen >= 0', name=op.f('ck_contributions_sponsored_fen_nonneg')),
    sa.CheckConstraint('subsidy_fen >= 0', name=op.f('ck_contributions_subsidy_fen_nonneg')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_contributions_psn_no_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributions')),
    sa.UniqueConstraint('psn_no', 'year', 'insutype', name=op.f('uq_contributions_psn_no_year_insutype'))
    )
    op.create_table('enrollments',
    sa.Column('spell_id', sa.String(length=32), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('psn_type', sa.String(length=8), nullable=False),
    sa.Column('emp_kind', sa.String(length=16), nullable=True),
    sa.Column('emp_no', sa.String(length=32), nullable=True),
    sa.Column('admdvs', sa.String(length=6), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('contribution_base_fen', sa.BigInteger(), nullable=True),
    sa.Column('civil_servant', sa.Boolean(), nullable=False),
    sa.CheckConstraint('contribution_base_fen >= 0', name=op.f('ck_enrollments_contribution_base_fen_nonneg')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_enrollments_end_date_after_start_date')),
    sa.ForeignKeyConstraint(['emp_no'], ['employers.emp_no'], name=op.f('fk_enrollments_emp_no_employers')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_enrollments_psn_no_persons')),
    sa.PrimaryKeyConstraint('spell_id', name=op.f('pk_enrollments'))
    )
    op.create_index(op.f('ix_enrollments_psn_no_insutype'), 'enrollments', ['psn_no', 'insutype'], unique=False)
    op.create_table('identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('identity', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_identities_end_date_after_start_date')),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_identities_psn_no_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identities')),
    sa.UniqueConstraint('psn_no', 'identity', 'start_date', name=op.f('uq_identities_psn_no_identity_start_date'))
    )
    op.create_index(op.f('ix_identities_psn_no'), 'identities', ['psn_no'], unique=False)
    op.create_table('account_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('psn_no', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('balance_after_fen', sa.BigInteger(), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=True),
    sa.Column('counterparty', sa.String(length=32), nullable=True),
    sa.CheckConstraint("kind IN ('accrual', 'refund', 'transfer_in', 'payment', 'mutual_aid', 'transfer_out')", name=op.f('ck_account_entries_kind_values')),
    sa.CheckConstraint('balance_after_fen >= 0', name=op.f('ck_account_entries_balance_after_fen_nonneg')),
    sa.ForeignKeyConstraint(['psn_no'], ['accounts.psn_no'], name=op.f('fk_account_entries_psn_no_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_entries')),
    sa.UniqueConstraint('psn_no', 'seq', name=op.f('uq_account_entries_psn_no_seq'))
    )
    op.create_table('claim_lines',
    sa.Column('claim_id', sa.String(length=32), nullable=False),
    sa.Column('line_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=True),
    sa.Column('qty', sa.Float(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen >= 0', name=op.f('ck_claim_lines_amount_fen_nonneg')),
    sa.CheckConstraint('price_fen >= 0', name=op.f('ck_claim_lines_price_fen_nonneg')),
    sa.CheckConstraint('qty >= 0', name=op.f('ck_claim_lines_qty_nonneg')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.claim_id'], name=op.f('fk_claim_lines_claim_id_claims')),
    sa.PrimaryKeyConstraint('claim_id', 'line_no', name=op.f('pk_claim_lines'))
    )
    op.create_table('fraud_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.claim_id'], name=op.f('fk_fraud_labels_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_labels'))
    )
    op.create_index(op.f('ix_fraud_labels_claim_id'), 'fraud_labels', ['claim_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_fraud_labels_claim_id'), table_name='fraud_labels')
    op.drop_table('fraud_labels')
    op.drop_table('claim_lines')
    op.drop_table('account_entries')
    op.drop_index(op.f('ix_identities_psn_no'), table_name='identities')
    op.drop_table('identities')
    op.drop_index(op.f('ix_enrollments_psn_no_insutype'), table_name='enrollments')
    op.drop_table('enrollments')
    op.drop_table('contributions')
    op.drop_index(op.f('ix_claims_psn_no_adm_date'), table_name='claims')
    op.drop_table('claims')
    op.drop_table('accounts')
    op.drop_table('regions')
    op.drop_index(op.f('ix_persons_household_id'), table_name='persons')
    op.drop_table('persons')
    op.drop_table('institutions')
    op.drop_table('employers')
    op.drop_table('catalog_items')
