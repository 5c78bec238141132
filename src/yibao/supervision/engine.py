"""Rules compiled once against a catalog, then run at either speed: :meth:`RuleBook.check_claim` for
one claim in the 3101/3102 review, :meth:`RuleBook.run` over a year of a lake (Ibis on DuckDB or Spark).
Both turn a kind's :class:`~yibao.supervision.model.Finding` rows into :class:`Hit` by one function,
so a hit reads the same whichever speed found it."""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from typing import Any, Iterable

from yibao.errors import PolicyError
from yibao.supervision.model import Claim, Finding, Hit, Line, Visit
from yibao.supervision.rules import SEVERITIES, Rule, load_rules

HIT_COLUMNS = ("claim_id", "rule_id", "rule_name", "kind", "sev_deg", "vola_cont", "vola_amt", "vola_evid", "ref",
               "related_claim_id")


@dataclass
class Compiled:
    rule: Rule
    kind: Any
    data: Any


def to_hit(c: Compiled, f: Finding) -> Hit:
    """The hit a Finding makes: text, evidence (lines and history claims), severity and citation."""
    evid = {"lines": [int(n) for n in f.line_nos], "history": [f.ref_claim_id] if f.ref_claim_id else [],
            "item_code": f.item_code, "observed": f.observed, "limit": f.limit}
    if f.detail:
        evid.update(json.loads(f.detail))
    return Hit(claim_id=f.claim_id, rule_id=c.rule.id, rule_name=c.rule.name, kind=c.rule.kind, sev_deg=c.rule.sev_deg,
               vola_cont=c.kind.text(c.rule, c.data, f), vola_amt=int(f.vola_amt), vola_evid=evid, ref=c.rule.ref,
               related_claim_id=f.ref_claim_id)


class RuleBook:
    """A rule library compiled against a catalog (item tables resolved once)."""

    def __init__(self, rules: Iterable[Rule], catalog):
        from yibao.supervision.kinds import KINDS

        self.catalog = catalog
        rules = list(rules)
        for r in rules:
            live = [s for s in r.scene if s != "事后"]
            if live and not KINDS[r.kind].per_claim:
                raise PolicyError(f"{r.file}: rule {r.id}: scene: kind {r.kind} judges a claim against the year's "
                                  f"peers, so it runs 事后 only, not {', '.join(live)}")
        self.compiled = [Compiled(r, KINDS[r.kind], KINDS[r.kind].resolve(r, catalog)) for r in rules]
        self._by_scene: dict = {}

    @classmethod
    def shipped(cls, folder=None, catalog=None) -> "RuleBook":
        from yibao.catalog.items import Catalog

        return cls(load_rules(folder), catalog if catalog is not None else Catalog.shipped())

    def __len__(self) -> int:
        return len(self.compiled)

    def for_scene(self, scene: str | None) -> list[Compiled]:
        if scene not in self._by_scene:
            self._by_scene[scene] = [c for c in self.compiled if c.kind.per_claim and (scene is None or scene in c.rule.scene)]
        return self._by_scene[scene]

    def check_claim(self, claim: Claim, lines: Iterable[Line], history: Iterable[Visit] = (),
                    scene: str | None = "事中") -> list[Hit]:
        """The hits of one claim given the person's earlier claims (``history``), for the rules of a
        scene (事前 3101 / 事中 3102; None: every rule that can judge one claim — not those judged
        against the year's peers). Pure: no clock, store or network."""
        from yibao.supervision.common import ClaimCheck

        ctx = ClaimCheck(claim, lines, history)
        hits = []
        for c in self.for_scene(scene):
            if c.rule.applies(claim.insutype, claim.adm_date):
                hits.extend(to_hit(c, f) for f in c.kind.check(c.rule, c.data, ctx))
        return hits

    def run(self, tables, timings: dict | None = None, together: bool = False) -> list[Hit]:
        """Every rule over the bound lake tables (:class:`~yibao.supervision.common.Tables`);
        ``timings`` (when given) receives seconds per rule id. ``together``: the rules' queries as one
        union, one action for the whole library (on Spark, one plan instead of a job sequence per rule);
        ``timings`` then receives the seconds of the union under ``"*"``."""
        if together:
            return self._run_together(tables, timings)
        hits = []
        for c in self.compiled:
            start = time.perf_counter()
            expr = c.kind.batch(c.rule, c.data, tables)
            hits.extend(to_hit(c, _finding(r)) for r in tables.backend.to_arrow(expr).to_pylist())
            if timings is not None:
                timings[c.rule.id] = time.perf_counter() - start
        return hits

    def _run_together(self, tables, timings: dict | None) -> list[Hit]:
        import ibis

        start = time.perf_counter()
        queries = [c.kind.batch(c.rule, c.data, tables).mutate(rule_no=ibis.literal(n, type="int32"))
                   for n, c in enumerate(self.compiled)]
        rows = tables.backend.to_arrow(ibis.union(*queries)).to_pylist()
        hits = [to_hit(self.compiled[r["rule_no"]], _finding(r)) for r in rows]
        if timings is not None:
            timings["*"] = time.perf_counter() - start
        return hits


def _finding(r: dict) -> Finding:
    """A kind query's row as a Finding."""
    return Finding(r["claim_id"], tuple(r["line_nos"] or ()), r["item_code"], r["observed"], r["limit"], r["vola_amt"],
                   r["ref_claim_id"], r["detail"])


def hits_frame(hits: Iterable[Hit]):
    """Hits as a table, one row each (``vola_evid`` as JSON text), amounts in fen."""
    import pandas as pd

    rows = [{**{k: getattr(h, k) for k in HIT_COLUMNS if k != "vola_evid"},
             "vola_evid": json.dumps(h.vola_evid, ensure_ascii=False, sort_keys=True)} for h in hits]
    df = pd.DataFrame(rows, columns=list(HIT_COLUMNS))
    return df.astype({"sev_deg": "int8", "vola_amt": "int64"})


@functools.cache
def _default_book() -> RuleBook:
    return RuleBook.shipped()


def check_claim(claim: Claim, lines: Iterable[Line], history: Iterable[Visit] = (), scene: str | None = "事中") -> list[Hit]:
    """:meth:`RuleBook.check_claim` with the shipped rules and catalog (compiled once per process)."""
    return _default_book().check_claim(claim, lines, history, scene)


__all__ = ["HIT_COLUMNS", "SEVERITIES", "Compiled", "RuleBook", "check_claim", "hits_frame", "to_hit"]
