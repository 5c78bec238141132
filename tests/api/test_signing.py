"""Gateway signatures: the sorted string, HMAC-SHA1 / HMAC-SM3 as ``openssl`` computes them, each refusal with
its reason, and the README's shell example verified by :func:`verify`."""

from __future__ import annotations

import base64
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import yibao.api
from yibao.api import SignatureError, body_digest, new_credential, sign, signed_headers, verify
from yibao.api.signing import canonical_string, credential_secret
from yibao.errors import ValidationError, YibaoError

MASTER = bytes(range(32))
AK = "0123456789abcdef0123456789abcdef"
SK = credential_secret(MASTER, AK)
TS = 1_764_760_000_000  # epoch milliseconds
BODY = '{"infno":"1101","input":{"data":{"psn_name":"张三"}}}'.encode("utf-8")
README = Path(yibao.api.__file__).with_name("README.md")


def _lookup(access_key: str) -> str | None:
    return SK if access_key == AK else None


def _headers(algorithm: str = "HMAC-SHA1", body: bytes = BODY) -> dict[str, str]:
    return signed_headers(AK, SK, body, "1101", "1.0.0", TS, algorithm)


def _refusal(headers, body=BODY, now=TS / 1000, **kwargs) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify(headers, body, _lookup, now, **kwargs)
    return caught.value


def _openssl_hmac(digest: str, key: str, message: str) -> str:
    tag = subprocess.run(["openssl", "dgst", f"-{digest}", "-hmac", key, "-binary"], input=message.encode("utf-8"),
                         capture_output=True, check=True).stdout
    return base64.b64encode(tag).decode("ascii")


def test_the_string_is_the_gateways_sorted_key_value_pairs():
    params = {"_api_version": "1.0.0", "_api_timestamp": TS, "_api_name": "1101", "_api_access_key": AK,
              "_api_signature": "never signed"}
    assert canonical_string(params) == f"_api_access_key={AK}&_api_name=1101&_api_timestamp={TS}&_api_version=1.0.0"


@pytest.mark.parametrize("algorithm, digest", [("HMAC-SHA1", "sha1"), ("HMAC-SM3", "sm3")])
def test_the_signature_is_what_openssl_computes(algorithm, digest):
    params = {"_api_access_key": AK, "_api_name": "1101", "_api_timestamp": str(TS), "_api_version": "1.0.0"}
    assert sign(params, SK, algorithm) == _openssl_hmac(digest, SK, canonical_string(params))
    assert sign(params, SK, "HMAC-SHA1") != sign(params, SK, "HMAC-SM3")


def test_the_body_digest_is_sha1_or_sm3_of_the_raw_bytes():
    assert body_digest(b"abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert body_digest(b"abc", "HMAC-SM3") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


@pytest.mark.parametrize("algorithm", ["HMAC-SHA1", "HMAC-SM3"])
def test_a_signed_request_verifies_to_its_access_key(algorithm):
    headers = _headers(algorithm)
    assert verify(headers, BODY, _lookup, TS / 1000) == AK
    as_sent = {name.upper(): value for name, value in headers.items()} | {"Content-Type": "application/json"}
    assert verify(as_sent, BODY, _lookup, datetime.fromtimestamp(TS / 1000, timezone.utc)) == AK


def test_the_timestamp_window_is_inclusive_either_way():
    assert verify(_headers(), BODY, _lookup, TS / 1000 + 300) == AK
    assert verify(_headers(), BODY, _lookup, TS / 1000 - 300) == AK
    assert verify(_headers(), BODY, _lookup, TS / 1000 + 1700, window_seconds=1800) == AK


@pytest.mark.parametrize("header", ["_api_access_key", "_api_name", "_api_version", "_api_timestamp", "_api_signature"])
def test_a_missing_header_is_named(header):
    headers = _headers()
    del headers[header]
    error = _refusal(headers)
    assert (error.reason, error.field) == ("missing_header", header)
    assert error.err_msg.startswith("缺少服务网关的请求头!") and header in error.err_msg
    headers[header] = ""
    assert _refusal(headers).reason == "missing_header"


def test_an_unknown_or_revoked_key_is_an_illegal_user():
    headers = _headers()
    headers["_api_access_key"] = "f" * 32
    error = _refusal(headers)
    assert (error.reason, error.field) == ("unknown_key", "_api_access_key") and error.err_msg.startswith("非法用户!")
    headers["_api_access_key"] = "k" * 5000
    assert len(_refusal(headers).err_msg) < 80  # a sender's value is cut before it is echoed


@pytest.mark.parametrize("offset, reason, words", [
    (301, "expired", "签名时间戳超时!"), (-301, "future", "签名时间戳超前!"),
])
def test_a_timestamp_outside_the_window_is_refused(offset, reason, words):
    error = _refusal(_headers(), now=TS / 1000 + offset)
    assert (error.reason, error.field) == (reason, "_api_timestamp")
    assert error.err_msg.startswith(words) and "301 秒" in error.err_msg and "300 秒" in error.err_msg


@pytest.mark.parametrize("stamp", [str(TS // 1000), "17647600000001", "176476000000x", "１７６４７６００００００0"])
def test_a_timestamp_not_of_13_digits_is_refused(stamp):
    headers = _headers() | {"_api_timestamp": stamp}
    assert _refusal(headers).reason == "bad_timestamp"


def test_an_unknown_algorithm_is_refused():
    error = _refusal(_headers() | {"_api_signature_method": "HMAC-MD5"})
    assert (error.reason, error.field) == ("unknown_algorithm", "_api_signature_method")
    with pytest.raises(ValidationError, match="_api_signature_method: unknown algorithm 'HMAC-MD5'"):
        sign({}, SK, "HMAC-MD5")


def test_a_wrong_secret_or_a_changed_header_is_a_bad_signature():
    wrong = signed_headers(AK, "another secret", BODY, "1101", "1.0.0", TS)
    assert _refusal(wrong).reason == "bad_signature"
    assert _refusal(_headers() | {"_api_name": "2207"}).reason == "bad_signature"
    downgraded = _headers("HMAC-SM3") | {"_api_signature_method": "HMAC-SHA1"}
    assert _refusal(downgraded).reason == "body_digest"
    downgraded |= {"_api_body_digest": body_digest(BODY, "HMAC-SHA1")}
    assert _refusal(downgraded).reason == "bad_signature"
    assert _refusal(_headers() | {"_api_signature": "not base64 at all"}).err_msg.startswith("签名不一致!")


def test_a_changed_body_is_refused():
    tampered = BODY.replace("张三".encode(), "李四".encode())
    error = _refusal(_headers(), body=tampered)
    assert (error.reason, error.field) == ("body_digest", "_api_body_digest")
    upper = _headers() | {"_api_body_digest": body_digest(BODY).upper()}
    assert "小写" in _refusal(upper).err_msg
    without_digest = {k: v for k, v in _headers().items() if k != "_api_body_digest"}
    assert verify(without_digest, BODY, _lookup, TS / 1000) == AK
    assert _refusal(without_digest, body=tampered).reason == "bad_signature"


def test_a_header_value_that_would_make_the_string_ambiguous_is_refused():
    with pytest.raises(ValidationError, match="_api_name: '1101&x=1'"):
        sign({"_api_name": "1101&x=1"}, SK)
    with pytest.raises(ValidationError, match="_api_x=y: '1'"):
        sign({"_api_x=y": "1"}, SK)
    assert _refusal(_headers() | {"_api_name": "1101&x=1"}).reason == "malformed_header"


def test_a_signature_error_is_a_yibao_error_naming_the_header():
    error = _refusal(_headers(), now=TS / 1000 + 400)
    assert isinstance(error, YibaoError) and error.http_status == 401
    assert str(error) == f"_api_timestamp: {error.err_msg}"


def test_a_naive_clock_is_refused():
    with pytest.raises(ValidationError, match="now: a naive datetime"):
        verify(_headers(), BODY, _lookup, datetime(2025, 12, 3, 11, 6, 40))
    aware = datetime.fromtimestamp(TS / 1000, timezone(timedelta(hours=8)))
    assert verify(_headers(), BODY, _lookup, aware) == AK


def test_credentials_are_derived_from_the_master_key_and_never_repeat():
    access_key, secret = new_credential(MASTER)
    assert re.fullmatch(r"[0-9a-f]{32}", access_key) and re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)
    assert credential_secret(MASTER, access_key) == secret
    assert credential_secret(bytes(32), access_key) != secret
    assert len({new_credential(MASTER)[0] for _ in range(100)}) == 100
    with pytest.raises(ValidationError, match="master_key: must be at least 32 random bytes"):
        new_credential(b"short")


def _readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Signing, masking, audit", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize("algorithm", ["HMAC-SHA1", "HMAC-SM3"])
def test_the_readme_shell_example_signs_what_verify_accepts(algorithm, tmp_path):
    script = _readme_example()
    if algorithm == "HMAC-SM3":  # the README's own instruction for SM3
        script = script.replace("-sha1", "-sm3").replace("HMAC-SHA1", "HMAC-SM3")
    (tmp_path / "body.json").write_bytes(BODY)
    stub = "curl() { printf '%s\\n' \"$@\"; }\n"  # prints the request curl would send
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", stub + script], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env={"AK": AK, "SK": SK, "URL": "http://127.0.0.1:8000/1101",
                                                     "PATH": "/usr/bin:/bin"}).stdout.splitlines()
    headers = dict(line.split(": ", 1) for line in out if line.startswith("_api_"))
    assert headers["_api_signature_method"] == algorithm and out[-1] == "@body.json"
    now = int(headers["_api_timestamp"]) / 1000
    assert verify(headers, BODY, _lookup, now) == AK
    assert headers["_api_signature"] == sign({k: v for k, v in headers.items() if k != "_api_signature"}, SK, algorithm)
    assert headers["_api_body_digest"] == body_digest(BODY, algorithm)
