"""The rule library: dated, cited YAML entries (``rules/*.yaml``) read by a strict loader.

A file holds ``rules:``, a mapping of rule ids to entries::

    rules:
      SV-SEX-01:
        name: 限性别项目（目录限定支付范围）
        kind: sex
        params: {source: catalog}
        sev_deg: 1            # 1 明确违规 / 2 高度可疑 / 3 轻度可疑
        scene: [事前, 事中, 事后]
        scheme: "*"           # 险种 pattern: "*" any, "310|390" either
        period: 当次就诊
        since: 2024-01-01     # in force for claims admitted on or after (until: the last day, optional)
        ref: "国家医保局 医保目录 限定支付范围"   # or  assumption: "…why…"

Every key is declared: an unknown key names the file, the rule and the nearest known key (the policy
packs' helpers, :func:`yibao.policy.schema.nearest`); a kind's ``params`` are typed like pack values
(:func:`yibao.policy.schema.parse_type`). A rule without a citation (``ref`` or ``assumption``), with an
unknown kind, a bad parameter or an id written twice is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from yibao import vocab
from yibao.errors import PolicyError
from yibao.policy.pack import _read_yaml
from yibao.policy.schema import nearest, parse_type

RULES_DIR = Path(__file__).parent / "rules"
SEVERITIES = {1: "明确违规", 2: "高度可疑", 3: "轻度可疑"}
SCENES = ("事前", "事中", "事后")
PERIODS = ("当次就诊", "当次门诊", "当次住院", "自然日", "滚动天数", "医保年度")
RULE_KEYS = ("name", "kind", "params", "sev_deg", "scene", "scheme", "period", "since", "until", "ref",
             "assumption", "note")
REQUIRED = ("name", "kind", "sev_deg", "scene", "period", "since")
_SCHEME_WORDS = set(vocab.INSUTYPES) | {"*"}


@dataclass(frozen=True)
class ParamSpec:
    """A kind's parameters: name → type (pack type words); ``required`` ones must be given."""

    types: Mapping[str, str]
    required: tuple[str, ...] = ()

    def convert(self, params: Any, where: str) -> dict:
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise PolicyError(f"{where}: params: expected a mapping, got {params!r}")
        out = {}
        for key, value in params.items():
            key = str(key)
            if key not in self.types:
                known = ", ".join(self.types) or "none"
                raise PolicyError(f"{where}: params: unknown key {key!r}{nearest(key, self.types)}; known: {known}")
            out[key] = parse_type(self.types[key]).convert(value, f"{where}: params.{key}")
        missing = [k for k in self.required if k not in out]
        if missing:
            raise PolicyError(f"{where}: params: missing {', '.join(missing)}")
        return out


@dataclass(frozen=True)
class Rule:
    """One rule, checked and converted (``params`` typed by its kind)."""

    id: str
    name: str
    kind: str
    params: dict = field(hash=False)
    sev_deg: int
    scene: tuple[str, ...]
    scheme: str
    period: str
    since: dt.date
    until: dt.date | None
    ref: str
    file: str

    @property
    def insutypes(self) -> frozenset[str] | None:
        """The 险种 the rule applies to (None: any)."""
        return None if self.scheme == "*" else frozenset(self.scheme.split("|"))

    def applies(self, insutype: str, adm_date: dt.date) -> bool:
        if self.insutypes is not None and insutype not in self.insutypes:
            return False
        return self.since <= adm_date and (self.until is None or adm_date <= self.until)


def load_rules(folder: str | Path | None = None, kinds: Mapping[str, ParamSpec] | None = None) -> list[Rule]:
    """Every rule of the ``*.yaml`` files in ``folder`` (default: the shipped library), in file then id
    order. ``kinds`` maps kind names to their parameter specs (default: every kind yibao knows)."""
    if kinds is None:
        from yibao.supervision.kinds import PARAMS as kinds
    root = RULES_DIR if folder is None else Path(folder)
    if not root.is_dir():
        raise PolicyError(f"{root}: not a folder of rule files")
    files = sorted(root.glob("*.yaml"))
    if not files:
        raise PolicyError(f"{root}: no *.yaml rule files")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        for rule in _read_file(path, kinds):
            if rule.id in seen:
                raise PolicyError(f"{path.name}: rule {rule.id}: id already used in {seen[rule.id]}")
            seen[rule.id] = path.name
            rules.append(rule)
    return rules


def _read_file(path: Path, kinds: Mapping[str, ParamSpec]) -> list[Rule]:
    doc = _read_yaml(path)
    if not isinstance(doc, Mapping) or set(doc) != {"rules"} or not isinstance(doc["rules"], Mapping):
        keys = ", ".join(map(str, doc)) if isinstance(doc, Mapping) else type(doc).__name__
        raise PolicyError(f"{path.name}: a rule file holds one key, rules: (a mapping of rule ids), got {keys}")
    return [_rule(str(rid), entry, path.name, kinds) for rid, entry in doc["rules"].items()]


def _rule(rid: str, entry: Any, file: str, kinds: Mapping[str, ParamSpec]) -> Rule:
    where = f"{file}: rule {rid}"
    if not isinstance(entry, Mapping):
        raise PolicyError(f"{where}: expected a mapping of {', '.join(RULE_KEYS)}, got {entry!r}")
    for key in entry:
        if str(key) not in RULE_KEYS:
            raise PolicyError(f"{where}: unknown key {key!r}{nearest(str(key), RULE_KEYS)}; known: {', '.join(RULE_KEYS)}")
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise PolicyError(f"{where}: missing {', '.join(missing)}")
    kind = str(entry["kind"])
    if kind not in kinds:
        raise PolicyError(f"{where}: kind: unknown kind {kind!r}{nearest(kind, kinds)}; known: {', '.join(sorted(kinds))}")
    since = _date(entry["since"], f"{where}: since")
    until = _date(entry["until"], f"{where}: until") if entry.get("until") is not None else None
    if until is not None and until < since:
        raise PolicyError(f"{where}: until {until} is before since {since}")
    return Rule(
        id=rid, name=_text(entry["name"], f"{where}: name"), kind=kind,
        params=kinds[kind].convert(entry.get("params"), where),
        sev_deg=_severity(entry["sev_deg"], where), scene=_scenes(entry["scene"], where),
        scheme=_scheme(entry.get("scheme", "*"), where),
        period=parse_type("one of " + " ".join(PERIODS)).convert(entry["period"], f"{where}: period"),
        since=since, until=until, ref=_citation(entry, where), file=file,
    )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: expected text, got {value!r}")
    return value.strip()


def _date(value: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PolicyError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _severity(value: Any, where: str) -> int:
    if isinstance(value, bool) or value not in SEVERITIES:
        choices = ", ".join(f"{k} {v}" for k, v in SEVERITIES.items())
        raise PolicyError(f"{where}: sev_deg: {value!r} is not one of {choices}")
    return int(value)


def _scenes(value: Any, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    spec = parse_type("one of " + " ".join(SCENES))
    out = tuple(spec.convert(v, f"{where}: scene") for v in items)
    if not out:
        raise PolicyError(f"{where}: scene: give at least one of {', '.join(SCENES)}")
    return out


def _scheme(value: Any, where: str) -> str:
    text = str(value)
    for part in text.split("|"):
        if part not in _SCHEME_WORDS:
            raise PolicyError(f"{where}: scheme: {part!r} is not a 险种 ({', '.join(sorted(_SCHEME_WORDS))})")
    return text


def _citation(entry: Mapping, where: str) -> str:
    ref, assumption = entry.get("ref"), entry.get("assumption")
    if (ref is None) == (assumption is None):
        raise PolicyError(f"{where}: give exactly one citation: ref (NHSA batch, 文号 or URL) or assumption (why)")
    if ref is not None:
        return _text(ref, f"{where}: ref")
    return "assumption: " + _text(assumption, f"{where}: assumption")


__all__ = ["PERIODS", "SCENES", "SEVERITIES", "ParamSpec", "Rule", "load_rules"]
