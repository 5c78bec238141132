"""Kinds that read the person's history: 限定频次 over a period (两库 batch 8-4), 限定疗程 (a course of
N days in the 医保年度, two uses at least N days apart; batch 8-3 and 两库 drug courses), 重复开药 (the
same drug again within a window) and 超量开药 (units of one drug on a visit, or over a window).

A use is a (claim, date) on which the person was billed the item; uses count from claims admitted
before this one and from this claim's own earlier or same dates.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import ibis
import pandas as pd

from yibao.supervision.common import ClaimCheck, Kind, findings, half_up
from yibao.supervision.model import Finding, half_up as round_fen
from yibao.supervision.rules import ParamSpec


class Coded(NamedTuple):
    """Items (base codes when ``by_base``) with one value each (a count, a period, a number of days)."""

    frame: pd.DataFrame  # code, value[, period]
    by_base: bool
    index: dict

    @classmethod
    def of(cls, frame: pd.DataFrame, by_base: bool) -> "Coded":
        frame = frame.dropna().drop_duplicates("code").reset_index(drop=True)
        frame["code"] = frame["code"].astype(str)
        for c in frame.columns[1:]:
            frame[c] = frame[c].astype("int64")
        index = {r[0]: tuple(int(v) for v in r[1:]) for r in frame.itertuples(index=False)}
        return cls(frame, by_base, index)


def _before(u, c) -> ibis.expr.types.BooleanValue:
    """``u``'s claim is this claim or admitted before it."""
    return (u.u_claim == c.claim_id) | (u.u_adm < c.adm) | ((u.u_adm == c.adm) & (u.u_claim < c.claim_id))


def _latest_other(u, c):
    """The most recent other claim among the joined uses (by use day, then claim id)."""
    key = ibis.ifelse(u.u_claim != c.claim_id, u.u_day.cast("string").lpad(7, "0") + u.u_claim, ibis.null("string"))
    return key


def _ref(key):
    return key.max().substr(7)


class _Uses(Kind):
    """Shared batch plumbing: this claim's item dates (``own``) and every use by the person (``uses``)."""

    def own_and_uses(self, rule, data: Coded, t):
        x = t.applies(rule, t.lines_claims)
        items = t.memtable(data.frame)
        key = "base" if data.by_base else "item_code"
        own = x.join(items, x[key] == items.code).select(x, *[items[c] for c in data.frame.columns[1:]])
        own = own.group_by(["claim_id", "psn_no", "adm", key, "day", "service_date"] + list(data.frame.columns[1:])) \
            .aggregate(lines=own.line_no.collect(), amount=own.amount_fen.sum(), item=own.item_code.min())
        a = t.lines_claims
        uses = a.join(items.select("code"), a[key] == items.code).select(
            u_psn=a.psn_no, u_claim=a.claim_id, u_adm=a.adm, u_key=a[key], u_day=a.day, u_year=a.service_date.year()).distinct()
        j = own.join(uses, [own.psn_no == uses.u_psn, own[key] == uses.u_key, uses.u_day <= own.day])
        return own, j.filter(_before(j, j))

    def own_uses(self, c: ClaimCheck, data: Coded):
        """(code, day) → this claim's lines; and code → the person's uses {(claim_id, day)}."""
        own = defaultdict(list)
        for ln in c.lines:
            code = ln.base if data.by_base else ln.item_code
            if code in data.index:
                own[(code, ln.day)].append(ln)
        uses = {}
        for code in {k for k, _ in own}:
            uses[code] = {(cid, day, ln.service_date.year) for day, cid, ln, _ in c.uses(data.by_base).get(code, ())}
        return own, uses


def _period_source(params) -> Coded:
    from yibao.catalog.rules import service_period

    p = service_period()
    return Coded.of(pd.DataFrame({"code": p["base_item_code"], "max_count": p["max_count"],
                                  "period_days": p["period_days"]}), True)


class PeriodCount(_Uses):
    """限定频次: an item used more than ``max_count`` times in ``period_days`` days (两库 batch 8-4)."""

    name, label = "period_count", "限定频次"
    params = ParamSpec({"source": "one of nhsa_period"}, ("source",))

    def resolve(self, rule, catalog):
        return _period_source(rule.params)

    def batch(self, rule, data, t):
        own, j = self.own_and_uses(rule, data, t)
        j = j.filter(j.u_day > j.day - j.period_days)
        g = j.group_by(["claim_id", "day", "lines", "amount", "item", "max_count"]).aggregate(
            n=j.count(), ref=_ref(_latest_other(j, j)))
        g = g.filter(g.n > g.max_count)
        return findings(g, g.claim_id, g.amount, g.lines.sort(), g.item, g.n, g.max_count, g.ref)

    def check(self, rule, data, c):
        own, uses = self.own_uses(c, data)
        for (code, day), lines in own.items():
            max_count, period = data.index[code]
            inside = [(d, cid) for cid, d, _ in uses[code] if day - period < d <= day]
            if len(inside) > max_count:
                others = [(d, cid) for d, cid in inside if cid != c.claim.claim_id]
                yield Finding(c.claim.claim_id, tuple(sorted(ln.line_no for ln in lines)), min(ln.item_code for ln in lines),
                              float(len(inside)), float(max_count), sum(ln.amount_fen for ln in lines),
                              max(others)[1] if others else None)

    def text(self, rule, data, f):
        _, period = data.index.get(f.item_code[:9], (0, 0))
        return f"{rule.name}：{f.item_code} {period} 天内限 {f.limit:g} 次，已计 {f.observed:g} 次"


def _course_source(rule, catalog) -> Coded:
    if rule.params["source"] == "nhsa_drug":
        from yibao.supervision.items import nhsa_drug_items

        d = nhsa_drug_items(catalog, "course")
        return Coded.of(pd.DataFrame({"code": d["code"], "max_days": d["max_days"]}), False)
    from yibao.catalog.rules import service_course

    s = service_course()
    col = "max_days" if rule.kind == "course" else "min_interval_days"
    return Coded.of(pd.DataFrame({"code": s["base_item_code"], col: s[col]}), True)


class Course(_Uses):
    """限定疗程: an item used after its course of ``max_days`` from its first use in the 医保年度."""

    name, label = "course", "限定疗程"
    params = ParamSpec({"source": "one of nhsa_course nhsa_drug"}, ("source",))

    def resolve(self, rule, catalog):
        return _course_source(rule, catalog)

    def batch(self, rule, data, t):
        own, j = self.own_and_uses(rule, data, t)
        j = j.filter(j.u_year == j.service_date.year())
        first_key = j.u_day.cast("string").lpad(7, "0") + j.u_claim
        g = j.group_by(["claim_id", "day", "lines", "amount", "item", "max_days"]).aggregate(
            first=j.u_day.min(), first_key=first_key.min())
        g = g.filter(g.day - g.first >= g.max_days)
        ref = g.first_key.substr(7)
        ref = ibis.ifelse(ref == g.claim_id, ibis.null("string"), ref)
        return findings(g, g.claim_id, g.amount, g.lines.sort(), g.item, g.day - g.first + 1, g.max_days, ref)

    def check(self, rule, data, c):
        own, uses = self.own_uses(c, data)
        for (code, day), lines in own.items():
            (max_days,) = data.index[code]
            year = lines[0].service_date.year
            first, first_claim = min((d, cid) for cid, d, y in uses[code] if y == year and d <= day)
            if day - first >= max_days:
                yield Finding(c.claim.claim_id, tuple(sorted(ln.line_no for ln in lines)), min(ln.item_code for ln in lines),
                              float(day - first + 1), float(max_days), sum(ln.amount_fen for ln in lines),
                              None if first_claim == c.claim.claim_id else first_claim)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 疗程限 {f.limit:g} 天，本次为第 {f.observed:g} 天"


class Interval(_Uses):
    """限定疗程 (间隔): two uses of an item fewer than ``min_interval_days`` apart (两库 batch 8-3)."""

    name, label = "interval", "限定间隔"
    params = ParamSpec({"source": "one of nhsa_course"}, ("source",))

    def resolve(self, rule, catalog):
        return _course_source(rule, catalog)

    def batch(self, rule, data, t):
        own, j = self.own_and_uses(rule, data, t)
        j = j.filter(j.u_day < j.day)
        key = j.u_day.cast("string").lpad(7, "0") + j.u_claim
        g = j.group_by(["claim_id", "day", "lines", "amount", "item", "min_interval_days"]).aggregate(
            prev=j.u_day.max(), prev_key=key.max())
        g = g.filter(g.day - g.prev < g.min_interval_days)
        ref = g.prev_key.substr(7)
        ref = ibis.ifelse(ref == g.claim_id, ibis.null("string"), ref)
        return findings(g, g.claim_id, g.amount, g.lines.sort(), g.item, g.day - g.prev, g.min_interval_days, ref)

    def check(self, rule, data, c):
        own, uses = self.own_uses(c, data)
        for (code, day), lines in own.items():
            (gap,) = data.index[code]
            earlier = [(d, cid) for cid, d, _ in uses[code] if d < day]
            if earlier:
                prev, prev_claim = max(earlier)
                if day - prev < gap:
                    yield Finding(c.claim.claim_id, tuple(sorted(ln.line_no for ln in lines)),
                                  min(ln.item_code for ln in lines), float(day - prev), float(gap),
                                  sum(ln.amount_fen for ln in lines), None if prev_claim == c.claim.claim_id else prev_claim)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 两次间隔不少于 {f.limit:g} 天，本次间隔 {f.observed:g} 天"


def _drug_visits(t, rule):
    x = t.applies(rule, t.lines_claims)
    return x.filter(x.kind == "drug", ~x.is_stay)


def _prior_visit_drugs(t):
    a = t.lines_claims
    a = a.filter(a.kind == "drug", ~a.is_stay)
    return a.select(u_psn=a.psn_no, u_claim=a.claim_id, u_adm=a.adm, u_item=a.item_code, u_qty=a.qty,
                    u_inst=a.fixmedins_code)


def _prior(c: ClaimCheck, item: str, window: int):
    """Earlier visits' lines of a drug within ``window`` days of this claim's admission."""
    me = c.claim
    for day, cid, ln, claim in c.uses(False).get(item, ()):
        if cid != me.claim_id and not claim.is_stay and ln.kind == "drug" and me.adm - claim.adm < window:
            yield claim, ln


class RepeatDrug(Kind):
    """重复开药: the same drug bought again on a visit within ``window_days`` of an earlier visit
    (at another institution with ``other_institution``)."""

    name, label = "repeat_drug", "重复开药"
    params = ParamSpec({"window_days": "int", "other_institution": "bool"}, ("window_days",))

    def batch(self, rule, data, t):
        x = _drug_visits(t, rule)
        own = x.group_by(["claim_id", "psn_no", "adm", "fixmedins_code", "item_code"]).aggregate(
            lines=x.line_no.collect(), amount=x.amount_fen.sum())
        u = _prior_visit_drugs(t)
        cond = [own.psn_no == u.u_psn, own.item_code == u.u_item, u.u_claim != own.claim_id,
                (u.u_adm < own.adm) | ((u.u_adm == own.adm) & (u.u_claim < own.claim_id)),
                own.adm - u.u_adm < rule.params["window_days"]]
        if rule.params.get("other_institution"):
            cond.append(u.u_inst != own.fixmedins_code)
        j = own.join(u, cond)
        key = j.u_adm.cast("string").lpad(7, "0") + j.u_claim
        g = j.group_by(["claim_id", "item_code", "lines", "amount", "adm"]).aggregate(prev=j.u_adm.max(), ref=_ref(key))
        return findings(g, g.claim_id, g.amount, g.lines.sort(), g.item_code, g.adm - g.prev, ibis.literal(float(rule.params["window_days"])), g.ref)

    def check(self, rule, data, c):
        me = c.claim
        if me.is_stay:
            return
        window = rule.params["window_days"]
        other = rule.params.get("other_institution", False)
        for item, lines in _group_drugs(c).items():
            prior = [(claim.adm, claim.claim_id) for claim, _ in _prior(c, item, window)
                     if not other or claim.fixmedins_code != me.fixmedins_code]
            if prior:
                adm, ref = max(prior)
                yield Finding(me.claim_id, tuple(sorted(ln.line_no for ln in lines)), item, float(me.adm - adm),
                              float(window), sum(ln.amount_fen for ln in lines), ref)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 距上次开药 {f.observed:g} 天（{f.limit:g} 天内重复）"


def _group_drugs(c: ClaimCheck) -> dict:
    out = defaultdict(list)
    for ln in c.lines:
        if ln.kind == "drug":
            out[ln.item_code].append(ln)
    return out


class Oversupply(Kind):
    """超量开药: units of one drug on a visit (``window_days`` 0) or on the visits of ``window_days``
    days up to this one above ``max_units``; the excess at this visit's price is at stake."""

    name, label = "oversupply", "超量开药"
    params = ParamSpec({"max_units": "number", "window_days": "int"}, ("max_units",))

    def batch(self, rule, data, t):
        limit = float(rule.params["max_units"])
        window = rule.params.get("window_days", 0)
        x = _drug_visits(t, rule)
        own = x.group_by(["claim_id", "psn_no", "adm", "item_code"]).aggregate(
            lines=x.line_no.collect(), amount=x.amount_fen.sum(), qty=x.qty.sum(), price=x.price_fen.max())
        if window:
            u = _prior_visit_drugs(t)
            cond = [own.psn_no == u.u_psn, own.item_code == u.u_item, u.u_claim != own.claim_id,
                    (u.u_adm < own.adm) | ((u.u_adm == own.adm) & (u.u_claim < own.claim_id)),
                    own.adm - u.u_adm < window]
            j = own.left_join(u, cond)
            key = ibis.ifelse(j.u_claim.notnull(), j.u_adm.cast("string").lpad(7, "0") + j.u_claim, ibis.null("string"))
            own = j.group_by(["claim_id", "item_code", "lines", "amount", "qty", "price"]).aggregate(
                before=j.u_qty.sum().fill_null(0), ref=_ref(key))
        else:
            own = own.mutate(before=ibis.literal(0.0), ref=ibis.null("string"))
        g = own.mutate(total=own.qty + own.before)
        g = g.filter(g.total > limit)
        amt = ibis.least(half_up((g.total - limit) * g.price), g.amount)
        return findings(g, g.claim_id, amt, g.lines.sort(), g.item_code, g.total, ibis.literal(limit), g.ref)

    def check(self, rule, data, c):
        me = c.claim
        if me.is_stay:
            return
        limit = float(rule.params["max_units"])
        window = rule.params.get("window_days", 0)
        for item, lines in _group_drugs(c).items():
            prior = list(_prior(c, item, window)) if window else []
            total = sum(ln.qty for ln in lines) + sum(ln.qty for _, ln in prior)
            if total > limit:
                amount = sum(ln.amount_fen for ln in lines)
                price = max(ln.price_fen for ln in lines)
                ref = max((cl.adm, cl.claim_id) for cl, _ in prior)[1] if prior else None
                yield Finding(me.claim_id, tuple(sorted(ln.line_no for ln in lines)), item, float(total), limit,
                              min(round_fen((total - limit) * price), amount), ref)

    def text(self, rule, data, f):
        span = "单次" if not rule.params.get("window_days") else f"{rule.params['window_days']} 天内"
        return f"{rule.name}：{f.item_code} {span}开药 {f.observed:g} 单位，超过 {f.limit:g}"


__all__ = ["Coded", "Course", "Interval", "Oversupply", "PeriodCount", "RepeatDrug"]
