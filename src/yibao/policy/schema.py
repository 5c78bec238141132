"""The schema of policy packs: every parameter a pack may hold, with its type, in one declaration.

A pack is read against :data:`PARAMETERS`, a tree that mirrors the pack's folders, files and keys
(``benefits/pooling.yaml`` → ``benefits.pooling.*``); a leaf is the type of that parameter's value.
A key the tree does not declare is an error that names the nearest declared key, so a misspelled key
(``band_mod``) cannot be ignored silently and change the money. A ``*`` key stands for any name
(band tables are named by the pack).

Types (the word a pack writes as ``unit`` first):

* ``yuan`` — an amount in yuan (two decimals at most), ≥ 0, held as integer fen;
* ``yuan or none`` — the same, or the word ``none``: no cap / no limit (:data:`NO_LIMIT`);
* ``rate`` — a share in [0, 1]; ``signed rate`` — rate points or a change in [−1, 1] (unit ``rate``);
* ``number`` — a multiple, ratio or coefficient ≥ 0 (a DRG outlier multiple, a 3.00 base ceiling);
* ``int`` — a whole number ≥ 0; ``text``; ``bool``; ``one of w1 w2 …`` — one of the words (unit ``text``);
* ``list of T`` / ``map of T`` — a list, or a mapping of names, of ``T`` values;
* ``rows(column=type, …)`` — a table: a list of rows with these columns; ``type, required`` marks a
  column every row must have.

:data:`NEEDS` says which parameters a tier needs once it is in force (a tier without its cap is an
error, not "pays 0"): ``cap: none`` says "no cap" explicitly.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from yibao.errors import PolicyError, ValidationError
from yibao.money import to_decimal, yuan_to_fen


class _NoLimit:
    """The value of a cap or limit written ``none``: no cap. One object, kept by copies and pickles."""

    def __repr__(self) -> str:
        return "none"

    def __copy__(self) -> "_NoLimit":
        return self

    def __deepcopy__(self, memo: dict) -> "_NoLimit":
        return self

    def __reduce__(self) -> str:
        return "NO_LIMIT"


NO_LIMIT = _NoLimit()

UNITS = ("yuan", "rate", "number", "int", "text", "bool")


@dataclass(frozen=True)
class Scalar:
    """One value: its unit word, bounds, allowed words (an enum) and whether ``none`` is allowed."""

    unit: str
    low: Decimal | None = None
    high: Decimal | None = None
    words: tuple[str, ...] = ()
    none: bool = False

    def describe(self) -> str:
        if self.words:
            return "one of " + ", ".join(self.words)
        text = {"yuan": "an amount in yuan ≥ 0", "int": "a whole number ≥ 0", "text": "text",
                "bool": "true or false"}.get(self.unit)
        if text is None:
            text = f"a rate in [{self.low}, {self.high}]" if self.high is not None else f"a number ≥ {self.low}"
        return text + (" or none (no limit)" if self.none else "")

    def convert(self, value: Any, where: str) -> Any:
        if value is None:
            raise PolicyError(f"{where}: empty value; expected {self.describe()}")
        if self.none and (value == "none" or value is NO_LIMIT):
            return NO_LIMIT
        try:
            return self._convert(value, where)
        except ValidationError as e:
            raise PolicyError(f"{where}: {e.problem}; expected {self.describe()}") from None

    def _convert(self, value: Any, where: str) -> Any:
        if self.unit == "bool":
            if not isinstance(value, bool):
                raise PolicyError(f"{where}: expected true or false, got {value!r}")
            return value
        if self.unit == "text":
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise PolicyError(f"{where}: expected {self.describe()}, got {value!r}")
            if self.words and str(value) not in self.words:
                raise PolicyError(f"{where}: {value!r} is not {self.describe()}{nearest(str(value), self.words)}")
            return str(value)
        if self.unit == "yuan":
            out = yuan_to_fen(value, where)
            number = Decimal(out) / 100
        else:
            number = out = to_decimal(value, where)
            if self.unit == "int":
                if number != number.to_integral_value():
                    raise PolicyError(f"{where}: expected a whole number, got {value!r}")
                out = int(number)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise PolicyError(f"{where}: {value!r} is out of range; expected {self.describe()}")
        return out


@dataclass(frozen=True)
class Many:
    """A list (``shape`` list) or a mapping of names (``shape`` map) of one scalar type."""

    item: Scalar
    shape: str

    @property
    def unit(self) -> str:
        return self.item.unit

    def convert(self, value: Any, where: str) -> Any:
        if self.shape == "list":
            if not isinstance(value, list):
                raise PolicyError(f"{where}: expected a list of {self.item.describe()}, got {value!r}")
            return [self.item.convert(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, Mapping):
            raise PolicyError(f"{where}: expected a mapping of names to {self.item.describe()}, got {value!r}")
        return {str(k): self.item.convert(v, f"{where}.{k}") for k, v in value.items()}


@dataclass(frozen=True)
class Rows:
    """A table: a list of rows, each a mapping of declared columns; ``required`` columns in every row."""

    columns: Mapping[str, Scalar]
    required: frozenset[str]

    @property
    def unit(self) -> dict[str, str]:
        return {k: c.unit for k, c in self.columns.items()}

    def convert(self, value: Any, where: str) -> list[dict]:
        if not isinstance(value, list):
            raise PolicyError(f"{where}: expected a list of rows ({', '.join(self.columns)}), got {value!r}")
        return [self._row(row, f"{where}[{i}]") for i, row in enumerate(value)]

    def _row(self, row: Any, where: str) -> dict:
        if not isinstance(row, Mapping):
            raise PolicyError(f"{where}: expected a row mapping, got {row!r}")
        for key in row:
            if str(key) not in self.columns:
                raise PolicyError(f"{where}: unknown column {key!r}{nearest(str(key), self.columns)}; "
                                  f"columns: {', '.join(self.columns)}")
        missing = [c for c in self.columns if c in self.required and c not in row]
        if missing:
            raise PolicyError(f"{where}: missing column(s) {', '.join(missing)}")
        return {str(k): self.columns[str(k)].convert(v, f"{where}.{k}") for k, v in row.items()}


Spec = Scalar | Many | Rows

_ONE = Decimal(1)
_SCALARS = {
    "yuan": Scalar("yuan", Decimal(0)),
    "rate": Scalar("rate", Decimal(0), _ONE),
    "signed rate": Scalar("rate", -_ONE, _ONE),
    "number": Scalar("number", Decimal(0)),
    "int": Scalar("int", Decimal(0)),
    "text": Scalar("text"),
    "bool": Scalar("bool"),
}


def parse_type(text: str) -> Spec:
    """``'yuan or none'``, ``'list of text'``, ``'one of stay year none'`` … → a type."""
    text = " ".join(text.split())
    for shape in ("list", "map"):
        if text.startswith(f"{shape} of "):
            item = parse_type(text[len(shape) + 4:])
            if not isinstance(item, Scalar):
                raise ValueError(f"schema: {text!r}: a {shape} holds scalars")
            return Many(item, shape)
    if text.startswith("one of "):
        return Scalar("text", words=tuple(text[7:].split()))
    base, none = (text[:-8], True) if text.endswith(" or none") else (text, False)
    if base not in _SCALARS:
        raise ValueError(f"schema: unknown type {text!r}")
    scalar = _SCALARS[base]
    return Scalar(scalar.unit, scalar.low, scalar.high, none=True) if none else scalar


def rows(**columns: str) -> Rows:
    """A table type: ``rows(identity="text, required", rate="rate", …)``."""
    required = frozenset(k for k, t in columns.items() if t.endswith(", required"))
    types = {k: parse_type(t.removesuffix(", required")) for k, t in columns.items()}
    if any(not isinstance(t, Scalar) for t in types.values()):
        raise ValueError("schema: table columns are scalars")
    return Rows(types, required)


def _bands() -> Rows:
    return rows(**{"from": "yuan, required", "rate": "rate, required"})


def _trim() -> dict:
    return {
        "rule": "one of sd percentile mean_multiple none",
        "sd_multiple": "number", "low_percentile": "rate", "high_percentile": "rate",
        "low_multiple": "number", "high_multiple": "number", "min_cases": "int",
    }


# -- the parameters ----------------------------------------------------------------------------
# Patterns (insutype, med, level, psn, identity …) are text: "*" any, "a|b" either.
PARAMETERS: dict = {
    "contribution": {
        "employee": {
            "average_wage": "yuan", "base_floor_share": "rate", "base_ceiling_share": "number",
            "employer_rate": "rate", "employee_rate": "rate", "flexible_rate": "rate",
            "retirees_exempt": "bool", "maternity_rate": "rate",
        },
        "resident": {
            "individual_fee": "yuan", "fiscal_subsidy": "yuan", "max_subsidy_ratio": "number",
            "sponsored_share": "map of rate",
        },
    },
    "account": {
        "active_share_of_base": "rate",
        "flexible_workers_accrue": "bool",
        "retiree_monthly": rows(from_age="int, required", amount="yuan, required"),
        "family_mutual_aid": "bool",
    },
    "benefits": {
        "scope": {"med_groups": "map of text", "stay_groups": "list of text", "default_preselfpay": "rate",
                  "item_rates": rows(item_code="text, required", preselfpay="rate", fund_rate="rate, required",
                                     ref="text")},
        "pooling": {
            "rules": rows(insutype="text", med="text, required", level="text", institution="text", psn="text",
                          deductible="yuan", per="one of stay year none", rate="rate", bands="text",
                          band_basis="one of stay year", cap_group="text", deductible_group="text", ref="text"),
            "bands": {"*": _bands()},
            "nth_stay": rows(insutype="text", mode="one of factor step, required", factor="rate", step="yuan",
                             floor="yuan", waive_from="int", levels="text"),
            "nth_stay_deductibles": rows(insutype="text", levels="text", stay="int, required",
                                         deductible="yuan, required", ref="text"),
            "age_bonus": rows(insutype="text", from_age="int, required", points="signed rate, required"),
            "deductible_free_age": rows(insutype="text", from_age="int, required"),
            "tier_points": rows(tier="int, required", points="signed rate, required"),
            "caps": rows(insutype="text", group="text, required", amount="yuan or none, required", ref="text"),
        },
        "chronic": {
            "diseases": rows(code="text, required", name="text", insutype="text", rate="rate, required",
                             annual_limit="yuan or none, required", deductible="yuan", ref="text"),
        },
        "out_of_area": {
            "by_filing": rows(filing="text, required", rate_cut="rate", preselfpay="rate", ref="text"),
        },
        "large_expense": {
            "shape": "one of above_cap threshold none", "rate": "rate", "threshold": "yuan",
            "cap": "yuan or none", "cap_groups": "list of text",
        },
        "civil_servant": {"rate": "rate", "cap": "yuan or none"},
        "enterprise_supplementary": {
            "insutypes": "list of text", "base": "one of in_scope personal", "deductible": "yuan",
            "rate": "rate", "cap": "yuan or none",
        },
        "serious_illness": {
            "insutypes": "list of text", "deductible": "yuan", "band_mode": "one of absolute above_deductible",
            "bands": _bands(), "cap": "yuan or none",
            "tilt": {"identities": "list of text", "deductible_factor": "rate", "rate": "rate",
                     "rate_points": "signed rate", "cap": "yuan or none"},
        },
        "assistance": {
            "categories": rows(identity="text, required", deductible="yuan", rate="rate, required",
                               annual_limit="yuan or none, required", ref="text"),
            "priority": "list of text",
            "exclude_unfiled_penalty": "bool",
        },
        "burden_ceiling": {
            "rules": rows(identity="text, required", med="text", level="text", in_region_only="bool",
                          share="rate, required", payer="one of hospital assistance, required", ref="text"),
        },
        "supplementary": {
            "tiers": rows(name="text, required", insutype="text", deductible="yuan", rate="rate, required",
                          cap="yuan or none, required", out_of_scope="bool", voluntary="bool", ref="text"),
        },
        "waivers": {
            "list": rows(name="text, required", dx_prefix="text", identity="text", lift_scope="bool",
                         lift_cap="bool", lift_deductible="bool", ref="text"),
        },
        "account": {"pays": "one of all in_catalog", "med_groups": "list of text"},
        "maternity": {
            "allowance_numerator": "int", "allowance_denominator": "int", "extra_baby_days": "int",
            "days": rows(birth="text, required", days="int, required"),
            "counts_as": "map of text", "region_extra_days": "map of int",
        },
        "ltc": {
            "benefits": rows(insutype="text", level="text", setting="text, required",
                             kind="one of monthly daily rate, required", amount="yuan", rate="rate",
                             daily_limit="yuan", ref="text"),
        },
    },
    "payment": {
        "budget": {"pools": "map of rate", "growth_rate": "signed rate", "advance_share": "rate",
                   "method": "one of dip drg"},
        "capitation": {
            "annual_per_head": "yuan",
            "adjustment": rows(sex="text, required", from_age="int, required", coef="number, required"),
        },
        "clearing": {"savings_band": "rate", "savings_keep_share": "rate", "overrun_band": "rate",
                     "overrun_fund_share": "rate"},
        "per_diem": {
            "departments": "map of text",
            "bands": rows(kind="text, required", from_day="int, required", rate="yuan, required"),
        },
        "drg": {
            "history_years": "int",
            "trim": _trim(),
            "outlier": {"high_multiple": "number", "low_multiple": "number", "high_pay_rate": "rate",
                        "low_pay_rate": "rate"},
            "review": {"cost_multiple": "number", "los_days": "int", "approved_pay_rate": "rate"},
            "share_of_inpatient_fund": "rate",
            "reimbursement_ratio": "rate",
        },
        "dip": {
            "history_weights": "list of int",
            "core_min_cases": "int",
            "trim": _trim(),
            "score_scale": "int",
            "deviation": {"low_ratio": "number", "high_ratio": "number"},
            "review": {"cost_multiple": "number", "approved_pay_rate": "rate"},
            "auxiliary": {
                "age_bands": rows(from_age="int, required", coef="number, required"),
                "cc_coef": "number", "mcc_coef": "number", "death_coef": "number",
                "short_stay_days": "int", "short_stay_coef": "number",
            },
            "institution": {"level_coef": "map of number", "primary_coef": "number",
                            "primary_diagnoses": "list of text"},
            "reimbursement_ratio": "rate",
        },
    },
    "fund": {
        # 基金风险预警线: a figure of a scheme's year (months_of_payment 累计结存可支付月数, surplus_rate 当期结余率,
        # balance_to_income 累计结存 ÷ 当年收入) crossing ``value`` on ``side`` raises a warning of ``level``
        "warning": {
            "lines": rows(insutype="text, required",
                          figure="one of months_of_payment surplus_rate balance_to_income, required",
                          side="one of below above, required", value="number, required", level="text, required",
                          meaning="text, required", ref="text"),
        },
        # the actuarial forecast (yibao.fund.forecast): growth scenarios, demography the lake cannot measure
        "forecast": {
            "cost_growth": rows(scenario="one of low central high, required",
                                care="one of inpatient outpatient, required", rate="signed rate, required",
                                ref="text"),
            "income_growth": rows(scenario="one of low central high, required", insutype="one of 310 390, required",
                                  rate="signed rate, required", ref="text"),
            "retirement": rows(sex="one of 1 2, required", base_age="int, required", target_age="int, required",
                               step_months="int, required", from_year="int, required", ref="text"),
            "switches": rows(origin="one of active resident, required", to="one of active resident, required",
                             from_age="int, required", to_age="int, required", rate="rate, required", ref="text"),
            "mortality_slope": "number",
            "net_migration_rate": "signed rate",
            "sex_ratio_at_birth": "number",
        },
        # IBNR (yibao.fund.ibnr): the share of a claim kind's money settled at each month of delay
        "ibnr": {
            "lags": rows(kind="one of local_outpatient local_inpatient remote_outpatient remote_inpatient, required",
                         delay_months="int, required", share="rate, required", ref="text"),
        },
        # 收支预算 (yibao.fund.budget)
        "budget": {"min_surplus_rate": "rate", "reserve_ibnr": "bool"},
        # 高额医疗费用支出: a person's year of 自付 + 自费 above catastrophic_share × disposable_income
        "burden": {"disposable_income": "yuan", "catastrophic_share": "rate"},
        # 基金账户 (yibao.fund.accounts): what finances the funds the registry does not, and interest
        "income": {"serious_illness_per_capita": "yuan", "large_expense_levy": "yuan", "assistance_budget": "yuan"},
        "interest": {"current_rate": "rate", "carried_rate": "rate"},
    },
}

@dataclass(frozen=True)
class Needs:
    """When ``when`` is in force (and, with ``unless``, not that word), every ``needs`` path must be too."""

    when: str
    needs: tuple[str, ...]
    unless: str | None = None
    hint: str = "write value: none for no cap or limit"


NEEDS = (
    Needs("benefits.pooling.rules", ("benefits.scope.med_groups", "benefits.pooling.caps", "benefits.scope.default_preselfpay"),
          hint="extend the national pack for med_groups; every cap group needs a caps row"),
    Needs("benefits.large_expense.shape", ("benefits.large_expense.rate", "benefits.large_expense.cap"), unless="none"),
    Needs("benefits.civil_servant.rate", ("benefits.civil_servant.cap",)),
    Needs("benefits.enterprise_supplementary.insutypes",
          ("benefits.enterprise_supplementary.rate", "benefits.enterprise_supplementary.cap")),
    Needs("benefits.serious_illness.insutypes",
          ("benefits.serious_illness.deductible", "benefits.serious_illness.bands", "benefits.serious_illness.cap")),
)

# pack.yaml: what a pack says about itself
META_KEYS = ("name", "title", "title_en", "admdvs", "rounding", "extends", "description")
# a parameter node, and one dated value of it
PARAMETER_KEYS = ("description", "unit", "values", "note")
VALUE_KEYS = ("value", "ref", "note")


def _compile(node: dict) -> dict:
    return {k: _compile(v) if isinstance(v, dict) else (parse_type(v) if isinstance(v, str) else v)
            for k, v in node.items()}


TREE = _compile(PARAMETERS)


def nearest(key: str, known) -> str:
    close = difflib.get_close_matches(key, [k for k in known if k != "*"], n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def child(node: dict, key: str, prefix: str, where: str) -> dict | Spec:
    """The schema below ``prefix`` for ``key``; an unknown key names the nearest declared one."""
    if key in node:
        return node[key]
    if "*" in node:
        return node["*"]
    full = f"{prefix}.{key}" if prefix else key
    raise PolicyError(f"{where}: unknown key {full!r}{nearest(key, node)}; "
                      f"known under {prefix or 'a pack'}: {', '.join(k for k in node if k != '*')}")


def schema_at(parts: tuple[str, ...] | list[str], where: str) -> dict | Spec:
    """The schema below the keys ``parts`` (a group of parameters, or one parameter's type)."""
    node: dict | Spec = TREE
    prefix = ""
    for key in parts:
        if not isinstance(node, dict):
            raise PolicyError(f"{where}: {prefix!r} is one parameter; it has no key {key!r}")
        node = child(node, key, prefix, where)
        prefix = f"{prefix}.{key}" if prefix else key
    return node


def spec_of(path: str, where: str) -> Spec:
    """The type of the parameter at a dotted ``path`` (an error if the schema declares none there)."""
    node = schema_at(path.split("."), where)
    if isinstance(node, dict):
        raise PolicyError(f"{where}: {path!r} is a group of parameters ({', '.join(node)}), not one parameter")
    return node


def check_unit(unit: Any, spec: Spec, where: str) -> None:
    """A pack's ``unit`` must agree with the schema's (it documents the value for a reader)."""
    if isinstance(spec, Rows):
        if not isinstance(unit, Mapping):
            raise PolicyError(f"{where}: unit {unit!r}: this parameter is a table with columns {spec.unit}")
        for col, u in unit.items():
            if str(col) not in spec.columns:
                raise PolicyError(f"{where}: unit: unknown column {col!r}{nearest(str(col), spec.columns)}; "
                                  f"columns: {', '.join(spec.columns)}")
            if u != spec.columns[str(col)].unit:
                raise PolicyError(f"{where}: unit: column {col!r} is {spec.columns[str(col)].unit}, not {u!r}")
        return
    if unit != spec.unit:
        hint = f" (one of {', '.join(UNITS)})" if unit not in UNITS else ""
        raise PolicyError(f"{where}: unit {unit!r}{hint} does not match the schema: {spec.unit}")


__all__ = ["NO_LIMIT", "NEEDS", "META_KEYS", "PARAMETERS", "TREE", "Many", "Needs", "Rows", "Scalar", "check_unit",
           "child", "nearest", "parse_type", "rows", "schema_at", "spec_of"]
