"""The fund accounts (:mod:`yibao.fund.accounts`) of a year settled on Spark.

The heavy sums run on Spark: the statements summed by scheme, med_type and month of discharge, and
each bucket's lines financed outside the claims — contributions, accruals and transfers, per person and
independent — booked by the accounts' own function (:func:`yibao.fund.accounts.lake_income`) in a task
and summed there; so are its births, tallied as ``yibao maternity year`` counts and pays them
(:func:`yibao.fund.accounts.lake_maternity`), whose sum books the 生育津贴 lines and note
(:func:`yibao.fund.maternity.allowance_lines`). The few summed rows then go through
:func:`yibao.fund.accounts.fund_accounts` (a month's sum books exactly as its claims would), so the
accounts, their reconciliation with the settled rows and their notes are the local engine's to the fen.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pyarrow as pa

from yibao import vocab
from yibao.errors import ValidationError
from yibao.scale.partition import Buckets

REGISTRY_SCHEMA = pa.schema([("fund", pa.string()), ("month", pa.int64()), ("side", pa.string()), ("item", pa.string()),
                             ("amount_fen", pa.int64()), ("counterpart", pa.string())])
LINE_KEYS = ["fund", "month", "side", "item", "counterpart"]  # a line's key: its amounts sum across buckets
TALLY_SCHEMA = pa.schema([("month", pa.int64()), ("birth", pa.string()), ("outcome", pa.string()),
                          ("births", pa.int64()), ("days", pa.int64()), ("amount_fen", pa.int64())])
TALLY_KEYS = ["month", "birth", "outcome"]  # a tally row's key: its counts and amounts sum across buckets


def statement_sums(statements, year: int) -> pd.DataFrame:
    """Statements summed by (insutype, med_type, month of discharge) on Spark, as rows the fund accounts take:
    each month's sum dated the 1st. Refuses, naming the first claim, an unknown scheme or a claim
    discharged outside ``year``."""
    from pyspark.sql import functions as F

    from yibao.fund.accounts import PAID_FIELDS, STATEMENT_COLUMNS

    bad = statements.filter(~F.col("insutype").isin(vocab.EMPLOYEE, vocab.RESIDENT)).limit(1).collect()
    if bad:
        raise ValidationError("insutype", f"{bad[0]['insutype']!r} is neither 310 nor 390", f"claim {bad[0]['claim_id']}")
    outside = statements.filter(F.year("dscg_date") != year).limit(1).collect()
    if outside:
        raise ValidationError("dscg_date", f"{outside[0]['dscg_date']} is outside the year {year}",
                              f"claim {outside[0]['claim_id']}")
    fields = sorted(set(STATEMENT_COLUMNS[3:]) | set(PAID_FIELDS))
    sums = (statements.groupBy("insutype", "med_type", F.month("dscg_date").alias("month"))
            .agg(*[F.sum(f).cast("long").alias(f) for f in fields], F.count(F.lit(1)).alias("claims"))
            .toArrow().to_pandas())
    sums["dscg_date"] = [dt.date(year, int(m), 1) for m in sums["month"]]
    sums["claim_id"] = [f"{n} claims of {i} med_type {t} in month {m}"
                        for n, i, t, m in zip(sums["claims"], sums["insutype"], sums["med_type"], sums["month"])]
    return sums


def statement_year(statements, lake) -> int:
    """The one year the statements' discharges fall in (as :func:`yibao.fund.accounts.lake_year`)."""
    from pyspark.sql import functions as F

    years = sorted(r[0] for r in statements.select(F.year("dscg_date")).distinct().collect() if r[0] is not None)
    if len(years) != 1:
        raise ValidationError("dscg_date", f"claims discharged in {years or 'no year'}; the accounts take one year",
                              f"lake {lake}")
    return int(years[0])


def registry_sums(batches, pack: str, year: int):
    """mapInArrow body: each bucket's registry lines (financed outside its claims), summed by fund, month and item."""
    os.environ["YIBAO_WORKERS"] = "1"
    from yibao.fund.accounts import lake_income
    from yibao.policy.pack import load_pack

    loaded = load_pack(pack)
    for batch in batches:
        for folder in batch.column("folder").to_pylist():
            booked = lake_income(folder, loaded, year)
            rows = booked.fillna({"counterpart": ""}).groupby(LINE_KEYS, as_index=False)["amount_fen"].sum()
            yield from pa.Table.from_pandas(rows[REGISTRY_SCHEMA.names], schema=REGISTRY_SCHEMA,
                                            preserve_index=False).to_batches()


def maternity_tallies(batches, pack: str, year: int):
    """mapInArrow body: each bucket's births of the year, tallied (:func:`yibao.fund.accounts.lake_maternity`)."""
    os.environ["YIBAO_WORKERS"] = "1"
    from yibao.fund.accounts import lake_maternity
    from yibao.policy.pack import load_pack

    loaded = load_pack(pack)
    for batch in batches:
        for folder in batch.column("folder").to_pylist():
            yield from pa.Table.from_pandas(lake_maternity(folder, loaded, year), schema=TALLY_SCHEMA,
                                            preserve_index=False).to_batches()


def _summed(frame, body, schema: pa.Schema, keys: list[str]) -> pd.DataFrame:
    """``body`` over every bucket, its rows summed across buckets by ``keys``, in the order of the keys."""
    from pyspark.sql import functions as F

    from yibao.scale.settle import spark_schema

    values = [n for n in schema.names if n not in keys]
    out = (frame.mapInArrow(body, spark_schema(schema)).groupBy(*keys)
           .agg(*[F.sum(v).cast("long").alias(v) for v in values]).toArrow().to_pandas())
    return out.astype({n: "int64" for n in schema.names if schema.field(n).type == pa.int64()}).sort_values(
        keys, kind="stable").reset_index(drop=True)[schema.names]


def accounts_on_spark(session, statements, buckets: Buckets, pack: str = "demo", opening: dict[str, int] | None = None):
    """The year's :class:`~yibao.fund.accounts.FundAccounts` from statements settled on Spark
    (:func:`yibao.scale.settle.settle_on_spark`, or read back) and the buckets' registry."""
    from yibao.fund.accounts import fund_accounts, lake_account_opening
    from yibao.fund.income import AccountRules
    from yibao.fund.maternity import allowance_lines
    from yibao.policy.pack import load_pack
    from yibao.scale.settle import bucket_frame

    from yibao.payment.backends import _quiet  # PySpark's warning that pandas 3 is new to it, and only that

    year, loaded = statement_year(statements, buckets.lake), load_pack(pack)
    sums = statement_sums(statements, year)
    with _quiet("pyspark"):
        frame = bucket_frame(session, buckets)
        registry = _summed(frame, lambda it: registry_sums(it, pack, year), REGISTRY_SCHEMA, LINE_KEYS)
        tally = _summed(frame, lambda it: maternity_tallies(it, pack, year), TALLY_SCHEMA, TALLY_KEYS)
    registry["counterpart"] = registry["counterpart"].replace("", None)
    allowances, note = allowance_lines(tally, loaded, year)
    registry = pd.concat([registry, allowances], ignore_index=True)
    return fund_accounts(sums, registry, year, AccountRules.from_pack(loaded, year), opening, notes=(note,),
                         account_opening=lake_account_opening(buckets.lake, year))


__all__ = ["accounts_on_spark", "maternity_tallies", "registry_sums", "statement_sums", "statement_year"]
