"""The national 定点医药机构接口 at the boundary: request signatures, masking of personal data in logs, SM3.

Light on import: hashlib, hmac, json and logging only.
"""

from yibao.api.sm3 import hmac_sm3, sm3_hex

__all__ = ["hmac_sm3", "sm3_hex"]
