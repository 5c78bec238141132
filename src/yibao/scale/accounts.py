"""The fund accounts (:mod:`yibao.fund.accounts`) of a year settled on Spark.

The heavy sums run on Spark: the statements summed by scheme, med_type and month of discharge, and
each bucket's lines financed outside the claims — contributions, accruals, transfers and 生育津贴, per
person and independent — booked by the accounts' own function (:func:`yibao.fund.accounts.lake_registry`)
in a task and summed there. The few summed rows then go through
:func:`yibao.fund.accounts.fund_accounts` (a month's sum books exactly as its claims would), so the
accounts, and their reconciliation with the settled rows, are the local engine's to the fen.
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
    """mapInArrow body: each bucket's lines financed outside its claims, summed by fund, month and item."""
    os.environ["YIBAO_WORKERS"] = "1"
    from yibao.fund.accounts import lake_registry
    from yibao.policy.pack import load_pack

    loaded = load_pack(pack)
    for batch in batches:
        for folder in batch.column("folder").to_pylist():
            booked, _ = lake_registry(folder, loaded, year)
            rows = booked.fillna({"counterpart": ""}).groupby(LINE_KEYS, as_index=False)["amount_fen"].sum()
            yield from pa.Table.from_pandas(rows[REGISTRY_SCHEMA.names], schema=REGISTRY_SCHEMA,
                                            preserve_index=False).to_batches()


def accounts_on_spark(session, statements, buckets: Buckets, pack: str = "demo", opening: dict[str, int] | None = None):
    """The year's :class:`~yibao.fund.accounts.FundAccounts` from statements settled on Spark
    (:func:`yibao.scale.settle.settle_on_spark`, or read back) and the buckets' registry."""
    from yibao.fund.accounts import fund_accounts, lake_account_opening
    from yibao.fund.income import AccountRules
    from yibao.policy.pack import load_pack
    from yibao.scale.settle import bucket_frame, spark_schema

    from yibao.payment.backends import _quiet  # PySpark's warning that pandas 3 is new to it, and only that

    year = statement_year(statements, buckets.lake)
    sums = statement_sums(statements, year)
    with _quiet("pyspark"):
        registry = (bucket_frame(session, buckets)
                    .mapInArrow(lambda it: registry_sums(it, pack, year), spark_schema(REGISTRY_SCHEMA))
                    .groupBy(*LINE_KEYS).agg({"amount_fen": "sum"}).toArrow().to_pandas())
    registry = registry.rename(columns={"sum(amount_fen)": "amount_fen"}).astype({"amount_fen": "int64", "month": "int64"})
    registry["counterpart"] = registry["counterpart"].replace("", None)
    registry = registry.sort_values(LINE_KEYS, kind="stable").reset_index(drop=True)
    return fund_accounts(sums, registry, year, AccountRules.from_pack(load_pack(pack), year), opening,
                         account_opening=lake_account_opening(buckets.lake, year))


__all__ = ["accounts_on_spark", "registry_sums", "statement_sums", "statement_year"]
