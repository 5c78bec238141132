"""IBNR reserve (未决赔款准备金): claims incurred in a year but not settled by its end — 异地就医 cleared
months later, inpatient stays whose DRG/DIP money is cleared after the year — estimated from a lag
triangle by the chain ladder, with Mack's (1993) standard error. Pure numpy.

A triangle has one row per month (or year) of service and one column per period of delay; a cell is
the money settled at that delay, NaN where not yet known. Each row is known for a prefix of delays
(a staircase). ``lake_triangle`` builds one from a settled year: the synthetic lake carries no settlement
dates, so each claim's delay is drawn (seeded) from the pack's lag distribution of its kind
(``fund.ibnr.lags``: an assumption, stated as such), and the truth the triangle hides is kept beside it.

Mack, T. (1993). Distribution-free calculation of the standard error of chain ladder reserve
estimates. ASTIN Bulletin 23(2), 213–225.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao import vocab
from yibao.errors import PolicyError, ValidationError

KINDS = ("local_outpatient", "local_inpatient", "remote_outpatient", "remote_inpatient")


@dataclass(frozen=True)
class Reserve:
    """The chain ladder's result: per origin row the latest known cumulative amount, the ultimate,
    the reserve (ultimate − latest) and Mack's standard error; the totals; the development factors and
    the σ² of each."""

    latest: np.ndarray
    ultimate: np.ndarray
    reserve: np.ndarray
    se: np.ndarray
    total_reserve: float
    total_se: float
    factors: np.ndarray
    sigma2: np.ndarray


def _known_prefix(triangle: np.ndarray) -> np.ndarray:
    """The number of known delays per row; an error unless each row is known for a prefix."""
    known = ~np.isnan(triangle)
    counts = known.sum(axis=1)
    for i, n in enumerate(counts):
        if n == 0 or not known[i, :n].all():
            raise ValidationError("triangle", f"row {i} is not known for a prefix of delays (a staircase)",
                                  f"origin {i}")
    return counts


def _tail_sigma2(sigma2: np.ndarray, k: int) -> float:
    """σ² of a delay seen in one row only: Mack (1993) min(σ⁴ₖ₋₁/σ²ₖ₋₂, σ²ₖ₋₂, σ²ₖ₋₁)."""
    if k < 2:
        raise ValidationError("triangle", "too few rows to estimate the last delay's variance", "triangle")
    return float(min(sigma2[k - 1] ** 2 / sigma2[k - 2], sigma2[k - 2], sigma2[k - 1]))


def chain_ladder(cumulative: np.ndarray) -> Reserve:
    """Chain ladder on a cumulative triangle (rows: origin, columns: delay, NaN: unknown) with Mack's
    standard error of each row's reserve and of the total."""
    c = np.asarray(cumulative, dtype=float)
    n_known = _known_prefix(c)
    n_dev = c.shape[1]
    factors, sigma2, column_sums = np.ones(n_dev - 1), np.zeros(n_dev - 1), np.zeros(n_dev - 1)
    for k in range(n_dev - 1):
        rows = n_known > k + 1
        if not rows.any():
            raise ValidationError("triangle", f"no row is known at delay {k + 1}: a factor cannot be fitted",
                                  "triangle")
        column_sums[k] = c[rows, k].sum()
        factors[k] = c[rows, k + 1].sum() / column_sums[k]
        if rows.sum() > 1:
            ratios = c[rows, k + 1] / c[rows, k]
            sigma2[k] = (c[rows, k] * (ratios - factors[k]) ** 2).sum() / (rows.sum() - 1)
        else:
            sigma2[k] = _tail_sigma2(sigma2, k)
    full = c.copy()
    for i, n in enumerate(n_known):
        for k in range(n, n_dev):
            full[i, k] = full[i, k - 1] * factors[k - 1]
    latest = c[np.arange(len(c)), n_known - 1]
    ultimate = full[:, -1]
    # per delay k, σ²ₖ/fₖ² times 1/Ĉᵢₖ (process) and 1/Σⱼ Cⱼₖ (parameter), over a row's unknown delays
    weight = sigma2 / factors ** 2
    mse = np.zeros(len(c))
    parameter = np.zeros(len(c))
    for i, n in enumerate(n_known):
        ks = np.arange(n - 1, n_dev - 1)
        mse[i] = ultimate[i] ** 2 * (weight[ks] * (1 / full[i, ks] + 1 / column_sums[ks])).sum()
        parameter[i] = (weight[ks] / column_sums[ks]).sum()
    # the rows' parameter errors are correlated: 2 Ĉᵢ Ĉⱼ Σ over the delays unknown in both (those of the
    # row known further)
    cross = 0.0
    for i in range(len(c)):
        for j in range(i + 1, len(c)):
            shared = parameter[i] if n_known[i] >= n_known[j] else parameter[j]
            cross += 2 * ultimate[i] * ultimate[j] * shared
    return Reserve(latest, ultimate, ultimate - latest, np.sqrt(mse), float((ultimate - latest).sum()),
                   float(np.sqrt(mse.sum() + cross)), factors, sigma2)


def cumulate(incremental: np.ndarray) -> np.ndarray:
    """Cumulative triangle from an incremental one (NaN stays NaN)."""
    return np.cumsum(np.asarray(incremental, dtype=float), axis=1)


def claim_kind(statements: pd.DataFrame) -> np.ndarray:
    """Each settled claim's kind for the lag distribution: local / remote (异地) × outpatient / inpatient."""
    inpatient = statements["med_type"].isin(vocab.INPATIENT_MED_TYPES).to_numpy()
    remote = statements["out_of_region"].fillna(False).astype(bool).to_numpy()
    return np.array(KINDS)[remote * 2 + inpatient]


def lag_table(rows: list[dict]) -> dict[str, np.ndarray]:
    """``fund.ibnr.lags`` rows → per kind the share settled at each month of delay (summing to 1)."""
    lags: dict[str, dict[int, float]] = {}
    for r in rows:
        if r["kind"] not in KINDS:
            raise PolicyError(f"fund.ibnr.lags: unknown kind {r['kind']!r}; kinds: {', '.join(KINDS)}")
        lags.setdefault(r["kind"], {})[int(r["delay_months"])] = float(r["share"])
    out = {}
    for kind in KINDS:
        if kind not in lags:
            raise PolicyError(f"fund.ibnr.lags: no rows for kind {kind!r}")
        shares = np.zeros(max(lags[kind]) + 1)
        for d, s in lags[kind].items():
            shares[d] = s
        if abs(shares.sum() - 1) > 1e-9:
            raise PolicyError(f"fund.ibnr.lags: the shares of {kind!r} add up to {shares.sum():g}, not 1")
        out[kind] = shares
    return out


@dataclass(frozen=True)
class LakeTriangle:
    """A year's lag triangle in fen: ``known`` as seen at year end (NaN beyond it); ``truth`` the whole
    incremental triangle the drawn delays give, so the reserve can be checked against what is hidden."""

    year: int
    known: np.ndarray
    truth: np.ndarray

    def outstanding_fen(self) -> int:
        return int(np.nansum(self.truth) - np.nansum(self.known))


def lake_triangle(statements: pd.DataFrame, lags: dict[str, np.ndarray], year: int, seed: int,
                  amount: str = "fund_pay_sumamt") -> LakeTriangle:
    """Month of service (discharge) × months of delay of the funds' payments; each claim's delay is drawn
    from its kind's lag distribution with ``seed``. Known at year end: service month + delay ≤ 12."""
    if amount not in statements.columns:
        raise ValidationError(amount, "missing from the settled rows", "settlement statements")
    if statements.empty:
        raise ValidationError("claims", f"no settled claims in {year}: no triangle", f"year {year}")
    month = pd.to_datetime(statements["dscg_date"]).dt.month.to_numpy() - 1
    kinds = claim_kind(statements)
    width = max(len(s) for s in lags.values())
    delay = np.zeros(len(statements), dtype=int)
    rng = np.random.default_rng(seed)
    for kind in KINDS:
        hit = np.flatnonzero(kinds == kind)
        delay[hit] = rng.choice(len(lags[kind]), size=len(hit), p=lags[kind])
    truth = np.zeros((12, width))
    np.add.at(truth, (month, delay), statements[amount].to_numpy(dtype=float))
    seen = np.arange(12)[:, None] + np.arange(width)[None, :] <= 11
    return LakeTriangle(year, np.where(seen, truth, np.nan), truth)


@dataclass(frozen=True)
class LakeReserve:
    triangle: LakeTriangle
    reserve: Reserve


def lake_ibnr(folder, pack, statements: pd.DataFrame, seed: int, insutype: str | None = None) -> LakeReserve:
    """The IBNR reserve of a lake's settled year: its claims' kinds from the lake, the lags from the pack.
    Of all the funds' money (``fund_pay_sumamt``), or with ``insutype`` of that scheme's pooling fund."""
    import datetime as dt

    from yibao.fund.accounts import lake_year
    from yibao.fund.forecast import POOL_PAID
    from yibao.lake.io import read_table

    year = lake_year(statements, folder)
    params = pack.at(dt.date(year, 12, 31))
    claims = read_table(folder, "claims", columns=["claim_id", "out_of_region"]).to_pandas()
    rows = statements.merge(claims, on="claim_id", how="left", validate="one_to_one")
    if rows["out_of_region"].isna().any():
        bad = rows.loc[rows["out_of_region"].isna(), "claim_id"].iloc[0]
        raise ValidationError("claim_id", "a settled claim the lake's claims table does not hold", f"claim {bad}")
    amount = "fund_pay_sumamt"
    if insutype is not None:
        rows = rows[rows["insutype"] == insutype]
        amount = "pool_fen"
        rows = rows.assign(pool_fen=sum(rows[f].to_numpy(dtype=np.int64) for f in POOL_PAID[insutype]))
    triangle = lake_triangle(rows, lag_table(params["fund.ibnr.lags"]), year, seed, amount)
    return LakeReserve(triangle, chain_ladder(cumulate(triangle.known)))


__all__ = ["KINDS", "LakeReserve", "lake_ibnr", "LakeTriangle", "Reserve", "chain_ladder", "claim_kind", "cumulate", "lag_table",
           "lake_triangle"]
