"""Fund supervision's regulator work: cases with dated steps, evidence and 处理 measures (the recovered-money
ledger), 举报, credit events and grades, 双随机 draws and 费用审核 samples.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yibao.supervision.regulator.tables  # noqa: F401 - the models of these tables, in the store's metadata

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sv_cases',
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=200), nullable=True),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.CheckConstraint("source IN ('rule_hit', 'report', 'sample', 'anomaly', 'draw')", name=op.f('ck_sv_cases_source_values')),
    sa.CheckConstraint("state IN ('clue', 'checking', 'filed', 'dropped', 'handled', 'closed')", name=op.f('ck_sv_cases_state_values')),
    sa.CheckConstraint("subject_kind IN ('institution', 'doctor', 'pharmacist', 'nurse', 'technician', 'person')", name=op.f('ck_sv_cases_subject_kind_values')),
    sa.PrimaryKeyConstraint('case_no', name=op.f('pk_sv_cases'))
    )
    op.create_index(op.f('ix_sv_cases_fixmedins_code'), 'sv_cases', ['fixmedins_code'], unique=False)
    op.create_index(op.f('ix_sv_cases_subject_kind_subject_id'), 'sv_cases', ['subject_kind', 'subject_id'], unique=False)
    op.create_table('sv_credit_grades',
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('year', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=1), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.CheckConstraint("grade IN ('A', 'B', 'C', 'D', 'E')", name=op.f('ck_sv_credit_grades_grade_values')),
    sa.PrimaryKeyConstraint('fixmedins_code', 'year', name=op.f('pk_sv_credit_grades'))
    )
    op.create_table('sv_draws',
    sa.Column('draw_no', sa.String(length=32), nullable=False),
    sa.Column('drawn_on', sa.Date(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('draw_no', name=op.f('pk_sv_draws'))
    )
    op.create_table('sv_samples',
    sa.Column('sample_no', sa.String(length=32), nullable=False),
    sa.Column('drawn_on', sa.Date(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('sample_no', name=op.f('pk_sv_samples'))
    )
    op.create_table('sv_case_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund', sa.String(length=6), nullable=True),
    sa.Column('basis', sa.String(length=16), nullable=True),
    sa.Column('months', sa.SmallInteger(), nullable=True),
    sa.Column('person_id', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('points', sa.SmallInteger(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('recover', 'fine', 'suspend', 'terminate', 'points')", name=op.f('ck_sv_case_actions_kind_values')),
    sa.CheckConstraint('amount_fen >= 0', name=op.f('ck_sv_case_actions_amount_fen_nonneg')),
    sa.ForeignKeyConstraint(['case_no'], ['sv_cases.case_no'], name=op.f('fk_sv_case_actions_case_no_sv_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sv_case_actions'))
    )
    op.create_index(op.f('ix_sv_case_actions_case_no'), 'sv_case_actions', ['case_no'], unique=False)
    op.create_index(op.f('ix_sv_case_actions_kind_fund'), 'sv_case_actions', ['kind', 'fund'], unique=False)
    op.create_table('sv_case_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('hit', 'document', 'report', 'sample', 'rank')", name=op.f('ck_sv_case_evidence_kind_values')),
    sa.ForeignKeyConstraint(['case_no'], ['sv_cases.case_no'], name=op.f('fk_sv_case_evidence_case_no_sv_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sv_case_evidence'))
    )
    op.create_index(op.f('ix_sv_case_evidence_case_no'), 'sv_case_evidence', ['case_no'], unique=False)
    op.create_table('sv_case_steps',
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('clue', 'checking', 'filed', 'dropped', 'handled', 'closed')", name=op.f('ck_sv_case_steps_state_values')),
    sa.ForeignKeyConstraint(['case_no'], ['sv_cases.case_no'], name=op.f('fk_sv_case_steps_case_no_sv_cases')),
    sa.PrimaryKeyConstraint('case_no', 'seq', name=op.f('pk_sv_case_steps'))
    )
    op.create_table('sv_credit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('points', sa.SmallInteger(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('case_no', sa.String(length=32), nullable=True),
    sa.CheckConstraint("kind IN ('case_filed', 'recovery', 'suspend', 'terminate', 'points', 'fine')", name=op.f('ck_sv_credit_events_kind_values')),
    sa.CheckConstraint("subject_kind IN ('institution', 'doctor', 'pharmacist', 'nurse', 'technician', 'person')", name=op.f('ck_sv_credit_events_subject_kind_values')),
    sa.CheckConstraint('amount_fen >= 0', name=op.f('ck_sv_credit_events_amount_fen_nonneg')),
    sa.CheckConstraint('points >= 0', name=op.f('ck_sv_credit_events_points_nonneg')),
    sa.ForeignKeyConstraint(['case_no'], ['sv_cases.case_no'], name=op.f('fk_sv_credit_events_case_no_sv_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sv_credit_events'))
    )
    op.create_index(op.f('ix_sv_credit_events_subject_kind_subject_id_on_date'), 'sv_credit_events', ['subject_kind', 'subject_id', 'on_date'], unique=False)
    op.create_table('sv_draw_picks',
    sa.Column('draw_no', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('inspectors', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['draw_no'], ['sv_draws.draw_no'], name=op.f('fk_sv_draw_picks_draw_no_sv_draws')),
    sa.PrimaryKeyConstraint('draw_no', 'seq', name=op.f('pk_sv_draw_picks'))
    )
    op.create_table('sv_reports',
    sa.Column('report_no', sa.String(length=32), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('accept_by', sa.Date(), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('informant', sa.String(length=64), nullable=True),
    sa.Column('contact', sa.String(length=64), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('case_no', sa.String(length=32), nullable=True),
    sa.Column('reward_fen', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("state IN ('received', 'accepted', 'rejected', 'rewarded')", name=op.f('ck_sv_reports_state_values')),
    sa.CheckConstraint("subject_kind IN ('institution', 'doctor', 'pharmacist', 'nurse', 'technician', 'person')", name=op.f('ck_sv_reports_subject_kind_values')),
    sa.CheckConstraint('reward_fen >= 0', name=op.f('ck_sv_reports_reward_fen_nonneg')),
    sa.ForeignKeyConstraint(['case_no'], ['sv_cases.case_no'], name=op.f('fk_sv_reports_case_no_sv_cases')),
    sa.PrimaryKeyConstraint('report_no', name=op.f('pk_sv_reports'))
    )
    op.create_table('sv_sample_claims',
    sa.Column('sample_no', sa.String(length=32), nullable=False),
    sa.Column('claim_id', sa.String(length=40), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen >= 0', name=op.f('ck_sv_sample_claims_amount_fen_nonneg')),
    sa.ForeignKeyConstraint(['sample_no'], ['sv_samples.sample_no'], name=op.f('fk_sv_sample_claims_sample_no_sv_samples')),
    sa.PrimaryKeyConstraint('sample_no', 'claim_id', name=op.f('pk_sv_sample_claims'))
    )
    op.create_index(op.f('ix_sv_sample_claims_fixmedins_code'), 'sv_sample_claims', ['fixmedins_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sv_sample_claims_fixmedins_code'), table_name='sv_sample_claims')
    op.drop_table('sv_sample_claims')
    op.drop_table('sv_reports')
    op.drop_table('sv_draw_picks')
    op.drop_index(op.f('ix_sv_credit_events_subject_kind_subject_id_on_date'), table_name='sv_credit_events')
    op.drop_table('sv_credit_events')
    op.drop_table('sv_case_steps')
    op.drop_index(op.f('ix_sv_case_evidence_case_no'), table_name='sv_case_evidence')
    op.drop_table('sv_case_evidence')
    op.drop_index(op.f('ix_sv_case_actions_kind_fund'), table_name='sv_case_actions')
    op.drop_index(op.f('ix_sv_case_actions_case_no'), table_name='sv_case_actions')
    op.drop_table('sv_case_actions')
    op.drop_table('sv_samples')
    op.drop_table('sv_draws')
    op.drop_table('sv_credit_grades')
    op.drop_index(op.f('ix_sv_cases_subject_kind_subject_id'), table_name='sv_cases')
    op.drop_index(op.f('ix_sv_cases_fixmedins_code'), table_name='sv_cases')
    op.drop_table('sv_cases')
