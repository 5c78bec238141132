""""No cap" is said explicitly (``none``) and means the same in every tier; a missing cap is refused."""

import datetime as dt
from decimal import Decimal

import pytest

from yibao.errors import PolicyError
from yibao.policy import load_pack
from yibao.policy.schema import spec_of
from yibao.settlement import claim_from, settle, settle_frame
from yibao.settlement.plan import NOCAP, Kind, plan_for
from yibao.settlement.synthetic import claims_frames

DAY = dt.date(2024, 3, 1)
CATEGORIES = "benefits.assistance.categories"


def tekun_stay(amount_yuan: int):
    return claim_from({"claim_id": "C1", "person": {"insutype": "390", "psn_type": "16", "age": 75, "identities": ["tekun"]},
                       "med_type": "21", "institution": {"level": "3"}, "adm_date": "2024-02-20", "dscg_date": str(DAY),
                       "lines": [{"class": "A", "amount": amount_yuan}]}, "test")


def as_written(path: str, **change):
    """The demo's rows of a table as a pack writes them (yuan, not fen), with columns changed."""
    columns = spec_of(path, "test").columns
    return [{k: Decimal(v) / 100 if columns[k].unit == "yuan" and isinstance(v, int) else v for k, v in {**r, **change}.items()}
            for r in load_pack("demo").at(DAY)[path]]


def with_tekun_limit(limit):
    rows = [r if r["identity"] != "tekun" else dict(r, annual_limit=limit) for r in as_written(CATEGORIES)]
    return load_pack("demo").reform({CATEGORIES: {"2024-01-01": rows}}, name=f"tekun-limit-{limit}")


def test_an_assistance_category_with_limit_none_pays_without_limit():
    claim = tekun_stay(600_000)
    limited = settle(claim, with_tekun_limit(100_000))
    assert limited["maf_pay"] == 10_000_000 and limited["psn_part_amt"] > 0  # 10万 a year
    free = with_tekun_limit("none")
    unlimited = settle(claim, free)
    assert unlimited["maf_pay"] > 10_000_000 and unlimited["psn_part_amt"] == 0  # 特困 100%, nothing left
    frame, lines = claims_frames([claim])
    assert int(settle_frame(frame, lines, free)["maf_pay"].iloc[0]) == unlimited["maf_pay"]  # batch agrees


def test_none_means_no_cap_in_every_tier():
    demo = load_pack("demo")
    reform = demo.reform({
        "benefits.pooling.caps": {"2024-01-01": as_written("benefits.pooling.caps", amount="none")},
        "benefits.large_expense.cap": {"2024-01-01": "none"},
        "benefits.civil_servant.cap": {"2024-01-01": "none"},
        "benefits.enterprise_supplementary.cap": {"2024-01-01": "none"},
        "benefits.serious_illness.cap": {"2024-01-01": "none"},
        CATEGORIES: {"2024-01-01": as_written(CATEGORIES, annual_limit="none")},
        "benefits.supplementary.tiers": {"2024-01-01": as_written("benefits.supplementary.tiers", cap="none")},
    })
    plan = plan_for(reform, DAY)
    employee = plan.resolve(Kind("310", "21", "3", "11", 45, "", 0, "", "", True, "", "mutual_aid|huiminbao", "", True)).values
    resident = plan.resolve(Kind("390", "21", "3", "16", 75, "tekun", 0, "", "", False, "")).values
    caps = {"cap": employee["cap"], "ob_cap": employee["ob_cap"], "cvl_cap": employee["cvl_cap"],
            "es_cap": employee["es_cap"], "sup0_cap": employee["sup0_cap"], "sup1_cap": employee["sup1_cap"],
            "mi_cap": resident["mi_cap"], "maf_limit": resident["maf_limit"], "resident cap": resident["cap"]}
    assert caps == dict.fromkeys(caps, NOCAP)
    baseline = plan_for(demo, DAY).resolve(Kind("390", "21", "3", "16", 75, "tekun", 0, "", "", False, "")).values
    assert (baseline["cap"], baseline["maf_limit"]) == (15_000_000, 10_000_000)


def test_an_assistance_category_without_a_limit_is_refused():
    rows = [{k: v for k, v in r.items() if k != "annual_limit"} for r in as_written(CATEGORIES)]
    with pytest.raises(PolicyError, match=r"categories: 2024-01-01\[0\]: missing column\(s\) annual_limit"):
        load_pack("demo").reform({CATEGORIES: {"2024-01-01": rows}})


def test_a_pooling_rule_whose_cap_group_has_no_cap_is_refused():
    rows = [r for r in as_written("benefits.pooling.caps") if r["group"] != "pooling"]
    reform = load_pack("demo").reform({"benefits.pooling.caps": {"2024-01-01": rows}})
    with pytest.raises(PolicyError, match="cap group 'pooling', which has no benefits.pooling.caps row for insutype 390"):
        settle(tekun_stay(1_000), reform)
