"""``yibao drg …``: group a file of 结算清单 cases (CSV or Parquet, by suffix)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import typer

from yibao.errors import ValidationError

drg_app = typer.Typer(help="CHS-DRG grouping (疾病诊断相关分组).", no_args_is_help=True)

CSV_SUFFIXES = (".csv", ".txt", ".gz")  # .gz: a gzip-compressed CSV (cases.csv.gz)
CSV_BLOCK_BYTES = 16 << 20  # the CSV reader's block: a file larger than this arrives in several chunks
_SNIFF_BYTES = 64 << 10


def read_cases(path: Path):
    """Cases from CSV (UTF-8, codes ``|``-separated, every column read as text) or Parquet, of any size."""
    if not path.exists():
        raise ValidationError("--in", f"no such file: {path}")
    if path.suffix == ".parquet" or path.is_dir():
        return _read_parquet(path)
    if path.suffix in CSV_SUFFIXES:
        return _read_csv(path)
    raise ValidationError("--in", f"{path.name}: expected a .csv or .parquet file")


def _read_parquet(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ValidationError("--in", f"not a readable Parquet file ({exc})", str(path)) from None
    _require_columns(table.column_names, path)
    return table.to_pandas()


def _read_csv(path: Path):
    """The CSV as a DataFrame, read by Arrow in blocks of :data:`CSV_BLOCK_BYTES` (so its columns may
    come in several chunks); a file that is not UTF-8 CSV text is refused naming its line and column."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    header = _csv_header(path)
    _require_columns(header, path)
    options = pcsv.ConvertOptions(column_types={name: pa.string() for name in header},
                                  strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                              convert_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _csv_problem(path, header) or ValidationError("--in", f"not readable as CSV ({exc})",
                                                            str(path)) from None
    return table.to_pandas()


def _csv_header(path: Path) -> list[str]:
    """The header row's column names, after checking the file's start looks like UTF-8 text."""
    try:
        with _open(path) as f:
            head = f.read(_SNIFF_BYTES)
    except (OSError, EOFError) as exc:  # a .gz that is not gzip, or cut short
        raise ValidationError("--in", f"cannot read ({exc})", str(path)) from None
    if not head.strip():
        raise ValidationError("--in", "the file is empty (a CSV needs a header row and one row per case)",
                              str(path))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError("--in", "the file is UTF-16 text; save it as UTF-8 CSV", str(path))
    if b"\x00" in head:
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        raise ValidationError("--in", f"line {line}: a NUL byte — a binary file, not CSV text", str(path))
    first = head.split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("--in", f"line 1 (the header): not UTF-8 text at byte {exc.start}; save the "
                                      "file as UTF-8", str(path)) from None
    return next(csv.reader([text.rstrip("\r")]))


def _open(path: Path):
    import gzip

    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _require_columns(columns, path: Path) -> None:
    from yibao.payment.drg.batch import REQUIRED_COLUMNS

    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationError(missing[0], f"column missing (needs {', '.join(REQUIRED_COLUMNS)}; the file has "
                                          f"{', '.join(columns) or 'none'})", str(path))


def _csv_problem(path: Path, header: list[str]) -> ValidationError | None:
    """The first line that is not UTF-8 or has a different number of fields than the header."""
    with _open(path) as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                column = header[min(raw[: exc.start].count(b","), len(header) - 1)]
                return ValidationError(column, f"not UTF-8 text (byte {exc.start} of the line); save the file "
                                               "as UTF-8", f"{path} line {n}")
            fields = next(csv.reader(io.StringIO(line)), [])
            if fields and len(fields) != len(header) and '"' not in line:
                return ValidationError("--in", f"{len(fields)} fields, the header has {len(header)}",
                                       f"{path} line {n}")
    return None


def check_output(path: Path) -> None:
    """Refuse an output path that cannot be written before any grouping is done."""
    if path.suffix not in (*CSV_SUFFIXES, ".parquet"):
        raise ValidationError("--out", f"{path.name}: expected a .csv or .parquet file")
    if not path.parent.is_dir():
        raise ValidationError("--out", f"folder {path.parent} does not exist", str(path))
    if path.is_dir():
        raise ValidationError("--out", "is a folder, not a file", str(path))


def write_groups(df, path: Path) -> None:
    try:
        if path.suffix == ".parquet":
            df.to_parquet(path, index=False)
        else:
            df.to_csv(path, index=False)
    except OSError as exc:
        raise ValidationError("--out", f"cannot write ({exc.strerror or exc})", str(path)) from None


@drg_app.command("group")
def group_cmd(
    input: Path = typer.Option(..., "--in", help="cases: case_id, sex, age, age_days, birth_weight_g, dept, "
                                                 "los_days, discharge_way, diagnoses, procedures"),
    output: Path = typer.Option(..., "--out", help="groups: case_id, mdc, adrg, drg, status, reason, cc_code"),
    version: str = typer.Option("chs-1.1", "--version", help="grouper version (a shipped name or a folder)"),
) -> None:
    """Group every case of a file; bad rows get status 0000 with the reason."""
    from yibao.payment.drg.batch import group_many

    check_output(output)
    groups = group_many(read_cases(input), version)
    write_groups(groups, output)
    counts = groups["status"].value_counts().to_dict()
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no cases"
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
