"""SM3 against GB/T 32905-2016's vectors on both backends, and HMAC-SM3 against a vector cross-checked three
ways: OpenSSL's HMAC, RFC 2104 built by hand on the Python SM3, and the ``openssl`` command."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.api import sm3

# GB/T 32905-2016 appendix A: example 1 ("abc") and example 2 ("abcd" × 16, one 512-bit block before padding).
STANDARD_VECTORS = [
    (b"abc", "66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0"),
    (b"abcd" * 16, "debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732"),
]

# Derived here (RFC 4231's inputs for cases 1 and 6, with SM3) and checked by the three constructions below.
HMAC_VECTORS = [
    (b"\x0b" * 20, b"Hi There", "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70"),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "b4fd844e13342002f0b2e0690ea7741f1497d993a70494cea601e657bedf67a0"),
]


@pytest.mark.parametrize("message, expected", STANDARD_VECTORS)
def test_the_standards_vectors_on_the_chosen_backend(message, expected):
    assert sm3.sm3_hex(message) == expected.replace(" ", "")
    assert sm3.sm3_digest(message) == bytes.fromhex(expected)


@pytest.mark.parametrize("message, expected", STANDARD_VECTORS)
def test_the_standards_vectors_in_pure_python(message, expected):
    assert sm3.PureSM3(message).hexdigest() == expected.replace(" ", "")


def test_this_machine_uses_openssls_sm3():
    assert "sm3" in hashlib.algorithms_available
    assert sm3.BACKEND == "openssl"


def test_without_openssl_sm3_the_python_one_is_used():
    def no_sm3(name, data=b""):
        raise ValueError(f"unsupported hash type {name}")

    name, constructor, digestmod = sm3._pick_backend(no_sm3)
    assert (name, constructor, digestmod) == ("python", sm3.PureSM3, sm3.PureSM3)


@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000])
def test_padding_at_every_block_boundary_agrees_with_openssl(length):
    data = bytes(range(256)) * 4
    assert sm3.PureSM3(data[:length]).hexdigest() == hashlib.new("sm3", data[:length]).hexdigest()


@given(st.lists(st.binary(max_size=150), max_size=5))
def test_updates_in_pieces_equal_one_update(pieces):
    pure, whole = sm3.PureSM3(), b"".join(pieces)
    for piece in pieces:
        pure.update(piece)
    snapshot = pure.copy()
    assert pure.hexdigest() == hashlib.new("sm3", whole).hexdigest() == snapshot.hexdigest()
    snapshot.update(b"more")
    assert pure.hexdigest() != snapshot.hexdigest()


def _rfc2104(key: bytes, msg: bytes) -> bytes:
    """HMAC by hand: H((K ^ opad) || H((K ^ ipad) || m)), K hashed first when longer than a block."""
    if len(key) > 64:
        key = sm3.PureSM3(key).digest()
    key = key.ljust(64, b"\x00")
    inner = sm3.PureSM3(bytes(b ^ 0x36 for b in key) + msg).digest()
    return sm3.PureSM3(bytes(b ^ 0x5C for b in key) + inner).digest()


@pytest.mark.parametrize("key, msg, expected", HMAC_VECTORS)
def test_hmac_sm3_agrees_with_rfc2104_by_hand(key, msg, expected):
    assert sm3.hmac_sm3(key, msg).hex() == expected
    assert _rfc2104(key, msg).hex() == expected


@pytest.mark.parametrize("key, msg, expected", HMAC_VECTORS)
def test_hmac_sm3_agrees_with_the_openssl_command(key, msg, expected):
    out = subprocess.run(
        [shutil.which("openssl"), "dgst", "-sm3", "-mac", "HMAC", "-macopt", f"hexkey:{key.hex()}"],
        input=msg, capture_output=True, check=True,
    ).stdout.decode()
    assert out.split("= ")[-1].strip() == expected
