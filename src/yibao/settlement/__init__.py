"""One-stop settlement (一站式结算): lines → policy scope → basic pooling → 大额/公务员/大病 → 医疗救助 →
supplementary tiers → personal account → cash, in real time (one claim) and for whole years (batch),
with the same vectorised core. See ``README.md`` in this folder for the claim JSON and the packs.
The names are imported on use, so importing the package (as ``yibao settle --help`` does) loads neither
pandas nor pyarrow."""

from __future__ import annotations

from yibao import _lazy_face

__all__ = [
    "Claim", "FundDetail", "Institution", "Line", "Person", "Statement", "TraceEntry",
    "check_conservation", "claim_from", "ltc_benefit", "maternity_allowance", "read_claims", "settle", "settle_batch", "settle_frame", "settle_lake", "summarize",
    "to_fhir",
]

__getattr__, __dir__ = _lazy_face(__name__, {
    "yibao.settlement.allowances": ("ltc_benefit", "maternity_allowance"),
    "yibao.settlement.batch": ("settle_batch", "settle_frame", "settle_lake", "summarize"),
    "yibao.settlement.claims_json": ("claim_from", "read_claims"),
    "yibao.settlement.model": ("Claim", "FundDetail", "Institution", "Line", "Person", "Statement", "TraceEntry"),
    "yibao.settlement.realtime": ("settle",),
    "yibao.settlement.statement": ("check_conservation", "to_fhir"),
})
