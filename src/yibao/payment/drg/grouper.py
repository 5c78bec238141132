"""The CHS-DRG grouper (疾病诊断相关分组器): one 结算清单 case → MDC, ADRG, DRG.

Order, as in the CHS-DRG 1.1 scheme:

1. Input checks: sex 1/2; age 0–150; age 0 needs age in days; a newborn (≤ 28 days) needs a birth
   weight; every code known to the version (after its code map, 医保版 → grouper code). A 医保版
   sub-category code that the MDC tables leave out (I21.000, listed are I21.000x005, I21.001 …) groups
   as its listed siblings when they all group alike.
2. Pre-MDC (先期分组), in order: MDCA (transplants, ventilation ≥ 96 h / ECMO, by main procedure),
   MDCP (newborns < 29 days, and infants whose principal diagnosis is a newborn diagnosis),
   MDCY (HIV principal diagnosis), MDCZ (multiple trauma: diagnoses in ≥ 2 of the 9 body regions of
   the MDCZ table, principal diagnosis among them).
3. The MDC of the principal diagnosis (主诊表); MDCM is male only and MDCN female only.
4. Inside the MDC: surgical ADRGs (外科, second letter A–J), then operation ADRGs (操作, K–Q), each
   "包含以下主要手术或操作" — entered by the main procedure (the first listed) alone; the other
   procedures count only in a rule that names a combination ("同时包含以下手术 … 和 …", "主要诊断+
   手术表 n"). A main procedure that is a 手术室手术 (OR procedure) and fits none of them gives the
   ambiguous group ``<letter>QY``; otherwise medical ADRGs (内科, R–Z) by principal diagnosis. An OR
   procedure is one that some surgical ADRG (second letter A–J) lists; a procedure listed only by
   operation ADRGs (e.g. 96.7101 呼吸机治疗[小于96小时]) or by none (96.0400 气管内插管) is a
   非手术室操作 and never makes a case QY.
5. The DRG's fourth character from the other diagnoses' MCC/CC after the exclusion tables (CCE: a
   CC does not count when the principal diagnosis is in its exclusion table): 1 with MCC, 3 with CC
   (or with MCC where the ADRG has no 1), 5 without, 9 not split.

A principal diagnosis can be in an MDC's 主诊表 yet in no medical ADRG's list: 155 codes in CHS-DRG
1.1, 29 of them in MDCO, among them the normal deliveries O80.0–O80.9 (and O84.0 多胎顺产). The scheme's only
ADRG for a vaginal delivery without an obstetric procedure, OR1 阴道分娩, is entered by principal
diagnosis Z37 (分娩结局) and not by O80; with an OC1 procedure (e.g. 73.59 助产, 73.6 会阴切开缝合)
such a case groups to OC1 阴道分娩伴手术操作, without one it is ungroupable (``0000``) and its reason
says so. The grouper follows the tables and does not move O80 into OR1 on its own.

An ungroupable case gets DRG ``0000`` and status ``0000`` with the reason; the grouper never raises on
a bad case (``group`` raises only for a malformed call, e.g. a case that is not a mapping).
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping

from yibao.errors import PolicyError, ValidationError
from yibao.payment.drg.versions import VersionData, load_version

__all__ = ["GroupInput", "GroupResult", "Grouper", "group", "OK", "UNGROUPABLE", "AMBIGUOUS"]

OK, UNGROUPABLE, AMBIGUOUS = "ok", "0000", "QY"
PRE_MDC = ("MDCA", "MDCP", "MDCY", "MDCZ")
_PDX, _DX, _PROC, _ANYPROC, _ORPROC, _NOPROC = range(6)
_KINDS = {"pdx": _PDX, "dx": _DX, "proc": _PROC, "anyproc": _ANYPROC, "orproc": _ORPROC, "noproc": _NOPROC}
CACHE_LIMIT = 2_000_000
NUMBER_FIELDS = ("sex", "age", "age_days", "birth_weight_g", "los_days")
MISSING = -1  # numeric field absent
BAD = -2  # numeric field present but not a whole number ≥ 0


@dataclass(frozen=True, slots=True)
class GroupInput:
    """One case of the 医疗保障基金结算清单, as the grouper needs it.

    ``diagnoses``: principal (主要诊断) first, 医保版 ICD-10; ``procedures``: main (主要手术或操作)
    first, 医保版 ICD-9-CM-3. ``sex`` 1 male / 2 female; ``age`` in years; ``age_days`` (年龄天) is
    needed when age is 0; ``birth_weight_g`` (新生儿出生体重) when age_days ≤ 28. ``dept``,
    ``los_days`` and ``discharge_way`` are carried and checked but no CHS-DRG 1.1 rule uses them.
    """

    sex: int
    age: int
    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...] = ()
    age_days: int | None = None
    birth_weight_g: int | None = None
    dept: str | None = None
    los_days: int | None = None
    discharge_way: str | None = None
    case_id: str | None = None

    @classmethod
    def from_mapping(cls, case: Mapping[str, Any]) -> "GroupInput":
        """Build from a dict (CSV-like values accepted: ``"A|B"`` code strings, numeric strings)."""
        rec = str(case.get("case_id")) if case.get("case_id") is not None else None

        def num(name: str, required: bool = False) -> int | None:
            v = number(case.get(name))
            if v == MISSING:
                if required:
                    raise ValidationError(name, "is missing", rec)
                return None
            if v == BAD:
                raise ValidationError(name, f"not a whole number ≥ 0: {case.get(name)!r}", rec)
            return v

        def text(name: str) -> str | None:
            v = case.get(name)
            return None if _is_missing(v) else str(v)

        return cls(sex=num("sex", True), age=num("age", True),
                   diagnoses=split_codes(case.get("diagnoses")), procedures=split_codes(case.get("procedures")),
                   age_days=num("age_days"), birth_weight_g=num("birth_weight_g"), dept=text("dept"),
                   los_days=num("los_days"), discharge_way=text("discharge_way"), case_id=rec)


@dataclass(frozen=True, slots=True)
class GroupResult:
    """The grouping of one case. ``cc_code`` is the MCC/CC that decided the split (after exclusions)."""

    mdc: str
    adrg: str
    drg: str
    status: str
    reason: str
    cc_code: str = ""
    cc_level: str = ""
    case_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK


def _is_missing(v: Any) -> bool:
    if v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ == "NAType":
        return True
    return isinstance(v, str) and not v.strip()


def _int_value(v: Any) -> int | None:
    """An int, ``MISSING`` for an absent value, or None when the value is not a whole number."""
    if _is_missing(v):
        return MISSING
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


def split_codes(value: Any) -> tuple[str, ...]:
    """Codes from a ``|``-separated string or a sequence; blanks dropped, whitespace trimmed."""
    if _is_missing(value):
        return ()
    if isinstance(value, str):
        parts = value.split("|")
    else:
        parts = [str(v) for v in value if not _is_missing(v)]
    return tuple(p.strip() for p in parts if p.strip())


# -- compiled version ----------------------------------------------------------------------------

@dataclass(slots=True)
class _Adrg:
    code: str
    mdc: str
    name: str
    kind: str
    alts: tuple[tuple[tuple[int, frozenset | None], ...], ...]
    min_age_days: int | None
    max_age_days: int | None
    min_weight_g: int | None
    max_weight_g: int | None
    suffixes: frozenset = field(default_factory=frozenset)
    needs_dx: bool = False  # some rule looks at a diagnosis

    def fits_bands(self, age_d: int | None, weight: int | None) -> bool:
        if self.max_age_days is not None and (age_d is None or age_d > self.max_age_days):
            return False
        if self.min_age_days is not None and age_d is not None and age_d < self.min_age_days:
            return False
        if self.min_age_days is not None and age_d is None and self.max_age_days is not None:
            return False
        if self.min_weight_g is not None and (weight is None or weight < self.min_weight_g):
            return False
        if self.max_weight_g is not None and (weight is None or weight > self.max_weight_g):
            return False
        return True

    def matches(self, pdx: str, dxs: frozenset, procs: frozenset, main: str | None, main_or: bool) -> bool:
        """Whether some alternative of the rule holds: ``proc`` on the main procedure, ``anyproc`` on
        any procedure of the case, ``orproc`` / ``noproc`` on whether the main one is an OR procedure."""
        for alt in self.alts:
            for kind, codes in alt:
                if kind == _PDX:
                    ok = pdx in codes
                elif kind == _PROC:
                    ok = main in codes
                elif kind == _DX:
                    ok = not codes.isdisjoint(dxs)
                elif kind == _ANYPROC:
                    ok = not codes.isdisjoint(procs)
                elif kind == _ORPROC:
                    ok = main_or
                else:
                    ok = not main_or
                if not ok:
                    break
            else:
                return True
        return False


def number(v: Any) -> int:
    """A whole number ≥ 0 as an int; ``MISSING`` when absent, ``BAD`` when malformed or negative."""
    if _is_missing(v):
        return MISSING
    n = _int_value(v)
    return BAD if n is None or n < 0 else n


def _opt_int(v: str) -> int | None:
    return int(v) if v not in ("", None) else None


class Grouper:
    """A loaded grouper version; its lookups are built once (use :meth:`load`, which caches)."""

    def __init__(self, data: VersionData):
        if not data.has_rules:
            raise PolicyError(f"grouper version {data.name}: its grouping rules are not available "
                              f"({data.meta.get('note', 'names only')}); use chs-1.1 or a variant of it")
        self.version = data.name
        self.meta = data.meta
        self._compile(data)
        self._cache: dict[tuple, tuple] = {}
        self._by_procs: dict[tuple, tuple] = {}

    @classmethod
    def load(cls, version: str = "chs-1.1") -> "Grouper":
        return _load_grouper(str(version))

    # .. building lookups ..
    def _compile(self, data: VersionData) -> None:
        dx_names = {r["code"]: r["name"] for r in data.table("dx")}
        proc_names = {r["code"]: r["name"] for r in data.table("proc")}
        self.dx_names, self.proc_names = dx_names, proc_names
        self.dx_map = _code_map(dx_names, data.table("dx_map"))
        _group_with_subcategory(self.dx_map, data)
        self.proc_map = _code_map(proc_names, data.table("proc_map"))
        self.mdc_names = {r["mdc"]: r["name"] for r in data.table("mdc")}
        self.mdc_sex = {r["mdc"]: r["sex"] for r in data.table("mdc") if r["sex"]}
        mdc_order = {r["mdc"]: int(r["order"]) for r in data.table("mdc")}
        members: dict[str, set[str]] = {}
        mdc_of: dict[str, list[str]] = {}
        parts: dict[str, int] = {}
        part_ids: dict[str, int] = {}
        for r in data.table("mdc_dx"):
            members.setdefault(r["mdc"], set()).add(r["code"])
            if r["mdc"] == "MDCZ" and r["part"]:
                parts.setdefault(r["code"], part_ids.setdefault(r["part"], len(part_ids)))
            if r["mdc"] not in PRE_MDC[2:] and r["mdc"] not in mdc_of.get(r["code"], ()):
                mdc_of.setdefault(r["code"], []).append(r["mdc"])
        self.members = {m: frozenset(s) for m, s in members.items()}
        self.mdc_of = {c: tuple(sorted(ms, key=lambda m: mdc_order.get(m, 99))) for c, ms in mdc_of.items()}
        self.trauma_part = parts

        lists: dict[str, set[str]] = {}
        for r in data.table("adrg_codes"):
            lists.setdefault(r["list"], set()).add(r["code"])
        frozen = {k: frozenset(v) for k, v in lists.items()}
        alts: dict[str, dict[str, list]] = {}
        dx_rule_codes: set[str] = set()
        for r in data.table("adrg_rules"):
            kind = _KINDS.get(r["kind"])
            if kind is None:
                raise PolicyError(f"grouper version {self.version}: ADRG {r['adrg']}: unknown rule kind {r['kind']}")
            codes = frozen.get(r["list"], frozenset()) if r["list"] else None
            if kind == _DX:
                dx_rule_codes |= codes
            alts.setdefault(r["adrg"], {}).setdefault(r["alt"], []).append((kind, codes))
        self.dx_rule_codes = frozenset(dx_rule_codes)
        self.or_procs = _or_procedures(data, frozen)

        suffixes: dict[str, set[str]] = {}
        self.drg_names = {}
        for r in data.table("drg"):
            suffixes.setdefault(r["adrg"], set()).add(r["drg"][3:])
            self.drg_names[r["drg"]] = r["name"]
        self.adrgs: dict[str, _Adrg] = {}
        by_mdc: dict[str, dict[str, list[_Adrg]]] = {}
        for r in sorted(data.table("adrg"), key=lambda r: int(r["order"])):
            a = _Adrg(r["adrg"], r["mdc"], r["name"], r["kind"],
                      tuple(tuple(v) for _, v in sorted(alts.get(r["adrg"], {}).items())),
                      _opt_int(r["min_age_days"]), _opt_int(r["max_age_days"]),
                      _opt_int(r["min_weight_g"]), _opt_int(r["max_weight_g"]),
                      frozenset(suffixes.get(r["adrg"], ())))
            a.needs_dx = any(k in (_PDX, _DX) for alt in a.alts for k, _ in alt)
            if not a.alts:
                raise PolicyError(f"grouper version {self.version}: ADRG {a.code} has no rule")
            if not a.suffixes:
                raise PolicyError(f"grouper version {self.version}: ADRG {a.code} has no DRG")
            self.adrgs[a.code] = a
            by_mdc.setdefault(a.mdc, {"surgical": [], "operation": [], "medical": []})[a.kind].append(a)
        self.by_mdc = by_mdc
        # candidate ADRGs per (MDC, kind) indexed by the code that can select them (the procedure for
        # surgical and operation ADRGs, the principal diagnosis for medical ones); the others
        # ("generic": some alternative without that condition) are always tried, in scheme order
        self._index: dict[tuple[str, str], tuple[dict[str, list[_Adrg]], list[_Adrg]]] = {}
        for mdc, kinds in by_mdc.items():
            for kind, adrgs in kinds.items():
                cond = _PDX if kind == "medical" else _PROC
                idx: dict[str, list[_Adrg]] = {}
                generic: list[_Adrg] = []
                for a in adrgs:
                    if all(any(k == cond for k, _ in alt) for alt in a.alts):
                        for code in set().union(*(c for alt in a.alts for k, c in alt if k == cond)):
                            idx.setdefault(code, []).append(a)
                    else:
                        generic.append(a)
                self._index[(mdc, kind)] = (idx, generic)
        self._order = {a.code: i for i, a in enumerate(self.adrgs.values())}
        self._cands: dict[tuple[str, str, str | None], tuple[_Adrg, ...]] = {}
        # MDCA is tried only when a procedure of the case is named in one of its rules
        mdca = [a for kinds in (by_mdc.get("MDCA", {}),) for lst in kinds.values() for a in lst]
        if all(any(k in (_PROC, _ANYPROC) for k, _ in alt) for a in mdca for alt in a.alts):
            self._mdca_trigger = frozenset().union(*(c for a in mdca for alt in a.alts for k, c in alt
                                                    if k in (_PROC, _ANYPROC)))
        else:
            self._mdca_trigger = None
        self._mdcp = self.members.get("MDCP", frozenset())
        self._mdcy = self.members.get("MDCY", frozenset())
        # principal diagnoses whose MDC depends on sex (a sex-specific MDC among their MDCs)
        self._sex_relevant = frozenset(c for c, ms in self.mdc_of.items() if any(m in self.mdc_sex for m in ms))
        # band cut points, so a cache key needs only the band a case falls in, not its exact value
        self._age_cuts = sorted({c for a in self.adrgs.values()
                                 for c in (a.min_age_days, None if a.max_age_days is None else a.max_age_days + 1)
                                 if c is not None})
        self._weight_cuts = sorted({c for a in self.adrgs.values()
                                    for c in (a.min_weight_g, None if a.max_weight_g is None else a.max_weight_g + 1)
                                    if c is not None})
        self.newborn_max_days = 28
        self.cc = {r["code"]: (2 if r["level"] == "MCC" else 1, r["exclusion_table"]) for r in data.table("cc")}
        self.cce = {r["code"]: r["exclusion_table"] for r in data.table("cce")}

    # .. public API ..
    def group(self, case: GroupInput | Mapping[str, Any]) -> GroupResult:
        """Group one case; an invalid case comes back as status ``0000`` with the reason."""
        if isinstance(case, GroupInput):
            get, case_id = (lambda name: getattr(case, name)), case.case_id
        elif isinstance(case, Mapping):
            get, case_id = case.get, _case_id(case)
        else:
            raise TypeError(f"group() takes a GroupInput or a mapping, not {type(case).__name__}")
        row = self.group_fields(*(number(get(f)) for f in NUMBER_FIELDS),
                                split_codes(get("diagnoses")), split_codes(get("procedures")))
        return GroupResult(*row, case_id=case_id)

    def group_fields(self, sex: int, age: int, age_days: int, weight: int, los: int,
                     diagnoses: tuple[str, ...] | list[str], procedures: tuple[str, ...] | list[str]) -> tuple:
        """Group from plain fields (``MISSING`` = -1 for an absent number; ``None`` for a malformed
        one). Returns ``(mdc, adrg, drg, status, reason, cc_code, cc_level)``."""
        problem = self._check(sex, age, age_days, weight, los, diagnoses)
        if problem:
            return "", "", UNGROUPABLE, UNGROUPABLE, "invalid input: " + problem, "", ""
        dx_map, proc_map = self.dx_map, self.proc_map
        codes = [dx_map.get(c) for c in diagnoses]
        if None in codes:
            codes = _remap(codes, diagnoses, dx_map, "diagnoses")
            if isinstance(codes, str):
                return "", "", UNGROUPABLE, UNGROUPABLE, f"unknown diagnosis code {codes}", "", ""
        procs = [proc_map.get(c) for c in procedures]
        if None in procs:
            procs = _remap(procs, procedures, proc_map, "procedures")
            if isinstance(procs, str):
                return "", "", UNGROUPABLE, UNGROUPABLE, f"unknown procedure code {procs}", "", ""
        pdx = codes[0]
        others = codes[1:]
        newborn_days = age_days if age == 0 else None
        # only the bands the scheme uses enter the cache key, with the few facts drawn from other dx
        trauma = len({self.trauma_part[c] for c in codes if c in self.trauma_part}) if pdx in self.trauma_part else 0
        flagged = self.dx_rule_codes.intersection(codes)
        flagged = tuple(sorted(flagged)) if flagged else ()
        age_band = -1 if newborn_days is None else bisect.bisect_right(self._age_cuts, newborn_days)
        key = (sex if pdx in self._sex_relevant else 0, age_band,
               bisect.bisect_right(self._weight_cuts, weight) if weight > 0 else -1,
               pdx, tuple(procs), trauma >= 2, flagged)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._structure(sex, age, newborn_days, weight if weight > 0 else None,
                                  pdx, frozenset(codes), tuple(procs), trauma)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = hit
        mdc, adrg, status, reason = hit
        if status != OK:
            drg = f"{mdc[3]}QY" if status == AMBIGUOUS else UNGROUPABLE
            return mdc, "", drg, status, reason, "", ""
        suffix, cc_code, cc_level, why = self._suffix(self.adrgs[adrg], pdx, others)
        return mdc, adrg, adrg + suffix, OK, f"{reason}; {why}", cc_code, cc_level

    def group_columns(self, sex: list, age: list, age_days: list, weight: list, los: list,
                      diagnoses: list, procedures: list) -> list[tuple]:
        """:meth:`group_fields` over columns (lists of equal length), one result tuple per case.

        The common case (an adult with known codes) runs inline here with the lookups bound to
        locals; anything else goes through :meth:`group_fields`.
        """
        out = []
        append = out.append
        dx_map, proc_map, cache, trauma_part = self.dx_map, self.proc_map, self._cache, self.trauma_part
        rule_codes, sex_relevant, suffix_of, adrgs = self.dx_rule_codes, self._sex_relevant, self._suffix, self.adrgs
        slow = self.group_fields
        dx_map_get, proc_map_get, no_rule_codes = dx_map.get, proc_map.get, rule_codes.isdisjoint
        for sx, ag, dd, wt, ls, dx, pr in zip(sex, age, age_days, weight, los, diagnoses, procedures):
            if not (0 < ag <= 150 and (sx == 1 or sx == 2) and ls >= MISSING and dd >= MISSING
                    and wt in (MISSING, 0) and dx):
                append(slow(sx, ag, dd, wt, ls, dx, pr))
                continue
            codes = list(map(dx_map_get, dx))
            procs = tuple(map(proc_map_get, pr))
            if None in codes or None in procs:
                append(slow(sx, ag, dd, wt, ls, dx, pr))
                continue
            pdx = codes[0]
            if pdx in trauma_part:
                trauma = len({trauma_part[c] for c in codes if c in trauma_part})
            else:
                trauma = 0
            flagged = () if no_rule_codes(codes) else tuple(sorted(rule_codes.intersection(codes)))
            key = (sx if pdx in sex_relevant else 0, -1, -1, pdx, procs, trauma >= 2, flagged)
            hit = cache.get(key)
            if hit is None:
                hit = self._structure(sx, ag, None, None, pdx, frozenset(codes), procs, trauma)
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[key] = hit
            mdc, adrg, status, reason = hit
            if status != OK:
                append((mdc, "", f"{mdc[3]}QY" if status == AMBIGUOUS else UNGROUPABLE, status, reason, "", ""))
                continue
            suffix, cc_code, cc_level, why = suffix_of(adrgs[adrg], pdx, codes[1:])
            append((mdc, adrg, adrg + suffix, OK, f"{reason}; {why}", cc_code, cc_level))
        return out

    # .. steps ..
    def _check(self, sex, age, age_days, weight, los, diagnoses) -> str:
        if sex not in (1, 2):
            return "sex must be 1 (male) or 2 (female)" + ("" if sex in (None, BAD, MISSING) else f", not {sex}")
        for name, v in zip(NUMBER_FIELDS, (sex, age, age_days, weight, los)):
            if v is None or v == BAD:
                return f"{name} is not a whole number ≥ 0"
        if age is None or age == MISSING or not 0 <= age <= 150:
            return "age is missing" if age == MISSING else f"age must be 0–150 years, not {age!r}"
        if age == 0:
            if age_days is None or age_days == MISSING:
                return "age 0 needs age_days (年龄天)"
            if not 0 <= age_days <= 366:
                return f"age_days must be 0–366 when age is 0, not {age_days}"
            if age_days <= self.newborn_max_days:
                if weight is None or weight in (MISSING, 0):
                    return f"a newborn (age {age_days} days ≤ {self.newborn_max_days}) needs birth_weight_g"
        if weight is None or (weight > 0 and not 100 <= weight <= 10_000) or weight < MISSING:
            return f"birth_weight_g must be 100–10000 g, not {weight!r}"
        if los is None or (los != MISSING and los < 0):
            return f"los_days must be a whole number ≥ 0, not {los!r}"
        if not diagnoses:
            return "no principal diagnosis (diagnoses is empty)"
        return ""

    def _structure(self, sex, age, newborn_days, weight, pdx, dxs, procs, trauma) -> tuple:
        """(mdc, adrg, status, reason) from everything but the MCC/CC split."""
        procset = frozenset(procs)
        main = procs[0] if procs else None
        main_or = main in self.or_procs
        ctx = (pdx, dxs, procset, main, main_or, newborn_days, weight)
        # MDCA: by main procedure (AC1 by the combination of procedures)
        if self._mdca_trigger is None or not self._mdca_trigger.isdisjoint(procset):
            for kind in ("surgical", "operation", "medical"):
                for a in self._candidates("MDCA", kind, pdx if kind == "medical" else main):
                    if a.fits_bands(newborn_days, weight) and a.matches(pdx, dxs, procset, main, main_or):
                        return "MDCA", a.code, OK, f"MDCA (pre-MDC) by main procedure {main}: {a.code} {a.name}"
        # MDCP: newborns (< 29 days), and infants with a newborn principal diagnosis
        newborn = newborn_days is not None and newborn_days <= self.newborn_max_days
        in_p = pdx in self._mdcp
        if newborn or in_p:
            found = self._within("MDCP", ctx, procs)
            if found[2] == OK or in_p:
                why = "newborn" if newborn else "newborn principal diagnosis"
                if not newborn and found[2] != OK and newborn_days is None:
                    return "MDCP", "", UNGROUPABLE, (f"principal diagnosis {pdx} is a newborn diagnosis (MDCP) "
                                                     "but the patient is one year old or more")
                return found[0], found[1], found[2], f"MDCP (pre-MDC, {why}); {found[3]}"
        # MDCY: HIV principal diagnosis
        if pdx in self._mdcy:
            found = self._within("MDCY", ctx, procs)
            return found[0], found[1], found[2], f"MDCY (pre-MDC, HIV principal diagnosis {pdx}); {found[3]}"
        # MDCZ: multiple trauma, principal diagnosis among ≥ 2 body regions
        if trauma >= 2:
            found = self._within("MDCZ", ctx, procs)
            return found[0], found[1], found[2], f"MDCZ (pre-MDC, trauma in ≥ 2 body regions); {found[3]}"
        # the MDC of the principal diagnosis, with the sex-specific MDCs
        cands = self.mdc_of.get(pdx, ())
        if not cands:
            if pdx in self.trauma_part:
                return "", "", UNGROUPABLE, (f"principal diagnosis {pdx} is in the multiple-trauma table (MDCZ) "
                                             "only, and the case has trauma in fewer than 2 body regions")
            return "", "", UNGROUPABLE, f"principal diagnosis {pdx} is in no MDC"
        if pdx not in self._sex_relevant:
            found = self._within(cands[0], ctx, procs)
            return found[0], found[1], found[2], f"{cands[0]} by principal diagnosis {pdx}; {found[3]}"
        fit = [m for m in cands if self.mdc_sex.get(m, str(sex)) == str(sex)]
        if not fit:
            m = cands[0]
            who = "male" if self.mdc_sex[m] == "1" else "female"
            return m, "", UNGROUPABLE, (f"principal diagnosis {pdx} belongs to {m} ({who} only) "
                                        f"but sex is {sex}")
        specific = [m for m in fit if m in self.mdc_sex]
        mdc = specific[0] if specific else fit[0]
        found = self._within(mdc, ctx, procs)
        return found[0], found[1], found[2], f"{mdc} by principal diagnosis {pdx}; {found[3]}"

    def _candidates(self, mdc: str, kind: str, code: str | None) -> tuple[_Adrg, ...]:
        """The ADRGs of an MDC and kind that ``code`` may select, in scheme order."""
        key = (mdc, kind, code)
        found = self._cands.get(key)
        if found is None:
            idx, generic = self._index.get((mdc, kind), ({}, []))
            found = tuple(sorted([*idx.get(code, ()), *generic], key=lambda a: self._order[a.code]))
            self._cands[key] = found
        return found

    def _within(self, mdc: str, ctx: tuple, procs: tuple) -> tuple:
        pdx, dxs, procset, main, main_or, age_d, weight = ctx
        if procs:
            # the surgical/operation choice, memoised by procedures when no rule tried looked at diagnoses
            memo_key = (mdc, procs, age_d, weight)
            found = self._by_procs.get(memo_key)
            if found is None:
                found, needs_dx = self._by_procedure(mdc, ctx, procs)
                if not needs_dx:
                    if len(self._by_procs) >= CACHE_LIMIT:
                        self._by_procs.clear()
                    self._by_procs[memo_key] = found
            if found:
                return found
        if main_or:
            return mdc, "", AMBIGUOUS, f"main procedure {main} (OR procedure) fits no surgical ADRG of {mdc} (QY)"
        for a in self._candidates(mdc, "medical", pdx):
            if a.fits_bands(age_d, weight) and a.matches(pdx, dxs, procset, main, main_or):
                return mdc, a.code, OK, f"{a.code} {a.name} by diagnosis"
        if not self._candidates(mdc, "medical", pdx):
            # e.g. O80 normal delivery in CHS-DRG 1.1: in the MDCO 主诊表, in no medical ADRG (see the module doc)
            return mdc, "", UNGROUPABLE, (f"principal diagnosis {pdx} is in the {mdc} 主诊表 but the {self.version} "
                                          f"tables put it in no medical ADRG of {mdc}; without a procedure that "
                                          f"selects a surgical or operation ADRG the case has no group")
        return mdc, "", UNGROUPABLE, f"principal diagnosis {pdx} fits no ADRG of {mdc}"

    def _by_procedure(self, mdc: str, ctx: tuple, procs: tuple) -> tuple[tuple, bool]:
        """The first surgical, then operation, ADRG the main procedure (with the others where a rule
        names a combination) selects: (result or (), whether any rule tried depends on the diagnoses)."""
        pdx, dxs, procset, main, main_or, age_d, weight = ctx
        needs_dx = False
        for kind in ("surgical", "operation"):
            for a in self._candidates(mdc, kind, main):
                needs_dx = needs_dx or a.needs_dx
                if a.fits_bands(age_d, weight) and a.matches(pdx, dxs, procset, main, main_or):
                    return (mdc, a.code, OK, f"{a.code} {a.name} by main procedure {main}"), needs_dx
        return (), needs_dx

    def _suffix(self, adrg: _Adrg, pdx: str, others) -> tuple[str, str, str, str]:
        """(suffix, deciding code, its level, reason): the split by MCC/CC after exclusions."""
        s = adrg.suffixes
        if len(s) == 1:
            only = next(iter(s))
            return only, "", "", f"{adrg.code}{only} not split by MCC/CC"
        excl = self.cce.get(pdx)
        best = None
        dropped = []
        cc = self.cc
        for d, info in zip(others, map(cc.get, others)):
            if info is None:
                continue
            if info[1] == excl:
                dropped.append(d)
            elif info[0] == 2:
                if best is None or best[1] == "CC":
                    best = (d, "MCC")
            elif best is None:
                best = (d, "CC")
        note = excluded_note(dropped, excl, pdx) if dropped else ""
        if best is not None:
            code, level = best
            if level == "MCC" and "1" in s:
                return "1", code, level, f"suffix 1: MCC {code}{note}"
            if "3" in s:
                return "3", code, level, f"suffix 3: {level} {code}{note}"
        if "5" in s:
            if best is not None:
                return "5", "", "", f"suffix 5: {best[1]} {best[0]} does not split {adrg.code} (MCC only){note}"
            return "5", "", "", f"suffix 5: no MCC/CC{note}"
        last = min(s)
        return last, "", "", f"suffix {last}{note}"

    def clear_cache(self) -> None:
        self._cache.clear()
        self._by_procs.clear()


def _or_procedures(data: VersionData, lists: Mapping[str, frozenset]) -> frozenset:
    """手术室手术 (OR procedures): the procedures some surgical ADRG (second letter A–J) lists.

    The scheme's second letter separates 外科手术 (A–J) from 非手术室操作 (K–Q); a procedure named only
    by operation ADRGs, or by no ADRG, is not an OR procedure and cannot make a case QY.
    """
    surgical = {r["adrg"] for r in data.table("adrg") if r["kind"] == "surgical"}
    return frozenset().union(*(lists.get(r["list"], frozenset()) for r in data.table("adrg_rules")
                               if r["adrg"] in surgical and r["kind"] in ("proc", "anyproc")))


def _code_map(known: Mapping[str, str], rows: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Input code → grouper code: the known codes themselves, the version's map, and a code written
    without its dagger/asterisk pair (A01.002 for A01.002+G01*) when that is unambiguous."""
    out = {c: c for c in known}
    for r in rows:
        out[r["code"]] = r["grouper_code"]
    short: dict[str, set[str]] = {}
    for c in list(out):
        if "+" in c or "*" in c:
            short.setdefault(c.split("+")[0].rstrip("*"), set()).add(out[c])
    for s, targets in short.items():
        if s not in out and len(targets) == 1:
            out[s] = next(iter(targets))
    return out


_SUBCATEGORY_CODE = re.compile(r"^[A-Z]\d\d\.[\dx]00$")  # a sub-category's own code: I21.000, I10.x00


def _dx_profiles(data: VersionData) -> dict[str, frozenset]:
    """Every table row a diagnosis code is in: MDC tables (with the MDCZ region), ADRG lists, CC/MCC
    level and exclusion table, and the exclusion table it cancels as principal diagnosis."""
    rows: dict[str, set] = {}
    for r in data.table("mdc_dx"):
        rows.setdefault(r["code"], set()).add(("mdc", r["mdc"], r["part"]))
    for r in data.table("adrg_codes"):
        rows.setdefault(r["code"], set()).add(("list", r["list"]))
    for r in data.table("cc"):
        rows.setdefault(r["code"], set()).add(("cc", r["level"], r["exclusion_table"]))
    for r in data.table("cce"):
        rows.setdefault(r["code"], set()).add(("cce", r["exclusion_table"]))
    return {c: frozenset(v) for c, v in rows.items()}


def _group_with_subcategory(dx_map: dict[str, str], data: VersionData) -> None:
    """Map a 医保版 code that no MDC table lists to the codes of its sub-category (亚目) when they all
    group alike.

    The scheme's tables list the codes under a sub-category (I21.000x005, I21.001 … I21.004 under
    I21.0) but not the sub-category's own code I21.000 (前壁急性透壁性心肌梗死), which 医保版 ICD-10
    accepts and hospitals code. Such a code (the sub-category + "00") groups as its listed siblings
    (same first five characters) when every one of them sits in the same tables — MDC, ADRG lists,
    CC/MCC, exclusion table — and the code's own rows (e.g. its MCC entry) are among theirs; the first
    of them in code order stands in for it. Where the siblings group differently the code stays
    unlisted ("in no MDC"); an unlisted extension (K30.x00x002 新生儿消化不良) is never stood in for.
    """
    profiles = _dx_profiles(data)
    siblings: dict[str, list[str]] = {}
    for code, rows in profiles.items():
        if any(r[0] == "mdc" for r in rows):
            siblings.setdefault(code[:5], []).append(code)
    stand_in = {}
    for code in set(dx_map.values()):
        own = profiles.get(code, frozenset())
        if not _SUBCATEGORY_CODE.match(code) or any(r[0] == "mdc" for r in own) or code[:5] not in siblings:
            continue
        kin = sorted(siblings[code[:5]])
        shared = {profiles[k] for k in kin}
        if len(shared) == 1 and own <= next(iter(shared)):
            stand_in[code] = kin[0]
    for code, target in dx_map.items():
        if target in stand_in:
            dx_map[code] = stand_in[target]


def excluded_note(dropped: Iterable[str], table: str, pdx: str) -> str:
    """Reason text for CC/MCC codes removed by the principal diagnosis's exclusion table (CCE)."""
    return f" ({', '.join(dropped)} excluded by table 7-{table} of principal diagnosis {pdx})"


def _remap(mapped: list, raw, code_map: Mapping[str, str], field: str) -> list | str:
    """Retry unmapped codes without surrounding blanks; the first unknown one as ``'code' (field[i])``."""
    out = []
    for i, (g, c) in enumerate(zip(mapped, raw)):
        if g is None:
            g = code_map.get(c.strip())
            if g is None:
                return f"{c!r} ({field}[{i}])"
        out.append(g)
    return out


def _case_id(case: Mapping[str, Any]) -> str | None:
    v = case.get("case_id")
    return None if _is_missing(v) else str(v)


@lru_cache(maxsize=8)
def _load_grouper(version: str) -> Grouper:
    return Grouper(load_version(version))


def group(case: GroupInput | Mapping[str, Any], version: str = "chs-1.1") -> GroupResult:
    """Group one 结算清单 case with a version (cached :class:`Grouper`)."""
    return Grouper.load(version).group(case)
