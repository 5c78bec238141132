"""National identifiers: 居民身份证号 (GB 11643), 统一社会信用代码 (GB 32100), 医保区划 (admdvs)
and 定点医药机构 codes. Each validator returns the normalised value or raises a ValidationError."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from yibao.errors import ValidationError

# GB 11643-1999: weights 2^(17-i) mod 11 and the check character for (sum mod 11).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# GB 32100-2015: 31 characters (no I, O, Z, S, V) and weights 3^i mod 31.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB/T 2260 province-level prefixes; every admdvs starts with one of them.
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split()
)


@dataclass(frozen=True)
class IdInfo:
    """What an ID number says of its holder."""

    number: str
    admdvs: str
    birth_date: date
    sex: str  # "1" male, "2" female (GB/T 2261.1)


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def parse_id_number(value: object, field: str = "certno") -> IdInfo:
    """Validate an 18-digit 居民身份证号 and derive birth date and sex from it."""
    s = str(value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", s):
        raise ValidationError(field, f"{s!r} is not 17 digits and a check character")
    if s[:2] not in PROVINCES:
        raise ValidationError(field, f"{s!r} has no valid province code {s[:2]!r}")
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise ValidationError(field, f"{s!r} holds no valid birth date {s[6:14]!r}") from None
    if born.year < 1880:
        raise ValidationError(field, f"{s!r} has an impossible birth year {born.year}")
    expected = id_check_char(s[:17])
    if s[17] != expected:
        raise ValidationError(field, f"{s!r} fails the GB 11643 check: last character should be {expected!r}")
    sex = "1" if int(s[16]) % 2 == 1 else "2"
    return IdInfo(number=s, admdvs=s[:6], birth_date=born, sex=sex)


def make_id_number(admdvs: str, birth_date: date, seq: int, sex: str) -> str:
    """Build a valid ID number (for synthetic data): seq 0–499, odd 17th digit for men."""
    d17 = 2 * (seq % 500) + (1 if sex == "1" else 0)
    base = f"{admdvs}{birth_date:%Y%m%d}{d17:03d}"
    return base + id_check_char(base)


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: object, field: str = "uscc") -> str:
    """Validate an 18-character 统一社会信用代码 (GB 32100 check character)."""
    s = str(value or "").strip().upper()
    if len(s) != 18 or any(c not in _CREDIT_CHARS for c in s):
        raise ValidationError(field, f"{s!r} is not 18 characters from the GB 32100 set")
    if s[2:4] not in PROVINCES:
        raise ValidationError(field, f"{s!r} has no valid region code {s[2:8]!r}")
    expected = credit_check_char(s[:17])
    if s[17] != expected:
        raise ValidationError(field, f"{s!r} fails the GB 32100 check: last character should be {expected!r}")
    return s


def make_credit_code(admdvs: str, serial: int, kind: str = "91") -> str:
    """Build a valid credit code (for synthetic data): kind '91' = enterprise, then admdvs and a serial."""
    body = f"{kind}{admdvs}"
    org = ""
    n = serial
    for _ in range(9):
        org = _CREDIT_CHARS[n % 31] + org
        n //= 31
    base = body + org
    return base + credit_check_char(base)


def validate_admdvs(value: object, field: str = "admdvs") -> str:
    """A 6-digit 医保区划 code (GB/T 2260 layout: province, city, county)."""
    s = str(value or "").strip()
    if not re.fullmatch(r"\d{6}", s):
        raise ValidationError(field, f"{s!r} is not a 6-digit admdvs code")
    if s[:2] not in PROVINCES:
        raise ValidationError(field, f"{s!r} has no valid province code {s[:2]!r}")
    return s


def pooling_region(admdvs: str) -> str:
    """The 统筹区 an admdvs belongs to: its prefecture (市级统筹, the level of the seeds' plans), so
    two districts of one city are the same pooling region."""
    return admdvs[:4] + "00" if len(admdvs) == 6 else admdvs


def validate_fixmedins_code(value: object, field: str = "fixmedins_code") -> str:
    """定点医疗机构 ``H`` + 6-digit area + 5 digits, or 定点零售药店 ``P`` + 11 digits."""
    s = str(value or "").strip().upper()
    if not re.fullmatch(r"[HP]\d{11}", s):
        raise ValidationError(field, f"{s!r} is not H or P followed by 11 digits")
    validate_admdvs(s[1:7], field)
    return s
