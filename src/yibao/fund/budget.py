"""Next year's 收支预算 of each scheme's pooling fund, from this year's accounts, the forecast and the
IBNR reserve, split into the payment pools the payment engine pays from (``payment.budget.pools``:
DRG/DIP, per-diem, capitation, other — :mod:`yibao.payment.budget`).

The rules (``fund.budget``, cited): the income budget is the forecast's (central scenario) next-year
income; the spending need is the forecast's next-year spending plus, with ``reserve_ibnr``, this year's
claims not yet settled (they are paid next year); 以收定支: the spending budget is the need, at most
income × (1 − ``min_surplus_rate``). A need above that ceiling is a gap the budget names, not hides.
Beside it, the payment engine's own rule — this year's spending grown by ``payment.budget.growth_rate``
(:func:`yibao.payment.budget.regional_budget`) — for comparison. Money in integer fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from yibao.errors import ValidationError
from yibao.money import div_round
from yibao.payment.budget import BudgetRules, regional_budget, split_pools


@dataclass(frozen=True)
class SchemeBudget:
    insutype: str
    year: int
    this_year_income_fen: int
    this_year_spending_fen: int
    income_fen: int
    forecast_spending_fen: int
    ibnr_fen: int
    ceiling_fen: int
    spending_fen: int
    payment_rule_fen: int
    pools: dict[str, int]

    @property
    def need_fen(self) -> int:
        return self.forecast_spending_fen + self.ibnr_fen

    @property
    def gap_fen(self) -> int:
        """What the need exceeds the 以收定支 ceiling by (0 when within it)."""
        return max(self.need_fen - self.ceiling_fen, 0)


def scheme_budget(insutype: str, year: int, this_income_fen: int, this_spending_fen: int, next_income_fen: int,
                  next_spending_fen: int, ibnr_fen: int, params) -> SchemeBudget:
    """One scheme's budget for ``year`` (pure: figures and the pack's parameters in)."""
    for name, v in (("income", next_income_fen), ("spending", next_spending_fen), ("ibnr", ibnr_fen)):
        if v < 0:
            raise ValidationError(name, f"negative {name} {v} fen for the budget", f"scheme {insutype} {year}")
    rules = BudgetRules.from_params(params)
    rate = Fraction(params["fund.budget.min_surplus_rate"])
    ceiling = div_round(next_income_fen * (rate.denominator - rate.numerator), rate.denominator, rules.rounding)
    ibnr = ibnr_fen if params["fund.budget.reserve_ibnr"] else 0
    spending = min(next_spending_fen + ibnr, ceiling)
    return SchemeBudget(insutype, year, this_income_fen, this_spending_fen, next_income_fen, next_spending_fen,
                        ibnr, ceiling, spending, regional_budget(this_spending_fen, rules),
                        split_pools(spending, rules))


def lake_budget(folder, pack, statements, seed: int = 0) -> list[SchemeBudget]:
    """Next year's budget of each scheme of a settled lake year: its accounts, the central forecast's first
    year and each scheme's IBNR reserve."""
    import datetime as dt

    from yibao.fund.accounts import lake_accounts
    from yibao.fund.forecast import forecast, lake_base_year
    from yibao.fund.ibnr import lake_ibnr
    from yibao.fund.warning import scheme_figures

    schemes = scheme_figures(lake_accounts(folder, pack, statements), None)
    base = lake_base_year(folder, pack, statements)
    rows = forecast(base, pack.at(dt.date(base.year, 12, 31)), 5, ("central",), seed=seed)
    nxt = rows[rows["year"] == base.year + 1].set_index("insutype")
    params = pack.at(dt.date(base.year + 1, 1, 1))
    return [scheme_budget(s.insutype, base.year + 1, s.income_fen, s.spending_fen,
                          int(nxt.loc[s.insutype, "income_fen"]), int(nxt.loc[s.insutype, "spending_fen"]),
                          round(lake_ibnr(folder, pack, statements, seed, s.insutype).reserve.total_reserve), params)
            for s in schemes]


__all__ = ["SchemeBudget", "lake_budget", "scheme_budget"]
