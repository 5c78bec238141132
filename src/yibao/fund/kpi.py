"""The seed plans' indicators (专栏1 主要指标) computed from a year's data, each beside the plans' 2025
targets (``targets.yaml``, as the plans print them), and the indicators a lake cannot give with why.

Ratios are exact fractions of fen sums; a ratio over nothing is ``None`` with the reason, never 0.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pandas as pd
import yaml

from yibao import vocab
from yibao.errors import ValidationError
from yibao.fund.accounts import FundAccounts
from yibao.fund.warning import SchemeFigures
from yibao.money import show_yuan

TARGETS = yaml.safe_load((Path(__file__).with_name("targets.yaml")).read_text(encoding="utf-8"))
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
# 重点救助对象 (the plans' 救助比例 counts them): 特困, 低保, 返贫致贫
PRIORITY_IDENTITIES = ("tekun", "dibao", "fanpin")
# what the insurance tiers paid of the in-scope amount before 医疗救助
INSURED_TIERS = ("hifp_pay", "hifob_pay", "hifmi_pay", "cvlserv_pay", "hifes_pay")
BASIC_FUNDS_INCOME = (vocab.FUND_EMPLOYEE_POOLING, vocab.FUND_EMPLOYEE_ACCOUNT, vocab.FUND_RESIDENT_POOLING)
BASIC_FUNDS_SPENDING = BASIC_FUNDS_INCOME + (vocab.FUND_RESIDENT_SERIOUS_ILLNESS,)

NOT_COMPUTABLE = {
    "coverage_rate": "the lake holds the insured (the registry), not the 户籍 / 常住 population the rate divides by",
    "personal_health_spending": "卫生总费用 (national health accounts: government, social and out-of-pocket health "
                                "spending) is not a medical-insurance record",
    "spending_growth_5y": "needs five settled years of spending; a lake holds one settled year (its history years "
                          "are inpatient stays for the DRG/DIP fit, not settled fund spending)",
    "drg_dip_share": "is the payment year's figure (yibao pay year), not part of the settled claims this "
                     "command reads",
    "procurement_drugs_share": "public hospitals' purchase records (省级集中采购平台) are not in a lake",
    "procurement_consumables_share": "public hospitals' purchase records (省级集中采购平台) are not in a lake",
    "cross_province_direct_rate": "a lake holds claims settled directly only; the 手工报销 claims the rate divides "
                                  "by are not recorded",
    "online_service_rate": "the catalogue of 政务服务事项 and their channels is not in a lake",
}


@dataclass(frozen=True)
class Target:
    plan: str
    text: str
    op: str | None = None
    value: float | None = None

    def met(self, figure: Fraction | None) -> bool | None:
        """Whether ``figure`` meets a numeric target; None where the target is words only or no figure."""
        if self.op is None or figure is None:
            return None
        return OPS[self.op](figure, Fraction(str(self.value)))


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    value: Fraction | int | None
    unit: str  # share, ratio, fen
    targets: tuple[Target, ...] = ()
    why: str = ""  # why there is no value
    detail: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "—"
        if self.unit == "share":
            return f"{float(self.value) * 100:.1f}%"
        if self.unit == "fen":
            return show_yuan(self.value)
        return f"{float(self.value):.2f}"


def _targets(key: str) -> tuple[Target, ...]:
    return tuple(Target(TARGETS["plans"][t["plan"]], t["text"], t.get("op"), t.get("value"))
                 for t in TARGETS["indicators"][key]["targets"])


def _indicator(key: str, value, unit: str, why: str = "", detail: str = "", empty: str = "") -> Indicator:
    """An indicator; a ratio over nothing has no value and says what there was none of (``empty``)."""
    if value is None and not why:
        why = f"no {empty} in the year to divide by"
    return Indicator(key, TARGETS["indicators"][key]["name"], value, unit, _targets(key), why, detail)


def _ratio(num: int, den: int) -> Fraction | None:
    return Fraction(int(num), int(den)) if den else None


def inpatient(statements: pd.DataFrame) -> pd.DataFrame:
    return statements[statements["med_type"].isin(list(vocab.INPATIENT_MED_TYPES)).to_numpy()]


def inscope_ratio(statements: pd.DataFrame, insutype: str) -> Fraction | None:
    """政策范围内住院费用报销比例: basic pooling + 大额 + 大病 ÷ the in-scope amount, inpatient claims of a scheme."""
    stays = inpatient(statements)
    stays = stays[(stays["insutype"] == insutype).to_numpy()]
    paid = sum(int(stays[k].sum()) for k in ("hifp_pay", "hifob_pay", "hifmi_pay"))
    return _ratio(paid, int(stays["inscp_scp_amt"].sum()))


def priority_claims(statements: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    """Inpatient claims of persons who hold a 重点救助 identity on the discharge date."""
    stays = inpatient(statements)
    ids = identities[identities["identity"].isin(PRIORITY_IDENTITIES).to_numpy()]
    hit = stays[["claim_id", "psn_no", "dscg_date"]].merge(ids, on="psn_no")
    day = pd.to_datetime(hit["dscg_date"])
    on = (pd.to_datetime(hit["start_date"]) <= day) & (hit["end_date"].isna() | (pd.to_datetime(hit["end_date"]) >= day))
    return stays[stays["claim_id"].isin(set(hit.loc[on.to_numpy(), "claim_id"])).to_numpy()]


def assistance_ratio(statements: pd.DataFrame, identities: pd.DataFrame) -> Fraction | None:
    """救助比例: 医疗救助 ÷ the in-scope amount left to the person after the insurance tiers (符合规定的自付)."""
    stays = priority_claims(statements, identities)
    left = int(stays["inscp_scp_amt"].sum()) - sum(int(stays[k].sum()) for k in INSURED_TIERS)
    return _ratio(int(stays["maf_pay"].sum()), left)


def subsidy_to_fee(contributions: pd.DataFrame, year: int) -> Fraction | None:
    """居民: the fiscal subsidy ÷ the individual fee (paid by the person or by 资助参保)."""
    res = contributions[(contributions["insutype"] == vocab.RESIDENT).to_numpy()
                        & (contributions["year"].astype(int) == year).to_numpy()]
    return _ratio(int(res["subsidy_fen"].sum()), int(res["individual_fen"].sum() + res["sponsored_fen"].sum()))


def personal_burden(statements: pd.DataFrame) -> Fraction | None:
    """个人负担: what the person paid (account and cash) ÷ the whole inpatient bill."""
    stays = inpatient(statements)
    return _ratio(int(stays["psn_part_amt"].sum()), int(stays["medfee_sumamt"].sum()))


def _fund_sum(accounts: FundAccounts, column: str, codes) -> int:
    return accounts.consolidated(codes, column)


def indicators(statements: pd.DataFrame, accounts: FundAccounts, contributions: pd.DataFrame,
               identities: pd.DataFrame, schemes: list[SchemeFigures]) -> list[Indicator]:
    """Every indicator of ``targets.yaml``: computed from the year where it can be, else why not."""
    missing = [c for c in ("med_type", "inscp_scp_amt", "psn_part_amt", "medfee_sumamt", "psn_no") if c not in statements]
    if missing:
        raise ValidationError(", ".join(missing), "missing from the settled rows", "settlement statements")
    balance_note = ("opening balances given" if all(s.opening_fen is not None for s in schemes)
                    else "no opening balance: this year's surplus only")
    computed = {
        "fund_income": _indicator("fund_income", _fund_sum(accounts, "income_fen", BASIC_FUNDS_INCOME), "fen",
                                  detail="职工统筹 + 个人账户 + 居民统筹"),
        "fund_spending": _indicator("fund_spending", _fund_sum(accounts, "spending_fen", BASIC_FUNDS_SPENDING), "fen",
                                    detail="职工统筹 + 个人账户 + 居民统筹 + 大病保险"),
        "fund_balance": _indicator("fund_balance", sum(s.balance_fen for s in schemes), "fen",
                                   detail=f"职工统筹 + 居民统筹 (with 大病); {balance_note}"),
        "inpatient_inscope_ratio_310": _indicator("inpatient_inscope_ratio_310",
                                                  inscope_ratio(statements, vocab.EMPLOYEE), "share",
                                                  empty="职工 inpatient in-scope amount"),
        "inpatient_inscope_ratio_390": _indicator("inpatient_inscope_ratio_390",
                                                  inscope_ratio(statements, vocab.RESIDENT), "share",
                                                  empty="居民 inpatient in-scope amount"),
        "assistance_ratio": _indicator("assistance_ratio", assistance_ratio(statements, identities), "share",
                                       detail="特困, 低保, 返贫致贫: maf_pay ÷ (in-scope − insurance tiers), inpatient",
                                       empty="inpatient claims of 重点救助对象 (特困, 低保, 返贫致贫)"),
        "subsidy_to_fee": _indicator("subsidy_to_fee", subsidy_to_fee(contributions, accounts.year), "ratio",
                                     empty="居民 individual fee"),
        "personal_burden_inpatient": _indicator("personal_burden_inpatient", personal_burden(statements), "share",
                                                detail="psn_part_amt ÷ medfee_sumamt, inpatient", empty="inpatient bill"),
    }
    return [computed[key] if key in computed else
            _indicator(key, None, "share", why="not computable from a synthetic region: " + NOT_COMPUTABLE[key])
            for key in TARGETS["indicators"]]


__all__ = ["Indicator", "NOT_COMPUTABLE", "TARGETS", "Target", "assistance_ratio", "indicators", "inscope_ratio",
           "personal_burden", "priority_claims", "subsidy_to_fee"]
