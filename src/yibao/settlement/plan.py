"""Benefit plan: a pack's ``benefits.*`` parameters at one date, compiled into flat integer parameters
for each kind of claim (险种 × 医疗类别 × 机构级别 × 人员类别 × age × 救助身份 × 档次 × 异地备案 × 病种).

The engine works on per-claim integer arrays; this module turns the readable YAML grids into them.
Resolution is per distinct claim *kind*, so a year of millions of claims resolves a few hundred kinds.
Every resolved number keeps the parameter path and citation it came from, for the statement's trace.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

from yibao import vocab
from yibao.errors import PolicyError, ValidationError
from yibao.money import PPM, Rounding, rate_to_ppm
from yibao.policy.pack import NO_LIMIT, Pack, Params

NB = 5  # band slots per tier
NS = 2  # supplementary tier slots
NT = 5  # Nth-stay deductible table slots: stays 1 … NT (later stays take the last)
NOCAP = 10**15  # "no cap" in fen
B = "benefits"

# Group names (cap groups, deductible groups, …) interned to small ints shared by every plan, so a
# batch spanning several parameter periods uses one numbering; a lock keeps the numbering whole when
# several threads resolve new kinds at once.
_GROUPS: dict[str, int] = {"": 0}
_GROUP_NAMES: list[str] = [""]
_GROUPS_LOCK = threading.Lock()


def group_id(name: str) -> int:
    gid = _GROUPS.get(name)
    if gid is None:
        with _GROUPS_LOCK:
            gid = _GROUPS.get(name)
            if gid is None:
                _GROUP_NAMES.append(name)
                gid = _GROUPS[name] = len(_GROUP_NAMES) - 1
    return gid


def group_name(gid: int) -> str:
    return _GROUP_NAMES[int(gid)]


class DeductiblePer(IntEnum):
    """How a rule's 起付线 is met."""

    NONE = 0
    STAY = 1  # each stay pays its own
    YEAR = 2  # once a year, shared by the rule's deductible group


class NthStay(IntEnum):
    """多次住院: how the n-th stay's deductible follows from the first's."""

    NONE = 0
    FACTOR = 1  # × a factor from the second stay
    STEP = 2  # down a step each stay, to a floor
    TABLE = 3  # a table by stay number


class LargeExpense(IntEnum):
    """The shape of 职工大额."""

    NONE = 0
    ABOVE_CAP = 1  # tops up what the capped basic fund left
    THRESHOLD = 2  # pays on the year's personal burden above a threshold


class BurdenPayer(IntEnum):
    """Who bears the burden above the 个人负担控制 ceiling."""

    NONE = 0
    HOSPITAL = 1  # 医院负担
    ASSISTANCE = 2  # 医疗救助 again (再救助)


class Kind(NamedTuple):
    """What decides a claim's parameters (everything but the amounts and the running totals)."""

    insutype: str
    med_type: str
    level: str
    psn_type: str
    age: int
    identity: str  # the 医疗救助 identity that applies ("" none)
    tier: int  # 居民缴费档次 (0 unknown)
    filing: str  # "" in region; filed / referred / emergency / unfiled out of region
    chronic: str  # 门诊慢特病 code ("" none)
    civil_servant: bool
    waiver: str  # name of the special waiver that applies ("" none)
    supplementary: str = ""  # '|'-joined voluntary tiers the person joined (惠民保 …)
    inst_kind: str = ""  # institution kind (hospital / primary / pharmacy / a local kind such as tcm)
    enterprise: bool = False  # the employer runs 企业补充医疗保险


@dataclass
class Cite:
    parameter: str
    ref: str
    zh: str
    en: str


class _Pooling(NamedTuple):
    values: dict[str, int]
    cites: dict[str, "Cite"]
    group: str
    cap_group: str


@dataclass
class Resolved:
    """Flat parameters of one claim kind (ints: fen, ppm, flags) plus the citations behind them."""

    values: dict[str, int]
    cites: dict[str, Cite] = field(default_factory=dict)
    med_group: str = ""
    fund_code: str = ""
    _arrays: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _field_cites: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # the statement's
    _row: tuple[tuple[str, ...], np.ndarray] | None = field(default=None, repr=False, compare=False)

    def row(self, names: tuple[str, ...]) -> np.ndarray:
        """The values of ``names`` in that order (int64), kept with the kind: a year's batch tables
        the same kinds piece after piece."""
        hit = self._row
        if hit is None or hit[0] != names:
            hit = self._row = (names, np.array([self.values[k] for k in names], dtype=np.int64))
        return hit[1]

    def arrays(self) -> dict[str, Any]:
        """The values as length-1 int64 arrays, the engine's parameters for one claim (kept with the
        kind, so they live and go with it)."""
        if self._arrays is None:
            self._arrays = {k: np.array([v], dtype=np.int64) for k, v in self.values.items()}
        return self._arrays


_PPM: dict[tuple[type, Any], int] = {}  # a pack's few distinct rates, converted once for all its kinds


def ppm(value: Any, where: str) -> int:
    key = (type(value), value)
    hit = _PPM.get(key)
    if hit is None:
        hit = rate_to_ppm(value if isinstance(value, Decimal) else Decimal(str(value)), where)
        if len(_PPM) < 4096:  # bounded: rates come from packs, not from claims
            _PPM[key] = hit
    return hit


def _psn_class(psn_type: str) -> str:
    if psn_type in vocab.RETIRED_PSN_TYPES:
        return "retired"
    if psn_type == vocab.ACTIVE:
        return "active"
    return "resident"


def _matches(pattern: Any, value: str) -> bool:
    pattern = "*" if pattern in (None, "") else str(pattern)
    return pattern == "*" or value in pattern.split("|")


class Plan:
    """The benefit parameters of one pack on one date."""

    def __init__(self, params: Params):
        self.params = params
        self.pack = params.pack
        self.date = params.date
        g = lambda path, default=None: params.get(f"{B}.{path}", default)  # noqa: E731
        self.med_groups: dict[str, str] = g("scope.med_groups") or {}
        if not self.med_groups:
            raise PolicyError(f"pack {self.pack.name!r}: no benefits.scope.med_groups on {self.date}")
        self.rules: list[dict] = g("pooling.rules") or []
        self.stay_groups = set(g("scope.stay_groups") or [])
        self.nth_stay = g("pooling.nth_stay") or []
        self.nth_table = g("pooling.nth_stay_deductibles") or []
        # items paid at a 统筹 rate of their own (高值耗材, 进口 items), by item code
        self.item_rates = {code: r for r in (g("scope.item_rates") or []) for code in str(r["item_code"]).split("|")}
        self.age_bonus = g("pooling.age_bonus") or []
        self.free_age = g("pooling.deductible_free_age") or []
        self.tier_points = {int(r["tier"]): r["points"] for r in (g("pooling.tier_points") or [])}
        self.caps = g("pooling.caps") or []
        self.chronic = {r["code"]: r for r in (g("chronic.diseases") or [])}
        self.filing = {r["filing"]: r for r in (g("out_of_area.by_filing") or [])}
        self.assistance = {r["identity"]: r for r in (g("assistance.categories") or [])}
        self.priority = list(g("assistance.priority") or list(self.assistance))
        self.supplementary = (g("supplementary.tiers") or [])[:NS]
        self.waivers = g("waivers.list") or []
        self.rounding = self.pack.rounding
        self._kinds: dict[Kind, Resolved] = {}
        self._rules_of: dict[tuple, tuple[int, dict]] = {}
        self._tiers: dict[tuple, tuple[dict[str, int], dict[str, Cite]]] = {}
        self._pools: dict[tuple, _Pooling] = {}
        # the only ages the rules compare against: a claim's age is resolved as the band it falls in
        self.age_marks = sorted({0} | {int(r["from_age"]) for r in self.age_bonus + self.free_age})

    @functools.cached_property
    def default_preselfpay(self) -> int:
        """乙类 先行自付 share (ppm) of the items whose catalog gives none."""
        return ppm(self.get("scope.default_preselfpay", 0), "default_preselfpay")

    @functools.cached_property
    def item_rate_ppm(self) -> dict[str, tuple[int, int]]:
        """``scope.item_rates`` by item code: (统筹 rate, 先行自付 share), in ppm (−1: not given)."""
        return {code: (ppm(r["fund_rate"], "item_rates.fund_rate"),
                       ppm(r["preselfpay"], "item_rates.preselfpay") if r.get("preselfpay") is not None else -1)
                for code, r in self.item_rates.items()}

    def age_key(self, age: int) -> int:
        """The lower bound of the age band ``age`` falls in (same parameters for every age in it)."""
        return max(m for m in self.age_marks if m <= max(age, 0))

    # -- helpers -------------------------------------------------------------------------------
    def cite(self, path: str, zh: str, en: str, ref: str | None = None) -> Cite:
        full = f"{B}.{path}"
        c = self.params.cite(full)
        return Cite(full, ref or c.ref, zh, en)

    def get(self, path: str, default: Any = None) -> Any:
        return self.params.get(f"{B}.{path}", default)

    def limit(self, value: Any, path: str) -> int:
        """A cap or limit in fen, the same in every tier: ``none`` is no cap (NOCAP); a missing one is
        an error, never "pays 0" in one tier and "no cap" in another."""
        if value is NO_LIMIT:
            return NOCAP
        if value is None:
            raise PolicyError(f"pack {self.pack.name!r}: {B}.{path} is missing on {self.date} "
                              f"(write none for no cap or limit)")
        return int(value)

    def med_group(self, med_type: str, record: str = "") -> str:
        try:
            return self.med_groups[med_type]
        except KeyError:
            raise ValidationError("med_type", f"{med_type!r} is not a med_type of pack {self.pack.name!r} "
                                  f"(known: {', '.join(sorted(self.med_groups))})", record) from None

    def identity_of(self, identities: tuple[str, ...] | list[str]) -> str:
        """The identity that governs 救助 and the 大病 tilt: the first in the pack's priority list."""
        held = set(identities)
        for ident in self.priority:
            if ident in held:
                return ident
        return ""

    def waiver_of(self, diagnoses: tuple[str, ...], identities: tuple[str, ...]) -> str:
        for w in self.waivers:
            dx = w.get("dx_prefix")
            if dx and any(d.startswith(p) for d in diagnoses for p in str(dx).split("|")):
                return w["name"]
            ident = w.get("identity")
            if ident and set(str(ident).split("|")) & set(identities):
                return w["name"]
        return ""

    # -- resolution ----------------------------------------------------------------------------
    def resolve(self, kind: Kind) -> Resolved:
        return _resolve_cached(self, kind)

    def _rule(self, kind: Kind, group: str) -> tuple[int, dict]:
        """The first pooling rule that fits; many kinds share a rule, so it is looked up once per fit."""
        key = (kind.insutype, group, kind.level, kind.inst_kind, kind.psn_type)
        hit = self._rules_of.get(key)
        if hit is None:
            hit = self._rules_of.setdefault(key, self._first_rule(*key))
        return hit

    def _first_rule(self, insutype: str, group: str, level: str, inst_kind: str, psn_type: str) -> tuple[int, dict]:
        psn = (_psn_class(psn_type), psn_type)
        for i, r in enumerate(self.rules):
            if (_matches(r.get("insutype"), insutype) and _matches(r.get("med"), group)
                    and _matches(r.get("level"), level) and _matches(r.get("institution"), inst_kind)
                    and (r.get("psn", "*") == "*" or any(_matches(r.get("psn"), x) for x in psn))):
                return i, r
        raise PolicyError(f"pack {self.pack.name!r}: no pooling rule for insutype {insutype}, med {group}, "
                          f"level {level}, psn_type {psn_type} on {self.date}")

    def _resolve(self, kind: Kind) -> Resolved:
        pooling = self._pooling_of(kind)
        v, cites, group, cap_group = dict(pooling.values), dict(pooling.cites), pooling.group, pooling.cap_group
        # the tiers after pooling, each keyed by the only fields of the kind it reads
        for tier, key, fill in (
            ("large_expense", (kind.insutype, cap_group), lambda v, c: self._large_expense(kind, v, c, cap_group)),
            ("civil_servant", (kind.civil_servant,), lambda v, c: self._civil_servant(kind, v, c)),
            ("enterprise", (kind.enterprise, kind.insutype), lambda v, c: self._enterprise(kind, v, c)),
            ("serious_illness", (kind.insutype, kind.identity), lambda v, c: self._serious_illness(kind, v, c)),
            ("assistance", (kind.identity,), lambda v, c: self._assistance(kind, v, c)),
            ("burden_ceiling", (kind.identity, group, kind.level, kind.filing),
             lambda v, c: self._burden_ceiling(kind, group, v, c)),
            ("supplementary", (kind.insutype, kind.supplementary), lambda v, c: self._supplementary(kind, v, c)),
            ("account", (kind.insutype, group), lambda v, c: self._account(kind, group, v, c)),
        ):
            tier_values, tier_cites = self._tier(tier, key, fill)
            v.update(tier_values)
            cites.update(tier_cites)
        fund = vocab.POOLING_FUNDS.get(kind.insutype, vocab.FUND_EMPLOYEE_POOLING)
        return Resolved(v, cites, group, fund)

    def _pooling_of(self, kind: Kind) -> _Pooling:
        """Basic pooling's parameters for the kind's pooling fields, worked out once per distinct value of
        them: kinds that differ only in what the later tiers read (identity, 公务员, 企业补充, supplementary)
        share it."""
        key = (kind.insutype, kind.med_type, kind.level, kind.psn_type, kind.age, kind.tier, kind.filing,
               kind.chronic, kind.waiver, kind.inst_kind)
        hit = self._pools.get(key)
        if hit is None:
            hit = self._pools.setdefault(key, self._pooling(kind))
        return hit

    def _pooling(self, kind: Kind) -> _Pooling:
        """起付线, 支付比例 and 年度限额 of basic pooling; reads only the fields :meth:`_pooling_of` keys by."""
        v: dict[str, int] = {}
        cites: dict[str, Cite] = {}
        group = self.med_group(kind.med_type)
        idx, rule = self._rule(kind, group)
        rpath = f"pooling.rules[{idx}]"
        rule_cite = self.cite("pooling.rules", f"统筹基金支付规则 {group}", f"basic pooling rule {group}", rule.get("ref"))
        cites["hifp_pay"] = Cite(f"{B}.{rpath}", rule_cite.ref, rule_cite.zh, rule_cite.en)
        waiver = next((w for w in self.waivers if w["name"] == kind.waiver), None) if kind.waiver else None
        if waiver:
            cites["waiver"] = self.cite("waivers.list", f"特殊政策 {waiver['name']}", f"special waiver {waiver['name']}", waiver.get("ref"))
        v["lift_scope"] = int(bool(waiver and waiver.get("lift_scope")))

        # 起付线 deductible
        per = {"stay": DeductiblePer.STAY, "year": DeductiblePer.YEAR}.get(str(rule.get("per", "none")), DeductiblePer.NONE)
        ded = int(rule.get("deductible", 0) or 0)
        ded_group = str(rule.get("deductible_group") or group)
        disease = self.chronic.get(kind.chronic) if group == "chronic" else None
        v["chronic_unlisted"] = int(group == "chronic" and disease is None)
        if disease is not None:
            if not _matches(disease.get("insutype"), kind.insutype):
                disease = None
                v["chronic_unlisted"] = 1
        if disease is not None:
            ded = int(disease.get("deductible", 0) or 0)
            per = DeductiblePer.YEAR if ded else DeductiblePer.NONE
            ded_group = f"chronic:{kind.chronic}"  # each disease its own yearly deductible
            cites["chronic"] = self.cite("chronic.diseases", f"门诊慢特病 {disease.get('name', kind.chronic)}",
                                         f"chronic disease {kind.chronic}", disease.get("ref"))
        free = [r for r in self.free_age if _matches(r.get("insutype"), kind.insutype) and kind.age >= int(r["from_age"])]
        if free:
            ded = 0
            cites["act_pay_dedc"] = self.cite("pooling.deductible_free_age", f"{free[-1]['from_age']}岁以上免起付线",
                                              f"no deductible from age {free[-1]['from_age']}")
        if waiver and waiver.get("lift_deductible"):
            ded = 0
        v["ded"] = ded
        v["ded_per"] = int(per)
        v["ded_group"] = group_id(f"ded:{ded_group}")
        v["counts_stay"] = int(group in self.stay_groups)
        nth = next((r for r in self.nth_stay if _matches(r.get("insutype"), kind.insutype)
                    and _matches(r.get("levels"), kind.level)), None)
        v["nth_mode"] = int({"factor": NthStay.FACTOR, "step": NthStay.STEP}.get(str(nth.get("mode")) if nth else "",
                                                                                 NthStay.NONE))
        v["nth_factor"] = ppm(nth.get("factor", 1), "nth_stay.factor") if nth else PPM
        v["nth_step"] = int(nth.get("step", 0) or 0) if nth else 0
        v["nth_floor"] = int(nth.get("floor", 0) or 0) if nth else 0
        v["nth_waive_from"] = int(nth.get("waive_from", 0) or 0) if nth else 0
        if nth and per == DeductiblePer.STAY:
            cites["nth_stay"] = self.cite("pooling.nth_stay", "多次住院起付线", "Nth-stay deductible")
        self._nth_table(kind, per, ded, v, cites)
        if "act_pay_dedc" not in cites:
            cites["act_pay_dedc"] = Cite(cites["hifp_pay"].parameter + ".deductible", rule_cite.ref,
                                         f"起付线 {ded / 100:.2f} 元 ({rule.get('per', 'none')})",
                                         f"deductible {ded / 100:.2f} yuan per {rule.get('per', 'none')}")

        # 支付比例: single rate or bands, plus points (age, tier), minus the 异地 cut
        points = 0
        bonus = [r for r in self.age_bonus if _matches(r.get("insutype"), kind.insutype) and kind.age >= int(r["from_age"])]
        if bonus:
            best = max(bonus, key=lambda r: int(r["from_age"]))
            points += ppm(best["points"], "age_bonus.points")
            cites["age_bonus"] = self.cite("pooling.age_bonus", f"{best['from_age']}岁以上加 {best['points']}",
                                           f"age {best['from_age']}+ bonus {best['points']}")
        if kind.insutype == vocab.RESIDENT and kind.tier and kind.tier in self.tier_points:
            points += ppm(self.tier_points[kind.tier], "tier_points")
            cites["tier"] = self.cite("pooling.tier_points", f"缴费档次 {kind.tier}", f"contribution tier {kind.tier}")
        cut, oa_presel = 0, 0
        if kind.filing:
            f = self.filing.get(kind.filing)
            if f is None:
                raise ValidationError("filing", f"{kind.filing!r} is not a filing status of pack {self.pack.name!r} "
                                      f"(known: {', '.join(sorted(self.filing))})")
            cut = ppm(f.get("rate_cut", 0) or 0, "rate_cut")
            oa_presel = ppm(f.get("preselfpay", 0) or 0, "preselfpay")
            cites["out_of_area"] = self.cite("out_of_area.by_filing", f"异地就医 {kind.filing}", f"out of area: {kind.filing}", f.get("ref"))
        v["oa_presel"] = oa_presel
        v["oa_cut"] = cut
        if rule.get("bands"):
            bands = self.get(f"pooling.bands.{rule['bands']}")
            if not bands:
                raise PolicyError(f"pack {self.pack.name!r}: rule {rpath} names band table {rule['bands']!r}, not in force on {self.date}")
            froms = [int(b["from"]) for b in bands]
            rates = [ppm(b["rate"], "band.rate") for b in bands]
        else:
            froms, rates = [0], [ppm(rule.get("rate", 0) or 0, f"{rpath}.rate")]
        if disease is not None:
            froms, rates = [0], [ppm(disease["rate"], "chronic.rate")]
        if v["chronic_unlisted"]:
            rates = [0 for _ in rates]
        if len(froms) > NB:
            raise PolicyError(f"pack {self.pack.name!r}: at most {NB} bands per table")
        full = [min(PPM, max(0, r + points)) if r else 0 for r in rates]
        eff = [max(0, f - cut) for f in full]
        _bands(v, "band", froms, eff)
        _bands(v, "bandcut", froms, [f - e for f, e in zip(full, eff)])  # the 异地 cut, band by band
        v["band_year"] = int(str(rule.get("band_basis", "stay")) == "year")
        v["band_group"] = group_id(f"band:{group}")
        v["rate"] = eff[0]
        # 年度最高支付限额
        cap_group = str(rule.get("cap_group") or group)
        if disease is not None:
            cap_group = f"chronic:{kind.chronic}"
            cap = self.limit(disease.get("annual_limit"), f"chronic.diseases {kind.chronic} annual_limit")
        else:
            cap = self.limit(self._pool_cap(kind.insutype, cap_group, rpath), f"pooling.caps {cap_group}")
        if cap != NOCAP:
            cites["cap"] = (self.cite("chronic.diseases", f"慢特病年度限额 {cap / 100:.2f}", f"chronic annual limit {cap / 100:.2f}",
                                      disease.get("ref")) if disease is not None else
                            self.cite("pooling.caps", f"统筹基金年度限额 {cap_group} {cap / 100:.2f}",
                                      f"annual cap {cap_group} {cap / 100:.2f}"))
        v["cap"] = NOCAP if waiver and waiver.get("lift_cap") else cap
        v["cap_group"] = group_id(f"cap:{cap_group}")
        return _Pooling(v, cites, group, cap_group)

    def _tier(self, tier: str, key: tuple, fill) -> tuple[dict[str, int], dict[str, Cite]]:
        """One tier's parameters and citations, worked out once per distinct ``key`` (the kind's fields
        the tier reads): the region's thousands of kinds share a handful of each tier's."""
        hit = self._tiers.get((tier, key))
        if hit is None:
            values: dict[str, int] = {}
            cites: dict[str, Cite] = {}
            fill(values, cites)
            hit = self._tiers.setdefault((tier, key), (values, cites))
        return hit

    def _pool_cap(self, insutype: str, cap_group: str, rpath: str) -> Any:
        row = next((c for c in self.caps if _matches(c.get("insutype"), insutype) and str(c["group"]) == cap_group), None)
        if row is None:
            raise PolicyError(f"pack {self.pack.name!r}: {B}.{rpath} pays into cap group {cap_group!r}, which has no "
                              f"{B}.pooling.caps row for insutype {insutype} on {self.date} (amount: none for no cap)")
        return row["amount"]

    def _nth_table(self, kind: Kind, per: int, ded: int, v: dict, cites: dict) -> None:
        """多次住院起付线 given as a table by stay number (e.g. 400 / 280 / 200 元): stay k pays the row of
        the largest stay number ≤ k (stays before the first row, the rule's own deductible)."""
        table = sorted((r for r in self.nth_table if _matches(r.get("insutype"), kind.insutype)
                        and _matches(r.get("levels"), kind.level)), key=lambda r: int(r["stay"]))
        if any(int(r["stay"]) > NT or int(r["stay"]) < 1 for r in table):
            raise PolicyError(f"pack {self.pack.name!r}: pooling.nth_stay_deductibles gives stays 1 to {NT}")
        on = bool(table) and per == DeductiblePer.STAY
        amount = ded
        for k in range(1, NT + 1):
            amount = next((int(r["deductible"]) for r in reversed(table) if int(r["stay"]) <= k), ded)
            v[f"nth_table{k - 1}"] = amount if on else 0
        if on:
            v["nth_mode"] = int(NthStay.TABLE)
            cites["nth_stay"] = self.cite("pooling.nth_stay_deductibles", "多次住院起付线 (按住院次数)",
                                          "Nth-stay deductible by stay number", table[0].get("ref"))

    def _large_expense(self, kind: Kind, v: dict, cites: dict, cap_group: str) -> None:
        shape = str(self.get("large_expense.shape", "none")) if kind.insutype == vocab.EMPLOYEE else "none"
        v["ob_shape"] = int({"above_cap": LargeExpense.ABOVE_CAP, "threshold": LargeExpense.THRESHOLD}.get(shape, 0))
        # above_cap continues only the caps it tops up (住院/慢特病 统筹, not the outpatient cap)
        v["ob_above_cap"] = int(v["ob_shape"] == LargeExpense.ABOVE_CAP and cap_group in (self.get("large_expense.cap_groups") or ["pooling"]))
        v["ob_rate"] = ppm(self.get("large_expense.rate", 0), "large_expense.rate") if v["ob_shape"] else 0
        v["ob_threshold"] = int(self.get("large_expense.threshold", 0) or 0)
        v["ob_cap"] = self.limit(self.get("large_expense.cap"), "large_expense.cap") if v["ob_shape"] else 0
        if v["ob_shape"]:
            cites["hifob_pay"] = self.cite("large_expense.rate", f"职工大额补助 {shape} {self.get('large_expense.rate')}",
                                           f"employee large-expense supplement ({shape})")

    def _civil_servant(self, kind: Kind, v: dict, cites: dict) -> None:
        on = kind.civil_servant and self.params.has(f"{B}.civil_servant.rate")
        v["cvl_rate"] = ppm(self.get("civil_servant.rate"), "civil_servant.rate") if on else 0
        v["cvl_cap"] = self.limit(self.get("civil_servant.cap"), "civil_servant.cap") if on else 0
        if on:
            cites["cvlserv_pay"] = self.cite("civil_servant.rate", "公务员医疗补助", "civil-servant supplement")

    def _enterprise(self, kind: Kind, v: dict, cites: dict) -> None:
        """企业补充医疗保险 (hifes_pay): for employees whose employer runs it, a share of what the
        person still bears after basic pooling, 大额 and 公务员 — the in-scope part, or (``base:
        personal``) also the 自费 parts — above a yearly deductible, up to a yearly cap."""
        on = kind.enterprise and kind.insutype in (self.get("enterprise_supplementary.insutypes") or [])
        v["es_on"] = int(on)
        v["es_personal"] = int(on and str(self.get("enterprise_supplementary.base", "in_scope")) == "personal")
        v["es_ded"] = int(self.get("enterprise_supplementary.deductible", 0) or 0) if on else 0
        v["es_rate"] = ppm(self.get("enterprise_supplementary.rate", 0), "enterprise_supplementary.rate") if on else 0
        v["es_cap"] = self.limit(self.get("enterprise_supplementary.cap"), "enterprise_supplementary.cap") if on else 0
        if on:
            cites["hifes_pay"] = self.cite("enterprise_supplementary.rate", "企业补充医疗保险",
                                           "enterprise supplementary insurance")

    def _burden_ceiling(self, kind: Kind, group: str, v: dict, cites: dict) -> None:
        """个人负担控制: for the listed identities, levels and kinds of care, the person's in-scope
        burden left after the public tiers may not exceed a share of the in-scope amount; the excess
        is borne by the hospital (hosp_part_amt) or paid by 医疗救助 as 再救助 (maf_pay)."""
        rule = next((r for r in (self.get("burden_ceiling.rules") or [])
                     if kind.identity and _matches(r.get("identity"), kind.identity) and _matches(r.get("med"), group)
                     and _matches(r.get("level"), kind.level) and not (r.get("in_region_only") and kind.filing)), None)
        v["ceil_on"] = int(rule is not None)
        v["ceil_share"] = ppm(rule["share"], "burden_ceiling.share") if rule else 0
        v["ceil_payer"] = int({"hospital": BurdenPayer.HOSPITAL, "assistance": BurdenPayer.ASSISTANCE}.get(
            str(rule.get("payer")), BurdenPayer.NONE)) if rule else 0
        if rule and not v["ceil_payer"]:
            raise PolicyError(f"pack {self.pack.name!r}: burden_ceiling payer {rule.get('payer')!r} is not hospital or assistance")
        if rule:  # cited under the field it pays into
            pct = f"{float(rule['share']) * 100:g}%"  # display only
            hospital = v["ceil_payer"] == BurdenPayer.HOSPITAL
            payer = ("医院负担", "borne by the hospital") if hospital else ("再救助", "further assistance")
            cites["hosp_part" if hospital else "maf_again"] = self.cite(
                "burden_ceiling.rules", f"政策范围内个人负担控制在 {pct} 以内, 超出部分{payer[0]}",
                f"in-scope personal burden held to {pct} of the in-scope amount, the excess {payer[1]}", rule.get("ref"))

    def _serious_illness(self, kind: Kind, v: dict, cites: dict) -> None:
        on = kind.insutype in (self.get("serious_illness.insutypes") or [])
        v["mi_on"] = int(on)
        ded = int(self.get("serious_illness.deductible", 0) or 0) if on else 0
        bands = self.get("serious_illness.bands") or [] if on else []
        froms = [int(b["from"]) for b in bands] or [0]
        rates = [ppm(b["rate"], "serious_illness.bands.rate") for b in bands] or [0]
        cap = self.get("serious_illness.cap")
        tilt = on and kind.identity and kind.identity in (self.get("serious_illness.tilt.identities") or [])
        if tilt:
            ded = int(Decimal(ded) * Decimal(self.get("serious_illness.tilt.deductible_factor", 1)))
            fixed = self.get("serious_illness.tilt.rate")
            if fixed is not None:  # a single rate for the tilt (沈阳: 70%)
                froms, rates = [0], [ppm(fixed, "tilt.rate")]
            pts = ppm(self.get("serious_illness.tilt.rate_points", 0), "tilt.rate_points")
            rates = [min(PPM, r + pts) for r in rates]
            cap = self.get("serious_illness.tilt.cap", cap)  # the tilt's own cap, if it has one
            cites["tilt"] = self.cite("serious_illness.tilt.identities", f"大病倾斜 {kind.identity}", f"tilt for {kind.identity}")
        if on and str(self.get("serious_illness.band_mode", "absolute")) == "above_deductible":
            froms = [f + ded for f in froms]
        froms = [max(f, ded) for f in froms] if on else [NOCAP]  # off: no band to reach
        _bands(v, "mi", froms, rates)
        v["mi_ded"] = ded
        v["mi_cap"] = self.limit(cap, "serious_illness.cap") if on else NOCAP
        if on:
            cites["hifmi_pay"] = self.cite("serious_illness.bands", f"居民大病保险 起付 {ded / 100:.2f}",
                                           f"resident serious-illness insurance, deductible {ded / 100:.2f}")

    def _assistance(self, kind: Kind, v: dict, cites: dict) -> None:
        cat = self.assistance.get(kind.identity) if kind.identity else None
        v["maf_on"] = int(cat is not None)
        v["maf_ded"] = int(cat.get("deductible", 0) or 0) if cat else 0
        v["maf_rate"] = ppm(cat["rate"], "assistance.rate") if cat else 0
        v["maf_limit"] = self.limit(cat.get("annual_limit"), f"assistance.categories {kind.identity} annual_limit") if cat else 0
        v["maf_no_penalty"] = int(bool(self.get("assistance.exclude_unfiled_penalty", False)))
        if cat:
            cites["maf_pay"] = self.cite("assistance.categories", f"医疗救助 {kind.identity}", f"medical assistance: {kind.identity}", cat.get("ref"))

    def _supplementary(self, kind: Kind, v: dict, cites: dict) -> None:
        for k in range(NS):
            t = self.supplementary[k] if k < len(self.supplementary) else None
            joined = set(kind.supplementary.split("|")) if kind.supplementary else set()
            on = (t is not None and _matches(t.get("insutype"), kind.insutype)
                  and (t.get("voluntary") is False or t["name"] in joined))
            v[f"sup{k}_on"] = int(on)
            v[f"sup{k}_ded"] = int(t.get("deductible", 0) or 0) if on else 0
            v[f"sup{k}_rate"] = ppm(t.get("rate", 0), "supplementary.rate") if on else 0
            v[f"sup{k}_cap"] = self.limit(t.get("cap"), f"supplementary.tiers {t['name']} cap") if on else 0
            v[f"sup{k}_oos"] = int(bool(t.get("out_of_scope"))) if on else 0
            if on:
                cites[f"sup{k}"] = self.cite("supplementary.tiers", f"补充保障 {t['name']}", f"supplementary tier {t['name']}", t.get("ref"))

    def _account(self, kind: Kind, group: str, v: dict, cites: dict) -> None:
        allowed = self.get("account.med_groups") or []
        on = kind.insutype == vocab.EMPLOYEE and ("*" in allowed or group in allowed)
        v["acct_on"] = int(on)
        v["acct_in_catalog"] = int(str(self.get("account.pays", "all")) == "in_catalog")
        v["fam_on"] = int(on and bool(self.params.get("account.family_mutual_aid", False)))
        if on:
            cites["acct_pay"] = self.cite("account.pays", f"个人账户支付范围 {self.get('account.pays')}", f"personal account pays: {self.get('account.pays')}")


def _bands(v: dict, prefix: str, froms: list[int], rates: list[int]) -> None:
    for b in range(NB):
        v[f"{prefix}_from{b}"] = froms[b] if b < len(froms) else NOCAP
        v[f"{prefix}_rate{b}"] = rates[b] if b < len(rates) else 0


def _resolve_cached(plan: Plan, kind: Kind) -> Resolved:
    """A kind's parameters, resolved once per plan: the cache is the plan's own (bounded by the kinds
    a region has), so it goes with the plan."""
    hit = plan._kinds.get(kind)
    if hit is None:
        hit = plan._kinds.setdefault(kind, plan._resolve(kind))
    return hit


def periods(pack: Pack) -> tuple[tuple[dt.date, ...], np.ndarray]:
    """The pack's parameter periods — their first days, as dates and as datetime64[D] — kept by the
    pack (a claim's period is looked up on every message)."""
    hit = pack.__dict__.get("_periods")
    if hit is None:
        dates = tuple(pack.change_dates() or [dt.date(1900, 1, 1)])
        hit = pack.__dict__["_periods"] = (dates, np.array(dates, dtype="datetime64[D]"))
    return hit


def plan_for(pack: Pack, when: dt.date) -> Plan:
    """The plan in force on ``when``: one per parameter period, kept by the pack itself (so plans live
    and go with their pack, and a reform's copy has its own)."""
    dates = periods(pack)[0]
    at = bisect.bisect_right(dates, when)
    period = dates[at - 1] if at else when
    plans = pack.__dict__.setdefault("_plans", {})
    plan = plans.get(period)
    if plan is None:  # two threads may build the same plan at once: either copy serves
        plan = plans.setdefault(period, Plan(pack.at(period)))
    return plan


__all__ = ["BurdenPayer", "DeductiblePer", "Kind", "LargeExpense", "NthStay", "Plan", "Resolved", "plan_for", "group_id", "group_name", "NB", "NS", "NT", "NOCAP", "Rounding"]
