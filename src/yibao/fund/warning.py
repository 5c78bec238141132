"""Fund risk warning (基金风险预警): a scheme's 累计结存可支付月数, current-year surplus rate and balance
against income, set against the pack's graded warning lines (``fund.warning.lines``, each cited).

A scheme's pooling fund is what the warning watches: 职工 — 职工统筹 (the 个人账户 belong to the
insured); 居民 — 居民统筹 with the 大病保险 it finances. The opening balance (上年末累计结存) is not in a
lake: it is given, or the balance is the year's own surplus and the figures say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from yibao import vocab
from yibao.errors import PolicyError
from yibao.fund.accounts import FundAccounts

SCHEME_FUNDS = {
    vocab.EMPLOYEE: (vocab.FUND_EMPLOYEE_POOLING,),
    vocab.RESIDENT: (vocab.FUND_RESIDENT_POOLING, vocab.FUND_RESIDENT_SERIOUS_ILLNESS),
}
SCHEME_NAMES = {vocab.EMPLOYEE: "职工", vocab.RESIDENT: "居民"}
FIGURE_NAMES = {"months_of_payment": "累计结存可支付月数", "surplus_rate": "当期结余率",
                "balance_to_income": "累计结存 ÷ 当年收入"}


@dataclass(frozen=True)
class SchemeFigures:
    """One scheme's year (fen) and the figures the warning lines watch (None where spending or income is 0)."""

    insutype: str
    opening_fen: int | None
    income_fen: int
    spending_fen: int

    @property
    def surplus_fen(self) -> int:
        return self.income_fen - self.spending_fen

    @property
    def balance_fen(self) -> int:
        return (self.opening_fen or 0) + self.surplus_fen

    def figure(self, name: str) -> Fraction | None:
        if name == "months_of_payment":
            return Fraction(self.balance_fen * 12, self.spending_fen) if self.spending_fen else None
        if name == "surplus_rate":
            return Fraction(self.surplus_fen, self.income_fen) if self.income_fen else None
        if name == "balance_to_income":
            return Fraction(self.balance_fen, self.income_fen) if self.income_fen else None
        raise PolicyError(f"fund.warning.lines: unknown figure {name!r}; known: {', '.join(FIGURE_NAMES)}")


@dataclass(frozen=True)
class Warning:
    """A figure that crossed a line: which scheme, figure and value, which line (level, meaning, citation)."""

    insutype: str
    figure: str
    value: Fraction
    side: str
    line: Decimal
    level: str
    meaning: str
    ref: str

    def message(self) -> str:
        side = "below" if self.side == "below" else "above"
        return (f"{SCHEME_NAMES[self.insutype]} {FIGURE_NAMES[self.figure]} {float(self.value):.2f} is {side} the "
                f"{self.level} line {self.line} ({self.meaning}; {self.ref})")


def scheme_figures(accounts: FundAccounts, opening_fen: dict[str, int] | None = None) -> list[SchemeFigures]:
    """Each scheme's income and spending from its pooling funds' accounts, net of their transfers to each other."""
    out = []
    for insutype, codes in SCHEME_FUNDS.items():
        income = accounts.consolidated(codes, "income_fen")
        spending = accounts.consolidated(codes, "spending_fen")
        out.append(SchemeFigures(insutype, None if opening_fen is None else opening_fen.get(insutype, 0),
                                 income, spending))
    return out


def _applies(pattern: str, insutype: str) -> bool:
    return pattern == "*" or insutype in pattern.split("|")


def warnings(figures: list[SchemeFigures], lines: list[dict], ref: str) -> list[Warning]:
    """Every line a scheme's figure crosses (strictly below / above it), the most severe first per figure."""
    out = []
    for f in figures:
        for line in lines:
            if not _applies(line["insutype"], f.insutype):
                continue
            value = f.figure(line["figure"])
            limit = line["value"]
            if value is None:
                continue
            crossed = value < Fraction(limit) if line["side"] == "below" else value > Fraction(limit)
            if crossed:
                out.append(Warning(f.insutype, line["figure"], value, line["side"], limit, line["level"],
                                   line["meaning"], line.get("ref") or ref))
    return out


def fund_warnings(accounts: FundAccounts, params, opening_fen: dict[str, int] | None = None) -> list[Warning]:
    """The warnings of a year's accounts under the pack parameters in force (``pack.at(date)``)."""
    cited = params.cite("fund.warning.lines")
    return warnings(scheme_figures(accounts, opening_fen), cited.value, cited.ref)


__all__ = ["FIGURE_NAMES", "SCHEME_NAMES", "SchemeFigures", "Warning", "fund_warnings", "scheme_figures", "warnings"]
