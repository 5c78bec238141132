from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from yibao.errors import NotFoundError, ValidationError
from yibao.lake.schema import TABLES
from yibao.store import OverdraftError


def seed(uow, make, persons=2):
    uow.employers.add(make.employer(1))
    uow.institutions.add(make.institution())
    for n in range(1, persons + 1):
        uow.persons.add(make.person(n, household_id="HH1"))


def test_person_round_trip_and_lookup(store, make):
    p = make.person(7, sex="2", born=date(1990, 2, 3))
    with store.unit() as uow:
        uow.persons.add({k: v for k, v in p.items() if k not in ("birth_date", "sex")})  # derived from the ID
    with store.unit() as uow:
        got = uow.persons.get("P00007")
        assert got == p
        assert uow.persons.find_by_certno(p["certno"].lower()) == p
        assert uow.persons.find_by_certno("370302199002030000") is None
        with pytest.raises(NotFoundError):
            uow.persons.get("nobody")


def test_person_without_psn_no_gets_one(store, make):
    p = make.person(3)
    del p["psn_no"]
    with store.unit() as uow:
        stored = uow.persons.add(p)
    assert stored["psn_no"].startswith("P")
    with store.unit() as uow:
        assert uow.persons.get(stored["psn_no"])["certno"] == p["certno"]


def test_duplicate_certno_refused(store, make):
    with store.unit() as uow:
        uow.persons.add(make.person(1))
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        uow.persons.add({**make.person(1), "psn_no": "OTHER"})
    assert e.value.field == "certno" and "OTHER" in str(e.value)


def test_unit_rolls_back_on_error(store, make):
    with pytest.raises(RuntimeError), store.unit() as uow:
        uow.persons.add(make.person(1))
        raise RuntimeError("boom")
    with store.unit() as uow:
        assert uow.persons.find_by_certno(make.person(1)["certno"]) is None


def test_enrollment_spells(store, make):
    with store.unit() as uow:
        seed(uow, make)
        uow.enrollments.add(make.spell("S1", "P00001", date(2020, 1, 1)))
        uow.enrollments.add(make.spell("S2", "P00001", date(2021, 1, 1), insutype="390"))  # other scheme: allowed
    with store.unit() as uow:
        assert [s["spell_id"] for s in uow.enrollments.spells_for("P00001")] == ["S1", "S2"]
        assert [s["spell_id"] for s in uow.enrollments.active_on("P00001", date(2020, 6, 1))] == ["S1"]
        assert [s["spell_id"] for s in uow.enrollments.active_on("P00001", date(2022, 6, 1))] == ["S1", "S2"]
        ended = uow.enrollments.end("S1", date(2022, 12, 31))
        assert ended["end_date"] == date(2022, 12, 31)
        new = uow.enrollments.add(make.spell(None, "P00001", date(2023, 1, 1), psn_type="12"))
        assert new["spell_id"].startswith("S")
    with store.unit() as uow:
        assert uow.enrollments.active_on("P00001", date(2023, 1, 1))[0]["psn_type"] == "12"
        assert uow.enrollments.active_on("P00001", date(2019, 1, 1)) == []
        df = uow.enrollments.all_spells()
    assert list(df.columns) == TABLES["enrollments"].names
    assert len(df) == 3 and set(df["spell_id"]) >= {"S1", "S2"}
    assert df.loc[df.spell_id == "S1", "contribution_base_fen"].iloc[0] == 600_000


def test_overlapping_spell_refused_naming_both(store, make):
    with store.unit() as uow:
        seed(uow, make)
        uow.enrollments.add(make.spell("S1", "P00001", date(2020, 1, 1), date(2020, 12, 31)))
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        uow.enrollments.add(make.spell("S2", "P00001", date(2020, 12, 31)))
    assert e.value.field == "start_date" and "S1" in str(e.value) and "S2" in str(e.value)
    with store.unit() as uow:  # the day after is fine; extending S1 into S2 is not
        uow.enrollments.add(make.spell("S2", "P00001", date(2021, 1, 1)))
    with pytest.raises(ValidationError, match="S1.*S2|S2.*S1"), store.unit() as uow:
        uow.enrollments.end("S1", date(2021, 3, 1))
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        uow.enrollments.end("S1", date(2019, 3, 1))
    assert e.value.field == "end_date"


def test_identities(store, make):
    with store.unit() as uow:
        seed(uow, make)
        uow.identities.add({"psn_no": "P00001", "identity": "dibao", "start_date": date(2024, 1, 1),
                            "end_date": date(2024, 12, 31)})
        uow.identities.add({"psn_no": "P00001", "identity": "disabled", "start_date": date(2025, 1, 1)})
        with pytest.raises(ValidationError) as e:
            uow.identities.add({"psn_no": "P00001", "identity": "rich", "start_date": date(2025, 1, 1)})
        assert e.value.field == "identity"
    with store.unit() as uow:
        assert len(uow.identities.for_person("P00001")) == 2
        assert [i["identity"] for i in uow.identities.for_person("P00001", on=date(2025, 5, 1))] == ["disabled"]
        assert uow.identities.for_person("P00002", on=date(2025, 5, 1)) == []


def test_account_posting(store, make):
    with store.unit() as uow:
        seed(uow, make)
        uow.accounts.open("P00001", on=date(2025, 1, 1))
        uow.accounts.open("P00001")  # idempotent
        uow.accounts.post("P00001", "accrual", 12_000, date(2025, 1, 31), "2025-01")
        uow.accounts.post("P00001", "payment", -5_000, date(2025, 2, 3), "SETL1")
        entry = uow.accounts.post("P00001", "mutual_aid", -1_000, date(2025, 2, 4), "SETL2", counterparty="P00002")
    assert entry["balance_after_fen"] == 6_000 and entry["seq"] == 3
    with store.unit() as uow:
        assert uow.accounts.balance("P00001") == 6_000
        entries = uow.accounts.entries("P00001")
    assert [(e["kind"], e["amount_fen"], e["balance_after_fen"]) for e in entries] == [
        ("accrual", 12_000, 12_000), ("payment", -5_000, 7_000), ("mutual_aid", -1_000, 6_000)]
    assert entries[2]["counterparty"] == "P00002"


def test_account_overdraft_refused_and_atomic(store, make):
    with store.unit() as uow:
        seed(uow, make)
        uow.accounts.open("P00001")
        uow.accounts.post("P00001", "accrual", 3_000, date(2025, 1, 31))
    with pytest.raises(OverdraftError) as e, store.unit() as uow:
        uow.accounts.post("P00001", "payment", -3_001, date(2025, 2, 1), "SETL1")
    assert e.value.field == "amount_fen" and "P00001" in str(e.value)
    # a failure later in the unit undoes an accepted post: balance and entries move together
    with pytest.raises(RuntimeError), store.unit() as uow:
        uow.accounts.post("P00001", "payment", -2_000, date(2025, 2, 1), "SETL2")
        raise RuntimeError("settlement failed")
    with store.unit() as uow:
        assert uow.accounts.balance("P00001") == 3_000
        assert [x["ref"] for x in uow.accounts.entries("P00001")] == [None]
        uow.accounts.post("P00001", "payment", -3_000, date(2025, 2, 1), "SETL3")  # exactly the balance
        assert uow.accounts.balance("P00001") == 0


def test_account_entry_checks(store, make):
    cases = [("payment", 100, "amount_fen"), ("accrual", -100, "amount_fen"), ("accrual", 0, "amount_fen"),
             ("accrual", 1.5, "amount_fen"), ("accrual", True, "amount_fen"), ("gift", 100, "kind")]
    with store.unit() as uow:
        seed(uow, make, persons=1)
        uow.accounts.open("P00001")
        for kind, amount, field in cases:
            with pytest.raises(ValidationError) as e:
                uow.accounts.post("P00001", kind, amount, date(2025, 1, 1))
            assert e.value.field == field, (kind, amount)
        with pytest.raises(ValidationError) as e:
            uow.accounts.post("P00001", "accrual", 100, "2025-01-01")
        assert e.value.field == "on"
        with pytest.raises(NotFoundError):
            uow.accounts.post("P00002", "accrual", 100, date(2025, 1, 1))
        with pytest.raises(NotFoundError):
            uow.accounts.open("P00009")
        assert uow.accounts.entries("P00001") == []


def test_database_refuses_negative_balance(store, make):
    """The CHECK constraint holds even when code bypasses the repository."""
    from yibao.store.models import Account

    with store.unit() as uow:
        seed(uow, make, persons=1)
        uow.accounts.open("P00001")
    with pytest.raises(sa.exc.IntegrityError), store.unit() as uow:
        uow.session.execute(sa.update(Account.__table__).values(balance_fen=-1))


def test_institution_catalog_contributions(store, make):
    with store.unit() as uow:
        seed(uow, make)
        uow.catalog.add(make.catalog_item(end_date=date(2024, 12, 31)))
        uow.catalog.add(make.catalog_item(begin_date=date(2025, 1, 1), price_cap_fen=990, version="2025"))
        n = uow.contributions.add_many([
            {"psn_no": "P00001", "year": 2025, "insutype": "310", "employer_fen": 100, "individual_fen": 50,
             "subsidy_fen": 0, "sponsored_fen": 0},
            {"psn_no": "P00002", "year": 2025, "insutype": "390", "employer_fen": 0, "individual_fen": 400,
             "subsidy_fen": 700, "sponsored_fen": 100}])
        assert n == 2
    with store.unit() as uow:
        assert uow.institutions.get("h37030200001")["level"] == "3"
        assert uow.catalog.get("XA01ABD075A002010100594", on=date(2024, 6, 1))["price_cap_fen"] == 1250
        assert uow.catalog.get("XA01ABD075A002010100594", on=date(2025, 6, 1))["version"] == "2025"
        with pytest.raises(NotFoundError):
            uow.catalog.get("XA01ABD075A002010100594", on=date(2023, 6, 1))
        with pytest.raises(NotFoundError):
            uow.institutions.get("H37030299999")
        assert uow.contributions.for_person("P00002", 2025)[0]["subsidy_fen"] == 700
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        uow.contributions.add_many(pd.DataFrame([{"psn_no": "P00001", "year": 2026, "insutype": "310",
                                                  "employer_fen": -1, "individual_fen": 0, "subsidy_fen": 0,
                                                  "sponsored_fen": 0}]))
    assert e.value.field == "employer_fen" and "row 1" in str(e.value)


def test_claims_round_trip(store, make):
    with store.unit() as uow:
        seed(uow, make)
        cid = uow.claims.add(make.claim("C1"), [make.line(1), make.line(2, qty=1.0, amount_fen=1000)])
        uow.claims.add(make.claim("C2", adm_date=date(2024, 12, 30), dscg_date=date(2025, 1, 2)), [])
    assert cid == "C1"
    with store.unit() as uow:
        claims = uow.claims.for_person("P00001", 2025)
        assert [c["claim_id"] for c in claims] == ["C1"]
        assert [ln["amount_fen"] for ln in claims[0]["lines"]] == [2000, 1000]
        assert claims[0]["diagnoses"] == "K35.800|I10.x00"
        assert len(uow.claims.for_person("P00001")) == 2
        assert uow.claims.get("C2")["lines"] == []


def test_claim_with_bad_line_writes_nothing(store, make):
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        seed(uow, make)
        uow.claims.add(make.claim("C1"), [make.line(1), make.line(2, amount_fen=-5)])
    assert e.value.field == "amount_fen" and "claim C1 line 2" in str(e.value)
    with store.unit() as uow:
        with pytest.raises(NotFoundError):
            uow.claims.get("C1")


def test_claim_line_amount_must_be_price_times_qty(store, make):
    with pytest.raises(ValidationError) as e, store.unit() as uow:
        seed(uow, make)
        uow.claims.add(make.claim("C1"), [make.line(1, qty=3.0, price_fen=930, amount_fen=100)])
    assert e.value.field == "amount_fen" and "claim C1 line 1" in str(e.value)
    assert "100 is not price_fen × qty = 930 × 3 = 2790.00 rounded to the fen" in str(e.value)
    with pytest.raises(ValidationError, match="beyond the bound of 10,000,000,000 fen"), store.unit() as uow:
        seed(uow, make)
        uow.claims.add(make.claim("C1", medfee_sumamt_fen=9 * 10**18))


def test_summary(store, make):
    with store.unit() as uow:
        seed(uow, make, persons=3)
        uow.institutions.add(make.institution("P37030200009", kind="pharmacy", level="0", beds=0))
        uow.enrollments.add(make.spell("S1", "P00001", date(2020, 1, 1)))
        uow.enrollments.add(make.spell("S2", "P00002", date(2020, 1, 1), psn_type="12"))
        uow.enrollments.add(make.spell("S3", "P00003", date(2020, 1, 1), date(2024, 12, 31), insutype="390"))
        uow.identities.add({"psn_no": "P00003", "identity": "tekun", "start_date": date(2020, 1, 1)})
        uow.claims.add(make.claim("C1", medfee_sumamt_fen=500))
        uow.claims.add(make.claim("C2", medfee_sumamt_fen=700))
        uow.claims.add(make.claim("C3", code="P37030200009", med_type="41", medfee_sumamt_fen=90))
        uow.contributions.add_many([{"psn_no": "P00001", "year": 2025, "insutype": "310", "employer_fen": 100,
                                     "individual_fen": 50, "subsidy_fen": 0, "sponsored_fen": 0}])
    with store.unit() as uow:
        s = uow.summary()
        s_2025 = uow.summary(on=date(2025, 6, 1))
    assert s["persons"][["insutype", "psn_type", "persons"]].values.tolist() == [
        ["310", "11", 1], ["310", "12", 1], ["390", "15", 1]]
    assert s_2025["persons"]["persons"].sum() == 2
    assert s["identities"][["identity", "persons"]].values.tolist() == [["tekun", 1]]
    assert s["institutions"][["kind", "level", "institutions"]].values.tolist() == [
        ["hospital", "3", 1], ["pharmacy", "0", 1]]
    assert s["claims"][["med_type", "level", "claims", "total_fen"]].values.tolist() == [
        ["21", "3", 2, 1200], ["41", "0", 1, 90]]
    assert s["contributions"][["insutype", "total_fen"]].values.tolist() == [["310", 150]]


def test_concurrent_payments_never_overdraw(store, make):
    """Four settlements race for one account; the balance covers two of them."""
    import threading
    import time

    with store.unit() as uow:
        seed(uow, make, persons=1)
        uow.accounts.open("P00001")
        uow.accounts.post("P00001", "accrual", 10_000, date(2025, 1, 31))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def pay(n: int) -> None:
        barrier.wait()
        try:
            with store.unit() as uow:
                uow.accounts.post("P00001", "payment", -4_000, date(2025, 2, 1), f"SETL{n}")
                time.sleep(0.1)  # hold the transaction open while the others try
            outcomes.append("paid")
        except OverdraftError:
            outcomes.append("refused")

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["paid", "paid", "refused", "refused"]
    with store.unit() as uow:
        assert uow.accounts.balance("P00001") == 2_000
        entries = uow.accounts.entries("P00001")
    assert [e["balance_after_fen"] for e in entries] == [10_000, 6_000, 2_000]


def test_references_to_unknown_rows_refused(store, make):
    with store.unit() as uow:
        seed(uow, make, persons=1)
        cases = [
            (lambda: uow.enrollments.add(make.spell("S1", "P00009", date(2020, 1, 1))), "psn_no", "P00009"),
            (lambda: uow.enrollments.add(make.spell("S1", "P00001", date(2020, 1, 1), emp_no="E9")), "emp_no", "E9"),
            (lambda: uow.identities.add({"psn_no": "P00009", "identity": "dibao", "start_date": date(2020, 1, 1)}),
             "psn_no", "P00009"),
            (lambda: uow.claims.add(make.claim("C1", psn_no="P00009")), "psn_no", "P00009"),
            (lambda: uow.claims.add(make.claim("C1", code="H37030200777")), "fixmedins_code", "H37030200777"),
        ]
        for call, field, value in cases:
            with pytest.raises(ValidationError) as e:
                call()
            assert e.value.field == field and value in str(e.value)


def test_coverage_choices_and_opening_balances(store, make):
    with store.unit() as uow:
        seed(uow, make)
        assert uow.coverage_choices.add({"psn_no": "P00001", "year": 2025, "supplementary": "huiminbao"})["tier"] == 0
        uow.account_balances.add({"psn_no": "P00001", "year": 2025, "balance_fen": 50_000})
        uow.account_balances.add({"psn_no": "P00001", "year": 2026, "balance_fen": 70_000})
    with store.unit() as uow:
        assert uow.coverage_choices.get("P00001", 2025) == {"psn_no": "P00001", "year": 2025, "tier": 0,
                                                           "supplementary": "huiminbao"}
        assert [uow.account_balances.opening("P00001", y) for y in (2025, 2026)] == [50_000, 70_000]
        assert uow.account_balances.all()["balance_fen"].sum() == 120_000
        with pytest.raises(NotFoundError, match="opening balance of 'P00002' in 2025 not found"):
            uow.account_balances.opening("P00002", 2025)
        cases = [
            (lambda: uow.coverage_choices.add({"psn_no": "P00009", "year": 2025}), "psn_no", "P00009"),
            (lambda: uow.coverage_choices.add({"psn_no": "P00001", "year": 2025, "tier": 2}), "year",
             "the coverage choice of P00001 in 2025 is already recorded"),
            (lambda: uow.account_balances.add({"psn_no": "P00002", "year": 2025, "balance_fen": -5}), "balance_fen",
             "-5 is negative"),
            (lambda: uow.account_balances.add({"psn_no": "P00002", "year": 2025}), "balance_fen", "is required"),
        ]
        for call, field, text in cases:
            with pytest.raises(ValidationError) as e:
                call()
            assert e.value.field == field and text in str(e.value)
