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

Every value carries an effective date and a citation (文号, URL or ``assumption: …``). Every key is
declared, with its type, in :mod:`yibao.policy.schema`; loading checks the pack against it and
converts values: ``yuan`` → integer fen, rates and numbers → Decimal, ``int`` → int, text, bool,
lists, mappings and tables of those; ``none`` for a cap or limit → :data:`NO_LIMIT`.

``extends: demo`` names a shipped pack (every shipped region extends ``national``, the national
code structure); ``extends: ../base`` (a path: it has a ``/`` or starts with ``.``) is a folder,
relative to the pack's own folder. ``pack.at(date)`` resolves the tree at a date of service;
``Params.stale`` says when that date is more than a year past ``pack.last_change()``;
``pack.reform(...)`` returns a copy with overrides, for policy simulation.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from yibao.errors import PolicyError
from yibao.money import Rounding
from yibao.policy.schema import (META_KEYS, NEEDS, NO_LIMIT, PARAMETER_KEYS, VALUE_KEYS, Spec, check_unit, child,
                                 nearest, schema_at, spec_of)

PACKS_DIR = Path(__file__).parent / "packs"
REFORM_KEYS = ("name", "ref", "description", "overrides")  # what a reform file may say


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
    spec: Spec  # the schema's type of the value
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


def _as_date(key: Any, where: str) -> dt.date:
    if isinstance(key, dt.datetime):
        return key.date()
    if isinstance(key, dt.date):
        return key
    try:
        return dt.date.fromisoformat(str(key))
    except ValueError:
        raise PolicyError(f"{where}: {key!r} is not an effective date (YYYY-MM-DD)") from None


def _unknown_keys(node: Mapping, known: tuple[str, ...], where: str, beside: str) -> None:
    for key in node:
        if key not in known:
            raise PolicyError(f"{where}: unknown key {key!r}{nearest(str(key), known)} {beside}; "
                              f"keys: {', '.join(known)}")


def _parse_parameter(path: str, node: Mapping, source: str, spec: Spec | None = None) -> Parameter:
    """One parameter node ``{description, unit, values: {date: {value, ref}}}`` read against the schema.

    ``unit`` may be left out (the schema knows it); when written it must agree with the schema. A
    ``value: null`` ends the parameter from that date (it is not in force after it).
    """
    where = f"{source}: {path}"
    spec = spec or spec_of(path, where)
    _unknown_keys(node, PARAMETER_KEYS, where, "beside 'values'")
    if "unit" in node:
        check_unit(node["unit"], spec, where)
    raw = node["values"]
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(f"{where}: 'values' must map effective dates to {{value, ref}}")
    param = Parameter(path, spec, str(node.get("description", "")), source)
    for key, entry in raw.items():
        when = _as_date(key, where)
        at = f"{where}: {when}"
        if not isinstance(entry, Mapping) or "value" not in entry:
            raise PolicyError(f"{at}: expected {{value: …, ref: …}}, got {entry!r}")
        _unknown_keys(entry, VALUE_KEYS, at, "beside 'value'")
        ref = str(entry.get("ref") or "").strip()
        if not ref:
            raise PolicyError(f"{at}: missing 'ref' (a 文号, URL or 'assumption: …')")
        value = None if entry["value"] is None else spec.convert(entry["value"], at)
        param.values.append((when, value, ref))
    param.values.sort(key=lambda e: e[0])
    return param


def _walk(node: Any, prefix: str, source: str, out: dict[str, Parameter], schema: dict | Spec) -> None:
    """Read a (part of a) file at ``prefix``, each key checked against the schema below it."""
    if not isinstance(schema, dict):
        if not isinstance(node, Mapping) or "values" not in node:
            raise PolicyError(f"{source}: {prefix}: a parameter needs 'values' (effective dates → {{value, ref}}), "
                              f"got {node!r}")
        out[prefix] = _parse_parameter(prefix, node, source, schema)
        return
    if not isinstance(node, Mapping):
        raise PolicyError(f"{source}: {prefix or '(top)'}: expected a mapping of parameters, got {node!r}")
    if "values" in node:
        raise PolicyError(f"{source}: {prefix}: is a group of parameters ({', '.join(schema)}), not one parameter")
    for key, sub in node.items():
        if not isinstance(key, str) or not key.replace("_", "").isalnum():
            raise PolicyError(f"{source}: {prefix}: bad key {key!r} (letters, digits and _ only)")
        _walk(sub, f"{prefix}.{key}" if prefix else key, source, out, child(schema, key, prefix, source))


def _one_year_after(day: dt.date) -> dt.date:
    return day.replace(year=day.year + 1, day=min(day.day, 28) if day.month == 2 else day.day)


class Pack:
    """A region's policy: dated parameters by dotted path, plus pack metadata."""

    def __init__(self, name: str, meta: dict, params: dict[str, Parameter]):
        self.name = name
        self.meta = meta
        self.params = params
        _check_needs(self)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.name))

    @property
    def admdvs(self) -> str:
        return str(self.meta.get("admdvs", ""))

    @functools.cached_property
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
        """Every date on which some parameter changes: batch engines settle each period at once.
        Worked out once (a pack is read-only; a reform is a new pack) and asked for per claim."""
        dates = self.__dict__.get("_change_dates")
        if dates is None:
            dates = self.__dict__["_change_dates"] = tuple(sorted({d for p in self.params.values() for d, _, _ in p.values}))
        return list(dates)

    def last_change(self) -> dt.date | None:
        """The newest effective date of any value: past it the pack says nothing new (see ``Params.stale``)."""
        dates = self.change_dates()
        return dates[-1] if dates else None

    def stale_warning(self, when: dt.date) -> str:
        """A sentence for the user when ``when`` is more than a year after the pack's last change ("" otherwise),
        naming both dates: the newest parameters are applied, but the pack may not have been brought up to date."""
        last = self.last_change()
        if last is None or when <= _one_year_after(last):
            return ""
        return (f"pack {self.name!r} changes last on {last}; {when} is more than "
                f"a year later, so the parameters in force since then are applied unchanged")

    def reform(self, overrides: Mapping[str, Any], name: str | None = None, ref: str | None = None,
               source: str | None = None) -> "Pack":
        """A copy with parameters overridden (policy simulation; the baseline is untouched).

        ``overrides`` maps a dotted path either to a full parameter node (``{unit, values}``) or to
        ``{date: value}`` / ``{date: {value, ref}}`` entries added to the existing parameter.
        ``source`` (the reform's file) is what an error names.
        """
        name = name or f"{self.name}+reform"
        params = copy.deepcopy(self.params)
        source = source or f"reform {name}"
        if not isinstance(overrides, Mapping):
            raise PolicyError(f"{source}: overrides: expected a mapping of parameter paths, got {overrides!r}")
        for path, change in overrides.items():
            if isinstance(change, Mapping) and "values" in change:
                params[path] = _parse_parameter(path, change, source)
                continue
            spec_of(path, source)  # a misspelled path is named with its nearest known key
            if path not in params:
                raise PolicyError(f"{source}: {path}: no such parameter in pack {self.name!r}")
            if not isinstance(change, Mapping):
                raise PolicyError(f"{source}: {path}: expected {{date: value}}, got {change!r}")
            base = params[path]
            entries = {
                k: (v if isinstance(v, Mapping) and "value" in v else {"value": v, "ref": ref or f"reform: {name}"})
                for k, v in change.items()
            }
            added = _parse_parameter(path, {"values": entries}, source, base.spec)
            kept = [e for e in base.values if e[0] not in {d for d, _, _ in added.values}]
            base.values = sorted(kept + added.values, key=lambda e: e[0])
        return Pack(name, {**self.meta, "name": name, "reform_of": self.name}, params)

    def reform_file(self, path: str | Path) -> "Pack":
        """Apply a reform YAML: ``name``, ``ref`` and ``overrides: {path: …}``."""
        doc = _read_yaml(Path(path))
        if not isinstance(doc, Mapping) or "overrides" not in doc:
            raise PolicyError(f"{path}: a reform file needs 'overrides'")
        _unknown_keys(doc, REFORM_KEYS, str(path), "in a reform file")
        return self.reform(doc["overrides"], name=doc.get("name"), ref=doc.get("ref"), source=str(path))


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

    @property
    def stale(self) -> bool:
        """True when the date is more than a year after the pack's last change: the newest
        parameters are applied, but the pack may simply not have been brought up to date."""
        return bool(self.stale_warning)

    @property
    def stale_warning(self) -> str:
        """A sentence for the user when ``stale`` ("" otherwise), naming both dates."""
        return self._pack.stale_warning(self._when)

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


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when built with it
    """Safe YAML with dates left as text, so a bad date is reported by the pack loader, not YAML, and
    a key written twice in one mapping refused (YAML would keep the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is written twice in one mapping", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _text(path: Path) -> str:
    """The file as UTF-8 text; a binary or otherwise-encoded file is an error saying which."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PolicyError(f"{path}: cannot read: {e.strerror}") from None
    if b"\0" in data:
        raise PolicyError(f"{path}: a binary file, not YAML text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        try:
            data.decode("gb18030")
            guess = " (it reads as GBK/GB18030: save it as UTF-8)"
        except UnicodeDecodeError:
            guess = ""
        raise PolicyError(f"{path}: not UTF-8 text: byte {data[e.start]:#04x} at offset {e.start}{guess}") from None


def _read_yaml(path: Path) -> Any:
    """A YAML document; an empty file (or one of comments only) is an error, not an empty pack part."""
    text = _text(path)
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise PolicyError(f"{path}{line}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if doc is None:
        raise PolicyError(f"{path}: empty file; a pack file holds parameters (delete the file if it has none)")
    return doc


def _is_path(ref: str | Path) -> bool:
    """A pack is named (a shipped pack) or given as a folder: a path has a separator or starts with '.'."""
    text = str(ref)
    return isinstance(ref, Path) or "/" in text or "\\" in text or text.startswith(".")


def _pack_dir(ref: str | Path, base: Path | None = None) -> Path:
    """The folder of a pack: a bare name is a shipped pack (a folder of that name in the working
    directory does not shadow it); a path is a folder, relative to ``base`` (the folder of the pack
    that ``extends`` it) when given, else to the working directory."""
    if _is_path(ref):
        folder = Path(ref).expanduser()
        if base is not None and not folder.is_absolute():
            folder = base / folder
        if not (folder / "pack.yaml").is_file():
            raise PolicyError(f"{folder}: not a policy pack folder (no pack.yaml)")
        return folder
    candidate = PACKS_DIR / str(ref)
    if (candidate / "pack.yaml").is_file():
        return candidate
    shipped = available_packs(bases=True)
    raise PolicyError(f"unknown policy pack {str(ref)!r}{nearest(str(ref), shipped)}; shipped packs: "
                      f"{', '.join(shipped)} (a folder is given as a path, e.g. ./{ref})")


def available_packs(bases: bool = False) -> list[str]:
    """The shipped pooling regions (a pack with an ``admdvs``); with ``bases``, also the packs they
    extend that are no region of their own (``national``)."""
    names = sorted(d.name for d in PACKS_DIR.iterdir() if (d / "pack.yaml").is_file())
    return names if bases else [n for n in names if "admdvs" in _read_yaml(PACKS_DIR / n / "pack.yaml")]


def _read_meta(folder: Path) -> dict:
    where = folder / "pack.yaml"
    meta = _read_yaml(where)
    if not isinstance(meta, Mapping) or "name" not in meta:
        raise PolicyError(f"{where}: needs at least 'name'")
    _unknown_keys(meta, META_KEYS, str(where), "in pack.yaml")
    for key, value in meta.items():
        if not isinstance(value, str):
            raise PolicyError(f"{where}: {key}: expected text, got {value!r}")
    if meta.get("rounding", "half_up") not in {r.value for r in Rounding}:
        raise PolicyError(f"{where}: rounding: {meta['rounding']!r} is not half_up or truncate")
    return dict(meta)


def _namespace(folder: Path, file: Path) -> tuple[str, dict | Spec]:
    """The dotted namespace of a pack file (``benefits/pooling.yaml`` → ``benefits.pooling``) and its schema."""
    parts = file.relative_to(folder).with_suffix("").parts
    return ".".join(parts), schema_at(parts, str(file))


def read_pack(name_or_path: str | Path, _base: Path | None = None, _chain: tuple[Path, ...] = ()) -> Pack:
    """Load and validate a pack from its folder (by shipped name or path); ``extends`` overlays a parent.

    Every file and key is checked against the schema (:mod:`yibao.policy.schema`): an unknown key,
    a wrong type, a value out of range or a tier without its cap is a :class:`PolicyError` naming
    the file, the key and the problem.
    """
    folder = _pack_dir(name_or_path, _base)
    if folder.resolve() in _chain:
        raise PolicyError(f"{folder / 'pack.yaml'}: extends: a loop ({' → '.join(str(p) for p in _chain)} → {folder})")
    meta = _read_meta(folder)
    params: dict[str, Parameter] = {}
    if meta.get("extends"):
        parent = read_pack(meta["extends"], folder, _chain + (folder.resolve(),))
        params.update(copy.deepcopy(parent.params))
        meta = {**parent.meta, **meta}
    for stray in sorted(folder.rglob("*.yml")):
        raise PolicyError(f"{stray}: pack files end in .yaml (this one would be ignored)")
    for file in sorted(folder.rglob("*.yaml")):
        if file == folder / "pack.yaml":
            continue
        namespace, schema = _namespace(folder, file)
        own: dict[str, Parameter] = {}
        _walk(_read_yaml(file), namespace, str(file), own, schema)
        params.update(own)
    return Pack(str(meta["name"]), meta, params)


def _check_needs(pack: Pack) -> None:
    """A tier in force needs its other parameters on every date (``cap: none`` says "no cap"); pooling
    rules need the national med groups, their caps and the default 先行自付 share."""
    for day in pack.change_dates():
        resolved = pack.at(day)
        for need in NEEDS:
            trigger = resolved.get(need.when)
            if trigger is None or (need.unless is not None and trigger == need.unless):
                continue
            for path in need.needs:
                if resolved.get(path) is None:
                    source = pack.params[need.when].source
                    raise PolicyError(f"{source}: pack {pack.name!r}: {path} is needed on {day} because {need.when} "
                                      f"is in force ({need.hint})")


def _cache_key(ref: str | Path) -> str:
    return str(Path(ref).expanduser().resolve()) if _is_path(ref) else str(ref)


@lru_cache(maxsize=32)
def _load_cached(key: str) -> Pack:
    return read_pack(Path(key) if Path(key).is_absolute() else key)


def load_pack(name_or_path: str | Path) -> Pack:
    """Cached :func:`read_pack` (a path is cached by its absolute folder); treat the result as read-only
    (use ``reform`` for changes)."""
    return _load_cached(_cache_key(name_or_path))


__all__ = ["Citation", "NO_LIMIT", "Pack", "Params", "Parameter", "available_packs", "load_pack", "read_pack",
           "PACKS_DIR"]
