"""举报 intake: the required fields, the acceptance deadline and the reward on the money recovered.

Pure: :func:`intake` checks a 举报 and dates its acceptance deadline (15 working days, 国家医疗保障局令第5号);
:func:`reward` is the share of the amount recovered by the case it became, between the 办法's floor and
cap (医保发〔2022〕22号 第十条), paid only to a named informant who can be reached (the 办法 rewards an
informant who gives a verifiable identity and contact; an anonymous 举报 is handled but not rewarded).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yibao.errors import ValidationError
from yibao.money import apply_rate, rate_to_ppm
from yibao.supervision.regulator.calendar import add_working_days
from yibao.supervision.regulator.cases import SUBJECTS
from yibao.supervision.regulator.params import Params

MIN_FACTS = 10  # characters: "骗保" alone names no act, date or place a check could start from


@dataclass(frozen=True)
class Report:
    """举报 as received: whom it names, what happened, and who reports (or ``anonymous``)."""

    report_no: str
    received_on: dt.date
    subject_kind: str
    subject_id: str
    facts: str
    informant: str | None = None
    contact: str | None = None
    anonymous: bool = False


def intake(report: Report, params: Params) -> dt.date:
    """The date by which the 举报 must be accepted or refused; a 举报 lacking a required field is refused."""
    record = f"report {report.report_no}"
    if report.subject_kind not in SUBJECTS:
        raise ValidationError("subject_kind", f"{report.subject_kind!r} is not one of {', '.join(SUBJECTS)}", record)
    if not (report.subject_id or "").strip():
        raise ValidationError("subject_id", "is empty: a 举报 names the institution or person reported", record)
    if len((report.facts or "").strip()) < MIN_FACTS:
        raise ValidationError("facts", f"give the facts (what, when, where) in at least {MIN_FACTS} characters", record)
    named = bool((report.informant or "").strip())
    if report.anonymous and named:
        raise ValidationError("informant", "an anonymous 举报 names no informant", record)
    if not report.anonymous and not (named and (report.contact or "").strip()):
        raise ValidationError("contact", "a named 举报 needs the informant's name and a contact; "
                              "or mark it anonymous", record)
    return add_working_days(report.received_on, params["report.accept_within_working_days"])


def reward(report: Report, recovered_fen: int, params: Params) -> int:
    """奖励 in fen: ``reward_rate`` of the money recovered, at least the floor and at most the cap."""
    record = f"report {report.report_no}"
    if report.anonymous:
        raise ValidationError("anonymous", "an anonymous 举报 is not rewarded: the 办法 pays an informant "
                              "who gives a verifiable identity", record)
    if recovered_fen <= 0:
        raise ValidationError("recovered", "the case recovered no money: the reward is a share of the loss found", record)
    share = apply_rate(recovered_fen, rate_to_ppm(params["report.reward_rate"], "report.reward_rate"))
    return min(max(share, params["report.reward_floor"]), params["report.reward_cap"])


__all__ = ["MIN_FACTS", "Report", "intake", "reward"]
