"""How close a generated region is to its calibration targets: running tallies over the claim chunks
and a report of (metric, target, generated, ratio, ref) rows."""

from __future__ import annotations

import numpy as np

from yibao import vocab
from yibao.synth import data
from yibao.synth.claims import CHRONIC, INPATIENT, OUTPATIENT, PHARMACY, ClaimBatch, ClaimModel
from yibao.synth.institutions import CATS
from yibao.synth.population import NONE_DAY

SCHEMES = (("employee", "职工"), ("resident", "居民"))
TAIL_THRESHOLDS = np.array([50_000, 100_000, 300_000])  # yuan


class Tally:
    def __init__(self, m: ClaimModel):
        self.m = m
        pop = m.pop
        days = 366 if m.cfg.year % 4 == 0 else 365
        exposure = (pop.end - pop.start + 1).clip(0) / days
        self.person_years = np.array([exposure[pop.scheme == s].sum() for s in (0, 1)])
        self.count = np.zeros((2, 4))
        self.cost = np.zeros((2, 4))
        self.los = np.zeros(2)
        self.ip_cat_count = np.zeros((2, len(CATS)))
        self.ip_cat_cost = np.zeros((2, len(CATS)))
        self.ip_cat_los = np.zeros(len(CATS))
        self.births = 0
        self.drug_fen = 0
        self.ip_fen = 0
        self.lines = 0
        self.claims = 0
        self.fraud: dict[str, int] = {}
        self.total_fen = 0
        self.stays_over = np.zeros(len(TAIL_THRESHOLDS))  # stays billed above each threshold
        self.ip_year_fen = np.zeros(pop.n)  # each person's inpatient bills of the year

    def add(self, b: ClaimBatch, medfee: np.ndarray, lines, labels, drawn: int | None = None) -> None:
        """Tally a chunk; calibration counts only the ``drawn`` claims, not the injected ones."""
        labelled, label, _, _ = labels.arrays()
        for lab, k in zip(*np.unique(label.astype(str), return_counts=True)):
            self.fraud[str(lab)] = self.fraud.get(str(lab), 0) + int(k)
        self.total_fen += int(medfee.sum())
        drawn = len(b) if drawn is None else drawn
        # calibration looks at the drawn claims that no fraud pattern touched
        clean = np.ones(len(b), bool)
        clean[drawn:] = False
        clean[labelled] = False
        if lines is not None:
            self.lines += len(lines.claim)
            base = clean[lines.claim]
            ip_line = (b.cols["kind"][lines.claim] == INPATIENT) & base
            self.ip_fen += int(lines.amount[ip_line].sum())
            self.drug_fen += int(lines.amount[ip_line & lines.is_drug].sum())
        b = b.take(np.flatnonzero(clean))
        medfee = medfee[clean]
        c = b.cols
        scheme = self.m.pop.scheme[c["person"]]
        kind = c["kind"]
        key = scheme.astype(np.int64) * 4 + kind
        self.count += np.bincount(key, minlength=8).reshape(2, 4)
        self.cost += np.bincount(key, weights=medfee.astype(np.float64), minlength=8).reshape(2, 4)
        ip = kind == INPATIENT
        np.add.at(self.los, scheme[ip], c["los"][ip])
        cat = self.m.inst.cat[c["inst"]]
        np.add.at(self.ip_cat_count, (scheme[ip], cat[ip]), 1)
        np.add.at(self.ip_cat_cost, (scheme[ip], cat[ip]), medfee[ip])
        np.add.at(self.ip_cat_los, cat[ip], c["los"][ip])
        self.stays_over += (medfee[ip][:, None] > TAIL_THRESHOLDS[None, :] * 100).sum(0)
        np.add.at(self.ip_year_fen, c["person"][ip], medfee[ip])
        self.births += int((c["med_type"] == vocab.MED_MATERNITY_INPATIENT).sum())
        self.claims += drawn

    def totals(self) -> dict[str, int]:
        return {"medfee_sumamt_fen": self.total_fen, "claims": self.claims, "lines": self.lines}

    def fraud_counts(self) -> dict[str, int]:
        return dict(sorted(self.fraud.items()))

    def report(self) -> list[dict]:
        m, pop = self.m, self.m.pop
        rows: list[dict] = []

        def row(metric, target, generated, ref):
            rows.append({"metric": metric, "target": float(target), "generated": float(generated),
                         "ratio": float(generated / target) if target else float("nan"), "ref": ref})

        n = pop.n
        row("60+ share", m.cfg.share_60_plus, (pop.age >= 60).mean(), "configured; " + data.cite("population.share_60_plus"))
        row("death rate", data.target("population.death_rate"), (pop.death != NONE_DAY).sum() / n, data.cite("population.death_rate"))
        row("birth rate (52 stays)", data.target("population.birth_rate"), self.births / n, data.cite("population.birth_rate"))
        emp = pop.scheme == 0
        row("职工 share", m.cfg.employee_share, emp.mean(), data.cite("enrolment.employee_share"))
        if pop.retired.sum():
            row("在职:退休", m.cfg.active_retired_ratio, (emp & ~pop.retired).sum() / pop.retired.sum(),
                data.cite("enrolment.active_retired_ratio"))
        row("identity share", m.cfg.identity_share, pop.identity.mean(), data.cite("enrolment.assisted_share"))
        for s, (tag, zh) in enumerate(SCHEMES):
            py = self.person_years[s]
            if py == 0:
                continue
            ip_n = self.count[s, INPATIENT]
            row(f"{zh} admissions per person-year", data.target(f"utilisation.admission_rate_{tag}"), ip_n / py,
                data.cite(f"utilisation.admission_rate_{tag}"))
            row(f"{zh} outpatient visits per person-year", data.target(f"utilisation.outpatient_visits_{tag}"),
                self.count[s, OUTPATIENT] / py, data.cite(f"utilisation.outpatient_visits_{tag}"))
            row(f"{zh} chronic visits per person-year", data.target(f"utilisation.chronic_visits_{tag}"),
                self.count[s, CHRONIC] / py, data.cite(f"utilisation.chronic_visits_{tag}"))
            row(f"{zh} pharmacy purchases per person-year", data.target(f"utilisation.pharmacy_visits_{tag}"),
                self.count[s, PHARMACY] / py, data.cite(f"utilisation.pharmacy_visits_{tag}"))
            if ip_n:
                row(f"{zh} cost per stay (yuan)", data.target(f"cost.inpatient_cost_{tag}"),
                    self.cost[s, INPATIENT] / ip_n / 100, data.cite(f"cost.inpatient_cost_{tag}"))
                row(f"{zh} LOS (days)", data.target(f"cost.los_{tag}"), self.los[s] / ip_n, data.cite(f"cost.los_{tag}"))
            for k, key in ((OUTPATIENT, "outpatient"), (CHRONIC, "chronic"), (PHARMACY, "pharmacy")):
                if self.count[s, k]:
                    row(f"{zh} cost per {key} claim (yuan)", data.target(f"cost.{key}_cost_{tag}"),
                        self.cost[s, k] / self.count[s, k] / 100, data.cite(f"cost.{key}_cost_{tag}"))
        # cost per stay by level, residents (the bulletin gives levels for 居民 only)
        res_mean = data.target("cost.inpatient_cost_resident")
        for j, cat in enumerate(CATS[:3]):
            k = self.ip_cat_count[1, j]
            if k:
                row(f"居民 cost per stay, level {cat} (yuan)", res_mean * m.ip_level_target[j],
                    self.ip_cat_cost[1, j] / k / 100,
                    "level ratio " + data.cite("cost.inpatient_level_ratio") + " × " + data.cite("cost.inpatient_cost_resident"))
        los_targets = {"3": 7.8, "2": 9.5, "1": 9.6}  # CALIBRATION.md §7, 平均住院日 2024 (XJ)
        for j, cat in enumerate(CATS[:3]):
            k = self.ip_cat_count[:, j].sum()
            if k:
                row(f"LOS, level {cat} (days)", los_targets[cat], self.ip_cat_los[j] / k,
                    "CALIBRATION.md §7, 平均住院日 2024 三级 7.8 / 二级 9.5 / 一级 9.6 (XJ)")
        stays = self.count[:, INPATIENT].sum()
        if stays:
            for t, k in zip(TAIL_THRESHOLDS, self.stays_over):
                key = f"tail.share_above_{t // 1000}k"
                row(f"share of stays above {t // 10_000}万", data.target(key), k / stays, data.cite(key))
            cap_bill = data.target("tail.pooling_cap_yuan") / data.target("tail.fund_share_in_scope")
            row(f"share of person-years over the pooling cap (bills > {cap_bill / 10_000:.1f}万)",
                data.target("tail.share_person_years_over_cap"),
                (self.ip_year_fen > cap_bill * 100).sum() / self.person_years.sum(),
                data.cite("tail.share_person_years_over_cap"))
        if self.ip_fen:
            row("inpatient drug share", data.target("cost.inpatient_drug_share"), self.drug_fen / self.ip_fen,
                data.cite("cost.inpatient_drug_share"))
        row("claims per person-year", 10.0, self.claims / self.person_years.sum(), "issue 2: ≈10 claims per person-year")
        return rows
