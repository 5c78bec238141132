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


def _stay(w, p, start, days, cost_yuan, dx, inst="H3"):
    end = f"2024-{int(start[5:7]):02d}-{int(start[8:]) + days:02d}"
    return w.claim(p, start, end, med="2101", inst=inst, dx=dx, lines=[(BED, "service", days, cost_yuan * 100 // days)])


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
    # the peers: the median of the six pneumonia stays' cost and LOS at the same level
    assert (e["cost_fen"], e["peer_cost_fen"], e["los"], e["peer_los"], e["peers"], e["peer_level"]) == \
        (350000, 410000, 7, 8.0, 6, "3")
    assert hit.sev_deg == 3 and "高套诊断" in hit.vola_cont and hit.ref.startswith("assumption: ")


def test_genuine_severe_stays_dear_or_long_ones_and_other_diagnoses_are_not_hits(sv):
    w = _region(sv)
    _stay(w, w.person(), "2024-07-01", 7, 4620, RESP_FAILURE)  # above the peers' median cost (4,100)
    _stay(w, w.person(), "2024-08-01", 10, 3000, RESP_FAILURE)  # cheap, but longer than the peers' median 8 days
    _stay(w, w.person(), "2024-09-01", 6, 3000, ANGINA)  # a mild diagnosis of another pair, no peers
    assert sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables())) == []


def test_a_level_with_too_few_peers_is_judged_against_the_region(sv):
    w = _region(sv)
    for k in range(4):  # four pneumonia stays at H2: too few to be a peer group (min_peers 5)
        _stay(w, w.person(), f"2024-0{k + 2}-10", 5, 2000, PNEUMONIA, inst="H2")
    up = _stay(w, w.person(), "2024-10-01", 5, 2500, RESP_FAILURE, inst="H2")
    (hit,) = sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables()))
    assert hit.claim_id == up and hit.vola_evid["peer_level"] == "*" and hit.vola_evid["peers"] == 10


def test_it_runs_after_the_year_only_and_refuses_a_bad_pair(sv, tmp_path):
    rule = textwrap.dedent("""\
        rules:
          R-UP:
            name: 高套
            kind: upcoding
            params: {pairs: ["J96>J18.900"], peer_quantile: 0.75, min_peers: 5, pack: demo}
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
    dear = _stay(w, w.person(), "2024-08-01", 9, 63000, PNEUMONIA)  # above 5 × its group's mean: 特病单议
    _stay(w, w.person(born="1955-01-01"), "2024-07-01", 7, 3500, RESP_FAILURE)
    (hit,) = sv.book("SV-UPC-01").run(bind(duckdb_backend(), *w.tables()))
    cost = {c["claim_id"]: c["medfee_sumamt_fen"] for c in w.claims}
    pneumonia = [cost[c["claim_id"]] for c in w.claims if c["diagnoses"] == PNEUMONIA]
    failure = [cost[c["claim_id"]] for c in w.claims if c["diagnoses"] == RESP_FAILURE]
    total = sum(pneumonia + failure)
    er, es = (_half_up(10_000 * sum(g) * 11, len(g) * total) for g in (failure, pneumonia))
    assert cost[dear] > 5 * sum(pneumonia) / len(pneumonia)
    assert hit.vola_evid["base_rate_fen"] == _half_up((total - cost[dear]) * 10_000, 4 * er + 6 * es)
