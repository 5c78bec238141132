"""The synthetic region generator (合成统筹区): a seeded, calibrated region — persons, employers,
enrolment, identities, institutions, a year of claims with itemised lines, and injected fraud with
ground-truth labels — written to the lake (``generate``), and the inpatient stays of the years before
it (``generate_history``). The calibration targets are read through ``yibao.synth.data``."""

from yibao.synth.config import DEFAULT_FRAUD_RATES, SynthConfig, SynthSummary
from yibao.synth.generate import generate
from yibao.synth.history import generate_history

__all__ = ["DEFAULT_FRAUD_RATES", "SynthConfig", "SynthSummary", "generate", "generate_history"]
