"""The supervision rule library on Spark: the same Ibis expressions the DuckDB run compiles
(:meth:`yibao.supervision.engine.RuleBook.run`), bound to the Spark backend in fewer, wider jobs: the
lines cached once already joined to their claims (every line rule scans that one cached table instead
of joining the lines to the claims again by shuffle), and the rules' queries run as one union, so one
action returns every hit instead of a job sequence per rule."""

from __future__ import annotations

from pathlib import Path


def spark_hits(book, backend, lake: str | Path, timings: dict | None = None) -> list:
    """``book``'s hits over a lake's year on the Spark ``backend``: the lines cached joined, one union."""
    from yibao.supervision.lake import bind_lake

    return book.run(bind_lake(backend, lake, joined=True), timings, together=True)


def rules_on_spark(backend, lake: str | Path, rules: str | Path | None = None, timings: dict | None = None):
    """Every rule over a lake's year on ``backend`` (the Spark one): the hits frame, amounts in fen;
    ``timings`` (when given) receives the union's seconds under ``"*"``."""
    from yibao.supervision.engine import RuleBook, hits_frame
    from yibao.supervision.lake import lake_catalog
    from yibao.supervision.rules import load_rules

    return hits_frame(spark_hits(RuleBook(load_rules(rules), lake_catalog(lake)), backend, lake, timings))


__all__ = ["rules_on_spark", "spark_hits"]
