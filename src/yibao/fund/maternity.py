"""生育津贴 in the fund accounts: since 国办发〔2019〕10号 (生育保险和职工基本医疗保险合并实施) maternity is paid
from 职工统筹, so each birth of the year books, in its month of discharge and as its own line, the
amount ``yibao maternity year`` pays it — the same computation
(:func:`yibao.settlement.allowance_cli.year_births`): a 职工 woman's 生育住院 claim (med_type 52) whose
principal diagnosis is no abortive outcome, its kind (顺产 / 剖宫产 / 难产, extra babies) from the claim's
procedures and diagnoses, at her employer's average wage or, without an employer, her contribution base.

The births are carried as a tally (:func:`yibao.settlement.allowance_cli.year_tally`) so that parts of
a region add up row by row (on Spark, :mod:`yibao.scale.accounts`) and the note says what the year
counted and left out as ``yibao maternity year`` does. A pack without a 生育津贴 rule books none, and
says so.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yibao import vocab
from yibao.fund.income import SPENDING, lines
from yibao.settlement.allowance_cli import TALLY_COLUMNS, tally_summary, year_births, year_notes, year_tally
from yibao.settlement.allowances import BIRTH_NAMES

ITEM = "生育津贴"
NO_RULE = "no_rule"  # a tally's outcome: the pack has no allowance rule, so the stay books nothing


def _has_rule(pack, year: int) -> bool:
    return pack.at(dt.date(year, 12, 31)).get("benefits.maternity.allowance_numerator") is not None


def allowance_tally(claims: pa.Table, persons: pa.Table, enrollments: pa.Table, employers: pa.Table, pack,
                    year: int) -> pd.DataFrame:
    """The births of the claims discharged in ``year`` as ``yibao maternity year`` counts and pays them
    (``TALLY_COLUMNS``). Under a pack without a 生育津贴 rule each 职工 生育住院 claim is tallied as
    ``NO_RULE`` in its month, paying nothing."""
    claims = claims.filter(pc.equal(pc.year(claims["dscg_date"]), year))
    if _has_rule(pack, year):
        return year_tally(*year_births(claims, persons, enrollments, employers, pack))
    stays = claims.filter(pc.and_(pc.equal(claims["med_type"], vocab.MED_MATERNITY_INPATIENT),
                                  pc.equal(claims["insutype"], vocab.EMPLOYEE)))
    month = pd.Series(pc.month(stays["dscg_date"]).to_numpy(zero_copy_only=False), dtype="int64")
    counts = month.value_counts().sort_index()
    return pd.DataFrame({"month": counts.index.astype("int64"), "birth": "", "outcome": NO_RULE,
                         "births": counts.to_numpy(dtype=np.int64), "days": 0, "amount_fen": 0})[TALLY_COLUMNS]


def allowance_lines(tally: pd.DataFrame, pack, year: int) -> tuple[pd.DataFrame, str]:
    """The year's 生育津贴 as 职工统筹 spending lines by month of discharge, and the note that says what
    the year counted and what it left out."""
    if not _has_rule(pack, year):
        unruled = int(tally.loc[tally["outcome"] == NO_RULE, "births"].sum())
        return lines([]), (f"生育津贴: pack {pack.name} has no allowance rule (benefits.maternity.allowance_numerator); "
                           f"{unruled} 职工 生育住院 claims of {year} book no allowance")
    if tally.empty:
        return lines([]), f"生育津贴: no 职工 生育住院 claim (med_type 52) discharged in {year}"
    sums = np.zeros(13, dtype=np.int64)
    np.add.at(sums, tally["month"].to_numpy(dtype=np.int64), tally["amount_fen"].to_numpy(dtype=np.int64))
    rows = [{"fund": vocab.FUND_EMPLOYEE_POOLING, "month": m, "side": SPENDING, "item": ITEM,
             "amount_fen": int(sums[m]), "counterpart": None} for m in range(1, 13)]
    return lines(rows), _note(tally_summary(tally, pack.name), year)


def _note(summary: dict, year: int) -> str:
    kinds = ", ".join(f"{BIRTH_NAMES.get(r.birth, r.birth)} {r.births:,}" for r in summary["by_kind"].itertuples())
    said = [f"生育津贴: {summary['paid']:,} of {summary['births']:,} 职工 births of {year} paid "
            f"{summary['amount_fen'] / 100:,.2f} 元 as yibao maternity year pays them ({kinds or 'none'}; the kind "
            "from the claim's procedures and diagnoses, at the employer's average wage)"]
    return "; ".join(said + year_notes(summary))


__all__ = ["ITEM", "NO_RULE", "allowance_lines", "allowance_tally"]
