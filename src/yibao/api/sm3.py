"""SM3 (GB/T 32905-2016, 信息安全技术 SM3密码杂凑算法) and HMAC-SM3.

The fast path is OpenSSL's SM3 through :mod:`hashlib` (OpenSSL 1.1.1 and later ship it; Debian's 3.0 does),
written in C. Where the linked OpenSSL lacks it (some FIPS builds), :class:`PureSM3` — a plain Python
transcription of the standard's sections 5.3–5.4 — takes over, slower but exact. ``BACKEND`` says which one
this process uses. PyPI's ``gmssl`` was weighed and not taken: its SM3 is pure Python too, takes a list of
ints rather than bytes, and pulls in ``pycryptodomex``.

HMAC-SM3 is RFC 2104 HMAC with SM3 as the hash (block 64 bytes, digest 32), built by :mod:`hmac`.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

_MASK = 0xFFFFFFFF
_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _MASK


# T_j rotated left by j, once for all 64 rounds (standard 4.2 and 5.3.3).
_T_ROTATED = tuple(_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64))


def _p0(x: int) -> int:
    return x ^ _rotl(x, 9) ^ _rotl(x, 17)


def _p1(x: int) -> int:
    return x ^ _rotl(x, 15) ^ _rotl(x, 23)


def _expand(block: bytes) -> list[int]:
    """W_0 … W_67 of one 64-byte block (standard 5.3.2); W'_j is W_j ^ W_{j+4}."""
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        w.append(_p1(w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
    return w


def _compress(v: tuple[int, ...], block: bytes) -> tuple[int, ...]:
    """CF(V, B): the compression function of standard 5.3.3."""
    w = _expand(block)
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _T_ROTATED[j]) & _MASK, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff, gg = a ^ b ^ c, e ^ f ^ g
        else:
            ff, gg = (a & b) | (a & c) | (b & c), (e & f) | (~e & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _MASK
        tt2 = (gg + h + ss1 + w[j]) & _MASK
        a, b, c, d = tt1, a, _rotl(b, 9), c
        e, f, g, h = _p0(tt2), e, _rotl(f, 19), g
    return tuple(x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h)))


class PureSM3:
    """SM3 in Python with the :mod:`hashlib` object interface, so :mod:`hmac` can wrap it."""

    name = "sm3"
    digest_size = 32
    block_size = 64

    def __init__(self, data: bytes = b""):
        self._v = _IV
        self._pending = b""
        self._length = 0
        self.update(data)

    def update(self, data: bytes) -> None:
        self._length += len(data)
        buffer = self._pending + bytes(data)
        whole = len(buffer) - len(buffer) % 64
        for start in range(0, whole, 64):
            self._v = _compress(self._v, buffer[start:start + 64])
        self._pending = buffer[whole:]

    def copy(self) -> "PureSM3":
        twin = PureSM3()
        twin._v, twin._pending, twin._length = self._v, self._pending, self._length
        return twin

    def digest(self) -> bytes:
        # Padding (standard 5.2): a 1 bit, zeros to 448 mod 512 bits, the bit length as 64 bits big-endian.
        tail = self._pending + b"\x80" + b"\x00" * ((55 - len(self._pending)) % 64)
        tail += struct.pack(">Q", (self._length * 8) & 0xFFFFFFFFFFFFFFFF)
        v = self._v
        for start in range(0, len(tail), 64):
            v = _compress(v, tail[start:start + 64])
        return struct.pack(">8I", *v)

    def hexdigest(self) -> str:
        return self.digest().hex()


def _pick_backend(hashlib_new: Callable = hashlib.new) -> tuple[str, Callable, object]:
    """``(backend name, constructor, hmac digestmod)``: OpenSSL's SM3 if it answers the "abc" vector."""
    try:
        if hashlib_new("sm3", b"abc").hexdigest() == ABC_DIGEST:
            return "openssl", lambda data=b"": hashlib_new("sm3", data), "sm3"
    except ValueError:  # hashlib's answer for an algorithm the linked OpenSSL lacks
        pass
    return "python", PureSM3, PureSM3


# GB/T 32905-2016 appendix A.1: SM3("abc").
ABC_DIGEST = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
BACKEND, _new, _DIGESTMOD = _pick_backend()


def new_sm3(data: bytes = b""):
    """A fresh SM3 hash object (``update``/``digest``/``hexdigest``/``copy``) on the fastest backend."""
    return _new(data)


def sm3_digest(data: bytes) -> bytes:
    """The 32-byte SM3 digest of ``data``."""
    return _new(data).digest()


def sm3_hex(data: bytes) -> str:
    """The SM3 digest of ``data`` as 64 lowercase hex digits."""
    return _new(data).hexdigest()


def hmac_sm3(key: bytes, msg: bytes) -> bytes:
    """HMAC-SM3 (RFC 2104 with SM3): the 32-byte tag of ``msg`` under ``key``."""
    return hmac.new(key, msg, _DIGESTMOD).digest()
