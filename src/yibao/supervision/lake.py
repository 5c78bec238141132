"""A lake's claims and lines bound to an Ibis backend as the rule kinds expect them
(:class:`~yibao.supervision.common.Tables`), and lake rows as real-time claims and lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from yibao.errors import ValidationError
from yibao.lake.io import table_path
from yibao.supervision.common import Tables
from yibao.supervision.model import STAY_MED_TYPES, Claim, Line

CLAIM_COLUMNS = ("claim_id", "psn_no", "fixmedins_code", "insutype", "med_type", "adm_date", "dscg_date", "los",
                 "diagnoses", "procedures", "medfee_sumamt_fen", "dscg_way", "newborn_weight_g", "dept")


def bind(backend, claims, lines, persons, institutions) -> Tables:
    """Tables from the four lake tables (Ibis tables, or Arrow / pandas the backend registers)."""
    claims, lines, persons, institutions = (t if isinstance(t, ibis.expr.types.Table) else backend.table(t)
                                            for t in (claims, lines, persons, institutions))
    p = persons.select("psn_no", "sex", "birth_date", "death_date")
    i = institutions.select("fixmedins_code", "level")
    c = claims.select(*CLAIM_COLUMNS)
    c = c.left_join(p, c.psn_no == p.psn_no).select(c, p.sex, p.birth_date, p.death_date)
    c = c.left_join(i, c.fixmedins_code == i.fixmedins_code).select(c, i.level)
    adm, born = c.adm_date, c.birth_date
    before_birthday = (adm.month() * 100 + adm.day()) < (born.month() * 100 + born.day())
    is_stay = c.med_type.isin(sorted(STAY_MED_TYPES))
    a, d = adm.epoch_days(), c.dscg_date.epoch_days()
    # the first diagnosis by re_split: Spark's SPLIT reads '|' as a regular expression (see items.py)
    c = c.mutate(
        adm=a, dscg=d, death=c.death_date.epoch_days(), total=c.medfee_sumamt_fen, is_stay=is_stay,
        stay_days=ibis.ifelse(is_stay, ibis.greatest(1, c.los.cast("int64").fill_null(d - a)), 1),
        age=(adm.year() - born.year() - before_birthday.cast("int64")).cast("int64"),
        level=c.level.try_cast("int64"),
        principal=ibis.ifelse(c.diagnoses == "", ibis.null("string"), c.diagnoses.re_split(r"\|")[0]),
    )
    ln = lines.select("claim_id", "line_no", "item_code", "kind", "service_date", "qty", "price_fen", "amount_fen")
    ln = ln.mutate(base=ln.item_code.substr(0, 9), day=ln.service_date.epoch_days())
    return Tables(c, ln, backend)


def bind_lake(backend, folder: str | Path, joined: bool = False) -> Tables:
    """A lake folder's claims, claim_lines, persons and institutions, read by the backend and joined
    once: the bound claims and lines are cached (a DuckDB temporary table, a persisted Spark frame), so
    the library's fifty queries do not each read and join the Parquet files again. With ``joined`` the
    lines are cached already joined to their claims (``lines_claims``) and computed here: on Spark every
    line rule then scans one cached table instead of joining the lines to the claims again."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError("--lake", f"not a lake folder: {folder}")
    parts = []
    for name in ("claims", "claim_lines", "persons", "institutions"):
        path = table_path(folder, name)
        parts.append(backend.read_parquet(str(path / "*.parquet") if path.is_dir() else str(path)))
    tables = bind(backend, *parts)
    claims = backend.cache(tables.claims)
    if not joined:
        return Tables(claims, backend.cache(tables.lines), backend)
    wide = backend.cache(Tables(claims, tables.lines, backend).lines_claims)
    for table in (claims, wide):
        backend.to_arrow(table.aggregate(n=table.count()))  # computed now, not by the first rules at once
    return JoinedTables(claims, wide.select(*tables.lines.columns), backend, wide)


@dataclass
class JoinedTables(Tables):
    """:class:`Tables` whose ``lines_claims`` is a cached table (``lines`` its line columns)."""

    joined: ir.Table = None

    @property
    def lines_claims(self) -> ir.Table:
        return self.joined


def _codes(text) -> tuple[str, ...]:
    return tuple(d for d in (text or "").split("|") if d)


def claim_of(row: dict) -> Claim:
    """A real-time :class:`Claim` from a lake claim row joined with its person and institution."""
    return Claim(
        claim_id=row["claim_id"], psn_no=row["psn_no"], fixmedins_code=row["fixmedins_code"],
        insutype=row["insutype"], med_type=row["med_type"], adm_date=_date(row["adm_date"]),
        dscg_date=_date(row["dscg_date"]), medfee_sumamt_fen=int(row["medfee_sumamt_fen"]),
        diagnoses=_codes(row.get("diagnoses")), procedures=_codes(row.get("procedures")),
        los=None if row.get("los") is None else int(row["los"]), sex=row.get("sex"),
        birth_date=_date(row.get("birth_date")), death_date=_date(row.get("death_date")), level=row.get("level"))


def line_of(row: dict) -> Line:
    return Line(line_no=int(row["line_no"]), item_code=row["item_code"], kind=row["kind"],
                service_date=_date(row["service_date"]), qty=float(row["qty"]), price_fen=int(row["price_fen"]),
                amount_fen=int(row["amount_fen"]))


def _date(v):
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    import pandas as pd

    return None if pd.isna(v) else pd.Timestamp(v).date()





def lake_catalog(folder: str | Path):
    """The lake's own 医保目录 (``catalog.parquet``), else the shipped one."""
    from yibao.catalog.items import Catalog

    if not Path(folder).is_dir():
        raise ValidationError("--lake", f"not a lake folder: {folder}")
    return Catalog.of_lake(folder)

__all__ = ["JoinedTables", "bind", "bind_lake", "claim_of", "lake_catalog", "line_of"]
