"""年终清算 in the fund accounts: what the institutions are actually paid against what their claims said.

Through the year the pooling funds book each claim's 统筹 share (``hifp_pay``) as the statements say.
The payment engine (:func:`yibao.payment.pay_year`: DRG/DIP, per-diem, capitation, fee-for-service, then
结余留用 / 合理超支分担) pays each institution its ``settled_fen`` for the year instead. The difference,
per institution, is the funds' real spending beyond the statements and is booked as 清算 in December,
split between 职工统筹 and 居民统筹 by the institution's claims' 统筹 shares (by their bills where those
are nil), the odd fen to 居民统筹. Claims treated outside the region (异地就医) are cleared nationally:
the payment engine leaves them out, and so does this clearing.

Every institution the engine paid must have settled claims of the year in the region, and every such
claim's institution a payment result; anything else does not reconcile and is an error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError
from yibao.fund.income import SPENDING, lines
from yibao.money import Rounding, div_round

ITEM = "年终清算 (按机构实际支付)"


@dataclass(frozen=True)
class InstitutionPayments:
    """The payment engine's year: ``settled`` (fixmedins_code, settled_fen) and where each claim was
    treated, ``sites`` (claim_id, fixmedins_code, out_of_region)."""

    settled: pd.DataFrame
    sites: pd.DataFrame


def _claims_by_institution(statements: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """The region's settled claims summed per institution and scheme (统筹 share and bill)."""
    s = statements[["claim_id", "insutype", "hifp_pay", "medfee_sumamt"]].merge(
        sites[["claim_id", "fixmedins_code", "out_of_region"]], on="claim_id", how="left", indicator=True)
    lost = (s["_merge"] == "left_only").to_numpy()
    if lost.any():
        raise ValidationError("claim_id", "settled but not among the lake's claims, so no institution was paid for it",
                              f"claim {s.loc[lost, 'claim_id'].iloc[0]}")
    local = s[~s["out_of_region"].fillna(False).astype(bool).to_numpy()]
    by = local.pivot_table(index="fixmedins_code", columns="insutype", values=["hifp_pay", "medfee_sumamt"],
                           aggfunc="sum", fill_value=0)
    out = pd.DataFrame(index=by.index)
    for col in ("hifp_pay", "medfee_sumamt"):
        for scheme in (vocab.EMPLOYEE, vocab.RESIDENT):
            out[f"{col}_{scheme}"] = by[(col, scheme)].astype("int64") if (col, scheme) in by.columns else 0
    return out.reset_index()


def clearing_lines(statements: pd.DataFrame, payments: InstitutionPayments,
                   rounding: Rounding) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The December 清算 lines of the two pooling funds and the per-institution reconciliation
    (fixmedins_code, claims_fen, settled_fen, clearing_310_fen, clearing_390_fen)."""
    claims = _claims_by_institution(statements, payments.sites)
    settled = payments.settled[["fixmedins_code", "settled_fen"]]
    both = claims.merge(settled, on="fixmedins_code", how="outer", indicator=True)
    unpaid = both[both["_merge"] == "left_only"]
    if len(unpaid):
        raise ValidationError("fixmedins_code", "its settled claims have no payment result of the year: the "
                              "payment engine paid it nothing", f"institution {unpaid['fixmedins_code'].iloc[0]}")
    stray = both[both["_merge"] == "right_only"]
    if len(stray):
        raise ValidationError("fixmedins_code", f"paid {int(stray['settled_fen'].iloc[0])} fen by the payment engine "
                              "but no settled claim of the year was treated there", f"institution {stray['fixmedins_code'].iloc[0]}")
    both = both.drop(columns="_merge")
    emp, res, claim_fen = [], [], []
    for r in both.itertuples(index=False):
        pooled = int(r.hifp_pay_310) + int(r.hifp_pay_390)
        diff = int(r.settled_fen) - pooled
        weight, total = ((int(r.hifp_pay_310), pooled) if pooled else
                         (int(r.medfee_sumamt_310), int(r.medfee_sumamt_310) + int(r.medfee_sumamt_390)))
        share = div_round(diff * weight, total, rounding) if total else 0
        emp.append(share)
        res.append(diff - share)
        claim_fen.append(pooled)
    recon = pd.DataFrame({"fixmedins_code": both["fixmedins_code"], "claims_fen": claim_fen,
                          "settled_fen": both["settled_fen"].astype("int64"),
                          "clearing_310_fen": emp, "clearing_390_fen": res}).astype(
        {"claims_fen": "int64", "clearing_310_fen": "int64", "clearing_390_fen": "int64"})
    rows = [{"fund": vocab.FUND_EMPLOYEE_POOLING, "month": 12, "side": SPENDING, "item": ITEM,
             "amount_fen": int(np.sum(emp)), "counterpart": None},
            {"fund": vocab.FUND_RESIDENT_POOLING, "month": 12, "side": SPENDING, "item": ITEM,
             "amount_fen": int(np.sum(res)), "counterpart": None}]
    return lines(rows), recon


def payments_of_lake(folder, result: dict) -> InstitutionPayments:
    """A :func:`yibao.payment.pay_year` result and the lake's claims as the clearing's input."""
    from yibao.lake.io import read_table

    sites = read_table(folder, "claims", columns=["claim_id", "fixmedins_code", "out_of_region"]).to_pandas()
    return InstitutionPayments(result["clearing"][["fixmedins_code", "settled_fen"]], sites)


__all__ = ["ITEM", "InstitutionPayments", "clearing_lines", "payments_of_lake"]
