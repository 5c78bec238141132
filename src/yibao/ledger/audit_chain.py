"""A tamper-evident audit log: every accepted message is a row of an SM3 hash chain.

A row is ``(seq, prev_hash, hash, record_json)``: ``seq`` counts from 1, ``prev_hash`` is the previous row's
``hash`` (:data:`GENESIS_HASH` for the first), and ``hash = SM3(prev_hash ‖ canonical_json(record))`` as 64
lowercase hex digits, where ``prev_hash`` enters as its 64 ASCII hex characters and the canonical JSON is
sorted keys, no spaces, UTF-8 (non-ASCII kept as is), NaN and infinities refused. ``record_json`` is
re-canonicalised before hashing, so a store that reformats JSON (PostgreSQL's ``jsonb``) still verifies.

The chain shows any change made without recomputing every later hash. A rewrite of the whole tail, or a
cut of the last rows, shows only against a head ``(seq, hash)`` kept elsewhere (a daily report, another
system): pass it as ``head`` to :func:`verify_chain`.

:func:`verify_chain` reads the rows once, in order, holding two rows at a time, so millions verify in
constant memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from yibao.api.sm3 import sm3_hex
from yibao.errors import ValidationError

GENESIS_HASH = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}")


class ChainRow(NamedTuple):
    seq: int
    prev_hash: str
    hash: str
    record_json: str


@dataclass(frozen=True)
class ChainReport:
    """``ok``, the rows read and the last good ``(seq, hash)``; if broken, the first broken ``seq``, the kind
    of tampering (edited, deleted, inserted, reordered, rehashed, truncated) and why."""

    ok: bool
    rows_checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    kind: str | None = None
    reason: str | None = None


def canonical_json(record: dict) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes of ``record`` that its hash covers."""
    try:
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as bad:
        raise ValidationError("record", f"not canonical JSON: {bad}") from None


def record_hash(prev_hash: str, record: dict) -> str:
    """SM3 over ``prev_hash`` (64 hex ASCII) followed by the canonical JSON of ``record``."""
    return _hash(prev_hash, canonical_json(record))


def _hash(prev_hash: str, canonical: bytes) -> str:
    if not isinstance(prev_hash, str) or not _HEX64.fullmatch(prev_hash):
        raise ValidationError("prev_hash", f"{prev_hash!r} is not 64 lowercase hex digits")
    return sm3_hex(prev_hash.encode("ascii") + canonical)


def chain_row(seq: int, prev_hash: str, record: dict) -> ChainRow:
    """The row that appends ``record`` after a row whose hash is ``prev_hash``."""
    canonical = canonical_json(record)
    return ChainRow(seq, prev_hash, _hash(prev_hash, canonical), canonical.decode("utf-8"))


def chain_rows(records: Iterable[dict], start_seq: int = 1, start_hash: str = GENESIS_HASH) -> Iterator[ChainRow]:
    """Rows for ``records`` in order, the first after ``(start_seq - 1, start_hash)``."""
    prev = start_hash
    for seq, record in enumerate(records, start_seq):
        row = chain_row(seq, prev, record)
        prev = row.hash
        yield row


class _Broken(Exception):
    def __init__(self, seq: int, kind: str, reason: str):
        self.seq, self.kind, self.reason = seq, kind, reason


def verify_chain(rows: Iterable[tuple[int, str, str, str]], start_seq: int = 1, start_hash: str = GENESIS_HASH,
                 head: tuple[int, str] | None = None) -> ChainReport:
    """Check rows ``(seq, prev_hash, hash, record_json)`` in the order read; the first break, explained.

    ``start_seq``/``start_hash`` verify a segment after a checkpoint; ``head`` is an anchor kept elsewhere.
    """
    checked, last_seq, last_hash, before_hash = 0, start_seq - 1, start_hash, None
    rows = iter(rows)
    row, upcoming = next(rows, None), next(rows, None)
    try:
        while row is not None:
            seq, prev_hash, stored_hash, record_json = _shape(row, last_seq + 1)
            _check_seq(seq, last_seq + 1, upcoming)
            _check_link(seq, prev_hash, last_hash, before_hash, upcoming)
            _check_hash(seq, prev_hash, stored_hash, record_json)
            _check_anchor(head, seq, stored_hash)
            checked, last_seq, before_hash, last_hash = checked + 1, seq, last_hash, stored_hash
            row, upcoming = upcoming, next(rows, None)
        if head is not None and last_seq < head[0]:
            raise _Broken(last_seq + 1, "truncated", f"the chain ends at seq {last_seq}; the anchor is seq {head[0]}")
    except _Broken as broken:
        return ChainReport(False, checked, last_seq, last_hash, broken.seq, broken.kind, broken.reason)
    return ChainReport(True, checked, last_seq, last_hash)


def _shape(row: object, expected_seq: int) -> tuple[int, str, str, str]:
    try:
        seq, prev_hash, stored_hash, record_json = row
    except (TypeError, ValueError):
        raise _Broken(expected_seq, "edited", f"the row after seq {expected_seq - 1} is not "
                                              "(seq, prev_hash, hash, record_json)") from None
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise _Broken(expected_seq, "edited", f"seq {seq!r} after seq {expected_seq - 1} is not an integer")
    return seq, prev_hash, stored_hash, record_json


def _peek(row: object, index: int) -> object:
    """A field of the row read ahead, or None when there is none or it is malformed."""
    try:
        fields = tuple(row)
    except TypeError:
        return None
    return fields[index] if len(fields) == 4 else None


def _check_seq(seq: int, expected: int, upcoming: tuple | None) -> None:
    if seq == expected:
        return
    if seq == expected - 1:
        raise _Broken(seq, "inserted", f"seq {seq} appears twice: a row was inserted under a used number")
    if seq > expected and _peek(upcoming, 0) == expected:
        raise _Broken(expected, "reordered", f"seq {seq} comes before seq {expected}")
    if seq > expected:
        missing = f"seq {expected}" if seq == expected + 1 else f"seq {expected}–{seq - 1}"
        raise _Broken(expected, "deleted", f"{missing} missing: seq {seq} follows seq {expected - 1}")
    raise _Broken(seq, "reordered", f"seq {seq} comes after seq {expected - 1}")


def _check_link(seq: int, prev_hash: str, last_hash: str, before_hash: str | None, upcoming: tuple | None) -> None:
    if prev_hash == last_hash:
        return
    after = f"seq {seq}'s prev_hash is not the hash of seq {seq - 1}"
    if _peek(upcoming, 2) == prev_hash:
        raise _Broken(seq, "reordered", f"{after} but of seq {seq + 1}: seq {seq} and {seq + 1} were swapped")
    if _peek(upcoming, 1) == last_hash:
        raise _Broken(seq, "inserted", f"{after}, and seq {seq + 1} links to seq {seq - 1}: seq {seq} was inserted")
    if before_hash is not None and prev_hash == before_hash:
        raise _Broken(seq - 1, "inserted", f"{after} but of seq {seq - 2}: seq {seq - 1} was inserted")
    raise _Broken(seq, "rehashed", f"{after} nor of any row near it: seq {seq - 1} was edited and its hash "
                                   f"recomputed, or rows before seq {seq} were deleted and the rest renumbered")


def _check_hash(seq: int, prev_hash: str, stored_hash: str, record_json: str) -> None:
    try:
        record = json.loads(record_json)
        computed = record_hash(prev_hash, record)
    except (TypeError, ValueError) as bad:  # ValidationError is a ValueError
        raise _Broken(seq, "edited", f"seq {seq} cannot be hashed: {bad}") from None
    if computed != stored_hash:
        raise _Broken(seq, "edited", f"seq {seq}'s record does not hash to its stored hash: it was changed")


def _check_anchor(head: tuple[int, str] | None, seq: int, stored_hash: str) -> None:
    if head is not None and seq == head[0] and stored_hash != head[1]:
        raise _Broken(seq, "rehashed", f"seq {seq}'s hash is not the anchored {head[1]}: the rows up to it were "
                                       "rewritten and rehashed")
