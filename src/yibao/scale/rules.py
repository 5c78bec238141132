"""The supervision rule library on Spark: the same Ibis expressions the DuckDB run compiles
(:meth:`yibao.supervision.engine.RuleBook.run`), bound to the Spark backend."""

from __future__ import annotations

from pathlib import Path


def rules_on_spark(backend, lake: str | Path, rules: str | Path | None = None):
    """Every rule over a lake's year on ``backend`` (the Spark one): the hits frame, amounts in fen."""
    from yibao.supervision.engine import RuleBook, hits_frame
    from yibao.supervision.lake import bind_lake, lake_catalog
    from yibao.supervision.rules import load_rules

    book = RuleBook(load_rules(rules), lake_catalog(lake))
    return hits_frame(book.run(bind_lake(backend, lake)))


__all__ = ["rules_on_spark"]
