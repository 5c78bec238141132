"""The national 定点医药机构接口 at the boundary: request signatures, masking of personal data in logs, SM3.

Light on import: hashlib, hmac, json and logging only.
"""

from yibao.api.masking import IdNumberLogFilter, mask_certno, mask_name, mask_payload, mask_text
from yibao.api.signing import SignatureError, body_digest, new_credential, sign, signed_headers, verify
from yibao.api.sm3 import hmac_sm3, sm3_hex

__all__ = [
    "IdNumberLogFilter",
    "SignatureError",
    "body_digest",
    "hmac_sm3",
    "mask_certno",
    "mask_name",
    "mask_payload",
    "mask_text",
    "new_credential",
    "sign",
    "signed_headers",
    "sm3_hex",
    "verify",
]
