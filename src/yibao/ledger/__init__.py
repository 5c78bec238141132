"""The settlement ledger (结算台账): what the real-time service settled, for whom, what it did to each
person's year, and the tamper-evident audit chain of accepted messages.

``position`` is the pure arithmetic (a statement's change to a person's accumulators and account
amounts, applied and undone); ``repository`` the queries; ``service`` the encounters, fee lines,
settlements and reversals, each inside the caller's transaction under the person's row lock;
``audit_chain`` the SM3 hash chain and its verification.
"""

from yibao.ledger.audit_chain import GENESIS_HASH, ChainReport, ChainRow, chain_row, chain_rows, record_hash, verify_chain
from yibao.ledger.position import Change, OverdraftError, Position, apply, change_of, undo

__all__ = ["ChainReport", "ChainRow", "Change", "GENESIS_HASH", "OverdraftError", "Position", "apply", "chain_row",
           "chain_rows", "change_of", "record_hash", "undo", "verify_chain"]
