"""The regulator's policy numbers (``regulator.yaml``): every entry typed, in range and cited.

Each entry is ``{value, ref | assumption[, unit]}``; :data:`SCHEMA` declares every key and its type (the
policy packs' type words, :func:`yibao.policy.schema.parse_type`), so a misspelled key, a missing
citation, a unit other than the declared one or a value of the wrong type is a ``PolicyError`` naming
the file and the key.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Mapping

from yibao.errors import PolicyError
from yibao.policy.pack import _read_yaml
from yibao.policy.schema import nearest, parse_type

PARAMS_FILE = Path(__file__).with_name("regulator.yaml")

SCHEMA: dict[str, dict[str, str]] = {
    "case": {"decide_within_working_days": "int", "handle_within_days": "int", "close_within_days": "int",
             "fine_multiple_violation": "map of number", "fine_multiple_fraud": "map of number"},
    "report": {"accept_within_working_days": "int", "reward_rate": "rate", "reward_floor": "yuan",
               "reward_cap": "yuan"},
    "sampling": {"large_institution_spending": "yuan", "large_institution_amount": "yuan",
                 "small_institution_share": "rate"},
    "draw": {"grade_weights": "map of number", "inspectors_per_team": "int"},
    "credit": {"start_score": "int", "case_filed_points": "int", "recovered_points_per_10k_yuan": "int",
               "recovered_points_cap": "int", "suspended_points": "int",
               "sev1_hit_share_points_per_percent": "int", "grade_floors": "map of number"},
    "points": {"suspend_at": "int", "terminate_at": "int", "max_per_event": "int", "bar_years": "int",
               "bar_years_single_event": "int"},
}
ENTRY_KEYS = ("value", "unit", "ref", "assumption")


class Params:
    """The numbers by ``section.key`` (``params["case.handle_within_days"]``) and their citations."""

    def __init__(self, values: Mapping[str, Any], citations: Mapping[str, str]):
        self._values = dict(values)
        self.citations = dict(citations)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def cite(self, key: str) -> str:
        return self.citations[key]


def load_params(path: str | Path | None = None) -> Params:
    """The entries of ``path`` (default: the shipped ``regulator.yaml``), checked against :data:`SCHEMA`."""
    path = Path(path) if path is not None else PARAMS_FILE
    if not path.is_file():
        raise PolicyError(f"{path}: no such parameter file")
    doc = _read_yaml(path)
    _known(doc, SCHEMA, f"{path}")
    values, citations = {}, {}
    for section, keys in SCHEMA.items():
        _known(doc.get(section), keys, f"{path}: {section}")
        for key, type_word in keys.items():
            where = f"{path}: {section}.{key}"
            values[f"{section}.{key}"], citations[f"{section}.{key}"] = _entry(doc[section].get(key), type_word, where)
    return Params(values, citations)


@functools.cache
def shipped_params() -> Params:
    """The shipped numbers, read once per process."""
    return load_params()


def _known(node: Any, keys: Mapping[str, Any], where: str) -> None:
    if not isinstance(node, Mapping):
        raise PolicyError(f"{where}: expected a mapping of {', '.join(keys)}, got {node!r}")
    for key in node:
        if key not in keys:
            raise PolicyError(f"{where}: unknown key {key!r}{nearest(str(key), keys)}")
    missing = [k for k in keys if k not in node]
    if missing:
        raise PolicyError(f"{where}: missing {', '.join(missing)}")


def _entry(entry: Any, type_word: str, where: str) -> tuple[Any, str]:
    if not isinstance(entry, Mapping) or "value" not in entry:
        raise PolicyError(f"{where}: expected {{value, ref or assumption}}, got {entry!r}")
    for key in entry:
        if key not in ENTRY_KEYS:
            raise PolicyError(f"{where}: unknown key {key!r}{nearest(str(key), ENTRY_KEYS)}")
    unit = entry.get("unit", type_word if type_word == "int" else None)
    if unit != type_word:
        raise PolicyError(f"{where}: unit: expected {type_word!r}, got {unit!r}")
    cited = [k for k in ("ref", "assumption") if str(entry.get(k) or "").strip()]
    if len(cited) != 1:
        raise PolicyError(f"{where}: needs exactly one citation, ref (文号 or URL) or assumption (why)")
    return parse_type(type_word).convert(entry["value"], f"{where}: value"), str(entry[cited[0]])


__all__ = ["PARAMS_FILE", "Params", "SCHEMA", "load_params", "shipped_params"]
