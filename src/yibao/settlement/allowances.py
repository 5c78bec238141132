"""Cash benefits outside the claim: 生育津贴 (maternity allowance) and 长期护理保险 (long-term care).

Both read the pack at the date of the event; amounts in fen, rounding by the pack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yibao.errors import PolicyError, ValidationError
from yibao.money import apply_rate, div_round
from yibao.policy.pack import Pack, load_pack
from yibao.settlement.plan import ppm


@dataclass(frozen=True)
class Allowance:
    amount: int  # fen
    days: int
    explanation: str
    ref: str


def maternity_allowance(pack: Pack | str, on: dt.date, monthly_wage: int, birth: str = "normal",
                        extra_babies: int = 0) -> Allowance:
    """生育津贴 = employer's average monthly wage × numerator ÷ denominator × days (one rounding)."""
    pack = load_pack(pack) if isinstance(pack, str) else pack
    if monthly_wage < 0:
        raise ValidationError("monthly_wage", f"negative wage {monthly_wage} fen")
    if extra_babies < 0:
        raise ValidationError("extra_babies", f"{extra_babies} is negative")
    p = pack.at(on)
    table = {r["birth"]: int(r["days"]) for r in p.get("benefits.maternity.days") or []}
    if birth not in table:
        raise ValidationError("birth", f"{birth!r} is not a birth type of pack {pack.name!r} (known: {', '.join(sorted(table))})")
    days = table[birth] + extra_babies * int(p.get("benefits.maternity.extra_baby_days", 0) or 0)
    num = int(p["benefits.maternity.allowance_numerator"])
    den = int(p["benefits.maternity.allowance_denominator"])
    amount = div_round(monthly_wage * num * days, den, pack.rounding)
    ref = p.cite("benefits.maternity.allowance_denominator").ref
    return Allowance(amount, days, f"{monthly_wage / 100:.2f} × {num} ÷ {den} × {days} 天", ref)


def ltc_benefit(pack: Pack | str, on: dt.date, insutype: str, level: str, setting: str, days: int = 0,
                months: int = 0, billed: int = 0) -> Allowance:
    """长期护理保险待遇 by assessed level and setting: monthly amount × months, daily amount × days, or
    rate × billed within a daily limit × days."""
    pack = load_pack(pack) if isinstance(pack, str) else pack
    if min(days, months, billed) < 0:
        raise ValidationError("days", "days, months and billed amount cannot be negative")
    p = pack.at(on)
    rows = p.get("benefits.ltc.benefits") or []

    def match(pattern, value):
        return str(pattern) == "*" or value in str(pattern).split("|")

    row = next((r for r in rows if match(r.get("insutype", "*"), insutype) and match(r.get("level", "*"), level)
                and r.get("setting") == setting), None)
    if row is None:
        raise ValidationError("setting", f"no 长护险 benefit for level {level!r} in setting {setting!r} in pack {pack.name!r}")
    kind = row.get("kind")
    if kind == "monthly":
        amount, expl = int(row["amount"]) * months, f"{int(row['amount']) / 100:.2f} 元/月 × {months} 月"
    elif kind == "daily":
        amount, expl = int(row["amount"]) * days, f"{int(row['amount']) / 100:.2f} 元/天 × {days} 天"
    elif kind == "rate":
        limit = int(row["daily_limit"]) * days
        amount = min(apply_rate(billed, ppm(row["rate"], "ltc.rate"), pack.rounding), limit)
        expl = f"{billed / 100:.2f} × {row['rate']} (≤ {int(row['daily_limit']) / 100:.2f} 元/天 × {days} 天)"
    else:
        raise PolicyError(f"pack {pack.name!r}: ltc kind {kind!r} is not monthly, daily or rate")
    return Allowance(amount, days, expl, str(row.get("ref") or p.cite("benefits.ltc.benefits").ref))


__all__ = ["Allowance", "maternity_allowance", "ltc_benefit"]
