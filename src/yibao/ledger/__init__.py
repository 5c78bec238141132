"""The settlement ledger (结算台账): what the real-time service settled, for whom, and what it did to
each person's year.

``position`` is the pure arithmetic (a statement's change to a person's accumulators and account
amounts, applied and undone); ``repository`` the queries; ``service`` the encounters, fee lines,
settlements and reversals, each inside the caller's transaction under the person's row lock.
"""

from yibao.ledger.position import Change, OverdraftError, Position, apply, change_of, undo
from yibao.ledger.service import LedgerError, Region

__all__ = ["Change", "LedgerError", "OverdraftError", "Position", "Region", "apply", "change_of", "undo"]
