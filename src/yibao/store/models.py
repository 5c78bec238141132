"""The operational store's tables (SQLAlchemy 2 typed declarative models).

Column names and meanings mirror the lake schemas (`yibao.lake.schema.TABLES`) so a lake loads 1:1;
the store adds surrogate ids where the lake has no key, and the personal accounts (个人账户) which the
lake does not carry. Money is BigInteger fen (``*_fen``); the database itself enforces what it
portably can: non-negative amounts, end ≥ start, unique keys and foreign keys.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    LargeBinary,
    Numeric,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yibao import vocab

# Named constraints keep migrations (and SQLite batch alterations) deterministic across backends.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Lake table → store table (the store names the catalog table by what its rows are).
LAKE_TABLES = {
    "regions": "regions",
    "employers": "employers",
    "persons": "persons",
    "enrollments": "enrollments",
    "identities": "identities",
    "institutions": "institutions",
    "catalog": "catalog_items",
    "contributions": "contributions",
    "claims": "claims",
    "claim_lines": "claim_lines",
    "fraud_labels": "fraud_labels",
    "coverage_choices": "coverage_choices",
    "account_balances": "account_balances",
}

# Personal account entry kinds and the sign their amount must carry (+ credit, − debit).
ENTRY_KINDS = {
    "accrual": 1,  # 划入: monthly accrual from contributions
    "refund": 1,  # a reversed payment coming back
    "transfer_in": 1,  # 转入 from another pooling region
    "payment": -1,  # 支付 of the holder's own personal burden
    "mutual_aid": -1,  # 家庭共济: paying a family member's personal burden
    "transfer_out": -1,  # 转出 to another pooling region
}

ADMDVS = String(6)
CODE = String(32)


def _nonneg(*cols: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} >= 0", name=f"{c}_nonneg") for c in cols]


def _span(start: str, end: str) -> CheckConstraint:
    return CheckConstraint(f"{end} IS NULL OR {end} >= {start}", name=f"{end}_after_{start}")


def _in(col: str, values) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{col} IN ({listed})", name=f"{col}_values")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Region(Base):
    """医保区划 (admdvs): the region's own divisions and the places its people are treated in."""

    __tablename__ = "regions"
    admdvs: Mapped[str] = mapped_column(ADMDVS, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    parent_admdvs: Mapped[str | None] = mapped_column(ADMDVS)
    level: Mapped[str | None] = mapped_column(String(16))


class Employer(Base):
    """参保单位, keyed by its own number and carrying its 统一社会信用代码 (uscc)."""

    __tablename__ = "employers"
    __table_args__ = (*_nonneg("avg_wage_fen", "headcount"),)
    emp_no: Mapped[str] = mapped_column(CODE, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(Text)
    admdvs: Mapped[str] = mapped_column(ADMDVS)
    industry: Mapped[str | None] = mapped_column(String(64))
    avg_wage_fen: Mapped[int | None] = mapped_column(BigInteger)
    headcount: Mapped[int | None] = mapped_column(Integer)
    has_supplementary: Mapped[bool | None] = mapped_column(Boolean)  # 企业补充医疗保险; null = not reported


class Person(Base):
    """参保人员; birth date and sex are stored and agree with the 居民身份证号 (certno)."""

    __tablename__ = "persons"
    __table_args__ = (_in("sex", ("1", "2")), _span("birth_date", "death_date"))
    psn_no: Mapped[str] = mapped_column(CODE, primary_key=True)
    certno: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(Text)
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    admdvs: Mapped[str] = mapped_column(ADMDVS)
    household_id: Mapped[str | None] = mapped_column(CODE, index=True)  # 家庭共济 household
    death_date: Mapped[date | None] = mapped_column(Date)


class Enrollment(Base):
    """参保 spell: one person in one insutype from start to end (inclusive; null = open)."""

    __tablename__ = "enrollments"
    __table_args__ = (
        _span("start_date", "end_date"),
        *_nonneg("contribution_base_fen"),
        Index(None, "psn_no", "insutype"),
    )
    spell_id: Mapped[str] = mapped_column(CODE, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    insutype: Mapped[str] = mapped_column(String(3))
    psn_type: Mapped[str] = mapped_column(String(8))
    emp_kind: Mapped[str | None] = mapped_column(String(16))
    emp_no: Mapped[str | None] = mapped_column(ForeignKey("employers.emp_no"))
    admdvs: Mapped[str] = mapped_column(ADMDVS)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    contribution_base_fen: Mapped[int | None] = mapped_column(BigInteger)
    civil_servant: Mapped[bool] = mapped_column(Boolean, default=False)


class Identity(Base):
    """医疗救助 identity spell (特困, 低保, …: keys of `yibao.vocab.IDENTITIES`)."""

    __tablename__ = "identities"
    __table_args__ = (
        _span("start_date", "end_date"),
        UniqueConstraint("psn_no", "identity", "start_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"), index=True)
    identity: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class Account(Base):
    """个人账户: the running balance, changed only together with an appended entry."""

    __tablename__ = "accounts"
    __table_args__ = (*_nonneg("balance_fen", "entry_count"),)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"), primary_key=True)
    opened_on: Mapped[date | None] = mapped_column(Date)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)


class AccountEntry(Base):
    """An append-only account entry: signed amount (+ credit, − debit) and the balance after it."""

    __tablename__ = "account_entries"
    __table_args__ = (
        *_nonneg("balance_after_fen"),
        _in("kind", ENTRY_KINDS),
        UniqueConstraint("psn_no", "seq"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("accounts.psn_no"))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … per account
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    posted_on: Mapped[date] = mapped_column(Date)
    ref: Mapped[str | None] = mapped_column(String(64))  # settlement id, month, transfer document …
    counterparty: Mapped[str | None] = mapped_column(CODE)  # family member or other region


class Institution(Base):
    """定点医药机构: H/P + 11 digits; kind hospital/primary/pharmacy; level 3/2/1/0."""

    __tablename__ = "institutions"
    __table_args__ = (
        *_nonneg("beds"),
        _in("kind", ("hospital", "primary", "pharmacy")),
        _in("level", tuple(vocab.LEVELS)),
        _span("agreement_start", "agreement_end"),
    )
    fixmedins_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(1))
    admdvs: Mapped[str] = mapped_column(ADMDVS)
    beds: Mapped[int | None] = mapped_column(Integer)
    agreement_start: Mapped[date | None] = mapped_column(Date)
    agreement_end: Mapped[date | None] = mapped_column(Date)


class CatalogItem(Base):
    """医保目录 item version: drug / service / consumable, class 甲A 乙B 丙C, 先行自付 and restrictions."""

    __tablename__ = "catalog_items"
    __table_args__ = (
        _in("kind", ("drug", "service", "consumable")),
        _in("item_class", ("A", "B", "C")),
        CheckConstraint("preselfpay_ppm >= 0 AND preselfpay_ppm <= 1000000", name="preselfpay_ppm_range"),
        *_nonneg("price_cap_fen"),
        CheckConstraint(
            "restrict_min_age IS NULL OR restrict_max_age IS NULL OR restrict_max_age >= restrict_min_age",
            name="restrict_age_range",
        ),
        _span("begin_date", "end_date"),
        UniqueConstraint("item_code", "begin_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    item_class: Mapped[str] = mapped_column(String(1))
    preselfpay_ppm: Mapped[int] = mapped_column(Integer, default=0)
    price_cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    unit: Mapped[str | None] = mapped_column(String(32))
    restrict_sex: Mapped[str | None] = mapped_column(String(1))
    restrict_min_age: Mapped[int | None] = mapped_column(SmallInteger)
    restrict_max_age: Mapped[int | None] = mapped_column(SmallInteger)
    inpatient_only: Mapped[bool] = mapped_column(Boolean, default=False)
    restrict_min_level: Mapped[str | None] = mapped_column(String(1))
    required_dx: Mapped[str | None] = mapped_column(Text)  # '|'-joined ICD-10 prefixes
    restriction_text: Mapped[str | None] = mapped_column(Text)  # 限定支付范围 as printed
    begin_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(Text)


class Contribution(Base):
    """缴费: what is due for one person, year and insutype, by payer."""

    __tablename__ = "contributions"
    __table_args__ = (
        *_nonneg("employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"),
        UniqueConstraint("psn_no", "year", "insutype"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    year: Mapped[int] = mapped_column(SmallInteger)
    insutype: Mapped[str] = mapped_column(String(3))
    employer_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    individual_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    subsidy_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # 财政补助
    sponsored_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # 资助参保 by 医疗救助


class CoverageChoice(Base):
    """A person's choices at enrolment for a year: 居民缴费档次 (tier; 0 = unknown or a single-tier
    region) and the voluntary supplementary tiers joined ('|'-joined pack ``supplementary.tiers``
    names, e.g. huiminbao 惠民保; null = none)."""

    __tablename__ = "coverage_choices"
    __table_args__ = (*_nonneg("tier"), UniqueConstraint("psn_no", "year"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    year: Mapped[int] = mapped_column(SmallInteger)
    tier: Mapped[int] = mapped_column(SmallInteger, default=0)
    supplementary: Mapped[str | None] = mapped_column(Text)


class AccountBalance(Base):
    """个人账户 opening balance: what the account held at 1 January of ``year``, before that year's
    accruals (the lake's snapshot a year's settlement starts from; never negative, 不得透支)."""

    __tablename__ = "account_balances"
    __table_args__ = (*_nonneg("balance_fen"), UniqueConstraint("psn_no", "year"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    year: Mapped[int] = mapped_column(SmallInteger)
    balance_fen: Mapped[int] = mapped_column(BigInteger)


class Claim(Base):
    """A 结算清单-shaped encounter; diagnoses and procedures '|'-joined, principal / main first."""

    __tablename__ = "claims"
    __table_args__ = (
        _span("adm_date", "dscg_date"),
        *_nonneg("los", "medfee_sumamt_fen", "newborn_weight_g"),
        Index(None, "psn_no", "adm_date"),
    )
    claim_id: Mapped[str] = mapped_column(CODE, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"))
    insutype: Mapped[str] = mapped_column(String(3))
    med_type: Mapped[str] = mapped_column(String(8))
    adm_date: Mapped[date] = mapped_column(Date)
    dscg_date: Mapped[date | None] = mapped_column(Date)
    los: Mapped[int | None] = mapped_column(SmallInteger)
    diagnoses: Mapped[str | None] = mapped_column(Text)
    procedures: Mapped[str | None] = mapped_column(Text)
    dscg_way: Mapped[str | None] = mapped_column(String(2))
    newborn_weight_g: Mapped[int | None] = mapped_column(Integer)
    dept: Mapped[str | None] = mapped_column(String(64))
    doctor_code: Mapped[str | None] = mapped_column(CODE)
    medfee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    mdtrtarea_admdvs: Mapped[str | None] = mapped_column(ADMDVS)  # treatment place
    insuplc_admdvs: Mapped[str | None] = mapped_column(ADMDVS)  # insured place
    out_of_region: Mapped[bool] = mapped_column(Boolean, default=False)
    filing: Mapped[str | None] = mapped_column(String(16))  # 异地 filed / referred / emergency / unfiled
    chronic_disease: Mapped[str | None] = mapped_column(CODE)  # 门诊慢特病 code


class ClaimLine(Base):
    """An itemised line of a claim (费用明细)."""

    __tablename__ = "claim_lines"
    __table_args__ = (*_nonneg("qty", "price_fen", "amount_fen"),)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    service_date: Mapped[date | None] = mapped_column(Date)
    qty: Mapped[float] = mapped_column(Float)  # a quantity, not money
    price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class FraudLabel(Base):
    """Ground truth of injected fraud or abuse on a claim (synthetic data only)."""

    __tablename__ = "fraud_labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class Filing(Base):
    """异地就医备案: a person filed to be treated in another pooling region — 长期居住 (``filed``) or 转诊转院
    (``referred``) — in ``place`` (an admdvs; its pooling region counts), from ``start_date`` to
    ``end_date`` (null: open)."""

    __tablename__ = "filings"
    __table_args__ = (_in("kind", tuple(vocab.FILING_KINDS)), _span("start_date", "end_date"),
                      Index(None, "psn_no", "start_date"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    kind: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(ADMDVS)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class EcardToken(Base):
    """医保电子凭证: a token the insured person shows (as a QR code) instead of a card, good until
    ``expires_at``; an institution reads the person by it (1101 with 就诊凭证类型 01)."""

    __tablename__ = "ecard_tokens"
    __table_args__ = (CheckConstraint("expires_at > issued_at", name="expires_after_issued"),)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


# ---- the settlement ledger (结算台账): what the real-time service received, settled and reversed ----

MSGID = String(40)  # the spec's 30, with room for clients that send more; the service checks the length


class Credential(Base):
    """An institution's interface credential: the access key it signs with. The secret is not stored: it
    is derived from the access key under the service's master key (:mod:`yibao.api.signing`)."""

    __tablename__ = "credentials"
    access_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SignIn(Base):
    """签到 (9001) of an operator at an institution; 签退 (9002) closes it."""

    __tablename__ = "sign_ins"
    sign_no: Mapped[str] = mapped_column(String(30), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"))
    opter_no: Mapped[str] = mapped_column(String(30))
    sign_time: Mapped[datetime] = mapped_column(DateTime)
    signout_time: Mapped[datetime | None] = mapped_column(DateTime)


class Encounter(Base):
    """就诊: an outpatient visit (挂号 2201) or an inpatient stay (入院 2401), with the person's cover
    as it stood at registration (``insured``, JSON) and what 2203 / 2402 added."""

    __tablename__ = "encounters"
    __table_args__ = (
        _in("kind", ("outpatient", "inpatient")),
        _in("status", ("open", "discharged", "cancelled")),
        Index(None, "psn_no", "begntime"),
    )
    mdtrt_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"), index=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    insutype: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    med_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    ipt_otp_no: Mapped[str] = mapped_column(String(30))
    begntime: Mapped[datetime] = mapped_column(DateTime)
    endtime: Mapped[datetime | None] = mapped_column(DateTime)
    diagnoses: Mapped[str | None] = mapped_column(Text)  # '|'-joined, principal first
    chronic_disease: Mapped[str | None] = mapped_column(String(32))  # 门诊慢特病 code
    insured: Mapped[str] = mapped_column(Text)  # JSON: the person's cover at registration
    msgid: Mapped[str] = mapped_column(MSGID)


class FeeLine(Base):
    """费用明细 uploaded for an encounter (2204 / 2301); withdrawn (2205 / 2302) or settled, never deleted."""

    __tablename__ = "fee_lines"
    __table_args__ = (_in("status", ("active", "withdrawn")),)
    mdtrt_id: Mapped[str] = mapped_column(ForeignKey("encounters.mdtrt_id"), primary_key=True)
    feedetl_sn: Mapped[str] = mapped_column(String(30), primary_key=True)
    med_list_codg: Mapped[str] = mapped_column(String(50))
    medins_list_codg: Mapped[str | None] = mapped_column(String(150))
    fee_ocur_time: Mapped[datetime] = mapped_column(DateTime)
    pric: Mapped[Decimal] = mapped_column(Numeric(16, 6))
    cnt: Mapped[Decimal] = mapped_column(Numeric(16, 4))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    chrg_bchno: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(16))
    setl_id: Mapped[str | None] = mapped_column(String(30))  # the settlement that paid it
    msgid: Mapped[str] = mapped_column(MSGID)


class YearPosition(Base):
    """A person's year (年度累计): accumulators (JSON) and the 个人账户 / 家庭共济 amounts still available.
    Settlements lock this row (``SELECT … FOR UPDATE``) and change it in their own transaction."""

    __tablename__ = "positions"
    __table_args__ = (*_nonneg("account_fen", "family_fen"),)
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    accumulators: Mapped[str] = mapped_column(Text)
    account_fen: Mapped[int] = mapped_column(BigInteger)
    family_fen: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Settlement(Base):
    """结算 (2207 / 2304) or its reversal (2208 / 2305 / 2601), append-only: a reversal is a new row with
    the amounts negated that names the row it reverses; one reversal per settlement at most."""

    __tablename__ = "settlements"
    __table_args__ = (
        _in("kind", ("settlement", "reversal")),
        Index(None, "fixmedins_code", "setl_time"),
        Index(None, "mdtrt_id"),
    )
    setl_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    reverses: Mapped[str | None] = mapped_column(ForeignKey("settlements.setl_id"), unique=True)
    mdtrt_id: Mapped[str] = mapped_column(ForeignKey("encounters.mdtrt_id"))
    psn_no: Mapped[str] = mapped_column(ForeignKey("persons.psn_no"))
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"))
    insutype: Mapped[str] = mapped_column(String(3))
    clr_type: Mapped[str] = mapped_column(String(8))  # 清算类别: 11 门诊, 21 住院, 41 药店
    year: Mapped[int] = mapped_column(SmallInteger)
    setl_time: Mapped[datetime] = mapped_column(DateTime)
    mid_setl: Mapped[bool] = mapped_column(Boolean, default=False)  # 中途结算
    medfee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    fund_pay_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    acct_pay_fen: Mapped[int] = mapped_column(BigInteger)
    psn_cash_pay_fen: Mapped[int] = mapped_column(BigInteger)
    statement: Mapped[str] = mapped_column(Text)  # JSON: setlinfo and setldetail, fen
    change: Mapped[str] = mapped_column(Text)  # JSON: what it did to the position (ledger.position.Change)
    msgid: Mapped[str] = mapped_column(MSGID)


class Message(Base):
    """Every accepted message by its msgid, with a digest of its body and the answer given, so a
    replay answers the stored response and a different body under the same msgid is refused."""

    __tablename__ = "messages"
    msgid: Mapped[str] = mapped_column(MSGID, primary_key=True)
    infno: Mapped[str] = mapped_column(String(8))
    fixmedins_code: Mapped[str] = mapped_column(String(12), index=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    reversed_by: Mapped[str | None] = mapped_column(MSGID)  # the 2601 冲正 that took it back


class AuditHead(Base):
    """The newest link of one institution's audit chain, locked while a link is appended."""

    __tablename__ = "audit_heads"
    chain: Mapped[str] = mapped_column(String(12), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One link of a tamper-evident audit chain (SM3 over the previous hash and the record)."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chain: Mapped[str] = mapped_column(String(12))
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[str] = mapped_column(Text)  # canonical JSON, ID numbers and names masked


class SettleList(Base):
    """医疗保障基金结算清单 (4101A) as uploaded, kept for DRG / DIP grouping."""

    __tablename__ = "settle_lists"
    setl_id: Mapped[str] = mapped_column(ForeignKey("settlements.setl_id"), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"))
    body: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)
    msgid: Mapped[str] = mapped_column(MSGID)


class InterfaceFile(Base):
    """A file up- or downloaded through 9101 / 9102 (对明细账 detail files)."""

    __tablename__ = "interface_files"
    file_qury_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)


metadata = Base.metadata
