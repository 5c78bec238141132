"""按人头付费 (capitation) for primary care and family-doctor contracts (家庭医生签约).

Each contracted person brings ``annual per head × coefficient`` where the coefficient depends on
sex and age band (``payment.capitation.adjustment``, the row with the largest ``from_age`` ≤ age
for the person's sex). Amounts are rounded to the fen per person (by the pack's rounding), then summed per institution.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from yibao.money import Rounding
from yibao.payment.backends import require_columns, round_div
from yibao.payment.common import C, scaled
from yibao.policy import Params

__all__ = ["CapitationRules", "capitation_persons", "capitation_institutions"]


@dataclass(frozen=True)
class CapitationRules:
    annual_fen: int
    bands: dict  # sex → [(from_age, coef)] ascending
    rounding: Rounding = Rounding.HALF_UP

    @classmethod
    def from_params(cls, params: Params) -> "CapitationRules":
        p = params.node("payment.capitation")
        bands = defaultdict(list)
        for row in p["adjustment"]:
            bands[row["sex"]].append((row["from_age"], row["coef"]))
        return cls(p["annual_per_head"], {k: sorted(v) for k, v in bands.items()}, params.pack.rounding)


def capitation_persons(contracts: ir.Table, rules: CapitationRules) -> ir.Table:
    """Per contracted person (``psn_no, fixmedins_code, sex, age``): coefficient and amount."""
    require_columns(contracts, {"psn_no": "str", "fixmedins_code": "str", "sex": "str", "age": "int"}, "contracts")
    coef = ibis.literal(C, "int64")
    for sex, bands in sorted(rules.bands.items()):
        for from_age, value in bands:  # ascending: later bands override
            coef = ibis.ifelse((contracts.sex == sex) & (contracts.age >= from_age), scaled(value, C), coef)
    t = contracts.mutate(coef_e4=coef.cast("int64"))
    return t.mutate(amount_fen=round_div(t.coef_e4 * rules.annual_fen, C, rules.rounding).cast("int64"))


def capitation_institutions(persons: ir.Table) -> ir.Table:
    """Per institution: contracted persons and the year's capitation amount."""
    return persons.group_by("fixmedins_code").aggregate(
        persons=persons.count(), amount_fen=persons.amount_fen.sum().cast("int64"),
    ).order_by("fixmedins_code")
