"""The settlement's own types: who is treated (参保人), where (定点医疗机构), what was billed (费用明细),
and what each fund pays (结算单, the national 2207 ``setlinfo`` / ``setldetail`` output).

Money is integer fen everywhere; rates are int ppm (parts per million).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from yibao import vocab
from yibao.vocab import FUND_PAY_TYPES

# setlinfo amount fields (national 2207 output), all in fen here
SETLINFO_AMOUNTS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay",
    "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "hosp_part_amt", "balc",
    "acct_mulaid_pay",
)
# pool_prop_selfpay (基本医疗保险统筹基金支付比例) is a rate: kept as int ppm
SETLINFO_FIELDS = SETLINFO_AMOUNTS[:7] + ("pool_prop_selfpay",) + SETLINFO_AMOUNTS[7:]

# Which setlinfo field each national fund_pay_type row reports.
FUND_FIELDS = {
    "hifp_pay": (vocab.FUND_EMPLOYEE_POOLING, vocab.FUND_RESIDENT_POOLING),  # 职工 / 居民 统筹 (by insutype)
    "cvlserv_pay": (vocab.FUND_CIVIL_SERVANT,),
    "hifes_pay": (vocab.FUND_ENTERPRISE_SUPPLEMENTARY,),
    "hifob_pay": (vocab.FUND_LARGE_EXPENSE,),
    "hifmi_pay": (vocab.FUND_RESIDENT_SERIOUS_ILLNESS,),
    "maf_pay": (vocab.FUND_MEDICAL_ASSISTANCE,),
    "oth_pay": (vocab.FUND_OTHER,),
}


@dataclass
class Person:
    """参保人 at the date of service.

    ``insutype`` 310 职工 / 390 居民; ``psn_type`` the national 人员类别; ``identities`` 医疗救助 categories
    (``yibao.vocab.IDENTITIES`` keys); ``filing`` 异地 status (filed / referred / emergency / unfiled,
    used only when treated outside the home region); ``resident_tier`` 居民缴费档次 (1, 2, 3);
    ``account_balance`` / ``family_account_balance`` 个人账户 and 家庭共济 balances in fen;
    ``supplementary`` the voluntary tiers joined (惠民保-style cover, 职工医疗互助);
    ``enterprise_supplementary`` the employer runs 企业补充医疗保险;
    ``accumulators`` the year's running totals before this claim (see :mod:`yibao.settlement.engine`).
    """

    psn_no: str
    insutype: str
    psn_type: str
    birth_date: dt.date | None = None
    age: int | None = None
    identities: tuple[str, ...] = ()
    admdvs: str = ""
    filing: str | None = None
    civil_servant: bool = False
    resident_tier: int | None = None
    household_id: str | None = None
    account_balance: int = 0
    family_account_balance: int = 0
    sex: str | None = None
    supplementary: tuple[str, ...] = ()  # voluntary tiers joined (惠民保, 职工医疗互助)
    enterprise_supplementary: bool = False
    accumulators: dict[str, int] = field(default_factory=dict)

    def age_on(self, when: dt.date) -> int:
        if self.birth_date is None:
            return int(self.age or 0)
        b = self.birth_date
        return when.year - b.year - ((when.month, when.day) < (b.month, b.day))


@dataclass
class Institution:
    """定点医疗机构: code, level "3"/"2"/"1"/"0" (未定级), 医保区划 and kind."""

    code: str
    level: str
    admdvs: str = ""
    kind: str = "hospital"


@dataclass
class Line:
    """One 费用明细 line: a catalog ``item_code``, or an ad-hoc item carrying its own class
    (A 甲 / B 乙 / C 丙), 先行自付 ratio (ppm) and unit price cap (fen)."""

    amount: int
    qty: float = 1.0
    price: int | None = None
    item_code: str | None = None
    item_class: str | None = None
    preselfpay_ppm: int | None = None
    price_cap: int | None = None
    fund_rate_ppm: int | None = None  # the item's own 统筹 rate (None: the stay's)


@dataclass
class Claim:
    """A 结算清单-shaped encounter to settle."""

    claim_id: str
    person: Person
    institution: Institution
    med_type: str
    adm_date: dt.date
    dscg_date: dt.date
    lines: list[Line]
    diagnoses: tuple[str, ...] = ()
    chronic_disease: str | None = None

    @property
    def out_of_region(self) -> bool:
        """异地就医: treated outside the person's pooling region (another district of the same city is
        not 异地)."""
        from yibao.ids import pooling_region

        inst, home = self.institution.admdvs, self.person.admdvs
        return bool(inst and home and pooling_region(inst) != pooling_region(home))


@dataclass(frozen=True)
class TraceEntry:
    """One explained figure: the field, its value in ``unit`` (``fen``, or ``count`` for the stay
    number), the parameter and citation that produced it."""

    field: str
    amount: int
    zh: str
    en: str
    parameter: str = ""
    ref: str = ""
    unit: str = "fen"

    def shown(self) -> str:
        """The value as a person reads it: yuan for money, a plain number for a count."""
        from yibao.money import format_yuan

        return format_yuan(self.amount) if self.unit == "fen" else f"{self.amount}"


@dataclass
class FundDetail:
    """One ``setldetail`` row: a fund, the in-scope amount it saw, its limit left (None: the fund has
    no cap) and its payment."""

    fund_pay_type: str
    inscp_scp_amt: int
    crt_payb_lmt_amt: int | None
    fund_payamt: int
    setl_proc_info: str = ""

    @property
    def fund_pay_type_name(self) -> str:
        return FUND_PAY_TYPES.get(self.fund_pay_type, "")


@dataclass
class Statement:
    """一单制结算单: setlinfo amounts (fen), setldetail rows, accumulators after the claim and a trace."""

    claim_id: str
    psn_no: str
    insutype: str
    psn_type: str
    med_type: str
    setlinfo: dict[str, int]
    setldetail: list[FundDetail]
    accumulators: dict[str, int]
    trace: list[TraceEntry]
    dscg_date: dt.date | None = None
    admdvs: str = ""
    warnings: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> int:
        return self.setlinfo[name]

    def to_dict(self) -> dict:
        return {
            "claim_id": self.claim_id, "psn_no": self.psn_no, "insutype": self.insutype,
            "psn_type": self.psn_type, "med_type": self.med_type,
            "setlinfo": dict(self.setlinfo),
            "setldetail": [
                {"fund_pay_type": d.fund_pay_type, "fund_pay_type_name": d.fund_pay_type_name,
                 "inscp_scp_amt": d.inscp_scp_amt, "crt_payb_lmt_amt": d.crt_payb_lmt_amt,
                 "fund_payamt": d.fund_payamt, "setl_proc_info": d.setl_proc_info}
                for d in self.setldetail
            ],
            "accumulators": dict(self.accumulators),
            "trace": [e.__dict__ for e in self.trace],
            "warnings": list(self.warnings),
        }


__all__ = [
    "Claim", "FundDetail", "Institution", "Line", "Person", "Statement", "TraceEntry",
    "SETLINFO_AMOUNTS", "SETLINFO_FIELDS", "FUND_FIELDS",
]
