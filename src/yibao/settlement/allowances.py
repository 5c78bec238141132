"""Cash benefits outside the claim: 生育津贴 (maternity allowance) and 长期护理保险 (long-term care).

Both read the pack at the date of the event; amounts in fen, rounding by the pack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao.errors import PolicyError, ValidationError
from yibao.money import MAX_AMOUNT_FEN, apply_rate, div_round_np
from yibao.policy.pack import Pack, Params, load_pack
from yibao.settlement.plan import ppm


BIRTH_NAMES = {"normal": "顺产", "dystocia": "难产", "caesarean": "剖宫产", "miscarriage_early": "流产 (未满 4 个月)",
               "miscarriage_late": "流产 (满 4 个月)"}


@dataclass(frozen=True)
class LeaveRule:
    """One rule's share of the 生育津贴 days, with the parameter and citation it comes from."""

    rule: str
    days: int
    parameter: str
    ref: str


@dataclass(frozen=True)
class Allowance:
    amount: int  # fen
    days: int
    explanation: str
    ref: str
    rules: tuple[LeaveRule, ...] = ()
    numerator: int = 1
    denominator: int = 1


def maternity_days(p: Params, birth: str, extra_babies: int = 0) -> tuple[LeaveRule, ...]:
    """The days the 生育津贴 is paid for, rule by rule: the statutory leave of the birth kind (or of the
    kind it counts as, e.g. 剖宫产 as 难产), each extra baby, and the region's extension."""
    if extra_babies < 0:
        raise ValidationError("extra_babies", f"{extra_babies} is negative")
    m = "benefits.maternity"
    table = {r["birth"]: int(r["days"]) for r in p.get(f"{m}.days") or []}
    counts_as = p.get(f"{m}.counts_as") or {}
    known = sorted(set(table) | {k for k, v in counts_as.items() if v in table})
    if birth not in known:
        raise ValidationError("birth", f"{birth!r} is not a birth kind of pack {p.pack.name!r} (known: {', '.join(known)})")
    kind = counts_as.get(birth, birth) if birth not in table else birth
    rules = []
    if kind != birth:
        rules.append(LeaveRule(f"{BIRTH_NAMES.get(birth, birth)} counts as {BIRTH_NAMES.get(kind, kind)}", 0,
                               f"{m}.counts_as", p.cite(f"{m}.counts_as").ref))
    rules.append(LeaveRule(f"产假 {BIRTH_NAMES.get(kind, kind)}", table[kind], f"{m}.days", p.cite(f"{m}.days").ref))
    if extra_babies:
        per_baby = int(p[f"{m}.extra_baby_days"])
        rules.append(LeaveRule(f"多胞胎 {extra_babies} × {per_baby} 天", extra_babies * per_baby, f"{m}.extra_baby_days",
                               p.cite(f"{m}.extra_baby_days").ref))
    extra = int((p.get(f"{m}.region_extra_days") or {}).get(kind, 0))
    if extra:
        rules.append(LeaveRule("地方延长产假", extra, f"{m}.region_extra_days", p.cite(f"{m}.region_extra_days").ref))
    return tuple(rules)


def maternity_allowances(pack: Pack, on: np.ndarray, monthly_wage: np.ndarray, birth: np.ndarray,
                         extra_babies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised 生育津贴 for many births: (days, amount in fen) per birth. ``on`` are the dates of the
    births (datetime64[D]); the pack is resolved once per distinct date, the rules once per distinct
    (date, birth kind, extra babies)."""
    wage = np.asarray(monthly_wage, dtype=np.int64)
    if (wage < 0).any():
        raise ValidationError("monthly_wage", f"negative wage {int(wage[wage < 0][0])} fen")
    if (wage > MAX_AMOUNT_FEN).any():
        raise ValidationError("monthly_wage", f"wage {int(wage.max())} fen is above {MAX_AMOUNT_FEN} fen")
    keys = pd.DataFrame({"on": np.asarray(on, dtype="datetime64[D]"), "birth": np.asarray(birth, dtype=object),
                         "extra": np.asarray(extra_babies, dtype=np.int64)})
    group, combos = pd.factorize(pd.MultiIndex.from_frame(keys))
    days, num, den = (np.zeros(len(combos), np.int64) for _ in range(3))
    resolved: dict[dt.date, Params] = {}
    for k, (day, kind, extra) in enumerate(combos):
        day = pd.Timestamp(day).date()
        p = resolved.setdefault(day, pack.at(day))
        days[k] = sum(r.days for r in maternity_days(p, kind, int(extra)))
        num[k] = int(p["benefits.maternity.allowance_numerator"])
        den[k] = int(p["benefits.maternity.allowance_denominator"])
    d = days[group]
    return d, div_round_np(wage * num[group] * d, den[group], pack.rounding)


def maternity_allowance(pack: Pack | str, on: dt.date, monthly_wage: int, birth: str = "normal",
                        extra_babies: int = 0) -> Allowance:
    """生育津贴 = employer's average monthly wage × numerator ÷ denominator × days (one rounding)."""
    pack = load_pack(pack) if isinstance(pack, str) else pack
    p = pack.at(on)
    rules = maternity_days(p, birth, extra_babies)
    days, amount = maternity_allowances(pack, np.array([on], "datetime64[D]"), np.array([monthly_wage]),
                                        np.array([birth], object), np.array([extra_babies]))
    num = int(p["benefits.maternity.allowance_numerator"])
    den = int(p["benefits.maternity.allowance_denominator"])
    ref = p.cite("benefits.maternity.allowance_denominator").ref
    return Allowance(int(amount[0]), int(days[0]), f"{monthly_wage / 100:.2f} × {num} ÷ {den} × {int(days[0])} 天", ref,
                     rules, num, den)


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


__all__ = ["Allowance", "BIRTH_NAMES", "LeaveRule", "ltc_benefit", "maternity_allowance", "maternity_allowances",
           "maternity_days"]
