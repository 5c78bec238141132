"""``yibao demo``: the demo region end to end — synthesize, compute contributions, load the store,
and print what an agency's overview shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yibao import vocab
from yibao.lake import io as lake_io
from yibao.money import fen_to_yuan
from yibao.policy import load_pack


HISTORY_YEARS = 3  # the years before the demo year that payment is fitted on (DIP's 1:2:7)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def _bar(progress: Progress):
    """A ``(table, done, total)`` callback that drives one Rich task per table."""
    tasks: dict[str, int] = {}

    def update(table: str, done: int, total: int) -> None:
        if table not in tasks:
            tasks[table] = progress.add_task(table, total=total or None)
        progress.update(tasks[table], completed=done, total=total or None)

    return update


def frame_table(title: str, df: pd.DataFrame, money: tuple[str, ...] = ()) -> Table:
    """A DataFrame as a Rich table; columns named in ``money`` (fen) print as yuan."""
    t = Table(title=title, title_justify="left")
    for col in df.columns:
        t.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left")
    for row in df.itertuples(index=False):
        t.add_row(*[f"{fen_to_yuan(v):,}" if c in money else f"{v:,}" if isinstance(v, int) and c != "year"
                    else str(v) for c, v in zip(df.columns, row)])
    return t


def _label(codes: pd.Series, names: dict) -> pd.Series:
    return codes.map(lambda c: f"{c} {names.get(c, '')}".strip())


def run(out: Path, persons: int, year: int, seed: int, pack_name: str, console: Console) -> dict:
    """Synthesize the region into ``out``, load it into ``out/yibao.db`` and print the summary."""
    from yibao.registry.contributions import contributions_for_year, contributions_table, persons_behind
    from yibao.store.load import load_lake
    from yibao.store.repositories import Store
    from yibao.synth import generate
    from yibao.synth.cli import check_lake_folder, config_from_options
    from yibao.synth.history import generate_history

    cfg = config_from_options(persons=persons, year=year, seed=seed)
    check_lake_folder(out)
    pack = load_pack(pack_name)
    out.mkdir(parents=True, exist_ok=True)
    with _progress(console) as progress:
        summary = generate(cfg, out, progress=_bar(progress))
        history = generate_history(cfg, out / "history", range(year - HISTORY_YEARS, year), progress=_bar(progress))
    console.print(f"[bold]Synthesized[/] {summary.counts.get('persons', 0):,} persons and "
                  f"{summary.counts.get('claims', 0):,} claims into {out}, and the inpatient stays of "
                  f"{', '.join(f'{y} ({n:,})' for y, n in history.items())} into {out / 'history'} "
                  "to fit payment on")

    spells = lake_io.read_table(out, "enrollments").to_pandas()
    due = contributions_for_year(spells, lake_io.read_table(out, "identities").to_pandas(), pack, year)
    lake_io.write_table(out, "contributions", contributions_table(due))

    db = out / "yibao.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    with _progress(console) as progress:
        loaded = load_lake(out, url, progress=_bar(progress))
    console.print(f"[bold]Loaded[/] {sum(loaded.values()):,} rows into {db}")

    with Store(url).unit() as uow:
        tables = uow.summary(on=dt.date(year, 12, 31))
    tables = _split_institutions(tables, lake_io.read_table(out, "institutions").to_pandas(), cfg.region)
    _print_summary(tables, pack, console)
    console.print(persons_behind(due, spells, year).message)  # why the schemes' persons add up to more
    statements, settled = _settle(out, pack, console)
    maternity = _maternity(out, pack, console)
    paid = _pay(out, pack, console)
    fund = _fund(out, pack, statements, paid, console)
    supervised = _supervise(out, url, year, seed, console)
    return {"synth": summary, "loaded": loaded, "summary": tables, "settlement": settled, "fund": fund,
            "maternity": maternity, "payment": paid, "supervision": supervised}


def _pay(out: Path, pack, console: Console) -> dict:
    """Group and pay the year's inpatient cases (DRG, DIP), per-diem, capitation, budgets and clearing."""
    from yibao.payment.demo import panel_outcomes
    from yibao.payment.year import pay_year, print_results

    results = pay_year(out, pack.name, panel=panel_outcomes)
    console.rule("医保支付 paying institutions: DRG / DIP / budgets / clearing")
    print_results(results, console)
    return results


def _supervise(out: Path, url: str, year: int, seed: int, console: Console) -> dict:
    """基金监管 of the year: every claim through the rule library (hits by rule and severity), the
    institutions ranked against their peers with the reasons, and the 费用审核 re-check draw, kept in
    the store."""
    from yibao.supervision.anomaly.detector import DetectorParams, rank_entities
    from yibao.supervision.anomaly.features import entity_features
    from yibao.supervision.anomaly.lake import read_claims, read_lines
    from yibao.supervision.anomaly.report import ranking_table
    from yibao.supervision.cli import screen, severity_table, summary_table
    from yibao.supervision.regulator_cli import draw_sample, sample_table

    console.rule("基金监管 supervising the year: rules, peer ranking, re-check sample")
    book, hits = screen(out)
    console.print(summary_table(book, hits, top=10))
    console.print(severity_table(hits))
    ranked = rank_entities(entity_features(read_claims(out), read_lines(out), "institution", hits=hits),
                           DetectorParams(seed=seed))  # the rules' hits weigh in the ranking, as a regulator's do
    console.print(ranking_table(ranked, "institution", 5))
    no, drawn, quotas = draw_sample(out, set(hits["claim_id"]), seed, url, dt.date(year + 1, 1, 15), "demo screening")
    console.print(sample_table(no, seed, quotas))
    return {"hits": hits, "ranked": ranked, "sample": drawn}


def _settle(out: Path, pack, console: Console) -> tuple[pd.DataFrame, dict]:
    """Settle the year one-stop (every tier) and print fund totals and 政策范围内报销比例 by scheme."""
    from yibao.settlement import settle_lake
    from yibao.settlement.cli import print_summary

    rows, summary = settle_lake(out, pack)
    rows.to_parquet(out / "settlements.parquet", index=False)
    console.rule("一站式结算 one-stop settlement of the year")
    print_summary(summary, console)
    return rows, summary


def _fund(out: Path, pack, statements: pd.DataFrame, paid: dict, console: Console):
    """The fund's year from the settled claims and the institutions' payment (its clearing booked in
    December): accounts, the risk warning state and the plans' indicators."""
    from yibao.fund.cli import fund_year, print_year

    year = fund_year(out, pack, None, statements, clearing=True, payment=paid)
    console.rule("基金运行 the fund's year: accounts, warning, indicators")
    print_year(year, console)
    return year


def _maternity(out: Path, pack, console: Console) -> dict:
    """One line: the 生育津贴 of the year's births (职工 women's 生育住院), and what was left unpaid."""
    from yibao.settlement.allowance_cli import maternity_year, year_notes

    _, summary = maternity_year(out, pack)
    notes = "; ".join(year_notes(summary))
    console.print(f"[bold]生育津贴[/] maternity allowance: {summary['paid']:,} births paid, "
                  f"{summary['amount_fen'] / 100:,.2f} 元 for {summary['days']:,} days" + (f" ({notes})" if notes else ""),
                  highlight=False)
    return summary


def _split_institutions(tables: dict[str, pd.DataFrame], institutions: pd.DataFrame, region_key: str) -> dict:
    """The institutions table split in two: those in the pooling region, and those elsewhere — the
    hospitals where the region's people were treated out of the region (异地就医), which are not the
    region's to count, staff or pay."""
    from yibao.synth.data import region

    local = institutions["admdvs"].isin(region(region_key).districts)
    split = {}
    for name, rows in ((f"institutions in the region ({region(region_key).name})", institutions[local]),
                       ("institutions out of the region (异地, where its people were treated)", institutions[~local])):
        df = (rows.groupby(["kind", "level"]).agg(institutions=("fixmedins_code", "size"), beds=("beds", "sum"))
              .reset_index().sort_values(["kind", "level"], ascending=[True, False]))
        split[name] = df.astype({"institutions": "int64", "beds": "int64"})
    out = {}
    for name, df in tables.items():
        out.update(split if name == "institutions" else {name: df})
    return out


def _print_summary(tables: dict[str, pd.DataFrame], pack, console: Console) -> None:
    console.rule(f"{pack.title} — {pack.name}")
    for name, df in tables.items():
        df = df.copy()
        for col, names in (("insutype", vocab.INSUTYPES), ("psn_type", vocab.PSN_TYPES),
                           ("med_type", vocab.MED_TYPES), ("level", vocab.LEVELS)):
            if col in df.columns:
                df[col] = _label(df[col].astype(str), names)
        df = df.drop(columns=[c for c in df.columns if str(c).endswith("name")])  # codes are labelled below
        if "identity" in df.columns:
            df["identity"] = df["identity"].map(lambda k: f"{k} {vocab.IDENTITIES.get(k, ('',))[0]}")
        money = tuple(c for c in df.columns if str(c).endswith("_fen"))
        df = df.rename(columns={c: c[:-4] + " (元)" for c in money})
        console.print(frame_table(name, df, tuple(c[:-4] + " (元)" for c in money)))
