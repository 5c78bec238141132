"""Build the catalog part's shipped data from the public reference files.

Run once (the output under ``catalog/data/`` is shipped; this script is kept so the data can be
rebuilt and checked)::

    python -m yibao.catalog.build --reference /path/to/shared/reference

Sources, editions and licences are listed in ``catalog/data/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import io
import math
import re
from pathlib import Path

import pandas as pd

from yibao import vocab
from yibao.catalog.restrictions import Restriction, parse_restriction
from yibao.lake.schema import TABLES

DATA = Path(__file__).parent / "data"


def write_csv_gz(df: pd.DataFrame, path: Path) -> None:
    """Deterministic gzip (no timestamp in the header) so a rebuild gives identical bytes."""
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue().encode("utf-8"))


def read_ref(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# -- code sets ---------------------------------------------------------------------------------

def build_codes(ref: Path) -> None:
    codes = ref / "codes"
    for src, dst in (("CHS_ICD10.csv", "icd10.csv.gz"), ("CHS_ICD9_CM3.csv", "icd9cm3.csv.gz"),
                     ("CHS_TCM_DISEASE.csv", "tcm_disease.csv.gz"), ("CHS_TCM_SYMPTOM.csv", "tcm_syndrome.csv.gz")):
        df = read_ref(codes / src)
        df.columns = ["code", "name"]
        # the 中医 lists repeat rows and give some codes several names: one row per code, names joined
        df = df.drop_duplicates().groupby("code", sort=False, as_index=False)["name"].agg("；".join)
        write_csv_gz(df, DATA / dst)
    ch = read_ref(codes / "CHS_ICD10_CHAPTER.csv")
    ch = ch[ch["icdPid"] == "0"]
    out = pd.DataFrame({
        "chapter": ch["icdCode"].str.replace("第", "", regex=False).str.replace("章", "", regex=False),
        "name": ch["icdName"],
        "range": ch["remark"],
    })
    out.loc[out["chapter"] == "附录", "range"] = "M800-M998"  # 肿瘤形态学 appendix (M + 3/5 digits)
    out.to_csv(DATA / "icd10_chapters.csv", index=False, lineterminator="\n")


# -- the catalog -------------------------------------------------------------------------------

OPEN_FROM = dt.date(2021, 1, 1)  # assumption: the synthetic region applies these lists from 2021 on
B_PRESELFPAY_PPM = 100_000  # assumption: 乙类 先行自付 10% by default (packs may override)
HIGH_VALUE_CONSUMABLE_PPM = 200_000  # assumption: high-value 耗材 20%
SECTION_LETTER = {"西药部分": "A", "中成药部分": "A", "协议期内谈判药品部分-西药": "N",
                  "协议期内谈判药品部分-中成药": "N", "竞价药品部分": "B"}

# (unit, low, high yuan) of a synthetic price per dosage form / name form
WESTERN_FORMS = {
    "口服常释剂型": ("片", 0.1, 5), "缓释控释剂型": ("片", 0.5, 8), "注射剂": ("支", 2, 150),
    "颗粒剂": ("袋", 0.5, 5), "口服液体剂": ("瓶", 5, 40), "软膏剂": ("支", 5, 40), "乳膏剂": ("支", 5, 40),
    "凝胶剂": ("支", 5, 40), "眼膏剂": ("支", 5, 30), "眼用凝胶剂": ("支", 5, 30), "滴眼剂": ("支", 5, 50),
    "吸入剂": ("支", 30, 250), "栓剂": ("粒", 1, 10), "贴剂": ("贴", 5, 60), "口服散剂": ("袋", 0.5, 5),
    "口服混悬剂": ("瓶", 5, 40), "外用液体剂": ("瓶", 3, 30), "滴鼻剂": ("支", 5, 40), "滴耳剂": ("支", 5, 40),
}
DEFAULT_FORM = ("盒", 5, 60)
TCM_FORMS = [  # first match in the 中成药 name
    ("注射", ("支", 5, 60)), ("颗粒", ("袋", 1, 5)), ("胶囊", ("粒", 0.3, 3)), ("滴丸", ("丸", 0.05, 0.5)),
    ("口服液", ("支", 2, 8)), ("片", ("片", 0.2, 2)), ("丸", ("袋", 1, 6)), ("膏", ("盒", 10, 40)),
    ("散", ("袋", 1, 6)), ("合剂", ("瓶", 10, 40)), ("糖浆", ("瓶", 8, 30)), ("贴", ("贴", 2, 10)),
    ("栓", ("粒", 2, 8)),
]
NEGOTIATED_PRICE_FACTOR = (10, 20)  # confidential 谈判 prices: synthetic, well above generic ones

# 《关于确定城镇职工基本医疗保险诊疗项目管理…的意见》(劳社部发〔1999〕22号) lists service kinds the funds
# pay only in part (→ 乙类 here) and not at all (→ 丙类); the keyword rules below apply those lists to
# the Shaanxi names. No province publishes classes for services, so this is an assumption.
SERVICE_B = re.compile(
    r"(?:(?<![A-Za-z])CT(?![A-Za-z])|X线计算机体层|磁共振|正电子|单光子|数字减影|彩色多普勒|体外震波碎石|"
    r"体外冲击波碎石|高压氧|血液透析|腹膜透析|血液滤过|移植术|伽玛刀|X刀|质子|重离子|细胞免疫治疗)")
SERVICE_B_NOT = re.compile(r"测定|鉴定|试验|(?:胚胎|胚子|毛发)移植")
SERVICE_C = re.compile(
    r"美容|纹饰|脱毛|体检费|健康体检|减肥|祛斑|除皱|隆乳|隆鼻|重睑|心理咨询|咨询指导|预防保健|义齿|镶牙|"
    r"配镜|验光|助听器|临床鉴定|司法鉴定|(?<!急救)出诊|加急|特需|点名|工本|近视|牙齿漂白|腋臭|吸脂|脂肪抽吸|"
    r"胚胎移植|胚子移植|毛发移植|纹身|文身")



def service_class(name: str) -> tuple[str, int, str]:
    """(class, 先行自付 ppm, the rule that gave it) of a service item, by the keyword rules above."""
    if SERVICE_C.search(name):
        return "C", 0, "丙类 by rule (劳社部发〔1999〕22号 不予支付)"
    if SERVICE_B.search(name) and not SERVICE_B_NOT.search(name):
        return "B", B_PRESELFPAY_PPM, "乙类 by rule (劳社部发〔1999〕22号 支付部分费用)"
    return "A", 0, "甲类 by rule (default)"


CONSUMABLE_RANGES = {  # yuan per unit by 一级分类 (synthetic price caps)
    "骨科材料": (2000, 30000), "血管介入治疗类材料": (1000, 20000), "非血管介入治疗类材料": (500, 10000),
    "基础卫生材料": (1, 200), "止血防粘连材料": (100, 2000), "口腔材料": (20, 2000), "神经外科材料": (500, 20000),
    "修补材料": (200, 5000), "眼科材料": (100, 5000), "吻合器及附件": (1000, 8000), "功能性敷料": (10, 300),
    "注射穿刺类材料": (5, 200), "血液净化材料": (100, 1500), "人工器官、组织及配套材料": (2000, 50000),
    "心脏外科类材料": (1000, 30000), "体外循环材料": (500, 10000), "中医类材料": (1, 50),
}
HIGH_VALUE = {"骨科材料", "血管介入治疗类材料", "非血管介入治疗类材料", "神经外科材料", "人工器官、组织及配套材料",
              "心脏外科类材料", "体外循环材料", "吻合器及附件"}

# 丙类 drugs: kinds 《基本医疗保险用药管理暂行办法》(国家医保局令第1号, 2020) 第七条 keeps out of the
# catalog (减肥, 脱发, 性功能, 戒烟, 疫苗, 避孕, 保健/滋补, 泡腾剂); real generic names, synthetic prices.
C_DRUGS = [
    ("奥利司他胶囊", "粒", 3, 8, "减肥"), ("米诺地尔搽剂", "瓶", 60, 200, "脱发"), ("非那雄胺片(1mg)", "片", 3, 8, "脱发"),
    ("枸橼酸西地那非片", "片", 20, 100, "增强性功能"), ("他达拉非片", "片", 20, 80, "增强性功能"),
    ("酒石酸伐尼克兰片", "片", 5, 15, "戒烟"), ("冻干人用狂犬病疫苗(Vero细胞)", "支", 40, 300, "预防性疫苗"),
    ("重组带状疱疹疫苗", "支", 1300, 1700, "预防性疫苗"), ("九价人乳头瘤病毒疫苗", "支", 1200, 1400, "预防性疫苗"),
    ("流感病毒裂解疫苗", "支", 40, 150, "预防性疫苗"), ("左炔诺孕酮片", "片", 10, 30, "避孕"),
    ("屈螺酮炔雌醇片", "片", 3, 8, "避孕"), ("维生素C泡腾片", "片", 0.5, 2, "口服泡腾剂"),
    ("多维元素片", "片", 0.5, 3, "保健"), ("褪黑素片", "片", 0.5, 3, "保健"), ("辅酶Q10软胶囊", "粒", 1, 4, "保健"),
    ("鱼油软胶囊", "粒", 0.5, 3, "保健"), ("蛋白粉", "罐", 100, 400, "保健"), ("西洋参含片", "片", 0.5, 3, "滋补"),
    ("阿胶浆", "支", 5, 15, "滋补"), ("灵芝孢子粉胶囊", "粒", 2, 8, "滋补"), ("冬虫夏草胶囊", "粒", 5, 30, "滋补"),
    ("透明质酸钠修复贴", "贴", 10, 40, "美容"), ("氢醌乳膏", "支", 20, 80, "美容"),
]


def stable_unit(key: str) -> float:
    """A number in [0, 1) fixed by ``key`` (synthetic prices must not change between builds)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / 16 ** 12


def synthetic_fen(key: str, lo: float, hi: float) -> int:
    """A log-uniform synthetic price in [lo, hi] yuan, as integer fen (at least 1 fen)."""
    yuan = math.exp(math.log(lo) + stable_unit(key) * (math.log(hi) - math.log(lo)))
    return max(1, int(round(yuan * 100)))


PAY_STD = re.compile(r"([\d.]+)元[(（]")
_OPEN, _CLOSE = "(（[", ")）]"
_UNIT = re.compile(r"(?:每|/)([片粒袋支瓶丸贴盒枚套包剂])")


def _bracketed(text: str, start: int) -> str:
    """The text inside the bracket opened just before ``start`` (nested brackets kept)."""
    depth, j = 1, start
    while j < len(text) and depth:
        depth += text[j] in _OPEN
        depth -= text[j] in _CLOSE
        j += 1
    return text[start:j - 1] if depth == 0 else text[start:]


def _top_level(spec: str) -> str:
    out, depth = [], 0
    for ch in spec:
        depth += ch in _OPEN
        if depth == 0:
            out.append(ch)
        depth -= ch in _CLOSE
    return "".join(out)


def parse_payment_standard(text: str) -> tuple[int, str] | None:
    """``"63.00元(10mg/支)；…"`` → (6300, "支"): the first printed 支付标准 and the unit it is per
    (after the last top-level "/", or a "每片含…" form); "单位" when the text names none. None for ``*``."""
    m = re.match(r"\s*([\d.]+)元/([片粒袋支瓶丸贴盒])", text or "")
    if m:
        return int(round(float(m.group(1)) * 100)), m.group(2)
    m = PAY_STD.search(text or "")
    if not m:
        return None
    spec = _top_level(_bracketed(text, m.end()))
    unit = spec.rsplit("/", 1)[-1].strip() if "/" in spec else ""
    if not re.fullmatch(r"[片粒袋支瓶丸贴盒枚套包剂]", unit):
        u = _UNIT.findall(spec)
        unit = u[-1] if u else "支" if re.search(r"\d\s*ml\s*:", spec) else "单位"
    return int(round(float(m.group(1)) * 100)), unit


def parse_period(text: str) -> tuple[dt.date | None, dt.date | None]:
    d = [dt.date(int(y), int(m), int(dd)) for y, m, dd in re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text or "")]
    return (d[0], d[1]) if len(d) == 2 else (None, None)


def _row(code, kind, name, cls, ppm, price, unit, r: Restriction, text, begin, end, version, source) -> dict:
    return {
        "item_code": code, "kind": kind, "name": name, "item_class": cls, "preselfpay_ppm": ppm,
        "price_cap_fen": price, "unit": unit, "restrict_sex": r.sex, "restrict_min_age": r.min_age,
        "restrict_max_age": r.max_age, "inpatient_only": r.inpatient_only, "restrict_min_level": r.min_level,
        "required_dx": r.required_dx_text, "restriction_text": text or None, "begin_date": begin,
        "end_date": end, "version": version, "source": source,
    }


def _kb_drug_restrictions(ref: Path) -> dict[str, tuple[Restriction, str]]:
    """NHSA 两库 drug rules by drug name: sex, 儿童 age, 住院 only, level."""
    kb = read_ref(ref / "catalog" / "nhsa_rules_kb" / "drug_rules.csv")
    out: dict[str, Restriction] = {}
    for batch, name, rule, value in kb[["batch", "drug_name", "rule", "limit_value"]].itertuples(index=False):
        r = Restriction()
        if rule == "限定性别对象" and value in ("男", "女"):
            r.sex = "1" if value == "男" else "2"
        elif rule == "限定年龄对象" and value == "儿童":
            r.max_age = 17
        elif rule == "限定就医方式" and value == "住院":
            r.inpatient_only = True
        elif rule == "限定机构等级" and value in ("二级", "三级"):
            r.min_level = vocab.LEVEL_TWO if value == "二级" else vocab.LEVEL_THREE
        else:
            continue
        prev, why = out.get(name, (Restriction(), ""))
        out[name] = (prev.merge(r), ", ".join(filter(None, [why, f"{batch} {rule} {value}"])))
    return out


def _bare(name: str) -> str:
    return re.sub(r"[(（].*?[)）]", "", name)


def build_drugs(ref: Path) -> pd.DataFrame:
    d = read_ref(ref / "catalog" / "nrdl_2024_drugs.csv").rename(columns={"class": "cls"})
    kb = _kb_drug_restrictions(ref)
    forms = {f: i + 1 for i, f in enumerate(sorted(set(d["dosage_form"]) - {""}))}
    rows = []
    key = d["section"] + "|" + d["no"].str.extract(r"(\d+)", expand=False)
    d["variant"] = d.groupby(key).cumcount()
    for rec in d.itertuples(index=False):
        no = int(re.search(r"\d+", rec.no).group())
        cat5 = (rec.category_code[1:] + "00000")[:5]
        sec = SECTION_LETTER[rec.section]
        if rec.kind == "西药":
            form = f"F{forms.get(rec.dosage_form, 0):03d}"
            code = f"X{cat5}{sec}{no:04d}{form}{rec.variant:03d}00000"
            unit, lo, hi = WESTERN_FORMS.get(rec.dosage_form, DEFAULT_FORM)
        else:
            code = f"Z{cat5}{sec}{no:04d}{rec.variant:04d}00000"
            unit, lo, hi = next((u for k, u in TCM_FORMS if k in rec.name), DEFAULT_FORM)
        negotiated = sec != "A"
        std = parse_payment_standard(rec.payment_standard)
        if std:
            price, unit = std
            how = "支付标准 as printed"
        else:
            f = NEGOTIATED_PRICE_FACTOR if negotiated else (1, 1)
            price = synthetic_fen(code, lo * f[0], hi * f[1])
            how = "price synthetic" + (" (支付标准 confidential)" if rec.payment_standard == "*" else "")
        begin, end = parse_period(rec.agreement_period) if negotiated else (None, None)
        r = parse_restriction(rec.restriction)
        notes = []
        for nm in sorted({rec.name, _bare(rec.name), *rec.name.split("、")}):
            if nm in kb:
                r = r.merge(kb[nm][0])
                notes.append(f"restriction also from NHSA 两库 ({kb[nm][1]})")
        if rec.category_code.startswith("XB05BA"):
            r.inpatient_only = True
            notes.append("inpatient only by the 凡例 (胃肠外营养)")
        how = "; ".join([how, *notes])
        cls = "A" if rec.cls == "甲" else "B"
        name = rec.name + (f"({rec.dosage_form})" if rec.dosage_form else "")
        rows.append(_row(code, "drug", name, cls, 0 if cls == "A" else B_PRESELFPAY_PPM, price, unit, r,
                         rec.restriction, begin or OPEN_FROM, end, "NRDL-2024",
                         f"nrdl_2024_drugs.csv row {rec.source_row} ({rec.section} {rec.no}); {how}"))
    for i, (name, unit, lo, hi, why) in enumerate(C_DRUGS, 1):
        if name in set(d["name"]):
            continue
        code = f"X99999C{i:04d}F000000" + "00000"
        r, note = kb.get(name, (Restriction(), ""))
        note = f"; restriction from NHSA 两库 ({note})" if note else ""
        rows.append(_row(code, "drug", name, "C", 0, synthetic_fen(code, lo, hi), unit, r,
                         None, OPEN_FROM, None, "C-LIST",
                         f"assumption: 丙类 ({why}, 国家医保局令第1号 第七条); price synthetic{note}"))
    return pd.DataFrame(rows)


def _kb_service_limits(ref: Path) -> dict[str, Restriction]:
    """Sex and age limits of 15-digit NHSA service codes, keyed by the 9-digit code ("00"+9+"0000")."""
    kb = ref / "catalog" / "nhsa_rules_kb"
    out: dict[str, Restriction] = {}
    sex = read_ref(kb / "service_sex_limit_b1.csv")
    for code, v in sex[["国标代码", "限定性别"]].itertuples(index=False):
        if code.endswith("0000") and v in ("男", "女"):
            out.setdefault(code[2:11], Restriction()).sex = "1" if v == "男" else "2"
    age = read_ref(kb / "service_age_limit_b1.csv")
    max_age = {"儿童": 17, "婴幼儿": 2, "新生儿": 0}
    for code, v in age[["国标代码", "限定对象"]].itertuples(index=False):
        if code.endswith("0000") and v in max_age:
            out.setdefault(code[2:11], Restriction()).max_age = max_age[v]
    return out


def _yuan_fen(v: str) -> int | None:
    try:
        return int(round(float(v) * 100))
    except ValueError:
        return None


def build_services(ref: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = read_ref(ref / "catalog" / "shaanxi_2021_service_prices.csv")
    s = s[s["row_type"] == "item"]
    limits = _kb_service_limits(ref)
    rows, prices = [], []
    for rec in s.itertuples(index=False):
        lv = {"3": _yuan_fen(rec.price_level3), "2": _yuan_fen(rec.price_level2), "1": _yuan_fen(rec.price_level1)}
        lv = {k: v for k, v in lv.items() if v and v > 0}
        if not lv:
            continue  # priced elsewhere (sub-items) or 待定
        cap = lv.get("3", max(lv.values()))
        cls, ppm, rule = service_class(rec.name)
        r = limits.get(rec.code, limits.get(rec.code[:9], Restriction()))  # sub-items inherit the base's limits
        rows.append(_row(rec.code, "service", rec.name, cls, ppm, cap, rec.unit or "次", r, None, OPEN_FROM, None,
                         "SX-PRICE-2021",
                         f"shaanxi_2021_service_prices.csv row {rec.source_row} ({rec.sheet}); class: {rule}"))
        prices += [{"item_code": rec.code, "level": k, "price_fen": v} for k, v in lv.items()]
    return pd.DataFrame(rows), pd.DataFrame(prices)


def build_consumables(ref: Path) -> pd.DataFrame:
    m = read_ref(ref / "codes" / "CHS_MATERIAL.csv")
    m = m[m["isusing"] == "1"] if "isusing" in m else m
    first = m.sort_values("specificationCode").groupby("catalogcode", as_index=False).first()
    rows = []
    for rec in first.itertuples(index=False):
        code = rec.specificationCode + "00000"
        lo, hi = CONSUMABLE_RANGES.get(rec.catalogname1, (10, 1000))
        high = rec.catalogname1 in HIGH_VALUE
        name = f"{rec.catalogname3}({rec.matrial})" if rec.matrial and rec.matrial != "无" else rec.catalogname3
        rows.append(_row(code, "consumable", name, "B", HIGH_VALUE_CONSUMABLE_PPM if high else B_PRESELFPAY_PPM,
                         synthetic_fen(code, lo, hi), "个", Restriction(), None, OPEN_FROM, None, "CHS-MAT-2020",
                         f"CHS_MATERIAL.csv {rec.specificationCode} ({rec.catalogname1}/{rec.catalogname2}); "
                         "code = 15-char class code + 00000; price synthetic"))
    hc = read_ref(ref / "catalog" / "shaanxi_2021_special_materials.csv")
    hc = hc[hc["code"].str.len() == 7]
    for rec in hc.itertuples(index=False):
        code = f"C990000{int(rec.code[2:]):08d}00000"
        rows.append(_row(code, "consumable", rec.name.rstrip("。"), "B", B_PRESELFPAY_PPM,
                         synthetic_fen(code, 1, 100), "个", Restriction(), None, OPEN_FROM, None, "SX-MAT-2021",
                         f"shaanxi_2021_special_materials.csv row {rec.source_row} ({rec.code}); price synthetic"))
    return pd.DataFrame(rows)


def to_schema(df: pd.DataFrame) -> pd.DataFrame:
    """Columns and dtypes of the lake ``catalog`` schema (nullable ints, dates as datetime64[s])."""
    out = pd.DataFrame({f.name: df[f.name] for f in TABLES["catalog"]})
    for c in ("preselfpay_ppm", "price_cap_fen", "restrict_min_age", "restrict_max_age"):
        out[c] = out[c].astype("Int64")
    return out


def build_catalog(ref: Path) -> None:
    services, prices = build_services(ref)
    cat = pd.concat([build_drugs(ref), services, build_consumables(ref)], ignore_index=True)
    cat = to_schema(cat)
    dup = cat["item_code"][cat["item_code"].duplicated()]
    if len(dup):
        raise SystemExit(f"duplicate item codes: {dup.head().tolist()}")
    write_csv_gz(cat, DATA / "catalog.csv.gz")
    write_csv_gz(read_ref(ref / "catalog" / "nrdl_2024_categories.csv"), DATA / "drug_categories.csv.gz")
    write_csv_gz(prices.sort_values(["item_code", "level"]), DATA / "service_prices.csv.gz")
    print(f"catalog: {len(cat)} items ({cat['kind'].value_counts().to_dict()}, "
          f"{cat['item_class'].value_counts().to_dict()}); service prices: {len(prices)} rows")


# -- the NHSA 两库 rules ------------------------------------------------------------------------------

RULE_FILES = {  # reference file → (shipped name, {Chinese header: English column})
    "service_duplicate_charge_b7.csv": ("service_pairs", {
        "序号": "seq", "频度": "period", "主项名称": "main_name", "主项编码": "main_code",
        "从项名称": "sub_name", "从项编码": "sub_code", "备注": "note"}),
    "service_frequency_b8_1.csv": ("service_frequency", {
        "序号": "seq", "项目名称": "name", "限制数量": "max_qty", "数量单位": "per", "项目编码": "code"}),
    "service_period_b8_4.csv": ("service_period", {
        "序号": "seq", "项目名称": "name", "频次上限": "max_count", "疗程周期": "period_days", "备注": "note",
        "项目代码": "code"}),
    "service_course_b8_3.csv": ("service_course", {
        "序号": "seq", "项目名称": "name", "备注": "note", "项目代码": "code"}),
    "service_age_b8_2.csv": ("service_working_age", {
        "序号": "seq", "项目名称": "name", "备注": "note", "项目代码": "code"}),
    "service_sex_limit_b1.csv": ("service_sex_limits", {
        "项目名称": "name", "项目说明": "note", "国标代码": "code", "限定类型": "limit_type", "限定性别": "limit_value"}),
    "service_age_limit_b1.csv": ("service_age_limits", {
        "项目名称": "name", "国标代码": "code", "限定类型": "limit_type", "限定对象": "limit_value"}),
    "service_multi_surgery_b2.csv": ("service_multi_surgery", {
        "项目名称": "name", "项目说明": "note", "国标代码": "code", "限定类型": "limit_type", "限定值域": "group"}),
    "drug_rules.csv": ("drug_rules", {}),
    "drug_rule_codes.csv": ("drug_rule_codes", {}),
}


def build_rules(ref: Path) -> None:
    out = DATA / "rules"
    out.mkdir(exist_ok=True)
    for src, (name, header) in RULE_FILES.items():
        df = read_ref(ref / "catalog" / "nhsa_rules_kb" / src).rename(columns=header)
        write_csv_gz(df, out / f"{name}.csv.gz")
    print(f"rules: {len(RULE_FILES)} tables")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, required=True,
                    help="the reference folder (codes/ and catalog/ as described in data/SOURCES.md)")
    ap.add_argument("--only", choices=["codes", "catalog", "rules"], default=None)
    args = ap.parse_args(argv)
    DATA.mkdir(exist_ok=True)
    if args.only in (None, "codes"):
        build_codes(args.reference)
    if args.only in (None, "catalog"):
        build_catalog(args.reference)
    if args.only in (None, "rules"):
        build_rules(args.reference)


if __name__ == "__main__":
    main()
