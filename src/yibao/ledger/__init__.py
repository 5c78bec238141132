"""The ledger: settlements, reversals, accumulators and the tamper-evident audit chain of accepted messages."""

from yibao.ledger.audit_chain import GENESIS_HASH, ChainReport, ChainRow, chain_row, chain_rows, record_hash, verify_chain

__all__ = ["ChainReport", "ChainRow", "GENESIS_HASH", "chain_row", "chain_rows", "record_hash", "verify_chain"]
