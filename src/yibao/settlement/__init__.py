"""One-stop settlement (一站式结算): lines → policy scope → basic pooling → 大额/公务员/大病 → 医疗救助 →
supplementary tiers → personal account → cash, in real time (one claim) and for whole years (batch),
with the same vectorised core. See ``README.md`` in this folder for the claim JSON and the packs."""

from yibao.settlement.allowances import ltc_benefit, maternity_allowance
from yibao.settlement.batch import settle_batch, settle_frame, settle_lake, summarize
from yibao.settlement.claims_json import claim_from, read_claims
from yibao.settlement.model import Claim, FundDetail, Institution, Line, Person, Statement, TraceEntry
from yibao.settlement.realtime import settle
from yibao.settlement.statement import check_conservation, to_fhir

__all__ = [
    "Claim", "FundDetail", "Institution", "Line", "Person", "Statement", "TraceEntry",
    "check_conservation", "claim_from", "ltc_benefit", "maternity_allowance", "read_claims", "settle", "settle_batch", "settle_frame", "settle_lake", "summarize",
    "to_fhir",
]
