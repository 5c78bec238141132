"""The payment year (年度支付): group, pay by DRG and DIP, per-diem, capitation and fee-for-service,
budget, advances and annual clearing — per institution, for one year of a lake.

``pay_year(lake_folder, pack, backend)`` reads the lake (:mod:`yibao.lake.cases`) and returns a dict
of DataFrames. DRG weights and the DIP catalog are fitted on the years before the one paid: the
``history`` lake folders (oldest first), by default the lake's ``history/<year>`` folders (``yibao
synth --history-years``). The DIP catalog takes the last ``len(payment.dip.history_weights)`` of
them (three, 1:2:7; fewer years take the pack's most recent weights), DRG weights the last
``payment.drg.history_years`` pooled; the DIP 预算点值 is set on the last history year's points.
Without history both are fitted on the paid year itself.

The lake has no contracts or fund-payment split, so: fund spending is ``cost × reimbursement
ratio``; the regional budget is last year's (here: this year's) fund spending grown by the pack's
rate; a person's family-doctor contract is with the primary institution they visited (the first by
code); outpatient care elsewhere is fee-for-service. Cross-region stays (异地就医) are left to the
national clearing and counted in the summary.

特病单议: ``reviews`` gives the agency's outcomes; without them a ``panel`` (a function from the
cases set aside to outcomes, such as the demo's) decides, and without either the cases set aside
stay pending, unpaid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from yibao.errors import ValidationError
from yibao.lake.cases import (
    cross_region_stays,
    history_folders,
    inpatient_cases,
    lake_claims,
    lake_table,
    region_claims,
)
from yibao.payment.backends import Backend, get_backend, round_div
from yibao.payment.budget import BudgetRules, allocate, monthly_advances, regional_budget, split_pools
from yibao.payment.capitation import CapitationRules, capitation_institutions, capitation_persons
from yibao.payment.clearing import ClearingRules, clear
from yibao.money import div_round
from yibao.payment.common import PPM, cached, fetch, scaled
from yibao.payment.dip import (
    DipRules,
    build_catalog,
    dip_institutions,
    dip_points,
    dip_review,
    dip_settle,
    point_value,
    total_points,
)
from yibao.payment.drg.payment import DrgRules, base_rate, drg_institutions, drg_pay, drg_review, drg_weights
from yibao.payment.per_diem import PerDiemRules, fee_for_service, per_diem_pay
from yibao.payment.review import ReviewRules
from yibao.policy import Params, load_pack
from yibao.policy.pack import Pack
from yibao.vocab import INPATIENT_MED_TYPES

__all__ = ["pay_year", "YearRules", "print_results", "Panel"]

Panel = Callable[[ir.Table], ir.Table]  # cases set aside (case_id, review_reason) → outcomes (case_id, decision)


@dataclass(frozen=True)
class YearRules:
    """Every method's rules, read from the pack at the paid year."""

    drg: DrgRules
    dip: DipRules
    per_diem: PerDiemRules
    capitation: CapitationRules
    budget: BudgetRules
    clearing: ClearingRules
    drg_review: ReviewRules
    dip_review: ReviewRules
    drg_history_years: int
    drg_ratio: object  # payment.drg.reimbursement_ratio
    method: str  # the inpatient method the clearing pays by: dip or drg

    @classmethod
    def from_params(cls, params: Params) -> "YearRules":
        return cls(
            DrgRules.from_params(params), DipRules.from_params(params), PerDiemRules.from_params(params),
            CapitationRules.from_params(params), BudgetRules.from_params(params), ClearingRules.from_params(params),
            ReviewRules.from_params(params, "drg"), ReviewRules.from_params(params, "dip"),
            int(params["payment.drg.history_years"]), params["payment.drg.reimbursement_ratio"],
            params.get("payment.budget.method", "dip"),
        )


def pay_year(
    lake_folder: str | Path,
    pack: "str | Pack" = "demo",
    backend: str | Backend = "duckdb",
    year: int | None = None,
    history: list[str | Path] | None = None,
    reviews: ir.Table | pa.Table | None = None,
    panel: Panel | None = None,
) -> dict[str, pd.DataFrame]:
    """Pay one year of the lake's claims; returns DataFrames by institution: ``drg``, ``dip``,
    ``per_diem``, ``capitation``, ``fee_for_service``, ``budget``, ``clearing`` and a one-row
    ``summary`` (year, pools, base rate, point values, cross-region stays).

    ``reviews``: 特病单议 outcomes (``case_id, decision`` and optionally ``approved_fen``, see
    :mod:`yibao.payment.review`); each method takes those of the cases it set aside, and an outcome
    for a case neither set aside is refused. Without them ``panel`` decides, if given."""
    be = backend if isinstance(backend, Backend) else get_backend(backend)
    if isinstance(reviews, pa.Table):
        reviews = be.table(reviews)
    cases, year = inpatient_cases(be, lake_folder, year)
    pack = load_pack(pack) if isinstance(pack, (str, Path)) else pack  # a Pack: a reform's copy
    rules = YearRules.from_params(pack.at(dt.date(year, 7, 1)))
    institutions = lake_table(be, lake_folder, "institutions")
    claims = lake_claims(be, lake_folder)
    per_diem = per_diem_pay(cases, rules.per_diem)
    acute = cases.anti_join(per_diem.select("case_id"), "case_id")  # per-diem stays leave the case-mix pool
    ffs_claims, primary_claims = _outpatient(region_claims(claims), institutions, year)
    spent = {name: _sum(t, col) for name, t, col in (
        ("drg_dip", acute, "cost_fen"), ("per_diem", per_diem, "cost_fen"),
        ("capitation", primary_claims, "medfee_sumamt_fen"), ("other", ffs_claims, "cost_fen"))}
    pools = _pools(spent, rules)

    history = _fitting_years(lake_folder, year, history, rules)
    fitted = [_acute(be, h, rules.per_diem) for h in history] if history else [acute]
    decide = _decider(reviews, panel)
    drg_cases, rate = _pay_drg(acute, fitted, institutions, pools["drg_dip"], spent["drg_dip"], rules, decide)
    dip = _pay_dip(be, acute, fitted, institutions, pools["drg_dip"], rules, decide)
    if reviews is not None:
        _check_reviewed(reviews, drg_cases, dip["cases"])
    drg_inst, dip_inst = drg_institutions(drg_cases), dip_institutions(dip["cases"])

    contracts = capitation_persons(_contracts(be, lake_folder, claims, institutions, year), rules.capitation)
    cap_inst = capitation_institutions(contracts)
    ffs_inst = fee_for_service(ffs_claims, cases.select("case_id"), rules.dip.reimbursement_ratio, rules.budget.rounding)
    budget = _allocations(pools, acute, per_diem, cap_inst, ffs_claims)
    dues = _dues(drg_inst, dip_inst, per_diem, cap_inst, ffs_inst, rules)
    statements = clear(_accounts(budget, dues, rules.budget), rules.clearing)

    summary = pd.DataFrame([{
        "year": year, "pack": pack.name, "backend": be.name, "inpatient_cases": _count(cases),
        "cross_region_cases": cross_region_stays(claims, year),
        **{f"pool_{k}_fen": v for k, v in pools.items()},
        **{f"target_{k}_fen": v for k, v in split_pools(sum(pools.values()), rules.budget).items()},
        "history_years": ",".join(Path(h).name for h in history), "drg_base_rate_fen": rate,
        "dip_points_e2": dip["points"], "dip_budget_point_value_e4": dip["budget_value"],
        "dip_settlement_point_value_e4": dip["settle_value"], "method": rules.method,
    }])
    return {
        "drg": be.execute(drg_inst),
        "dip": be.execute(dip_inst),
        "per_diem": be.execute(per_diem.group_by("fixmedins_code").aggregate(
            stays=per_diem.count(), bed_days=per_diem.bed_days.sum(), payment_fen=per_diem.payment_fen.sum().cast("int64"))
            .order_by("fixmedins_code")),
        "capitation": be.execute(cap_inst),
        "fee_for_service": be.execute(ffs_inst),
        "budget": be.execute(budget.order_by(["fixmedins_code", "pool"])),
        "clearing": be.execute(statements),
        "summary": summary,
    }


def _outpatient(claims: ir.Table, institutions: ir.Table, year: int) -> tuple[ir.Table, ir.Table]:
    """The year's outpatient claims: fee-for-service ones (``case_id, fixmedins_code, cost_fen``)
    and those at primary institutions (capitation)."""
    year_claims = claims.filter(claims.dscg_date.year() == year)
    outpatient = year_claims.filter(~year_claims.med_type.isin(sorted(INPATIENT_MED_TYPES)))
    primary = institutions.filter(institutions.kind == "primary").select("fixmedins_code")
    ffs = outpatient.anti_join(primary, "fixmedins_code").select(
        case_id=outpatient.claim_id, fixmedins_code=outpatient.fixmedins_code, cost_fen=outpatient.medfee_sumamt_fen)
    return ffs, outpatient.semi_join(primary, "fixmedins_code")


def _pools(spent: dict[str, int], rules: YearRules) -> dict[str, int]:
    """Each pool's budget: last year's (here: this year's) fund spending of its kind (cost ×
    ratio), grown by the pack's rate; the pack's pool shares are reported beside them as targets."""
    ratio_ppm = scaled(rules.dip.reimbursement_ratio, PPM)
    return {k: regional_budget(div_round(v * ratio_ppm, PPM, rules.budget.rounding), rules.budget) for k, v in spent.items()}


def _fitting_years(lake_folder, year: int, history, rules: YearRules) -> list:
    """The history folders the weights and the catalog are fitted on (only as many as used)."""
    history = history_folders(lake_folder, year) if history is None else list(history)
    return history[-max(rules.drg_history_years, len(rules.dip.history_weights)):] if history else []


def _acute(be: Backend, folder, rules: PerDiemRules) -> ir.Table:
    """A history lake's inpatient cases less its per-diem stays."""
    cases = inpatient_cases(be, folder)[0]
    return cases.anti_join(per_diem_pay(cases, rules).select("case_id"), "case_id")


def _decider(reviews: ir.Table | None, panel: Panel | None) -> Panel:
    """The outcomes of the cases a method set aside: the given ones, the panel's, or none (pending)."""
    def decide(cases: ir.Table) -> ir.Table:
        aside = cases.filter(cases.review_reason.notnull())
        if reviews is not None:
            return reviews.semi_join(aside.select("case_id"), "case_id")
        if panel is not None:
            return panel(aside)
        return aside.filter(ibis.literal(False)).select("case_id", decision=ibis.null("string"))
    return decide


def _pay_drg(acute: ir.Table, fitted: list[ir.Table], institutions: ir.Table, pool_fen: int, cost_fen: int,
             rules: YearRules, decide: Panel) -> tuple[ir.Table, int]:
    """DRG cases paid and the base rate: weights on the last ``payment.drg.history_years`` pooled,
    the rate from the case-mix pool in cost terms (÷ ratio) less the share of the cases set aside."""
    years = fitted[-rules.drg_history_years:]
    weights = drg_weights(ibis.union(*years) if len(years) > 1 else years[0], rules.drg)
    trial = drg_pay(acute, weights, rules.drg, 1, institutions)
    payable_cost = _sum(trial.filter(trial.kind != "review"), "cost_fen")
    budget = div_round(pool_fen * PPM * payable_cost, scaled(rules.drg_ratio, PPM) * max(cost_fen, 1), rules.drg.rounding)
    rate = base_rate(acute, weights, rules.drg, budget)
    paid = drg_pay(acute, weights, rules.drg, rate, institutions)
    return drg_review(paid, decide(paid), rules.drg_review), rate


def _pay_dip(be: Backend, acute: ir.Table, fitted: list[ir.Table], institutions: ir.Table, pool_fen: int, rules: YearRules,
             decide: Panel) -> dict:
    """DIP: the catalog from history (or this year), the 预算点值 on the last history year's points,
    the 结算点值 on this year's, the cases settled and reviewed."""
    years = fitted[-len(rules.dip.history_weights):]
    dip_r = dataclasses.replace(rules.dip, history_weights=rules.dip.history_weights[-len(years):])
    catalog = be.table(be.to_arrow(build_catalog(years, dip_r)))  # a backend table, so it can be cached
    points = cached(dip_points(acute, catalog, institutions, dip_r))
    year_points = total_points(points)
    budget_points = total_points(dip_points(years[-1], catalog, institutions, dip_r))
    ratio = dip_r.reimbursement_ratio
    settle_value = point_value(pool_fen, ratio, year_points)
    settled = dip_settle(points, settle_value, dip_r)
    return {"cases": dip_review(settled, decide(settled), dip_r, rules.dip_review), "points": year_points,
            "budget_value": point_value(pool_fen, ratio, budget_points), "settle_value": settle_value}


def _contracts(be: Backend, folder, claims: ir.Table, institutions: ir.Table, year: int) -> ir.Table:
    """Family-doctor contracts: each person with the first primary institution they visited."""
    primary = institutions.filter(institutions.kind == "primary").select("fixmedins_code")
    out = claims.filter(~claims.med_type.isin(sorted(INPATIENT_MED_TYPES)) & (claims.adm_date.year() == year))
    visits = out.semi_join(primary, "fixmedins_code")
    per = visits.group_by("psn_no").aggregate(fixmedins_code=visits.fixmedins_code.min())
    persons = lake_table(be, folder, "persons")
    mid = ibis.date(year, 7, 1)
    j = per.join(persons.select("psn_no", "sex", "birth_date"), "psn_no")
    return j.select("psn_no", "fixmedins_code", sex=j.sex.fill_null("1"),
                    age=(mid.year() - j.birth_date.year()).cast("int64"))


def _allocations(pools: dict[str, int], acute: ir.Table, per_diem: ir.Table, cap_inst: ir.Table,
                 ffs_claims: ir.Table) -> ir.Table:
    """Each pool split among institutions by this year's shares (``fixmedins_code, pool, history_fen,
    budget_fen``); a pool nobody drew on (no per-diem stay) is left out."""
    spending = {
        "drg_dip": acute.select("fixmedins_code", "cost_fen"),
        "per_diem": per_diem.select("fixmedins_code", "cost_fen"),
        "capitation": cap_inst.select("fixmedins_code", cost_fen=cap_inst.amount_fen),
        "other": ffs_claims.select("fixmedins_code", "cost_fen"),
    }
    parts = [allocate(pools[k], t, k) for k, t in spending.items() if k != "per_diem" or _count(t)]
    return ibis.union(*parts)


def _dues(drg_inst: ir.Table, dip_inst: ir.Table, per_diem: ir.Table, cap_inst: ir.Table, ffs_inst: ir.Table,
          rules: YearRules) -> ir.Table:
    """Payment due per institution (``fixmedins_code, due_fen``): the fund's share of the inpatient
    method the pack clears by, of per-diem, plus capitation and fee-for-service."""
    ratio_ppm, r = scaled(rules.dip.reimbursement_ratio, PPM), rules.budget.rounding
    inpatient = (dip_inst.select("fixmedins_code", due=dip_inst.fund_due_fen) if rules.method == "dip" else
                 drg_inst.select("fixmedins_code", due=round_div(drg_inst.payment_fen * ratio_ppm, PPM, r)))
    pd_due = per_diem.group_by("fixmedins_code").aggregate(due=per_diem.payment_fen.sum())
    pd_due = pd_due.select("fixmedins_code", due=round_div(pd_due.due * ratio_ppm, PPM, r))
    dues = ibis.union(inpatient, pd_due, cap_inst.select("fixmedins_code", due=cap_inst.amount_fen),
                      ffs_inst.select("fixmedins_code", due=ffs_inst.payment_fen))
    return dues.group_by("fixmedins_code").aggregate(due_fen=dues.due.sum().cast("int64"))


def _accounts(budget: ir.Table, due: ir.Table, rules: BudgetRules) -> ir.Table:
    """Clearing accounts: budget, payment due and monthly advances per institution."""
    inst_budget = budget.group_by("fixmedins_code").aggregate(budget_fen=budget.budget_fen.sum().cast("int64"))
    adv = monthly_advances(budget, rules)
    adv = adv.group_by("fixmedins_code").aggregate(advances_fen=adv.advance_fen.sum().cast("int64"))
    zero = ibis.literal(0, "int64")
    parts = ibis.union(
        inst_budget.select("fixmedins_code", "budget_fen", due_fen=zero, advances_fen=zero),
        due.select("fixmedins_code", budget_fen=zero, due_fen=due.due_fen, advances_fen=zero),
        adv.select("fixmedins_code", budget_fen=zero, due_fen=zero, advances_fen=adv.advances_fen),
    )
    return parts.group_by("fixmedins_code").aggregate(
        budget_fen=parts.budget_fen.sum().cast("int64"), due_fen=parts.due_fen.sum().cast("int64"),
        advances_fen=parts.advances_fen.sum().cast("int64"))


def _check_reviewed(reviews: ir.Table, *methods: ir.Table) -> None:
    """Refuse an outcome for a case that no method set aside (a wrong id, or a case paid normally)."""
    aside = ibis.union(*[m.filter(m.review_reason.notnull()).select("case_id") for m in methods])
    stray = fetch(reviews.select("case_id").anti_join(aside, "case_id").limit(1)).to_pylist()
    if stray:
        raise ValidationError("review", "neither DRG nor DIP set the case aside for review",
                              record=f"review outcome case {stray[0]['case_id']}")


def _sum(t: ir.Table, col: str) -> int:
    return int(fetch(t.aggregate(s=t[col].sum())).to_pylist()[0]["s"] or 0)


def _count(t: ir.Table) -> int:
    return int(fetch(t.aggregate(n=t.count())).to_pylist()[0]["n"])


def print_results(results: dict[str, pd.DataFrame], console) -> None:
    """Rich tables of :func:`pay_year`'s results, every figure in its unit: money in yuan, CMI and
    points as plain numbers (the scaled ``_e4`` / ``_e2`` columns unscaled)."""
    from rich.table import Table

    from yibao.money import format_yuan
    from yibao.payment.dip import format_point_value

    s = results["summary"].iloc[0]
    console.print(f"[bold]Payment year {s['year']}[/] — pack {s['pack']}, backend {s['backend']}, "
                  f"{s['inpatient_cases']} inpatient cases ({s['cross_region_cases']} cross-region stays left to "
                  f"the national clearing); DRG base rate {format_yuan(s['drg_base_rate_fen'])} yuan per unit weight; "
                  f"DIP point value {format_point_value(s['dip_settlement_point_value_e4'])} yuan per point "
                  f"(budget {format_point_value(s['dip_budget_point_value_e4'])}); fitted on "
                  f"{'history ' + s['history_years'] if s['history_years'] else 'the year itself'}", highlight=False)
    for key, (title, cols) in _VIEWS.items():
        table = Table(title=title)
        table.add_column("institution")
        for c in cols:
            table.add_column(_header(c), justify="right")
        for r in results[key].to_dict("records"):
            table.add_row(r["fixmedins_code"], *[_cell(c, r[c], format_yuan) for c in cols])
        console.print(table)


_VIEWS = {
    "drg": ("DRG by institution", ["cases", "review_cases", "cmi_e4", "payment_fen", "review_payment_fen", "cost_fen",
                                   "balance_fen"]),
    "dip": ("DIP by institution", ["cases", "grouped_cases", "review_cases", "points_e2", "value_fen",
                                   "review_value_fen", "fund_due_fen", "cost_fen"]),
    "clearing": ("Annual clearing", ["budget_fen", "due_fen", "advances_fen", "outcome", "retained_fen",
                                     "shared_fen", "settled_fen", "balance_fen"]),
}
_SCALES = {"_e4": 4, "_e2": 2}  # scaled integer columns: decimals kept


def _header(column: str) -> str:
    if column.endswith("_fen"):
        return f"{column[:-4]} (yuan)"
    return column[:-3] if column[-3:] in _SCALES else column


def _cell(column: str, value, format_yuan) -> str:
    if column.endswith("_fen"):
        return format_yuan(value)
    if column[-3:] in _SCALES:
        return str(Decimal(int(value)).scaleb(-_SCALES[column[-3:]]))
    return str(value)
