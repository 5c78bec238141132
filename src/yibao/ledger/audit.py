"""The audit log's store side: each accepted message appended to its institution's SM3 chain in the
message's own transaction (the chain head row is locked while a link is added: one ``UPDATE …
RETURNING`` moves its sequence on, locks it and reads the previous hash), and the chains read back
in order for :func:`yibao.ledger.audit_chain.verify_chain`.

A record holds no personal data: the msgid, transaction, institution, time and the SHA-256 digests of
the request body and of the answer, so the log can be shown to an auditor as it is.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterator

import sqlalchemy as sa

from yibao.ledger.audit_chain import GENESIS_HASH, ChainReport, chain_row, verify_chain
from yibao.ledger.repository import dialect_insert
from yibao.store.sql import Prepared, defer, run
from yibao.store.models import AuditEntry, AuditHead

LOG, HEAD = AuditEntry.__table__, AuditHead.__table__


# the new sequence number and the hash it follows (RETURNING gives the row as updated: seq moved, hash not yet)
_BUMP = Prepared(sa.update(HEAD).where(HEAD.c.chain == sa.bindparam("c")).values(seq=HEAD.c.seq + 1)
                 .returning(HEAD.c.seq, HEAD.c.hash))
_LINK = Prepared(sa.insert(LOG))
_MOVE = Prepared(sa.update(HEAD).where(HEAD.c.chain == sa.bindparam("c")).values(hash=sa.bindparam("h")))


def append(conn: sa.Connection, chain: str, record: dict[str, Any]) -> int:
    """Add ``record`` to ``chain``; returns its sequence number. The link and the head's new hash
    are written with the transaction's next statement (usually its commit)."""
    key = {"c": chain}
    head = run(conn, _BUMP, key).first()
    if head is None:  # the institution's first message
        conn.execute(dialect_insert(conn, HEAD).values(chain=chain, seq=0, hash=GENESIS_HASH)
                     .on_conflict_do_nothing(index_elements=["chain"]))
        head = run(conn, _BUMP, key).rows[0]
    row = chain_row(int(head["seq"]), head["hash"], record)
    defer(conn, _LINK, {"chain": chain, "seq": row.seq, "prev_hash": row.prev_hash, "hash": row.hash,
                        "record": row.record_json})
    defer(conn, _MOVE, {"c": chain, "h": row.hash})  # the row is ours: _BUMP locked it
    return row.seq


def message_record(msgid: str, infno: str, chain: str, received: Any, body_digest: str, answer: str) -> dict[str, Any]:
    return {"msgid": msgid, "infno": infno, "fixmedins_code": chain, "received_at": str(received),
            "body_sha256": body_digest, "answer_sha256": hashlib.sha256(answer.encode("utf-8")).hexdigest()}


def chains(conn: sa.Connection) -> list[tuple[str, int, str]]:
    """Every chain with its head (name, seq, hash)."""
    return [tuple(r) for r in conn.execute(sa.select(HEAD.c.chain, HEAD.c.seq, HEAD.c.hash).order_by(HEAD.c.chain))]


def rows(conn: sa.Connection, chain: str, batch: int = 10_000) -> Iterator[tuple[int, str, str, str]]:
    """The chain's rows in sequence order, read ``batch`` at a time."""
    last = 0
    while True:
        got = conn.execute(sa.select(LOG.c.seq, LOG.c.prev_hash, LOG.c.hash, LOG.c.record)
                           .where(LOG.c.chain == chain, LOG.c.seq > last).order_by(LOG.c.seq).limit(batch)).all()
        if not got:
            return
        yield from (tuple(r) for r in got)
        last = got[-1][0]


def verify(conn: sa.Connection) -> dict[str, ChainReport]:
    """Each chain verified against its head."""
    return {name: verify_chain(rows(conn, name), head=(seq, h)) for name, seq, h in chains(conn)}


__all__ = ["append", "chains", "message_record", "rows", "verify"]
