"""What a synthetic region is built from (``SynthConfig``) and what the build reports (``SynthSummary``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from yibao.errors import ValidationError
from yibao.synth.data import region, target

# Injected fraud and abuse (欺诈骗保 / 违规): share of eligible claims (stays for stay-level patterns,
# claims with lines for line-level ones). Assumed rates, high enough to be found in small regions.
DEFAULT_FRAUD_RATES = {
    "split_stay": 0.010,  # 分解住院: share of stays split in two
    "bed_hanging": 0.005,  # 挂床住院: stays with almost no treatment
    "duplicate_charge": 0.004,  # 重复收费: claims with a line billed twice
    "item_swap": 0.003,  # 串换项目: claims with a cheap item billed as a dear one
    "overdose": 0.003,  # 超量开药: claims with an excess drug quantity
    "sex_violation": 0.0005,  # 限性别: a sex-restricted item billed to the other sex
    "age_violation": 0.0005,  # 限年龄: an age-restricted item billed outside its ages
    "overlapping_stay": 0.003,  # a second stay overlapping one in another hospital (share of stays)
    "after_death": 0.05,  # share of deceased persons with a claim after death
    "upcoding": 0.010,  # share of stays (with an upcode target) given a severe diagnosis
    # 结伙骗保: share of persons recruited into rings of 5–15 who visit one institution's one or two
    # doctors together on the same days (assumption: about one ring per 5,000 persons)
    "ring": 0.002,
}
# Fraud is concentrated: a share of the institutions, and of the doctors within them, carries most of
# the claims of the institution-driven patterns (assumption, after the 飞行检查 findings that a few
# providers account for most recovered funds; no published share).
FRAUD_INSTITUTION_SHARE = 0.10
FRAUD_DOCTOR_SHARE = 0.30
FRAUD_CONCENTRATION = 0.80  # share of those patterns' claims billed by the fraudulent doctors
# Patterns above the claim (synth/patterns.py): each one's share of the local hospitals (stay patterns)
# or of the local hospitals and primary institutions, rounded down (assumption: a few in a city's
# hundreds; none in a region of a handful)
DEFAULT_INSTITUTION_PATTERNS = {
    "cost_inflation": 0.08,  # 次均费用虚高: every stay billed more (hospitals)
    "readmission": 0.08,  # 分解住院 concentrated: many of its stays split (hospitals)
    "drug_share": 0.04,  # 药品/耗材占比 inflated
    "item_concentration": 0.04,  # one doctor bills one test on every claim
}


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of a synthetic region. Defaults come from ``synth/data/calibration.yaml`` (cited)."""

    persons: int = 20_000
    year: int = 2024
    seed: int = 1
    region: str = "zibo"
    chunk_persons: int = 50_000  # persons per written part file; rows do not depend on it (see generate.BLOCK)
    share_60_plus: float = field(default_factory=lambda: target("population.share_60_plus"))
    employee_share: float = field(default_factory=lambda: target("enrolment.employee_share"))
    active_retired_ratio: float = field(default_factory=lambda: target("enrolment.active_retired_ratio"))
    flexible_share: float = field(default_factory=lambda: target("enrolment.flexible_share"))
    identity_share: float = field(default_factory=lambda: target("enrolment.assisted_share"))
    scheme_change_share: float = 0.004  # persons switching 职工 ↔ 居民 during the year (assumption)
    double_enrolments: int | None = None  # persons enrolled twice; default 0.1% of persons
    fraud_rates: dict = field(default_factory=lambda: dict(DEFAULT_FRAUD_RATES))
    fraud_institution_share: float = FRAUD_INSTITUTION_SHARE
    fraud_doctor_share: float = FRAUD_DOCTOR_SHARE
    fraud_concentration: float = FRAUD_CONCENTRATION
    institution_patterns: dict = field(default_factory=lambda: dict(DEFAULT_INSTITUTION_PATTERNS))
    # institutions per inhabitant × this: a small population with a city's spread of providers, so that
    # ranking them against their peers means something (1: the NHC per-capita counts)
    institution_scale: float = 1.0
    with_lines: bool = True
    # 居民缴费档次 → share of residents; empty = a single-tier region (every tier 0)
    tier_shares: dict = field(default_factory=lambda: dict(target("coverage.resident_tier_shares")))
    # voluntary supplementary tier name (the pack's supplementary.tiers[].name) → take-up per person-year
    supplementary_takeup: dict = field(default_factory=lambda: dict(target("coverage.supplementary_takeup")))
    employer_supplementary_share: float = field(default_factory=lambda: target("coverage.employer_supplementary_share"))

    def __post_init__(self):
        if not isinstance(self.persons, int) or self.persons < 100:
            raise ValidationError("persons", f"needs at least 100 persons, got {self.persons!r}")
        region(self.region)  # an unknown region fails here, before anything is written
        if not 1990 <= self.year <= 2100:
            raise ValidationError("year", f"{self.year!r} is outside 1990–2100")
        if self.chunk_persons < 1000:
            raise ValidationError("chunk_persons", f"{self.chunk_persons!r} is below 1,000")
        for name in ("share_60_plus", "employee_share", "flexible_share", "identity_share", "scheme_change_share"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise ValidationError(name, f"{v!r} is not a share in [0, 1)")
        for name, shares in (("tier_shares", self.tier_shares), ("supplementary_takeup", self.supplementary_takeup)):
            for k, v in shares.items():
                if not 0 <= v <= 1:
                    raise ValidationError(f"{name}.{k}", f"{v!r} is not a share in [0, 1]")
        if self.tier_shares and (abs(sum(self.tier_shares.values()) - 1) > 1e-9 or min(map(int, self.tier_shares)) < 1):
            raise ValidationError("tier_shares", f"{self.tier_shares!r}: tiers are ≥ 1 and the shares sum to 1")
        if not 0 <= self.employer_supplementary_share <= 0.5:
            raise ValidationError("employer_supplementary_share", f"{self.employer_supplementary_share!r} is not in [0, 0.5]")
        if self.active_retired_ratio <= 0:
            raise ValidationError("active_retired_ratio", f"{self.active_retired_ratio!r} must be positive")
        unknown = set(self.fraud_rates) - set(DEFAULT_FRAUD_RATES)
        if unknown:
            raise ValidationError("fraud_rates", f"unknown labels {sorted(unknown)}")
        for name in ("fraud_institution_share", "fraud_doctor_share", "fraud_concentration"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise ValidationError(name, f"{v!r} is not a share in (0, 1]")
        for k, v in self.fraud_rates.items():
            if not 0 <= v <= 0.5:
                raise ValidationError(f"fraud_rates.{k}", f"{v!r} is not a rate in [0, 0.5]")
        unknown = set(self.institution_patterns) - set(DEFAULT_INSTITUTION_PATTERNS)
        if unknown:
            raise ValidationError("institution_patterns", f"unknown patterns {sorted(unknown)} "
                                  f"(known: {', '.join(DEFAULT_INSTITUTION_PATTERNS)})")
        for k, v in self.institution_patterns.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 0.25:
                raise ValidationError(f"institution_patterns.{k}", f"{v!r} is not a share of institutions in [0, 0.25]")
        if sum(self.institution_patterns.values()) > 0.5:
            raise ValidationError("institution_patterns", "the patterns' shares add up to more than half the institutions")
        s = self.institution_scale
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.1 <= s <= 200:
            raise ValidationError("institution_scale", f"{s!r} is not a multiple in [0.1, 200]")

    @property
    def n_double(self) -> int:
        return max(1, self.persons // 1000) if self.double_enrolments is None else self.double_enrolments

    def rate(self, label: str) -> float:
        return float(self.fraud_rates.get(label, 0.0))


@dataclass
class SynthSummary:
    """Counts, totals and the calibration report of a generated region."""

    out_dir: str
    counts: dict[str, int]
    totals: dict[str, int]  # fen
    calibration: list[dict]  # rows: metric, target, generated, ratio, ref
    fraud: dict[str, int]
    seconds: float = 0.0
