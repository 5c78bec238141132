"""Where injected fraud concentrates: a share of the institutions (``SynthConfig.fraud_institution_share``)
and, within them, a share of the doctors (``fraud_doctor_share``) carry ``fraud_concentration`` of the
claims of the institution-driven patterns. These doctors and institutions are labelled in
``fraud_entities`` because their fraud is injected on purpose, not because a claim happened to be drawn
there."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from yibao.lake.schema import ENTITY_PROPENSITY, TABLES
from yibao.synth.institutions import Institutions
from yibao.synth.text import digits, join

DOCTOR_CODES = 1000  # doctor numbers within an institution (the 3-digit suffix of doctor_code)


def doctor_of(inst: Institutions, person: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The doctor number a person sees at an institution (their 主诊医师 there)."""
    return (person % np.maximum(inst.doctors[where], 1) % DOCTOR_CODES).astype(np.int64)


def doctor_codes(inst: Institutions, where: np.ndarray, doctor: np.ndarray) -> pa.Array:
    import pyarrow.compute as pc

    codes = inst.code.take(pa.array(where))
    return join(["D", pc.utf8_slice_codeunits(codes, 1), digits(doctor, 3)])


@dataclass(frozen=True)
class Propensity:
    institution: np.ndarray  # bool per institution
    doctor_share: float
    concentration: float
    salt: int
    anchor: np.ndarray  # int64 per institution: a doctor number always in on it (a pharmacy has one doctor)

    def doctor(self, where: np.ndarray, doctor: np.ndarray) -> np.ndarray:
        """Whether the doctor number ``doctor`` at institution ``where`` bills fraud on purpose: a
        ``doctor_share`` of its doctors, and never none (an institution labelled as carrying fraud
        whose doctors all billed clean would be a label without fraud)."""
        h = (where.astype(np.uint64) * np.uint64(2654435761) + doctor.astype(np.uint64) * np.uint64(40503)
             + np.uint64(self.salt)) % np.uint64(10007)
        drawn = (h.astype(np.float64) / 10007 < self.doctor_share) | (doctor == self.anchor[where])
        return self.institution[where] & drawn

    def weights(self, where: np.ndarray, doctor: np.ndarray) -> np.ndarray:
        """Sampling weights of candidate claims such that ``concentration`` of a draw falls on the
        fraudulent doctors' claims (all weights 1 when none or all of the candidates are theirs)."""
        on = self.doctor(where, doctor)
        f = on.mean() if len(on) else 0.0
        if not 0 < f < 1 or f >= self.concentration:
            return np.ones(len(on))
        w = self.concentration * (1 - f) / (f * (1 - self.concentration))
        return np.where(on, w, 1.0)

    def entities(self, inst: Institutions) -> pa.Table:
        """The fraudulent institutions and their fraudulent doctors, as ``fraud_entities`` rows."""
        where = np.flatnonzero(self.institution)
        n = np.minimum(np.maximum(inst.doctors[where], 1), DOCTOR_CODES)
        at = np.repeat(where, n)
        doc = np.arange(len(at)) - np.repeat(np.cumsum(n) - n, n)
        on = self.doctor(at, doc)
        at, doc = at[on], doc[on]
        codes = inst.code.take(pa.array(where))
        rows = {
            "level": pa.array(["institution"] * len(where) + ["doctor"] * len(at)),
            "entity_id": pa.concat_arrays([codes.cast(pa.string()), doctor_codes(inst, at, doc).cast(pa.string())]),
            "label": pa.array([ENTITY_PROPENSITY] * (len(where) + len(at))),
            "detail": pa.concat_arrays([
                pa.array([f"doctors in on it: {int(k)}" for k in np.bincount(at, minlength=len(self.institution))[where]]),
                inst.code.take(pa.array(at)).cast(pa.string())]),
        }
        return pa.table(rows, schema=TABLES["fraud_entities"])


def build_propensity(cfg, inst: Institutions) -> Propensity:
    """A ``fraud_institution_share`` of the local institutions (at least one), drawn from the seed."""
    rng = np.random.default_rng([cfg.seed, 5])
    local = np.flatnonzero(inst.local)
    k = max(1, int(round(cfg.fraud_institution_share * len(local))))
    chosen = np.zeros(len(inst.local), bool)
    chosen[rng.choice(local, size=min(k, len(local)), replace=False)] = True
    anchor = (rng.random(len(inst.local)) * np.minimum(np.maximum(inst.doctors, 1), DOCTOR_CODES)).astype(np.int64)
    return Propensity(chosen, cfg.fraud_doctor_share, cfg.fraud_concentration, int(cfg.seed) % 10007, anchor)
