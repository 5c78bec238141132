"""``yibao synth``: build a synthetic region into a lake folder, with progress and a calibration table."""

from __future__ import annotations

from pathlib import Path

import typer
from yibao.console import new_console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yibao.errors import ValidationError
from yibao.money import format_yuan


def synth(
    out: Path = typer.Option(..., "--out", help="Lake folder to write (tables are replaced)."),
    persons: int = typer.Option(20_000, "--persons", help="Number of persons."),
    year: int = typer.Option(2024, "--year", help="Calendar year of the claims."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same files."),
    region: str = typer.Option("zibo", "--region", help="Region in synth/data/regions.yaml (zibo, shenyang)."),
    share_60_plus: float = typer.Option(None, "--share-60-plus", help="Share of persons aged 60+ (default 0.23)."),
    active_retired_ratio: float = typer.Option(None, "--active-retired-ratio", help="职工 在职:退休 (default 2.63; 沈阳 1.47)."),
    institution_scale: float = typer.Option(1.0, "--institution-scale", help="Institutions per inhabitant × this "
                                            "(a small population with a city's spread of providers)."),
    no_lines: bool = typer.Option(False, "--no-lines", help="Skip itemised claim lines."),
    history_years: int = typer.Option(0, "--history-years", help="Also write the inpatient stays of this many "
                                      "years before --year into OUT/history/<year> (to fit payment on)."),
) -> None:
    """Generate a synthetic region (合成统筹区): persons, enrolment, institutions, a year of claims."""
    from yibao.synth import generate

    console = new_console()
    kwargs = {"persons": persons, "year": year, "seed": seed, "region": region, "with_lines": not no_lines,
              "institution_scale": institution_scale}
    if share_60_plus is not None:
        kwargs["share_60_plus"] = share_60_plus
    if active_retired_ratio is not None:
        kwargs["active_retired_ratio"] = active_retired_ratio
    cfg = config_from_options(**kwargs)
    check_history_years(history_years, year)
    check_lake_folder(out)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        summary = generate(cfg, out, progress=progress)
        if history_years > 0:
            from yibao.synth.history import generate_history

            history = generate_history(cfg, out / "history", range(year - history_years, year), progress=progress)
    counts = Table(title=f"{out} ({summary.seconds:.1f} s)")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for name, n in summary.counts.items():
        counts.add_row(name, f"{n:,}")
    console.print(counts)
    console.print(f"医疗费总额 {format_yuan(summary.totals['medfee_sumamt_fen'])} yuan; fraud labels: {summary.fraud}")
    console.print(calibration_table(summary.calibration))
    if history_years > 0:
        console.print("history (inpatient stays): " + ", ".join(f"{y} {n:,}" for y, n in history.items()))


def config_from_options(**options) -> "SynthConfig":
    """A ``SynthConfig`` from command-line options; a bad value is reported under its option's name
    (``--persons``), as the user typed it."""
    from yibao.synth import SynthConfig

    try:
        return SynthConfig(**options)
    except ValidationError as e:
        name = e.field.split(".")[0]
        if name not in options:
            raise
        raise ValidationError("--" + e.field.replace("_", "-"), e.problem, e.record) from None


def check_lake_folder(out: Path) -> None:
    """The lake is written into a folder: an existing file there is refused before anything is written."""
    if out.exists() and not out.is_dir():
        raise ValidationError("--out", f"{out} is an existing file, not a folder for the lake")


def check_history_years(history_years: int, year: int) -> None:
    if not 0 <= history_years <= year - 1990:
        raise ValidationError("--history-years", f"{history_years!r} is not a number of years from 0 to "
                              f"{year - 1990} (history starts in 1990 at the earliest)")


def calibration_table(rows: list[dict]) -> Table:
    t = Table(title="calibration")
    for col in ("metric", "target", "generated", "ratio"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for r in rows:
        t.add_row(r["metric"], f"{r['target']:.4g}", f"{r['generated']:.4g}", f"{r['ratio']:.2f}")
    return t


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
