"""Masking of personal data before it reaches a log: ID numbers, names, telephones and addresses.

Two nets. :func:`mask_payload` masks the envelope fields that carry a person's identity, by field name,
wherever they sit; it also masks ID numbers found in any other string. :class:`IdNumberLogFilter` masks
ID numbers in every log message, for what reaches a log as text. Names cannot be found in free text, so
structured payloads must go through :func:`mask_payload` before they are logged.

Clinicians' names (``dr_name``, ``bilg_dr_name`` …) are left as they are: they identify staff acting in
their role, which supervision reads. Empty values and the interface's ``null`` placeholder stay as sent.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

# An 18-character 居民身份证号码 (GB 11643): region (6), birth date (8, year 18xx–20xx), sequence (3), check
# (digit or X). Requiring a plausible date spares other 18-digit numbers (settlement ids, amounts) in logs.
ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])")
_SEPARATORS = frozenset(" ·•・.-")
_PLACEHOLDERS = frozenset({"", "null", "none"})


def _stars(value: str, head: int, tail: int) -> str:
    """``value`` with all but ``head`` leading and ``tail`` trailing characters starred (all, if short)."""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail:]


def _unless_placeholder(mask: Callable[[str], str]) -> Callable[[object], object]:
    def masked(value: object) -> object:
        if value is None or str(value).strip().lower() in _PLACEHOLDERS:
            return value
        return mask(str(value))
    masked.__name__, masked.__doc__ = mask.__name__, mask.__doc__
    return masked


@_unless_placeholder
def mask_certno(value: str) -> str:
    """An 18-character 身份证 keeps its first 6 (region) and last 4; other certificate or card numbers keep
    2 and 2 (a short one is starred whole). ``110101199003071234`` → ``110101********1234``."""
    if len(value) == 18:
        return _stars(value, 6, 4)
    return _stars(value, 2, 2) if len(value) >= 8 else "*" * len(value)


@_unless_placeholder
def mask_name(value: str) -> str:
    """The first character kept, every other letter starred, separators kept: 张三 → 张*, 欧阳娜娜 → 欧***,
    买买提·艾力 → 买**·**. A one-character name is starred whole."""
    if len(value) == 1:
        return "*"
    return value[0] + "".join(c if c in _SEPARATORS else "*" for c in value[1:])


@_unless_placeholder
def mask_tel(value: str) -> str:
    """First 3 and last 4 kept: 13812345678 → 138****5678."""
    return _stars(value, 3, 4)


@_unless_placeholder
def mask_addr(value: str) -> str:
    """The first 6 characters (about province and city) kept, the rest replaced by ``***``."""
    return value[:6] + "***" if len(value) > 6 else "***"


def mask_text(text: str) -> str:
    """``text`` with every ID number in it masked by :func:`mask_certno`."""
    return ID_NUMBER.sub(lambda match: mask_certno(match.group()), text)


FIELD_MASKS: dict[str, Callable[[object], object]] = {
    **dict.fromkeys(("certno", "psn_cert_no", "mdtrt_cert_no", "card_sn", "coner_certno"), mask_certno),
    **dict.fromkeys(("psn_name", "patn_name", "name", "coner_name", "opter_name", "agnter_name"), mask_name),
    **dict.fromkeys(("tel", "coner_tel", "mob", "agnter_tel"), mask_tel),
    **dict.fromkeys(("addr", "coner_addr", "live_addr", "resd_addr", "agnter_addr"), mask_addr),
}


def mask_payload(obj: object) -> object:
    """A masked copy of a JSON envelope: fields named in ``FIELD_MASKS`` masked at any depth, ID numbers
    masked in every other string, and a string holding JSON (an ``input`` sent as text) masked inside."""
    if isinstance(obj, dict):
        return {key: _mask_field(key, value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [mask_payload(item) for item in obj]
    if isinstance(obj, str):
        return _mask_string(obj)
    return obj


def _mask_field(key: object, value: object) -> object:
    mask = FIELD_MASKS.get(str(key).lower())
    if mask is not None and not isinstance(value, (dict, list)):
        return mask(value)
    return mask_payload(value)


def _mask_string(text: str) -> str:
    if text.lstrip()[:1] in ("{", "["):
        try:
            inner = json.loads(text)
        except ValueError:
            return mask_text(text)
        return json.dumps(mask_payload(inner), ensure_ascii=False)
    return mask_text(text)


class IdNumberLogFilter(logging.Filter):
    """Masks ID numbers in a record's message and traceback; never drops a record.

    Attach it to the handler (``handler.addFilter(IdNumberLogFilter())``): a logger's own filters do not see
    records that its child loggers pass up.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format: keep both, masked
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True
