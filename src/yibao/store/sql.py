"""Statements of the service's hot path, compiled once and run on the driver's own cursor.

SQLAlchemy's per-execute work (the compiled cache lookup, the execution context, the result proxy)
cost more CPU than the database itself on a one-row statement. A :class:`Prepared` wraps a Core
statement, compiles it once per dialect and set of parameter names, and runs it on the DBAPI cursor of
the SQLAlchemy connection — inside the connection's transaction, with SQLAlchemy's own type
processing on both sides (a SQLite ``DateTime`` is stored and read in SQLAlchemy's format) and its
exception classes (a duplicate key is still ``sqlalchemy.exc.IntegrityError``).

:func:`run_all` sends several statements in one round trip on PostgreSQL (psycopg's pipeline mode);
on SQLite, in process, they simply run one after another. On an engine made ready by :func:`hook`,
:func:`defer` holds a write back until the transaction's next statement or its commit and sends it
with that one: a settlement's writes, its message and its audit link cost two round trips, the
commit included. A deferred write still runs before anything after it (SQLAlchemy's own statements
included), and a write whose row count is checked is checked before the commit is sent. The
``BEGIN`` is deferred the same way (the driver connection is in autocommit mode and the hook sends
``BEGIN`` and ``COMMIT`` itself), so it goes with the transaction's first statement; code that works
on the driver connection directly must first run a statement through SQLAlchemy or :func:`run`.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import sqlalchemy as sa


@dataclass(frozen=True)
class _Form:
    """One statement as one dialect's driver takes it."""

    sql: str
    positional: tuple[str, ...] | None  # parameter order for a positional paramstyle (SQLite's ``?``)
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters the dialect converts on the way in
    fixed: tuple[tuple[str, Any], ...]  # values the statement itself binds (the 1 of ``seq + 1``)
    keys: tuple[str, ...]  # result columns
    types: tuple[Any, ...]  # their types as the dialect implements them
    readers: dict = field(default_factory=dict)  # the driver's column type codes → converters

    def converters(self, dialect: sa.Dialect, codes: tuple) -> list[tuple[int, Callable[[Any], Any]]]:
        """(column, converter) of the columns the dialect converts, for the type codes the driver gave."""
        found = self.readers.get(codes)
        if found is None:
            procs = (t.result_processor(dialect, code) for t, code in zip(self.types, codes))
            found = self.readers.setdefault(codes, [(i, p) for i, p in enumerate(procs) if p is not None])
        return found


class Prepared:
    """A Core statement compiled once per dialect and parameter names."""

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        self._forms: dict[tuple[str, tuple[str, ...]], _Form] = {}
        self._lock = threading.Lock()

    def form(self, dialect: sa.Dialect, keys: Iterable[str]) -> _Form:
        key = (dialect.name, tuple(sorted(keys)))
        found = self._forms.get(key)
        if found is None:
            with self._lock:
                found = self._forms.setdefault(key, self._compile(dialect, key[1]))
        return found

    def _compile(self, dialect: sa.Dialect, keys: tuple[str, ...]) -> _Form:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        binds = []
        fixed = tuple((name, b.value) for name, b in compiled.binds.items() if not b.required and b.callable is None)
        for name, bind in compiled.binds.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                binds.append((name, proc))
        selected = getattr(self.statement, "selected_columns", None)
        if selected is None or not len(selected):
            selected = getattr(self.statement, "exported_columns", ())
        positional = tuple(compiled.positiontup) if compiled.positional else None
        return _Form(compiled.string, positional, tuple(binds), fixed, tuple(c.key for c in selected),
                     tuple(c.type.dialect_impl(dialect) for c in selected))


@dataclass
class Result:
    """Rows as dicts keyed by column, and the driver's rowcount."""

    rows: list[dict[str, Any]]
    rowcount: int

    def first(self) -> dict[str, Any] | None:
        return self.rows[0] if self.rows else None


@dataclass(frozen=True)
class _Write:
    """A deferred write: its statement and parameters (a list for many rows), and the row count it
    must reach, else ``error`` is raised."""

    form: _Form
    params: Any
    many: bool
    expect: int | None
    error: Exception | None


_QUEUE = "yibao.sql.deferred"
_HOOKED: "weakref.WeakSet[sa.Engine]" = weakref.WeakSet()


def hook(engine: sa.Engine) -> sa.Engine:
    """Let :func:`defer` hold writes back on this engine's connections, the ``BEGIN`` too on those
    it opens from now on (PostgreSQL; on SQLite a deferred write runs at once)."""
    if engine.dialect.name != "postgresql" or engine in _HOOKED:
        return engine
    _HOOKED.add(engine)
    sa.event.listen(engine, "connect", _own_begin)
    sa.event.listen(engine, "begin", _defer_begin)
    sa.event.listen(engine, "before_cursor_execute", lambda conn, *_: _flush(conn))
    sa.event.listen(engine, "commit", lambda conn: _flush(conn, commit=True))
    sa.event.listen(engine, "rollback", lambda conn: conn.info.pop(_QUEUE, None))
    sa.event.listen(engine.pool, "reset", _forget)
    return engine


def _forget(dbapi_connection, connection_record, reset_state) -> None:  # noqa: ANN001 - the pool's names
    """A connection back in the pool keeps no write of the transaction it left."""
    connection_record.info.pop(_QUEUE, None)


_BEGIN = "BEGIN"


def _own_begin(dbapi_conn, record) -> None:  # noqa: ANN001
    """The driver sends no BEGIN of its own on this connection: :func:`_defer_begin` queues it."""
    dbapi_conn.autocommit = True
    record.info["yibao.sql.own_begin"] = True


def _defer_begin(conn: sa.Connection) -> None:
    if conn.info.get("yibao.sql.own_begin"):
        conn.info[_QUEUE] = [_Write(_Form(_BEGIN, None, (), (), (), ()), None, False, None, None)]


def defer(conn: sa.Connection, stmt: Prepared, values: dict[str, Any] | Sequence[dict[str, Any]], *,
          expect: int | None = None, error: Exception | None = None) -> None:
    """Write ``values`` (one row, or a list of rows) with the transaction's next statement; when
    ``expect`` is given, the write must touch that many rows, else ``error`` is raised."""
    many = not isinstance(values, dict)
    if conn.engine not in _HOOKED:
        count = _now(conn, stmt, values, many)
        _check(count, expect, error)
        return
    if many:
        if not values:
            return
        sent = [_params(conn, stmt, v) for v in values]
        write = _Write(sent[0][0], [p for _, p in sent], True, expect, error)
    else:
        form, params = _params(conn, stmt, values)
        write = _Write(form, params, False, expect, error)
    conn.info.setdefault(_QUEUE, []).append(write)


def _now(conn: sa.Connection, stmt: Prepared, values: Any, many: bool) -> int:
    if not many:
        return run(conn, stmt, values).rowcount
    run_many(conn, stmt, values)
    return -1


def _check(count: int, expect: int | None, error: Exception | None) -> None:
    if expect is not None and count != expect:
        raise error or RuntimeError(f"{count} rows written, {expect} expected")


def _flush(conn: sa.Connection, commit: bool = False) -> None:
    """Send the deferred writes (and the commit, when asked and no write is checked) in one round trip."""
    queued = conn.info.pop(_QUEUE, None)
    if not queued or (commit and len(queued) == 1 and queued[0].form.sql == _BEGIN):
        return  # nothing was sent: nothing to commit
    _send(conn, queued, [], commit and all(w.expect is None for w in queued))


def _send(conn: sa.Connection, queued: list[_Write], reads: Sequence[tuple[_Form, Any]], commit: bool) -> list[Result]:
    """The deferred writes, then ``reads`` (or the ``COMMIT``), in one pipeline; the writes' row counts
    checked; the reads' results."""
    driver = conn.connection.dbapi_connection
    cursors = [driver.cursor() for _ in range(len(queued) + max(len(reads), 1))]
    try:
        with driver.pipeline():
            for cursor, w in zip(cursors, queued):
                (cursor.executemany if w.many else cursor.execute)(w.form.sql, w.params)
            for cursor, (form, params) in zip(cursors[len(queued):], reads):
                cursor.execute(form.sql, params)
            if commit:  # the driver's commit() would not see a BEGIN still in the pipeline
                cursors[-1].execute("COMMIT")
        for cursor, w in zip(cursors, queued):
            _check(cursor.rowcount, w.expect, w.error)
        return [Result(_rows(conn, form, c), c.rowcount) for c, (form, _) in zip(cursors[len(queued):], reads)]
    except conn.dialect.loaded_dbapi.Error as e:  # the pipeline says which statement only in the text
        every = [w.form.sql for w in queued] + [form.sql for form, _ in reads]
        raise _driver_error(conn, _Form("; ".join(every), None, (), (), (), ()), None, e) from e
    finally:
        for cursor in cursors:
            cursor.close()


def _params(conn: sa.Connection, stmt: Prepared, values: dict[str, Any]) -> tuple[_Form, Any]:
    form = stmt.form(conn.dialect, values)
    params = dict(form.fixed)
    params.update(values)
    for name, proc in form.binds:
        if name in params:
            params[name] = proc(params[name])
    if form.positional is not None:
        return form, tuple(params[n] for n in form.positional)
    return form, params


def _type_codes(cursor) -> tuple | None:
    """The result's column type codes, None for a statement that returns no rows. psycopg builds a
    new ``description`` (a Column object per column) on every access: its result is read directly."""
    result = getattr(cursor, "pgresult", None)
    if result is not None:
        return tuple(result.ftype(i) for i in range(result.nfields)) if result.nfields else None
    description = cursor.description
    return None if description is None else tuple(d[1] for d in description)


def _rows(conn: sa.Connection, form: _Form, cursor) -> list[dict[str, Any]]:
    codes = _type_codes(cursor)
    if codes is None:
        return []
    keys = form.keys
    procs = form.converters(conn.dialect, codes)
    out = []
    for raw in cursor.fetchall():
        row = list(raw)
        for i, p in procs:
            row[i] = p(row[i])
        out.append(dict(zip(keys, row)))
    return out


def _driver_error(conn: sa.Connection, form: _Form, params: Any, e: Exception, cursor=None) -> Exception:
    """The DBAPI error as SQLAlchemy would raise it; a lost connection is taken out of the pool."""
    dbapi = conn.dialect.loaded_dbapi
    if conn.dialect.is_disconnect(e, conn.connection.dbapi_connection, cursor):
        conn.invalidate(e)
    return sa.exc.DBAPIError.instance(form.sql, params, e, dbapi.Error, dialect=conn.dialect)


def run(conn: sa.Connection, stmt: Prepared, values: dict[str, Any] | None = None) -> Result:
    """Run one statement in the connection's transaction (after the deferred writes)."""
    form, params = _params(conn, stmt, values or {})
    if conn.info.get(_QUEUE):
        return _send(conn, conn.info.pop(_QUEUE), [(form, params)], False)[0]
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(form.sql, params)
        return Result(_rows(conn, form, cursor), cursor.rowcount)
    except conn.dialect.loaded_dbapi.Error as e:
        raise _driver_error(conn, form, params, e, cursor) from e
    finally:
        cursor.close()


def run_many(conn: sa.Connection, stmt: Prepared, rows: Sequence[dict[str, Any]]) -> None:
    """One statement for many parameter rows (psycopg sends them in one pipeline)."""
    if not rows:
        return
    _flush(conn)
    prepared = [_params(conn, stmt, r) for r in rows]
    form = prepared[0][0]
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(form.sql, [p for _, p in prepared])
    except conn.dialect.loaded_dbapi.Error as e:
        raise _driver_error(conn, form, prepared[0][1], e, cursor) from e
    finally:
        cursor.close()


def run_all(conn: sa.Connection, batch: Sequence[tuple[Prepared, dict[str, Any]]]) -> list[Result]:
    """Several statements, in order, in one round trip on PostgreSQL (with the deferred writes); each
    one's result."""
    if conn.dialect.name != "postgresql":
        return [run(conn, stmt, values) for stmt, values in batch]
    queued = conn.info.pop(_QUEUE, None) or []
    return _send(conn, queued, [_params(conn, stmt, values) for stmt, values in batch], False)


__all__ = ["Prepared", "Result", "defer", "hook", "run", "run_all", "run_many"]
