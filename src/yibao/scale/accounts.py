"""The fund accounts (:mod:`yibao.fund.accounts`) of a year settled on Spark.

The heavy sums run on Spark: the statements summed by scheme and month of discharge, and each
bucket's registry — contributions due and 个人账户 accruals, per person and independent — computed
by the registry's own functions in a task and summed there. The few summed rows then go through
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

MONEY = ("employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen")
REGISTRY_SCHEMA = pa.schema([("kind", pa.string()), ("year", pa.int32()), ("insutype", pa.string()),
                             ("month", pa.int32())] + [(k, pa.int64()) for k in MONEY + ("amount_fen",)])


def statement_sums(statements, year: int) -> pd.DataFrame:
    """Statements summed by (insutype, month of discharge) on Spark, as rows the fund accounts take:
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
    sums = (statements.groupBy("insutype", F.month("dscg_date").alias("month"))
            .agg(*[F.sum(f).cast("long").alias(f) for f in fields], F.count(F.lit(1)).alias("claims"))
            .toArrow().to_pandas())
    sums["dscg_date"] = [dt.date(year, int(m), 1) for m in sums["month"]]
    sums["claim_id"] = [f"{n} claims of {i} in month {m}" for n, i, m in zip(sums["claims"], sums["insutype"], sums["month"])]
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
    """mapInArrow body: each bucket's contributions due (by year and scheme) and accruals (by month)."""
    os.environ["YIBAO_WORKERS"] = "1"
    from yibao.fund.accounts import lake_contributions
    from yibao.lake.io import read_table
    from yibao.policy.pack import load_pack
    from yibao.registry.accounts import account_accruals_for_year

    loaded = load_pack(pack)
    for batch in batches:
        for folder in batch.column("folder").to_pylist():
            due = lake_contributions(folder, loaded, year)
            due = due.assign(year=due["year"].astype(int)).groupby(["year", "insutype"], as_index=False)[list(MONEY)].sum()
            accrued = account_accruals_for_year(read_table(folder, "enrollments").to_pandas(),
                                                read_table(folder, "persons").to_pandas(), loaded, year)
            accrued = accrued.groupby("month", as_index=False)["amount_fen"].sum()
            rows = pd.concat([due.assign(kind="contribution", month=0, amount_fen=0),
                              accrued.assign(kind="accrual", year=year, insutype="", **{k: 0 for k in MONEY})])
            yield from pa.Table.from_pandas(rows[REGISTRY_SCHEMA.names], schema=REGISTRY_SCHEMA,
                                            preserve_index=False).to_batches()


def accounts_on_spark(session, statements, buckets: Buckets, pack: str = "demo"):
    """The year's :class:`~yibao.fund.accounts.FundAccounts` from statements settled on Spark
    (:func:`yibao.scale.settle.settle_on_spark`, or read back) and the buckets' registry."""
    from yibao.fund.accounts import fund_accounts
    from yibao.scale.settle import bucket_frame, spark_schema

    from yibao.payment.backends import _quiet  # PySpark's warning that pandas 3 is new to it, and only that

    year = statement_year(statements, buckets.lake)
    sums = statement_sums(statements, year)
    with _quiet("pyspark"):
        registry = (bucket_frame(session, buckets)
                    .mapInArrow(lambda it: registry_sums(it, pack, year), spark_schema(REGISTRY_SCHEMA))
                    .groupBy("kind", "year", "insutype", "month").sum(*MONEY, "amount_fen").toArrow().to_pandas())
    registry.columns = [c.removeprefix("sum(").removesuffix(")") for c in registry.columns]
    contributions = registry[registry["kind"] == "contribution"][["year", "insutype", *MONEY]].astype({k: "int64" for k in MONEY})
    accruals = registry[registry["kind"] == "accrual"][["month", "amount_fen"]].astype("int64")
    return fund_accounts(sums, contributions.reset_index(drop=True), accruals.reset_index(drop=True), year)


__all__ = ["accounts_on_spark", "registry_sums", "statement_sums", "statement_year"]
