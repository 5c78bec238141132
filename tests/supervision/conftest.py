"""Hand-built claims for rule tests: persons, institutions, claims and lines in the lake schemas, run
through both speeds (the Ibis query over the whole set, and the per-claim check of each claim with
the person's other claims as history), which must give the same hits."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pytest

from yibao.catalog.items import Catalog
from yibao.lake.schema import TABLES
from yibao.payment.backends import duckdb_backend
from yibao.supervision.engine import RuleBook
from yibao.supervision.lake import bind, claim_of, line_of
from yibao.supervision.model import Visit
from yibao.supervision.rules import load_rules

INSTITUTIONS = {"H3": "3", "H2": "2", "H1": "1", "P0": "0"}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass
class World:
    persons: list = field(default_factory=list)
    claims: list = field(default_factory=list)
    lines: list = field(default_factory=list)

    def person(self, sex="1", born="1980-06-15", died=None) -> str:
        psn = f"P{len(self.persons):03d}"
        self.persons.append({"psn_no": psn, "sex": sex, "birth_date": day(born),
                             "death_date": day(died) if died else None})
        return psn

    def claim(self, psn, adm, dscg=None, med="11", inst="H3", dx="I10.x00", proc=None, lines=(), insutype="310") -> str:
        """``lines``: (item_code, kind, qty, price_fen[, service date])."""
        cid = f"C{len(self.claims):03d}"
        adm_d, dscg_d = day(adm), day(dscg or adm)
        total = 0
        for n, (code, kind, qty, price, *when) in enumerate(lines, start=1):
            amount = int(qty * price)
            total += amount
            self.lines.append({"claim_id": cid, "line_no": n, "item_code": code, "kind": kind,
                               "service_date": day(when[0]) if when else adm_d, "qty": float(qty),
                               "price_fen": price, "amount_fen": amount})
        stay = dscg is not None and med in ("2101", "21", "28", "52")
        self.claims.append({"claim_id": cid, "psn_no": psn, "fixmedins_code": inst, "insutype": insutype,
                            "med_type": med, "adm_date": adm_d, "dscg_date": dscg_d,
                            "los": (dscg_d - adm_d).days if stay else None, "diagnoses": dx, "procedures": proc,
                            "medfee_sumamt_fen": total})
        return cid

    def tables(self):
        inst = [{"fixmedins_code": k, "name": k, "kind": "pharmacy" if k == "P0" else "hospital", "level": v}
                for k, v in INSTITUTIONS.items()]
        return (pa.Table.from_pylist(self.claims, schema=TABLES["claims"]),
                pa.Table.from_pylist(self.lines, schema=TABLES["claim_lines"]),
                pa.Table.from_pylist(self.persons, schema=pa.schema([f for f in TABLES["persons"] if f.name in self.persons[0]])),
                pa.Table.from_pylist(inst, schema=pa.schema([f for f in TABLES["institutions"] if f.name in inst[0]])))

    def visits(self) -> list[Visit]:
        """Every claim as the real-time service sees it (person and institution fields filled in)."""
        people = {p["psn_no"]: p for p in self.persons}
        out = []
        for c in self.claims:
            row = {**c, **{k: people[c["psn_no"]][k] for k in ("sex", "birth_date", "death_date")},
                   "level": INSTITUTIONS[c["fixmedins_code"]]}
            lines = tuple(line_of(ln) for ln in self.lines if ln["claim_id"] == c["claim_id"])
            out.append(Visit(claim_of(row), lines))
        return out


@functools.cache
def catalog() -> Catalog:
    return Catalog.shipped()


@functools.cache
def book(*rule_ids: str, folder=None) -> RuleBook:
    rules = [r for r in load_rules(folder) if r.id in rule_ids]
    assert {r.id for r in rules} == set(rule_ids), "a rule id the library does not have"
    return RuleBook(rules, catalog())


def hit_rows(hits) -> list[tuple]:
    return sorted((*h.key(), h.vola_cont, json.dumps(h.vola_evid, sort_keys=True), h.sev_deg, h.ref) for h in hits)


def both_speeds(world: World, *rule_ids: str, rulebook: RuleBook | None = None) -> list:
    """The hits of the rules on the world, asserted equal at both speeds; returns the batch hits."""
    b = rulebook or book(*rule_ids)
    assert all(c.kind.per_claim for c in b.compiled), "a kind judged against the year has no per-claim speed"
    batch = b.run(bind(duckdb_backend(), *world.tables()))
    visits = world.visits()
    live = []
    for v in visits:
        history = [o for o in visits if o.claim.psn_no == v.claim.psn_no and o is not v]
        live.extend(b.check_claim(v.claim, v.lines, history, scene=None))
    assert hit_rows(batch) == hit_rows(live)
    return batch


def found(hits) -> set[tuple[str, str]]:
    return {(h.claim_id, h.rule_id) for h in hits}


def amounts(hits) -> dict[tuple[str, str], int]:
    out: dict = {}
    for h in hits:
        out[(h.claim_id, h.rule_id)] = out.get((h.claim_id, h.rule_id), 0) + h.vola_amt
    return out


class _Kit:
    """What rule tests use, as one fixture (the tests import nothing from this folder)."""

    World = World
    both_speeds = staticmethod(both_speeds)
    found = staticmethod(found)
    amounts = staticmethod(amounts)
    book = staticmethod(book)
    hit_rows = staticmethod(hit_rows)


@pytest.fixture
def sv():
    return _Kit
