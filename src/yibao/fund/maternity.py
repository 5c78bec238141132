"""生育津贴 in the fund accounts: since 国办发〔2019〕10号 (生育保险和职工基本医疗保险合并实施) maternity is paid
from 职工统筹, so each 职工 birth of the year (a 生育住院 claim, med_type 52) books the allowance the
settlement engine computes (:func:`yibao.settlement.allowances.maternity_allowances`) in its month of
discharge, as its own line.

The lake holds no employer wage: the mother's 缴费基数 in force at discharge stands for the employer's
average monthly wage, and the birth counts as 顺产 (normal) since a claim does not say the kind; both are
said in the accounts' notes. A pack without a 生育津贴 rule books none, and says so.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError
from yibao.fund.income import SPENDING, lines
from yibao.registry._frames import OPEN_END, day_numbers

ITEM = "生育津贴"


def births(claims: pd.DataFrame, year: int) -> pd.DataFrame:
    """The 职工 生育住院 claims discharged in ``year``."""
    day = pd.to_datetime(claims["dscg_date"])
    hit = ((claims["med_type"] == vocab.MED_MATERNITY_INPATIENT) & (claims["insutype"] == vocab.EMPLOYEE)
           & (day.dt.year == year)).to_numpy()
    return claims[hit][["claim_id", "psn_no", "dscg_date"]].reset_index(drop=True)


def _wages(stays: pd.DataFrame, enrollments: pd.DataFrame) -> np.ndarray:
    """The contribution base of each stay's 职工 spell in force on the day of discharge."""
    spells = enrollments[(enrollments["insutype"] == vocab.EMPLOYEE).to_numpy()]
    spells = spells.assign(_start=day_numbers(spells["start_date"]),
                           _end=day_numbers(spells["end_date"], open_value=OPEN_END))
    hit = stays.assign(_day=day_numbers(stays["dscg_date"])).merge(
        spells[["psn_no", "_start", "_end", "contribution_base_fen"]], on="psn_no", how="left")
    hit = hit[(hit["_start"] <= hit["_day"]) & (hit["_day"] <= hit["_end"])
              & hit["contribution_base_fen"].notna()].drop_duplicates("claim_id")
    wage = stays[["claim_id"]].merge(hit[["claim_id", "contribution_base_fen"]], on="claim_id", how="left")
    lost = wage["contribution_base_fen"].isna().to_numpy()
    if lost.any():
        raise ValidationError("contribution_base_fen", "生育津贴: no 职工 spell with a contribution base in force "
                              "on the day of discharge", f"claim {wage.loc[lost, 'claim_id'].iloc[0]}")
    return wage["contribution_base_fen"].to_numpy(dtype=np.int64)


def allowance_lines(claims: pd.DataFrame, enrollments: pd.DataFrame, pack, year: int) -> tuple[pd.DataFrame, str]:
    """The year's 生育津贴 as 职工统筹 spending lines by month of discharge, and the note that says how."""
    from yibao.settlement.allowances import maternity_allowances

    stays = births(claims, year)
    if pack.at(dt.date(year, 12, 31)).get("benefits.maternity.allowance_numerator") is None:
        return lines([]), (f"生育津贴: pack {pack.name} has no allowance rule (benefits.maternity.allowance_numerator); "
                           f"{len(stays)} 职工 births of {year} book no allowance")
    if stays.empty:
        return lines([]), f"生育津贴: no 职工 生育住院 claim (med_type 52) discharged in {year}"
    on = pd.to_datetime(stays["dscg_date"]).to_numpy(dtype="datetime64[D]")
    _, amount = maternity_allowances(pack, on, _wages(stays, enrollments), np.full(len(stays), "normal", object),
                                     np.zeros(len(stays), dtype=np.int64))
    month = pd.to_datetime(stays["dscg_date"]).dt.month.to_numpy()
    sums = np.zeros(13, dtype=np.int64)
    np.add.at(sums, month, amount)
    rows = [{"fund": vocab.FUND_EMPLOYEE_POOLING, "month": m, "side": SPENDING, "item": ITEM,
             "amount_fen": int(sums[m]), "counterpart": None} for m in range(1, 13)]
    return lines(rows), (f"生育津贴: {len(stays)} 职工 births of {year}, each at the mother's 缴费基数 as the "
                         "employer's average monthly wage and as a 顺产 (a claim does not say the kind): assumptions")


__all__ = ["ITEM", "allowance_lines", "births"]
