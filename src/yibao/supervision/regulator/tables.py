"""The regulator's tables in the operational store (migration 0006): cases with their dated steps,
evidence and 处理 measures (the 追回 rows are the recovered-money ledger), 举报, credit events and
grades, 双随机 draws and 费用审核 samples with their published lists.

Subjects (an institution, a staff member, an insured person) are named by code without a foreign key:
doctors and pharmacists have no table in the store, and a 举报 may name an institution not yet loaded.
Money is BigInteger fen.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.store.models import Base, _in, _nonneg
from yibao.supervision.regulator.cases import ACTIONS, EVIDENCE_KINDS, SOURCES, STATES, SUBJECTS

CASE_STATES = tuple(STATES)
CASE_SOURCES = tuple(SOURCES)
SUBJECT_KINDS = tuple(SUBJECTS)
ACTION_KINDS = tuple(ACTIONS)
REPORT_STATES = ("received", "accepted", "rejected", "rewarded")
CREDIT_EVENTS = ("case_filed", "recovery", "suspend", "terminate", "points", "fine")
GRADES = ("A", "B", "C", "D", "E")
KEY = String(32)
SUBJECT = String(64)


class Case(Base):
    """案件: where a clue came from, whom it concerns, and where it stands (the newest step)."""

    __tablename__ = "sv_cases"
    __table_args__ = (_in("state", CASE_STATES), _in("source", CASE_SOURCES), _in("subject_kind", SUBJECT_KINDS),
                      Index(None, "subject_kind", "subject_id"))
    case_no: Mapped[str] = mapped_column(KEY, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(200))  # hit id, 举报 number, sample or rank
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(SUBJECT)
    fixmedins_code: Mapped[str | None] = mapped_column(String(12), index=True)  # the institution concerned
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[date] = mapped_column(Date)
    due: Mapped[date | None] = mapped_column(Date)


class CaseStep(Base):
    """One dated state of a case, in order; ``reason`` explains a move past its deadline."""

    __tablename__ = "sv_case_steps"
    __table_args__ = (_in("state", CASE_STATES),)
    case_no: Mapped[str] = mapped_column(ForeignKey("sv_cases.case_no"), primary_key=True)
    seq: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    on_date: Mapped[date] = mapped_column(Date)
    due: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)


class CaseEvidence(Base):
    """证据: a rule hit (claim and rule), a document, a 举报, a sample or a rank row, by reference."""

    __tablename__ = "sv_case_evidence"
    __table_args__ = (_in("kind", tuple(EVIDENCE_KINDS)),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("sv_cases.case_no"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    added_on: Mapped[date] = mapped_column(Date)


class CaseAction(Base):
    """A 处理 measure; the ``recover`` rows are the recovered-money ledger (fen, per case, per fund)."""

    __tablename__ = "sv_case_actions"
    __table_args__ = (_in("kind", ACTION_KINDS), *_nonneg("amount_fen"), Index(None, "kind", "fund"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("sv_cases.case_no"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fund: Mapped[str | None] = mapped_column(String(6))  # fund_pay_type the money goes back to
    basis: Mapped[str | None] = mapped_column(String(16))  # a fine's: violation / fraud
    months: Mapped[int | None] = mapped_column(SmallInteger)
    person_id: Mapped[str | None] = mapped_column(SUBJECT)
    role: Mapped[str | None] = mapped_column(String(16))
    points: Mapped[int | None] = mapped_column(SmallInteger)
    on_date: Mapped[date] = mapped_column(Date)


class Report(Base):
    """举报: whom it names, the facts, the informant (or anonymous), the acceptance deadline, the
    decision, the case it became and the reward paid on the money recovered."""

    __tablename__ = "sv_reports"
    __table_args__ = (_in("state", REPORT_STATES), _in("subject_kind", SUBJECT_KINDS), *_nonneg("reward_fen"))
    report_no: Mapped[str] = mapped_column(KEY, primary_key=True)
    received_on: Mapped[date] = mapped_column(Date)
    accept_by: Mapped[date] = mapped_column(Date)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(SUBJECT)
    facts: Mapped[str] = mapped_column(Text)
    informant: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(64))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    decided_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    case_no: Mapped[str | None] = mapped_column(ForeignKey("sv_cases.case_no"))
    reward_fen: Mapped[int | None] = mapped_column(BigInteger)


class CreditEvent(Base):
    """信用记录: an event that counts towards a subject's credit (institutions' grades, staff 记分,
    insured persons' records), dated, with the case it came from."""

    __tablename__ = "sv_credit_events"
    __table_args__ = (_in("kind", CREDIT_EVENTS), _in("subject_kind", SUBJECT_KINDS),
                      *_nonneg("amount_fen", "points"), Index(None, "subject_kind", "subject_id", "on_date"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(SUBJECT)
    on_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int | None] = mapped_column(SmallInteger)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    case_no: Mapped[str | None] = mapped_column(ForeignKey("sv_cases.case_no"))


class CreditGrade(Base):
    """An institution's credit grade (A–E) for a year, with its score and the deductions (JSON)."""

    __tablename__ = "sv_credit_grades"
    __table_args__ = (_in("grade", GRADES),)
    fixmedins_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(1))
    detail: Mapped[str] = mapped_column(Text)


class Draw(Base):
    """双随机 draw: its date, seed, quota and frame (JSON strata); the picks are the published list."""

    __tablename__ = "sv_draws"
    draw_no: Mapped[str] = mapped_column(KEY, primary_key=True)
    drawn_on: Mapped[date] = mapped_column(Date)
    seed: Mapped[int] = mapped_column(BigInteger)
    quota: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)


class DrawPick(Base):
    """One institution drawn, its grade stratum and the inspectors drawn for it ('|'-joined)."""

    __tablename__ = "sv_draw_picks"
    draw_no: Mapped[str] = mapped_column(ForeignKey("sv_draws.draw_no"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    grade: Mapped[str] = mapped_column(String(8))
    inspectors: Mapped[str] = mapped_column(Text)


class Sample(Base):
    """费用审核 re-check sample (复审抽查): date, seed and per-institution quotas (JSON)."""

    __tablename__ = "sv_samples"
    sample_no: Mapped[str] = mapped_column(KEY, primary_key=True)
    drawn_on: Mapped[date] = mapped_column(Date)
    seed: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(Text)


class SampleClaim(Base):
    """One claim drawn for re-check."""

    __tablename__ = "sv_sample_claims"
    __table_args__ = (*_nonneg("amount_fen"),)
    sample_no: Mapped[str] = mapped_column(ForeignKey("sv_samples.sample_no"), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


TABLES = [Case, CaseStep, CaseEvidence, CaseAction, Report, CreditEvent, CreditGrade, Draw, DrawPick, Sample,
          SampleClaim]

__all__ = ["ACTION_KINDS", "CASE_SOURCES", "CASE_STATES", "CREDIT_EVENTS", "Case", "CaseAction", "CaseEvidence",
           "CaseStep", "CreditEvent", "CreditGrade", "Draw", "DrawPick", "GRADES", "REPORT_STATES", "Report",
           "SUBJECT_KINDS", "Sample", "SampleClaim", "TABLES"]
