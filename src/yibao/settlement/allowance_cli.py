"""``yibao maternity``: 生育津贴 (maternity allowance) for one birth, or for every birth of a lake's year.

A birth of the lake is a 生育住院 claim (med_type 52) of a 职工 (insutype 310) woman. The wage is the
employer's average monthly wage (``employers.avg_wage_fen``) of her 310 enrolment spell in force at
discharge, or, for 灵活就业 without an employer, the spell's contribution base. The birth kind comes
from the claim's codes: an ICD-9-CM-3 剖宫产 operation (74.0–74.2, 74.4, 74.99) is 剖宫产, an
obstructed labour (ICD-10 O64–O66) 难产, else 顺产; 多胎妊娠 O30.0 / O30.1 / O30.2 adds 1 / 2 / 3 babies.
A stay whose principal diagnosis is a pregnancy with abortive outcome (O00–O08) is not a birth: the
lake does not hold the weeks of gestation that choose its days, so such stays are counted apart.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.console import Console
from rich.table import Table

from yibao import vocab
from yibao.console import new_console
from yibao.errors import PolicyError, ValidationError
from yibao.lake.io import check_out, read_table, write_rows
from yibao.money import format_yuan, show_yuan, yuan_to_fen
from yibao.policy.pack import Pack, load_pack
from yibao.settlement.allowances import BIRTH_NAMES, Allowance, maternity_allowance, maternity_allowances

maternity_app = typer.Typer(help="生育津贴 maternity allowance: one birth, or every birth of a lake's year.",
                            no_args_is_help=True)

DAY_BITS = 20  # a day number (since 1970) fits in 20 bits until the year 4840
CAESAREAN = r"(^|\|)74\.(0|1|2|4|99)"  # ICD-9-CM-3 剖宫产 (74.3 ectopic and 74.91 termination excluded)
DYSTOCIA = r"(^|\|)O6[4-6]"  # ICD-10 梗阻性分娩 (obstructed labour)
ABORTIVE = r"^O0[0-8]"  # ICD-10 pregnancy with abortive outcome, as the principal diagnosis
EXTRA_BABIES = ((r"(^|\|)O30\.0", 1), (r"(^|\|)O30\.1", 2), (r"(^|\|)O30\.2", 3))  # twins, triplets, quadruplets
OPTION_OF = {"birth": "--birth", "extra_babies": "--extra-babies", "monthly_wage": "--wage"}
ROW_COLUMNS = ["claim_id", "psn_no", "dscg_date", "birth", "extra_babies", "wage_source", "emp_no",
               "monthly_wage_fen", "days", "amount_fen"]
TALLY_COLUMNS = ["month", "birth", "outcome", "births", "days", "amount_fen"]
PAID_SOURCES = ("employer", "contribution_base")
WAGE_SOURCES = PAID_SOURCES + ("no_spell", "no_employer_wage")
LEFT_OUT = ("not_in_persons", "not_women", "abortive")
# the tables year_births reads, in its order of arguments, and the columns it needs of each
TABLE_COLUMNS = {
    "claims": ["claim_id", "psn_no", "insutype", "med_type", "dscg_date", "diagnoses", "procedures"],
    "persons": ["psn_no", "sex"],
    "enrollments": ["psn_no", "insutype", "emp_no", "start_date", "end_date", "contribution_base_fen"],
    "employers": ["emp_no", "avg_wage_fen"],
}


def pack_option(name: str) -> Pack:
    try:
        return load_pack(name)
    except PolicyError as e:
        raise ValidationError("--pack", str(e)) from None


def _date_option(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError("--date", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _wage_option(text: str) -> int:
    fen = yuan_to_fen(text, "--wage")
    if fen < 0:
        raise ValidationError("--wage", f"{text} yuan is negative")
    return fen


def one_allowance(pack: str, date: str, wage: str, birth: str, extra_babies: int) -> tuple[Pack, dt.date, int, Allowance]:
    """The options checked and the allowance computed; an engine error names the option at fault."""
    p, on, fen = pack_option(pack), _date_option(date), _wage_option(wage)
    try:
        return p, on, fen, maternity_allowance(p, on, fen, birth, extra_babies)
    except ValidationError as e:
        raise ValidationError(OPTION_OF.get(e.field, e.field), e.problem, e.record) from None


def allowance_doc(pack: Pack, on: dt.date, wage: int, birth: str, extra_babies: int, a: Allowance) -> dict[str, Any]:
    """The allowance as JSON: amounts in fen and as yuan text (exact), every day rule with its citation."""
    p = pack.at(on)
    daily = wage * a.numerator / a.denominator / 100
    return {
        "pack": pack.name, "date": on.isoformat(), "birth": birth, "extra_babies": extra_babies,
        "monthly_wage_fen": wage, "monthly_wage_yuan": format_yuan(wage),
        "days": a.days, "rules": [{"rule": r.rule, "days": r.days, "parameter": r.parameter, "ref": r.ref} for r in a.rules],
        "daily_rate": {"numerator": a.numerator, "denominator": a.denominator, "yuan": f"{daily:.4f}",
                       "ref": p.cite("benefits.maternity.allowance_numerator").ref},
        "amount_fen": a.amount, "amount_yuan": format_yuan(a.amount),
        "formula": a.explanation, "rounding": pack.rounding.value,
        "warnings": [p.stale_warning] if p.stale else [],
    }


def print_allowance(doc: dict[str, Any], console: Console) -> None:
    t = Table(title=f"生育津贴 days · pack {doc['pack']} · {doc['date']} · {BIRTH_NAMES.get(doc['birth'], doc['birth'])}"
                    + (f" + {doc['extra_babies']} extra" if doc["extra_babies"] else ""), title_justify="left")
    for col in ("rule", "days", "parameter", "ref"):
        t.add_column(col, overflow="fold", justify="right" if col == "days" else "left")
    for r in doc["rules"]:
        t.add_row(r["rule"], str(r["days"]), r["parameter"], r["ref"])
    t.add_row("total", str(doc["days"]), "", "")
    console.print(t)
    rate = doc["daily_rate"]
    console.print(f"daily rate 日津贴: {doc['monthly_wage_yuan']} × {rate['numerator']} ÷ {rate['denominator']} = "
                  f"{rate['yuan']} 元/天 ({rate['ref']})", highlight=False)
    console.print(f"amount 生育津贴: {doc['formula']} = [bold]{doc['amount_yuan']}[/] 元 "
                  f"(rounded once, {doc['rounding']})", highlight=False)
    for w in doc["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


# ---------------------------------------------------------------- the births of a lake's year

def _births(claims: pa.Table, persons: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """The 生育住院 claims of 职工 women with their birth kind and extra babies; the 52 claims
    left out (not a woman, not in persons, an abortive outcome) are counted."""
    claims = claims.filter(pc.and_(pc.equal(claims["med_type"], vocab.MED_MATERNITY_INPATIENT), pc.equal(claims["insutype"], vocab.EMPLOYEE)))
    at = pc.index_in(claims["psn_no"], value_set=persons["psn_no"].combine_chunks())
    known = pc.is_valid(at)
    sex = pc.take(persons["sex"], at.fill_null(0)) if len(persons) else pa.nulls(len(claims), pa.string())
    woman = pc.and_(known, pc.equal(sex, "2")).fill_null(False)
    abortive = pc.match_substring_regex(claims["diagnoses"].fill_null(""), ABORTIVE)
    known, woman, abortive = (np.asarray(a.to_numpy(zero_copy_only=False), bool) for a in (known, woman, abortive))
    left_out = {"not_in_persons": int((~known).sum()), "not_women": int((known & ~woman).sum()),
                "abortive": int((woman & abortive).sum())}
    births = claims.filter(pa.array(woman & ~abortive))
    proc, dx = births["procedures"].fill_null(""), births["diagnoses"].fill_null("")
    caesarean = pc.match_substring_regex(proc, CAESAREAN).to_numpy(zero_copy_only=False)
    dystocia = pc.match_substring_regex(dx, DYSTOCIA).to_numpy(zero_copy_only=False)
    kind = np.where(caesarean, "caesarean", np.where(dystocia, "dystocia", "normal")).astype(object)
    extra = np.zeros(len(births), np.int64)
    for pattern, babies in EXTRA_BABIES:
        extra = np.where(pc.match_substring_regex(dx, pattern).to_numpy(zero_copy_only=False), babies, extra)
    births = births.select(["claim_id", "psn_no", "dscg_date"]).append_column("birth", pa.array(kind, pa.string()))
    return births.append_column("extra_babies", pa.array(extra, pa.int64())), left_out


def _spell_wages(enrollments: pa.Table, employers: pa.Table, births: pa.Table) -> dict[str, np.ndarray]:
    """For each birth, the 310 spell in force at discharge (latest start ≤ discharge, not ended before
    it) and the wage it gives: the employer's average wage, else (灵活就业, no employer) the spell's
    contribution base. ``source`` is employer / contribution_base / no_employer_wage / no_spell."""
    e = enrollments.filter(pc.equal(enrollments["insutype"], vocab.EMPLOYEE))
    psn = births["psn_no"].combine_chunks().unique()
    person = pc.index_in(e["psn_no"], value_set=psn).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    key = (person << DAY_BITS) + _days(e["start_date"]).astype(np.int64)
    order = np.argsort(key, kind="stable")
    key, end = key[order], _days(e["end_date"])[order]
    mother = pc.index_in(births["psn_no"], value_set=psn).to_numpy(zero_copy_only=False).astype(np.int64)
    dscg = _days(births["dscg_date"])
    want = (mother << DAY_BITS) + dscg.astype(np.int64)
    if len(key):
        at = np.maximum(np.searchsorted(key, want, side="right") - 1, 0)
        ok = ((key[at] >> DAY_BITS) == mother) & (key[at] <= want) & (np.isnat(end[at]) | (end[at] >= dscg))
        row = pa.array(order[at], mask=~ok)
    else:
        ok, row = np.zeros(len(want), bool), pa.nulls(len(want), pa.int64())
    emp_no, base = e["emp_no"].take(row), e["contribution_base_fen"].take(row)
    emp_wage = employers["avg_wage_fen"].take(pc.index_in(emp_no, value_set=employers["emp_no"].combine_chunks()))
    has_emp = pc.is_valid(emp_no).to_numpy(zero_copy_only=False)
    employer_ok = has_emp & pc.is_valid(emp_wage).to_numpy(zero_copy_only=False)
    flexible_ok = ok & ~has_emp & pc.is_valid(base).to_numpy(zero_copy_only=False)
    wage = pc.if_else(pa.array(has_emp), emp_wage, base).fill_null(0).to_numpy(zero_copy_only=False)
    source = np.select([~ok, employer_ok, flexible_ok], ["no_spell", "employer", "contribution_base"],
                       "no_employer_wage").astype(object)
    return {"wage": wage.astype(np.int64), "source": source, "paid": employer_ok | flexible_ok,
            "emp_no": emp_no.to_numpy(zero_copy_only=False)}


def _days(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype="datetime64[D]")


def year_births(claims: pa.Table, persons: pa.Table, enrollments: pa.Table, employers: pa.Table,
                pack: Pack) -> tuple[pd.DataFrame, dict[str, int]]:
    """The core of :func:`maternity_year` on the tables themselves (``TABLE_COLUMNS`` at least): one row per
    birth (``ROW_COLUMNS``; no amount for a birth without a wage) and the 52 claims not counted as
    births, by reason."""
    births, left_out = _births(claims, persons)
    w = _spell_wages(enrollments, employers, births)
    paid, dates = w["paid"], _days(births["dscg_date"])
    days, amount = np.zeros(len(births), np.int64), np.zeros(len(births), np.int64)
    if paid.any():
        days[paid], amount[paid] = maternity_allowances(
            pack, dates[paid], w["wage"][paid],
            births["birth"].to_numpy(zero_copy_only=False)[paid], births["extra_babies"].to_numpy()[paid])
    rows = births.to_pandas().assign(
        wage_source=w["source"], emp_no=w["emp_no"],
        monthly_wage_fen=_unless_unpaid(w["wage"], paid), days=_unless_unpaid(days, paid),
        amount_fen=_unless_unpaid(amount, paid))[ROW_COLUMNS]
    return rows, left_out


def year_tally(rows: pd.DataFrame, left_out: dict[str, int]) -> pd.DataFrame:
    """The births counted by month of discharge, kind and wage source (``TALLY_COLUMNS``), with the claims
    left out as rows of month 0 and their reason as the outcome: parts of a region (persons are
    independent) add up row by row, and :func:`tally_summary` reads the sum."""
    counted = (rows.assign(month=pd.to_datetime(rows["dscg_date"]).dt.month.astype("int64"),
                           outcome=rows["wage_source"], births=1)
               .groupby(["month", "birth", "outcome"], as_index=False)
               .agg(births=("births", "sum"), days=("days", "sum"), amount_fen=("amount_fen", "sum")))
    apart = pd.DataFrame([{"month": 0, "birth": "", "outcome": k, "births": n, "days": 0, "amount_fen": 0}
                          for k, n in left_out.items() if n], columns=TALLY_COLUMNS)
    parts = [p for p in (counted[TALLY_COLUMNS], apart) if len(p)]
    tally = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TALLY_COLUMNS)
    return tally.astype({c: "int64" for c in ("month", "births", "days", "amount_fen")})


def tally_summary(tally: pd.DataFrame, pack_name: str, stale: str = "") -> dict[str, Any]:
    """The summary of :func:`maternity_year` from a tally: births, days and amount by birth kind, and
    the births left unpaid or paid on a contribution base and the claims left out, counted."""
    by = tally.groupby("outcome")["births"].sum()
    paid = tally[tally["outcome"].isin(PAID_SOURCES)]
    by_kind = (paid.groupby("birth").agg(births=("births", "sum"), days=("days", "sum"),
                                         amount_fen=("amount_fen", "sum"))
               .reset_index().astype({"births": "int64", "days": "int64", "amount_fen": "int64"}))
    return {"pack": pack_name, "births": int(sum(by.get(s, 0) for s in WAGE_SOURCES)),
            "paid": int(paid["births"].sum()), "by_kind": by_kind,
            "days": int(tally["days"].sum()), "amount_fen": int(tally["amount_fen"].sum()),
            **{s: int(by.get(s, 0)) for s in WAGE_SOURCES + LEFT_OUT}, "stale": stale}


def maternity_year(folder: str | Path, pack: Pack | str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """生育津贴 for every birth of a lake's year: one row per birth (``ROW_COLUMNS``; no amount for a
    birth without a wage) and a summary — births, days and amount by birth kind, and the births left
    unpaid or paid on a contribution base, counted."""
    pack = load_pack(pack) if isinstance(pack, str) else pack
    rows, left_out = year_births(*(read_table(folder, t, columns=c) for t, c in TABLE_COLUMNS.items()), pack)
    stale = pack.at(pd.Timestamp(rows["dscg_date"].max()).date()).stale_warning if len(rows) else ""
    return rows, tally_summary(year_tally(rows, left_out), pack.name, stale)


def _unless_unpaid(values: np.ndarray, paid: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.where(paid, values, 0).astype(np.int64), mask=~paid)


def print_year(summary: dict[str, Any], console: Console) -> None:
    t = Table(title=f"生育津贴 maternity allowance of the year · pack {summary['pack']}", title_justify="left")
    for col in ("birth", "名称", "births", "days", "amount (元)"):
        t.add_column(col, justify="left" if col in ("birth", "名称") else "right")
    for r in summary["by_kind"].itertuples(index=False):
        t.add_row(r.birth, BIRTH_NAMES.get(r.birth, ""), f"{r.births:,}", f"{r.days:,}", show_yuan(r.amount_fen))
    t.add_row("total", "", f"{summary['paid']:,}", f"{summary['days']:,}", show_yuan(summary['amount_fen']))
    console.print(t)
    for line in year_notes(summary):
        console.print(line, highlight=False)


def year_notes(summary: dict[str, Any]) -> list[str]:
    """What the totals leave out or compute differently, in words (nothing when there is nothing to say)."""
    said = {
        "contribution_base": "paid on the 灵活就业 contribution base (no employer)",
        "no_spell": "of persons with no 职工 spell in force at discharge: not paid",
        "no_employer_wage": "whose employer has no average wage in the lake: not paid",
        "not_in_persons": "生育住院 claims of persons not in the persons table: not counted as births",
        "not_women": "生育住院 claims of persons not recorded as women: not counted as births",
        "abortive": "生育住院 stays of an abortive outcome (O00–O08): not counted, the lake has no weeks of gestation",
    }
    notes = [f"{summary[k]:,} {'births ' if k in ('contribution_base', 'no_spell', 'no_employer_wage') else ''}{text}"
             for k, text in said.items() if summary.get(k)]
    return notes + ([f"warning: {summary['stale']}"] if summary.get("stale") else [])


def register(app: typer.Typer) -> None:
    app.add_typer(maternity_app, name="maternity")


@maternity_app.command("allowance")
def allowance_cmd(
    pack: str = typer.Option(..., "--pack", help="Policy pack name or folder."),
    date: str = typer.Option(..., "--date", help="Date of the birth (YYYY-MM-DD): the pack is read at it."),
    wage: str = typer.Option(..., "--wage", help="The employer's average monthly wage, yuan (≤ 2 decimals)."),
    birth: str = typer.Option("normal", "--birth", help="Birth kind: normal, caesarean, dystocia, miscarriage_early, "
                              "miscarriage_late (as the pack knows them)."),
    extra_babies: int = typer.Option(0, "--extra-babies", help="Babies beyond the first (twins: 1)."),
    as_json: bool = typer.Option(False, "--json", help="Print the allowance as JSON."),
) -> None:
    """生育津贴 of one birth: the days by rule (each cited), the daily rate and the amount."""
    p, on, fen, a = one_allowance(pack, date, wage, birth, extra_babies)
    doc = allowance_doc(p, on, fen, birth, extra_babies, a)
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print_allowance(doc, new_console())


@maternity_app.command("year")
def year_cmd(
    lake: Path = typer.Option(..., "--lake", help="A lake folder (yibao synth --out)."),
    pack: str = typer.Option(..., "--pack", help="Policy pack name or folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write one row per birth (.csv/.parquet; amounts in fen)."),
) -> None:
    """生育津贴 of every birth in a lake's year (职工 women's 生育住院), by birth kind."""
    if out is not None:
        check_out(out)
    if not lake.is_dir():
        raise ValidationError("--lake", "is not a folder", str(lake))
    rows, summary = maternity_year(lake, pack_option(pack))
    console = new_console()
    print_year(summary, console)
    if out is not None:
        write_rows(rows, out)
        console.print(f"wrote {len(rows):,} births to {out} (amounts in fen; no amount for a birth not paid)")
