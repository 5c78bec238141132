"""Convert the CHS-DRG reference files into the version folders the grouper reads.

Run once; the output under ``payment/drg/data/`` is shipped and this script is kept so the data can
be rebuilt and checked::

    python -m yibao.payment.drg.build --reference /path/to/shared/reference/chs-drg

Sources (both OpenDRG, Apache-2.0; see ``data/chs-1.1/SOURCES.md``):

- ``CHS_DRG_11_rules/4_ADRG_DETAIL.txt``: the scheme's rule text — each MDC's principal-diagnosis
  table (主诊表) and each ADRG's entry rule with its code lists. Parsed into ``mdc_dx``, ``adrg``,
  ``adrg_rules`` and ``adrg_codes``.
- ``CHS_DRG_11_tables/*.dat``: the same scheme as clean key/value tables — DRG names, MCC/CC lists
  with their exclusion-table number, the exclusion tables (CCE: principal diagnosis → table) and the
  input-code → grouper-code maps. Its ``SS_VALID.dat`` mixes 手术室手术 with 非手术室操作 (96.7101
  呼吸机治疗, 03.3101 腰椎穿刺) and is not used: the grouper takes the OR procedures from the surgical
  ADRGs' lists (second letter A–J). The MCC/CC/CCE rule text is mangled by page
  joins, so these tables are the source for them.
- ``CHS_DRG_20_lists/``: CHS-DRG 2.0 ADRG and DRG names only (no rules).

Rule model written to ``adrg_rules.csv``: an ADRG has one or more alternatives (``alt``); an
alternative matches when all its conditions hold. Condition kinds:

``pdx``      the principal diagnosis is in the list (包含以下主要诊断)
``dx``       the principal or another diagnosis is in the list (主要诊断或其他诊断中包含 / 包含以下诊断)
``proc``     the procedure being placed (main first) is in the list (包含以下主要手术或操作)
``anyproc``  some procedure of the case is in the list (同时包含以下手术 … 和 …, 手术表 n)
``orproc``   the case has an OR procedure (全部手术; surgical ADRGs without a list)
``noproc``   the case has no OR procedure (且无手术)
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import re
import shutil
from collections import OrderedDict
from pathlib import Path

DATA = Path(__file__).parent / "data"

_CODE = re.compile(
    r"^(?:[A-Z]\d\d(?:\.[\dx]+)?(?:x\d+)?(?:[+*][A-Z]\d\d(?:\.\d+)?\*?)?|\d\d\.[\dxA-Z]{2,6}(?:x\d+)?)$"
)
_MDC = re.compile(r"^MDC([A-Z])$")
_ADRG = re.compile(r"^[A-Z]{2}\d$")
_TABLE = re.compile(r"^手术(?:表)?\s*(\d)：$")

# Age and birth-weight bands that the scheme states in the ADRG names: MDCP's ADRGs are for newborns
# (新生儿, 出生年龄 < 29 天) except PV1 (29 天 ≤ 出生年龄 < 1 周岁); PS1–PS4 by 出生体重 < 1500 g,
# 1500–1999 g, 2000–2499 g, > 2499 g.
_NEWBORN = dict(max_age_days=28)
_BANDS = {
    "PV1": dict(min_age_days=29, max_age_days=365),
    "PS1": dict(_NEWBORN, max_weight_g=1499), "PS2": dict(_NEWBORN, min_weight_g=1500, max_weight_g=1999),
    "PS3": dict(_NEWBORN, min_weight_g=2000, max_weight_g=2499), "PS4": dict(_NEWBORN, min_weight_g=2500),
}
_SEX = {"M": "1", "N": "2"}  # MDCM male only, MDCN female only


def adrg_kind(adrg: str) -> str:
    """CHS-DRG's second letter: A–J surgical (外科手术), K–Q operations (非手术室操作), R–Z medical (内科)."""
    c = adrg[1]
    return "surgical" if c <= "J" else "operation" if c <= "Q" else "medical"


def _clean(name: str) -> str:
    return name.replace("~~", "").strip()


# -- writing -----------------------------------------------------------------------------------

def write_csv(path: Path, header: list[str], rows) -> None:
    """CSV (gzip when the name ends in .gz, without a timestamp so rebuilds are byte-identical)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(data)
    else:
        path.write_bytes(data)


def read_kv(path: Path) -> list[tuple[str, str]]:
    """A ``code value`` table from DRG_Python (value may contain spaces)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            key, _, value = line.partition(" ")
            out.append((key, value.strip()))
    return out


# -- rule text ---------------------------------------------------------------------------------

def parse_detail(path: Path):
    """Parse 4_ADRG_DETAIL.txt into MDC tables and ADRG rules (see the module docstring)."""
    mdcs: OrderedDict[str, str] = OrderedDict()
    mdc_dx: list[tuple[str, str, str]] = []
    adrgs: OrderedDict[str, dict] = OrderedDict()
    mdc = part = None
    target = None  # ("mdc",) or ("adrg", adrg, list_id)
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        tok, _, rest = line.partition(" ")
        if _MDC.match(tok):
            mdc = tok
            if rest.strip() == "主诊表":
                target, part = ("mdc",), ""
            else:
                mdcs[mdc] = _clean(rest)
                target = None
            continue
        if _ADRG.match(tok):
            adrgs[tok] = dict(mdc=mdc, name=_clean(rest), blocks=[], line=n)
            target = None
            continue
        if _CODE.match(tok):
            if target is None:
                raise ValueError(f"{path.name} line {n}: code {tok} outside any list")
            if target[0] == "mdc":
                mdc_dx.append((mdc, part, tok))
            else:
                target[1]["blocks"][-1][1].append(tok)
            continue
        # a header line
        if target and target[0] == "mdc" and mdc == "MDCZ" and line.endswith("创伤"):
            part = line
            continue
        if target and target[0] == "mdc":
            continue  # "包含以下主要诊断：" under 主诊表
        cur = adrgs[next(reversed(adrgs))]
        cur["blocks"].append((line, []))
        target = ("adrg", cur)
    return mdcs, mdc_dx, adrgs


def adrg_rules(adrg: str, info: dict) -> tuple[list[tuple[int, str, str]], dict[str, list[str]]]:
    """Turn an ADRG's header/code blocks into (alt, kind, list id) conditions and its code lists."""
    lists: dict[str, list[str]] = {}
    conds: list[tuple[str, str]] = []
    tables: dict[str, str] = {}
    formula: list[list[str]] = []
    for i, (header, codes) in enumerate(info["blocks"]):
        lid = f"{adrg}.{i + 1}"
        if header.startswith("包含以下主要诊断+") or header.startswith("或包含以下主要诊断+"):
            formula.append([p.replace(" ", "") for p in header.split("+")[1:]])
            continue
        if codes:
            lists[lid] = codes
        if header == "包含以下主要诊断：" or header == "主要诊断：":
            conds.append(("pdx", lid))
        elif header in ("主要诊断或其他诊断中包含以下诊断：", "包含以下诊断："):
            conds.append(("dx", lid))
        elif header == "包含以下主要手术或操作：":
            conds.append(("proc", lid))
        elif header in ("同时包含以下手术：", "和"):
            conds.append(("anyproc", lid))
        elif m := _TABLE.match(header):
            tables[f"手术表{m.group(1)}"] = lid
        elif header in ("全部手术", "包含全部手术"):
            conds.append(("orproc", ""))
        elif header == "符合 MDCZ 主诊表，且无手术":
            conds.append(("noproc", ""))
        else:
            raise ValueError(f"{adrg}: unknown rule header {header!r}")
    kinds = {k for k, _ in conds}
    if adrg_kind(adrg) == "surgical" and not kinds & {"proc", "anyproc", "orproc"} and not formula:
        conds.append(("orproc", ""))  # e.g. WJ1 任何手术室手术, YC1 HIV 相关疾患的手术室手术
    if formula:  # 主要诊断 + 手术表 n + …, or …
        base = [c for c in conds]
        rows = []
        for alt, parts in enumerate(formula, 1):
            rows += [(alt, k, lid) for k, lid in base]
            rows += [(alt, "anyproc", tables[p]) for p in parts]
        return rows, lists
    if not conds:
        raise ValueError(f"{adrg}: no rule")
    return [(1, k, lid) for k, lid in conds], lists


# -- versions ----------------------------------------------------------------------------------

SOURCES = """# CHS-DRG {version} data — sources and licence

Derived from the OpenDRG projects, licensed under the Apache License 2.0 (text in `LICENSE.OpenDRG`):

- github.com/OpenDRG/DRG_Rules, commit ab57a5bd — the CHS-DRG 1.1 scheme text (国家医疗保障疾病诊断相关分组
  (CHS-DRG) 分组方案 1.1, 国家医保局 2021-05) re-keyed as plain text: MDC tables and ADRG entry rules.
- github.com/OpenDRG/DRG_Python, commit 5d523a26 — the same scheme as key/value tables: DRG names,
  MCC/CC lists, exclusion tables (CCE), diagnosis and procedure code maps.
- CHS-DRG 2.0 (2024-07) ADRG and DRG names (lists only; the 2.0 rules are not published there).

Converted by `yibao/payment/drg/build.py`; the files here are its output. Changes: code lists split
into the tables below; ADRG names cleaned of line-join marks; age and weight bands taken from the
ADRG names into columns. OR procedures (手术室手术) are not a table: the grouper takes them from
the lists of the surgical ADRGs (second letter A–J); OpenDRG's SS_VALID.dat, which mixes them with
非手术室操作, is not shipped.
"""

# the 1.1 tables' gaps, as the grouper meets them (appended to the 1.1 SOURCES.md)
GAPS_11 = """
## Known gaps of the scheme tables (kept as published)

The MDC tables list the codes under a sub-category (亚目) but not the sub-category's own code: I21.001
… I21.004 and I21.000x005 under I21.0, not I21.000 前壁急性透壁性心肌梗死, which 医保版 ICD-10 accepts.
The grouper groups such a code as its listed siblings when they all sit in the same tables (MDC, ADRG
lists, CC/MCC, exclusion table); where they differ (I10.x00) the code stays in no MDC.

155 principal diagnoses are in an MDC's 主诊表 but in no medical ADRG's principal-diagnosis list of
CHS-DRG 1.1 (29 of them in MDCO) (`4_ADRG_DETAIL.txt`, `MDC/*.dat`, `ADRG/*.dat` of the rule text agree). Such a case groups
only through a procedure that selects a surgical or operation ADRG; otherwise it is ungroupable
(`0000`) with a reason that says so. The notable ones are the normal deliveries of MDCO: O80.000 头位顺产,
O80.100 臀位顺产, O80.800, O80.900 单胎顺产 (also O84.000 多胎顺产); the others of MDCO are mostly
ectopic pregnancies and abortions that the tables place only with a procedure (OE1, OF1, OF2). OR1 阴道分娩 — the
only ADRG for a vaginal delivery without an obstetric procedure — lists the Z37 分娩结局 codes as its
principal diagnoses, not O80; OC1 阴道分娩伴手术操作 is entered by procedures such as 73.5900x002
头位阴道助产 and 73.6x01 会阴侧切缝合术. The grouper does not remap O80 to OR1: a region that codes a
normal delivery with O80 as principal diagnosis and no procedure sees it as ungroupable.
"""

_ATTRIBUTION = (
    "source: OpenDRG/DRG_Rules ab57a5bd and OpenDRG/DRG_Python 5d523a26 (see SOURCES.md)\n"
    "licence: Apache-2.0 (LICENSE.OpenDRG)\n"
)


def build_11(ref: Path, out: Path) -> None:
    rules_dir, tables_dir = ref / "CHS_DRG_11_rules", ref / "CHS_DRG_11_tables"
    mdcs, mdc_dx, adrgs = parse_detail(rules_dir / "4_ADRG_DETAIL.txt")
    names = dict(read_kv(rules_dir / "2_ADRG.txt"))
    out.mkdir(parents=True, exist_ok=True)

    write_csv(out / "mdc.csv", ["mdc", "name", "sex", "order"],
              [(m, n, _SEX.get(m[3], ""), i) for i, (m, n) in enumerate(mdcs.items(), 1)])
    write_csv(out / "mdc_dx.csv.gz", ["mdc", "part", "code"], mdc_dx)

    adrg_rows, rule_rows, code_rows = [], [], []
    for order, (adrg, info) in enumerate(adrgs.items(), 1):
        b = _BANDS.get(adrg, _NEWBORN if info["mdc"] == "MDCP" else {})
        adrg_rows.append((adrg, info["mdc"], _clean(names.get(adrg, info["name"])), adrg_kind(adrg), order,
                          b.get("min_age_days", ""), b.get("max_age_days", ""),
                          b.get("min_weight_g", ""), b.get("max_weight_g", ""), info["line"]))
        rules, lists = adrg_rules(adrg, info)
        rule_rows += [(adrg, alt, kind, lid) for alt, kind, lid in rules]
        code_rows += [(lid, c) for lid, codes in lists.items() for c in codes]
    write_csv(out / "adrg.csv", ["adrg", "mdc", "name", "kind", "order", "min_age_days", "max_age_days",
                                 "min_weight_g", "max_weight_g", "rule_line"], adrg_rows)
    write_csv(out / "adrg_rules.csv", ["adrg", "alt", "kind", "list"], rule_rows)
    write_csv(out / "adrg_codes.csv.gz", ["list", "code"], code_rows)

    write_csv(out / "drg.csv", ["drg", "adrg", "name"],
              [(d, d[:3], n) for d, n in read_kv(tables_dir / "DRG.dat")])
    cc = [(c, "MCC", t) for c, t in read_kv(tables_dir / "MCC.dat")]
    cc += [(c, "CC", t) for c, t in read_kv(tables_dir / "CC.dat")]
    write_csv(out / "cc.csv.gz", ["code", "level", "exclusion_table"], cc)
    write_csv(out / "cce.csv.gz", ["code", "exclusion_table"], read_kv(tables_dir / "CCE.dat"))
    write_csv(out / "dx.csv.gz", ["code", "name"], read_kv(tables_dir / "ZD_INFO.dat"))
    write_csv(out / "proc.csv.gz", ["code", "name"], read_kv(tables_dir / "SS_INFO.dat"))
    write_csv(out / "dx_map.csv.gz", ["code", "grouper_code"],
              [(a, b) for a, b in read_kv(tables_dir / "ZD_MAP.dat") if a != b])
    write_csv(out / "proc_map.csv.gz", ["code", "grouper_code"],
              [(a, b) for a, b in read_kv(tables_dir / "SS_MAP.dat") if a != b])

    (out / "version.yaml").write_text(
        "name: chs-1.1\n"
        "title: 国家医疗保障疾病诊断相关分组（CHS-DRG）分组方案 1.1\n"
        "published: 2021-05\n"
        "base: null\n"
        "rules: true\n"
        f"{_ATTRIBUTION}"
        f"counts: {{mdc: {len(mdcs)}, adrg: {len(adrgs)}, drg: {len(read_kv(tables_dir / 'DRG.dat'))}}}\n",
        encoding="utf-8")
    _attribution(ref, out, "1.1")


def build_20(ref: Path, out: Path) -> None:
    src = ref / "CHS_DRG_20_lists"
    out.mkdir(parents=True, exist_ok=True)

    def rows(name: str):
        for line in (src / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                code, _, n = line.replace("\t", " ").partition(" ")
                yield code.strip(), n.strip()

    adrg = list(rows("ADRG.dat"))
    drg = list(rows("DRG.dat"))
    write_csv(out / "adrg.csv", ["adrg", "mdc", "name", "kind"],
              [(a, "MDC" + a[0], n, adrg_kind(a)) for a, n in adrg])
    write_csv(out / "drg.csv", ["drg", "adrg", "name"], [(d, d[:3], n) for d, n in drg])
    (out / "version.yaml").write_text(
        "name: chs-2.0\n"
        "title: 国家医疗保障疾病诊断相关分组（CHS-DRG）分组方案 2.0\n"
        "published: 2024-07\n"
        "base: null\n"
        "rules: false\n"
        "source: CHS-DRG 2.0 (国家医保局 2024-07) ADRG and DRG name lists, as kept beside OpenDRG's tables "
        "(see SOURCES.md)\n"
        "note: only the ADRG and DRG code/name lists are available; the 2.0 grouping rules are not\n"
        f"counts: {{adrg: {len(adrg)}, drg: {len(drg)}}}\n",
        encoding="utf-8")
    _attribution(ref, out, "2.0")


def _attribution(ref: Path, out: Path, version: str) -> None:
    gaps = GAPS_11 if version == "1.1" else ""
    (out / "SOURCES.md").write_text(SOURCES.format(version=version) + gaps, encoding="utf-8")
    shutil.copyfile(ref / "LICENSE.OpenDRG-DRG_Rules", out / "LICENSE.OpenDRG")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=Path("/work/shared/reference/chs-drg"))
    ap.add_argument("--out", type=Path, default=DATA)
    args = ap.parse_args(argv)
    build_11(args.reference, args.out / "chs-1.1")
    build_20(args.reference, args.out / "chs-2.0")


if __name__ == "__main__":
    main()
