"""The interface's dispatcher: one message in, one answer out, never twice.

``Service.handle(body)`` parses the envelope and the input (the field layer), finds the calling
institution, and runs the transaction's handler in one database transaction together with the
record of the message (its msgid, a digest of its body and the answer given). The same msgid with the
same body answers the stored response; with a different body it is refused. A failure answers
``infcode -1`` with an ``err_msg`` naming the field — never an HTTP error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import time
from typing import Any, Callable, Mapping

import sqlalchemy as sa

from yibao.api.errors import InterfaceError
from yibao.api.fields import dumps_output, parse_envelope, parse_input, render_output
from yibao.api import credentials
from yibao.api.session import FileAnswer
from yibao.api.signing import SignatureError, credential_secret, verify
from yibao.api.table import Call, handlers, label
from yibao.errors import YibaoError
from yibao.ledger import audit, repository as repo
from yibao.ledger.db import ledger_engine
from yibao.ledger.service import LedgerError, Region

log = logging.getLogger("yibao.api")
CACHE_SECONDS = 30.0


class Refused(YibaoError):
    """A message refused before its handler ran (unknown institution, msgid reused …)."""


def _digest(header: dict[str, Any], raw_input: Any) -> str:
    canon = json.dumps([header["infno"], header["fixmedins_code"], raw_input], ensure_ascii=False, sort_keys=True,
                       separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _stamp(t: dt.datetime) -> str:
    return f"{t:%Y%m%d%H%M%S}{t.microsecond // 1000:03d}"


class Service:
    """The settlement service over one database: ``handle`` is safe to call from many threads."""

    def __init__(self, url: str | None, region: Region, *, master_key: bytes | None = None,
                 clock: Callable[[], dt.datetime] = dt.datetime.now, engine: sa.Engine | None = None,
                 window_seconds: int = 300):
        """``master_key``: requests must be signed (:mod:`yibao.api.signing`) with the credential of the
        institution they name; None accepts unsigned requests from any registered institution (tests,
        a closed network behind a gateway that signs)."""
        self.engine = engine or ledger_engine(url)
        self.region = region
        self.master_key = master_key
        self.window = window_seconds
        self.clock = clock
        self.table = handlers()
        self._seen: dict[tuple[str, str], tuple[float, Any]] = {}  # (kind, key) → (read at, row)

    def handle(self, body: bytes | str, headers: Mapping[str, str] | None = None) -> str | FileAnswer:
        """The answer's JSON text (or a file for 9102) to one request ``body`` with its HTTP ``headers``."""
        received = self.clock()
        header: dict[str, Any] = {}
        raw = body.encode("utf-8") if isinstance(body, str) else body
        try:
            message = json.loads(raw)
            header = parse_envelope(message)
            return self._run(header, message.get("input"), received, raw, headers or {})
        except SignatureError as e:
            return self._answer(header, received, err=e.err_msg)
        except ValueError as e:
            if isinstance(e, InterfaceError):
                return self._answer(header, received, err=e.err_msg)
            if isinstance(e, json.JSONDecodeError):
                return self._answer(header, received, err=f"报文不是有效的JSON：第{e.lineno}行第{e.colno}列 {e.msg}")
            return self._answer(header, received, err=str(e)[:200])
        except (LedgerError, Refused) as e:
            return self._answer(header, received, err=self._message(header, e))
        except Exception as e:  # noqa: BLE001 - a bug must not become an HTTP 500 for the HIS
            log.exception("transaction %s msgid %s failed", header.get("infno"), header.get("msgid"))
            return self._answer(header, received, err=f"系统内部错误（{type(e).__name__}），请稍后重试或联系经办机构")

    def too_large(self, size: int, limit: int) -> str:
        """The answer to a body over the size limit (read no further)."""
        return self._answer({}, self.clock(), err=f"报文 {size} 字节，超过上限 {limit} 字节")

    @staticmethod
    def _message(header: dict[str, Any], e: YibaoError) -> str:
        if isinstance(e, LedgerError):
            return f"{label(header.get('infno', ''), e.field)}：{e.problem}"[:200]
        return str(e)[:200]

    def _run(self, header: dict[str, Any], raw_input: Any, received: dt.datetime, raw: bytes,
             headers: Mapping[str, str]) -> str | FileAnswer:
        infno, msgid = header["infno"], header["msgid"]
        handler = self.table.get(infno)
        if handler is None:
            raise Refused(f"infno(交易编号)不是本服务受理的交易：{infno}")
        parsed = parse_input(infno, raw_input)
        digest = _digest(header, raw_input)
        try:
            with self.engine.begin() as conn:
                code = header["fixmedins_code"]
                inst = self._cached(("institution", code), lambda: repo.institution(conn, code))
                if inst is None:
                    raise Refused(f"fixmedins_code(定点医药机构编号)：{code} 不是本统筹区的定点医药机构")
                self._authenticate(conn, inst, raw, headers, received)  # before a replay shows a stored answer
                stored = self._replayed(conn, msgid, digest)
                if stored is not None:
                    return stored
                output = handler(Call(conn, self.region, inst, header, parsed, received))
                if isinstance(output, FileAnswer):
                    return output
                answer = self._answer(header, received, output=render_output(infno, output))
                repo.add_message(conn, {"msgid": msgid, "infno": infno, "fixmedins_code": inst["fixmedins_code"],
                                        "body_digest": digest, "response": answer,
                                        "received_at": received, "reversed_by": None})
                audit.append(conn, inst["fixmedins_code"],
                             audit.message_record(msgid, infno, inst["fixmedins_code"], received, digest, answer))
                return answer
        except sa.exc.IntegrityError:
            # the same msgid committed meanwhile by a concurrent request: answer as a replay
            with self.engine.begin() as conn:
                stored = self._replayed(conn, msgid, digest)
            if stored is None:
                raise
            return stored

    def _authenticate(self, conn: sa.Connection, inst: dict[str, Any], raw: bytes, headers: Mapping[str, str],
                      received: dt.datetime) -> None:
        """The request is signed with a live credential of the institution it names."""
        if self.master_key is None:
            return
        owners: dict[str, str] = {}

        def secret(access_key: str) -> str | None:
            row = self._cached(("credential", access_key), lambda: credentials.find(conn, access_key))
            if row is None or row["revoked"]:
                return None
            owners[access_key] = row["fixmedins_code"]
            return credential_secret(self.master_key, access_key)

        key = verify(headers, raw, secret, received.astimezone(), self.window)
        if owners[key] != inst["fixmedins_code"]:
            raise Refused(f"_api_access_key：该凭证属于机构 {owners[key]}，不能以 {inst['fixmedins_code']} 的名义调用")

    def _cached(self, key: tuple[str, str], read: Callable[[], Any]) -> Any:
        """Institutions and credentials change seldom: each is read again after ``CACHE_SECONDS`` (so a
        revoked credential stops working within that time)."""
        now = time.monotonic()
        hit = self._seen.get(key)
        if hit is None or now - hit[0] > CACHE_SECONDS:
            if len(self._seen) > 10_000:
                self._seen.clear()
            hit = (now, read())
            if hit[1] is not None:  # an unknown one may be added any moment
                self._seen[key] = hit
        return hit[1]

    @staticmethod
    def _replayed(conn: sa.Connection, msgid: str, digest: str) -> str | None:
        row = repo.message(conn, msgid)
        if row is None:
            return None
        if row["reversed_by"] and row["body_digest"] == "reversed-before-arrival":
            raise Refused(f"msgid(发送方报文ID)：{msgid} 已被冲正（{row['reversed_by']}），不再受理")
        if row["body_digest"] != digest:
            raise Refused(f"msgid(发送方报文ID)：{msgid} 已用于另一笔不同内容的交易")
        return row["response"]

    def _answer(self, header: dict[str, Any], received: dt.datetime, output: Any = None, err: str = "") -> str:
        admdvs = str(header.get("mdtrtarea_admvs") or "000000")[:6]
        done = self.clock()
        return dumps_output({
            "infcode": -1 if err else 0, "inf_refmsgid": f"{admdvs}{done:%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}",
            "refmsg_time": _stamp(received), "respond_time": _stamp(done), "err_msg": err,
            "output": output if output is not None else {}})


__all__ = ["Refused", "Service"]
