"""Throughput of the per-message security work: signature verification and the audit-chain hash.

    python benchmarks/security.py [--seconds 2] [--body-bytes 2048]

Each accepted message costs one :func:`yibao.api.verify` (the body digest, one HMAC over the sorted
headers) and one :func:`yibao.ledger.chain_row` (canonical JSON and SM3 of the record). On a body of
``--body-bytes`` (a 2207-like envelope padded with fee lines) it prints, for HMAC-SHA1 and HMAC-SM3:
signs per second (a HIS's ``signed_headers``), verifies per second, and messages per second on one core
(verify + chain row); and chain rows made and verified per second. The same per-message work is then done
with the pure-Python SM3 (:class:`yibao.api.sm3.PureSM3`), the fallback where OpenSSL has no SM3. One core
each: the service's worker processes scale it over the machine's cores. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hmac
import json
import ssl
import time
from collections.abc import Callable

from rich.table import Table

from yibao.api import signed_headers, verify
from yibao.api.signing import canonical_string, credential_secret
from yibao.api.sm3 import BACKEND, PureSM3
from yibao.console import new_console
from yibao.ledger import GENESIS_HASH, chain_row, verify_chain
from yibao.ledger.audit_chain import canonical_json

MASTER = bytes(range(32))
ACCESS_KEY = "0123456789abcdef0123456789abcdef"
TIMESTAMP_MS = 1_764_760_000_000


def _envelope(body_bytes: int) -> dict:
    envelope = {"infno": "2207", "msgid": "H43028100255202512031106400001", "mdtrtarea_admvs": "430281",
                "infver": "1.0.0", "opter_type": "1", "opter": "0053", "opter_name": "李四",
                "inf_time": "2025-12-03 11:06:40", "fixmedins_code": "H43028100255", "fixmedins_name": "醴陵远恒医院",
                "input": {"data": {"psn_no": "43000000000000000001", "mdtrt_id": "430000000001", "medfee_sumamt": 0},
                          "feedetail": []}}
    while len(json.dumps(envelope, ensure_ascii=False).encode("utf-8")) < body_bytes:
        n = len(envelope["input"]["feedetail"])
        envelope["input"]["feedetail"].append({"feedetl_sn": f"{n:06d}", "med_list_codg": "XA01AAA", "cnt": 1,
                                               "pric": 12.5, "det_item_fee_sumamt": 12.5})
    return envelope


def _rate(work: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``work``, run for about ``seconds`` after a short warm-up."""
    for _ in range(20):
        work()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            work()
        count += 50
    return count / elapsed


def _signature_rows(body: bytes, record: dict, seconds: float) -> list[tuple[str, ...]]:
    secret = credential_secret(MASTER, ACCESS_KEY)
    lookup = {ACCESS_KEY: secret}.get
    rows = []
    for algorithm in ("HMAC-SHA1", "HMAC-SM3"):
        headers = signed_headers(ACCESS_KEY, secret, body, "2207", "1.0.0", TIMESTAMP_MS, algorithm)

        def one_message():
            verify(headers, body, lookup, TIMESTAMP_MS / 1000)
            chain_row(1, GENESIS_HASH, record)

        signs = _rate(lambda: signed_headers(ACCESS_KEY, secret, body, "2207", "1.0.0", TIMESTAMP_MS, algorithm), seconds)
        verifies = _rate(lambda: verify(headers, body, lookup, TIMESTAMP_MS / 1000), seconds)
        rows.append((f"{algorithm} ({BACKEND} SM3)", f"{signs:,.0f}", f"{verifies:,.0f}",
                     f"{_rate(one_message, seconds):,.0f}"))
    return rows


def _pure_sm3_row(body: bytes, record: dict, seconds: float) -> tuple[str, ...]:
    """The same SM3 work as an HMAC-SM3 message, on the pure-Python SM3."""
    key = credential_secret(MASTER, ACCESS_KEY).encode("ascii")
    headers = signed_headers(ACCESS_KEY, "x", body, "2207", "1.0.0", TIMESTAMP_MS, "HMAC-SM3")
    signed = canonical_string(headers).encode("utf-8")

    def one_verify():
        PureSM3(body).hexdigest()
        hmac.new(key, signed, PureSM3).digest()

    def one_message():
        one_verify()
        PureSM3(GENESIS_HASH.encode("ascii") + canonical_json(record)).hexdigest()

    verifies = _rate(one_verify, seconds)
    return ("HMAC-SM3 (pure-Python SM3)", "—", f"{verifies:,.0f}", f"{_rate(one_message, seconds):,.0f}")


def _chain_rates(record: dict, seconds: float, rows: int = 20_000) -> tuple[float, float]:
    made = _rate(lambda: chain_row(1, GENESIS_HASH, record), seconds)
    chain, prev = [], GENESIS_HASH
    for seq in range(1, rows + 1):
        chain.append(chain_row(seq, prev, record | {"seq": seq}))
        prev = chain[-1].hash
    start = time.perf_counter()
    assert verify_chain(chain).ok
    return made, rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--body-bytes", type=int, default=2048, help="size of the JSON body")
    args = parser.parse_args()
    record = _envelope(args.body_bytes)
    body = json.dumps(record, ensure_ascii=False).encode("utf-8")

    console = new_console()
    table = Table(title=f"Per message on one core, {len(body):,}-byte body ({ssl.OPENSSL_VERSION})")
    for column in ("algorithm", "signs/s", "verifies/s", "messages/s (verify + chain row)"):
        table.add_column(column, justify="left" if column == "algorithm" else "right")
    for row in [*_signature_rows(body, record, args.seconds), _pure_sm3_row(body, record, args.seconds)]:
        table.add_row(*row)
    console.print(table)
    made, checked = _chain_rates(record, args.seconds)
    console.print(f"audit chain on {len(canonical_json(record)):,}-byte records: {made:,.0f} rows made/s, "
                  f"{checked:,.0f} rows verified/s")


if __name__ == "__main__":
    main()
