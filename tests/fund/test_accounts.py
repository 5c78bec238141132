"""The fund accounts by month on hand-built statements and registry, each figure computed by hand; the
clearing against institution payments; the synthetic year reconciling to the fen."""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from yibao.errors import ValidationError
from yibao.fund.accounts import fund_accounts, lake_accounts
from yibao.fund.clearing import InstitutionPayments, clearing_lines
from yibao.fund.income import AccountRules, enrolment_months, registry_lines
from yibao.money import Rounding
from yibao.policy.pack import load_pack
from yibao.settlement.batch import settle_lake
from yibao.synth.config import SynthConfig
from yibao.synth.generate import generate

ZERO = dict(hifp_pay=0, cvlserv_pay=0, hifes_pay=0, hifob_pay=0, hifmi_pay=0, maf_pay=0, oth_pay=0,
            acct_pay=0, acct_mulaid_pay=0)


def claim(cid, insutype, day, med_type="21", medfee=0, **paid):
    row = {"claim_id": cid, "insutype": insutype, "dscg_date": day, "med_type": med_type, "medfee_sumamt": medfee} | ZERO | paid
    row["fund_pay_sumamt"] = sum(row[k] for k in ZERO if not k.startswith("acct"))
    return row


STATEMENTS = pd.DataFrame([
    claim("c1", "310", dt.date(2024, 1, 15), hifp_pay=10_000, hifob_pay=2_000, acct_pay=500),
    claim("c2", "310", dt.date(2024, 3, 2), "52", hifp_pay=7_000, cvlserv_pay=300, acct_mulaid_pay=40),  # 生育住院
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
# p1 a 职工 from January to 20 August (in force on the last day of January … July: 7 months billed);
# p2 a resident all year (booked in January); p3 enrols on 10 April (booked in April)
ENROLLMENTS = pd.DataFrame({
    "psn_no": ["p1", "p2", "p3"], "insutype": ["310", "390", "390"],
    "start_date": [dt.date(2020, 1, 1), dt.date(2023, 1, 1), dt.date(2024, 4, 10)],
    "end_date": [dt.date(2024, 8, 20), None, None]})
ACCRUALS = pd.DataFrame({"psn_no": ["p1", "p1"], "month": [1, 2], "amount_fen": [2_500, 2_500]})
# round rates so the interest is computed by hand: 2% a month on the carried balance, 1% on the year's money
RULES = AccountRules(7_000, None, None, current_ppm=120_000, carried_ppm=240_000, rounding=Rounding.HALF_UP, refs={})


def accounts(statements=STATEMENTS, rules=RULES, opening=None, clearing=None, account_opening=None):
    registry = registry_lines(CONTRIBUTIONS, enrolment_months(ENROLLMENTS, 2024), ACCRUALS, rules, 2024)
    return fund_accounts(statements, registry, 2024, rules, opening, clearing, account_opening=account_opening)


def month(acc, name, m):
    return acc.monthly.set_index(["name", "month"]).loc[(name, m)]


def item(acc, name, item, side=None):
    lines = acc.lines[(acc.lines["name"] == name) & (acc.lines["item"] == item)]
    return lines if side is None else lines[lines["side"] == side]


def test_enrolment_months_bill_month_ends_and_book_the_resident_year_once():
    months = enrolment_months(ENROLLMENTS, 2024)
    assert list(months[months["psn_no"] == "p1"]["month"]) == [1, 2, 3, 4, 5, 6, 7]  # 20 August is no month's end
    assert list(months[months["psn_no"] == "p2"]["month"]) == [1]
    assert list(months[months["psn_no"] == "p3"]["month"]) == [4]


def test_employee_contributions_are_spread_over_the_months_billed():
    acc = accounts()
    employer = item(acc, "职工统筹", "单位缴费").set_index("month")["amount_fen"]
    individual = item(acc, "职工统筹", "个人缴费").set_index("month")["amount_fen"]
    # 90,000 ÷ 7 = 12,857 rest 1 (to January); 30,000 ÷ 7 = 4,285 rest 5 (to January … May)
    assert list(employer) == [12_858] + [12_857] * 6 and list(employer.index) == [1, 2, 3, 4, 5, 6, 7]
    assert list(individual) == [4_286] * 5 + [4_285] * 2
    assert employer.sum() + individual.sum() == 120_000  # the registry's year, to the fen


def test_hand_built_year_by_fund():
    acc = accounts(opening={"310": 100_000, "390": 0})
    f = acc.funds.set_index("name")
    # spending: claims by field; 居民统筹 also passes 2 × 7,000 to 大病; 救助 also sponsors p3's fee
    assert f.loc["职工统筹", "spending_fen"] == 17_000
    assert f.loc["居民统筹", "spending_fen"] == 5_000 + 14_000
    assert f.loc["大病保险", "income_fen"] == 14_000 and f.loc["大病保险", "spending_fen"] == 1_200
    assert f.loc["大病保险", "closing_fen"] == 12_800
    assert f.loc["医疗救助", "spending_fen"] == 800 + 40_000 == f.loc["医疗救助", "income_fen"]  # stated as funded
    assert f.loc["个人账户", "income_fen"] == 5_000 and f.loc["个人账户", "spending_fen"] == 600
    assert pd.isna(f.loc["公务员补助", "income_fen"]) and pd.isna(f.loc["公务员补助", "closing_fen"])
    assert pd.isna(f.loc["职工大额", "income_fen"])  # no levy in the rules: no figure, not 0
    assert f.loc["职工统筹", "opening_fen"] == 100_000
    assert acc.claims_paid_fen() == 10_000 + 2_000 + 500 + 7_000 + 300 + 40 + 5_000 + 1_200 + 800 + 60


def test_maternity_claims_are_their_own_line_of_the_employee_pool():
    acc = accounts()
    assert item(acc, "职工统筹", "生育医疗费 (结算单)")["amount_fen"].tolist() == [7_000]
    assert item(acc, "职工统筹", "医疗待遇 (结算单)")["amount_fen"].tolist() == [10_000]


def test_resident_fee_and_subsidy_in_the_booking_month_and_the_transfers():
    acc = accounts()
    by = acc.lines[acc.lines["name"] == "居民统筹"].groupby(["item", "month"])["amount_fen"].sum()
    assert by[("个人缴费", 1)] == 40_000 and by[("财政补助", 1)] == 67_000 and by[("财政补助", 4)] == 67_000
    assert by[("资助参保 (医疗救助)", 4)] == 40_000
    assert by[("划转大病保险", 1)] == by[("划转大病保险", 4)] == 7_000
    sponsor = item(acc, "医疗救助", "资助参保", "spending")
    assert sponsor[["month", "amount_fen", "counterpart"]].values.tolist() == [[4, 40_000, "390100"]]


def test_interest_and_balances_month_by_month():
    acc = accounts(opening={"310": 100_000, "390": 0})
    # 职工统筹 January: contributions 12,858 + 4,286, less 2,500 to the accounts; interest 2% of the 100,000
    # carried (nothing of the year yet); spending 10,000
    jan = month(acc, "职工统筹", 1)
    assert (jan["income_fen"], jan["spending_fen"], jan["balance_fen"]) == (14_644 + 2_000, 10_000, 106_644)
    # February: 12,857 + 4,286 − 2,500; interest 2,000 + 1% of January's net 6,644 (66.44 → 66)
    feb = month(acc, "职工统筹", 2)
    assert (feb["income_fen"], feb["balance_fen"]) == (14_643 + 2_066, 123_353)
    # March: 17,143; interest 2,000 + 1% of 23,353 (233.53 → 234); the 7,000 maternity claim
    mar = month(acc, "职工统筹", 3)
    assert (mar["income_fen"], mar["spending_fen"], mar["balance_fen"]) == (17_143 + 2_234, 7_000, 135_730)
    # 居民统筹 from 0: January 107,000 − 7,000 to 大病, no interest; February 1% of 100,000
    assert month(acc, "居民统筹", 1)["balance_fen"] == 100_000
    assert item(acc, "居民统筹", "利息收入").set_index("month")["amount_fen"][2] == 1_000
    assert month(acc, "居民统筹", 2)["balance_fen"] == 101_000
    m = acc.monthly[acc.monthly["name"] == "职工统筹"]
    assert m["balance_fen"].iloc[-1] == acc.funds.set_index("name").loc["职工统筹", "closing_fen"]


def test_a_scheme_nets_its_own_transfers():
    acc = accounts()
    codes = ("390100", "390200")
    assert acc.consolidated(codes, "spending_fen") == 5_000 + 1_200  # the 14,000 passed to 大病 is internal
    assert acc.consolidated(codes, "income_fen") == acc.funds.set_index("fund").loc["390100", "income_fen"]


def test_pack_budget_and_levy_finance_assistance_and_the_large_expense_fund():
    rules = AccountRules(None, 1_000, 120_005, 0, 0, Rounding.HALF_UP, {"assistance_budget": "budget ref"})
    acc = accounts(rules=rules)
    f = acc.funds.set_index("name")
    assert f.loc["职工大额", "income_fen"] == 7 * 1_000  # the levy for each of p1's 7 months billed
    budget = item(acc, "医疗救助", "财政预算安排").set_index("month")["amount_fen"]
    assert list(budget) == [10_001] * 5 + [10_000] * 7 and budget.sum() == 120_005
    assert pd.isna(f.loc["大病保险", "income_fen"])  # no transfer in these rules


SITES = pd.DataFrame({"claim_id": ["c1", "c2", "c3"], "fixmedins_code": ["H1", "H1", "H2"],
                      "out_of_region": [False, False, False]})


def test_clearing_books_what_institutions_were_paid_beyond_their_claims_in_december():
    paid = InstitutionPayments(pd.DataFrame({"fixmedins_code": ["H1", "H2"], "settled_fen": [20_000, 4_000]}), SITES)
    cleared = clearing_lines(STATEMENTS, paid, Rounding.HALF_UP)
    acc = accounts(clearing=cleared)
    december = item(acc, "职工统筹", "年终清算 (按机构实际支付)")
    assert december[["month", "amount_fen"]].values.tolist() == [[12, 3_000]]  # H1: 20,000 − 17,000
    assert item(acc, "居民统筹", "年终清算 (按机构实际支付)")["amount_fen"].tolist() == [-1_000]  # H2 paid less
    assert acc.funds.set_index("name").loc["职工统筹", "spending_fen"] == 20_000
    assert acc.institutions.set_index("fixmedins_code").loc["H1", "claims_fen"] == 17_000


def test_an_institution_of_both_schemes_splits_its_clearing_by_their_pooling_shares():
    statements = pd.DataFrame([claim("a", "310", dt.date(2024, 5, 1), hifp_pay=3_000),
                               claim("b", "390", dt.date(2024, 6, 1), hifp_pay=1_000),
                               claim("x", "390", dt.date(2024, 6, 1), hifp_pay=9_999)])  # treated out of region
    sites = pd.DataFrame({"claim_id": ["a", "b", "x"], "fixmedins_code": ["H3", "H3", "H9"],
                          "out_of_region": [False, False, True]})
    paid = InstitutionPayments(pd.DataFrame({"fixmedins_code": ["H3"], "settled_fen": [5_001]}), sites)
    _, recon = clearing_lines(statements, paid, Rounding.HALF_UP)
    # 1,001 beyond the claims: 3/4 (750.75 → 751) to 职工, the rest to 居民; the 异地 claim is cleared nationally
    assert recon[["clearing_310_fen", "clearing_390_fen"]].values.tolist() == [[751, 250]]


@pytest.mark.parametrize("settled, sites, names", [
    ({"H1": 20_000}, SITES, "institution H2"),  # H2's claims have no payment result
    ({"H1": 20_000, "H2": 1, "H7": 5}, SITES, "institution H7"),  # paid, but no claim treated there
    ({"H1": 20_000, "H2": 1}, SITES.iloc[:2], "claim c3"),  # a settled claim the lake does not hold
])
def test_what_does_not_reconcile_is_named(settled, sites, names):
    paid = InstitutionPayments(pd.DataFrame({"fixmedins_code": list(settled), "settled_fen": list(settled.values())}),
                               sites)
    with pytest.raises(ValidationError) as e:
        clearing_lines(STATEMENTS, paid, Rounding.HALF_UP)
    assert names in str(e.value)


def test_a_claim_of_another_year_is_named():
    bad = pd.concat([STATEMENTS, pd.DataFrame([claim("c9", "390", dt.date(2025, 1, 2), hifp_pay=1)])])
    with pytest.raises(ValidationError, match="c9") as e:
        accounts(bad)
    assert e.value.field == "dscg_date"


def test_a_fund_total_that_does_not_add_up_is_an_error():
    bad = STATEMENTS.copy()
    bad.loc[0, "fund_pay_sumamt"] += 1  # the row claims a fen no fund field paid
    with pytest.raises(ValidationError, match="fund accounts book"):
        accounts(bad)


def test_a_contribution_without_a_month_to_book_it_names_the_person():
    months = enrolment_months(ENROLLMENTS[ENROLLMENTS["psn_no"] != "p3"], 2024)
    with pytest.raises(ValidationError, match="person p3"):
        registry_lines(CONTRIBUTIONS, months, ACCRUALS, RULES, 2024)


def test_a_line_outside_the_year_s_months_is_refused():
    registry = registry_lines(CONTRIBUTIONS, enrolment_months(ENROLLMENTS, 2024), ACCRUALS, RULES, 2024)
    registry.loc[0, "month"] = 13
    with pytest.raises(ValidationError, match="month 13"):
        fund_accounts(STATEMENTS, registry, 2024, RULES)


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
    assert acc.claims_paid_fen() == int(rows["fund_pay_sumamt"].sum() + rows["acct_pay"].sum()
                                        + rows["acct_mulaid_pay"].sum())
    assert f.loc["职工统筹", "spending_fen"] == int(rows.loc[rows["insutype"] == "310", "hifp_pay"].sum())
    assert f.loc["医疗救助", "spending_fen"] == int(rows["maf_pay"].sum()) + int(
        item(acc, "医疗救助", "资助参保")["amount_fen"].sum())
    january = rows[pd.to_datetime(rows["dscg_date"]).dt.month == 1]
    claims = acc.lines[acc.lines["item"] == "医疗待遇 (结算单)"].set_index(["name", "month"])["amount_fen"]
    assert claims[("职工统筹", 1)] == int(january.loc[january["insutype"] == "310", "hifp_pay"].sum())
    assert (acc.monthly.groupby("fund")["spending_fen"].sum() == acc.funds.set_index("fund")["spending_fen"]).all()


def test_synthetic_income_is_the_registry_contributions(lake):
    from yibao.lake.io import read_table
    from yibao.registry.contributions import contributions_for_year

    folder, pack, rows = lake
    due = contributions_for_year(read_table(folder, "enrollments").to_pandas(),
                                 read_table(folder, "identities").to_pandas(), pack, 2024)
    acc = lake_accounts(folder, pack, rows)
    paid_in = acc.lines[acc.lines["item"].isin(["单位缴费", "个人缴费", "财政补助", "资助参保 (医疗救助)"])]
    by = paid_in.groupby("fund")["amount_fen"].sum()
    money = ["employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"]
    assert by["310100"] == due.loc[due["insutype"] == "310", money].to_numpy().sum()
    assert by["390100"] == due.loc[due["insutype"] == "390", money].to_numpy().sum()
    residents = due[due["insutype"] == "390"]["psn_no"].nunique()
    assert acc.funds.set_index("name").loc["大病保险", "income_fen"] == residents * 7_000  # the demo's 70 元 each


def test_synthetic_clearing_lands_every_fen_the_payment_engine_paid(lake):
    from yibao.lake.io import read_table
    from yibao.payment import pay_year

    folder, pack, rows = lake
    result = pay_year(folder, pack)
    acc = lake_accounts(folder, pack, rows, payment=result)
    sites = read_table(folder, "claims", columns=["claim_id", "out_of_region"]).to_pandas()
    remote = rows.merge(sites, on="claim_id")["out_of_region"].fillna(False).astype(bool).to_numpy()
    pooled = acc.lines[acc.lines["fund"].isin(["310100", "390100"])
                       & acc.lines["item"].isin(["医疗待遇 (结算单)", "生育医疗费 (结算单)", "年终清算 (按机构实际支付)"])]
    # what the pooling funds spent on care = what the institutions were paid + the 异地 claims cleared nationally
    assert int(pooled["amount_fen"].sum()) == int(result["clearing"]["settled_fen"].sum()) + int(rows.loc[remote, "hifp_pay"].sum())
    assert set(pooled[pooled["item"].str.startswith("年终清算")]["month"]) == {12}


def _table(**columns) -> pa.Table:
    return pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)


# b1: a 剖宫产 (74.1) at an employer whose average wage (9,000 元) is not the mother's 缴费基数 (6,000 元);
# b2: twins (O30.0), 灵活就业 on the base of her 2024 spell; b5: a man's 52 claim; b6: an abortive outcome
# (O03); b3 a resident's birth, b4 an ordinary stay, b7 a birth of 2023: none of the three is this year's 职工 birth
BIRTH_TABLES = {
    "claims": _table(
        claim_id=["b1", "b2", "b3", "b4", "b5", "b6", "b7"], psn_no=["m1", "m2", "r1", "m1", "f1", "m3", "m1"],
        insutype=["310", "310", "390", "310", "310", "310", "310"], med_type=["52", "52", "52", "21", "52", "52", "52"],
        dscg_date=[dt.date(2024, 5, 10), dt.date(2024, 5, 20), dt.date(2024, 6, 1), dt.date(2024, 7, 1),
                   dt.date(2024, 6, 1), dt.date(2024, 7, 1), dt.date(2023, 12, 30)],
        diagnoses=["O82.000", "O80.000|O30.000", "O80.000", "J18.900", "O80.000", "O03.900", "O80.000"],
        procedures=["74.1x01", "", "", "", "", "", ""]),
    "persons": _table(psn_no=["m1", "m2", "m3", "r1", "f1"], sex=["2", "2", "2", "2", "1"]),
    "enrollments": _table(
        psn_no=["m1", "m2", "m2", "m3", "f1"], insutype=["310"] * 5, emp_no=["e1", None, None, "e1", "e1"],
        start_date=[dt.date(2020, 1, 1), dt.date(2019, 1, 1), dt.date(2024, 1, 1), dt.date(2020, 1, 1),
                    dt.date(2020, 1, 1)],
        end_date=[None, dt.date(2023, 12, 31), None, None, None],
        contribution_base_fen=[600_000, 1, 500_001, 600_000, 600_000]),
    "employers": _table(emp_no=["e1"], avg_wage_fen=[900_000]),
}


def _birth_lake(tmp_path, tables=BIRTH_TABLES):
    """The tables as a lake folder holding only the columns a birth needs."""
    import pyarrow.parquet as pq

    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    return tmp_path


def test_maternity_allowance_is_what_yibao_maternity_year_pays_each_birth(tmp_path):
    from yibao.fund.accounts import lake_maternity
    from yibao.fund.maternity import allowance_lines
    from yibao.settlement.allowance_cli import maternity_year

    folder, pack = _birth_lake(tmp_path), load_pack("demo")
    booked, note = allowance_lines(lake_maternity(folder, pack, 2024), pack, 2024)
    # demo: wage ÷ 30 × days. b1 剖宫产 as 难产 98 + 15 days at the employer's 900,000 → 3,390,000;
    # b2 twins 98 + 15 days at 500,001 → 1,883,337.1 → 1,883,337. (Each at the 缴费基数 as a 顺产, b5 and b6
    # counted too, the accounts booked 1,960,000 + 1,633,337 + 1,960,000 in May to July.)
    paid = booked[booked["amount_fen"] != 0]
    assert paid[["fund", "month", "item", "amount_fen"]].values.tolist() == [["310100", 5, "生育津贴", 5_273_337]]
    _, summary = maternity_year(folder, pack)  # the lake holds 2023's birth b7 as well
    assert summary["amount_fen"] == 5_273_337 + 900_000 * 98 // 30 and summary["paid"] == 3
    assert "2 of 2 职工 births of 2024 paid 52,733.37 元" in note and "剖宫产 1, 顺产 1" in note
    assert "1 生育住院 claims of persons not recorded as women: not counted as births" in note
    assert "1 生育住院 stays of an abortive outcome (O00–O08): not counted" in note


def test_maternity_allowance_of_a_birth_without_a_spell_is_not_paid_and_said(tmp_path):
    from yibao.fund.accounts import lake_maternity
    from yibao.fund.maternity import allowance_lines

    e = BIRTH_TABLES["enrollments"]
    tables = BIRTH_TABLES | {"enrollments": e.filter(pa.array([p != "m2" for p in e["psn_no"].to_pylist()]))}
    pack = load_pack("demo")
    booked, note = allowance_lines(lake_maternity(_birth_lake(tmp_path, tables), pack, 2024), pack, 2024)
    assert int(booked["amount_fen"].sum()) == 3_390_000
    assert "1 of 2 职工 births" in note and "1 births of persons with no 职工 spell in force at discharge: not paid" in note


def test_maternity_allowance_needs_a_rule(tmp_path):
    from yibao.fund.accounts import lake_maternity
    from yibao.fund.maternity import allowance_lines

    pack = load_pack("national")
    booked, note = allowance_lines(lake_maternity(_birth_lake(tmp_path), pack, 2024), pack, 2024)
    assert booked.empty and "has no allowance rule" in note and "4 职工 生育住院 claims of 2024" in note


@pytest.fixture(scope="module")
def births_lake(tmp_path_factory):
    """A year with 剖宫产, 灵活就业 mothers and employers' wages, settled under the demo pack."""
    out = tmp_path_factory.mktemp("birthlake")
    generate(SynthConfig(persons=3000, seed=7, with_lines=False), out)
    return out, settle_lake(out, "demo")[0]


def test_synthetic_accounts_book_the_allowance_yibao_maternity_year_reports(births_lake):
    from yibao.settlement.allowance_cli import maternity_year, year_notes

    folder, rows = births_lake
    births, summary = maternity_year(folder, "demo")
    acc = lake_accounts(folder, load_pack("demo"), rows)
    booked = item(acc, "职工统筹", "生育津贴")
    assert int(booked["amount_fen"].sum()) == summary["amount_fen"] > 0
    by_month = births.groupby(pd.to_datetime(births["dscg_date"]).dt.month)["amount_fen"].sum()
    assert booked.set_index("month")["amount_fen"][by_month.index].tolist() == by_month.tolist()
    assert {"caesarean", "normal"} <= set(summary["by_kind"]["birth"]) and summary["contribution_base"] > 0
    said = next(n for n in acc.notes if n.startswith("生育津贴"))
    assert all(line in said for line in year_notes(summary))


def test_packs_cite_the_transfer_and_the_interest_rule():
    shenyang = AccountRules.from_pack(load_pack("shenyang"), 2024)
    assert shenyang.serious_illness_per_capita_fen == 7_000 and "沈阳市“十四五”医疗保障事业发展规划" in shenyang.refs[
        "serious_illness_per_capita"]
    national = AccountRules.from_pack(load_pack("national"), 2024)
    assert national.serious_illness_per_capita_fen is None  # 国办发〔2015〕57号 leaves it to the region
    assert (national.current_ppm, national.carried_ppm) == (3_500, 11_000) and "国发〔1998〕44号" in national.refs["current_rate"]


def test_the_warning_watches_a_scheme_net_of_its_funds_transfers():
    from yibao.fund.warning import scheme_figures

    resident = next(s for s in scheme_figures(accounts()) if s.insutype == "390")
    assert resident.spending_fen == 5_000 + 1_200  # 居民统筹's and 大病's claims; the 14,000 transfer is internal


def test_long_term_care_is_said_absent_or_not_booked():
    assert any("长期护理保险: absent" in n for n in accounts().notes)
    with_ltc = AccountRules(None, None, None, 0, 0, Rounding.HALF_UP, {}, ltc=True)
    assert any("no 长护 fund is booked" in n for n in accounts(rules=with_ltc).notes)


def test_the_personal_accounts_open_with_their_balances_on_1_january():
    acc = accounts(account_opening=3_000)
    f = acc.funds.set_index("name")
    assert (f.loc["个人账户", "opening_fen"], f.loc["个人账户", "closing_fen"]) == (3_000, 3_000 + 5_000 - 600)
    assert month(acc, "个人账户", 1)["balance_fen"] == 3_000 + 2_500 - 500  # c1's 500 from the account in January
    assert any("opening balances: 个人账户 (个人账户: the lake's account_balances" in n for n in acc.notes)


def test_synthetic_personal_accounts_open_with_the_lake_s_balances(lake):
    folder, pack, rows = lake
    balances = pd.read_parquet(folder / "account_balances.parquet")
    f = lake_accounts(folder, pack, rows).funds.set_index("name")
    assert f.loc["个人账户", "opening_fen"] == int(balances.loc[balances["year"] == 2024, "balance_fen"].sum()) > 0
