"""The regulator's commands: ``yibao audit run | sample | draw``, ``yibao case open | move | show | list``,
``yibao report add | decide | reward`` and ``yibao credit grade | score | show``; each writes to the store
at ``--db`` (default ``$YIBAO_DB_URL`` or ``sqlite:///yibao.db``) and ends bad input with ``error: …``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from yibao.errors import ValidationError

audit_app = typer.Typer(help="费用审核 and 双随机一公开: screen a year, draw the re-check sample, draw inspections.",
                        no_args_is_help=True)
case_app = typer.Typer(help="Cases (案件): 线索 → 核查 → 立案 → 处理 → 结案.", no_args_is_help=True)
report_app = typer.Typer(help="举报: intake, 受理 or 不予受理, the reward.", no_args_is_help=True)
credit_app = typer.Typer(help="Credit (信用): institution grades A–E, staff 医保支付资格 points, records.",
                         no_args_is_help=True)

DB = typer.Option(None, "--db", help="Store URL (default $YIBAO_DB_URL or sqlite:///yibao.db).")
TODAY = typer.Option(None, "--date", help="Date of the step, YYYY-MM-DD (default today).")
SUBJECT_KIND = typer.Option("institution", "--subject-kind",
                            help="institution, doctor, pharmacist, nurse, technician or person.")


def _date(text: str | None, option: str = "--date") -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(option, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _fen(text: str, option: str) -> int:
    from yibao.money import yuan_to_fen

    return yuan_to_fen(text, option)


def _pair(text: str, option: str, parts: int = 2) -> list[str]:
    bits = text.split(":")
    if len(bits) != parts or not all(b.strip() for b in bits):
        raise ValidationError(option, f"{text!r}: expected {parts} parts separated by ':'")
    return [b.strip() for b in bits]


def _console():
    from yibao.console import new_console

    return new_console()


# ---- audit ----

def _register_screening() -> None:
    """``audit run`` is ``supervise run`` under the 费用审核 name: one command, one set of options."""
    from yibao.supervision.cli import run

    audit_app.command("run", help="初审: every claim of the year through the rule library, hits to a file "
                      "(the same run as `yibao supervise run`).")(run)


_register_screening()


@audit_app.command("sample")
def audit_sample(
    lake: Path = typer.Option(..., "--lake", help="Lake folder with the year's claims."),
    hits: Path = typer.Option(..., "--hits", help="Hits of `yibao audit run` (.parquet or .csv): claims with a hit did not pass."),
    seed: int = typer.Option(..., "--seed", min=0, help="Seed of the draw (the same seed draws the same claims)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the claims drawn (.parquet or .csv)."),
    db: Optional[str] = DB,
    date: Optional[str] = TODAY,
) -> None:
    """复审抽查: a random re-check sample per institution of the inpatient claims that passed the rules."""
    from yibao.lake.io import check_out, write_rows

    on = _date(date)
    if out is not None:
        check_out(out)
    no, drawn, table = draw_sample(lake, _hit_claims(hits), seed, db, on, str(hits))
    if out is not None:
        write_rows(drawn, out)
    _console().print(sample_table(no, seed, table))


def draw_sample(lake: Path, hit_claims: set[str], seed: int, db: str | None, on: dt.date, hits: str = ""):
    """The re-check draw of a lake's year, kept in the store: (its number, the claims drawn, the quotas)."""
    from yibao.lake.io import local_claims
    from yibao.supervision.regulator import repository as repo
    from yibao.supervision.regulator.params import shipped_params
    from yibao.supervision.regulator.sampling import CLAIM_COLUMNS, sample

    drawn, table = sample(local_claims(lake, CLAIM_COLUMNS), hit_claims, seed, shipped_params())
    with repo.unit(db) as conn:
        no = repo.next_number(conn, "CC", repo.SAMPLES.c.sample_no, on.year)
        detail = {"lake": str(lake), "hits": hits, "quotas": table.to_dict("records")}
        repo.add_sample(conn, {"sample_no": no, "drawn_on": on, "seed": seed, "detail": _plain(detail)},
                        drawn.to_dict("records"))
    return no, drawn, table


def _hit_claims(path: Path) -> set[str]:
    return set(_read_hits(path, ["claim_id"])["claim_id"].astype(str))


def _plain(value):
    """JSON-ready: numpy integers as int."""
    import json

    return json.loads(json.dumps(value, default=int))


def sample_table(no: str, seed: int, table):
    from rich.table import Table

    from yibao.money import show_yuan

    out = Table(title=f"费用审核 re-check sample {no} (seed {seed}): {int(table.sampled_claims.sum()):,} claims")
    for col in ("institution", "year (yuan)", "rule", "passed inpatient (yuan)", "quota (yuan)", "sampled (yuan)",
                "claims"):
        out.add_column(col, justify="left" if col in ("institution", "rule") else "right")
    for r in table.itertuples():
        out.add_row(r.fixmedins_code, show_yuan(r.spending_fen), r.rule, show_yuan(r.passed_inpatient_fen),
                    show_yuan(r.quota_fen), show_yuan(r.sampled_fen), f"{r.sampled_claims:,}")
    return out


@audit_app.command("draw")
def audit_draw(
    lake: Path = typer.Option(..., "--lake", help="Lake folder: the frame is its institutions with claims in the region."),
    inspectors: Path = typer.Option(..., "--inspectors", help="CSV: inspector_id, name, conflicts ('|'-joined "
                                    "institution codes: their former institution and declared relations)."),
    quota: int = typer.Option(..., "--quota", help="Institutions to draw."),
    seed: int = typer.Option(..., "--seed", min=0, help="Seed of the draw."),
    year: int = typer.Option(..., "--year", help="Credit grades of this year weight the draw (`yibao credit grade`)."),
    db: Optional[str] = DB,
    date: Optional[str] = TODAY,
) -> None:
    """双随机一公开: draw institutions (worse grades more often) and a conflict-free team for each; publish."""
    from yibao.lake.io import local_claims, read_table
    from yibao.supervision.regulator import repository as repo
    from yibao.supervision.regulator.draw import UNGRADED, draw_inspections
    from yibao.supervision.regulator.params import shipped_params

    on = _date(date)
    local = set(local_claims(lake, ["fixmedins_code"])["fixmedins_code"])
    rows = read_table(lake, "institutions", ["fixmedins_code", "name"]).to_pylist()
    names = {r["fixmedins_code"]: r["name"] for r in rows if r["fixmedins_code"] in local}
    team = _inspectors(inspectors)
    with repo.unit(db) as conn:
        graded = {g["fixmedins_code"]: g["grade"] for g in repo.grades(conn, year)}
        frame = {code: graded.get(code, UNGRADED) for code in names}
        picks = draw_inspections(frame, quota, team, seed, shipped_params())
        no = repo.next_number(conn, "SJ", repo.DRAWS.c.draw_no, on.year)
        strata = {g: sum(1 for v in frame.values() if v == g) for g in sorted(set(frame.values()))}
        repo.add_draw(conn, {"draw_no": no, "drawn_on": on, "seed": seed, "quota": quota,
                             "detail": {"lake": str(lake), "year": year, "strata": strata}},
                      [{"seq": p.seq, "fixmedins_code": p.fixmedins_code, "grade": p.grade,
                        "inspectors": "|".join(p.inspectors)} for p in picks])
    _console().print(_draw_table(no, on, seed, picks, names, {i.inspector_id: i.name for i in team}))


def _inspectors(path: Path):
    import csv

    from yibao.supervision.regulator.draw import Inspector

    if not path.is_file():
        raise ValidationError("--inspectors", "no such file", str(path))
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for n, row in enumerate(rows, start=2):
        where = f"{path} line {n}"
        for col in ("inspector_id", "name"):
            if not (row.get(col) or "").strip():
                raise ValidationError(col, "is empty" if col in row else "column missing", where)
        conflicts = frozenset(c.strip() for c in (row.get("conflicts") or "").split("|") if c.strip())
        out.append(Inspector(row["inspector_id"].strip(), row["name"].strip(), conflicts))
    if not out:
        raise ValidationError("--inspectors", "lists no inspector", str(path))
    return out


def _draw_table(no, on, seed, picks, names, inspector_names):
    from rich.table import Table

    out = Table(title=f"双随机一公开 {no} drawn {on} (seed {seed}): {len(picks)} institutions")
    for col in ("序号", "institution", "name", "grade", "inspectors"):
        out.add_column(col)
    for p in picks:
        out.add_row(str(p.seq), p.fixmedins_code, names.get(p.fixmedins_code, ""), p.grade,
                    "、".join(inspector_names[i] for i in p.inspectors))
    return out


# ---- cases ----

@case_app.command("open")
def case_open(
    source: str = typer.Option(..., "--source", help="rule_hit, report, sample, anomaly or draw."),
    subject_kind: str = SUBJECT_KIND,
    subject: str = typer.Option(..., "--subject", help="The institution code, staff id or psn_no concerned."),
    institution: Optional[str] = typer.Option(None, "--institution", help="The institution concerned (for staff and persons)."),
    ref: Optional[str] = typer.Option(None, "--ref", help="Where the clue came from: hit id, sample, rank."),
    evidence: list[str] = typer.Option([], "--evidence", help="KIND:REF, KIND one of hit, document, report, sample, rank (repeatable)."),
    case_no: Optional[str] = typer.Option(None, "--case-no", help="Case number (default AJ + year + sequence)."),
    db: Optional[str] = DB,
    date: Optional[str] = TODAY,
) -> None:
    """A new case at 线索; prints its number and the date its 立案 decision is due."""
    from yibao.supervision.regulator import repository as repo
    from yibao.supervision.regulator.service import open_case

    no = open_case(db, source, subject_kind, subject, _date(date), ref, institution, _evidence(evidence), case_no)
    with repo.unit(db) as conn:
        due = repo.case_file(conn, no).due
    _console().print(f"case {no} opened at 线索; 立案 decision due by {due}")


def _evidence(items: list[str]) -> list[tuple[str, str, None]]:
    """``KIND:REF`` pairs; the reference may itself hold ':' (a URL)."""
    return [(kind.strip(), ref.strip(), None) for kind, _, ref in (e.partition(":") for e in items)]


@case_app.command("move")
def case_move(
    case_no: str = typer.Argument(..., help="Case number."),
    to: str = typer.Option(..., "--to", help="checking (核查), filed (立案), dropped (不予立案), handled (处理), closed (结案)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, when the move is past its deadline."),
    recover: list[str] = typer.Option([], "--recover", help="FUND:YUAN 追回 to a fund_pay_type (repeatable)."),
    fine: list[str] = typer.Option([], "--fine", help="BASIS:YUAN 罚款, BASIS violation or fraud (repeatable)."),
    suspend: Optional[int] = typer.Option(None, "--suspend", help="暂停协议 for this many months."),
    terminate: bool = typer.Option(False, "--terminate", help="解除协议."),
    points: list[str] = typer.Option([], "--points", help="ROLE:ID:N 医保支付资格记分 (repeatable)."),
    evidence: list[str] = typer.Option([], "--evidence", help="KIND:REF (repeatable)."),
    db: Optional[str] = DB,
    date: Optional[str] = TODAY,
) -> None:
    """The case's next state; at handled, its measures. Refused out of order or late without a reason."""
    from yibao.supervision.regulator.service import move_case

    actions = _actions(recover, fine, suspend, terminate, points)
    move_case(db, case_no, to, _date(date), reason, actions, _evidence(evidence))
    _console().print(f"case {case_no} → {to}")


def _actions(recover, fine, suspend, terminate, points):
    from yibao.supervision.regulator.cases import Action

    out = [Action("recover", _fen(y, "--recover"), fund=f) for f, y in (_pair(r, "--recover") for r in recover)]
    out += [Action("fine", _fen(y, "--fine"), basis=b) for b, y in (_pair(x, "--fine") for x in fine)]
    if suspend is not None:
        out.append(Action("suspend", months=suspend))
    if terminate:
        out.append(Action("terminate"))
    for role, pid, n in (_pair(p, "--points", 3) for p in points):
        if not n.isdigit():
            raise ValidationError("--points", f"{n!r} is not a whole number of points")
        out.append(Action("points", person_id=pid, role=role, points=int(n)))
    return tuple(out)


@case_app.command("show")
def case_show(case_no: str = typer.Argument(..., help="Case number."), db: Optional[str] = DB) -> None:
    """A case's steps with their dates and deadlines, evidence, measures and the money recovered."""
    from rich.table import Table

    from yibao.money import show_yuan
    from yibao.supervision.regulator import repository as repo
    from yibao.supervision.regulator.cases import ACTIONS, SOURCES, STATES

    with repo.unit(db) as conn:
        c, ledger = repo.case(conn, case_no), repo.recovered(conn, case_no)
    console = _console()
    where = f" of institution {c['fixmedins_code']}" if c["subject_kind"] != "institution" and c["fixmedins_code"] else ""
    console.print(f"case {c['case_no']}: {c['subject_kind']} {c['subject_id']}{where}, source {SOURCES[c['source']]} "
                  f"{c['source_ref'] or ''}; at {STATES[c['state']]} since {c['since']}"
                  + (f", next due by {c['due']}" if c["due"] else ""))
    steps = Table(title="steps")
    for col in ("#", "state", "on", "next due", "reason"):
        steps.add_column(col)
    for s in c["steps"]:
        steps.add_row(str(s["seq"]), STATES[s["state"]], str(s["on_date"]), str(s["due"] or ""), s["reason"] or "")
    console.print(steps)
    for e in c["evidence"]:
        console.print(f"evidence {e['kind']}: {e['ref']} ({e['added_on']})")
    for a in c["actions"]:
        what = {"recover": f"{show_yuan(a['amount_fen'])} yuan to {a['fund']}",
                "fine": f"{show_yuan(a['amount_fen'])} yuan ({a['basis']})", "suspend": f"{a['months']} months",
                "terminate": "", "points": f"{a['role']} {a['person_id']} {a['points']} points"}[a["kind"]]
        console.print(f"{ACTIONS[a['kind']]} {what} ({a['on_date']})")
    total = sum(r["amount_fen"] for r in ledger)
    console.print(f"recovered: {show_yuan(total)} yuan" + "".join(f"; {r['fund']} {show_yuan(r['amount_fen'])}"
                                                                    for r in ledger))


@case_app.command("list")
def case_list(
    state: Optional[str] = typer.Option(None, "--state", help="Only cases at this state."),
    institution: Optional[str] = typer.Option(None, "--institution", help="Only cases of this institution."),
    db: Optional[str] = DB,
) -> None:
    """Cases with their state, since when, and the next deadline."""
    from rich.table import Table

    from yibao.supervision.regulator import repository as repo
    from yibao.supervision.regulator.cases import STATES

    if state is not None and state not in STATES:
        raise ValidationError("--state", f"{state!r} is not one of {', '.join(STATES)}")
    with repo.unit(db) as conn:
        rows = repo.cases(conn, state, institution)
    out = Table(title=f"cases: {len(rows)}")
    for col in ("case", "source", "subject", "institution", "state", "since", "due"):
        out.add_column(col)
    for r in rows:
        out.add_row(r["case_no"], r["source"], f"{r['subject_kind']} {r['subject_id']}", r["fixmedins_code"] or "",
                    STATES[r["state"]], str(r["since"]), str(r["due"] or ""))
    _console().print(out)


# ---- 举报 ----

@report_app.command("add")
def report_add(
    subject: str = typer.Option(..., "--subject", help="The institution code (or staff id, psn_no) reported."),
    subject_kind: str = SUBJECT_KIND,
    facts: str = typer.Option(..., "--facts", help="What happened, when and where."),
    informant: Optional[str] = typer.Option(None, "--informant", help="The informant's name (for a named 举报)."),
    contact: Optional[str] = typer.Option(None, "--contact", help="The informant's phone or address."),
    anonymous: bool = typer.Option(False, "--anonymous", help="An anonymous 举报 (handled, not rewarded)."),
    report_no: Optional[str] = typer.Option(None, "--report-no", help="Report number (default JB + year + sequence)."),
    db: Optional[str] = DB,
    date: Optional[str] = typer.Option(None, "--date", help="Date received, YYYY-MM-DD (default today)."),
) -> None:
    """A 举报 received; prints its number and the date it must be accepted or refused by."""
    from yibao.supervision.regulator import repository as repo
    from yibao.supervision.regulator.reports import Report
    from yibao.supervision.regulator.service import add_report

    r = add_report(db, Report(report_no or "", _date(date), subject_kind, subject, facts, informant, contact, anonymous))
    with repo.unit(db) as conn:
        due = repo.report(conn, r.report_no)["accept_by"]
    _console().print(f"report {r.report_no} received; 受理 decision due by {due}")


@report_app.command("decide")
def report_decide(
    report_no: str = typer.Argument(..., help="Report number."),
    accept: bool = typer.Option(..., "--accept/--reject", help="受理 (becomes a case) or 不予受理."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why (needed to reject, or when late)."),
    db: Optional[str] = DB,
    date: Optional[str] = TODAY,
) -> None:
    """受理: the 举报 becomes a case at 线索; 不予受理 with its reason."""
    from yibao.supervision.regulator.service import decide_report

    no = decide_report(db, report_no, accept, _date(date), reason)
    _console().print(f"report {report_no} accepted: case {no}" if no else f"report {report_no} rejected")


@report_app.command("reward")
def report_reward(report_no: str = typer.Argument(..., help="Report number."), db: Optional[str] = DB) -> None:
    """The reward of a 举报 whose case is closed: a share of the money recovered, within floor and cap."""
    from yibao.money import show_yuan
    from yibao.supervision.regulator.service import reward_report

    _console().print(f"report {report_no}: reward {show_yuan(reward_report(db, report_no))} yuan")


# ---- credit ----

@credit_app.command("grade")
def credit_grade(
    year: int = typer.Option(..., "--year", help="The year graded."),
    lake: Optional[Path] = typer.Option(None, "--lake", help="Lake of the year (its claims count per institution)."),
    hits: Optional[Path] = typer.Option(None, "--hits", help="Hits of the year (`yibao audit run`), with --lake."),
    db: Optional[str] = DB,
) -> None:
    """Grade institutions A–E from the year's cases, recoveries, agreement measures and 明确违规 hits."""
    from rich.table import Table

    from yibao.supervision.regulator.service import grade_year

    graded = grade_year(db, year, _claim_counts(lake, hits))
    out = Table(title=f"credit grades {year}: {len(graded)} institutions")
    for col in ("institution", "score", "grade", "cases", "recovered", "suspended", "sev1 hits"):
        out.add_column(col, justify="left" if col == "institution" else "right")
    for g in graded:
        d = g.deductions
        out.add_row(g.fixmedins_code, str(g.score), g.grade, f"-{d['cases_filed']}", f"-{d['recovered']}",
                    f"-{d['suspended']}", f"-{d['sev1_hit_share']}")
    _console().print(out)


def _claim_counts(lake: Path | None, hits: Path | None) -> dict[str, tuple[int, int]]:
    from yibao.lake.io import local_claims

    if lake is None:
        if hits is not None:
            raise ValidationError("--hits", "needs --lake: the share of claims with a hit needs the claims")
        return {}
    claims = local_claims(lake, ["claim_id", "fixmedins_code"])
    sev1 = set()
    if hits is not None:
        frame = _read_hits(hits, ["claim_id", "sev_deg"])
        sev1 = set(frame.loc[frame["sev_deg"].astype(int) == 1, "claim_id"].astype(str))
    claims["sev1"] = claims["claim_id"].isin(sev1)
    by = claims.groupby("fixmedins_code").agg(n=("claim_id", "size"), s=("sev1", "sum"))
    return {code: (int(r.n), int(r.s)) for code, r in by.iterrows()}


def _read_hits(path: Path, columns: list[str]):
    import pandas as pd

    if not path.is_file():
        raise ValidationError("--hits", "no such file", str(path))
    try:
        return pd.read_csv(path, usecols=columns) if path.suffix == ".csv" else pd.read_parquet(path, columns=columns)
    except (ValueError, OSError) as e:
        raise ValidationError(",".join(columns), f"cannot read these columns of the hits: {' '.join(str(e).split())}",
                              str(path)) from None


@credit_app.command("score")
def credit_score(
    person: str = typer.Argument(..., help="The doctor's, pharmacist's … id."),
    db: Optional[str] = DB,
    date: Optional[str] = typer.Option(None, "--date", help="Status on this date (default today)."),
) -> None:
    """A staff member's 医保支付资格: the year's 记分, suspended at 9, terminated at 12, reset each year."""
    from yibao.supervision.regulator.service import staff_qualification

    q = staff_qualification(db, person, _date(date))
    bar = f", may not register again until {q.barred_until}" if q.barred_until else ""
    _console().print(f"{q.person_id} on {q.on}: {q.points} points in {q.on.year}; {q.status}{bar}")


@credit_app.command("show")
def credit_show(
    subject_kind: str = typer.Argument(..., help="institution, doctor, pharmacist, nurse, technician or person."),
    subject: str = typer.Argument(..., help="Institution code, staff id or psn_no."),
    db: Optional[str] = DB,
) -> None:
    """A subject's credit record: its events (cases, recoveries, measures, points) and, for an institution, grades."""
    from rich.table import Table

    from yibao.money import show_yuan
    from yibao.supervision.regulator import repository as repo
    from yibao.supervision.regulator.cases import SUBJECTS

    if subject_kind not in SUBJECTS:
        raise ValidationError("subject_kind", f"{subject_kind!r} is not one of {', '.join(SUBJECTS)}")
    with repo.unit(db) as conn:
        rows = repo.events(conn, subject_kind, subject)
        graded = repo.grades(conn, code=subject) if subject_kind == "institution" else []
    out = Table(title=f"credit record of {subject_kind} {subject}: {len(rows)} events")
    for col in ("on", "event", "case", "points", "amount (yuan)"):
        out.add_column(col)
    for e in rows:
        out.add_row(str(e["on_date"]), e["kind"], e["case_no"] or "", str(e["points"] or ""),
                    show_yuan(e["amount_fen"]) if e["amount_fen"] is not None else "")
    console = _console()
    console.print(out)
    for g in graded:
        console.print(f"{g['year']}: grade {g['grade']} (score {g['score']})")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(case_app, name="case")
    app.add_typer(report_app, name="report")
    app.add_typer(credit_app, name="credit")
