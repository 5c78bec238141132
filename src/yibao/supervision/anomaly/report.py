"""The ranking and the ring candidates as console tables."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

LEVEL_NAMES = {"institution": "机构", "dept": "科室", "doctor": "医师"}


def ranking_table(ranked: pd.DataFrame, level: str, top: int) -> Table:
    flagged = int(ranked["extreme"].sum())
    table = Table(title=f"{LEVEL_NAMES[level]}异常排名: top {min(top, len(ranked))} of {len(ranked):,} "
                        f"({flagged:,} extreme)")
    for col in ("rank", "entity", "peer", "cases", "score", "extreme", "reasons"):
        table.add_column(col, justify="right" if col in ("rank", "cases", "score") else "left")
    for r in ranked.head(top).itertuples(index=False):
        table.add_row(str(r.rank), r.entity, r.peer, f"{r.cases:,}", f"{r.score:.2f}", "yes" if r.extreme else "",
                      r.reasons or "—")
    return table


def rings_table(rings: pd.DataFrame) -> Table:
    table = Table(title=f"团伙 ring candidates: {len(rings):,}")
    for col in ("ring", "institution", "doctors", "persons", "sessions", "days", "density", "evidence"):
        table.add_column(col, justify="right" if col in ("sessions", "days", "density") else "left")
    for r in rings.itertuples(index=False):
        table.add_row(r.ring_id, r.fixmedins_code, r.doctors, f"{r.n_persons}: {r.persons}", str(r.sessions),
                      str(r.days), f"{r.density:.2f}", r.evidence)
    return table


__all__ = ["LEVEL_NAMES", "ranking_table", "rings_table"]
