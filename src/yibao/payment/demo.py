"""Paying a synthetic year end to end: group, pay by DRG and DIP, per-diem, capitation and
fee-for-service, budget, advances and annual clearing — per institution.

``pay_year(lake_folder, pack, backend)`` reads the lake (``yibao.lake.schema``) and returns a dict of
DataFrames. DRG weights and the DIP catalog are fitted on the years before the one paid: the
``history`` lake folders (oldest first), by default the lake's ``history/<year>`` folders (``yibao
synth --history-years``, the demo). The DIP catalog takes the last ``len(payment.dip.history_weights)``
of them (three, 1:2:7; fewer years take the pack's most recent weights), DRG weights the last
``payment.drg.history_years`` pooled; the DIP 预算点值 is set on the last history year's points.
Without history both are fitted on the paid year itself.

Assumptions of the demo (the lake has no contracts or fund-payment split): fund spending is
``cost × reimbursement ratio``; the regional budget is last year's (here: this year's) fund spending
grown by the pack's rate; a person's family-doctor contract is with the primary institution they
visited (the first by code); outpatient care elsewhere is fee-for-service.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from yibao.errors import ValidationError
from yibao.lake.io import has_table, table_path
from yibao.payment.backends import Backend, get_backend, round_div
from yibao.payment.budget import BudgetRules, allocate, monthly_advances, regional_budget, split_pools
from yibao.payment.capitation import CapitationRules, capitation_institutions, capitation_persons
from yibao.payment.clearing import ClearingRules, clear
from yibao.payment.common import PPM, cached, fetch, ratio_round, scaled
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
from yibao.payment.review import COSTLY, FLAGGED, LONG_STAY, ReviewRules
from yibao.policy import load_pack
from yibao.vocab import INPATIENT_MED_TYPES

__all__ = ["pay_year", "print_results", "lake_table", "inpatient_cases", "has_lake", "panel_outcomes",
           "history_folders"]


def lake_table(backend: Backend, folder: str | Path, table: str) -> ir.Table:
    """A lake table (single file or part-file folder) read lazily by ``backend``."""
    path = table_path(folder, table)
    if path.is_dir() and backend.name == "duckdb":
        return backend.read_parquet(str(path / "*.parquet"))
    return backend.read_parquet(str(path))


def region_claims(backend: Backend, folder: str | Path) -> ir.Table:
    """Claims treated inside the pooling region: cross-region care (异地就医) is paid through the
    national cross-region clearing, not from this region's institution budgets."""
    claims = lake_table(backend, folder, "claims")
    return claims.filter(~claims.out_of_region.fill_null(False))


def inpatient_cases(backend: Backend, folder: str | Path, year: int | None = None) -> tuple[ir.Table, int]:
    """Inpatient claims of one discharge year as payment cases, grouped by CHS-DRG 1.1.

    Columns: ``case_id, psn_no, fixmedins_code, diagnoses, procedures, cost_fen, los, dscg_way, dept,
    age, drg, status, cc_level``."""
    from yibao.payment.drg import group_many
    from yibao.payment.drg.batch import cases_from_claims

    claims = region_claims(backend, folder)
    inp = claims.filter(claims.med_type.isin(sorted(INPATIENT_MED_TYPES)))
    if year is None:
        # the lake's main year: the discharge year with most stays (a few stays end next January)
        by_year = inp.group_by(y=inp.dscg_date.year()).aggregate(n=inp.count())
        year = int(max(fetch(by_year).to_pylist(), key=lambda r: (r["n"], r["y"]))["y"])
    inp = inp.filter(inp.dscg_date.year() == year)
    frame = fetch(inp).to_pandas()
    persons = fetch(lake_table(backend, folder, "persons").select("psn_no", "sex", "birth_date")).to_pandas()
    grouper_in = cases_from_claims(frame, persons)
    groups = group_many(grouper_in)
    out = pd.DataFrame({
        "case_id": frame["claim_id"].astype(str),
        "psn_no": frame["psn_no"].astype(str),
        "fixmedins_code": frame["fixmedins_code"].astype(str),
        "diagnoses": frame["diagnoses"].fillna("").astype(str),
        "procedures": frame["procedures"].fillna("").astype(str),
        "cost_fen": frame["medfee_sumamt_fen"].astype("int64"),
        "los": frame["los"].fillna(0).astype("int64"),
        "dscg_way": frame["dscg_way"].fillna("").astype(str),
        "dept": frame["dept"].fillna("").astype(str),
        "age": grouper_in["age"].fillna(-1).astype("int64"),
    })
    g = groups.set_index("case_id").reindex(out["case_id"])
    out["drg"] = g["drg"].astype(object).where(g["drg"].notna(), None).to_numpy()
    out["status"] = g["status"].astype(str).to_numpy()
    out["cc_level"] = g["cc_level"].astype(object).where(g["cc_level"].notna(), None).to_numpy()
    table = pa.Table.from_pandas(out, preserve_index=False).cast(pa.schema([
        ("case_id", pa.string()), ("psn_no", pa.string()), ("fixmedins_code", pa.string()), ("diagnoses", pa.string()),
        ("procedures", pa.string()), ("cost_fen", pa.int64()), ("los", pa.int64()), ("dscg_way", pa.string()),
        ("dept", pa.string()), ("age", pa.int64()), ("drg", pa.string()), ("status", pa.string()),
        ("cc_level", pa.string()),
    ]))
    return backend.table(table), year


def _contracts(backend: Backend, folder, institutions: ir.Table, year: int) -> ir.Table:
    claims = lake_table(backend, folder, "claims")
    prim = institutions.filter(institutions.kind == "primary").select("fixmedins_code")
    out = claims.filter(~claims.med_type.isin(sorted(INPATIENT_MED_TYPES)) & (claims.adm_date.year() == year))
    visits = out.semi_join(prim, "fixmedins_code")
    per = visits.group_by("psn_no").aggregate(fixmedins_code=visits.fixmedins_code.min())
    persons = lake_table(backend, folder, "persons")
    mid = ibis.date(year, 7, 1)
    j = per.join(persons.select("psn_no", "sex", "birth_date"), "psn_no")
    return j.select("psn_no", "fixmedins_code", sex=j.sex.fill_null("1"),
                    age=(mid.year() - j.birth_date.year()).cast("int64"))


def _acute(be: Backend, folder, rules: PerDiemRules) -> ir.Table:
    """A history lake's inpatient cases less its per-diem stays."""
    cases = inpatient_cases(be, folder)[0]
    return cases.anti_join(per_diem_pay(cases, rules).select("case_id"), "case_id")


def history_folders(lake_folder: str | Path, year: int) -> list[Path]:
    """The lake's history years before ``year`` (``<lake>/history/<year>`` lake folders), oldest first."""
    root = Path(lake_folder) / "history"
    if not root.is_dir():
        return []
    years = sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and int(p.name) < year and has_lake(p))
    return [root / str(y) for y in years]


def pay_year(
    lake_folder: str | Path,
    pack: str = "demo",
    backend: str | Backend = "duckdb",
    year: int | None = None,
    history: list[str | Path] | None = None,
    reviews: ir.Table | pa.Table | None = None,
) -> dict[str, pd.DataFrame]:
    """Pay one year of the lake's claims; returns DataFrames by institution: ``drg``, ``dip``,
    ``per_diem``, ``capitation``, ``fee_for_service``, ``budget``, ``clearing`` and a one-row
    ``summary`` (year, pools, base rate, point values).

    ``reviews``: 特病单议 outcomes (``case_id, decision`` and optionally ``approved_fen``, see
    :mod:`yibao.payment.review`); each method takes those of the cases it set aside, and an outcome
    for a case neither set aside is refused. Without them the demo review panel decides
    (:func:`panel_outcomes`)."""
    be = backend if isinstance(backend, Backend) else get_backend(backend)
    if isinstance(reviews, pa.Table):
        reviews = be.table(reviews)
    cases, year = inpatient_cases(be, lake_folder, year)
    params = load_pack(pack).at(dt.date(year, 7, 1))
    drg_r, dip_r = DrgRules.from_params(params), DipRules.from_params(params)
    pd_r, cap_r = PerDiemRules.from_params(params), CapitationRules.from_params(params)
    bud_r, clr_r = BudgetRules.from_params(params), ClearingRules.from_params(params)
    institutions = lake_table(be, lake_folder, "institutions")
    ratio_ppm = scaled(dip_r.reimbursement_ratio, PPM)

    # per-diem stays leave the case-mix pool
    per_diem = per_diem_pay(cases, pd_r)
    acute = cases.anti_join(per_diem.select("case_id"), "case_id")

    # budget: each pool is last year's (here: this year's) fund spending of its kind (cost × ratio),
    # grown by the pack's rate; the pack's pool shares are reported beside it as the targets
    claims = region_claims(be, lake_folder)
    year_claims = claims.filter(claims.dscg_date.year() == year)
    prim = institutions.filter(institutions.kind == "primary").select("fixmedins_code")
    outpatient = year_claims.filter(~year_claims.med_type.isin(sorted(INPATIENT_MED_TYPES)))
    ffs_claims = outpatient.anti_join(prim, "fixmedins_code").select(
        case_id=outpatient.claim_id, fixmedins_code=outpatient.fixmedins_code, cost_fen=outpatient.medfee_sumamt_fen)
    primary_claims = outpatient.semi_join(prim, "fixmedins_code")
    spent = {name: _sum(t, col) for name, t, col in (
        ("drg_dip", acute, "cost_fen"), ("per_diem", per_diem, "cost_fen"),
        ("capitation", primary_claims, "medfee_sumamt_fen"), ("other", ffs_claims, "cost_fen"))}
    pools = {k: regional_budget(ratio_round(v * ratio_ppm, PPM), bud_r) for k, v in spent.items()}
    targets = split_pools(sum(pools.values()), bud_r)

    # DRG: weights, base rate from the case-mix pool (fund ÷ ratio = cost terms)
    history = history_folders(lake_folder, year) if history is None else history
    drg_n = int(params["payment.drg.history_years"])
    history = list(history)[-max(drg_n, len(dip_r.history_weights)):]  # only the years fitted on
    hist_cases = [_acute(be, h, pd_r) for h in history] if history else [acute]
    drg_years = hist_cases[-drg_n:]
    weights = drg_weights(ibis.union(*drg_years) if len(drg_years) > 1 else drg_years[0], drg_r)
    # the pool in cost terms (÷ ratio), less the share of cases set aside for review (paid apart)
    drg_cases = drg_pay(acute, weights, drg_r, 1, institutions)
    payable = drg_cases.filter(drg_cases.kind != "review")
    share = (_sum(payable, "cost_fen"), max(spent["drg_dip"], 1))
    drg_budget = ratio_round(pools["drg_dip"] * PPM * share[0], scaled(params["payment.drg.reimbursement_ratio"], PPM) * share[1])
    rate = base_rate(acute, weights, drg_r, drg_budget)
    drg_cases = drg_pay(acute, weights, drg_r, rate, institutions)
    drg_cases = drg_review(drg_cases, _outcomes(drg_cases, reviews), ReviewRules.from_params(params, "drg"))
    drg_inst = drg_institutions(drg_cases)

    # DIP: catalog from history (or this year), 预算点值 on history points, 结算点值 on this year's
    dip_hist = hist_cases[-len(dip_r.history_weights):]
    rules = dataclasses.replace(dip_r, history_weights=dip_r.history_weights[-len(dip_hist):])
    catalog = be.table(be.to_arrow(build_catalog(dip_hist, rules)))  # a backend table, so it can be cached
    points = cached(dip_points(acute, catalog, institutions, rules))
    year_points = total_points(points)
    budget_points = total_points(dip_points(dip_hist[-1], catalog, institutions, rules))
    budget_value = point_value(pools["drg_dip"], dip_r.reimbursement_ratio, budget_points)
    settle_value = point_value(pools["drg_dip"], dip_r.reimbursement_ratio, year_points)
    dip_cases = dip_settle(points, settle_value, rules)
    dip_cases = dip_review(dip_cases, _outcomes(dip_cases, reviews), rules, ReviewRules.from_params(params, "dip"))
    dip_inst = dip_institutions(dip_cases)
    if reviews is not None:
        _check_reviewed(reviews, drg_cases, dip_cases)

    # capitation and fee-for-service
    contracts = capitation_persons(_contracts(be, lake_folder, institutions, year), cap_r)
    cap_inst = capitation_institutions(contracts)
    ffs_inst = fee_for_service(ffs_claims, cases.select("case_id"), dip_r.reimbursement_ratio)

    # budget allocation by this year's shares, advances, clearing
    alloc = {
        "drg_dip": allocate(pools["drg_dip"], acute.select("fixmedins_code", "cost_fen"), "drg_dip"),
        "per_diem": allocate(pools["per_diem"], per_diem.select("fixmedins_code", "cost_fen"), "per_diem")
        if _count(per_diem) else None,
        "capitation": allocate(pools["capitation"], cap_inst.select("fixmedins_code", cost_fen=cap_inst.amount_fen), "capitation"),
        "other": allocate(pools["other"], ffs_claims.select("fixmedins_code", "cost_fen"), "other"),
    }
    budget = ibis.union(*[a for a in alloc.values() if a is not None])
    method = params.get("payment.budget.method", "dip")
    inpatient_due = (dip_inst.select("fixmedins_code", due=dip_inst.fund_due_fen) if method == "dip" else
                     drg_inst.select("fixmedins_code", due=round_div(drg_inst.payment_fen * ratio_ppm, PPM)))
    pd_due = per_diem.group_by("fixmedins_code").aggregate(due=per_diem.payment_fen.sum())
    pd_due = pd_due.mutate(due=round_div(pd_due.due * ratio_ppm, PPM))
    dues = ibis.union(inpatient_due, pd_due.select("fixmedins_code", "due"),
                      cap_inst.select("fixmedins_code", due=cap_inst.amount_fen),
                      ffs_inst.select("fixmedins_code", due=ffs_inst.payment_fen))
    due = dues.group_by("fixmedins_code").aggregate(due_fen=dues.due.sum().cast("int64"))
    inst_budget = budget.group_by("fixmedins_code").aggregate(budget_fen=budget.budget_fen.sum().cast("int64"))
    adv = monthly_advances(budget, bud_r)
    adv = adv.group_by("fixmedins_code").aggregate(advances_fen=adv.advance_fen.sum().cast("int64"))
    zero = ibis.literal(0, "int64")
    parts = ibis.union(
        inst_budget.select("fixmedins_code", "budget_fen", due_fen=zero, advances_fen=zero),
        due.select("fixmedins_code", budget_fen=zero, due_fen=due.due_fen, advances_fen=zero),
        adv.select("fixmedins_code", budget_fen=zero, due_fen=zero, advances_fen=adv.advances_fen),
    )
    accounts = parts.group_by("fixmedins_code").aggregate(
        budget_fen=parts.budget_fen.sum().cast("int64"), due_fen=parts.due_fen.sum().cast("int64"),
        advances_fen=parts.advances_fen.sum().cast("int64"))
    statements = clear(accounts, clr_r)

    summary = pd.DataFrame([{
        "year": year, "pack": pack, "backend": be.name, "inpatient_cases": _count(cases),
        **{f"pool_{k}_fen": v for k, v in pools.items()}, **{f"target_{k}_fen": v for k, v in targets.items()},
        "history_years": ",".join(Path(h).name for h in history) if history else "",
        "drg_base_rate_fen": rate, "dip_points_e2": year_points,
        "dip_budget_point_value_e4": budget_value, "dip_settlement_point_value_e4": settle_value, "method": method,
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


def panel_outcomes(set_aside: ir.Table) -> ir.Table:
    """The demo's 特病单议 panel (an assumption of the demo, not a rule): it approves the cases set
    aside for their cost, their length of stay or at the institution's request, and rejects those
    set aside because they have no group or no weight."""
    t = set_aside.filter(set_aside.review_reason.notnull())
    approve = t.review_reason.isin([COSTLY, LONG_STAY, FLAGGED])
    return t.select("case_id", decision=ibis.ifelse(approve, "approved", "rejected"))


def _outcomes(cases: ir.Table, reviews: ir.Table | None) -> ir.Table:
    """The outcomes of the cases a method set aside: the given ones, or the demo panel's."""
    if reviews is None:
        return panel_outcomes(cases)
    aside = cases.filter(cases.review_reason.notnull()).select("case_id")
    return reviews.semi_join(aside, "case_id")


def _check_reviewed(reviews: ir.Table, *methods: ir.Table) -> None:
    """Refuse an outcome for a case that no method set aside (a wrong id, or a case paid normally)."""
    aside = ibis.union(*[m.filter(m.review_reason.notnull()).select("case_id") for m in methods])
    stray = fetch(reviews.select("case_id").anti_join(aside, "case_id").limit(1)).to_pylist()
    if stray:
        raise ValidationError("review", "neither DRG nor DIP set the case aside for review",
                              record=f"review outcome case {stray[0]['case_id']}")


def _sum(t: ir.Table, col: str) -> int:
    return int(fetch(t.aggregate(s=t[col].sum())).to_pylist()[0]["s"] or 0)


def print_results(results: dict[str, pd.DataFrame], console) -> None:
    """Rich tables of :func:`pay_year`'s results (money in yuan)."""
    from rich.table import Table

    from yibao.money import format_yuan

    s = results["summary"].iloc[0]
    console.print(f"[bold]Payment year {s['year']}[/] — pack {s['pack']}, backend {s['backend']}, "
                  f"{s['inpatient_cases']} inpatient cases; DRG base rate {format_yuan(s['drg_base_rate_fen'])} yuan; "
                  f"DIP point value {s['dip_settlement_point_value_e4'] / 1_000_000:.4f} yuan "
                  f"(budget {s['dip_budget_point_value_e4'] / 1_000_000:.4f}); fitted on "
                  f"{'history ' + s['history_years'] if s['history_years'] else 'the year itself'}")
    views = {
        "drg": ("DRG by institution", ["cases", "review_cases", "cmi_e4", "payment_fen", "review_payment_fen", "cost_fen",
                                       "balance_fen"]),
        "dip": ("DIP by institution", ["cases", "grouped_cases", "review_cases", "points_e2", "value_fen",
                                       "review_value_fen", "fund_due_fen", "cost_fen"]),
        "clearing": ("Annual clearing", ["budget_fen", "due_fen", "advances_fen", "outcome", "retained_fen",
                                         "shared_fen", "settled_fen", "balance_fen"]),
    }
    for key, (title, cols) in views.items():
        df = results[key]
        table = Table(title=title)
        table.add_column("institution")
        for c in cols:
            table.add_column(c.replace("_fen", " (yuan)").replace("_e4", " (×1e4)").replace("_e2", " (×100)"), justify="right")
        for row in df.itertuples(index=False):
            r = row._asdict()
            table.add_row(r["fixmedins_code"], *[format_yuan(r[c]) if c.endswith("_fen") else str(r[c]) for c in cols])
        console.print(table)


def _count(t: ir.Table) -> int:
    return int(fetch(t.aggregate(n=t.count())).to_pylist()[0]["n"])


def has_lake(folder: str | Path) -> bool:
    return all(has_table(folder, t) for t in ("claims", "persons", "institutions"))
