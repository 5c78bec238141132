"""Structured conditions read from the 限定支付范围 (payment restriction) text of catalog items.

The catalog prints restrictions as free text ("限二级及以上医疗机构癌症患者。"). Settlement and supervision
need them as data: sex, age range, inpatient only, minimum institution level and required diagnoses
(ICD-10 prefixes). :func:`parse_restriction` recognises the common, unambiguous shapes and leaves the
rest to the text (a condition the parser cannot read is never guessed):

* 限女性 / 限男性 → sex ``"2"`` / ``"1"`` (GB/T 2261.1 codes, as in the national interface);
* 限儿童 → age ≤ 17; 限新生儿 → age 0; 限成人 / (≥18岁) → age ≥ 18; 限N岁至M岁 / 限N-M岁 → the range;
  限N岁以上 / 及以上 → age ≥ N — only when the text has one clause (a numbered list may name other groups);
* 限住院 / 限住院患者 / 限住院使用 → inpatient only;
* 限二级及以上医疗机构 → level ≥ ``"2"``; 限三级医疗机构 → ``"3"``;
* 限…(诊断明确的)…患者 naming diseases of :data:`DISEASE_PREFIXES` → the '|'-joined ICD-10 prefixes,
  set only when every listed indication maps to a known disease (else a patient with an unlisted
  indication would be wrongly refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from yibao import vocab

__all__ = ["DISEASE_PREFIXES", "Restriction", "parse_restriction", "merge_prefixes"]

MAX_CHILD_AGE = 17  # 儿童: under 18 (未成年人保护法 第二条), an assumption for 限儿童
ADULT_AGE = 18

# Curated disease words of 限定支付范围 texts → ICD-10 category prefixes (医保版 ICD-10 chapters).
# Longer, more specific words are matched first; a clause's prefixes are the union of its matches.
DISEASE_PREFIXES: dict[str, tuple[str, ...]] = {
    "糖尿病": ("E10", "E11", "E12", "E13", "E14"),
    "高血压": ("I10", "I11", "I12", "I13", "I15"),
    "肺动脉高压": ("I27.0", "I27.2"),
    "冠心病": ("I20", "I21", "I22", "I23", "I24", "I25"),
    "心绞痛": ("I20",),
    "心肌梗死": ("I21", "I22"),
    "急性冠脉综合征": ("I20.0", "I21", "I22", "I24"),
    "心力衰竭": ("I50",),
    "心衰": ("I50",),
    "心房颤动": ("I48",),
    "房颤": ("I48",),
    "脑梗死": ("I63",),
    "脑梗塞": ("I63",),
    "缺血性脑卒中": ("I63",),
    "脑出血": ("I61",),
    "癌": ("C",),
    "恶性肿瘤": ("C",),
    "肿瘤": ("C", "D0", "D1", "D2", "D3", "D4"),
    "肺癌": ("C34",),
    "乳腺癌": ("C50",),
    "胃癌": ("C16",),
    "结直肠癌": ("C18", "C19", "C20"),
    "肝细胞癌": ("C22",),
    "肝癌": ("C22",),
    "前列腺癌": ("C61",),
    "卵巢癌": ("C56",),
    "宫颈癌": ("C53",),
    "鼻咽癌": ("C11",),
    "食管癌": ("C15",),
    "食管鳞癌": ("C15",),
    "胰腺癌": ("C25",),
    "甲状腺癌": ("C73",),
    "肾细胞癌": ("C64",),
    "尿路上皮癌": ("C65", "C66", "C67", "C68"),
    "黑色素瘤": ("C43",),
    "淋巴瘤": ("C81", "C82", "C83", "C84", "C85", "C86", "C88"),
    "白血病": ("C91", "C92", "C93", "C94", "C95"),
    "骨髓瘤": ("C90",),
    "类风湿关节炎": ("M05", "M06"),
    "类风湿": ("M05", "M06"),
    "强直性脊柱炎": ("M45",),
    "银屑病": ("L40",),
    "系统性红斑狼疮": ("M32",),
    "痛风": ("M10",),
    "骨质疏松": ("M80", "M81", "M82"),
    "乙型肝炎": ("B16", "B18.0", "B18.1"),
    "慢性乙肝": ("B18.0", "B18.1"),
    "丙型肝炎": ("B17.1", "B18.2"),
    "艾滋病": ("B20", "B21", "B22", "B23", "B24", "Z21"),
    "结核": ("A15", "A16", "A17", "A18", "A19"),
    "慢性阻塞性肺疾病": ("J44",),
    "慢性阻塞性肺病": ("J44",),
    "慢阻肺": ("J44",),
    "COPD": ("J44",),
    "哮喘": ("J45", "J46"),
    "特发性肺纤维化": ("J84.1",),
    "帕金森": ("G20",),
    "癫痫": ("G40", "G41"),
    "阿尔茨海默": ("G30", "F00"),
    "多发性硬化": ("G35",),
    "肌萎缩侧索硬化": ("G12.2",),
    "精神分裂症": ("F20",),
    "抑郁": ("F32", "F33"),
    "慢性肾脏病": ("N18",),
    "肾功能衰竭": ("N17", "N18", "N19"),
    "肾衰竭": ("N17", "N18", "N19"),
    "肝硬化": ("K74",),
    "溃疡性结肠炎": ("K51",),
    "克罗恩病": ("K50",),
    "反流性食管炎": ("K21",),
    "胃食管反流": ("K21",),
    "消化性溃疡": ("K25", "K26", "K27"),
    "十二指肠溃疡": ("K26",),
    "血友病": ("D66", "D67", "D68"),
    "黄斑变性": ("H35.3",),
    "青光眼": ("H40", "H42"),
    "偏头痛": ("G43",),
    "变应性鼻炎": ("J30",),
    "过敏性鼻炎": ("J30",),
    "肾性贫血": ("N18", "D63.8"),
    "肾功能不全": ("N18", "N19"),
    "深静脉血栓": ("I80", "I82"),
    "肺栓塞": ("I26",),
    "胃、十二指肠溃疡": ("K25", "K26"),
    "缺血性卒中": ("I63",),
    "心肌炎": ("I40", "I41", "I51.4"),
    "肢端肥大症": ("E22.0",),
    "乙肝": ("B16", "B18.0", "B18.1"),
    "丙肝": ("B17.1", "B18.2"),
    "肝病": ("K70", "K71", "K72", "K73", "K74", "K75", "K76", "K77", "B15", "B16", "B17", "B18", "B19"),
    "肝炎": ("K70", "K71", "K72", "K73", "K74", "K75", "K76", "K77", "B15", "B16", "B17", "B18", "B19"),
}
# words that look like a disease but are not one here (淋巴瘤激酶 = ALK, 肿瘤坏死因子 = TNF)
_NOT_DISEASE = {"淋巴瘤": "激酶", "肿瘤": "坏死因子"}
# texts whose indications include non-diagnostic situations (抢救, surgery, tests, 母婴阻断): no dx rule
_NON_DX_SITUATIONS = re.compile(r"抢救|急救|重症|手术|术后|术前|检查|母婴|预防|麻醉|示踪|造影")
_WORDS = sorted(DISEASE_PREFIXES, key=len, reverse=True)
_WORD_RE = re.compile("|".join(
    re.escape(w) + (f"(?!{_NOT_DISEASE[w]})" if w in _NOT_DISEASE else "") for w in _WORDS))

_CLAUSE_SPLIT = re.compile(r"[；;]|(?<![\d.])\d+[.、．](?!\d)")
_NUMBERED = re.compile(r"(?<![\d.])[1-9][.、．](?!\d)")


@dataclass
class Restriction:
    """Structured conditions of one item; ``None`` / ``False`` / empty = no such condition."""

    sex: str | None = None  # "1" male, "2" female
    min_age: int | None = None
    max_age: int | None = None
    inpatient_only: bool = False
    min_level: str | None = None  # "2" = 二级及以上, "3" = 三级
    required_dx: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required_dx_text(self) -> str | None:
        return "|".join(self.required_dx) if self.required_dx else None

    def merge(self, other: "Restriction") -> "Restriction":
        """Both sets of conditions (the stricter where both give one)."""
        lo = [a for a in (self.min_age, other.min_age) if a is not None]
        hi = [a for a in (self.max_age, other.max_age) if a is not None]
        lv = [a for a in (self.min_level, other.min_level) if a is not None]
        return Restriction(
            sex=self.sex or other.sex,
            min_age=max(lo) if lo else None,
            max_age=min(hi) if hi else None,
            inpatient_only=self.inpatient_only or other.inpatient_only,
            min_level=max(lv) if lv else None,
            required_dx=self.required_dx or other.required_dx,
        )

    @property
    def empty(self) -> bool:
        return self == Restriction()


def merge_prefixes(prefixes) -> tuple[str, ...]:
    """Sorted, without prefixes already covered by a shorter one (``C`` covers ``C34``)."""
    out: list[str] = []
    for p in sorted(set(prefixes), key=lambda s: (len(s), s)):
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return tuple(sorted(out))


def _ages(text: str) -> tuple[int | None, int | None]:
    t = text.replace("～", "-").replace("~", "-").replace("至", "-").replace("－", "-")
    if re.search(r"限(?:用于)?新生儿", t) and "成人" not in t:
        return None, 0
    if re.search(r"限(?:用于)?(?:婴幼儿)", t) and "成人" not in t:
        return None, 2
    m = re.search(r"限(\d{1,2})岁?-(\d{1,2})岁(以下)?", t)
    if m:
        return int(m.group(1)), int(m.group(2)) - (1 if m.group(3) else 0)
    m = re.search(r"限(\d{1,2})岁(?:及\1岁)?(?:以上|及以上)", t)
    if m:
        return int(m.group(1)), None
    if re.match(r"限(?:用于)?儿童", t) and "成人" not in t:
        return None, MAX_CHILD_AGE
    if (re.match(r"限(?:用于)?成人", t) or "(≥18岁)" in t or "（≥18岁）" in t) \
            and not re.search(r"儿童|青少年|婴|(?<!≥18)岁", t):
        return ADULT_AGE, None
    return None, None


def _diagnoses(text: str) -> tuple[str, ...]:
    body = text.strip("。. ")
    if not body.startswith("限") or _NON_DX_SITUATIONS.search(body):
        return ()  # 功能主治 text of some 谈判中成药, or indications beyond diagnoses
    body = re.sub(r"^限[:：]?", "", body)
    # the part after "应同时符合以下条件" / "需…处方" lists prescribing conditions, not indications
    body = re.split(r"应同时符合|同时符合以下|需.{0,12}医师", body)[0]
    clauses = [c for c in _CLAUSE_SPLIT.split(body) if c and c.strip(" 。.，,")]
    if not clauses:
        return ()
    found: list[str] = []
    for clause in clauses:
        words = _WORD_RE.findall(clause)
        if not words:
            return ()
        for w in words:
            found.extend(DISEASE_PREFIXES[w])
    return merge_prefixes(found)


def parse_restriction(text: str | None) -> Restriction:
    """The structured conditions a 限定支付范围 text states (see the module docstring for the shapes)."""
    if not text or not isinstance(text, str):
        return Restriction()
    t = text.strip()
    r = Restriction()
    if re.search(r"限(?:用于)?(?:[^，。；]{0,12})?女性", t) and not re.search(r"男性", t):
        r.sex = "2"
    elif re.search(r"限(?:用于)?(?:[^，。；]{0,12})?男性", t) and not re.search(r"女性", t):
        r.sex = "1"
    if not _NUMBERED.search(t):
        r.min_age, r.max_age = _ages(t)
    if re.search(r"限住院(?:患者|病人|使用|期间)?", t):
        r.inpatient_only = True
    if re.search(r"限三级(?:医疗机构|医院)", t):
        r.min_level = vocab.LEVEL_THREE
    elif re.search(r"限二级(?:及|或)以上(?:医疗机构|医院)", t):
        r.min_level = vocab.LEVEL_TWO
    r.required_dx = _diagnoses(t)
    return r
