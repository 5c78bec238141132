"""The HTTP face of the interface: one endpoint, ``POST /fsi/api/rsfComIfsService/callService``
(Starlette under uvicorn). The body is the envelope; the answer is always HTTP 200 with the
envelope's ``infcode`` (a refusal is ``infcode -1`` with its ``err_msg``), except 9102 whose answer is
the file itself. ``/health`` says the service is up.

``from_env()`` builds the app from ``YIBAO_SERVE_*`` environment variables, so uvicorn can start
several worker processes of one configuration (``yibao serve --workers N``).

A worker runs at most ``threads`` messages at once (each on a thread, holding a pooled connection);
the rest wait in the event loop. More threads than that only fight over the interpreter lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

import anyio
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from yibao.api.masking import IdNumberLogFilter
from yibao.api.service import Service
from yibao.api.session import FileAnswer

PATH = "/fsi/api/rsfComIfsService/callService"
MAX_BODY = 8 * 1024 * 1024  # a 2204 upload of 10,000 lines is about 6 MB
JSON = "application/json; charset=utf-8"
THREADS = 8  # messages one worker runs at once (its connection pool holds 8, more on overflow)


def create_app(service: Service, threads: int = THREADS) -> Starlette:
    running: list[anyio.CapacityLimiter] = []  # made in the event loop, on the first request

    async def call(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(service.too_large(len(body), MAX_BODY), media_type=JSON)
        if not running:
            running.append(anyio.CapacityLimiter(threads))
        answer = await anyio.to_thread.run_sync(service.handle, body, request.headers, limiter=running[0])
        if isinstance(answer, FileAnswer):
            return Response(bytes(answer), media_type="application/octet-stream")
        return Response(answer, media_type=JSON)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route(PATH, call, methods=["POST"]), Route("/health", health, methods=["GET"])])


def region_of(engine: sa.Engine, pack: str):
    """The region the service settles with: the pack, and the store's 医保目录 (the shipped one when
    the store has none loaded)."""
    import pandas as pd

    from yibao.catalog.items import Catalog
    from yibao.ledger.service import Region
    from yibao.lake.schema import TABLES
    from yibao.policy.pack import load_pack
    from yibao.settlement.realtime import warm
    from yibao.store.models import CatalogItem

    table = CatalogItem.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*(table.c[f.name] for f in TABLES["catalog"]))).mappings().all()
    catalog = Catalog(pd.DataFrame([dict(r) for r in rows]), name="store catalog") if rows else Catalog.shipped()
    region = Region(load_pack(pack), catalog)
    warm(region.pack, region.catalog, dt.date.today())  # each worker's first messages pay no one-time builds
    return region


def service_of(url: str, pack: str, master_key: bytes | None, **kwargs: Any) -> Service:
    from yibao.ledger.db import ledger_engine

    engine = ledger_engine(url)
    return Service(url, region_of(engine, pack), master_key=master_key, engine=engine, **kwargs)


def masked_logs() -> None:
    """ID numbers never reach the logs (``IdNumberLogFilter`` on every handler of the root logger)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers + logging.getLogger("uvicorn.error").handlers:
        handler.addFilter(IdNumberLogFilter())


def from_env() -> Starlette:
    """The app for a uvicorn worker: ``YIBAO_SERVE_DB``, ``YIBAO_SERVE_PACK``, ``YIBAO_SERVE_THREADS``
    and, unless ``YIBAO_SERVE_INSECURE`` is 1, the master key (:func:`yibao.api.keys.master_key`)."""
    from yibao.api.keys import master_key

    url = os.environ["YIBAO_SERVE_DB"]
    insecure = os.environ.get("YIBAO_SERVE_INSECURE") == "1"
    masked_logs()
    return create_app(service_of(url, os.environ.get("YIBAO_SERVE_PACK", "demo"),
                                 None if insecure else master_key(url, create=False)),
                      int(os.environ.get("YIBAO_SERVE_THREADS", THREADS)))


__all__ = ["MAX_BODY", "PATH", "THREADS", "create_app", "from_env", "masked_logs", "region_of", "service_of"]
