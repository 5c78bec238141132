"""高套诊断 on hand-built stays: a severe principal diagnosis with a mild stay's cost and days is a hit,
with the DRG payment the coding gained at stake; genuine severe stays, thin peer groups and other
diagnoses are not. The kind judges against the year's peers, so it runs 事后 only."""

from __future__ import annotations

import textwrap

import pytest

from yibao.errors import PolicyError
from yibao.payment.backends import duckdb_backend
from yibao.supervision.lake import bind

BED = "110900001a"
PNEUMONIA, RESP_FAILURE, ANGINA = "J18.900", "J96.900x001", "I20.000"


def _half_up(num: int, den: int) -> int:
    return (2 * num + den) // (2 * den)


def _claim(w, *args, way="1", **kwargs):
    """A stay discharged ``way`` (1 医嘱离院, 2 医嘱转院 …)."""
    cid = w.claim(*args, **kwargs)
    w.claims[-1]["dscg_way"] = way
    return cid


def _stay(w, p, start, days, cost_yuan, dx, inst="H3", way="1"):
    end = f"2024-{int(start[5:7]):02d}-{int(start[8:]) + days:02d}"
    return _claim(w, p, start, end, med="2101", inst=inst, dx=dx, way=way,
                  lines=[(BED, "service", days, cost_yuan * 100 // days)])


def _region(sv):
    """Six pneumonia stays (3,000–5,400 yuan, 6–9 days) and three genuine 呼吸衰竭 stays at H3."""
    w = sv.World()
    for k, (cost, days) in enumerate([(3000, 6), (3500, 7), (4000, 8), (4200, 8), (4500, 9), (5400, 9)]):
        _stay(w, w.person(born=f"19{50 + k}-03-01"), f"2024-0{k + 1}-02", days, cost, PNEUMONIA)
    for k, cost in enumerate([12000, 13000, 14000]):
        _stay(w, w.person(born="1948-05-05"), f"2024-0{k + 1}-05", 15, cost, RESP_FAILURE)
    return w


def test_a_severe_code_on_a_mild_bill_is_upcoding_with_the_drg_gain_at_stake(sv):
    w = _region(sv)
    up = _stay(w, w.person(born="1955-01-01"), "2024-07-01", 7, 3500, RESP_FAILURE)
    hits = sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables()))
    assert sv.found(hits) == {(up, "SV-UPC-01")}
    (hit,) = hits
    e = hit.vola_evid
    assert (e["billed_dx"], e["supported_dx"], e["billed_drg"], e["supported_drg"]) == (RESP_FAILURE, PNEUMONIA, "ER35", "ES35")
    # weights fitted on the year: group mean ÷ mean of all ten stays; the 费率 pays the year at cost
    cost = {c["claim_id"]: c["medfee_sumamt_fen"] for c in w.claims}
    by_dx = {dx: [cost[c["claim_id"]] for c in w.claims if c["diagnoses"] == dx] for dx in (PNEUMONIA, RESP_FAILURE)}
    pneumonia, failure = by_dx[PNEUMONIA], by_dx[RESP_FAILURE]
    total = sum(pneumonia + failure)
    er, es = (_half_up(10_000 * sum(g) * 10, len(g) * total) for g in (failure, pneumonia))  # RW × 10 000
    rate = _half_up(total * 10_000, 4 * er + 6 * es)
    assert (e["weight_billed"], e["weight_supported"], e["base_rate_fen"]) == (er / 10_000, es / 10_000, rate)
    assert hit.vola_amt == _half_up(er * rate, 10_000) - _half_up(es * rate, 10_000) > 0
    # the peers: the 90th percentile of the six pneumonia stays' cost and LOS at the same level
    assert (e["cost_fen"], e["episode_cost_fen"], e["episode_los"], e["episode_stays"]) == (350000, 350000, 7, 1)
    assert (e["peer_cost_fen"], e["peer_los"], e["peers"], e["peer_group"]) == (495000, 9.0, 6, "3/无手术操作")
    assert e["missing_markers"] == []  # the genuine stays bill nothing the pneumonia stays do not
    assert hit.sev_deg == 3 and "高套诊断" in hit.vola_cont and hit.ref.startswith("assumption: ")


def test_genuine_severe_stays_dear_or_long_ones_and_other_diagnoses_are_not_hits(sv):
    w = _region(sv)
    _stay(w, w.person(), "2024-07-01", 7, 5000, RESP_FAILURE)  # above the peers' 90th percentile cost (4,950)
    _stay(w, w.person(), "2024-08-01", 10, 3000, RESP_FAILURE)  # cheap, but longer than the peers' 9 days
    _stay(w, w.person(), "2024-09-01", 6, 3000, ANGINA)  # a mild diagnosis of another pair, no peers
    _stay(w, w.person(), "2024-10-01", 5, 3000, RESP_FAILURE, way="2")  # short because transferred
    for k in range(5):  # 脑梗死 for 短暂性脑缺血 on a cheap stay: the same DRG (BR25), no heavier group paid
        _stay(w, w.person(), f"2024-0{k + 1}-12", 6, 2400, "G45.900")
    _stay(w, w.person(), "2024-11-01", 5, 2000, "I63.900")
    assert sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables())) == []


VENTILATOR, BLOOD_GAS, HEPARIN = "310603001", "250501011a", "XB01ABA0206F03300000000"


def _treated(w, p, start, days, cost_yuan, dx, items):
    """A stay billing ``items`` (code, kind) beside its beds, the items 10 yuan each."""
    end = f"2024-{int(start[5:7]):02d}-{int(start[8:]) + days:02d}"
    beds = (cost_yuan - 10 * len(items)) * 100 // days
    return _claim(w, p, start, end, med="2101", dx=dx,
                  lines=[(BED, "service", days, beds), *((code, kind, 1, 1000) for code, kind in items)])


def test_a_cheap_severe_stay_billing_the_severe_diagnosis_own_treatment_is_not_upcoding(sv):
    """The genuine 呼吸衰竭 stays bill a ventilator and a heparin: marks of the severe diagnosis, as no
    pneumonia stay bills them. A cheap stay coded 呼吸衰竭 with a ventilator (or another heparin, the
    same drug class) is no hit; one without any is, and its evidence names what it lacks."""
    w = _region(sv)
    for k in range(3):
        _treated(w, w.person(), f"2024-0{k + 4}-05", 15, 13000, RESP_FAILURE, [(VENTILATOR, "service"), (HEPARIN, "drug")])
    _treated(w, w.person(), "2024-01-20", 6, 3000, PNEUMONIA, [(BLOOD_GAS, "service")])  # a blood gas: not a marker
    cheap = "2024-07-01", 7, 3500, RESP_FAILURE
    _treated(w, w.person(), *cheap, [("310603001b", "service")])  # the ventilator at another price suffix
    _treated(w, w.person(), "2024-08-01", 7, 3500, RESP_FAILURE, [("XB01ABB0001F00000000000", "drug")])
    up = _treated(w, w.person(), "2024-09-01", 7, 3500, RESP_FAILURE, [(BLOOD_GAS, "service")])
    (hit,) = sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables()))
    assert hit.claim_id == up and hit.vola_evid["missing_markers"] == ["310603001", "XB01AB"]


def test_a_level_with_too_few_peers_is_judged_against_the_region(sv):
    w = _region(sv)
    for k in range(4):  # four pneumonia stays at H2: too few to be a peer group (min_peers 5)
        _stay(w, w.person(), f"2024-0{k + 2}-10", 5, 2000, PNEUMONIA, inst="H2")
    up = _stay(w, w.person(), "2024-10-01", 5, 2500, RESP_FAILURE, inst="H2")
    (hit,) = sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables()))
    assert hit.claim_id == up and hit.vola_evid["peer_group"] == "*/无手术操作" and hit.vola_evid["peers"] == 10


def test_a_split_stay_is_judged_whole_and_peers_share_the_procedure_status(sv):
    w = _region(sv)
    p = w.person()
    _stay(w, p, "2024-07-01", 5, 3000, RESP_FAILURE)  # each part cheap and short, the episode neither
    _stay(w, p, "2024-07-08", 5, 3000, RESP_FAILURE)
    for k in range(5):  # operated pneumonia stays are dear: an operated 呼吸衰竭 stay is compared with them
        _claim(w, w.person(), f"2024-0{k + 1}-20", f"2024-0{k + 1}-28", med="2101", dx=PNEUMONIA, proc="96.0400",
               lines=[(BED, "service", 8, 100000)])
    operated = _claim(w, w.person(), "2024-09-01", "2024-09-08", med="2101", dx=RESP_FAILURE, proc="96.0400",
                      lines=[(BED, "service", 7, 100000)])
    (hit,) = sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables()))
    assert hit.claim_id == operated and hit.vola_evid["peer_group"] == "3/手术操作"
    assert hit.vola_evid["peer_cost_fen"] == 800000


def test_it_runs_after_the_year_only_and_refuses_a_bad_pair(sv, tmp_path):
    rule = textwrap.dedent("""\
        rules:
          R-UP:
            name: 高套
            kind: upcoding
            params: {pairs: ["J96>J18.900"], peer_quantile: 0.75, min_peers: 5, episode_days: 15, discharge_ways: ["1"], pack: demo}
            sev_deg: 2
            scene: [事中, 事后]
            period: 医保年度
            since: 2024-01-01
            assumption: a test rule
    """)
    (tmp_path / "r.yaml").write_text(rule, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"r.yaml: rule R-UP: scene: kind upcoding .* 事后 only, not 事中"):
        sv.book("R-UP", folder=tmp_path)
    (tmp_path / "r.yaml").write_text(rule.replace("[事中, 事后]", "[事后]").replace("J96>J18.900", "J96"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"r.yaml: rule R-UP: params.pairs: 'J96' is not SEVERE>MILD"):
        sv.book("R-UP", folder=tmp_path)
    # a claim checked one at a time is not judged by it (the per-claim check has no year of peers)
    w = _region(sv)
    _stay(w, w.person(), "2024-07-01", 7, 3900, RESP_FAILURE)
    book = sv.book("SV-UPC-01")
    assert all(book.check_claim(v.claim, v.lines, (), scene=None) == [] for v in w.visits())


def test_a_stay_set_aside_for_review_is_left_out_of_the_rate(sv):
    w = _region(sv)
    for k in range(5):
        _stay(w, w.person(), f"2024-0{k + 1}-15", 6, 3000, ANGINA)
    dear = _stay(w, w.person(), "2024-08-01", 10, 100000, ANGINA)  # above 5 × its group's mean: 特病单议
    _stay(w, w.person(born="1955-01-01"), "2024-07-01", 7, 3500, RESP_FAILURE)
    (hit,) = sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables()))
    cost = {c["claim_id"]: c["medfee_sumamt_fen"] for c in w.claims}
    groups = [[cost[c["claim_id"]] for c in w.claims if c["diagnoses"] == dx] for dx in (RESP_FAILURE, PNEUMONIA, ANGINA)]
    total, n = sum(map(sum, groups)), sum(map(len, groups))
    er, es, fr = (_half_up(10_000 * sum(g) * n, len(g) * total) for g in groups)
    assert cost[dear] > 5 * sum(groups[2]) / len(groups[2])
    assert hit.vola_evid["base_rate_fen"] == _half_up((total - cost[dear]) * 10_000, 4 * er + 6 * es + 5 * fr)
