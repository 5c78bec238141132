"""``yibao drg …``: group a file of 结算清单 cases (CSV or Parquet, by suffix)."""

from __future__ import annotations

from pathlib import Path

import typer

from yibao.errors import PolicyError, ValidationError

drg_app = typer.Typer(help="CHS-DRG grouping (疾病诊断相关分组).", no_args_is_help=True)

_TEXT_COLUMNS = {"case_id": str, "dept": str, "discharge_way": str, "diagnoses": str, "procedures": str}


def read_cases(path: Path):
    """Cases from CSV (codes ``|``-separated, every column read as text) or Parquet."""
    import pandas as pd

    if not path.exists():
        raise ValidationError("--in", f"no such file: {path}")
    if path.suffix == ".parquet" or path.is_dir():
        return pd.read_parquet(path)
    if path.suffix in (".csv", ".gz", ".txt"):
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    raise ValidationError("--in", f"{path.name}: expected a .csv or .parquet file")


def write_groups(df, path: Path) -> None:
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif path.suffix in (".csv", ".gz"):
        df.to_csv(path, index=False)
    else:
        raise ValidationError("--out", f"{path.name}: expected a .csv or .parquet file")


@drg_app.command("group")
def group_cmd(
    input: Path = typer.Option(..., "--in", help="cases: case_id, sex, age, age_days, birth_weight_g, dept, "
                                                 "los_days, discharge_way, diagnoses, procedures"),
    output: Path = typer.Option(..., "--out", help="groups: case_id, mdc, adrg, drg, status, reason, cc_code"),
    version: str = typer.Option("chs-1.1", "--version", help="grouper version (a shipped name or a folder)"),
) -> None:
    """Group every case of a file; bad rows get status 0000 with the reason."""
    from yibao.payment.drg.batch import group_many

    try:
        cases = read_cases(input)
        groups = group_many(cases, version)
        write_groups(groups, output)
    except (ValidationError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    counts = groups["status"].value_counts().to_dict()
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    typer.echo(f"{len(groups)} cases grouped with {version} → {output} ({summary})")


@drg_app.command("versions")
def versions_cmd() -> None:
    """List the shipped grouper versions."""
    from yibao.payment.drg.versions import available_versions, load_version

    for name in available_versions():
        v = load_version(name)
        rules = "rules" if v.has_rules else "names only (rules not available)"
        typer.echo(f"{name}\t{v.meta.get('title', '')}\t{rules}")


def register(app: typer.Typer) -> None:
    app.add_typer(drg_app, name="drg")
