import datetime as dt

import pandas as pd
import pytest

from yibao.errors import ValidationError
from yibao.fund.accounts import fund_accounts, lake_accounts
from yibao.policy.pack import load_pack
from yibao.settlement.batch import settle_lake
from yibao.synth.config import SynthConfig
from yibao.synth.generate import generate

ZERO = dict(hifp_pay=0, cvlserv_pay=0, hifes_pay=0, hifob_pay=0, hifmi_pay=0, maf_pay=0, oth_pay=0,
            acct_pay=0, acct_mulaid_pay=0)


def claim(cid, insutype, day, **paid):
    row = {"claim_id": cid, "insutype": insutype, "dscg_date": day} | ZERO | paid
    row["fund_pay_sumamt"] = sum(row[k] for k in ZERO if not k.startswith("acct"))
    return row


STATEMENTS = pd.DataFrame([
    claim("c1", "310", dt.date(2024, 1, 15), hifp_pay=10_000, hifob_pay=2_000, acct_pay=500),
    claim("c2", "310", dt.date(2024, 3, 2), hifp_pay=7_000, cvlserv_pay=300, acct_mulaid_pay=40),
    claim("c3", "390", dt.date(2024, 3, 31), hifp_pay=5_000, hifmi_pay=1_200, maf_pay=800, acct_mulaid_pay=60),
])
CONTRIBUTIONS = pd.DataFrame([
    {"psn_no": "p1", "year": 2024, "insutype": "310", "employer_fen": 90_000, "individual_fen": 30_000,
     "subsidy_fen": 0, "sponsored_fen": 0},
    {"psn_no": "p2", "year": 2024, "insutype": "390", "employer_fen": 0, "individual_fen": 40_000,
     "subsidy_fen": 67_000, "sponsored_fen": 0},
    {"psn_no": "p3", "year": 2024, "insutype": "390", "employer_fen": 0, "individual_fen": 0,
     "subsidy_fen": 67_000, "sponsored_fen": 40_000},
    {"psn_no": "p1", "year": 2023, "insutype": "310", "employer_fen": 1, "individual_fen": 1,
     "subsidy_fen": 0, "sponsored_fen": 0},  # another year: not this year's income
])
ACCRUALS = pd.DataFrame({"psn_no": ["p1", "p1"], "month": [1, 2], "amount_fen": [2_500, 2_500]})


def test_hand_built_year_books_each_field_to_its_fund():
    acc = fund_accounts(STATEMENTS, CONTRIBUTIONS, ACCRUALS, 2024)
    f = acc.funds.set_index("name")
    assert f.loc["职工统筹", "spending_fen"] == 17_000
    assert f.loc["居民统筹", "spending_fen"] == 5_000
    assert f.loc["职工大额", "spending_fen"] == 2_000
    assert f.loc["公务员补助", "spending_fen"] == 300
    assert f.loc["大病保险", "spending_fen"] == 1_200
    assert f.loc["医疗救助", "spending_fen"] == 800
    assert f.loc["个人账户", "spending_fen"] == 600
    # 职工: 120,000 due, 5,000 of it accrues to the accounts; 居民: 40,000 + 67,000 + 67,000 + 40,000
    assert f.loc["职工统筹", "income_fen"] == 115_000
    assert f.loc["个人账户", "income_fen"] == 5_000
    assert f.loc["居民统筹", "income_fen"] == 214_000
    assert f.loc["职工统筹", "surplus_fen"] == 98_000
    assert pd.isna(f.loc["大病保险", "income_fen"])  # financed outside the registry: no figure, not 0


def test_months_follow_the_discharge_date():
    m = fund_accounts(STATEMENTS, CONTRIBUTIONS, ACCRUALS, 2024).monthly
    pool = m[m["name"] == "职工统筹"].set_index("month")["spending_fen"]
    assert (pool[1], pool[2], pool[3], pool[12]) == (10_000, 0, 7_000, 0)
    acct = m[m["name"] == "个人账户"].set_index("month")
    assert list(acct["income_fen"][:3]) == [2_500, 2_500, 0]
    assert acct.loc[3, "spending_fen"] == 100


def test_a_claim_of_another_year_is_named():
    bad = pd.concat([STATEMENTS, pd.DataFrame([claim("c9", "390", dt.date(2025, 1, 2), hifp_pay=1)])])
    with pytest.raises(ValidationError, match="c9") as e:
        fund_accounts(bad, CONTRIBUTIONS, ACCRUALS, 2024)
    assert e.value.field == "dscg_date"


def test_a_fund_total_that_does_not_add_up_is_an_error():
    bad = STATEMENTS.copy()
    bad.loc[0, "fund_pay_sumamt"] += 1  # the row claims a fen no fund field paid
    with pytest.raises(ValidationError, match="fund accounts book"):
        fund_accounts(bad, CONTRIBUTIONS, ACCRUALS, 2024)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    out = tmp_path_factory.mktemp("fundlake")
    generate(SynthConfig(persons=300, seed=11), out)
    pack = load_pack("zibo")
    rows, _ = settle_lake(out, pack)
    return out, pack, rows


def test_synthetic_year_reconciles_to_the_fen_with_the_settlement_rows(lake):
    folder, pack, rows = lake
    acc = lake_accounts(folder, pack, rows)
    f = acc.funds.set_index("name")
    assert acc.spending_fen() == int(rows["fund_pay_sumamt"].sum() + rows["acct_pay"].sum()
                                     + rows["acct_mulaid_pay"].sum())
    assert f.loc["职工统筹", "spending_fen"] == int(rows.loc[rows["insutype"] == "310", "hifp_pay"].sum())
    assert f.loc["居民统筹", "spending_fen"] == int(rows.loc[rows["insutype"] == "390", "hifp_pay"].sum())
    assert f.loc["医疗救助", "spending_fen"] == int(rows["maf_pay"].sum())
    assert int(acc.monthly["spending_fen"].sum()) == acc.spending_fen()
    january = rows[pd.to_datetime(rows["dscg_date"]).dt.month == 1]
    m = acc.monthly.set_index(["name", "month"])
    assert m.loc[("职工统筹", 1), "spending_fen"] == int(january.loc[january["insutype"] == "310", "hifp_pay"].sum())


def test_synthetic_income_is_the_registry_contributions(lake):
    from yibao.lake.io import read_table
    from yibao.registry.contributions import contributions_for_year

    folder, pack, rows = lake
    enrollments = read_table(folder, "enrollments").to_pandas()
    due = contributions_for_year(enrollments, read_table(folder, "identities").to_pandas(), pack, 2024)
    money = ["employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"]
    f = lake_accounts(folder, pack, rows).funds.set_index("name")
    assert f.loc["职工统筹", "income_fen"] + f.loc["个人账户", "income_fen"] == due.loc[due["insutype"] == "310", money].to_numpy().sum()
    assert f.loc["居民统筹", "income_fen"] == due.loc[due["insutype"] == "390", money].to_numpy().sum()
