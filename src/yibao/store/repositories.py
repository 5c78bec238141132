"""Repositories: every query of the operational store lives here; domain code never sees a session.

``with Store(url).unit() as uow:`` opens a unit of work (one transaction) exposing one repository per
aggregate; it commits when the block ends normally and rolls back when it raises. Records go in and
come out as plain dicts in the lake's column names (dates as ``datetime.date``, money as int fen).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from yibao import vocab
from yibao.errors import NotFoundError, ValidationError
from yibao.lake.schema import TABLES
from yibao.store import validate
from yibao.store.db import make_engine
from yibao.store.models import (
    ENTRY_KINDS,
    Account,
    AccountBalance,
    AccountEntry,
    CatalogItem,
    Claim,
    ClaimLine,
    Contribution,
    CoverageChoice,
    Employer,
    Enrollment,
    Identity,
    Institution,
    Person,
    Region,
)

Record = dict[str, Any]


class OverdraftError(ValidationError):
    """A debit larger than the personal account's balance (个人账户不得透支)."""


def _row(table: sa.Table, row: sa.RowMapping, lake: str | None = None) -> Record:
    names = TABLES[lake].names if lake else [c.name for c in table.columns]
    return {n: row[n] for n in names if n in row}


def _cols(model, lake: str) -> list[sa.Column]:
    table = model.__table__
    return [table.c[n] for n in TABLES[lake].names]


class _Repo:
    def __init__(self, session: Session):
        self.s = session

    def _require(self, model, column: str, value: Any, field: str, record: str) -> None:
        """Refuse a reference to a row that does not exist (before the database's foreign key does)."""
        if value is None:
            return
        t = model.__table__
        if self.s.execute(sa.select(t.c[column]).where(t.c[column] == value)).first() is None:
            raise ValidationError(field, f"{value!r} is not a known {t.name[:-1]} {column}", record=record)

    def _one(self, stmt, what: str, key: Any) -> sa.RowMapping:
        row = self.s.execute(stmt).mappings().first()
        if row is None:
            raise NotFoundError(f"{what} {key!r} not found")
        return row


class Regions(_Repo):
    """医保区划."""

    def add(self, rec: Mapping[str, Any]) -> Record:
        r = validate.region(rec)
        self.s.execute(sa.insert(Region.__table__).values(**r))
        return r

    def get(self, admdvs: str) -> Record:
        t = Region.__table__
        return _row(t, self._one(sa.select(t).where(t.c.admdvs == admdvs), "region", admdvs), "regions")

    def all(self) -> list[Record]:
        t = Region.__table__
        return [_row(t, r, "regions") for r in self.s.execute(sa.select(t).order_by(t.c.admdvs)).mappings()]


class Employers(_Repo):
    """参保单位."""

    def add(self, rec: Mapping[str, Any]) -> Record:
        r = validate.employer(rec)
        self.s.execute(sa.insert(Employer.__table__).values(**r))
        return r

    def get(self, emp_no: str) -> Record:
        t = Employer.__table__
        return _row(t, self._one(sa.select(t).where(t.c.emp_no == emp_no), "employer", emp_no), "employers")

    def find_by_uscc(self, uscc: str) -> Record | None:
        t = Employer.__table__
        row = self.s.execute(sa.select(t).where(t.c.uscc == uscc.strip().upper())).mappings().first()
        return _row(t, row, "employers") if row else None


class Persons(_Repo):
    """参保人员."""

    def add(self, rec: Mapping[str, Any]) -> Record:
        """Validate and store a person; ``psn_no`` is assigned when absent. Returns the stored record."""
        rec = dict(rec)
        rec.setdefault("psn_no", None)
        rec["psn_no"] = rec["psn_no"] or new_id("P")
        r = validate.person(rec)
        if self.find_by_certno(r["certno"]) is not None:
            raise ValidationError("certno", f"{r['certno']} is already registered",
                                  record=f"persons psn_no={r['psn_no']}")
        self.s.execute(sa.insert(Person.__table__).values(**r))
        return r

    def get(self, psn_no: str) -> Record:
        t = Person.__table__
        return _row(t, self._one(sa.select(t).where(t.c.psn_no == psn_no), "person", psn_no), "persons")

    def find_by_certno(self, certno: str) -> Record | None:
        t = Person.__table__
        row = self.s.execute(sa.select(t).where(t.c.certno == str(certno).strip().upper())).mappings().first()
        return _row(t, row, "persons") if row else None

    def household(self, household_id: str) -> list[Record]:
        """Members of a 家庭共济 household."""
        t = Person.__table__
        rows = self.s.execute(sa.select(t).where(t.c.household_id == household_id).order_by(t.c.psn_no))
        return [_row(t, r, "persons") for r in rows.mappings()]

    def set_death(self, psn_no: str, death_date: date) -> Record:
        p = self.get(psn_no)
        validate.person({**p, "death_date": death_date})
        t = Person.__table__
        self.s.execute(sa.update(t).where(t.c.psn_no == psn_no).values(death_date=death_date))
        return {**p, "death_date": death_date}

    def count(self) -> int:
        return self.s.execute(sa.select(sa.func.count()).select_from(Person.__table__)).scalar_one()


class Enrollments(_Repo):
    """参保 spells (inclusive start and end; an open spell has no end)."""

    t = Enrollment.__table__

    def add(self, rec: Mapping[str, Any]) -> Record:
        """Store a spell; refuses one overlapping another spell of the person in the same insutype."""
        rec = dict(rec)
        rec["spell_id"] = rec.get("spell_id") or new_id("S")
        r = validate.enrollment(rec)
        label = f"enrollments spell_id={r['spell_id']}"
        self._require(Person, "psn_no", r["psn_no"], "psn_no", label)
        self._require(Employer, "emp_no", r["emp_no"], "emp_no", label)
        self._refuse_overlap(r)
        self.s.execute(sa.insert(self.t).values(**r))
        return r

    def _refuse_overlap(self, spell: Record) -> None:
        clash = validate.spell_overlaps(spell, self.spells_for(spell["psn_no"]))
        if clash is not None:
            raise ValidationError(
                "start_date",
                f"spell {spell['spell_id']} ({spell['start_date']}–{spell.get('end_date') or 'open'}) overlaps "
                f"spell {clash['spell_id']} ({clash['start_date']}–{clash['end_date'] or 'open'}) "
                f"of person {spell['psn_no']} in insutype {spell['insutype']}",
                record=f"enrollments spell_id={spell['spell_id']}",
            )

    def get(self, spell_id: str) -> Record:
        return _row(self.t, self._one(sa.select(self.t).where(self.t.c.spell_id == spell_id), "spell", spell_id),
                    "enrollments")

    def spells_for(self, psn_no: str) -> list[Record]:
        rows = self.s.execute(sa.select(self.t).where(self.t.c.psn_no == psn_no)
                              .order_by(self.t.c.start_date, self.t.c.spell_id))
        return [_row(self.t, r, "enrollments") for r in rows.mappings()]

    def end(self, spell_id: str, end_date: date) -> Record:
        """Close (or move the end of) a spell; the new end may not precede its start or overlap another spell."""
        spell = self.get(spell_id)
        changed = validate.enrollment({**spell, "end_date": end_date})
        self._refuse_overlap(changed)
        self.s.execute(sa.update(self.t).where(self.t.c.spell_id == spell_id).values(end_date=end_date))
        return changed

    def active_on(self, psn_no: str, on: date) -> list[Record]:
        """The person's spells covering ``on`` (several when enrolled in two schemes at once)."""
        t = self.t
        rows = self.s.execute(
            sa.select(t).where(t.c.psn_no == psn_no, t.c.start_date <= on,
                               sa.or_(t.c.end_date.is_(None), t.c.end_date >= on))
            .order_by(t.c.insutype, t.c.start_date))
        return [_row(t, r, "enrollments") for r in rows.mappings()]

    def all_spells(self) -> pd.DataFrame:
        """Every spell as a DataFrame in the lake ``enrollments`` schema."""
        return _frame(self.s, self.t, "enrollments")


class Identities(_Repo):
    """医疗救助 identity spells (特困, 低保 …)."""

    t = Identity.__table__

    def add(self, rec: Mapping[str, Any]) -> Record:
        r = validate.identity(rec)
        self._require(Person, "psn_no", r["psn_no"], "psn_no", f"identities psn_no={r['psn_no']}")
        self.s.execute(sa.insert(self.t).values(**r))
        return r

    def for_person(self, psn_no: str, on: date | None = None) -> list[Record]:
        """The person's identity spells; only those covering ``on`` when it is given."""
        t = self.t
        stmt = sa.select(t).where(t.c.psn_no == psn_no)
        if on is not None:
            stmt = stmt.where(t.c.start_date <= on, sa.or_(t.c.end_date.is_(None), t.c.end_date >= on))
        rows = self.s.execute(stmt.order_by(t.c.start_date, t.c.identity))
        return [_row(t, r, "identities") for r in rows.mappings()]

    def all(self) -> pd.DataFrame:
        return _frame(self.s, self.t, "identities")


class Accounts(_Repo):
    """个人账户 with append-only entries; the balance never goes below zero."""

    a = Account.__table__
    e = AccountEntry.__table__

    def open(self, psn_no: str, on: date | None = None) -> Record:
        """Open the person's account (idempotent: an open account is returned as it is)."""
        row = self.s.execute(sa.select(self.a).where(self.a.c.psn_no == psn_no)).mappings().first()
        if row is None:
            Persons(self.s).get(psn_no)
            self.s.execute(sa.insert(self.a).values(psn_no=psn_no, opened_on=on, balance_fen=0, entry_count=0))
            return {"psn_no": psn_no, "opened_on": on, "balance_fen": 0}
        return {"psn_no": row["psn_no"], "opened_on": row["opened_on"], "balance_fen": row["balance_fen"]}

    def post(self, psn_no: str, kind: str, amount_fen: int, on: date, ref: str | None = None,
             counterparty: str | None = None) -> Record:
        """Append an entry: ``amount_fen`` is signed (+ credit for accrual/refund/transfer_in, − debit for
        payment/mutual_aid/transfer_out). A debit beyond the balance raises ``OverdraftError`` and
        changes nothing. The balance moves in one conditional UPDATE, so concurrent posts cannot
        overdraw it."""
        label = f"accounts psn_no={psn_no}"
        if kind not in ENTRY_KINDS:
            raise ValidationError("kind", f"{kind!r} is not one of {', '.join(ENTRY_KINDS)}", record=label)
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
            raise ValidationError("amount_fen", f"{amount_fen!r} is not an integer number of fen", record=label)
        if amount_fen == 0 or (amount_fen > 0) != (ENTRY_KINDS[kind] > 0):
            sign = "positive (a credit)" if ENTRY_KINDS[kind] > 0 else "negative (a debit)"
            raise ValidationError("amount_fen", f"{amount_fen} must be {sign} for a {kind} entry", record=label)
        if not isinstance(on, date):
            raise ValidationError("on", f"{on!r} is not a date", record=label)
        a = self.a
        moved = self.s.execute(
            sa.update(a)
            .where(a.c.psn_no == psn_no, a.c.balance_fen + amount_fen >= 0)
            .values(balance_fen=a.c.balance_fen + amount_fen, entry_count=a.c.entry_count + 1)
            .returning(a.c.balance_fen, a.c.entry_count)
        ).first()
        if moved is None:
            balance = self.balance(psn_no)  # raises NotFoundError when there is no account
            raise OverdraftError("amount_fen", f"a debit of {-amount_fen} fen exceeds the balance of {balance} fen",
                                 record=label)
        entry = {"psn_no": psn_no, "seq": moved.entry_count, "kind": kind, "amount_fen": amount_fen,
                 "balance_after_fen": moved.balance_fen, "posted_on": on, "ref": ref, "counterparty": counterparty}
        self.s.execute(sa.insert(self.e).values(**entry))
        return entry

    def balance(self, psn_no: str) -> int:
        return self._one(sa.select(self.a.c.balance_fen).where(self.a.c.psn_no == psn_no),
                         "account", psn_no)["balance_fen"]

    def entries(self, psn_no: str) -> list[Record]:
        e = self.e
        rows = self.s.execute(sa.select(e).where(e.c.psn_no == psn_no).order_by(e.c.seq))
        return [{k: r[k] for k in ("seq", "kind", "amount_fen", "balance_after_fen", "posted_on", "ref",
                                   "counterparty", "psn_no")} for r in rows.mappings()]


class Institutions(_Repo):
    """定点医药机构."""

    t = Institution.__table__

    def add(self, rec: Mapping[str, Any]) -> Record:
        r = validate.institution(rec)
        self.s.execute(sa.insert(self.t).values(**r))
        return r

    def get(self, code: str) -> Record:
        code = str(code).strip().upper()
        return _row(self.t, self._one(sa.select(self.t).where(self.t.c.fixmedins_code == code),
                                      "institution", code), "institutions")


class Catalog(_Repo):
    """医保目录 item versions."""

    t = CatalogItem.__table__

    def add(self, rec: Mapping[str, Any]) -> Record:
        r = validate.catalog_item(rec)
        self.s.execute(sa.insert(self.t).values(**r))
        return r

    def get(self, code: str, on: date) -> Record:
        """The version of item ``code`` in force on ``on``."""
        t = self.t
        stmt = (sa.select(t).where(t.c.item_code == code, t.c.begin_date <= on,
                                   sa.or_(t.c.end_date.is_(None), t.c.end_date >= on))
                .order_by(t.c.begin_date.desc()))
        return _row(t, self._one(stmt, f"catalog item on {on}", code), "catalog")


class Contributions(_Repo):
    """缴费 due per person, year and insutype."""

    t = Contribution.__table__

    def add_many(self, rows: pd.DataFrame | pa.Table | Iterable[Mapping[str, Any]]) -> int:
        """Validate (vectorised) and insert contribution rows in the lake schema; returns the count."""
        if not isinstance(rows, (pd.DataFrame, pa.Table)):
            rows = list(rows)
            try:
                rows = pa.Table.from_pylist(rows, schema=TABLES["contributions"])
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                for n, row in enumerate(rows, start=1):  # name the offending row
                    validate.contribution(row, record=f"contributions row {n}")
                raise
        table = validate.check_table("contributions", rows)
        records = table.to_pylist()
        if records:
            self.s.execute(sa.insert(self.t), records)
        return len(records)

    def for_person(self, psn_no: str, year: int | None = None) -> list[Record]:
        t = self.t
        stmt = sa.select(t).where(t.c.psn_no == psn_no)
        if year is not None:
            stmt = stmt.where(t.c.year == year)
        return [_row(t, r, "contributions") for r in self.s.execute(stmt.order_by(t.c.year, t.c.insutype)).mappings()]


class _PersonYear(_Repo):
    """Records keyed by person and year (one per pair), in the lake table ``lake``."""

    t: sa.Table
    lake: str
    what: str

    def add(self, rec: Mapping[str, Any]) -> Record:
        r = getattr(validate, self.check)(rec)
        label = f"{self.lake} psn_no={r['psn_no']}, year={r['year']}"
        self._require(Person, "psn_no", r["psn_no"], "psn_no", label)
        if self._find(r["psn_no"], r["year"]) is not None:
            raise ValidationError("year", f"the {self.what} of {r['psn_no']} in {r['year']} is already recorded",
                                  record=label)
        self.s.execute(sa.insert(self.t).values(**r))
        return r

    def get(self, psn_no: str, year: int) -> Record:
        """The person's record of ``year``; ``NotFoundError`` when none was recorded."""
        row = self._find(psn_no, year)
        if row is None:
            raise NotFoundError(f"{self.what} of {psn_no!r} in {year} not found")
        return _row(self.t, row, self.lake)

    def _find(self, psn_no: str, year: int) -> sa.RowMapping | None:
        t = self.t
        return self.s.execute(sa.select(t).where(t.c.psn_no == psn_no, t.c.year == year)).mappings().first()

    def all(self) -> pd.DataFrame:
        """Every record as a DataFrame in the lake schema."""
        return _frame(self.s, self.t, self.lake)


class CoverageChoices(_PersonYear):
    """Choices at enrolment per person and year: 居民缴费档次 (tier) and supplementary tiers joined."""

    t, lake, what, check = CoverageChoice.__table__, "coverage_choices", "coverage choice", "coverage_choice"


class AccountBalances(_PersonYear):
    """个人账户 opening balances: the balance at 1 January of a year, before its accruals."""

    t, lake, what, check = AccountBalance.__table__, "account_balances", "opening balance", "account_balance"

    def opening(self, psn_no: str, year: int) -> int:
        """The person's balance (fen) at 1 January of ``year``."""
        return self.get(psn_no, year)["balance_fen"]


class Claims(_Repo):
    """结算清单-shaped claims and their itemised lines."""

    c = Claim.__table__
    l = ClaimLine.__table__  # noqa: E741 - the lines table

    def add(self, claim: Mapping[str, Any], lines: Iterable[Mapping[str, Any]] = (), icd10=None, icd9=None) -> str:
        """Store a claim and its lines; ``claim_id`` is assigned when absent and returned."""
        claim = dict(claim)
        claim["claim_id"] = claim.get("claim_id") or new_id("C")
        r = validate.claim(claim, icd10=icd10, icd9=icd9)
        label = f"claims claim_id={r['claim_id']}"
        self._require(Person, "psn_no", r["psn_no"], "psn_no", label)
        self._require(Institution, "fixmedins_code", r["fixmedins_code"], "fixmedins_code", label)
        rows = []
        for i, line in enumerate(lines, start=1):
            line = {"line_no": i, **line, "claim_id": r["claim_id"]}
            rows.append(validate.claim_line(line, record=f"claim {r['claim_id']} line {line['line_no']}"))
        self.s.execute(sa.insert(self.c).values(**r))
        if rows:
            self.s.execute(sa.insert(self.l), rows)
        return r["claim_id"]

    def get(self, claim_id: str) -> Record:
        rec = _row(self.c, self._one(sa.select(self.c).where(self.c.c.claim_id == claim_id), "claim", claim_id),
                   "claims")
        rec["lines"] = self._lines([claim_id])[claim_id]
        return rec

    def for_person(self, psn_no: str, year: int | None = None) -> list[Record]:
        """The person's claims admitted in ``year`` (all years when None), each with its ``lines``."""
        c = self.c.c
        stmt = sa.select(self.c).where(c.psn_no == psn_no)
        if year is not None:
            stmt = stmt.where(c.adm_date >= date(year, 1, 1), c.adm_date <= date(year, 12, 31))
        claims = [_row(self.c, r, "claims") for r in self.s.execute(stmt.order_by(c.adm_date, c.claim_id)).mappings()]
        lines = self._lines([x["claim_id"] for x in claims])
        for x in claims:
            x["lines"] = lines[x["claim_id"]]
        return claims

    def _lines(self, claim_ids: list[str]) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = {cid: [] for cid in claim_ids}
        if claim_ids:
            t = self.l
            rows = self.s.execute(sa.select(t).where(t.c.claim_id.in_(claim_ids)).order_by(t.c.claim_id, t.c.line_no))
            for r in rows.mappings():
                out[r["claim_id"]].append(_row(t, r, "claim_lines"))
        return out


class UnitOfWork:
    """One transaction over the store, with a repository per aggregate."""

    def __init__(self, session: Session):
        self.session = session
        self.regions = Regions(session)
        self.employers = Employers(session)
        self.persons = Persons(session)
        self.enrollments = Enrollments(session)
        self.identities = Identities(session)
        self.accounts = Accounts(session)
        self.institutions = Institutions(session)
        self.catalog = Catalog(session)
        self.contributions = Contributions(session)
        self.coverage_choices = CoverageChoices(session)
        self.account_balances = AccountBalances(session)
        self.claims = Claims(session)

    def summary(self, on: date | None = None) -> dict[str, pd.DataFrame]:
        """Counts for the demo and the overview pages.

        - ``persons``: persons by insutype and psn_type (spells covering ``on``, or any spell when None)
        - ``identities``: persons by identity category (covering ``on`` when given)
        - ``institutions``: institutions by kind and level
        - ``claims``: claims count and total fen by med_type × institution level
        - ``contributions``: contributions due by year and insutype, by payer and in total
        """
        return _summary(self.session, on)


class Store:
    """The operational store at ``url`` (default ``YIBAO_DB_URL`` or ``sqlite:///yibao.db``)."""

    def __init__(self, url: str | None = None, engine: sa.Engine | None = None):
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """A unit of work: commits when the block succeeds, rolls back when it raises."""
        with self._sessions() as session, session.begin():
            yield UnitOfWork(session)

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.dispose()


def new_id(prefix: str) -> str:
    """A fresh key for records created in the store (the lake brings its own)."""
    return prefix + uuid.uuid4().hex[:20].upper()


def _frame(session: Session, table: sa.Table, lake: str) -> pd.DataFrame:
    schema = TABLES[lake]
    rows = session.execute(sa.select(*[table.c[n] for n in schema.names])).all()
    cols = list(zip(*rows)) if rows else [[] for _ in schema.names]
    arrow = pa.table({f.name: pa.array(list(col), type=f.type) for f, col in zip(schema, cols)}, schema=schema)
    return arrow.to_pandas()


def _sum(col: sa.Column) -> sa.ColumnElement:
    """SUM as a BigInteger on every backend (PostgreSQL sums bigint into numeric)."""
    return sa.cast(sa.func.coalesce(sa.func.sum(col), 0), sa.BigInteger)


def _summary(s: Session, on: date | None) -> dict[str, pd.DataFrame]:
    def frame(stmt, columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame([tuple(r) for r in s.execute(stmt)], columns=columns)

    def covering(t: sa.Table):
        if on is None:
            return sa.true()
        return sa.and_(t.c.start_date <= on, sa.or_(t.c.end_date.is_(None), t.c.end_date >= on))

    e, i, inst, c, k = (Enrollment.__table__, Identity.__table__, Institution.__table__, Claim.__table__,
                        Contribution.__table__)
    persons = frame(sa.select(e.c.insutype, e.c.psn_type, sa.func.count(sa.distinct(e.c.psn_no)))
                    .where(covering(e)).group_by(e.c.insutype, e.c.psn_type).order_by(e.c.insutype, e.c.psn_type),
                    ["insutype", "psn_type", "persons"])
    persons["psn_type_name"] = persons["psn_type"].map(vocab.PSN_TYPES)
    identities = frame(sa.select(i.c.identity, sa.func.count(sa.distinct(i.c.psn_no))).where(covering(i))
                       .group_by(i.c.identity).order_by(i.c.identity), ["identity", "persons"])
    identities["name"] = identities["identity"].map(lambda x: vocab.IDENTITIES.get(x, ("",))[0])
    institutions = frame(sa.select(inst.c.kind, inst.c.level, sa.func.count(), _sum(inst.c.beds))
                         .group_by(inst.c.kind, inst.c.level).order_by(inst.c.kind, inst.c.level.desc()),
                         ["kind", "level", "institutions", "beds"])
    claims = frame(sa.select(c.c.med_type, inst.c.level, sa.func.count(), _sum(c.c.medfee_sumamt_fen))
                   .join(inst, inst.c.fixmedins_code == c.c.fixmedins_code)
                   .group_by(c.c.med_type, inst.c.level).order_by(c.c.med_type, inst.c.level.desc()),
                   ["med_type", "level", "claims", "total_fen"])
    payers = ["employer_fen", "individual_fen", "subsidy_fen", "sponsored_fen"]
    contributions = frame(sa.select(k.c.year, k.c.insutype, sa.func.count(), *[_sum(k.c[p]) for p in payers])
                          .group_by(k.c.year, k.c.insutype).order_by(k.c.year, k.c.insutype),
                          ["year", "insutype", "persons", *payers])
    for df, cols in ((claims, ["claims", "total_fen"]), (contributions, ["persons", *payers]),
                     (institutions, ["institutions", "beds"]), (persons, ["persons"]), (identities, ["persons"])):
        for col in cols:
            df[col] = df[col].astype("int64")
    contributions["total_fen"] = contributions[payers].sum(axis=1).astype("int64")
    return {"persons": persons, "identities": identities, "institutions": institutions, "claims": claims,
            "contributions": contributions}
