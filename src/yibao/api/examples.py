"""Valid ``input`` messages built from the spec tables, for tests and benchmarks of the interface.

Every field gets a value of its type that the field layer accepts (a dictionary's first code, a text cut
to the field's length, amounts in yuan text); fee lines get 单价 × 数量 = 总额 and distinct 流水号.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal

from yibao.api.fields import _Field, _Section, _spec, _transaction

PRICE, COUNT, LINE_TOTAL = "12.5", "2", "25.00"  # one fee line: 12.5 元 × 2 = 25.00 元


def example_input(infno: str, rows: int = 1) -> dict:
    """A valid ``input`` for a served transaction, each list section with ``rows`` records."""
    transaction = _transaction(infno)
    return {s.node: _rows(s, rows) if s.kind == "list" else _record(s, 0) for s in transaction.input}


def example_envelope(infno: str, rows: int = 1) -> dict:
    """A whole request message (表2 header and ``input``) for a served transaction."""
    header = _record(_spec()[1], 0)
    header.update(infno=infno, msgid="H43028100255" + "20240301100000" + "0001", inf_time="2024-03-01 10:00:00")
    return {**header, "input": example_input(infno, rows)}


def _rows(owner: _Field | _Section, count: int) -> list[dict]:
    return [_record(owner, i) for i in range(count)]


def _record(owner: _Field | _Section, row: int) -> dict:
    return {f.code: _value(f, row) for f in owner.fields}


def _value(f: _Field, row: int) -> object:
    if f.fields:
        return _rows(f, 1)
    if f.key == "feedetl_sn":
        return str(row + 1)
    fee_line = {"pric": PRICE, "cnt": COUNT, "det_item_fee_sumamt": LINE_TOTAL}
    if f.key in fee_line:
        return fee_line[f.key]
    return _by_type(f)


def _by_type(f: _Field) -> object:
    if f.type == "string":
        return min(f.dict) if f.dict else f.key[: f.length or None]
    return {
        "text": "", "amount": "100.00", "decimal": "1", "integer": "1", "date": "2024-03-01",
        "datetime": "2024-03-01 10:00:00", "bytes": base64.b64encode(b"yibao").decode("ascii"),
        "map": {"o_prdDays": "7"}, "list": ["R01"],
    }[f.type]


def example_output(infno: str, rows: int = 1) -> dict:
    """Handler values for a served transaction's output, typed as a handler gives them (amounts in fen,
    ``Decimal`` ratios, ``date`` / ``datetime``), for :func:`yibao.api.render_output`."""
    sections = _transaction(infno).output
    if sections and not sections[0].node:  # 9101: the fields sit at the root of output
        return _typed_record(sections[0])
    return {s.node: [_typed_record(s) for _ in range(rows)] if s.kind == "list" else _typed_record(s)
            for s in sections}


def _typed_record(owner: _Field | _Section) -> dict:
    return {f.key: [_typed_record(f)] if f.fields else _typed(f) for f in owner.fields}


def _typed(f: _Field) -> object:
    if f.type == "string":
        return _by_type(f)
    return {
        "text": "", "amount": 10000, "decimal": Decimal("0.5"), "integer": 1, "date": date(2024, 3, 1),
        "datetime": datetime(2024, 3, 1, 10, 0), "bytes": b"yibao", "map": {"o_prdDays": "7"}, "list": ["R01"],
    }[f.type]
