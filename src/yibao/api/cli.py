"""``yibao serve``, ``yibao institution add`` and ``yibao audit-log verify``."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path
from typing import Optional

import typer

from yibao.console import new_console
from yibao.errors import NotFoundError, ValidationError

URL_HELP = "Database URL (default: $YIBAO_DB_URL or sqlite:///yibao.db; with --demo a fresh SQLite file)"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(db: Optional[str] = typer.Option(None, "--db", help=URL_HELP),
          host: str = typer.Option("127.0.0.1", "--host"),
          port: int = typer.Option(8080, "--port", help="0: any free port"),
          demo: bool = typer.Option(False, "--demo", help="Load a demo region first and print how to call it"),
          demo_dir: Path = typer.Option(Path("yibao-demo"), "--demo-dir", help="Folder of the demo region"),
          pack: str = typer.Option("demo", "--pack", help="Policy pack the region settles with"),
          workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes (PostgreSQL)"),
          insecure: bool = typer.Option(False, "--insecure", help="Accept unsigned requests (a closed network)")) -> None:
    """Serve the national institution interface (POST /fsi/api/rsfComIfsService/callService)."""
    import time

    import uvicorn

    from yibao.api.app import PATH, from_env
    from yibao.api.keys import master_key
    from yibao.store import db as store_db

    started = time.perf_counter()
    console = new_console()
    url = db or (None if demo else store_db.default_url())
    if demo:
        demo_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("YIBAO_KEY_FILE", str(demo_dir / "yibao.key"))
    if url is not None:
        store_db.upgrade(url)
    if workers > 1 and (url or "").startswith("sqlite"):
        raise ValidationError("--workers", "several workers need PostgreSQL (SQLite has one writer)")
    # the master key signs the credentials: needed unless requests go unsigned and no demo credential is made
    key = None if insecure and not demo else master_key(url or f"sqlite:///{demo_dir / 'yibao.db'}")
    region = None
    if demo:
        from yibao.api.demo import prepare

        region = prepare(demo_dir, key, url=url)  # the demo issues one credential, shown unless --insecure
        url = region.url
    port = port or _free_port(host)
    os.environ.update(YIBAO_SERVE_DB=url, YIBAO_SERVE_PACK=pack, YIBAO_SERVE_INSECURE="1" if insecure else "0")
    if region is not None:
        _print_demo(console, region, insecure)
    console.print(f"ready in {time.perf_counter() - started:.1f} s: http://{host}:{port}{PATH}", highlight=False)
    uvicorn.run("yibao.api.app:from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False)


def _print_demo(console, r, insecure: bool) -> None:
    console.print(f"demo region in {r.url}", highlight=False)
    console.print(f"institution {r.fixmedins_code} {r.fixmedins_name} (admdvs {r.admdvs})", highlight=False)
    if insecure:
        console.print("unsigned requests accepted (--insecure)")
    else:
        console.print(f"credential: access key {r.access_key} secret {r.secret}", highlight=False)
    for p in r.persons:
        console.print(f"person {p['psn_no']} certno {p['certno']} {p['name']} insutype {p['insutype']} "
                      f"psn_type {p['psn_type']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    institution = typer.Typer(help="定点医药机构: add one and issue its interface credential.", no_args_is_help=True)

    @institution.command("add")
    def add(code: str = typer.Option(..., "--code", help="定点医药机构编号 (H/P + 11 digits)"),
            name: str = typer.Option(..., "--name"),
            level: str = typer.Option(..., "--level", help="3 / 2 / 1 / 0 (未定级)"),
            admdvs: str = typer.Option(..., "--admdvs"),
            kind: str = typer.Option("hospital", "--kind", help="hospital | primary | pharmacy"),
            db: Optional[str] = typer.Option(None, "--db", help=URL_HELP)) -> None:
        """Add an institution and print its credential (the secret is shown once)."""
        from yibao.api import credentials
        from yibao.api.keys import master_key
        from yibao.ledger.db import ledger_engine
        from yibao.store import db as store_db
        from yibao.store.repositories import Store

        url = db or store_db.default_url()
        store_db.upgrade(url)
        with Store(url).unit() as uow:
            try:
                uow.institutions.get(code)
            except NotFoundError:
                uow.institutions.add({"fixmedins_code": code, "name": name, "kind": kind, "level": level,
                                      "admdvs": admdvs, "beds": None, "agreement_start": dt.date.today(),
                                      "agreement_end": None})
        engine = ledger_engine(url)
        try:
            with engine.begin() as conn:
                key, secret = credentials.issue(conn, code, master_key(url), dt.datetime.now())
        finally:
            engine.dispose()
        typer.echo(f"institution {code} {name}\naccess key {key}\nsecret {secret}")

    app.add_typer(institution, name="institution")
    audit_log = typer.Typer(help="The tamper-evident audit log of accepted messages.", no_args_is_help=True)

    @audit_log.command("verify")
    def verify(db: Optional[str] = typer.Option(None, "--db", help=URL_HELP)) -> None:
        """Check every institution's SM3 chain; exit 1 at the first broken link."""
        from yibao.ledger import audit
        from yibao.ledger.db import ledger_engine
        from yibao.store import db as store_db

        engine = ledger_engine(db or store_db.default_url())
        try:
            with engine.connect() as conn:
                reports = audit.verify(conn)
        finally:
            engine.dispose()
        bad = {k: r for k, r in reports.items() if not r.ok}
        for chain, r in reports.items():
            state = "ok" if r.ok else f"BROKEN at {r.broken_seq} ({r.kind}): {r.reason}"
            typer.echo(f"{chain}: {r.rows_checked} links, {state}")
        if not reports:
            typer.echo("no audit chain yet")
        if bad:
            raise typer.Exit(1)

    app.add_typer(audit_log, name="audit-log")


__all__ = ["register", "serve"]
