"""Kinds that count one claim's lines: 频次超限 (units per day or per stay), 虚记 (daily items billed
for more days than the stay), 重复收费 (the same once-a-day item twice on a day) and 互斥项目 (an item
billed with the item that includes it, NHSA 两库 batch 7 pairs).

A stay's lines may carry a whole stay's units on one date (one 结算清单 line per item), so daily
limits on a stay are checked against the stay's days (:attr:`Claim.stay_days`), not per date.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import ibis
import pandas as pd

from yibao.supervision.common import ClaimCheck, Kind, findings, half_up, starts_with_any
from yibao.supervision.model import Finding, half_up as round_fen
from yibao.supervision.rules import ParamSpec

HOURLY_UNITS_PER_DAY = 24  # an item limited per hour (≤ 1 an hour) bills at most 24 units a day


class Limits(NamedTuple):
    """Items by base code with a unit limit each."""

    frame: pd.DataFrame  # code, max_qty
    index: dict

    @classmethod
    def of(cls, frame: pd.DataFrame) -> "Limits":
        frame = frame.dropna().drop_duplicates("code").reset_index(drop=True)
        frame = frame.astype({"code": str, "max_qty": "int64"})
        return cls(frame, dict(zip(frame["code"], frame["max_qty"])))


def nhsa_limits(params: dict, hourly: bool) -> pd.DataFrame:
    """两库 batch 8-1 items, per day (items limited per hour at 24 a day when ``hourly``), filtered by the
    rule's ``items`` code prefixes."""
    from yibao.catalog.rules import service_frequency

    f = service_frequency()
    per_hour = f["per"] == "小时"
    f = f[(f["per"] == "日") | (per_hour & hourly)]
    qty = f["max_qty"].where(f["per"] == "日", f["max_qty"].clip(upper=1) * HOURLY_UNITS_PER_DAY)
    out = pd.DataFrame({"code": f["base_item_code"], "max_qty": qty})
    prefixes = tuple(params.get("items", ()))
    return out[out["code"].astype(str).str.startswith(prefixes)] if prefixes else out


def _limits(params: dict, hourly: bool, limit_key: str) -> Limits:
    if params["source"] == "nhsa_frequency":
        return Limits.of(nhsa_limits(params, hourly))
    return Limits.of(pd.DataFrame({"code": params.get("items", []), "max_qty": params.get(limit_key)}))


class _Units(Kind):
    """Units of an item (by base code) over ``max_qty`` times a number of days, grouped by ``by``."""

    def group(self, t, rule, data):
        x = t.applies(rule, t.lines_claims)
        lim = t.memtable(data.frame)
        x = x.join(lim, x.base == lim.code).select(x, lim.max_qty)
        return x

    def over(self, x, keys, days):
        x = x.mutate(days_=days)
        g = x.group_by(keys).aggregate(
            qty=x.qty.sum(), price=x.price_fen.max(), item=x.item_code.min(), lines=x.line_no.collect(),
            max_qty=x.max_qty.max(), days=x.days_.max())
        g = g.mutate(allowed=g.max_qty * g.days)
        g = g.filter(g.qty > g.allowed)
        return findings(g, g.claim_id, half_up((g.qty - g.allowed) * g.price), g.lines.sort(), g.item, g.qty, g.allowed)

    def units(self, c: ClaimCheck, data: Limits, per_date: bool, days: int):
        groups = defaultdict(list)
        for ln in c.lines:
            if ln.base in data.index:
                groups[(ln.base, ln.day if per_date else 0)].append(ln)
        for (base, _), lines in groups.items():
            qty = sum(ln.qty for ln in lines)
            limit = data.index[base] * days
            if qty > limit:
                price = max(ln.price_fen for ln in lines)
                yield Finding(c.claim.claim_id, tuple(sorted(ln.line_no for ln in lines)),
                              min(ln.item_code for ln in lines), float(qty), float(limit),
                              round_fen((qty - limit) * price), None)


class Frequency(_Units):
    """频次超限: per 日 on a visit (units of an item on one date), or per 当次住院 (units on one stay)."""

    name, label = "frequency", "频次超限"
    params = ParamSpec({"source": "one of nhsa_frequency list", "items": "list of text", "max_qty": "int",
                        "per": "one of 日 当次住院"}, ("source", "per"))

    def resolve(self, rule, catalog):
        return _limits(rule.params, hourly=True, limit_key="max_qty")

    def batch(self, rule, data, t):
        x = self.group(t, rule, data)
        if rule.params["per"] == "日":
            x = x.filter(~x.is_stay)
            return self.over(x, ["claim_id", "base", "day"], ibis.literal(1))
        x = x.filter(x.is_stay)
        return self.over(x, ["claim_id", "base"], ibis.literal(1))

    def check(self, rule, data, c):
        per_day = rule.params["per"] == "日"
        if c.claim.is_stay == per_day:
            return ()
        return self.units(c, data, per_date=per_day, days=1)

    def text(self, rule, data, f):
        per = "每日" if rule.params["per"] == "日" else "每次住院"
        return f"{rule.name}：{f.item_code} {per}限 {f.limit:g}，计费 {f.observed:g}"


class LosUnits(_Units):
    """虚记: items billed by the day on a stay for more days than the stay has (units over
    ``max_qty`` × (stay days + ``allowance_days``))."""

    name, label = "los_units", "虚记"
    params = ParamSpec({"source": "one of nhsa_frequency list", "items": "list of text", "per_day": "int",
                        "allowance_days": "int"}, ("source",))

    def resolve(self, rule, catalog):
        return _limits(rule.params, hourly=False, limit_key="per_day")

    def batch(self, rule, data, t):
        x = self.group(t, rule, data)
        x = x.filter(x.is_stay)
        return self.over(x, ["claim_id", "base"], x.stay_days + rule.params.get("allowance_days", 0))

    def check(self, rule, data, c):
        if not c.claim.is_stay:
            return ()
        return self.units(c, data, per_date=False, days=c.claim.stay_days + rule.params.get("allowance_days", 0))

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 按日计费 {f.observed:g}，住院天数只允许 {f.limit:g}"


class Duplicate(Kind):
    """重复收费: an item charged once a day (by code prefix) on two or more lines of one date; the
    extra lines are at stake."""

    name, label = "duplicate", "重复收费"
    params = ParamSpec({"codes": "list of text"}, ("codes",))

    def batch(self, rule, data, t):
        x = t.applies(rule, t.lines_claims)
        x = x.filter(starts_with_any(x.item_code, rule.params["codes"]))
        g = x.group_by(["claim_id", "item_code", "day"]).aggregate(
            n=x.count(), total=x.amount_fen.sum(), top=x.amount_fen.max(), lines=x.line_no.collect())
        g = g.filter(g.n > 1)
        return findings(g, g.claim_id, g.total - g.top, g.lines.sort(), g.item_code, g.n, ibis.literal(1.0))

    def check(self, rule, data, c):
        codes = tuple(rule.params["codes"])
        groups = defaultdict(list)
        for ln in c.lines:
            if ln.item_code.startswith(codes):
                groups[(ln.item_code, ln.day)].append(ln)
        for (code, _), lines in groups.items():
            if len(lines) > 1:
                amounts = [ln.amount_fen for ln in lines]
                yield Finding(c.claim.claim_id, tuple(sorted(ln.line_no for ln in lines)), code, float(len(lines)),
                              1.0, sum(amounts) - max(amounts), None)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 同日计费 {int(f.observed)} 次"


class Pairs(NamedTuple):
    frame: pd.DataFrame  # main, sub (base codes)
    subs: dict  # sub → set of mains


class Pair(Kind):
    """互斥项目: a sub item billed with the main item that includes it (两库 batch 7), on the same
    visit (单次就诊) or the same date (单日); the sub line is at stake. Pairs timed in hours (6小时,
    同一小时) need times of day the lines do not carry, so they are not checked here."""

    name, label = "pair", "互斥项目"
    params = ParamSpec({"window": "one of 单日 单次就诊"}, ("window",))

    def resolve(self, rule, catalog):
        from yibao.catalog.rules import service_pairs

        p = service_pairs()
        p = p[p["period"] == rule.params["window"]]
        frame = pd.DataFrame({"main": p["main_base_item_code"], "sub": p["sub_base_item_code"]}).dropna()
        frame = frame.astype(str).drop_duplicates().reset_index(drop=True)
        subs = defaultdict(set)
        for m, s in zip(frame["main"], frame["sub"]):
            subs[s].add(m)
        return Pairs(frame, dict(subs))

    def batch(self, rule, data, t):
        s = t.applies(rule, t.lines_claims)
        pairs = t.memtable(data.frame)
        s = s.join(pairs, s.base == pairs.sub).select(s, pairs.main)
        m = t.lines.select(m_claim=t.lines.claim_id, m_base=t.lines.base, m_line=t.lines.line_no, m_day=t.lines.day)
        cond = [s.claim_id == m.m_claim, s.main == m.m_base, s.line_no != m.m_line]
        if rule.params["window"] == "单日":
            cond.append(s.day == m.m_day)
        j = s.join(m, cond)
        g = j.group_by(["claim_id", "line_no", "item_code", "amount_fen"]).aggregate(main_line=j.m_line.min())
        lines = ibis.array([g.main_line.cast("int64"), g.line_no.cast("int64")])
        return findings(g, g.claim_id, g.amount_fen, lines, g.item_code)

    def check(self, rule, data, c):
        same_day = rule.params["window"] == "单日"
        for sub in c.lines:
            mains = data.subs.get(sub.base)
            if not mains:
                continue
            found = [m.line_no for m in c.lines if m.base in mains and m.line_no != sub.line_no
                     and (not same_day or m.day == sub.day)]
            if found:
                yield Finding(c.claim.claim_id, (min(found), sub.line_no), sub.item_code, None, None, sub.amount_fen, None)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code}（明细 {f.line_nos[1]}）已含于明细 {f.line_nos[0]} 的项目，不得另收"


__all__ = ["Duplicate", "Frequency", "Limits", "LosUnits", "Pair", "Pairs"]
