"""Shared pieces of the payment engines: fixed-point scales, result fetching and input checks.

Money follows the pack's rounding (``pack.rounding``, :class:`yibao.money.Rounding`): every amount
paid, budgeted or shared (DRG payment and base rate, DIP value and fund share, per-diem and
fee-for-service fund shares, capitation, budgets, advances, clearing shares, review by project) is
rounded to the fen by it. Statistics and scales — weights, scores, points, coefficients, point
values, group means and outlier thresholds — are rounded half up whatever the pack says: they are
measures, not money.

Weights, scores, points and coefficients are scaled integers so every backend computes the same
fen: a relative weight 1.2345 is ``12345`` (``W = 10_000``), a DIP score or point count 1234.56 is
``123456`` (``P = 100``), a coefficient 1.05 is ``10500`` (``C = 10_000``) and a point value of
12.3456 fen per point is ``123456`` (``V = 10_000``). Fitted look-up tables (weights, catalogs) are
small; they are computed exactly in Python from backend aggregates and joined back lazily.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from yibao.errors import ValidationError
from yibao.payment.backends import _quiet, require_columns

W = 10_000  # relative weight scale (DRG RW to 4 decimals)
P = 100  # DIP score / points scale (分值 to 2 decimals)
C = 10_000  # coefficient scale (4 decimals)
V = 10_000  # point value scale (fen per point to 4 decimals)
PPM = 1_000_000


def scaled(value: Decimal | int, scale: int) -> int:
    """An exact decimal (a pack rate) as a scaled integer, rounded half up."""
    return int((Decimal(value) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fetch(expr: ir.Table) -> pa.Table:
    """Execute a (small) result on the backend its inputs are bound to."""
    with _quiet("any"):
        return ibis.get_backend(expr).to_pyarrow(expr)


def cached(expr: ir.Table) -> ir.Table:
    """Materialise ``expr`` on its backend (a temp table in DuckDB, a persisted frame in Spark) so
    that several later queries do not recompute it; released when garbage collected."""
    with _quiet("any"):
        try:
            return expr.cache()
        except Exception:  # noqa: BLE001 - caching only saves time; Spark cannot cache over an unregistered memtable
            return expr


def check_cases(
    cases: ir.Table,
    columns: dict[str, str],
    what: str,
    institutions: ir.Table | None = None,
    money: tuple[str, ...] = ("cost_fen",),
) -> None:
    """Refuse input the engines would mis-pay: missing columns, negative or missing money, cases at
    institutions that are not designated. The error names the table, the first offending record
    and the field."""
    require_columns(cases, columns, what)
    label = cases.year_label if "year_label" in cases.columns else ibis.literal(what)
    checks = []
    for col in money:  # one query for every check: each backend round trip is costly on Spark
        bad = cases.filter(cases[col].isnull() | (cases[col] < 0))
        checks.append(bad.select(where=label, case_id=bad.case_id.cast("string"), field=ibis.literal(col),
                                 value=bad[col].cast("string")).limit(1))
    if institutions is not None:
        require_columns(institutions, {"fixmedins_code": "str"}, "institutions")
        unknown = cases.anti_join(institutions.select("fixmedins_code").distinct(), "fixmedins_code")
        checks.append(unknown.select(where=label, case_id=unknown.case_id.cast("string"),
                                     field=ibis.literal("fixmedins_code"), value=unknown.fixmedins_code).limit(1))
    rows = fetch(ibis.union(*checks) if len(checks) > 1 else checks[0]).to_pylist() if checks else []
    if rows:
        r = rows[0]
        problem = (f"unknown institution {r['value']!r} (not among the designated institutions)"
                   if r["field"] == "fixmedins_code" else f"negative or missing amount {r['value']}")
        raise ValidationError(r["field"], problem, record=f"{r['where']} case {r['case_id']}")
