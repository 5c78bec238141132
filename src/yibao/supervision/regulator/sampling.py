"""费用审核 re-check sampling (复审抽查): every claim goes through the rules first (初审, the hits file);
of the inpatient claims that passed, a seeded random sample per institution is drawn for re-check.

The quota (《沈阳市“十四五”医疗保障事业发展规划》专栏7): an institution whose year's spending is 1亿元 or
more has at least 500万元 of inpatient spending re-checked; one below, at least 5% of its passed
inpatient spending. The lake carries no fund-paid amount per claim, so the year's spending is the
institutions' total claimed (医疗费总额) over all its claims, a bound above its 统筹支出.

Pure (pandas): claims are drawn in a random order seeded by the seed and the institution's code, so one
institution's sample does not move when another's claims change, until the quota is met.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import ValidationError
from yibao.money import apply_rate, rate_to_ppm
from yibao.supervision.regulator.params import Params

CLAIM_COLUMNS = ["claim_id", "fixmedins_code", "med_type", "medfee_sumamt_fen"]


def quotas(claims: pd.DataFrame, hit_claims: set[str], params: Params) -> pd.DataFrame:
    """Per institution: year spending, passed inpatient spending, the rule and the quota in fen."""
    large = params["sampling.large_institution_spending"]
    share = rate_to_ppm(params["sampling.small_institution_share"], "sampling.small_institution_share")
    passed = _passed_inpatient(claims, hit_claims)
    out = pd.DataFrame({
        "spending_fen": claims.groupby("fixmedins_code")["medfee_sumamt_fen"].sum(),
        "passed_inpatient_fen": passed.groupby("fixmedins_code")["medfee_sumamt_fen"].sum(),
        "passed_inpatient_claims": passed.groupby("fixmedins_code").size(),
    }).fillna(0).astype("int64")
    is_large = out["spending_fen"] >= large
    out["rule"] = np.where(is_large, "≥500万", "≥5%")
    out["quota_fen"] = [params["sampling.large_institution_amount"] if big else apply_rate(int(p), share)
                        for big, p in zip(is_large, out["passed_inpatient_fen"])]
    short = out[out["passed_inpatient_fen"] < out["quota_fen"]]
    if len(short):
        code, row = next(short.iterrows())
        raise ValidationError("quota", f"{row['rule']}: {row['quota_fen']} fen to re-check but only "
                              f"{row['passed_inpatient_fen']} fen of passed inpatient claims", f"institution {code}")
    return out.rename_axis("fixmedins_code").reset_index()


def sample(claims: pd.DataFrame, hit_claims: set[str], seed: int, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The claims drawn (claim_id, fixmedins_code, amount_fen) and the per-institution quotas met."""
    missing = [c for c in CLAIM_COLUMNS if c not in claims.columns]
    if missing:
        raise ValidationError("columns", f"claims lack {', '.join(missing)}", "claims")
    table = quotas(claims, hit_claims, params)
    passed = _passed_inpatient(claims, hit_claims)
    picks = [_draw_one(group, int(table.loc[table.fixmedins_code == code, "quota_fen"].iloc[0]), seed, code)
             for code, group in passed.groupby("fixmedins_code", sort=True)]
    drawn = pd.concat(picks, ignore_index=True) if picks else pd.DataFrame(columns=["claim_id", "fixmedins_code",
                                                                                     "amount_fen"])
    got = drawn.groupby("fixmedins_code")["amount_fen"].agg(["sum", "size"])
    table["sampled_fen"] = table.fixmedins_code.map(got["sum"]).fillna(0).astype("int64")
    table["sampled_claims"] = table.fixmedins_code.map(got["size"]).fillna(0).astype("int64")
    return drawn, table


def _passed_inpatient(claims: pd.DataFrame, hit_claims: set[str]) -> pd.DataFrame:
    stay = claims["med_type"].isin(sorted(vocab.INPATIENT_MED_TYPES))
    return claims[stay & ~claims["claim_id"].isin(hit_claims)]


def _draw_one(group: pd.DataFrame, quota: int, seed: int, code: str) -> pd.DataFrame:
    """Claims in a random order (sorted by id first, so the lake's row order does not matter) up to the
    first one whose running total meets the quota."""
    group = group.sort_values("claim_id", kind="stable")
    rng = np.random.default_rng([seed, zlib.crc32(code.encode())])
    shuffled = group.iloc[rng.permutation(len(group))]
    running = shuffled["medfee_sumamt_fen"].cumsum().to_numpy()
    take = int(np.searchsorted(running, quota, side="left")) + 1 if quota > 0 else 0
    chosen = shuffled.iloc[:take]
    return pd.DataFrame({"claim_id": chosen["claim_id"].to_numpy(), "fixmedins_code": code,
                         "amount_fen": chosen["medfee_sumamt_fen"].astype("int64").to_numpy()})


__all__ = ["CLAIM_COLUMNS", "quotas", "sample"]
