"""Line-by-line kinds: an item used outside its restriction (限性别, 限年龄, 限适应症, 限医院等级, 限住院,
限定保险类型), above its price cap (超标准收费), outside the catalog (超医保支付范围), or an item the claim
does not support (串换项目: an operation on a claim that records none).

Restriction items come from the catalog's structured 限定支付范围 columns or from the NHSA 两库 tables
(``yibao.catalog.rules``): service tables by their 9-digit base code, drug rules joined by name.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, NamedTuple

import ibis
import pandas as pd
import pyarrow as pa

from yibao import vocab
from yibao.supervision.common import NO_END, ClaimCheck, Kind, Tables, findings, half_up, one_line, starts_with_any
from yibao.supervision.model import Finding, half_up as round_fen
from yibao.supervision.rules import ParamSpec, Rule

SEX_NAMES = {"1": "男", "2": "女"}
MATERNITY = (vocab.MED_MATERNITY_OUTPATIENT, vocab.MED_MATERNITY_INPATIENT)
ITEM_COLUMNS = ("code", "begin", "end", "sex", "for_sex", "min_age", "max_age", "min_level", "required_dx",
                "scheme", "inpatient_only")


class Items(NamedTuple):
    """A rule's items: the table (``ITEM_COLUMNS``), whether codes are base codes, and an index by code."""

    frame: pd.DataFrame
    by_base: bool
    index: dict

    @classmethod
    def of(cls, frame: pd.DataFrame, by_base: bool) -> "Items":
        frame = _complete(frame).drop_duplicates(["code", "begin"]).reset_index(drop=True)
        index = defaultdict(list)
        for row in frame.itertuples(index=False):
            index[row.code].append(row)
        return cls(frame, by_base, dict(index))

    @property
    def arrow(self) -> pa.Table:
        """The table with typed columns, prefixed ``r_`` (rule columns beside the claim's)."""
        types = {"code": pa.string(), "begin": pa.int64(), "end": pa.int64(), "min_age": pa.int64(),
                 "max_age": pa.int64(), "min_level": pa.int64(), "inpatient_only": pa.bool_()}
        cols = {f"r_{c}": pa.array(self.frame[c].tolist(), type=types.get(c, pa.string())) for c in ITEM_COLUMNS}
        return pa.table(cols)

    def rows(self, line) -> list:
        return [r for r in self.index.get(line.base if self.by_base else line.item_code, ()) if r.begin <= line.day <= r.end]


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"code": frame["code"].astype(str)})
    for col in ITEM_COLUMNS[1:]:
        if col in ("begin", "end"):
            default = 0 if col == "begin" else NO_END
            out[col] = frame[col].astype("int64") if col in frame else default
        elif col in ("min_age", "max_age", "min_level"):
            out[col] = pd.array(frame[col], dtype="Int64") if col in frame else pd.array([pd.NA] * len(frame), dtype="Int64")
        elif col == "inpatient_only":
            out[col] = frame[col].astype(bool) if col in frame else False
        else:
            vals = frame[col].astype(object).where(frame[col].notna(), None) if col in frame else None
            out[col] = vals
    out = out.astype({c: object for c in ("sex", "for_sex", "required_dx", "scheme")})
    for c in ("min_age", "max_age", "min_level"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def _days(s: pd.Series, missing: int) -> pd.Series:
    d = pd.to_datetime(s)
    out = (d - pd.Timestamp("1970-01-01")).dt.days
    return out.fillna(missing).astype("int64")


def catalog_items(catalog, condition: str, item_kinds: list[str] | None) -> pd.DataFrame:
    """Catalog rows with a restriction ``condition`` (a column), as item rows."""
    f = catalog.frame
    if item_kinds:
        f = f[f["kind"].isin(item_kinds)]
    f = f[f[condition].notna() & (f[condition] != False)]  # noqa: E712 - inpatient_only is boolean
    return pd.DataFrame({
        "code": f["item_code"].astype(str), "begin": _days(f["begin_date"], 0), "end": _days(f["end_date"], NO_END),
        "sex": f["restrict_sex"], "min_age": f["restrict_min_age"], "max_age": f["restrict_max_age"],
        "min_level": pd.to_numeric(f["restrict_min_level"]).astype("Int64"), "required_dx": f["required_dx"],
        "inpatient_only": f["inpatient_only"],
    })


def nhsa_drug_items(catalog, kind: str) -> pd.DataFrame:
    """两库 drug rules of one kind (sex / age / level / setting / scheme / course), joined to catalog items by name."""
    from yibao.catalog.rules import drug_rules_for_catalog

    d = drug_rules_for_catalog(catalog.frame)
    d = d[d["kind"] == kind].sort_values(["item_code", "batch"], kind="stable")
    return pd.DataFrame({
        "code": d["item_code"].astype(str), "sex": d["sex"], "max_age": d["max_age"],
        "min_level": pd.to_numeric(d["min_level"]).astype("Int64"), "scheme": d["scheme"],
        "inpatient_only": d["inpatient_only"], "max_days": d["course_days"],
    })


class Restriction(Kind):
    """An item used outside a condition; one Finding per line (its amount at stake)."""

    condition = ""  # catalog column the restriction lives in
    drug_kind = ""  # 两库 drug rule kind
    sources: tuple[str, ...] = ("catalog", "nhsa_drug")

    @property
    def params(self):
        return ParamSpec({"source": "one of " + " ".join(self.sources), "item_kinds": "list of text",
                          "max_age": "int", "for_sex": "one of 1 2"}, ("source",))

    def resolve(self, rule: Rule, catalog) -> Items:
        src = rule.params["source"]
        if src == "catalog":
            return Items.of(catalog_items(catalog, self.condition, rule.params.get("item_kinds")), False)
        if src == "nhsa_drug":
            return Items.of(nhsa_drug_items(catalog, self.drug_kind), False)
        return Items.of(self.nhsa_service(rule), True)

    def nhsa_service(self, rule: Rule) -> pd.DataFrame:
        raise NotImplementedError

    # the condition, twice
    def violates_expr(self, x) -> ibis.expr.types.BooleanValue:
        raise NotImplementedError

    def violates(self, claim, row) -> bool:
        raise NotImplementedError

    def observed_limit(self, claim, row) -> tuple[float | None, float | None]:
        return None, None

    def observed_limit_expr(self, x):
        return None, None

    def matched(self, rule: Rule, data: Items, t: Tables):
        x = t.applies(rule, t.lines_claims)
        items = t.memtable(data.arrow)
        key = x.base if data.by_base else x.item_code
        return x.join(items, [key == items.r_code, x.day >= items.r_begin, x.day <= items.r_end]).select(
            x, *[items["r_" + c] for c in ITEM_COLUMNS[3:]])

    def batch(self, rule: Rule, data: Items, t: Tables):
        x = self.matched(rule, data, t)
        x = x.filter(self.violates_expr(x))
        observed, limit = self.observed_limit_expr(x)
        return findings(x, x.claim_id, x.amount_fen, one_line(x), x.item_code, observed, limit)

    def check(self, rule: Rule, data: Items, c: ClaimCheck) -> Iterable[Finding]:
        for line in c.lines:
            for row in data.rows(line):
                if self.violates(c, row):
                    obs, lim = self.observed_limit(c.claim, row)
                    yield Finding(c.claim.claim_id, (line.line_no,), line.item_code, obs, lim, line.amount_fen, None)
                    break


class Sex(Restriction):
    name, label, condition, drug_kind = "sex", "限性别", "restrict_sex", "sex"
    sources = ("catalog", "nhsa_drug", "nhsa_service")

    def nhsa_service(self, rule):
        from yibao.catalog.rules import service_sex_limits

        s = service_sex_limits()
        return pd.DataFrame({"code": s["base_item_code"], "sex": s["sex"]}).dropna()

    def violates_expr(self, x):
        return x.r_sex.notnull() & (x.sex.isnull() | (x.sex != x.r_sex))

    def violates(self, c, row):
        return row.sex is not None and c.claim.sex != row.sex

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 限{SEX_NAMES.get(_sex_of(data, f), '?')}性使用，参保人性别不符"


def _sex_of(data: Items, f: Finding) -> str | None:
    rows = data.index.get(f.item_code) or data.index.get(f.item_code[:9]) or []
    return rows[0].sex if rows else None


class Age(Restriction):
    name, label, condition, drug_kind = "age", "限年龄", "restrict_max_age", "age"
    sources = ("catalog", "nhsa_drug", "nhsa_service", "nhsa_working_age")

    def resolve(self, rule, catalog):
        if rule.params["source"] == "catalog":
            f = pd.concat([catalog_items(catalog, "restrict_max_age", rule.params.get("item_kinds")),
                           catalog_items(catalog, "restrict_min_age", rule.params.get("item_kinds"))])
            return Items.of(f, False)
        return super().resolve(rule, catalog)

    def nhsa_service(self, rule):
        from yibao.catalog.rules import service_age_limits, service_working_age

        if rule.params["source"] == "nhsa_working_age":
            s = service_working_age()
            return pd.DataFrame({"code": s["base_item_code"], "max_age": rule.params["max_age"],
                                 "for_sex": rule.params.get("for_sex")})
        s = service_age_limits()
        return pd.DataFrame({"code": s["base_item_code"], "max_age": s["max_age"]}).dropna()

    def violates_expr(self, x):
        applies = x.r_for_sex.isnull() | (x.sex == x.r_for_sex)
        too_young = x.r_min_age.notnull() & (x.age < x.r_min_age)
        too_old = x.r_max_age.notnull() & (x.age > x.r_max_age)
        return applies & (x.r_min_age.notnull() | x.r_max_age.notnull()) & (x.age.isnull() | too_young | too_old)

    def violates(self, c, row):
        if row.for_sex is not None and c.claim.sex != row.for_sex:
            return False
        if row.min_age is None and row.max_age is None:
            return False
        age = c.claim.age
        return age is None or (row.min_age is not None and age < row.min_age) or (row.max_age is not None and age > row.max_age)

    def observed_limit(self, claim, row):
        over = row.max_age is not None and claim.age is not None and claim.age > row.max_age
        lim = row.max_age if over or row.min_age is None else row.min_age
        return (None if claim.age is None else float(claim.age)), float(lim)

    def observed_limit_expr(self, x):
        over = x.r_max_age.notnull() & x.age.notnull() & (x.age > x.r_max_age)
        lim = ibis.ifelse(over | x.r_min_age.isnull(), x.r_max_age, x.r_min_age)
        return x.age, lim

    def text(self, rule, data, f):
        age = "未知" if f.observed is None else f"{int(f.observed)}岁"
        return f"{rule.name}：{f.item_code} 年龄限定 {int(f.limit)}岁，参保人{age}"


class Diagnosis(Restriction):
    name, label, condition = "diagnosis", "限适应症", "required_dx"
    sources = ("catalog",)

    def batch(self, rule, data, t):
        x = self.matched(rule, data, t).filter(lambda s: s.r_required_dx.notnull())
        # re_split, not split: Ibis compiles split to Spark's SPLIT, which takes its delimiter as a
        # regular expression, so '|' would cut between every character there
        pref = x.select("claim_id", "line_no", prefix=x.r_required_dx.re_split(r"\|").unnest())
        c = t.claims.filter(t.claims.diagnoses.notnull())
        dx = c.select("claim_id", dx=c.diagnoses.re_split(r"\|").unnest())
        ok = pref.join(dx, [pref.claim_id == dx.claim_id, dx.dx.substr(0, pref.prefix.length()) == pref.prefix])
        ok = ok.select(pref.claim_id, pref.line_no).distinct()
        bad = x.anti_join(ok, [x.claim_id == ok.claim_id, x.line_no == ok.line_no])
        return findings(bad, bad.claim_id, bad.amount_fen, one_line(bad), bad.item_code)

    def violates(self, c, row):
        if row.required_dx is None:
            return False
        prefixes = tuple(row.required_dx.split("|"))
        return not any(d.startswith(prefixes) for d in c.diagnoses)

    def text(self, rule, data, f):
        rows = data.index.get(f.item_code) or []
        need = rows[0].required_dx if rows else ""
        return f"{rule.name}：{f.item_code} 限 {need} 诊断使用，本次诊断不符"


class Level(Restriction):
    name, label, condition, drug_kind = "level", "限医院等级", "restrict_min_level", "level"

    def violates_expr(self, x):
        return x.r_min_level.notnull() & (x.level.isnull() | (x.level < x.r_min_level))

    def violates(self, c, row):
        return row.min_level is not None and (c.claim.level_int is None or c.claim.level_int < row.min_level)

    def observed_limit(self, claim, row):
        return (None if claim.level_int is None else float(claim.level_int)), float(row.min_level)

    def observed_limit_expr(self, x):
        return x.level, x.r_min_level

    def text(self, rule, data, f):
        at = "未定级" if f.observed is None else f"{int(f.observed)}级"
        return f"{rule.name}：{f.item_code} 限{int(f.limit)}级及以上医疗机构，本机构{at}"


class Setting(Restriction):
    name, label, condition, drug_kind = "setting", "限住院", "inpatient_only", "setting"

    def violates_expr(self, x):
        return x.r_inpatient_only & ~x.is_stay

    def violates(self, c, row):
        return bool(row.inpatient_only) and not c.claim.is_stay

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 限住院使用，本次为门诊/购药"


class Scheme(Restriction):
    """两库 限定保险类型: items paid only by 工伤 or 生育 insurance, billed to basic medical insurance."""

    name, label, drug_kind = "scheme", "限定保险类型", "scheme"
    sources = ("nhsa_drug",)

    def violates_expr(self, x):
        return x.r_scheme.notnull() & ~((x.r_scheme == "生育") & x.med_type.isin(list(MATERNITY)))

    def violates(self, c, row):
        return row.scheme is not None and not (row.scheme == "生育" and c.claim.med_type in MATERNITY)

    def text(self, rule, data, f):
        rows = data.index.get(f.item_code) or []
        return f"{rule.name}：{f.item_code} 限{rows[0].scheme if rows else ''}保险支付，本次为基本医疗保险"


class Versions(NamedTuple):
    """Catalog item versions by code: (begin day, end day, price cap fen or -1), plus their table."""

    frame: pd.DataFrame
    index: dict

    @classmethod
    def of(cls, catalog, item_kinds=None) -> "Versions":
        f = catalog.frame
        if item_kinds:
            f = f[f["kind"].isin(item_kinds)]
        frame = pd.DataFrame({"code": f["item_code"].astype(str), "begin": _days(f["begin_date"], 0),
                              "end": _days(f["end_date"], NO_END), "cap": f["price_cap_fen"].fillna(-1).astype("int64")})
        index = defaultdict(list)
        for r in frame.itertuples(index=False):
            index[r.code].append((r.begin, r.end, r.cap))
        return cls(frame.reset_index(drop=True), dict(index))

    def in_force(self, code: str, day: int):
        for begin, end, cap in self.index.get(code, ()):
            if begin <= day <= end:
                return cap
        return None


class PriceCap(Kind):
    """超标准收费: a unit price above the item's cap (最高限价) on the service date."""

    name, label = "price_cap", "超标准收费"
    params = ParamSpec({"item_kinds": "list of text"})

    def resolve(self, rule, catalog):
        return Versions.of(catalog, rule.params.get("item_kinds"))

    def batch(self, rule, data, t):
        x = t.applies(rule, t.lines_claims)
        v = t.memtable(data.frame)
        x = x.join(v, [x.item_code == v.code, x.day >= v.begin, x.day <= v.end]).filter(
            lambda s: (s.cap >= 0) & (s.price_fen > s.cap))
        return findings(x, x.claim_id, half_up((x.price_fen - x.cap) * x.qty), one_line(x), x.item_code,
                        x.price_fen, x.cap)

    def check(self, rule, data, c):
        for ln in c.lines:
            cap = data.in_force(ln.item_code, ln.day)
            if cap is not None and cap >= 0 and ln.price_fen > cap:
                yield Finding(c.claim.claim_id, (ln.line_no,), ln.item_code, float(ln.price_fen), float(cap),
                              round_fen((ln.price_fen - cap) * ln.qty), None)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 单价 {f.observed / 100:.2f} 元，超过最高限价 {f.limit / 100:.2f} 元"


class OutOfCatalog(Kind):
    """超医保支付范围: a line whose item is not in the catalog on its service date."""

    name, label = "out_of_catalog", "超医保支付范围"
    params = ParamSpec({"item_kinds": "list of text"})

    def resolve(self, rule, catalog):
        return Versions.of(catalog)

    def batch(self, rule, data, t):
        x = t.applies(rule, t.lines_claims)
        if rule.params.get("item_kinds"):
            x = x.filter(x.kind.isin(rule.params["item_kinds"]))
        v = t.memtable(data.frame)
        x = x.anti_join(v, [x.item_code == v.code, x.day >= v.begin, x.day <= v.end])
        return findings(x, x.claim_id, x.amount_fen, one_line(x), x.item_code)

    def check(self, rule, data, c):
        kinds = rule.params.get("item_kinds")
        for ln in c.lines:
            if (not kinds or ln.kind in kinds) and data.in_force(ln.item_code, ln.day) is None:
                yield Finding(c.claim.claim_id, (ln.line_no,), ln.item_code, None, None, ln.amount_fen, None)

    def text(self, rule, data, f):
        return f"{rule.name}：{f.item_code} 不在医保目录内（服务日期未在有效期）"


class Unsupported(Kind):
    """串换项目: an item the claim's record does not support — an operation or intervention (by code
    prefix) billed on a claim with no procedure recorded, or a dear service on an ordinary visit."""

    name, label = "unsupported", "串换项目"
    params = ParamSpec({"codes": "list of text", "unless": "one of procedure stay", "min_price": "yuan",
                        "med_types": "list of text"}, ("codes", "unless"))

    def batch(self, rule, data, t):
        p = rule.params
        x = t.applies(rule, t.lines_claims)
        x = x.filter(starts_with_any(x.item_code, p["codes"]), x.kind == "service")
        if p["unless"] == "procedure":
            x = x.filter(x.procedures.isnull() | (x.procedures == ""))
        else:
            x = x.filter(~x.is_stay)
        if "min_price" in p:
            x = x.filter(x.price_fen >= p["min_price"])
        if p.get("med_types"):
            x = x.filter(x.med_type.isin(p["med_types"]))
        return findings(x, x.claim_id, x.amount_fen, one_line(x), x.item_code, x.price_fen)

    def check(self, rule, data, c):
        p = rule.params
        cl = c.claim
        if p["unless"] == "procedure" and cl.procedures:
            return
        if p["unless"] == "stay" and cl.is_stay:
            return
        if p.get("med_types") and cl.med_type not in p["med_types"]:
            return
        codes = tuple(p["codes"])
        for ln in c.lines:
            if ln.kind == "service" and ln.item_code.startswith(codes) and ln.price_fen >= p.get("min_price", 0):
                yield Finding(cl.claim_id, (ln.line_no,), ln.item_code, float(ln.price_fen), None, ln.amount_fen, None)

    def text(self, rule, data, f):
        why = "本次未记录手术操作" if rule.params["unless"] == "procedure" else "门诊就诊不支持该项目"
        return f"{rule.name}：{f.item_code}（单价 {f.observed / 100:.2f} 元）{why}"


__all__ = ["Age", "Diagnosis", "Items", "Level", "OutOfCatalog", "PriceCap", "Restriction", "Scheme", "Setting",
           "Sex", "Unsupported", "Versions", "catalog_items", "nhsa_drug_items"]
