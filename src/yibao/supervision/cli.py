"""``yibao supervise run``: every rule over a lake's year, hits to Parquet, a table of hits by rule."""

from __future__ import annotations

from pathlib import Path

import typer

supervise_app = typer.Typer(help="Fund supervision (基金监管): run the rule library over a lake.", no_args_is_help=True)


@supervise_app.command("run")
def run(
    lake: Path = typer.Option(..., "--lake", help="Lake folder (claims, claim_lines, persons, institutions, catalog)."),
    out: Path = typer.Option(..., "--out", help="Hits file (.parquet or .csv); amounts in fen."),
    rules: Path = typer.Option(None, "--rules", help="Folder of rule files (default: the shipped library)."),
    backend: str = typer.Option("duckdb", help="Batch backend: duckdb or spark."),
) -> None:
    """Screen a year of claims (事后): one row per hit, printed by rule with the money at stake."""
    from yibao.console import new_console
    from yibao.lake.io import check_out, write_rows

    check_out(out)
    book, frame = screen(lake, rules, backend)
    write_rows(frame, out)
    new_console().print(summary_table(book, frame))


def screen(lake: Path, rules: Path | None = None, backend: str = "duckdb"):
    """(the rule book, its hits over the lake's year as a frame, one row per hit)."""
    from yibao.payment.backends import get_backend
    from yibao.supervision.engine import RuleBook, hits_frame
    from yibao.supervision.lake import bind_lake, lake_catalog
    from yibao.supervision.rules import load_rules

    book = RuleBook(load_rules(rules), lake_catalog(lake))
    bound = get_backend(backend)
    if bound.name == "pyspark":  # fewer, wider Spark jobs (yibao.scale.rules)
        from yibao.scale.rules import spark_hits

        return book, hits_frame(spark_hits(book, bound, lake))
    return book, hits_frame(book.run(bind_lake(bound, lake)))


def summary_table(book, frame, top: int | None = None):
    """Hits, claims and money at stake (yuan) per rule: every rule listed (a rule without hits shows 0),
    or with ``top`` the rules that hit, the most money first."""
    from rich.table import Table

    from yibao.money import show_yuan

    table = Table(title=f"supervision hits: {len(frame):,} on {frame['claim_id'].nunique():,} claims")
    for col in ("rule", "name", "sev", "hits", "claims", "at stake (yuan)"):
        table.add_column(col, justify="right" if col in ("sev", "hits", "claims", "at stake (yuan)") else "left")
    by = frame.groupby("rule_id").agg(hits=("claim_id", "size"), claims=("claim_id", "nunique"), fen=("vola_amt", "sum"))
    rules = book.compiled
    if top is not None:
        rules = sorted((c for c in rules if c.rule.id in by.index), key=lambda c: -int(by.loc[c.rule.id, "fen"]))[:top]
    for c in rules:
        r = by.loc[c.rule.id] if c.rule.id in by.index else None
        hits, claims, fen = (0, 0, 0) if r is None else (int(r["hits"]), int(r["claims"]), int(r["fen"]))
        table.add_row(c.rule.id, c.rule.name, str(c.rule.sev_deg), f"{hits:,}", f"{claims:,}", show_yuan(fen))
    table.add_row("total", "", "", f"{len(frame):,}", f"{frame['claim_id'].nunique():,}",
                  show_yuan(int(frame['vola_amt'].sum())))
    return table


def severity_table(frame):
    """Hits, claims and money at stake (yuan) by severity (sev_deg 1 明确违规 / 2 高度可疑 / 3 轻度可疑)."""
    from rich.table import Table

    from yibao.money import show_yuan

    names = {1: "明确违规", 2: "高度可疑", 3: "轻度可疑"}
    table = Table(title="hits by severity")
    for col in ("sev", "meaning", "hits", "claims", "at stake (yuan)"):
        table.add_column(col, justify="left" if col == "meaning" else "right")
    for sev in (1, 2, 3):
        part = frame[frame["sev_deg"] == sev]
        table.add_row(str(sev), names[sev], f"{len(part):,}", f"{part['claim_id'].nunique():,}",
                      show_yuan(int(part['vola_amt'].sum())))
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(supervise_app, name="supervise")


@supervise_app.command("rank")
def rank(
    lake: Path = typer.Option(..., "--lake", help="Lake folder (claims, claim_lines, persons, institutions)."),
    level: str = typer.Option("institution", "--level", help="institution, dept or doctor."),
    top: int = typer.Option(10, "--top", min=1, help="Rows of the ranking to print."),
    out: Path = typer.Option(None, "--out", help="The whole ranking (.parquet or .csv), features, z and shares."),
    method: str = typer.Option("robust", "--method", help="Score: robust (z length) or isolation (IsolationForest)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the IsolationForest and of the ring communities."),
    rings: bool = typer.Option(True, "--rings/--no-rings", help="Also find and print ring (团伙) candidates."),
    hits: Path = typer.Option(None, "--hits", help="The rules' hits (yibao supervise run --out): the share of "
                              "claims they flag is judged beside the profile."),
) -> None:
    """Rank institutions, departments or doctors against their peers (异常检测).

    With the reasons in Chinese, and the ring candidates (团伙) with members and evidence."""
    from yibao.console import new_console
    from yibao.lake.io import check_out, write_rows
    from yibao.supervision.anomaly.detector import DetectorParams, rank_entities
    from yibao.supervision.anomaly.features import check_level, entity_features
    from yibao.supervision.anomaly.lake import read_claims, read_hits, read_lines
    from yibao.supervision.anomaly.report import ranking_table, rings_table
    from yibao.supervision.anomaly.rings import RingParams, find_rings

    check_level(level)
    params = DetectorParams(method=method, seed=seed)
    if out is not None:
        check_out(out)
    flagged = None if hits is None else read_hits(hits)
    claims = read_claims(lake)
    ranked = rank_entities(entity_features(claims, read_lines(lake), level, hits=flagged), params)
    if out is not None:
        write_rows(ranked, out)
    console = new_console()
    console.print(ranking_table(ranked, level, top))
    if rings:
        console.print(rings_table(find_rings(claims, RingParams(seed=seed))))
