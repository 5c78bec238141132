"""Settlement inputs (the front-end of both speeds): claims and their lines → the claim *kinds* whose
parameters the engine uses and the per-claim scope sums (政策范围) it settles.

One builder serves real time (a batch of one claim) and the batch (a year of claims), so the two can
never disagree on a claim's kind or a line's scope. It works on column arrays (numpy), not frames:

* claims — ``claim_id, psn_no, insutype, psn_type, med_type, level, dscg_date`` and optional ``age`` or
  ``birth_date``, ``adm_date``, ``identities`` ('|'-joined), ``tier``, ``filing`` ('' in region),
  ``chronic_disease``, ``civil_servant``, ``diagnoses`` ('|'-joined), ``sex``, ``supplementary``
  ('|'-joined voluntary tiers), ``enterprise_supplementary``, ``inst_kind``, ``inst_admdvs`` (the
  place of treatment, which picks its catalog), ``acct_bal`` / ``fam_bal`` (fen);
* lines — ``claim`` (the position of the line's claim in the claims' input order), ``amount`` (fen),
  ``qty_milli`` (quantity in thousandths), and either ``item_code`` or an ad-hoc ``item_class`` with
  ``preselfpay_ppm`` (−1: none given) and ``price_cap`` (fen per unit, −1: none); optionally
  ``fund_rate`` (ppm, −1: the stay's rate), the line's own 统筹 rate.

Text columns may come as arrays, lists or Arrow arrays; inside they are dictionary-encoded
(:class:`yibao.coded.Coded`), so every rule that reads them runs once per distinct value.

A line's scope comes from the catalog of the place of treatment at the date of service: its class
(甲/乙/丙), its own 先行自付 ratio (a null ratio takes the pack's ``default_preselfpay`` for 乙类; a
ratio of 0 stays 0), its price cap, and whether it is used outside its restrictions — decided only by
the catalog's own checker (:meth:`yibao.catalog.items.Catalog.violations`). The pack's
``scope.item_rates`` gives listed items a 统筹 rate (and 先行自付 share) of their own.
"""

from __future__ import annotations

import datetime as dt
import dataclasses
import functools
import threading
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yibao import coded
from yibao.coded import Coded, encode
from yibao.errors import ValidationError
from yibao.policy.pack import Pack
from yibao.settlement.engine import CLASS_A, CLASS_B, CLASS_C, claim_sums, line_scope
from yibao.settlement.plan import Kind, Plan, Resolved, periods, plan_for
from yibao.vocab import EMPLOYEE, EMPLOYEE_PSN_TYPES, IDENTITIES, INPATIENT_MED_TYPES, LEVELS, RESIDENT, RESIDENT_PSN_TYPES

I64 = np.int64
CLASS_CODES = {"A": CLASS_A, "B": CLASS_B, "C": CLASS_C}
REQUIRED = ("claim_id", "psn_no", "insutype", "psn_type", "med_type", "level", "dscg_date")
IDENTIFIERS = ("claim_id", "psn_no")  # one value per claim or person: kept as plain arrays, not encoded
TEXT_DEFAULTS = {"identities": "", "supplementary": "", "inst_kind": "", "inst_admdvs": "", "filing": "",
                 "chronic_disease": "", "diagnoses": "", "sex": ""}
NUMBER_DEFAULTS = {"tier": 0, "acct_bal": 0, "fam_bal": 0}
FLAG_DEFAULTS = ("civil_servant", "enterprise_supplementary")
KIND_FIELDS = Kind._fields
SPLIT = ("fulamt", "overlmt", "presel", "inscope")  # a line's scope, in fen
_RESOLVING = threading.Lock()  # kinds resolved one thread at a time, so a kind new to both is resolved once
UNKNOWN = "?unknown"  # a med type the pack does not know
MAX_AGE = 130  # above the longest verified human life (122 years): an age beyond it is a data error
PSN_TYPES_OF = {EMPLOYEE: EMPLOYEE_PSN_TYPES, RESIDENT: RESIDENT_PSN_TYPES}  # 人员类别 each 险种 admits


@dataclass
class Inputs:
    """What the engine needs, claims in settlement order (person, discharge date, claim id).

    ``order[i]`` is the input position of the i-th claim; ``kinds[kind_id[i]]`` its parameters;
    ``plans[period[i]]`` the plan in force at its discharge; ``scope`` the per-claim sums (total,
    fulamt, overlmt, presel, inscope) and balances (acct_bal, fam_bal); ``unknown_items`` the lines
    whose code is in no catalog (目录外, fully self-paid) and ``unlisted_chronic`` the 门诊慢特病
    claims whose disease the pack does not list (the fund pays them nothing) — both refused when
    the inputs are built strictly; ``warning`` says when a claim is dated more than a year after the
    pack's last change (its newest parameters are applied unchanged)."""

    order: np.ndarray
    claims: dict[str, np.ndarray]
    kinds: list[Resolved]
    kind_id: np.ndarray
    period: np.ndarray
    plans: dict[int, Plan]
    person: np.ndarray
    year: np.ndarray
    scope: dict[str, np.ndarray]
    unknown_items: int = 0
    unlisted_chronic: int = 0
    warning: str = ""

    def under(self, pack: Pack) -> "Inputs":
        """The same claims and line scope with their kinds resolved under ``pack`` (a reform that
        leaves ``benefits.scope`` alone: the scope does not change)."""
        period, plans = _periods(self.claims["dscg_date"], pack)
        kind_id, kinds, _ = _kinds(self.claims, period, plans, strict=False)
        return dataclasses.replace(self, kinds=kinds, kind_id=kind_id, period=period, plans=plans)


def build_inputs(claims: Mapping[str, Any], lines: Mapping[str, Any], pack: Pack, catalog: Any = None,
                 *, strict: bool = True, trace: bool = False, each_line: bool = False) -> Inputs:
    """Kinds and scope sums for ``claims`` and their ``lines`` (see the module docstring). With
    ``strict``, a line whose code is in no catalog and a 门诊慢特病 claim whose disease the pack does
    not list are refused; otherwise they are counted (and paid as 目录外, and not by the fund). With
    ``trace``, ``scope["default_ratio_lines"]`` counts each claim's 乙类 lines that took the pack's
    default 先行自付 ratio (for the statement's trace). With ``each_line``, ``scope["lines"]`` gives every
    line's scope (in claim order; a claim's lines keep their input order)."""
    from yibao.settlement.batch import claim_scope

    cols = _claim_columns(claims)
    order = _settlement_order(cols)
    if len(order) > 1:  # one claim is in order already
        cols = {k: v[order] for k, v in cols.items()}
    period, plans = _periods(cols["dscg_date"], pack)
    cols["age"] = _ages(cols)
    check_claims(cols)
    kind_id, kinds, unlisted = _kinds(cols, period, plans, strict)
    line_cols, starts, ends = _lines_in_order(lines, order, cols)
    scope_in, unknown = _line_scope_inputs(cols, line_cols, starts, ends, period, plans, catalog, strict)
    each = _each_line(scope_in, pack.rounding) if each_line else None
    split = None if each is None else tuple(each[k] for k in SPLIT)
    scope = claim_scope(starts, ends, scope_in, pack.rounding, split=split)
    if trace:
        scope["default_ratio_lines"] = claim_sums(starts, ends, scope_in["default_ratio"])[0]
    if each is not None:
        scope["lines"] = each
    scope["acct_bal"] = cols["acct_bal"]
    scope["fam_bal"] = cols["fam_bal"]
    person = (pd.factorize(cols["person"] if "person" in cols else np.asarray(cols["psn_no"]))[0].astype(I64)
              if len(order) > 1 else np.zeros(len(order), dtype=I64))
    year = cols["dscg_date"].astype("datetime64[Y]").astype(I64) + 1970
    latest = cols["dscg_date"].max() if len(order) else None
    warning = pack.stale_warning(latest.astype(dt.date)) if latest is not None else ""
    return Inputs(order, cols, kinds, kind_id, period, plans, person, year, scope, unknown, unlisted, warning)


# -- claims ------------------------------------------------------------------------------------------


def _claim_columns(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claim columns: text dictionary-encoded (:mod:`yibao.coded`), dates as datetime64[D],
    numbers as int64; optional columns filled with their neutral value."""
    n = len(claims["claim_id"]) if "claim_id" in claims else 0
    out: dict[str, Any] = {}
    for col in REQUIRED:
        if col not in claims:
            raise ValidationError(col, "missing column", "claims")
        a = (_days(claims[col], col) if col == "dscg_date" else _identifiers(claims[col]) if col in IDENTIFIERS
             else encode(claims[col]))
        missing = np.isnat(a) if col == "dscg_date" else (a == "")
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise ValidationError(col, "missing value", f"claims row {i} ({_identifiers(claims['claim_id'])[i]})")
        out[col] = a
    if "person" in claims:  # the person's number, when the caller has one (a lake's person index)
        out["person"] = np.asarray(claims["person"], dtype=I64)
    for col, default in TEXT_DEFAULTS.items():
        out[col] = encode(claims.get(col), n, default)
    for col, default in NUMBER_DEFAULTS.items():
        out[col] = _ints(claims.get(col), n, default, col)
    for col in FLAG_DEFAULTS:
        v = claims.get(col)
        out[col] = np.zeros(n, dtype=bool) if v is None else _flags(v)
    if "adm_date" in claims:
        adm = _days(claims["adm_date"], "adm_date")
        bad = ~np.isnat(adm) & (adm > out["dscg_date"])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError("dscg_date", f"discharge {out['dscg_date'][i]} is before admission {adm[i]}",
                                  f"claim {out['claim_id'][i]}")
    for col in ("age", "birth_date"):
        if col in claims:
            out[col] = _ints(claims[col], n, -1, col) if col == "age" else _days(claims[col], col)
    return out


def _identifiers(values: Any) -> "np.ndarray | Ids":
    """Ids as an object array of strings ('' where missing), or as :class:`Ids` when they come as Arrow text."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):  # strings already: no checks
            values = values.fill_null("")
            return Ids(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
        values = values.to_numpy(zero_copy_only=False)
    a = np.asarray(values, dtype=object)
    if len(a) <= coded.SMALL and all(type(v) is str for v in a):  # a real-time claim's ids: no pandas
        return a
    missing = pd.isna(a)
    if missing.any():
        a = np.where(missing, "", a)
    return a if pd.api.types.infer_dtype(a, skipna=False) in ("string", "empty") else a.astype(str).astype(object)


class Ids:
    """Ids given as an Arrow text column (a lake's claim ids and persons), kept in Arrow: reordered and
    compared there, a Python string made only for the id a message names. Reads like the object
    array it stands for (``len``, ``ids[i]``, ``ids[array]``, ``ids == ""``, ``np.asarray(ids)``)."""

    __slots__ = ("array",)

    def __init__(self, array: pa.Array):
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)):
            return self.array[int(idx)].as_py()
        if isinstance(idx, slice):
            return Ids(self.array[idx])
        idx = np.asarray(idx)
        return Ids(self.array.filter(pa.array(idx)) if idx.dtype == bool else self.array.take(pa.array(idx)))

    def __eq__(self, value: object) -> np.ndarray:  # type: ignore[override]
        return pc.equal(self.array, value).to_numpy(zero_copy_only=False)

    __hash__ = None  # type: ignore[assignment]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.array.to_numpy(zero_copy_only=False).astype(dtype or object, copy=False)


def _flags(values: Any) -> np.ndarray:
    a = np.asarray(values)
    return a if a.dtype == bool else pd.Series(a).fillna(False).to_numpy(dtype=bool)


def _ints(values: Any, n: int, default: int, col: str) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=I64)
    a = np.asarray(values)
    if a.dtype.kind in "iu":
        return a.astype(I64, copy=False)
    s = pd.to_numeric(pd.Series(a), errors="coerce")
    bad = s.notna() & (s != s.round())
    if bad.any():
        raise ValidationError(col, f"{s[bad].iloc[0]!r} is not a whole number", f"claims row {int(np.flatnonzero(bad)[0])}")
    return s.fillna(default).to_numpy(dtype=I64)


def _days(values: Any, col: str) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values.astype("datetime64[D]")
    try:
        return pd.to_datetime(pd.Series(values)).to_numpy("datetime64[D]")
    except (ValueError, TypeError) as e:
        raise ValidationError(col, f"not a date: {e}", "claims") from None


def _settlement_order(cols: dict[str, Any]) -> np.ndarray:
    """Claims by person, discharge date and claim id: the order running totals accumulate in."""
    n = len(cols["claim_id"])
    if n <= 1:
        return np.arange(n)
    person_rank = cols["person"] if "person" in cols else pd.factorize(np.asarray(cols["psn_no"]), sort=True)[0]
    day = cols["dscg_date"].astype(I64)
    order = np.lexsort((day, person_rank))
    tied = np.flatnonzero((person_rank[order][1:] == person_rank[order][:-1]) & (day[order][1:] == day[order][:-1]))
    if len(tied):  # the same person discharged twice on one day: by claim id, as real time takes them
        at = np.union1d(tied, tied + 1)  # every claim of a tie, still in (person, day) order
        sub = order[at]
        id_rank = np.argsort(np.argsort(np.asarray(cols["claim_id"][sub]), kind="stable"), kind="stable")
        order[at] = sub[np.lexsort((id_rank, day[sub], person_rank[sub]))]
    return order


def _periods(dscg: np.ndarray, pack: Pack) -> tuple[np.ndarray, dict[int, Plan]]:
    """Each claim's parameter period (the pack's change dates) and the plan of each period used."""
    dates, stamps = periods(pack)
    period = np.maximum(np.searchsorted(stamps, dscg, side="right") - 1, 0)
    used = np.unique(period) if len(period) > 1 else period
    return period, {int(p): plan_for(pack, dates[int(p)]) for p in used}


def _ages(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Age in whole years on the discharge date: the given age, else from the birth date."""
    n = len(cols["claim_id"])
    age = cols.get("age", np.full(n, -1, dtype=I64))
    cols["age_given"] = age
    need = age < 0
    if need.any():
        born = cols.get("birth_date")
        if born is None or np.isnat(born[need]).any():
            i = int(np.flatnonzero(need if born is None else need & np.isnat(born))[0])
            raise ValidationError("birth_date", "needs age or birth_date", f"claim {cols['claim_id'][i]}")
        age = np.where(need, _whole_years(born, cols["dscg_date"]), age)
    return age


def check_claims(cols: dict[str, np.ndarray]) -> None:
    """Refuse claims no real bill can be: an unknown 险种, a 人员类别 of the other scheme, a level, sex,
    age or identity outside the national codes, a birth after discharge or an age that contradicts the
    birth date, diagnoses outside the 医保 ICD-10 code set."""
    ids = cols["claim_id"]

    def refuse(bad: np.ndarray, field: str, problem) -> None:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(field, problem(i), f"claim {ids[i]}")

    ins, psn = cols["insutype"], cols["psn_type"]
    refuse(~coded.isin(ins, PSN_TYPES_OF), "insutype", lambda i: f"{ins[i]!r} is not 310 (职工) or 390 (居民)")
    fits = coded.per_pair(ins, psn, lambda a, b: b in PSN_TYPES_OF.get(a, ()), bool)
    refuse(~fits, "psn_type", lambda i: f"{psn[i]!r} is not a 人员类别 of insutype {ins[i]} "
           f"(one of {', '.join(sorted(PSN_TYPES_OF[ins[i]]))})")
    refuse(~coded.isin(cols["level"], LEVELS), "level", lambda i: f"{cols['level'][i]!r} is not 3, 2, 1 or 0")
    refuse(~coded.isin(cols["sex"], ("", "1", "2")), "sex", lambda i: f"{cols['sex'][i]!r} is not 1 (male) or 2 (female)")
    age = cols["age"]
    refuse(age > MAX_AGE, "age", lambda i: f"{age[i]} years is not a possible age (above {MAX_AGE})")
    born = cols.get("birth_date")
    if born is not None:
        known = ~np.isnat(born)
        refuse(known & (born > cols["dscg_date"]), "birth_date",
               lambda i: f"born {born[i]}, after the discharge on {cols['dscg_date'][i]}")
        given = cols["age_given"]
        both = np.flatnonzero(known & (given >= 0))  # only claims that give both need the check
        if len(both):
            computed = np.full(len(given), -1, dtype=I64)
            computed[both] = _whole_years(born[both], cols["dscg_date"][both])
            refuse((given >= 0) & known & (given != computed), "age",
                   lambda i: f"age {given[i]} contradicts birth_date {born[i]} (age {computed[i]} on {cols['dscg_date'][i]})")
    unknown = coded.mapped(cols["identities"], lambda s: next((x for x in _split(s) if x not in IDENTITIES), ""))
    refuse(unknown != "", "identities", lambda i: f"{unknown[i]!r} is not a 医疗救助 identity "
           f"(one of {', '.join(IDENTITIES)})")
    bad_dx = _unknown_diagnoses(cols["diagnoses"])
    refuse(bad_dx != "", "diagnoses", lambda i: f"{bad_dx[i]!r} is not in the 医保 ICD-10 code set")


def _unknown_diagnoses(joined: Coded) -> Coded:
    """The first code of each claim's '|'-joined diagnoses that the 医保 ICD-10 set lacks ('' none)."""
    from yibao.catalog.codes import icd10

    flat = sorted({c for u in joined.categories for c in _split(u)})
    canonical = _icd10_codes()
    known = {c: True for c in flat if c in canonical}  # a set look-up: hashing the whole code set costs ms
    rest = [c for c in flat if c not in known]  # not canonical: normalised, as the code set reads them
    known.update(zip(rest, icd10().validate_many(pd.Series(rest, dtype=object))) if rest else ())
    return coded.mapped(joined, lambda u: next((c for c in _split(u) if not known[c]), ""))


@functools.cache
def _icd10_codes() -> frozenset:
    """The 医保 ICD-10 codes in their canonical form, for a claim's few diagnoses."""
    from yibao.catalog.codes import icd10

    return frozenset(icd10().codes.tolist())


def _whole_years(born: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Whole years from ``born`` to ``when`` (datetime64[D] arrays)."""
    def parts(d):
        month = d.astype("datetime64[M]")
        return d.astype("datetime64[Y]").astype(I64), month.astype(I64) % 12, (d - month).astype(I64)

    (by, bm, bd), (wy, wm, wd) = parts(born), parts(when)
    return wy - by - ((wm < bm) | ((wm == bm) & (wd < bd)))


def _kinds(cols: dict[str, Any], period: np.ndarray, plans: dict[int, Plan],
           strict: bool) -> tuple[np.ndarray, list[Resolved], int]:
    """Each claim's kind (what decides its parameters), resolved once per distinct kind; and how many
    门诊慢特病 claims name a disease outside the pack's list."""
    n = len(period)
    unlisted = 0
    age_key = np.zeros(n, dtype=I64)
    derived: dict[str, list] = {name: [] for name in ("identity", "waiver", "chronic")}  # (claims, Coded) per plan
    for p, plan in plans.items():
        m = np.flatnonzero(period == p) if len(plans) > 1 else slice(None)
        marks = np.array(plan.age_marks, dtype=I64)
        age_key[m] = marks[np.searchsorted(marks, np.maximum(cols["age"][m], 0), side="right") - 1]
        derived["identity"].append((m, coded.mapped(cols["identities"][m], lambda s: plan.identity_of(_split(s)))))
        if plan.waivers:
            derived["waiver"].append((m, _per_pair_coded(cols["diagnoses"][m], cols["identities"][m],
                                                         lambda d, i: plan.waiver_of(_split(d), _split(i)))))
        group = coded.mapped(cols["med_type"][m], lambda t: plan.med_groups.get(t, UNKNOWN))
        if (group == UNKNOWN).any():
            i = np.arange(n)[m][int(np.flatnonzero(group == UNKNOWN)[0])]
            plan.med_group(cols["med_type"][i], f"claim {cols['claim_id'][i]}")  # raises, naming the known ones
        is_chronic = np.asarray(group == "chronic")
        chronic = _blank_where(cols["chronic_disease"][m], ~is_chronic)
        derived["chronic"].append((m, chronic))
        unlisted += _check_chronic(chronic, is_chronic, cols["claim_id"][m], plan, strict)
    derived = {name: _stitch(pieces, n) for name, pieces in derived.items()}
    supplementary = coded.mapped(cols["supplementary"], lambda s: "|".join(sorted(_split(s))))
    fields = {"insutype": cols["insutype"], "med_type": cols["med_type"], "level": cols["level"],
              "psn_type": cols["psn_type"], "age": age_key, "identity": derived["identity"], "tier": cols["tier"],
              "filing": cols["filing"], "chronic": derived["chronic"], "civil_servant": cols["civil_servant"],
              "waiver": derived["waiver"], "supplementary": supplementary, "inst_kind": cols["inst_kind"],
              "enterprise": cols["enterprise_supplementary"]}
    key, first = _kind_ids(fields, period)
    if n == 1:  # one claim: its fields as they are
        rows = [tuple(_plain(fields[f][0]) for f in KIND_FIELDS)]
    else:
        rows = zip(*[np.asarray(fields[f][first], dtype=object if isinstance(fields[f], Coded) else None).tolist()
                     for f in KIND_FIELDS])
    with _RESOLVING:  # parts settled side by side share the plan's kinds
        kinds = [plans[int(period[i])].resolve(Kind(*row)) for i, row in zip(first, rows)]
    return key, kinds, unlisted


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value a kind holds."""
    return value.item() if isinstance(value, np.generic) else value


def _kind_ids(fields: dict[str, Any], period: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each claim's kind id (numbered by first appearance) and the first claim of each kind."""
    if len(period) <= 1:  # one claim is one kind
        return np.zeros(len(period), dtype=I64), np.arange(len(period))
    key, span = _codes(period)
    for name in KIND_FIELDS:  # mixed-radix code of every field that decides the kind
        codes, size = _codes(fields[name])
        if span * size >= 1 << 40:  # renumber densely before the code could overflow
            key, span = _codes(key)
        key, span = key * size + codes, span * size
    key = pd.factorize(key)[0].astype(I64)
    return key, np.unique(key, return_index=True)[1]


def _per_pair_coded(a: Coded, b: Coded, f) -> Coded:
    """``f(a[i], b[i])`` for every element as a :class:`Coded` column, once per distinct pair."""
    k = max(len(b.categories), 1)
    uniq, inv = np.unique(a.codes * k + b.codes, return_inverse=True)
    table = encode(np.array([f(a.categories[u // k], b.categories[u % k]) for u in uniq] or [""], dtype=object))
    return Coded(table.codes[inv.reshape(-1)], table.categories)


def _blank_where(values: Coded, blank: np.ndarray) -> Coded:
    """``values`` with '' where ``blank``."""
    if blank.all():  # no claim of the kind that keeps them (no 门诊慢特病 claim among them)
        return Coded(np.zeros(len(blank), dtype=I64), np.array([""], dtype=object))
    empty = np.flatnonzero(values.categories == "")
    categories = values.categories if len(empty) else np.append(values.categories, np.array([""], dtype=object))
    return Coded(np.where(blank, empty[0] if len(empty) else len(categories) - 1, values.codes), categories)


def _stitch(pieces: list[tuple[Any, Coded]], n: int) -> Coded:
    """One column from the pieces each plan derived for its claims ('' where no plan gave one)."""
    if len(pieces) == 1 and isinstance(pieces[0][0], slice):
        return pieces[0][1]
    if not pieces:  # no plan derives it (a pack without waivers)
        return Coded(np.zeros(n, dtype=I64), np.array([""], dtype=object))
    codes, categories = np.zeros(n, dtype=I64), [np.array([""], dtype=object)]
    offset = 1
    for at, piece in pieces:
        codes[at] = piece.codes + offset
        categories.append(piece.categories)
        offset += len(piece.categories)
    return Coded(codes, np.concatenate(categories))


def _codes(values: Any) -> tuple[np.ndarray, int]:
    """Small integer codes of a column and how many there can be (a Categorical's own codes)."""
    if isinstance(values, Coded):
        return values.codes, max(len(values.categories), 1)
    values = np.asarray(values)
    if len(values) <= coded.SMALL:
        uniq, codes = np.unique(values, return_inverse=True)
        return codes.astype(I64), max(len(uniq), 1)
    codes, uniq = pd.factorize(values)
    return codes.astype(I64), max(len(uniq), 1)


def _check_chronic(codes: Coded, is_chronic: np.ndarray, ids: np.ndarray, plan: Plan, strict: bool) -> int:
    """A 门诊慢特病 claim names its disease; one outside the pack's list is refused when ``strict``,
    else counted (the fund pays it nothing). Returns that count."""
    if not is_chronic.any():
        return 0
    missing = is_chronic & (codes == "")
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ValidationError("chronic_disease", "a 门诊慢特病 claim (med_type 14) needs its disease code",
                              f"claim {ids[i]}")
    unknown = is_chronic & ~coded.isin(codes, plan.chronic)
    if unknown.any() and strict:
        i = int(np.flatnonzero(unknown)[0])
        raise ValidationError("chronic_disease", f"{codes[i]!r} is not a 门诊慢特病 of pack {plan.pack.name!r} on "
                              f"{plan.date} (known: {', '.join(sorted(plan.chronic))})", f"claim {ids[i]}")
    return int(unknown.sum())


def _split(joined: str) -> tuple[str, ...]:
    return tuple(x for x in joined.split("|") if x)


# -- lines -------------------------------------------------------------------------------------------


def _each_line(scope_in: dict[str, np.ndarray], rounding) -> dict[str, np.ndarray]:
    """Each line's class, 先行自付 ratio, price cap, restriction flag and its split (fen)."""
    split = line_scope(scope_in["amount"], scope_in["qty_milli"], scope_in["item_class"], scope_in["preselfpay_ppm"],
                       scope_in["price_cap"], scope_in["out_of_scope"], rounding)
    keep = ("item_class", "preselfpay_ppm", "price_cap", "out_of_scope")
    return {**{k: scope_in[k] for k in keep}, **dict(zip(SPLIT, split))}


def _lines_in_order(lines: Mapping[str, Any], order: np.ndarray,
                    cols: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Lines sorted by their claim's settlement position, with each claim's span ``starts:ends``."""
    n_claims = len(order)
    where = np.asarray(lines["claim"], dtype=I64)
    if len(where) and (where.min() < 0 or where.max() >= n_claims):
        i = int(np.flatnonzero((where < 0) | (where >= n_claims))[0])
        raise ValidationError("claim_id", "line of unknown claim", f"claim_lines row {i}")
    if n_claims == 1:  # one claim's lines are in order as given
        starts, ends = np.zeros(1, dtype=I64), np.full(1, len(where), dtype=I64)
        by_claim = np.arange(len(where))
        out = {k: v if isinstance(v, Coded) else np.asarray(v) for k, v in lines.items() if k != "claim"}
        pos = np.zeros(len(where), dtype=I64)
    else:
        rank = np.empty(n_claims, dtype=I64)
        rank[order] = np.arange(n_claims)
        count = np.bincount(where, minlength=n_claims)[order]  # lines of each claim, in settlement order
        ends = np.cumsum(count)
        starts = ends - count
        by_claim = _by_claim(where, rank, starts)
        out = {k: (v if isinstance(v, Coded) else np.asarray(v))[by_claim] for k, v in lines.items() if k != "claim"}
        pos = np.repeat(np.arange(n_claims), count)
    amount = out["amount"]
    if (amount < 0).any():
        j = int(np.flatnonzero(amount < 0)[0])
        raise ValidationError("amount_fen", "negative amount", f"claim_lines row {int(by_claim[j])} "
                              f"(claim {cols['claim_id'][pos[j]]})")
    out["_claim"] = pos
    return out, starts, ends


def _by_claim(where: np.ndarray, rank: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The input row of each line in settlement order (claims by ``rank``, each claim's lines as given).
    Lines given claim by claim (as a lake writes them) are moved as blocks, without a sort."""
    n = len(where)
    if n < 2 or not (where[1:] >= where[:-1]).all():
        return np.argsort(rank[where], kind="stable")
    first = np.r_[0, np.flatnonzero(where[1:] != where[:-1]) + 1]  # each claim's first line in the input
    block = np.repeat(np.arange(len(first)), np.diff(np.r_[first, n]))
    dest = starts[rank[where]] + np.arange(n) - first[block]
    by_claim = np.empty(n, dtype=I64)
    by_claim[dest] = np.arange(n)
    return by_claim


def _line_scope_inputs(cols, lines, starts, ends, period, plans, catalog, strict) -> tuple[dict[str, np.ndarray], int]:
    """Class, 先行自付 ratio, price cap and restriction flag of every line (in claim order)."""
    n = len(lines["amount"])
    pos = lines["_claim"]
    cls = np.full(n, CLASS_C, dtype=I64)
    rate = np.zeros(n, dtype=I64)
    cap = np.full(n, -1, dtype=I64)
    bad = np.zeros(n, dtype=bool)
    own_ratio = np.zeros(n, dtype=bool)
    default = np.array([plans[p].default_preselfpay if p in plans else 0 for p in range(max(plans) + 1)],
                       dtype=I64)[period[pos]] if n else np.zeros(0, dtype=I64)
    klass = lines.get("item_class")
    adhoc = np.zeros(n, dtype=bool) if klass is None else ~pd.isna(klass)
    if adhoc.any():
        klass = encode(klass, default="C")
        bad_class = ~coded.isin(klass, CLASS_CODES) & adhoc
        if bad_class.any():
            i = int(np.flatnonzero(bad_class)[0])
            raise ValidationError("item_class", f"{klass[i]!r} is not A, B or C", f"claim {cols['claim_id'][pos[i]]}")
        cls = np.where(adhoc, coded.per_value(klass, lambda k: CLASS_CODES.get(k, CLASS_C), I64), cls)
        own = np.asarray(lines.get("preselfpay_ppm", np.full(n, -1)), dtype=I64)
        own_ratio |= adhoc & (own >= 0)
        rate = np.where(adhoc, np.where(own >= 0, own, np.where(cls == CLASS_B, default, 0)), rate)
        cap = np.where(adhoc, np.asarray(lines.get("price_cap", np.full(n, -1)), dtype=I64), cap)
    codes = lines.get("item_code")
    if codes is not None:
        codes = encode(codes)
    coded_lines = ~adhoc & (np.zeros(n, dtype=bool) if codes is None else np.asarray(codes != ""))
    unknown = 0
    if coded_lines.any():
        idx = np.flatnonzero(coded_lines)
        found = np.zeros(len(idx), dtype=bool)
        inpatient = coded.isin(cols["med_type"], INPATIENT_MED_TYPES)
        for cat, sel in _catalogs_of(catalog, cols["inst_admdvs"], pos[idx]):
            at = idx[sel]
            rows = cat.positions(codes[at], cols["dscg_date"][pos[at]])
            hit = rows >= 0
            found[sel] = hit
            at, rows = at[hit], rows[hit]
            c, r, p = cat.scope_of(rows)  # class as 0 甲 / 1 乙 / 2 丙, like the engine's
            cls[at], cap[at] = c, p
            rate[at] = np.where(r >= 0, r, np.where(c == CLASS_B, default[at], 0))
            own_ratio[at] = r >= 0
            bad[at] = cat.violations(rows, pos[at], cols["sex"], cols["age"], inpatient, cols["level"], cols["diagnoses"])
        fund_rate, pack_ratio = _own_fund_rates(lines, codes, coded_lines, pos, period, plans, rate)
        own_ratio |= pack_ratio
        missing = idx[~found]
        unknown = len(missing)
        if unknown and strict:
            i = int(missing[0])
            k = int(pos[i])
            line_no = i - int(starts[k])
            raise ValidationError(f"lines[{line_no}].item_code",
                                  f"{codes[i]!r} is not in the catalog on {cols['dscg_date'][k]}", f"claim {cols['claim_id'][k]}")
    else:
        fund_rate = np.asarray(lines.get("fund_rate", np.full(n, -1)), dtype=I64)
    out = {"amount": lines["amount"], "qty_milli": lines["qty_milli"], "item_class": cls, "preselfpay_ppm": rate,
           "price_cap": cap, "out_of_scope": bad, "default_ratio": (cls == CLASS_B) & ~own_ratio & ~bad}
    if (fund_rate >= 0).any():
        out["fund_rate"] = fund_rate
    return out, unknown


def _own_fund_rates(lines, codes, coded_lines, pos, period, plans, rate) -> tuple[np.ndarray, np.ndarray]:
    """Each line's own 统筹 rate (ppm; −1: the stay's): an ad-hoc line's, or the pack's
    ``scope.item_rates`` row for its code, whose 先行自付 share (when given) replaces the line's
    (``rate``, in place). Returns (the rates, the lines whose share the pack gave)."""
    n = len(coded_lines)
    fund_rate = np.asarray(lines.get("fund_rate", np.full(n, -1)), dtype=I64).copy()
    pack_ratio = np.zeros(n, dtype=bool)
    for p, plan in plans.items():
        if not plan.item_rates:
            continue
        at = np.flatnonzero(coded_lines & (period[pos] == p))
        if not len(at):
            continue
        rows = plan.item_rate_ppm
        own = coded.per_value(codes[at], lambda c: rows.get(c, (-1, -1))[0], I64)
        pre = coded.per_value(codes[at], lambda c: rows.get(c, (-1, -1))[1], I64)
        fund_rate[at] = np.where(own >= 0, own, fund_rate[at])
        rate[at] = np.where(pre >= 0, pre, rate[at])
        pack_ratio[at] = pre >= 0
    return fund_rate, pack_ratio


def _catalogs_of(catalog: Any, place: Coded, claim_of: np.ndarray):
    """(catalog, selection) pairs: the catalog of each line's place of treatment (``place`` per claim,
    ``claim_of`` each line's claim). ``catalog`` is a :class:`~yibao.catalog.items.Catalog`, a frame
    with the lake catalog columns, or a mapping from admdvs (or ``"*"``) to either."""
    if catalog is None:
        return []
    if not isinstance(catalog, Mapping):
        return [(as_catalog(catalog), np.ones(len(claim_of), dtype=bool))]
    out = []
    where = place.codes[claim_of]
    for code, name in enumerate(place.categories):
        cat = catalog.get(name) or catalog.get("*")
        if cat is not None and (where == code).any():
            out.append((as_catalog(cat), where == code))
    return out


def as_catalog(catalog: Any):
    """A :class:`~yibao.catalog.items.Catalog` from a catalog, a frame, or an object with a frame."""
    from yibao.catalog.items import Catalog

    if isinstance(catalog, Catalog):
        return catalog
    frame = catalog if isinstance(catalog, pd.DataFrame) else getattr(catalog, "frame", None)
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError("catalog", f"{type(catalog).__name__} is not a catalog (a Catalog or a catalog frame)")
    return Catalog.of_items(frame)


__all__ = ["Inputs", "build_inputs", "as_catalog", "CLASS_CODES"]
