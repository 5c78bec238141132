"""Policy simulation (政策模拟): a reform — a pack override — replayed on a lake's year through the
settlement engine (and the payment engine when it touches ``payment.*``), beside the baseline.

No elasticities: every claim of the year is settled under the baseline pack and under the reformed
one, and the report is what the engines pay. Both settle in one pass over the lake: each part's
claims and lines are read and scoped once (政策范围: class, 先行自付, price caps, restrictions), and
only the claims' kinds are resolved again under the reform — unless the reform changes
``benefits.scope.*``, when the reform's scope is worked out afresh. The persons' 个人账户 balances are
read under the baseline; a reform of ``account.*`` reads them again.

What comes out (:class:`Simulation`): fund spending by tier and scheme; the person's burden (自付 +
自费, what the person pays: ``psn_part_amt``) by scheme, 救助 identity and burden decile; the number
of persons above the catastrophic line (``fund.burden``: the year's burden above a share of the
per-capita disposable income); the 政策范围内住院费用报销比例; and, for a reform of the payment rules,
each institution's DRG and DIP payment. The lake holds no incomes, so deciles are of the baseline
burden (persons ranked once, so a decile's change is the same persons' change).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yibao import coded, vocab
from yibao.errors import PolicyError
from yibao.money import apply_rate_np, show_yuan
from yibao.policy.pack import Pack, load_pack
from yibao.settlement.plan import ppm

I64 = np.int64
# (setlinfo field, tier) — together they are the whole bill: medfee_sumamt to the fen
TIERS = (
    ("hifp_pay", "统筹基金"), ("hifob_pay", "职工大额"), ("hifmi_pay", "居民大病"), ("cvlserv_pay", "公务员补助"),
    ("hifes_pay", "企业补充"), ("oth_pay", "其他补充"), ("maf_pay", "医疗救助"), ("acct_pay", "个人账户"),
    ("acct_mulaid_pay", "家庭共济"), ("psn_cash_pay", "现金"), ("hosp_part_amt", "医院负担"),
)
FIELDS = tuple(f for f, _ in TIERS) + ("medfee_sumamt", "inscp_scp_amt", "psn_part_amt")
RATIO_PAID = ("hifp_pay", "hifmi_pay", "hifob_pay")  # what 政策范围内报销比例 counts (as settle_lake's summary)
SCHEMES = (vocab.EMPLOYEE, vocab.RESIDENT)
NO_IDENTITY = "普通"  # a person holding no 救助 identity
IDENTITY_KEYS = tuple(vocab.IDENTITIES)
DECILES = 10


@dataclass(frozen=True)
class Simulation:
    """A reform beside the baseline. Frames are in fen; ``b_`` baseline, ``r_`` reform."""

    year: int
    baseline: str
    reform: str
    changed: list[str]  # the parameter paths the reform changes
    tiers: pd.DataFrame  # insutype, tier, field, b_fen, r_fen, change_fen
    ratio: pd.DataFrame  # insutype, b_ratio, r_ratio (政策范围内住院费用报销比例)
    burden: pd.DataFrame  # by, group, persons, b_fen, r_fen, change_fen, b_mean_fen, r_mean_fen
    catastrophic: pd.DataFrame  # insutype, b_line_fen, r_line_fen, persons, b_above, r_above
    payment: pd.DataFrame | None  # fixmedins_code, method, b_fen, r_fen, change_fen (None: not rerun)
    notes: list[str]


# -- the reform -----------------------------------------------------------------------------------


def reformed_pack(base: Pack, reform_file: str | Path) -> Pack:
    """The baseline with the reform file's overrides, checked like a pack (an unknown key names the file,
    the key and the nearest known one)."""
    path = Path(reform_file)
    if not path.is_file():
        raise PolicyError(f"{path}: no such reform file")
    return base.reform_file(path)


def changed_paths(base: Pack, reform: Pack) -> list[str]:
    """The parameter paths whose dated values differ between the two packs."""
    paths = sorted(set(base.params) | set(reform.params))
    return [p for p in paths if _values(base, p) != _values(reform, p)]


def _values(pack: Pack, path: str) -> list:
    p = pack.params.get(path)
    return [] if p is None else [(d, v) for d, v, _ in p.values]


def _touches(changed: list[str], prefix: str) -> bool:
    return any(p == prefix or p.startswith(prefix + ".") for p in changed)


# -- settling both packs --------------------------------------------------------------------------


@dataclass
class _Part:
    """One part's sums: per scheme (row) × field (column) for the whole year and inpatient care, and
    per person (lake index) the burden under each pack, the scheme and governing identity."""

    b: np.ndarray
    r: np.ndarray
    b_inpatient: np.ndarray
    r_inpatient: np.ndarray
    person: np.ndarray
    b_burden: np.ndarray
    r_burden: np.ndarray
    scheme: np.ndarray
    identity: np.ndarray
    gaps: dict  # what the lenient settlement took as it came (unknown items, unlisted 门诊慢特病), counted


def _by_scheme(masks: list[np.ndarray], out: dict[str, np.ndarray]) -> np.ndarray:
    """Sums of every field (columns) over each mask (rows)."""
    n = len(masks[0])
    return np.array([[int(np.broadcast_to(out[f], (n,))[m].sum()) for f in FIELDS] for m in masks], dtype=I64)


def settle_part(claims: dict, lines: dict, r_claims: dict, base: Pack, reform: Pack, catalog: Any,
                rescope: bool) -> _Part | None:
    """Settle one part under both packs; None for a part without claims. ``r_claims`` are the claims as
    the reform reads them (``claims`` itself unless the reform moves the 个人账户 balances)."""
    from yibao.settlement.batch import settle_arrays
    from yibao.settlement.inputs import build_inputs

    inputs = build_inputs(claims, lines, base, catalog, strict=False)
    if not len(inputs.order):
        return None
    other = (build_inputs(r_claims, lines, reform, catalog, strict=False) if rescope or r_claims is not claims
             else inputs.under(reform))
    outs = [settle_arrays(i.kinds, i.kind_id, i.person, i.year, i.scope, p.rounding)
            for i, p in ((inputs, base), (other, reform))]
    c = inputs.claims
    scheme = np.asarray(c["insutype"] == vocab.RESIDENT).astype(I64)
    inpatient = coded.isin(c["med_type"], vocab.INPATIENT_MED_TYPES)
    masks = [scheme == s for s in range(len(SCHEMES))]
    masks += [m & inpatient for m in masks]
    plan = inputs.plans[max(inputs.plans)]
    governing = coded.per_value(c["identities"], lambda s: _identity_code(plan.identity_of(_split(s))), I64)
    person = np.asarray(c["person"], dtype=I64)
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])  # claims are in (person, date) order
    last = np.r_[starts[1:], len(person)] - 1
    burdens = [np.add.reduceat(np.broadcast_to(o["psn_part_amt"], person.shape).astype(I64), starts) for o in outs]
    (b, b_in), (r, r_in) = [np.split(_by_scheme(masks, o), 2) for o in outs]
    gaps = {"unknown_items": inputs.unknown_items, "unlisted_chronic": inputs.unlisted_chronic, "warning": inputs.warning}
    return _Part(b, r, b_in, r_in, person[starts], burdens[0], burdens[1], scheme[last], governing[last], gaps)


def _identity_code(identity: str) -> int:
    return IDENTITY_KEYS.index(identity) + 1 if identity else 0


def _split(joined: str) -> tuple[str, ...]:
    return tuple(x for x in joined.split("|") if x)


@dataclass
class _Year:
    """The year's sums over every part."""

    b: np.ndarray
    r: np.ndarray
    b_inpatient: np.ndarray
    r_inpatient: np.ndarray
    persons: pd.DataFrame  # person, b_burden, r_burden, scheme, identity (persons with a claim)
    year: int
    said: list[str]  # what the lake's reading and the lenient settlement took as it came


def settle_both(folder: str | Path, base: Pack, reform: Pack, rescope: bool, reread_accounts: bool,
                workers: int = 2) -> _Year:
    """The lake's year settled under both packs, part by part (``workers`` parts at once, as
    :func:`yibao.settlement.batch.settle_lake` does)."""
    from yibao.lake.claims import main_year, lake_parts, read_people
    from yibao.catalog.items import Catalog

    catalog = Catalog.of_lake(folder)
    people = read_people(folder, base, True)
    if reread_accounts:  # the reform moves the 个人账户: the claims carry each pack's balances
        pairs = zip(lake_parts(folder, people), lake_parts(folder, read_people(folder, reform, True)))
        work = ((c, ln, rc) for (c, ln), (rc, _) in pairs)
    else:
        work = ((c, ln, c) for c, ln in lake_parts(folder, people))
    done: list[_Part] = []
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for c, ln, rc in work:
            pending.append(pool.submit(settle_part, c, ln, rc, base, reform, catalog, rescope))
            if len(pending) >= workers:
                done.append(pending.popleft().result())
        done += [f.result() for f in pending]
    year = _combine([p for p in done if p is not None], main_year(folder))
    no_spell = people.gaps.get("no_spell")
    year.said = [people.note] + year.said + ([f"{no_spell:,} claims fall in no enrolment spell: settled as 在职 / 成年居民"]
                                             if no_spell else [])
    return year


def _combine(done: list[_Part], year: int) -> _Year:
    from yibao.settlement.batch import data_gaps

    gaps = {"unknown_items": sum(p.gaps["unknown_items"] for p in done),
            "unlisted_chronic": sum(p.gaps["unlisted_chronic"] for p in done),
            "warning": next((p.gaps["warning"] for p in done if p.gaps["warning"]), "")}
    zero = np.zeros((len(SCHEMES), len(FIELDS)), dtype=I64)
    persons = pd.DataFrame({
        "person": np.concatenate([p.person for p in done] or [np.zeros(0, I64)]),
        "b_burden": np.concatenate([p.b_burden for p in done] or [np.zeros(0, I64)]),
        "r_burden": np.concatenate([p.r_burden for p in done] or [np.zeros(0, I64)]),
        "scheme": np.concatenate([p.scheme for p in done] or [np.zeros(0, I64)]),
        "identity": np.concatenate([p.identity for p in done] or [np.zeros(0, I64)]),
    })
    return _Year(sum((p.b for p in done), zero), sum((p.r for p in done), zero),
                 sum((p.b_inpatient for p in done), zero), sum((p.r_inpatient for p in done), zero),
                 persons, year, data_gaps(gaps))


# -- the report -----------------------------------------------------------------------------------


def tier_table(year: _Year) -> pd.DataFrame:
    rows = []
    for s, ins in enumerate(SCHEMES):
        for field, name in TIERS:
            j = FIELDS.index(field)
            rows.append({"insutype": ins, "tier": name, "field": field, "b_fen": int(year.b[s, j]),
                         "r_fen": int(year.r[s, j])})
    t = pd.DataFrame(rows)
    t["change_fen"] = t["r_fen"] - t["b_fen"]
    return t


def ratio_table(year: _Year) -> pd.DataFrame:
    """政策范围内住院费用报销比例 per scheme: (统筹 + 大病 + 大额) ÷ 政策范围内 of inpatient claims."""
    paid = [FIELDS.index(f) for f in RATIO_PAID]
    scope = FIELDS.index("inscp_scp_amt")

    def ratio(sums, s):
        return float(sums[s, paid].sum() / sums[s, scope]) if sums[s, scope] else None

    return pd.DataFrame([{"insutype": ins, "b_ratio": ratio(year.b_inpatient, s), "r_ratio": ratio(year.r_inpatient, s)}
                         for s, ins in enumerate(SCHEMES)])


def deciles(burden: np.ndarray) -> np.ndarray:
    """Decile 1 … 10 of each person by ``burden`` (ties by position: equal shares of persons)."""
    n = len(burden)
    rank = np.empty(n, dtype=I64)
    rank[np.argsort(burden, kind="stable")] = np.arange(n)
    return rank * DECILES // max(n, 1) + 1


def burden_table(persons: pd.DataFrame) -> pd.DataFrame:
    """The persons' burden by scheme, identity and baseline-burden decile."""
    p = persons.assign(decile=deciles(persons["b_burden"].to_numpy()))
    names = {"scheme": dict(enumerate(SCHEMES)),
             "identity": {0: NO_IDENTITY, **{k + 1: vocab.IDENTITIES[v][0] for k, v in enumerate(IDENTITY_KEYS)}},
             "decile": {d: f"D{d}" for d in range(1, DECILES + 1)}}
    rows = []
    for by in ("scheme", "identity", "decile"):
        g = p.groupby(by).agg(persons=("person", "size"), b_fen=("b_burden", "sum"), r_fen=("r_burden", "sum"))
        for key, r in g.iterrows():
            rows.append({"by": by, "group": names[by][int(key)], "persons": int(r.persons), "b_fen": int(r.b_fen),
                         "r_fen": int(r.r_fen)})
    t = pd.DataFrame(rows, columns=["by", "group", "persons", "b_fen", "r_fen"])
    t["change_fen"] = t["r_fen"] - t["b_fen"]
    t["b_mean_fen"] = (t["b_fen"] // t["persons"].clip(lower=1)).astype(I64)
    t["r_mean_fen"] = (t["r_fen"] // t["persons"].clip(lower=1)).astype(I64)
    return t


def catastrophic_line_fen(pack: Pack, year: int) -> int:
    """高额医疗费用支出线 of the year (fen): ``fund.burden.catastrophic_share`` × ``disposable_income``."""
    at = pack.at(dt.date(year, 12, 31))
    income, share = at.get("fund.burden.disposable_income"), at.get("fund.burden.catastrophic_share")
    if income is None or share is None:
        raise PolicyError(f"pack {pack.name!r}: fund.burden.disposable_income and catastrophic_share are needed on "
                          f"{year}-12-31 for the catastrophic-spending line")
    return int(apply_rate_np(np.array([income], dtype=I64), ppm(share, "catastrophic_share"), pack.rounding)[0])


def catastrophic_table(persons: pd.DataFrame, base: Pack, reform: Pack, year: int) -> pd.DataFrame:
    """Persons whose year of 自付 + 自费 is above the line (each pack's own line), per scheme."""
    b_line, r_line = catastrophic_line_fen(base, year), catastrophic_line_fen(reform, year)
    rows = []
    for s, ins in enumerate(SCHEMES):
        p = persons[persons["scheme"] == s]
        rows.append({"insutype": ins, "b_line_fen": b_line, "r_line_fen": r_line, "persons": len(p),
                     "b_above": int((p["b_burden"] > b_line).sum()), "r_above": int((p["r_burden"] > r_line).sum())})
    return pd.DataFrame(rows)


def payment_table(folder: str | Path, base: Pack, reform: Pack) -> pd.DataFrame:
    """Each institution's DRG payment and DIP value under both packs (the payment engine, run twice)."""
    from yibao.payment.year import pay_year

    b, r = pay_year(folder, base), pay_year(folder, reform)
    rows = []
    for method, col in (("DRG", "payment_fen"), ("DIP", "value_fen")):
        key = method.lower()
        both = b[key][["fixmedins_code", col]].merge(r[key][["fixmedins_code", col]], on="fixmedins_code",
                                                      how="outer", suffixes=("_b", "_r")).fillna(0)
        rows.append(pd.DataFrame({"fixmedins_code": both["fixmedins_code"], "method": method,
                                  "b_fen": both[f"{col}_b"].astype(I64), "r_fen": both[f"{col}_r"].astype(I64)}))
    t = pd.concat(rows, ignore_index=True)
    t["change_fen"] = t["r_fen"] - t["b_fen"]
    return t


def simulate_reform(folder: str | Path, base: Pack | str, reform_file: str | Path, workers: int = 2) -> Simulation:
    """The reform in ``reform_file`` on the lake's year beside ``base`` (see the module docstring)."""
    base = load_pack(base) if isinstance(base, (str, Path)) else base
    reform = reformed_pack(base, reform_file)
    changed = changed_paths(base, reform)
    notes: list[str] = []
    if not changed:
        notes.append(f"{reform_file}: the reform changes no parameter: both columns are the baseline")
    rescope = _touches(changed, "benefits.scope")
    year = settle_both(folder, base, reform, rescope, _touches(changed, "account"), workers)
    notes += [n for n in year.said if n]
    if rescope:
        notes.append("the reform changes benefits.scope: the lines' scope is worked out under each pack")
    if _touches(changed, "payment"):
        payment = payment_table(folder, base, reform)
    else:
        payment = None
        notes.append("the reform changes no payment.* parameter, the only ones the payment engine reads: every "
                     "institution's DRG and DIP payment is the baseline's (change 0)")
    notes.append("the lake holds no incomes: deciles rank the persons with a claim by their baseline burden")
    return Simulation(year.year, base.name, reform.name, changed, tier_table(year), ratio_table(year),
                      burden_table(year.persons), catastrophic_table(year.persons, base, reform, year.year),
                      payment, notes)



# -- printed and written --------------------------------------------------------------------------

SCHEME_LABEL = {vocab.EMPLOYEE: "职工 310", vocab.RESIDENT: "居民 390"}


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def _table(title: str, columns: list[str], labels: int = 2):
    """A report table whose first ``labels`` columns name the row and the rest are figures."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i < labels else "right")
    return t


def print_simulation(sim: Simulation, console) -> None:
    """The report: tiers, the inpatient ratio, burden, the catastrophic line and payments."""
    console.print(f"政策模拟 {sim.reform} beside {sim.baseline}, year {sim.year}; changed: "
                  f"{', '.join(sim.changed) or 'nothing'}", highlight=False)
    t = _table("基金支出 by tier (元)", ["scheme", "tier", "baseline", "reform", "change"])
    for r in sim.tiers.itertuples(index=False):
        if r.b_fen or r.r_fen:
            t.add_row(SCHEME_LABEL[r.insutype], r.tier, show_yuan(r.b_fen), show_yuan(r.r_fen), show_yuan(r.change_fen))
    console.print(t)
    t = _table("政策范围内住院费用报销比例", ["scheme", "baseline", "reform", "change (points)"], labels=1)
    for r in sim.ratio.itertuples(index=False):
        change = "—" if r.b_ratio is None or r.r_ratio is None else f"{100 * (r.r_ratio - r.b_ratio):+.2f}"
        t.add_row(SCHEME_LABEL[r.insutype], _pct(r.b_ratio), _pct(r.r_ratio), change)
    console.print(t)
    t = _table("个人负担 (自付 + 自费) of persons with a claim (元)",
               ["by", "group", "persons", "baseline", "reform", "change", "mean baseline", "mean reform"])
    for r in sim.burden.itertuples(index=False):
        group = SCHEME_LABEL.get(r.group, r.group) if r.by == "scheme" else r.group
        t.add_row(r.by, group, f"{r.persons:,}", show_yuan(r.b_fen), show_yuan(r.r_fen), show_yuan(r.change_fen),
                  show_yuan(r.b_mean_fen), show_yuan(r.r_mean_fen))
    console.print(t)
    t = _table("高额医疗费用支出: persons above the line", ["scheme", "line (元)", "persons", "baseline", "reform", "change"])
    for r in sim.catastrophic.itertuples(index=False):
        line = show_yuan(r.b_line_fen) if r.b_line_fen == r.r_line_fen else f"{show_yuan(r.b_line_fen)} → {show_yuan(r.r_line_fen)}"
        t.add_row(SCHEME_LABEL[r.insutype], line, f"{r.persons:,}", f"{r.b_above:,}", f"{r.r_above:,}",
                  f"{r.r_above - r.b_above:+,}")
    console.print(t)
    if sim.payment is not None:
        t = _table("DRG / DIP payment by institution (元)", ["institution", "method", "baseline", "reform", "change"])
        for r in sim.payment.itertuples(index=False):
            t.add_row(r.fixmedins_code, r.method, show_yuan(r.b_fen), show_yuan(r.r_fen), show_yuan(r.change_fen))
        console.print(t)
    for note in sim.notes:
        console.print(f"note: {note}", highlight=False)


def write_simulation(sim: Simulation, path: str | Path) -> None:
    """The report as an xlsx workbook, one sheet per table, money in yuan."""
    from openpyxl import Workbook

    wb = Workbook()
    sheets = [("tiers", sim.tiers), ("ratio", sim.ratio), ("burden", sim.burden), ("catastrophic", sim.catastrophic)]
    if sim.payment is not None:
        sheets.append(("payment", sim.payment))
    wb.remove(wb.active)
    for name, frame in sheets:
        ws = wb.create_sheet(name)
        ws.append([c[:-4] + " (元)" if c.endswith("_fen") else c for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([None if v is None else (int(v) / 100 if c.endswith("_fen") else _cell(v))
                       for c, v in zip(frame.columns, row)])
    ws = wb.create_sheet("notes")
    for line in [f"reform {sim.reform} beside {sim.baseline}, year {sim.year}",
                 f"changed: {', '.join(sim.changed) or 'nothing'}", *sim.notes]:
        ws.append([line])
    wb.save(path)


def _cell(v):
    return v.item() if isinstance(v, np.generic) else v

__all__ = ["Simulation", "TIERS", "simulate_reform", "print_simulation", "write_simulation", "reformed_pack", "changed_paths", "deciles",
           "catastrophic_line_fen"]
