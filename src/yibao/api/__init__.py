"""The national designated-institution interface (定点医药机构接口, the ``infno`` envelope).

The field layer (``fields``) turns the JSON a HIS sends into typed values and a handler's values back
into the spec's output; ``signing`` checks request signatures, ``masking`` keeps personal data out of
logs, ``sm3`` hashes; ``service`` dispatches a message to its transaction (``table``) and ``app``
serves it over HTTP. See ``README.md`` in this folder.
"""

from yibao.api.errors import InterfaceError
from yibao.api.examples import example_envelope, example_input, example_output
from yibao.api.fields import (
    MAX_ROWS, Parsed, dumps_output, parse_envelope, parse_input, render_output, served_transactions,
    transaction_spec,
)
from yibao.api.masking import IdNumberLogFilter, mask_certno, mask_name, mask_payload, mask_text
from yibao.api.signing import SignatureError, body_digest, new_credential, sign, signed_headers, verify
from yibao.api.sm3 import hmac_sm3, sm3_hex

__all__ = [
    "IdNumberLogFilter", "InterfaceError", "MAX_ROWS", "Parsed", "SignatureError", "body_digest", "dumps_output",
    "example_envelope", "example_input", "example_output", "hmac_sm3", "mask_certno", "mask_name", "mask_payload",
    "mask_text", "new_credential", "parse_envelope", "parse_input", "render_output", "served_transactions", "sign",
    "signed_headers", "sm3_hex", "transaction_spec", "verify",
]
