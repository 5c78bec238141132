"""A person's position for a year (年度累计): accumulators and the account amounts still available.

Pure: ``change_of(position, statement)`` says what one settlement did, ``apply`` moves a position by
that change and ``undo`` takes it back (a reversal, 撤销 / 冲正). The service keeps each settlement's
change beside it, so a reversal restores the position exactly, whatever was settled after it; the
batch's closing accumulators are the sum of the same changes.

个人账户 (``account``) is what the person's own account may still pay this year; 家庭共济
(``family``) what the household's accounts may still pay for this person, both set when the year
opens (:func:`yibao.ledger.service.open_year`) and lowered by ``acct_pay`` and ``acct_mulaid_pay``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from yibao.errors import YibaoError


class OverdraftError(YibaoError):
    """A change would take an account below zero or an accumulator below zero (不得透支)."""


@dataclass(frozen=True)
class Position:
    """Accumulators (fen or counts, keys of :mod:`yibao.settlement.engine`) and available balances."""

    accumulators: Mapping[str, int] = field(default_factory=dict)
    account: int = 0
    family: int = 0


@dataclass(frozen=True)
class Change:
    """What one settlement moved: accumulator deltas and the account amounts it paid."""

    accumulators: Mapping[str, int] = field(default_factory=dict)
    account: int = 0
    family: int = 0

    def to_dict(self) -> dict:
        return {"accumulators": dict(self.accumulators), "account": self.account, "family": self.family}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Change":
        return cls({str(k): int(v) for k, v in d.get("accumulators", {}).items()},
                   int(d.get("account", 0)), int(d.get("family", 0)))


def change_of(before: Position, statement) -> Change:
    """The change a statement makes to ``before`` (its accumulators are the ones after the claim)."""
    after = statement.accumulators
    keys = set(before.accumulators) | set(after)
    delta = {k: int(after.get(k, 0)) - int(before.accumulators.get(k, 0)) for k in sorted(keys)}
    s = statement.setlinfo
    return Change({k: v for k, v in delta.items() if v}, int(s["acct_pay"]), int(s["acct_mulaid_pay"]))


def apply(position: Position, change: Change, sign: int = 1) -> Position:
    """``position`` moved by ``change`` (``sign`` −1 takes it back); refuses to go below zero."""
    acc = dict(position.accumulators)
    for k, v in change.accumulators.items():
        acc[k] = acc.get(k, 0) + sign * v
        if acc[k] < 0:
            raise OverdraftError(f"accumulator {k} would fall to {acc[k]}")
        if acc[k] == 0:
            del acc[k]
    account = position.account - sign * change.account
    family = position.family - sign * change.family
    if account < 0 or family < 0:
        raise OverdraftError(f"account balance would fall to {account} / family {family} fen")
    return Position(acc, account, family)


def undo(position: Position, change: Change) -> Position:
    """The position with ``change`` taken back (a reversal)."""
    return apply(position, change, -1)


__all__ = ["Position", "Change", "OverdraftError", "change_of", "apply", "undo"]
