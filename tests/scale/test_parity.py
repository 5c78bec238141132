"""Spark local mode against the local engines on one synthetic region: the settlement fen for fen on
every statement field of every claim, the fund accounts, and the supervision rules' hits."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from yibao.errors import ValidationError
from yibao.settlement.model import SETLINFO_FIELDS


def _by_claim(frame: pd.DataFrame, columns) -> pd.DataFrame:
    return frame.sort_values("claim_id").reset_index(drop=True)[list(columns)]


def test_buckets_hold_whole_households(region, buckets):
    persons = pq.read_table(region / "persons.parquet", columns=["psn_no", "household_id"]).to_pandas()
    placed = pd.concat([pq.read_table(folder / "persons").to_pandas().assign(bucket=k)[["psn_no", "bucket"]]
                        for k, folder in buckets.folders.items()])
    assert len(buckets.folders) == 3 and sorted(placed["psn_no"]) == sorted(persons["psn_no"])
    homes = persons.merge(placed, on="psn_no").dropna(subset=["household_id"]).groupby("household_id")["bucket"]
    assert (homes.size() > 1).any() and (homes.nunique() == 1).all()


def test_settlement_on_spark_equals_the_local_engine_to_the_fen(local_statements, statements):
    local = local_statements
    assert len(statements) == len(local) > 10_000
    a, b = _by_claim(local, local.columns), _by_claim(statements, local.columns)
    for col in SETLINFO_FIELDS:
        assert (a[col].to_numpy() == b[col].to_numpy()).all(), col
    for col in ("claim_id", "psn_no", "insutype", "psn_type", "med_type", "level"):
        assert (a[col].astype(str) == b[col].astype(str)).all(), col
    assert (pd.to_datetime(a["dscg_date"]) == pd.to_datetime(b["dscg_date"])).all()
    # the year exercises the household accounts and the tiers above pooling
    assert (b["acct_mulaid_pay"] > 0).any() and (b["hifmi_pay"] > 0).any() and (b["maf_pay"] > 0).any()


def test_fund_accounts_on_spark_equal_the_local_accounts(spark, region, buckets, statements, local_statements):
    from yibao.fund.accounts import lake_accounts
    from yibao.policy.pack import load_pack
    from yibao.scale.accounts import accounts_on_spark
    from yibao.settlement.allowance_cli import maternity_year

    local = lake_accounts(region, load_pack("demo"), local_statements)
    import pyarrow as pa

    rows = spark.session.createDataFrame(pa.Table.from_pandas(statements, preserve_index=False))
    on_spark = accounts_on_spark(spark.session, rows, buckets, "demo")
    assert on_spark.year == local.year == 2024
    pd.testing.assert_frame_equal(on_spark.funds, local.funds)
    pd.testing.assert_frame_equal(on_spark.monthly, local.monthly)
    assert on_spark.notes == local.notes
    allowance = [acc.lines[acc.lines["item"] == "生育津贴"].sort_values("month")[["month", "amount_fen"]]
                 .reset_index(drop=True) for acc in (on_spark, local)]
    pd.testing.assert_frame_equal(*allowance)
    assert int(allowance[0]["amount_fen"].sum()) == maternity_year(region, "demo")[1]["amount_fen"] > 0
    # 职工统筹, 个人账户, 居民统筹, 大病 (the demo's transfer) and 救助 have income; the claims booked every fen
    assert local.funds["income_fen"].notna().sum() == 5 and local.claims_paid_fen() > 0


def _with_unindicated_drugs(region, to):
    """The region with, on each of its first 20 visits, a drug line the catalog limits to diagnoses the
    visit does not have (限适应症): the diagnosis rule then has hits to compare."""
    import shutil

    import pyarrow as pa

    shutil.copytree(region, to)
    catalog = pq.read_table(to / "catalog.parquet").to_pandas()
    drug = catalog[(catalog["kind"] == "drug") & catalog["required_dx"].notna()].iloc[0]
    part = sorted((to / "claim_lines").glob("*.parquet"))[0]
    lines = pq.read_table(part)
    claims = pq.read_table(sorted((to / "claims").glob("*.parquet"))[0]).to_pandas()
    visits = claims[~claims["diagnoses"].fillna("").str.startswith(tuple(drug["required_dx"].split("|")))].head(20)
    extra = pd.DataFrame({"claim_id": visits["claim_id"], "line_no": 900, "item_code": drug["item_code"],
                          "kind": "drug", "service_date": visits["adm_date"], "qty": 1.0, "price_fen": 100,
                          "amount_fen": 100})
    pq.write_table(pa.concat_tables([lines, pa.Table.from_pandas(extra, schema=lines.schema, preserve_index=False)]),
                   part)
    return to


def _duckdb_hits(region):
    """The rules as ``yibao supervise run`` runs them: DuckDB, one query per rule."""
    from yibao.payment.backends import duckdb_backend
    from yibao.supervision.engine import RuleBook, hits_frame
    from yibao.supervision.lake import bind_lake, lake_catalog

    return hits_frame(RuleBook.shipped(catalog=lake_catalog(region)).run(bind_lake(duckdb_backend(), region)))


def _sorted(hits):
    return hits.sort_values(["rule_id", "claim_id", "vola_evid"]).reset_index(drop=True)


def test_supervision_rules_on_spark_hit_what_duckdb_hits(spark, region, tmp_path):
    from yibao.scale.rules import rules_on_spark

    region = _with_unindicated_drugs(region, tmp_path / "region")
    timings = {}
    a, b = _sorted(_duckdb_hits(region)), _sorted(rules_on_spark(spark, region, timings=timings))
    pd.testing.assert_frame_equal(a, b)
    # 限适应症 splits the '|'-joined diagnoses: Spark's SPLIT took '|' as a regular expression
    assert (a["rule_id"] == "SV-DX-01").sum() >= 20 and a["rule_id"].nunique() > 10
    # every rule in one union on Spark
    assert list(timings) == ["*"]


def test_rules_together_on_the_joined_lake_hit_what_one_query_per_rule_hits(region):
    """The union of the rules' queries over the cached lines-with-claims, on DuckDB: each hit still
    carries its own rule (the union's rule number maps back to the rule that found it)."""
    from yibao.payment.backends import duckdb_backend
    from yibao.supervision.engine import RuleBook, hits_frame
    from yibao.supervision.lake import JoinedTables, bind_lake, lake_catalog

    tables = bind_lake(duckdb_backend(), region, joined=True)
    assert isinstance(tables, JoinedTables) and set(tables.lines.columns) < set(tables.lines_claims.columns)
    together = hits_frame(RuleBook.shipped(catalog=lake_catalog(region)).run(tables, together=True))
    one_by_one = _duckdb_hits(region)
    pd.testing.assert_frame_equal(_sorted(one_by_one), _sorted(together))
    assert together["rule_id"].nunique() > 10


def test_a_claim_of_a_person_not_in_persons_is_refused(spark, region, tmp_path):
    import shutil

    import pyarrow as pa

    from yibao.scale.partition import partition_lake

    lake = tmp_path / "lake"
    shutil.copytree(region, lake, ignore=shutil.ignore_patterns("claim_lines", "fraud_labels"))
    part = next((lake / "claims").glob("*.parquet"))
    claims = pq.read_table(part)
    stray = claims.slice(0, 1).set_column(claims.schema.get_field_index("psn_no"), "psn_no", pa.array(["P-NOBODY"]))
    stray = stray.set_column(claims.schema.get_field_index("claim_id"), "claim_id", pa.array(["C-STRAY"]))
    pq.write_table(pa.concat_tables([claims, stray.cast(claims.schema)]), part)
    with pytest.raises(ValidationError) as e:
        partition_lake(spark.session, lake, tmp_path / "work", 2)
    assert e.value.field == "psn_no" and "P-NOBODY" in str(e.value) and "C-STRAY" in str(e.value)
