"""Settlement benchmark. First the path a user runs: ``yibao settle --claims LAKE --out FILE`` on a
synthesized region (``--lake-persons``, or an existing ``--lake``), beside the pyarrow read of the same
tables (see ``settle_lake.py``). Then, named as inner figures, the engine core alone: a synthetic year
of claim arrays in batch, one claim in real time, and the same tiers as a straightforward per-claim,
per-line Python loop for comparison.

    python benchmarks/settle.py                       # the command on 200,000 persons; the core on 10M claims
    python benchmarks/settle.py --lake-persons 1000000 --claims 1000000 --pack linyi
    python benchmarks/settle.py --lake-persons 0      # the core only

The claim arrays are built synthetically here (persons with ~10 claims a year, kinds drawn from the
pack's real parameter grid, ad-hoc lines with classes, 先行自付 ratios and price caps); building them
is not timed. The batch runs on one thread and on one thread per core (the default), each
``--repeat`` times: the best run is reported beside the first (which also pays for fresh memory). The
loop is timed on a sample and extrapolated to the full year (said so in the output); its results are
checked against the engine on that sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from yibao.money import apply_rate
from yibao.policy import load_pack
from yibao.settlement.batch import claim_scope, default_workers, settle_arrays
from yibao.settlement.engine import RealTime, settle_core
from yibao.settlement.model import Claim, Institution, Line, Person
from yibao.settlement.plan import NB, NS, Kind, group_name, plan_for
from yibao.settlement.realtime import settle

MEDS = {"310": ["11", "11", "11", "41", "13", "14", "2101", "28"], "390": ["11", "11", "41", "14", "2101", "9901"]}
CHRONIC = ["M03900", "M01600", "M04000", "M07800"]


def build_kinds(plan):
    """Claim kinds over the pack's grid: scheme × med type × level × person type × identity × filing."""
    kinds, index = [], {}
    for ins, psns in (("310", ["11", "12"]), ("390", ["15", "16"])):
        for psn in psns:
            for ident in ["", "dibao", "tekun"]:
                for med in sorted(set(MEDS[ins])):
                    for level in "3210":
                        for filing in ["", "unfiled"]:
                            chronic = CHRONIC[len(kinds) % len(CHRONIC)] if med == "14" else ""
                            k = Kind(ins, med, level, psn, 50 if psn in ("11", "15") else 70, ident, 2, filing, chronic,
                                     False, "", "huiminbao" if ident == "" and level == "3" else "", "",
                                     ins == "310" and ident == "" and level in "32")  # 企业补充 for some
                            index[(ins, psn, ident, med, level, filing)] = len(kinds)
                            kinds.append(plan.resolve(k))
    return kinds, index


def synthetic_year(n_claims: int, plan, seed: int = 1):
    rng = np.random.default_rng(seed)
    kinds, index = build_kinds(plan)
    per_person = rng.poisson(10, size=n_claims // 10 + 1) + 1
    person = np.repeat(np.arange(len(per_person)), per_person)[:n_claims]
    n_persons = int(person[-1]) + 1
    # per person: scheme (0 职工 / 1 居民), person type (0/1), identity (0 none, 1 低保, 2 特困)
    ins = rng.integers(0, 2, n_persons)
    psn = rng.integers(0, 2, n_persons)
    ident = rng.choice(3, size=n_persons, p=[0.94, 0.04, 0.02])
    # per claim: med type draw, level, unfiled 异地 (2%)
    med_draw = rng.integers(0, 8, n_claims)
    level = rng.choice(4, n_claims, p=[0.35, 0.35, 0.2, 0.1])
    unfiled = (rng.random(n_claims) < 0.02).astype(np.int64)
    code = ((((ins[person] * 2 + psn[person]) * 3 + ident[person]) * 8 + med_draw) * 4 + level) * 2 + unfiled
    uniq, inv = np.unique(code, return_inverse=True)
    lookup = np.empty(len(uniq), dtype=np.int64)
    for u_i, u in enumerate(uniq.tolist()):
        u, f = divmod(u, 2)
        u, lv = divmod(u, 4)
        u, md = divmod(u, 8)
        u, idn = divmod(u, 3)
        i_s, p_s = divmod(u, 2)
        scheme = ("310", "390")[i_s]
        meds = MEDS[scheme]
        key = (scheme, (("11", "12"), ("15", "16"))[i_s][p_s], ("", "dibao", "tekun")[idn], meds[md % len(meds)],
               "3210"[lv], ("", "unfiled")[f])
        lookup[u_i] = index[key]
    kind_id = lookup[inv]
    ins = np.where(ins == 0, "310", "390")
    year = np.full(n_claims, 2025, dtype=np.int64)
    inpatient = np.isin(kind_id, [k for k, r in enumerate(kinds) if r.med_group in ("inpatient", "day_surgery")])
    n_lines = rng.integers(1, 8, n_claims)
    starts = np.concatenate(([0], np.cumsum(n_lines)[:-1]))
    ends = starts + n_lines
    L = int(n_lines.sum())
    claim_of_line = np.repeat(np.arange(n_claims), n_lines)
    scale = np.where(inpatient, 300_000, 8_000)[claim_of_line]
    amount = (rng.exponential(1.0, L) * scale).astype(np.int64)
    lines = {
        "amount": amount,
        "qty_milli": rng.choice([1000, 2000, 500], L),
        "item_class": rng.choice([0, 1, 2], L, p=[0.6, 0.3, 0.1]),
        "preselfpay_ppm": rng.choice([0, 100_000, 200_000], L),
        "price_cap": np.where(rng.random(L) < 0.2, (amount * 0.8).astype(np.int64), -1),
        "out_of_scope": rng.random(L) < 0.01,
    }
    balances = np.where(ins[person] == "310", 100_000, 0).astype(np.int64)
    return kinds, kind_id, person, year, starts, ends, lines, balances


def run_engine(kinds, kind_id, person, year, starts, ends, lines, balances, rounding, workers=None):
    c = claim_scope(starts, ends, lines, rounding, workers=workers)
    c["acct_bal"], c["fam_bal"] = balances, np.zeros_like(balances)
    return settle_arrays(kinds, kind_id, person, year, c, rounding, workers=workers)


# -- the comparison: the same tiers, one claim and one line at a time ------------------------------

def loop_settle(kinds, kind_id, person, year, starts, ends, lines, balances, rounding, upto):
    """Straightforward Python: for each claim, for each line, then each tier with dict accumulators."""
    out = []
    acc: dict = {}  # the person's running totals this year
    used: dict = {}  # the person's account use (balances are not per year)
    prev_person, prev_year = None, None
    for i in range(upto):
        if person[i] != prev_person:
            acc, used = {}, {}
        elif year[i] != prev_year:
            acc = {}
        prev_person, prev_year = person[i], year[i]
        v = kinds[kind_id[i]].values
        tot = F = O = Pre = S = 0
        for j in range(starts[i], ends[i]):
            amt = int(lines["amount"][j])
            tot += amt
            if lines["item_class"][j] == 2 or lines["out_of_scope"][j]:
                F += amt
                continue
            cap = int(lines["price_cap"][j])
            allowed = min(amt, (cap * int(lines["qty_milli"][j]) + 500) // 1000) if cap >= 0 else amt
            O += amt - allowed
            pre = apply_rate(allowed, int(lines["preselfpay_ppm"][j]), rounding)
            Pre += pre
            S += allowed - pre
        out.append(_loop_tiers(v, acc, used, tot, F, O, Pre, S, int(balances[i]), rounding))
    return out


def _take(acc, key, raw, cap):
    paid = min(raw, max(0, cap - acc.get(key, 0)))
    acc[key] = acc.get(key, 0) + paid
    return paid


def _bands(lo, hi, v, prefix, rounding):
    t = 0
    for b in range(NB):
        start = v[f"{prefix}_from{b}"]
        end = v[f"{prefix}_from{b + 1}"] if b + 1 < NB else 1 << 62
        part = max(0, min(hi, end) - max(lo, start))
        if v[f"{prefix}_rate{b}"]:
            t += apply_rate(part, v[f"{prefix}_rate{b}"], rounding)
    return t


def _loop_tiers(v, acc, used, total, F, O, Pre, S, bal, rounding):
    if v["lift_scope"]:
        S, F = S + F, 0
    extra = apply_rate(S, v["oa_presel"], rounding)
    Pre, S = Pre + extra, S - extra
    n = acc.get("stays", 0) + 1 if v["counts_stay"] else 1
    acc["stays"] = acc.get("stays", 0) + v["counts_stay"]
    D = v["ded"]
    Dn = D
    if v["nth_mode"] == 1 and n >= 2:
        Dn = apply_rate(D, v["nth_factor"], rounding)
    if v["nth_mode"] == 2 and n >= 2:
        Dn = max(min(D, v["nth_floor"]), D - v["nth_step"] * (n - 1))
    if v["nth_waive_from"] and n >= v["nth_waive_from"]:
        Dn = 0
    if v["ded_per"] == 1:
        dedc = min(S, Dn)
    elif v["ded_per"] == 2:
        dedc = _take(acc, group_name(v["ded_group"]), S, D)
    else:
        dedc = 0
    base = 0
    if v["band_year"]:
        key = group_name(v["band_group"])
        base = acc.get(key, 0)
        acc[key] = base + S
    raw = _bands(base + dedc, base + S, v, "band", rounding)
    penalty = _bands(base + dedc, base + S, v, "bandcut", rounding)
    hifp = _take(acc, group_name(v["cap_group"]), raw, v["cap"])
    payable = S - dedc
    burden = S - hifp
    ob_base = 0
    if v["ob_above_cap"] and raw > 0:
        ob_base = payable * (raw - hifp) // raw
    elif v["ob_shape"] == 2:
        prior = acc.get("hifob.base", 0)
        acc["hifob.base"] = prior + burden
        ob_base = max(0, prior + burden - v["ob_threshold"]) - max(0, prior - v["ob_threshold"])
    hifob = _take(acc, "hifob.paid", apply_rate(ob_base, v["ob_rate"], rounding), v["ob_cap"])
    cvl = _take(acc, "cvlserv.paid", apply_rate(S - hifp - hifob, v["cvl_rate"], rounding), v["cvl_cap"])
    es_b = S - hifp - hifob - cvl + (F + O + Pre if v["es_personal"] else 0) if v["es_on"] else 0
    es_dd = _take(acc, "hifes.deductible", es_b, v["es_ded"])
    hifes = _take(acc, "hifes.paid", apply_rate(es_b - es_dd, v["es_rate"], rounding), v["es_cap"])
    mi_b = S - hifp - hifob - cvl if v["mi_on"] else 0
    prior = acc.get("hifmi.base", 0)
    acc["hifmi.base"] = prior + mi_b
    hifmi = _take(acc, "hifmi.paid", _bands(prior, prior + mi_b, v, "mi", rounding), v["mi_cap"])
    left = max(0, S - hifp - hifob - cvl - hifes - hifmi)
    maf_b = max(0, left - (penalty if v["maf_no_penalty"] else 0)) if v["maf_on"] else 0
    dd = _take(acc, "maf.deductible", maf_b, v["maf_ded"])
    maf = _take(acc, "maf.paid", apply_rate(maf_b - dd, v["maf_rate"], rounding), v["maf_limit"])
    over = max(0, left - maf - apply_rate(S, v["ceil_share"], rounding)) if v["ceil_on"] else 0
    hosp = over if v["ceil_payer"] == 1 else 0
    maf += over if v["ceil_payer"] == 2 else 0
    paid = hifp + hifob + cvl + hifes + hifmi + maf
    oth = 0
    for k in range(NS):
        b = max(0, S + (F + O + Pre if v[f"sup{k}_oos"] else 0) - paid - hosp - oth) if v[f"sup{k}_on"] else 0
        d = _take(acc, f"sup{k}.deductible", b, v[f"sup{k}_ded"])
        oth += _take(acc, f"sup{k}.paid", apply_rate(b - d, v[f"sup{k}_rate"], rounding), v[f"sup{k}_cap"])
    fund = paid + oth
    psn = total - fund - hosp
    elig = (max(0, psn - F - O) if v["acct_in_catalog"] else psn) * v["acct_on"]
    acct = min(elig, max(0, bal - used.get("acct", 0)))
    used["acct"] = used.get("acct", 0) + acct
    return (hifp, hifes, hifmi, hifob, maf, oth, hosp, fund, psn, acct)


def command_figures(lake: Path | None, persons: int, pack: str) -> None:
    """``yibao settle`` on a lake (synthesized here when none is given), as ``settle_lake.py`` measures it."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    from settle_lake import measure, report, synthesize

    if lake is not None:
        report(measure(lake, pack))
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        synthesize(persons, Path(tmp) / "lake")
        print(f"synthesized {persons:,} persons in {time.perf_counter() - t0:.1f} s (not timed)")
        report(measure(Path(tmp) / "lake", pack))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=10_000_000)
    ap.add_argument("--pack", default="demo")
    ap.add_argument("--loop-sample", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=0, help="batch threads (default: one per core)")
    ap.add_argument("--repeat", type=int, default=3, help="batch runs per thread count (the best is reported)")
    ap.add_argument("--lake-persons", type=int, default=200_000, help="persons of the region the command settles (0: skip)")
    ap.add_argument("--lake", type=Path, help="an existing lake for the command instead")
    args = ap.parse_args()
    if args.lake or args.lake_persons:
        print("== the command a user runs ==")
        command_figures(args.lake, args.lake_persons, args.pack)
        print("== inner figures: the engine core on arrays built here ==")
    pack = load_pack(args.pack)
    plan = plan_for(pack, dt.date(2025, 6, 1))
    t0 = time.perf_counter()
    data = synthetic_year(args.claims, plan)
    kinds, kind_id, person, year, starts, ends, lines, balances = data
    print(f"built {args.claims:,} claims, {len(lines['amount']):,} lines, {int(person[-1]) + 1:,} persons, "
          f"{len(kinds)} claim kinds in {time.perf_counter() - t0:.1f} s (not timed)")

    print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(CPU seconds are shown beside wall seconds: on a shared machine they are the steadier figure)")
    workers = args.workers or default_workers()
    runs = {}
    for w in sorted({1, workers}):  # one thread, then all cores (the batch default)
        times = []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            out = run_engine(*data, pack.rounding, workers=w)
            times.append((time.perf_counter() - t0, time.process_time() - c0))
        (first, first_cpu), (best, best_cpu) = times[0], min(times)
        runs[w] = best, best_cpu
        print(f"batch engine, {w} thread(s): {args.claims:,} claims in {best:.2f} s wall / {best_cpu:.2f} s CPU, best of "
              f"{args.repeat} (first run {first:.2f} s / {first_cpu:.2f} s CPU) = {args.claims / best:,.0f} claims/s "
              f"(target: 10M in ≤ 30 s); fund total {int(out['fund_pay_sumamt'].sum()) / 100:,.2f} yuan")
    batch_s, batch_cpu = runs[workers]
    one_thread_s = runs[1][0]

    # real-time: one claim through the same core, the person's accumulators passed in
    p = Person("P1", "310", "11", age=50, account_balance=100_000)
    claim = Claim("C1", p, Institution("H", "3"), "2101", dt.date(2025, 5, 1), dt.date(2025, 5, 8),
                  [Line(amount=1_200_000, item_class="A"), Line(amount=300_000, item_class="B"),
                   Line(amount=50_000, item_class="C")])
    p.accumulators = {"stays": 1, "cap:pooling": 2_000_000}
    res = plan.resolve(Kind("310", "2101", "3", "11", 50, "", 0, "", "", False, ""))
    P = res.arrays()
    c = {k: np.array([v], dtype=np.int64) for k, v in
         {"total": 1_550_000, "fulamt": 50_000, "overlmt": 0, "presel": 30_000, "inscope": 1_470_000,
          "acct_bal": 100_000, "fam_bal": 0}.items()}
    core, full = [], []
    for _ in range(3000):
        t = time.perf_counter()
        settle_core(c, P, RealTime(p.accumulators), pack.rounding)
        core.append(time.perf_counter() - t)
    for _ in range(1000):
        t = time.perf_counter()
        settle(claim, pack)
        full.append(time.perf_counter() - t)
    print(f"real time, one claim: engine core median {statistics.median(core) * 1e3:.3f} ms (target ≤ 1 ms); "
          f"with scope, parameters, statement and trace {statistics.median(full) * 1e3:.3f} ms")

    n = min(args.loop_sample, args.claims)
    cut = int(np.searchsorted(person, person[n], side="left")) if n < args.claims else n  # whole persons
    t0, c0 = time.perf_counter(), time.process_time()
    loop = loop_settle(*data, pack.rounding, upto=cut)
    loop_s, loop_cpu = time.perf_counter() - t0, time.process_time() - c0
    per_claim = loop_s / cut
    est = per_claim * args.claims
    same = all(tuple(int(out[k][i]) for k in ("hifp_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay",
                                                "oth_pay", "hosp_part_amt", "fund_pay_sumamt", "psn_part_amt",
                                                "acct_pay")) == loop[i]
               for i in range(cut))
    print(f"python loop: {cut:,} claims in {loop_s:.2f} s = {per_claim * 1e6:.1f} µs/claim; extrapolated to "
          f"{args.claims:,} claims: {est:,.0f} s (estimate from the sample); results equal the engine's: {same}")
    est_cpu = loop_cpu / cut * args.claims
    print(f"speed-up batch vs loop: {est / batch_s:,.0f}× wall on {workers} thread(s), {est / one_thread_s:,.0f}× "
          f"on one thread, {est_cpu / batch_cpu:,.0f}× in CPU time (target ≥ 100×)")
    rt = statistics.median(full) * args.claims
    print(f"for reference, the year claim by claim through real-time settle(): {rt:,.0f} s extrapolated "
          f"= {rt / batch_s:,.0f}× the batch")


if __name__ == "__main__":
    main()
