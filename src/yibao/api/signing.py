"""Gateway request signatures: AK/SK credentials, HMAC-SHA1 or HMAC-SM3 over sorted ``_api_*`` headers.

The scheme is the provincial service gateway's (湖南省医疗保障信息平台定点医药机构接口规范 V1.1.27, 2024-10-14,
「服务网关调用说明 · 生成签名」): the request headers ``_api_access_key``, ``_api_name``, ``_api_timestamp``
(13-digit epoch milliseconds) and ``_api_version`` are joined as ``key=value`` pairs, keys in natural
(code-point) order, pairs separated by ``&``; the UTF-8 bytes of that string are signed with HmacSHA1 under
the SK and the signature travels base64-encoded in ``_api_signature``. Values enter as sent: neither
trimmed nor URL-encoded. Two headers are added to that scheme and enter the string by the same rule:

- ``_api_signature_method``: ``HMAC-SHA1`` (the default when absent) or ``HMAC-SM3`` (GB/T 32905 SM3);
- ``_api_body_digest``: the lowercase hex digest of the raw body bytes, SHA-1 for HMAC-SHA1 and SM3 for
  HMAC-SM3, so the JSON body is covered although the gateway string has only headers. The verifier
  computes it from the body it received; a HIS computes it with ``openssl dgst -sha1`` (or ``-sm3``).

Credentials: HMAC is symmetric, so the verifier needs the secret itself and cannot keep a one-way hash of it
as it would of a password. The secret is therefore never stored: it is derived from a server master key and
the access key (HMAC-SHA256), so the credential table holds only access keys (public identifiers) and a dump
or backup of it reveals no secret. The master key lives outside the database. Revoking an institution is
marking its access key revoked; changing the master key re-issues every secret.

Everything here is pure: the clock comes in as ``now``, secrets through ``lookup_secret``. A message
replayed inside the time window passes :func:`verify`; refusing repeats is the msgid ledger's job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime

from yibao.api.sm3 import hmac_sm3, sm3_hex
from yibao.errors import ValidationError, YibaoError

SHA1, SM3 = "HMAC-SHA1", "HMAC-SM3"
ALGORITHMS = (SHA1, SM3)
PREFIX = "_api_"
ACCESS_KEY, NAME, VERSION, TIMESTAMP = "_api_access_key", "_api_name", "_api_version", "_api_timestamp"
SIGNATURE, METHOD, BODY_DIGEST = "_api_signature", "_api_signature_method", "_api_body_digest"
REQUIRED = (ACCESS_KEY, NAME, TIMESTAMP, VERSION, SIGNATURE)
_SECRET_CONTEXT = b"yibao api secret v1\x00"
_MIN_MASTER_KEY = 32


class SignatureError(YibaoError):
    """A request whose signature headers fail: ``reason`` a code, ``field`` the header, ``err_msg`` Chinese.

    The first words of ``err_msg`` are the gateway's own answers (缺少服务网关的请求头! / 签名时间戳超时! /
    非法用户! / 签名不一致!) so a HIS recognises them; the rest says which header and why.
    """

    http_status = 401

    def __init__(self, reason: str, field: str, err_msg: str):
        self.reason = reason
        self.field = field
        self.err_msg = err_msg
        super().__init__(f"{field}: {err_msg}")


def new_credential(master_key: bytes) -> tuple[str, str]:
    """A fresh ``(access_key, secret)``: a random 128-bit access key and the secret derived from it.

    Show the secret to the institution once; store only the access key (see the module docstring).
    """
    access_key = secrets.token_hex(16)
    return access_key, credential_secret(master_key, access_key)


def credential_secret(master_key: bytes, access_key: str) -> str:
    """The secret of ``access_key`` under ``master_key``: base64url of HMAC-SHA256, 43 ASCII characters."""
    if not isinstance(master_key, bytes) or len(master_key) < _MIN_MASTER_KEY:
        raise ValidationError("master_key", f"must be at least {_MIN_MASTER_KEY} random bytes")
    tag = hmac.new(master_key, _SECRET_CONTEXT + access_key.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(tag).rstrip(b"=").decode("ascii")


def body_digest(body: bytes, algorithm: str = SHA1) -> str:
    """Lowercase hex SHA-1 (HMAC-SHA1) or SM3 (HMAC-SM3) of the raw body bytes: ``_api_body_digest``."""
    _require_algorithm(algorithm)
    return hashlib.sha1(body).hexdigest() if algorithm == SHA1 else sm3_hex(body)


def canonical_string(params: Mapping[str, object]) -> str:
    """``k=v`` pairs sorted by key and joined by ``&``; ``_api_signature`` itself never enters."""
    pairs = []
    for key in sorted(params):
        if key == SIGNATURE:
            continue
        value = str(params[key])
        if "&" in key or "=" in key or "&" in value or "=" in value:
            raise ValidationError(key, f"{value!r}: '&' and '=' would make the signed string ambiguous")
        pairs.append(f"{key}={value}")
    return "&".join(pairs)


def sign(params: Mapping[str, object], secret: str, algorithm: str = SHA1) -> str:
    """The base64 ``_api_signature`` of ``params`` (see :func:`canonical_string`) under ``secret``."""
    _require_algorithm(algorithm)
    message, key = canonical_string(params).encode("utf-8"), secret.encode("utf-8")
    tag = hmac.new(key, message, hashlib.sha1).digest() if algorithm == SHA1 else hmac_sm3(key, message)
    return base64.b64encode(tag).decode("ascii")


def signed_headers(access_key: str, secret: str, body: bytes, api_name: str, api_version: str,
                   timestamp_ms: int, algorithm: str = SHA1) -> dict[str, str]:
    """Every ``_api_*`` header a HIS sends with ``body``, signature included."""
    headers = {
        ACCESS_KEY: access_key, NAME: api_name, VERSION: api_version, TIMESTAMP: str(timestamp_ms),
        METHOD: algorithm, BODY_DIGEST: body_digest(body, algorithm),
    }
    headers[SIGNATURE] = sign(headers, secret, algorithm)
    return headers


def verify(headers_or_params: Mapping[str, str], body: bytes, lookup_secret: Callable[[str], str | None],
           now: datetime | float, window_seconds: int = 300) -> str:
    """The access key of a request whose ``_api_*`` headers sign ``body``; else :class:`SignatureError`.

    ``headers_or_params``: the HTTP headers (names in any case; other headers are ignored) or the same
    parameters from a query string. ``lookup_secret(access_key)``: the secret, or None for a key that is
    unknown or revoked. ``now``: an aware datetime or epoch seconds. The timestamp may differ from ``now`` by
    at most ``window_seconds`` either way (the gateway allows 30 minutes; five keep a replay short).
    """
    params = {str(k).lower(): str(v) for k, v in headers_or_params.items() if str(k).lower().startswith(PREFIX)}
    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        raise SignatureError("missing_header", missing[0], f"缺少服务网关的请求头! 缺少 {'、'.join(missing)}")
    algorithm = params.get(METHOD, SHA1)
    if algorithm not in ALGORITHMS:
        raise SignatureError("unknown_algorithm", METHOD, f"不支持的签名算法! {_shown(algorithm)} 不是 {' 或 '.join(ALGORITHMS)}")
    _check_timestamp(params[TIMESTAMP], _epoch_ms(now), window_seconds)
    access_key = params[ACCESS_KEY]
    secret = lookup_secret(access_key)
    if secret is None:
        raise SignatureError("unknown_key", ACCESS_KEY, f"非法用户! 访问密钥 {_shown(access_key)} 未登记或已停用")
    digest = body_digest(body, algorithm)
    _check_body_digest(params.get(BODY_DIGEST, digest), digest, algorithm)
    params[BODY_DIGEST] = digest
    try:
        expected = sign(params, secret, algorithm)
    except ValidationError as bad:
        raise SignatureError("malformed_header", bad.field, "签名不一致! 请求头的值含有 & 或 =") from None
    if not hmac.compare_digest(expected.encode("ascii"), params[SIGNATURE].encode("utf-8", "replace")):
        raise SignatureError("bad_signature", SIGNATURE, f"签名不一致! 请按 {algorithm} 对排序后的 _api_* 请求头重新签名")
    return access_key


def _shown(value: str) -> str:
    """A header value quoted for ``err_msg`` (at most 200 characters in the envelope), cut at 40."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _require_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise ValidationError(METHOD, f"unknown algorithm {algorithm!r}; one of {', '.join(ALGORITHMS)}")


def _check_body_digest(sent: str, digest: str, algorithm: str) -> None:
    if sent == digest:
        return
    if sent.lower() == digest:
        raise SignatureError("body_digest", BODY_DIGEST, "签名不一致! 报文体摘要应为小写十六进制，并以小写参与签名")
    hash_name = "SHA-1" if algorithm == SHA1 else "SM3"
    raise SignatureError("body_digest", BODY_DIGEST,
                         f"签名不一致! 报文体摘要不是收到的报文体的 {hash_name} 摘要：报文体在签名后被改动，或摘要算法不符")


def _epoch_ms(now: datetime | float) -> int:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValidationError("now", "a naive datetime is ambiguous; pass an aware one or epoch seconds")
        return round(now.timestamp() * 1000)
    return round(now * 1000)


def _check_timestamp(value: str, now_ms: int, window_seconds: int) -> None:
    if not (len(value) == 13 and value.isascii() and value.isdigit()):
        raise SignatureError("bad_timestamp", TIMESTAMP, f"签名时间戳格式错误! {_shown(value)} 应为13位毫秒时间戳")
    skew_s = (int(value) - now_ms) / 1000
    if skew_s < -window_seconds:
        raise SignatureError(
            "expired", TIMESTAMP, f"签名时间戳超时! 比服务器时间早 {-skew_s:.0f} 秒，允许 {window_seconds} 秒")
    if skew_s > window_seconds:
        raise SignatureError(
            "future", TIMESTAMP, f"签名时间戳超前! 比服务器时间晚 {skew_s:.0f} 秒，允许 {window_seconds} 秒")
