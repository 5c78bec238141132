"""A synthetic region's year replayed claim by claim through the ledger service gives the same fen
for every claim as the same year settled in batch, and the same closing accumulators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from yibao.ledger import service
from yibao.ledger import repository as repo
from yibao.policy.pack import load_pack
from yibao.settlement import settle_lake
from yibao.catalog.items import Catalog
from yibao.settlement.model import SETLINFO_FIELDS
from yibao.store import load_lake
from yibao.store.db import connect
from yibao.vocab import INPATIENT_MED_TYPES


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from yibao.synth.config import DEFAULT_FRAUD_RATES, SynthConfig
    from yibao.synth.generate import generate

    out = tmp_path_factory.mktemp("region")
    # no claim in a dead person's name: the ledger refuses to register one (the batch settles it)
    rates = {**DEFAULT_FRAUD_RATES, "after_death": 0.0}
    generate(SynthConfig(persons=150, seed=11, fraud_rates=rates), out)
    return out


def _lake(region):
    from yibao.lake.claims import lake_parts, read_people

    pack = load_pack("demo")
    people = read_people(region, pack)
    claims, lines = [], []
    for c, ln in lake_parts(region, people):
        cols = {k: np.asarray(v, dtype=object) for k, v in c.items()}
        claims.append(pd.DataFrame(cols))
        lines.append(pd.DataFrame({"claim_id": cols["claim_id"][ln["claim"]],
                                   "item_code": np.asarray(ln["item_code"], dtype=object),
                                   "qty_milli": ln["qty_milli"], "amount_fen": ln["amount"]}))
    return pd.concat(claims, ignore_index=True), pd.concat(lines, ignore_index=True)


def _replay(conn, region_ctx, claims: pd.DataFrame, lines: pd.DataFrame, lake_claims: pd.DataFrame) -> dict:
    by_claim = {k: g for k, g in lines.groupby("claim_id", sort=False)}
    extra = lake_claims.set_index("claim_id")
    out = {}
    order = claims.sort_values(["psn_no", "dscg_date", "claim_id"])
    for c in order.itertuples(index=False):
        inst = repo.institution(conn, extra.at[c.claim_id, "fixmedins_code"])
        kind = "inpatient" if c.med_type in INPATIENT_MED_TYPES else "outpatient"
        begin = dt.datetime.combine(pd.Timestamp(c.adm_date).date(), dt.time(8))
        enc = service.register(conn, inst, psn_no=c.psn_no, insutype=c.insutype, kind=kind, begntime=begin,
                               ipt_otp_no=c.claim_id[:30], msgid=f"m{c.claim_id}"[:40], med_type=c.med_type,
                               filing=c.filing or None)
        dx = tuple(d for d in (c.diagnoses or "").split("|") if d)
        service.describe(conn, enc, diagnoses=dx, chronic_disease=c.chronic_disease or None)
        enc = repo.encounter(conn, enc["mdtrt_id"])
        rows = []
        for i, ln in enumerate(by_claim[c.claim_id].itertuples(index=False)):
            cnt = Decimal(int(ln.qty_milli)) / 1000
            rows.append({"feedetl_sn": f"{i + 1:04d}", "med_list_codg": ln.item_code, "fee_ocur_time": begin,
                         "pric": Decimal(int(ln.amount_fen)) / 100 / cnt if cnt else Decimal(0), "cnt": cnt,
                         "amount_fen": int(ln.amount_fen)})
        service.upload(conn, region_ctx, inst, enc, rows, f"u{c.claim_id}")
        if kind == "inpatient":
            end = dt.datetime.combine(pd.Timestamp(c.dscg_date).date(), dt.time(10))
            service.discharge(conn, enc, end)
            enc = repo.encounter(conn, enc["mdtrt_id"])
        _, st = service.settle(conn, region_ctx, inst, enc, medfee_sumamt=None, msgid=f"s{c.claim_id}"[:40],
                               now=dt.datetime(2026, 1, 1))
        out[c.claim_id] = st.setlinfo
    return out


def test_replay_through_the_ledger_equals_batch(region, tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    load_lake(region, url)
    claims, lines = _lake(region)
    from yibao.lake.io import read_table

    lake_claims = read_table(region, "claims", columns=["claim_id", "fixmedins_code"]).to_pandas()
    batch, summary = settle_lake(region, "demo", closing=True)
    ctx = service.Region(load_pack("demo"), Catalog.of_lake(region))
    year = int(pd.Timestamp(claims["dscg_date"].min()).year)
    with connect(url) as conn:
        firsts = claims.drop_duplicates("psn_no")
        service.open_year(conn, year, [{"psn_no": r.psn_no, "account": int(r.acct_bal), "family": int(r.fam_bal)}
                                       for r in firsts.itertuples()])
        replayed = _replay(conn, ctx, claims, lines, lake_claims)
        closing = {(r["psn_no"], r["key"]): int(r["amount_fen"]) for r in summary["accumulators"].to_dict("records")}
        kept = {}
        for psn in firsts["psn_no"]:
            pos = repo.position(conn, psn, year)
            kept.update({(psn, k): v for k, v in pos.accumulators.items()})
    assert len(replayed) == len(batch) > 300
    diffs = []
    for row in batch.to_dict("records"):
        got = replayed[row["claim_id"]]
        for f in SETLINFO_FIELDS:
            if int(row[f]) != got[f]:
                diffs.append((row["claim_id"], f, int(row[f]), got[f]))
    assert diffs == []
    assert {k: v for k, v in kept.items() if v} == {k: v for k, v in closing.items() if v}
