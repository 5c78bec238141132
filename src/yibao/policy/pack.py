"""Policy packs: a region's parameters as dated, cited YAML (policy as code).

A pack is a folder ``packs/<name>/`` with ``pack.yaml`` (name, title, admdvs, rounding, optional
``extends``) and one YAML file per namespace (``contribution.yaml`` → ``contribution.*``). A
parameter is a mapping with ``values``::

    employer_rate:
      description: 单位缴费费率 / employer contribution rate
      unit: rate
      values:
        2021-01-01: {value: 0.08, ref: "宛医保〔2021〕12号"}
        2024-01-01: {value: 0.075, ref: "assumption: demo figure"}

Every value carries an effective date and a citation (文号, URL or ``assumption: …``). Units convert
on load: ``yuan`` → integer fen, ``rate`` → Decimal, ``int`` → int, ``text`` → str, ``bool``; a
list or mapping value converts element-wise, and a table (list of rows) takes a mapping of column →
unit. ``pack.at(date)`` resolves the tree at a date of service; ``pack.reform(...)`` returns a copy
with overrides, for policy simulation.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from yibao.errors import PolicyError, ValidationError
from yibao.money import Rounding, to_decimal, yuan_to_fen

PACKS_DIR = Path(__file__).parent / "packs"
SCALAR_UNITS = ("yuan", "rate", "int", "text", "bool", "number")
PARAM_KEYS = {"description", "unit", "values", "note"}


@dataclass(frozen=True)
class Citation:
    """One resolved parameter: its value at a date, where it comes from and since when."""

    path: str
    value: Any
    ref: str
    since: dt.date
    description: str = ""


@dataclass
class Parameter:
    path: str
    unit: Any
    description: str
    source: str  # file the parameter was read from, for error messages
    values: list[tuple[dt.date, Any, str]] = field(default_factory=list)  # sorted by date

    def at(self, when: dt.date) -> tuple[dt.date, Any, str] | None:
        found = None
        for entry in self.values:
            if entry[0] <= when:
                found = entry
            else:
                break
        return found


def _convert(value: Any, unit: Any, where: str) -> Any:
    """Convert a raw YAML value to its unit; errors name ``where`` (file: key: date)."""
    if value is None:
        return None
    if isinstance(unit, Mapping):  # a table: rows of columns, or a mapping of such rows
        if isinstance(value, list):
            return [_convert_row(row, unit, f"{where}[{i}]") for i, row in enumerate(value)]
        if isinstance(value, Mapping):
            return {str(k): _convert_row(v, unit, f"{where}.{k}") for k, v in value.items()}
        raise PolicyError(f"{where}: expected a table (list of rows) for a unit mapping, got {value!r}")
    if isinstance(value, list):
        return [_convert(v, unit, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _convert(v, unit, f"{where}.{k}") for k, v in value.items()}
    try:
        if unit == "yuan":
            return yuan_to_fen(value, where)
        if unit in ("rate", "number"):
            return to_decimal(value, where)
        if unit == "int":
            if isinstance(value, bool) or to_decimal(value, where) != int(to_decimal(value, where)):
                raise PolicyError(f"{where}: expected a whole number, got {value!r}")
            return int(to_decimal(value, where))
        if unit == "bool":
            if not isinstance(value, bool):
                raise PolicyError(f"{where}: expected true or false, got {value!r}")
            return value
        if unit == "text":
            return str(value)
    except ValidationError as e:
        raise PolicyError(f"{where}: {e.problem}") from None
    raise PolicyError(f"{where}: unknown unit {unit!r} (one of {', '.join(SCALAR_UNITS)} or a column mapping)")


def _convert_row(row: Any, columns: Mapping, where: str) -> dict:
    if not isinstance(row, Mapping):
        raise PolicyError(f"{where}: expected a row mapping, got {row!r}")
    unknown = set(map(str, row)) - set(map(str, columns))
    if unknown:
        raise PolicyError(f"{where}: unknown column(s) {sorted(unknown)}; declared: {sorted(columns)}")
    return {str(k): _convert(v, columns[str(k)], f"{where}.{k}") for k, v in row.items()}


def _as_date(key: Any, where: str) -> dt.date:
    if isinstance(key, dt.datetime):
        return key.date()
    if isinstance(key, dt.date):
        return key
    try:
        return dt.date.fromisoformat(str(key))
    except ValueError:
        raise PolicyError(f"{where}: {key!r} is not an effective date (YYYY-MM-DD)") from None


def _parse_parameter(path: str, node: Mapping, source: str) -> Parameter:
    where = f"{source}: {path}"
    extra = set(node) - PARAM_KEYS
    if extra:
        raise PolicyError(f"{where}: unknown key(s) {sorted(extra)} beside 'values'")
    unit = node.get("unit", "number")
    raw = node["values"]
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(f"{where}: 'values' must map effective dates to {{value, ref}}")
    param = Parameter(path, unit, str(node.get("description", "")), source)
    for key, entry in raw.items():
        when = _as_date(key, where)
        at = f"{where}: {when}"
        if not isinstance(entry, Mapping) or "value" not in entry:
            raise PolicyError(f"{at}: expected {{value: …, ref: …}}, got {entry!r}")
        ref = str(entry.get("ref") or "").strip()
        if not ref:
            raise PolicyError(f"{at}: missing 'ref' (a 文号, URL or 'assumption: …')")
        extra = set(entry) - {"value", "ref", "note"}
        if extra:
            raise PolicyError(f"{at}: unknown key(s) {sorted(extra)}")
        param.values.append((when, _convert(entry["value"], unit, at), ref))
    param.values.sort(key=lambda e: e[0])
    return param


def _walk(node: Any, prefix: str, source: str, out: dict[str, Parameter]) -> None:
    if not isinstance(node, Mapping):
        raise PolicyError(f"{source}: {prefix or '(top)'}: expected a mapping of parameters, got {node!r}")
    if "values" in node:
        out[prefix] = _parse_parameter(prefix, node, source)
        return
    for key, child in node.items():
        if not isinstance(key, str) or not key.replace("_", "").isalnum():
            raise PolicyError(f"{source}: {prefix}: bad key {key!r} (letters, digits and _ only)")
        _walk(child, f"{prefix}.{key}" if prefix else key, source, out)


class Pack:
    """A region's policy: dated parameters by dotted path, plus pack metadata."""

    def __init__(self, name: str, meta: dict, params: dict[str, Parameter]):
        self.name = name
        self.meta = meta
        self.params = params

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.name))

    @property
    def admdvs(self) -> str:
        return str(self.meta.get("admdvs", ""))

    @property
    def rounding(self) -> Rounding:
        return Rounding(self.meta.get("rounding", "half_up"))

    def at(self, when: dt.date) -> "Params":
        """The parameter tree in force on ``when`` (a date of service)."""
        resolved: dict[str, Citation] = {}
        for path, p in self.params.items():
            hit = p.at(when)
            if hit is not None and hit[1] is not None:
                resolved[path] = Citation(path, hit[1], hit[2], hit[0], p.description)
        return Params(self, when, resolved)

    def change_dates(self) -> list[dt.date]:
        """Every date on which some parameter changes: batch engines settle each period at once."""
        return sorted({d for p in self.params.values() for d, _, _ in p.values})

    def reform(self, overrides: Mapping[str, Any], name: str | None = None, ref: str | None = None) -> "Pack":
        """A copy with parameters overridden (policy simulation; the baseline is untouched).

        ``overrides`` maps a dotted path either to a full parameter node (``{unit, values}``) or to
        ``{date: value}`` / ``{date: {value, ref}}`` entries added to the existing parameter.
        """
        name = name or f"{self.name}+reform"
        params = copy.deepcopy(self.params)
        for path, change in overrides.items():
            source = f"reform {name}"
            if isinstance(change, Mapping) and "values" in change:
                params[path] = _parse_parameter(path, change, source)
                continue
            if path not in params:
                raise PolicyError(f"{source}: {path}: no such parameter in pack {self.name!r}")
            if not isinstance(change, Mapping):
                raise PolicyError(f"{source}: {path}: expected {{date: value}}, got {change!r}")
            base = params[path]
            entries = {
                k: (v if isinstance(v, Mapping) and "value" in v else {"value": v, "ref": ref or f"reform: {name}"})
                for k, v in change.items()
            }
            added = _parse_parameter(path, {"unit": base.unit, "values": entries}, source)
            kept = [e for e in base.values if e[0] not in {d for d, _, _ in added.values}]
            base.values = sorted(kept + added.values, key=lambda e: e[0])
        return Pack(name, {**self.meta, "name": name, "reform_of": self.name}, params)

    def reform_file(self, path: str | Path) -> "Pack":
        """Apply a reform YAML: ``name``, ``ref`` and ``overrides: {path: …}``."""
        doc = _read_yaml(Path(path))
        if "overrides" not in doc:
            raise PolicyError(f"{path}: a reform file needs 'overrides'")
        return self.reform(doc["overrides"], name=doc.get("name"), ref=doc.get("ref"))


class Params:
    """The pack resolved at one date. ``p["a.b"]`` or ``p.a.b`` gives a value; ``p.cite("a.b")`` its source."""

    def __init__(self, pack: Pack, when: dt.date, resolved: dict[str, Citation], prefix: str = ""):
        self._pack, self._when, self._resolved, self._prefix = pack, when, resolved, prefix

    @property
    def date(self) -> dt.date:
        return self._when

    @property
    def pack(self) -> Pack:
        return self._pack

    def _full(self, path: str) -> str:
        return f"{self._prefix}.{path}" if self._prefix else path

    def cite(self, path: str) -> Citation:
        full = self._full(path)
        try:
            return self._resolved[full]
        except KeyError:
            raise PolicyError(
                f"pack {self._pack.name!r}: parameter {full!r} is not in force on {self._when}"
            ) from None

    def has(self, path: str) -> bool:
        full = self._full(path)
        return full in self._resolved or any(k.startswith(full + ".") for k in self._resolved)

    def get(self, path: str, default: Any = None) -> Any:
        c = self._resolved.get(self._full(path))
        return default if c is None else c.value

    def node(self, path: str) -> "Params":
        if not self.has(path):
            raise PolicyError(f"pack {self._pack.name!r}: no parameters under {self._full(path)!r} on {self._when}")
        return Params(self._pack, self._when, self._resolved, self._full(path))

    def __getitem__(self, path: str) -> Any:
        full = self._full(path)
        if full in self._resolved:
            return self._resolved[full].value
        return self.node(path) if self.has(path) else self.cite(path).value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def keys(self) -> Iterator[str]:
        start = f"{self._prefix}." if self._prefix else ""
        seen = []
        for k in self._resolved:
            if k.startswith(start):
                head = k[len(start):].split(".")[0]
                if head not in seen:
                    seen.append(head)
        return iter(seen)

    def citations(self) -> list[Citation]:
        start = f"{self._prefix}." if self._prefix else ""
        return [c for k, c in self._resolved.items() if k.startswith(start)]


class _Loader(yaml.SafeLoader):
    """Safe YAML with dates left as text, so a bad date is reported by the pack loader, not YAML."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.load(f, Loader=_Loader) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise PolicyError(f"{path}{line}: not valid YAML: {getattr(e, 'problem', e)}") from None
    except OSError as e:
        raise PolicyError(f"{path}: cannot read: {e.strerror}") from None


def _pack_dir(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.is_dir():
        return p
    candidate = PACKS_DIR / str(name_or_path)
    if candidate.is_dir():
        return candidate
    raise PolicyError(f"unknown policy pack {str(name_or_path)!r}; shipped packs: {', '.join(available_packs())}")


def available_packs() -> list[str]:
    return sorted(d.name for d in PACKS_DIR.iterdir() if (d / "pack.yaml").is_file())


def read_pack(name_or_path: str | Path) -> Pack:
    """Load and validate a pack from its folder (by shipped name or path); ``extends`` overlays a parent."""
    folder = _pack_dir(name_or_path)
    meta = _read_yaml(folder / "pack.yaml")
    if not isinstance(meta, Mapping) or "name" not in meta:
        raise PolicyError(f"{folder / 'pack.yaml'}: needs at least 'name'")
    params: dict[str, Parameter] = {}
    if meta.get("extends"):
        parent = read_pack(meta["extends"])
        params.update(copy.deepcopy(parent.params))
        meta = {**parent.meta, **meta}
    for file in sorted(folder.rglob("*.yaml")):
        if file.name == "pack.yaml":
            continue
        rel = file.relative_to(folder).with_suffix("")
        namespace = ".".join(rel.parts)
        own: dict[str, Parameter] = {}
        _walk(_read_yaml(file), namespace, str(file), own)
        params.update(own)
    if meta.get("rounding", "half_up") not in {r.value for r in Rounding}:
        raise PolicyError(f"{folder / 'pack.yaml'}: rounding: {meta['rounding']!r} is not half_up or truncate")
    return Pack(str(meta["name"]), dict(meta), params)


@lru_cache(maxsize=32)
def load_pack(name_or_path: str) -> Pack:
    """Cached :func:`read_pack`; treat the result as read-only (use ``reform`` for changes)."""
    return read_pack(name_or_path)


__all__ = ["Citation", "Pack", "Params", "Parameter", "available_packs", "load_pack", "read_pack", "PACKS_DIR"]
