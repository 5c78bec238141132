"""The demo service's region: a small synthetic region loaded into the store, each person's year
opened with the batch's account rule, one hospital given a credential, a few persons to try."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from yibao import vocab
from yibao.api import credentials
from yibao.ids import pooling_region
from yibao.ledger.db import ledger_engine
from yibao.ledger.service import open_year
from yibao.store.models import Enrollment, Institution, Person

DEMO_YEAR = 2024


@dataclass
class DemoRegion:
    url: str
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    access_key: str
    secret: str
    persons: list[dict]  # psn_no, certno, name, insutype, psn_type


def prepare(folder: Path, master_key: bytes, persons: int = 2_000, seed: int = 7, pack: str = "demo",
            url: str | None = None) -> DemoRegion:
    """Synthesize ``persons`` into ``folder/lake``, load them into ``url`` (default a SQLite file in
    ``folder``, made afresh) and open the demo year."""
    from yibao.lake.claims import read_people
    from yibao.policy.pack import load_pack
    from yibao.store.load import load_lake
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    lake = folder / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    if url is None:
        (folder / "yibao.db").unlink(missing_ok=True)
        url = f"sqlite:///{folder / 'yibao.db'}"
    generate(SynthConfig(persons=persons, seed=seed, year=DEMO_YEAR), lake)
    load_lake(lake, url)
    people = read_people(lake, load_pack(pack))
    engine = ledger_engine(url)
    try:
        with engine.begin() as conn:
            open_year(conn, DEMO_YEAR, [{"psn_no": p, "account": int(a), "family": int(f)}
                                        for p, a, f in zip(people.psn_no.to_pylist(), people.acct, people.fam)])
            sample = _sample(conn)
            inst = _hospital(conn, pooling_region(sample[0]["admdvs"]))
            key, secret = credentials.issue(conn, inst["fixmedins_code"], master_key, dt.datetime.now())
            return DemoRegion(url, inst["fixmedins_code"], inst["name"], inst["admdvs"], key, secret, sample)
    finally:
        engine.dispose()


def _hospital(conn: sa.Connection, region: str) -> dict:
    """The region's first 三级 hospital (the lake also holds hospitals of other regions, for 异地 care)."""
    t = Institution.__table__
    q = sa.select(t).where(t.c.kind == "hospital", t.c.admdvs.like(region[:4] + "%"))
    return dict(conn.execute(q.order_by(t.c.level.desc(), t.c.fixmedins_code).limit(1)).mappings().one())


def _sample(conn: sa.Connection) -> list[dict]:
    """An employee and a resident enrolled all through the demo year."""
    p, e = Person.__table__, Enrollment.__table__
    day = dt.date(DEMO_YEAR, 6, 1)
    out = []
    for insutype in (vocab.EMPLOYEE, vocab.RESIDENT):
        row = conn.execute(sa.select(p.c.psn_no, p.c.certno, p.c.name, e.c.insutype, e.c.psn_type, e.c.admdvs)
                           .join(e, e.c.psn_no == p.c.psn_no)
                           .where(e.c.insutype == insutype, e.c.start_date <= dt.date(DEMO_YEAR, 1, 1),
                                  sa.or_(e.c.end_date.is_(None), e.c.end_date >= day), p.c.death_date.is_(None))
                           .order_by(p.c.psn_no).limit(2)).mappings().all()
        out += [dict(r) for r in row]
    return out


__all__ = ["DEMO_YEAR", "DemoRegion", "prepare"]
