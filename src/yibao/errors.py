"""Domain errors. Each names the record and the field at fault so a user can mend the input."""

from __future__ import annotations


class YibaoError(Exception):
    """Base of every error yibao raises on purpose."""


class ValidationError(YibaoError, ValueError):
    """Bad input: names the record (file and line, or an id) and the field."""

    def __init__(self, field: str, problem: str, record: str | None = None):
        self.field = field
        self.problem = problem
        self.record = record
        where = f"{record}: " if record else ""
        super().__init__(f"{where}{field}: {problem}")

    def at(self, record: str) -> "ValidationError":
        """The same error, placed at a record (e.g. ``persons.csv line 12``)."""
        inner = f"{self.record}: " if self.record else ""
        return ValidationError(self.field, self.problem, f"{record}: {inner}".rstrip(": "))


class PolicyError(YibaoError):
    """A policy pack is malformed or lacks a parameter: names the file, the key and the problem."""


class NotFoundError(YibaoError, LookupError):
    """A record looked up by its key does not exist."""
