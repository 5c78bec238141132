"""双随机一公开: a seeded draw of institutions to inspect and of the inspectors who go, and its public list.

Pure and reproducible: the same frame, quota and seed give the same list. Institutions are drawn without
replacement with weights by credit grade (``draw.grade_weights``: worse grades drawn more, as 国发〔2019〕5号
asks); each drawn institution gets a team of ``draw.inspectors_per_team`` inspectors, none with a conflict
there (their former institution, or a declared relation), the least-used first so the work spreads.
A frame too small for its quota, or an institution with too few inspectors free of conflict, is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yibao.errors import ValidationError
from yibao.supervision.regulator.params import Params

UNGRADED = "未评级"


@dataclass(frozen=True)
class Inspector:
    """An inspector (执法检查人员) and the institutions they may not inspect (回避)."""

    inspector_id: str
    name: str
    conflicts: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Pick:
    seq: int
    fixmedins_code: str
    grade: str
    inspectors: tuple[str, ...]


def draw_inspections(frame: dict[str, str], quota: int, inspectors: list[Inspector], seed: int, params: Params) -> list[Pick]:
    """``quota`` institutions of ``frame`` (code → grade, or 未评级) and a team for each."""
    weights = params["draw.grade_weights"]
    _check_frame(frame, quota, weights)
    codes = sorted(frame)
    rng = np.random.default_rng(seed)
    w = np.array([float(weights[frame[c]]) for c in codes])
    keys = np.log(rng.random(len(codes))) / w  # Efraimidis–Spirakis: the largest keys are a weighted draw
    order = np.argsort(-keys, kind="stable")[:quota]
    drawn = [codes[i] for i in order]
    teams = _teams(drawn, inspectors, params["draw.inspectors_per_team"], rng)
    return [Pick(n, c, frame[c], teams[c]) for n, c in enumerate(drawn, 1)]


def _check_frame(frame: dict[str, str], quota: int, weights: dict) -> None:
    if quota < 1:
        raise ValidationError("quota", f"draw at least one institution, got {quota}", "draw")
    if quota > len(frame):
        raise ValidationError("quota", f"{quota} institutions asked of a frame of {len(frame)}", "draw")
    for code, grade in frame.items():
        if grade not in weights:
            raise ValidationError("grade", f"{grade!r} has no draw weight (known: {', '.join(weights)})",
                                  f"institution {code}")


def _teams(drawn: list[str], inspectors: list[Inspector], size: int, rng: np.random.Generator) -> dict[str, tuple]:
    ids = [i.inspector_id for i in inspectors]
    if len(set(ids)) != len(ids):
        raise ValidationError("inspector_id", "an inspector is listed twice", "inspectors")
    load = {i.inspector_id: 0 for i in inspectors}
    tiebreak = dict(zip(ids, rng.random(len(ids))))
    teams = {}
    for code in drawn:
        free = [i.inspector_id for i in inspectors if code not in i.conflicts]
        if len(free) < size:
            raise ValidationError("inspectors", f"{len(free)} inspectors without a conflict here, "
                                  f"a team needs {size}", f"institution {code}")
        team = sorted(free, key=lambda i: (load[i], tiebreak[i]))[:size]
        for i in team:
            load[i] += 1
        teams[code] = tuple(sorted(team))
    return teams


__all__ = ["Inspector", "Pick", "UNGRADED", "draw_inspections"]
