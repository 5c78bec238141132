"""``yibao settle``: settle one claim (statement and trace) or many (one row per claim)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.table import Table

from yibao.console import new_console
from yibao.money import fen_to_yuan, format_yuan
from yibao.settlement.model import SETLINFO_FIELDS, Statement

if TYPE_CHECKING:  # pandas is imported by the commands that read or write a table, not by --help
    import pandas as pd

AMOUNT_NOTE = "Amounts in the output file are integer fen (分; 100 fen = 1 yuan); pool_prop_selfpay is a rate in ppm."


def print_statement(s: Statement, console: Console) -> None:
    from yibao.settlement.statement import FIELD_NAMES

    t = Table(title=f"结算单 claim {s.claim_id} · insutype {s.insutype} · psn_type {s.psn_type} · med_type {s.med_type}")
    t.add_column("field")
    t.add_column("名称")
    t.add_column("yuan", justify="right")
    for k in SETLINFO_FIELDS:
        v = s.setlinfo[k]
        t.add_row(k, FIELD_NAMES[k][0], f"{v / 10_000:.2f}%" if k == "pool_prop_selfpay" else format_yuan(v))
    console.print(t)
    d = Table(title="setldetail 基金分项")
    for col in ("fund_pay_type", "名称", "fund_payamt", "crt_payb_lmt_amt"):
        d.add_column(col)
    for row in s.setldetail:
        limit = "不封顶 no cap" if row.crt_payb_lmt_amt is None else format_yuan(row.crt_payb_lmt_amt)
        d.add_row(row.fund_pay_type, row.fund_pay_type_name, format_yuan(row.fund_payamt), limit)
    console.print(d)
    tr = Table(title="trace 计算依据")
    for col in ("field", "value", "unit", "说明 / explanation", "parameter", "ref"):
        tr.add_column(col, overflow="fold")
    for e in s.trace:
        tr.add_row(e.field, e.shown(), "yuan" if e.unit == "fen" else e.unit, f"{e.zh}\n{e.en}", e.parameter, e.ref)
    console.print(tr)
    for w in s.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    if s.accumulators:
        console.print("accumulators after (fen): " + ", ".join(f"{k}={v}" for k, v in sorted(s.accumulators.items())))


def _write(frame: pd.DataFrame, out: Path, option: str = "--out") -> None:
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    elif out.suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        raise typer.BadParameter(f"{out}: use a .parquet or .csv file name", param_hint=option)


def _read_opening(path: Path) -> pd.DataFrame:
    """Opening accumulators: psn_no, year, key, amount_fen (csv or parquet)."""
    import pandas as pd

    from yibao.errors import ValidationError

    if not path.exists():
        raise ValidationError("opening", "no such file", str(path))
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"psn_no": str, "key": str})
    raise ValidationError("opening", "use a .csv or .parquet file", str(path))


def load_catalog_option(path: Optional[Path]):
    """The catalog lines are scoped by: a region's own (``--catalog``: csv or parquet with the lake
    ``catalog`` columns, validated), else the shipped 医保目录."""
    from yibao.catalog.items import Catalog

    return Catalog.read(path) if path is not None else Catalog.shipped()


def settle_json_claims(path: Path, pack: str, catalog=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One person's claims in date order, settled one by one, each with the accumulators left by the
    last; returns (one row per claim, the accumulators after each person-year)."""
    import pandas as pd

    from yibao.settlement.claims_json import read_claims
    from yibao.settlement.realtime import settle

    rows, acc, balance, family, year = [], None, None, None, None
    after: dict[tuple[str, int], dict[str, int]] = {}
    for c in read_claims(path):
        if acc is not None:
            c.person.accumulators = {**c.person.accumulators, **acc} if c.dscg_date.year == year else c.person.accumulators
            c.person.account_balance, c.person.family_account_balance = balance, family
        s = settle(c, pack, catalog)
        acc, balance, year = s.accumulators, s["balc"], c.dscg_date.year
        family = c.person.family_account_balance - s["acct_mulaid_pay"]
        after[(c.person.psn_no, year)] = s.accumulators
        rows.append({"claim_id": c.claim_id, "psn_no": c.person.psn_no, "insutype": c.person.insutype,
                     "psn_type": c.person.psn_type, "med_type": c.med_type, "level": c.institution.level,
                     "dscg_date": c.dscg_date, **s.setlinfo})
    closing = pd.DataFrame([{"psn_no": p, "year": y, "key": k, "amount_fen": v}
                            for (p, y), a in after.items() for k, v in sorted(a.items()) if v],
                           columns=["psn_no", "year", "key", "amount_fen"])
    return pd.DataFrame(rows), closing


def register(app: typer.Typer) -> None:
    @app.command("settle")
    def settle_cmd(
        pack: str = typer.Option("demo", "--pack", help="Policy pack name or folder (the person's home pack)."),
        claim: Optional[Path] = typer.Option(None, "--claim", help="One claim as JSON: print its statement and trace."),
        claims: Optional[Path] = typer.Option(None, "--claims", help="A JSON file of one person's claims in date order, "
                                              "or a synthetic region folder or its claims file."),
        out: Optional[Path] = typer.Option(None, "--out", help="Output .parquet or .csv, one row per claim with the "
                                           "setlinfo fields. " + AMOUNT_NOTE),
        fhir: bool = typer.Option(False, "--fhir", help="With --claim: print the FHIR ExplanationOfBenefit JSON instead."),
        opening: Optional[Path] = typer.Option(None, "--opening", help="With a region: accumulators the year starts "
                                               "from (.csv/.parquet: psn_no, year, key, amount_fen), e.g. a "
                                               "previous run's --accumulators-out."),
        accumulators_out: Optional[Path] = typer.Option(None, "--accumulators-out", help="Write each person-year's "
                                                        "accumulators after the claims (.csv/.parquet, fen)."),
        catalog: Optional[Path] = typer.Option(None, "--catalog", help="The 医保目录 of the place of treatment "
                                               "(.csv/.parquet with the lake catalog columns); default: the "
                                               "shipped one, or a region folder's own catalog."),
    ) -> None:
        """Settle claims (一站式结算): basic pooling, 大病/大额, 救助, supplementary tiers, account, cash."""
        console = new_console()
        _check_options(claim, claims, fhir, opening, accumulators_out, out)
        if claim is not None:
            print_claim(claim, pack, load_catalog_option(catalog), fhir, console)
            return
        if claims.suffix == ".json":
            frame, closing = settle_json_claims(claims, pack, load_catalog_option(catalog))
            summary = None
        else:
            folder = claims if claims.is_dir() and not (claims.name == "claims") else claims.parent
            from yibao.settlement.memory import lake_files

            files = lake_files(folder)  # the first part is read while the engine is imported
            from yibao.catalog.items import Catalog
            from yibao.settlement.batch import settle_lake

            stream = out if out is not None and out.suffix == ".parquet" else None  # written part by part
            frame, summary = settle_lake(folder, pack, Catalog.read(catalog) if catalog else None,
                                         opening=_read_opening(opening) if opening else None,
                                         closing=accumulators_out is not None, out=stream, files=files)
            closing = summary.pop("accumulators", None)
        if accumulators_out is not None:
            _write(closing, accumulators_out, "--accumulators-out")
            console.print(f"wrote {len(closing)} accumulators (fen) to {accumulators_out}")
        if out is not None:
            if frame is not None:
                _write(frame, out)
            count = len(frame) if frame is not None else summary["claims"]
            console.print(f"wrote {count} settled claims to {out} ({AMOUNT_NOTE})")
        else:
            console.print(frame.head(20).to_string())
        if summary:
            print_summary(summary, console)


def _check_options(claim, claims, fhir, opening, accumulators_out, out) -> None:
    """Options that go together, and those that do not."""
    if claim is None and claims is None:
        raise typer.BadParameter("give --claim FILE or --claims PATH", param_hint="--claim")
    if claim is not None and claims is not None:
        raise typer.BadParameter("give either --claim (one claim) or --claims (a year), not both", param_hint="--claim")
    if claim is not None:
        for given, name in ((opening, "--opening"), (accumulators_out, "--accumulators-out"), (out, "--out")):
            if given is not None:
                raise typer.BadParameter(f"{name} goes with --claims; --claim prints one statement", param_hint=name)
    for given, name in ((out, "--out"), (accumulators_out, "--accumulators-out")):
        if given is not None and given.suffix not in (".parquet", ".csv"):
            raise typer.BadParameter(f"{given}: use a .parquet or .csv file name", param_hint=name)
    if fhir and claim is None:
        raise typer.BadParameter("--fhir prints one claim's ExplanationOfBenefit: use it with --claim", param_hint="--fhir")
    if claims is not None and claims.suffix == ".json" and opening is not None:
        raise typer.BadParameter("a JSON person carries its own accumulators", param_hint="--opening")


def print_claim(path: Path, pack: str, catalog, fhir: bool, console: Console) -> None:
    """``--claim``: one claim's statement and trace, or its FHIR ExplanationOfBenefit."""
    from yibao.settlement.claims_json import read_claims
    from yibao.settlement.realtime import settle
    from yibao.settlement.statement import to_fhir

    found = read_claims(path)
    if len(found) != 1:
        raise typer.BadParameter(f"{path} holds {len(found)} claims: --claim settles one; use --claims for a "
                                 "person's year", param_hint="--claim")
    s = settle(found[0], pack, catalog)
    if fhir:
        typer.echo(to_fhir(s).model_dump_json(indent=2))
    else:
        print_statement(s, console)


FUND_ROWS = (
    ("medfee_sumamt", "医疗费总额 total bill"),
    ("hifp_pay", "统筹基金 basic pooling"),
    ("hifob_pay", "职工大额 employee large-amount"),
    ("hifmi_pay", "居民大病 resident critical illness"),
    ("cvlserv_pay", "公务员补助 civil-servant subsidy"),
    ("hifes_pay", "企业补充 enterprise supplementary"),
    ("maf_pay", "医疗救助 medical assistance"),
    ("oth_pay", "其他 other funds"),
    ("acct_pay", "个人账户 personal account"),
    ("psn_cash_pay", "现金 cash"),
    ("hosp_part_amt", "医院负担 borne by hospitals"),
)


def print_summary(summary: dict, console: Console) -> None:
    """Fund totals by scheme (rows: funds, columns: insutype) and the 政策范围内报销比例 KPI."""
    groups = summary["by_insutype"]
    t = Table(title=f"fund totals (yuan) and 政策范围内报销比例 · {summary['claims']:,} claims", title_justify="left")
    t.add_column("")
    for ins in groups:
        t.add_column(ins, justify="right")
    for key, label in FUND_ROWS:
        t.add_row(label, *[f"{fen_to_yuan(g['totals_fen'][key]):,}" for g in groups.values()])
    for key, label in (("inscope_ratio", "政策范围内报销比例 in-scope ratio"),
                       ("inscope_ratio_inpatient", "… 住院 inpatient")):
        t.add_row(label, *[f"{g[key]:.1%}" if g[key] is not None else "-" for g in groups.values()])
    console.print(t)
    if summary.get("note"):
        console.print(summary["note"])


__all__ = ["register", "print_statement", "print_summary", "settle_json_claims"]
