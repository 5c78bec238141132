"""Kinds about encounters rather than lines: 分解住院 (a readmission soon after a discharge, same
condition), 挂床住院 (a stay billing nothing but beds, nursing and rounds), 住院期间门诊/购药/住院 (a
claim admitted while a stay runs) and 死亡后就诊 (a claim dated after the person's death). The whole
claim is at stake.
"""

from __future__ import annotations

import ibis

from yibao.supervision.common import Kind, findings, starts_with_any
from yibao.supervision.model import Finding
from yibao.supervision.rules import ParamSpec


def _earlier(p, c):
    return (p.p_adm < c.adm) | ((p.p_adm == c.adm) & (p.p_claim < c.claim_id))


def _prior_stays(t):
    s = t.claims.filter(t.claims.is_stay)
    return s.select(p_psn=s.psn_no, p_claim=s.claim_id, p_adm=s.adm, p_dscg=s.dscg, p_inst=s.fixmedins_code,
                    p_principal=s.principal)


class SplitStay(Kind):
    """分解住院: a stay admitted within ``window_days`` of an earlier stay's discharge (at the same
    institution with ``same_institution``, for the same principal diagnosis category — its first
    ``dx_chars`` characters — with ``same_condition``)."""

    name, label = "split_stay", "分解住院"
    params = ParamSpec({"window_days": "int", "same_institution": "bool", "same_condition": "bool",
                        "dx_chars": "int"}, ("window_days",))

    def batch(self, rule, data, t):
        p = rule.params
        c = t.applies(rule, t.claims).filter(lambda s: s.is_stay)
        s = _prior_stays(t)
        cond = [c.psn_no == s.p_psn, c.claim_id != s.p_claim, _earlier(s, c), s.p_dscg <= c.adm,
                c.adm - s.p_dscg <= p["window_days"]]
        if p.get("same_institution", True):
            cond.append(c.fixmedins_code == s.p_inst)
        if p.get("same_condition", True):
            n = p.get("dx_chars", 3)
            cond.append(c.principal.substr(0, n) == s.p_principal.substr(0, n))
        j = c.join(s, cond)
        key = j.p_dscg.cast("string").lpad(7, "0") + j.p_claim
        g = j.group_by(["claim_id", "adm", "total"]).aggregate(last=j.p_dscg.max(), ref=key.max().substr(7))
        return findings(g, g.claim_id, g.total, ibis.literal([], type="array<int64>"), None, g.adm - g.last,
                        float(p["window_days"]), g.ref)

    def check(self, rule, data, c):
        p = rule.params
        me = c.claim
        if not me.is_stay:
            return
        n = p.get("dx_chars", 3)
        mine = me.diagnoses[0][:n] if me.diagnoses else None
        found = []
        for s in c.prior_stays:
            if s.dscg > me.adm or me.adm - s.dscg > p["window_days"]:
                continue
            if p.get("same_institution", True) and s.fixmedins_code != me.fixmedins_code:
                continue
            if p.get("same_condition", True) and (mine is None or not s.diagnoses or s.diagnoses[0][:n] != mine):
                continue
            found.append((s.dscg, s.claim_id))
        if found:
            last, ref = max(found)
            yield Finding(me.claim_id, (), None, float(me.adm - last), float(p["window_days"]), me.medfee_sumamt_fen, ref)

    def text(self, rule, data, f):
        return f"{rule.name}：出院 {f.observed:g} 天后再次入院（{f.limit:g} 天内，同病种），前次 {f.ref_claim_id}"


class BedHanging(Kind):
    """挂床住院: a stay of at least ``min_los`` days whose every line is a daily care item (bed,
    nursing, ward rounds: ``care_codes`` prefixes) — no treatment, test or drug."""

    name, label = "bed_hanging", "挂床住院"
    params = ParamSpec({"min_los": "int", "care_codes": "list of text"}, ("min_los", "care_codes"))

    def batch(self, rule, data, t):
        p = rule.params
        x = t.applies(rule, t.lines_claims).filter(lambda s: s.is_stay & (s.stay_days >= p["min_los"]))
        x = x.mutate(care=starts_with_any(x.item_code, p["care_codes"]).cast("int64"))
        g = x.group_by(["claim_id", "total"]).aggregate(n=x.count(), care=x.care.sum(), lines=x.line_no.collect())
        g = g.filter(g.n == g.care)
        return findings(g, g.claim_id, g.total, g.lines.sort(), None, g.n, 0.0)

    def check(self, rule, data, c):
        p = rule.params
        me = c.claim
        if not me.is_stay or me.stay_days < p["min_los"] or not c.lines:
            return
        codes = tuple(p["care_codes"])
        if all(ln.item_code.startswith(codes) for ln in c.lines):
            yield Finding(me.claim_id, tuple(sorted(ln.line_no for ln in c.lines)), None, float(len(c.lines)), 0.0,
                          me.medfee_sumamt_fen, None)

    def text(self, rule, data, f):
        return f"{rule.name}：住院 {f.observed:g} 条明细均为床位、护理、诊查，无治疗"


class Overlap(Kind):
    """住院期间门诊/购药/住院: a claim of ``med_types`` admitted strictly inside an earlier stay (after
    its admission day, before its discharge day)."""

    name, label = "overlap", "住院期间就诊"
    params = ParamSpec({"med_types": "list of text"}, ("med_types",))

    def batch(self, rule, data, t):
        c = t.applies(rule, t.claims).filter(lambda s: s.med_type.isin(rule.params["med_types"]))
        s = _prior_stays(t)
        j = c.join(s, [c.psn_no == s.p_psn, c.claim_id != s.p_claim, _earlier(s, c), s.p_adm < c.adm, c.adm < s.p_dscg])
        key = j.p_adm.cast("string").lpad(7, "0") + j.p_claim
        g = j.group_by(["claim_id", "adm", "total"]).aggregate(first=j.p_adm.max(), ref=key.max().substr(7))
        return findings(g, g.claim_id, g.total, ibis.literal([], type="array<int64>"), None, g.adm - g.first, None, g.ref)

    def check(self, rule, data, c):
        me = c.claim
        if me.med_type not in rule.params["med_types"]:
            return
        found = [(s.adm, s.claim_id) for s in c.prior_stays if s.adm < me.adm < s.dscg]
        if found:
            adm, ref = max(found)
            yield Finding(me.claim_id, (), None, float(me.adm - adm), None, me.medfee_sumamt_fen, ref)

    def text(self, rule, data, f):
        return f"{rule.name}：于住院 {f.ref_claim_id} 期间（入院后第 {f.observed:g} 天）发生"


class AfterDeath(Kind):
    """死亡后就诊: a claim admitted after the person's date of death."""

    name, label = "after_death", "死亡后就诊"
    params = ParamSpec({})

    def batch(self, rule, data, t):
        c = t.applies(rule, t.claims)
        c = c.filter(c.death.notnull() & (c.adm > c.death))
        return findings(c, c.claim_id, c.total, ibis.literal([], type="array<int64>"), None, c.adm - c.death)

    def check(self, rule, data, c):
        me = c.claim
        if me.death_date is not None and me.adm_date > me.death_date:
            yield Finding(me.claim_id, (), None, float((me.adm_date - me.death_date).days), None, me.medfee_sumamt_fen, None)

    def text(self, rule, data, f):
        return f"{rule.name}：死亡 {f.observed:g} 天后发生就诊结算"


__all__ = ["AfterDeath", "BedHanging", "Overlap", "SplitStay"]
