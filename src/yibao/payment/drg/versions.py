"""Grouper versions as data: a version is a folder of CSV tables; a local variant overlays another.

A version folder holds ``version.yaml`` (``name``, ``title``, ``base``, ``rules``) and the tables
written by ``build.py``. A local variant (地方版) is a folder whose ``version.yaml`` names a ``base``
version; each table it contains is merged onto the base's by the table's key: a row with a new key
is added, a row with an existing key replaces it, and a row whose ``_drop`` column is ``1`` removes
it. ``load_version("chs-1.1")`` reads a shipped version; any other argument is taken as a path.

Tables (``.csv`` or ``.csv.gz``, UTF-8, header row), as written by ``build.py``:

- ``mdc``: mdc, name, sex (1 male-only / 2 female-only / blank), order
- ``mdc_dx``: mdc, part (MDCZ body region), code — each MDC's principal-diagnosis table (主诊表)
- ``adrg``: adrg, mdc, name, kind (surgical / operation / medical), order, min/max_age_days,
  min/max_weight_g, rule_line
- ``adrg_rules``: adrg, alt, kind (pdx / dx / proc / anyproc / orproc / noproc), list
- ``adrg_codes``: list, code
- ``drg``: drg, adrg, name — the fourth characters present give the split (1/3/5 or 9)
- ``cc``: code, level (MCC / CC), exclusion_table; ``cce``: code, exclusion_table (principal
  diagnoses of each exclusion table)
- ``dx``, ``proc``: code, name (codes the grouper knows); ``dx_map``, ``proc_map``: code,
  grouper_code (input code → grouper code)
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from yibao.errors import PolicyError

DATA = Path(__file__).parent / "data"

# table → key columns (rows with equal keys replace each other when a variant overlays a base)
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "mdc": ("mdc",),
    "mdc_dx": ("mdc", "part", "code"),
    "adrg": ("adrg",),
    "adrg_rules": ("adrg", "alt", "kind", "list"),
    "adrg_codes": ("list", "code"),
    "drg": ("drg",),
    "cc": ("code",),
    "cce": ("code",),
    "dx": ("code",),
    "proc": ("code",),
    "dx_map": ("code",),
    "proc_map": ("code",),
}


@dataclass(frozen=True)
class VersionData:
    """The tables of one grouper version, after overlays, as lists of row dicts."""

    name: str
    meta: dict
    tables: dict[str, list[dict[str, str]]] = field(repr=False)
    folders: tuple[Path, ...] = ()

    @property
    def has_rules(self) -> bool:
        return bool(self.meta.get("rules"))

    def table(self, name: str) -> list[dict[str, str]]:
        if name not in self.tables:
            raise PolicyError(f"grouper version {self.name}: table {name} is missing")
        return self.tables[name]


def version_folder(version: str | Path) -> Path:
    """The folder of a shipped version name, or the given path."""
    p = DATA / str(version)
    if isinstance(version, str) and "/" not in version and p.is_dir():
        return p
    p = Path(version)
    if p.is_dir() and (p / "version.yaml").exists():
        return p
    shipped = ", ".join(sorted(d.name for d in DATA.iterdir() if d.is_dir()))
    raise PolicyError(f"grouper version {version!s}: no such version (shipped: {shipped}) "
                      "and no folder with a version.yaml there")


def available_versions() -> list[str]:
    return sorted(d.name for d in DATA.iterdir() if (d / "version.yaml").exists())


def _read_table(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    for n, row in enumerate(rows, 2):
        if None in row or any(v is None for v in row.values()):
            raise PolicyError(f"{path} line {n}: wrong number of columns")
    return rows


def _table_files(folder: Path) -> dict[str, Path]:
    out = {}
    for p in folder.iterdir():
        for suffix in (".csv.gz", ".csv"):
            if p.name.endswith(suffix):
                out[p.name[: -len(suffix)]] = p
    return out


def _merge(name: str, base: list[dict], overlay: list[dict], path: Path) -> list[dict]:
    keys = TABLE_KEYS.get(name)
    if keys is None:
        return overlay
    merged = {tuple(r[k] for k in keys): r for r in base}
    for n, row in enumerate(overlay, 2):
        missing = [k for k in keys if k not in row]
        if missing:
            raise PolicyError(f"{path} line {n}: key column {missing[0]} missing")
        key = tuple(row[k] for k in keys)
        if row.get("_drop", "").strip() == "1":
            merged.pop(key, None)
        else:
            merged[key] = {k: v for k, v in row.items() if k != "_drop"}
    return list(merged.values())


@lru_cache(maxsize=16)
def _load(folder: Path) -> VersionData:
    meta_path = folder / "version.yaml"
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{meta_path}: cannot read ({exc})") from exc
    if not isinstance(meta, dict) or "name" not in meta:
        raise PolicyError(f"{meta_path}: needs a mapping with a name")
    tables: dict[str, list[dict]] = {}
    folders: tuple[Path, ...] = (folder,)
    if meta.get("base"):
        b = str(meta["base"])
        base = load_version(b if (DATA / b).is_dir() else (folder / b).resolve())
        tables = dict(base.tables)
        folders = base.folders + folders
        meta = {**base.meta, **meta}
    for name, path in sorted(_table_files(folder).items()):
        rows = _read_table(path)
        tables[name] = _merge(name, tables[name], rows, path) if name in tables else rows
    return VersionData(name=str(meta["name"]), meta=meta, tables=tables, folders=folders)


def load_version(version: str | Path) -> VersionData:
    """Read a version folder (with its base, when it overlays one)."""
    return _load(version_folder(version).resolve())
