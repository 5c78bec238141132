"""年度清算 (annual clearing): payment due versus budget and advances, with 结余留用 (an institution
keeps a share of its savings within a band) and 合理超支分担 (the fund shares an overrun within a band).

For an institution with annual budget B and payment due D (what DRG/DIP/per-diem/capitation/
fee-for-service computed for the year):

* savings (D ≤ B): ``savings = B − D``; ``retained = min(savings, B × savings_band) × keep_share``;
  the fund pays ``D + retained``; savings beyond the band are not retained.
* overrun (D > B): ``overrun = D − B``; ``shared = min(overrun, B × overrun_band) × fund_share``;
  the fund pays ``B + shared``; the institution bears the rest (all of it beyond the band).

``balance = settled − advances``: positive is paid to the institution, negative recovered.
Each band limit and share is rounded to the fen once, by the pack's rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from yibao.errors import ValidationError

from yibao.money import Rounding, format_yuan
from yibao.payment.backends import require_columns, round_div
from yibao.payment.common import PPM, fetch, scaled
from yibao.policy import Params

__all__ = ["ClearingRules", "clear", "render_statement", "STATEMENT_COLUMNS"]

STATEMENT_COLUMNS = ("fixmedins_code", "budget_fen", "due_fen", "advances_fen", "outcome", "savings_fen",
                     "savings_band_fen", "retained_fen", "overrun_fen", "overrun_band_fen", "shared_fen",
                     "borne_fen", "settled_fen", "balance_fen")


@dataclass(frozen=True)
class ClearingRules:
    savings_band: Decimal
    savings_keep_share: Decimal
    overrun_band: Decimal
    overrun_fund_share: Decimal
    rounding: Rounding = Rounding.HALF_UP

    @classmethod
    def from_params(cls, params: Params) -> "ClearingRules":
        p = params.node("payment.clearing")
        return cls(p["savings_band"], p["savings_keep_share"], p["overrun_band"], p["overrun_fund_share"],
                   params.pack.rounding)


def _rate(x: ir.IntegerValue, rate: Decimal, rounding: Rounding) -> ir.IntegerValue:
    return round_div(x * scaled(rate, PPM), PPM, rounding)


def clear(accounts: ir.Table, rules: ClearingRules) -> ir.Table:
    """Clearing statements: ``accounts`` has ``fixmedins_code, budget_fen, due_fen, advances_fen``
    (one row per institution); the result has :data:`STATEMENT_COLUMNS`."""
    _check_accounts(accounts)
    t = accounts.mutate(
        savings_fen=ibis.greatest(accounts.budget_fen - accounts.due_fen, 0),
        overrun_fen=ibis.greatest(accounts.due_fen - accounts.budget_fen, 0),
        savings_band_fen=_rate(accounts.budget_fen, rules.savings_band, rules.rounding),
        overrun_band_fen=_rate(accounts.budget_fen, rules.overrun_band, rules.rounding),
    )
    t = t.mutate(
        retained_fen=_rate(ibis.least(t.savings_fen, t.savings_band_fen), rules.savings_keep_share, rules.rounding),
        shared_fen=_rate(ibis.least(t.overrun_fen, t.overrun_band_fen), rules.overrun_fund_share, rules.rounding),
    )
    t = t.mutate(
        settled_fen=ibis.ifelse(t.overrun_fen > 0, t.budget_fen + t.shared_fen, t.due_fen + t.retained_fen),
        borne_fen=t.overrun_fen - t.shared_fen,
        outcome=ibis.cases((t.overrun_fen > 0, "overrun"), (t.savings_fen > 0, "savings"), else_="on budget"),
    )
    t = t.mutate(balance_fen=t.settled_fen - t.advances_fen)
    cols = {c: (t[c].cast("int64") if c.endswith("_fen") else t[c]) for c in STATEMENT_COLUMNS}
    return t.select(**cols).order_by("fixmedins_code")


def _check_accounts(accounts: ir.Table) -> None:
    """One row per institution, no amount negative or missing: a negative budget would clear as
    savings below zero, a second row as a second statement."""
    money = ("budget_fen", "due_fen", "advances_fen")
    require_columns(accounts, {"fixmedins_code": "str", **{c: "int" for c in money}}, "clearing accounts")
    checks = []
    for col in money:
        bad = accounts.filter(accounts[col].isnull() | (accounts[col] < 0))
        checks.append(bad.select("fixmedins_code", field=ibis.literal(col),
                                 problem=ibis.literal("negative or missing amount ") + bad[col].cast("string").fill_null("")))
    doubled = accounts.group_by("fixmedins_code").aggregate(n=accounts.count())
    doubled = doubled.filter(doubled.n > 1)
    checks.append(doubled.select("fixmedins_code", field=ibis.literal("fixmedins_code"),
                                 problem=ibis.literal("institution listed ") + doubled.n.cast("string") + " times"))
    rows = fetch(ibis.union(*[c.order_by("fixmedins_code").limit(1) for c in checks])).to_pylist()
    if rows:
        r = min(rows, key=lambda r: r["fixmedins_code"] or "")
        raise ValidationError(r["field"], r["problem"], record=f"clearing accounts institution {r['fixmedins_code']}")


def render_statement(row: dict, title: str, year: int) -> str:
    """A printable clearing statement (年度清算单) for one institution's row of :func:`clear`."""
    y = format_yuan
    head = f"年度清算单 / annual clearing statement {year}, 金额 元 / amounts in yuan"
    lines = [head, title, f"定点医疗机构 institution: {row['fixmedins_code']}", "-" * 56]
    items = [
        ("年度预算 budget", row["budget_fen"]),
        ("应付金额 payment due", row["due_fen"]),
        ("已预拨 advances", row["advances_fen"]),
    ]
    if row["outcome"] == "savings":
        items += [("结余 savings", row["savings_fen"]), ("结余留用区间 savings band", row["savings_band_fen"]),
                  ("结余留用 retained", row["retained_fen"])]
    elif row["outcome"] == "overrun":
        items += [("超支 overrun", row["overrun_fen"]), ("合理超支区间 overrun band", row["overrun_band_fen"]),
                  ("基金分担 shared by the fund", row["shared_fen"]), ("机构承担 borne by the institution", row["borne_fen"])]
    items += [("清算金额 settled", row["settled_fen"]), ("应补拨(+)/应扣回(−) balance", row["balance_fen"])]
    lines += [f"{label:<36}{y(v):>18}" for label, v in items]
    lines.append("-" * 56)
    lines.append(f"结果 outcome: {row['outcome']}")
    return "\n".join(line for line in lines if line != "")
