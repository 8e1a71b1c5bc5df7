"""One number that moves whenever the data changes: the cheap "last change" value.

Every transaction that writes anything — through the ORM's unit of work, an ORM bulk
statement or a textual UPDATE/INSERT/DELETE — also adds one to the single row of
``data_version``, last, in the same transaction. So the number becomes visible to other
connections at the same moment as the change itself, on every app server at once, and
something kept under an older number (a rendered page, see :mod:`learnnet.pagecache`)
is known to be out of date by reading one integer.

Read the number *before* reading the data a page shows: a change committed in between
then shows up under the older number (harmless: the next request sees the newer one),
never the other way round.

The row is updated last in each transaction, after the feed stamps' and every other
row, so two writers always take their locks in the same order: no deadlocks.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from flask import g, has_request_context
from sqlalchemy import BigInteger, Integer, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, ORMExecuteState, mapped_column
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import TextClause

from learnnet.extensions import db

_DIRTY = "data_version_dirty"


class DataVersion(db.Model):  # type: ignore[name-defined]
    """The single row (id 1) counting committed write transactions."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def current(session: OrmSession | None = None) -> int:
    """The number as this connection sees it now (one indexed read).

    Within a request, the number read with the request's first statement (the user's
    or the personal link's, see :func:`column`) when there was one.
    """
    if session is None and has_request_context() and "data_version" in g:
        return g.data_version
    session = session or db.session
    return session.execute(select(DataVersion.counter).where(DataVersion.id == 1)).scalar() or 0


def column() -> Any:
    """The number as a column, to read it in the same statement as the request's user or
    personal link (so a kept page costs one statement fewer); pass it to :func:`note`."""
    return select(DataVersion.counter).where(DataVersion.id == 1).scalar_subquery()


def note(value: int | None) -> None:
    """Remember the number read by a statement with :func:`column`, for this request."""
    if has_request_context():
        g.data_version = value or 0


def _after_flush(session: OrmSession, flush_context: Any) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_DIRTY] = True


_DML = frozenset({"INSERT", "UPDATE", "DELETE", "TRUNCATE", "MERGE", "REPLACE"})


def _writes(statement: Any) -> bool:
    """A textual statement that changes rows (not a read, and not DDL: after a DROP
    TABLE there may be no row to count in)."""
    if isinstance(statement, TextClause):
        first = statement.text.lstrip().split(None, 1)[:1]
        return bool(first) and first[0].upper() in _DML
    return False


def _do_orm_execute(state: ORMExecuteState) -> None:
    writes = state.is_insert or state.is_update or state.is_delete or _writes(state.statement)
    if writes:
        state.session.info[_DIRTY] = True


def _bump_statement(dialect: str) -> Any:
    """counter + 1, or the row itself when it is missing (a new, emptied or recreated
    database, e.g. ``flask demo --reset``). A new row starts at the clock in microseconds,
    above any number the old row reached (it grew by one per write): a page kept under an
    old number is never taken for a page of the new data."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DataVersion.__table__).values(id=1, counter=bindparam("start"))
    return statement.on_conflict_do_update(
        index_elements=[DataVersion.__table__.c.id],
        set_={"counter": DataVersion.__table__.c.counter + 1},
    )


_BUMP = {name: _bump_statement(name) for name in ("postgresql", "sqlite")}


def _before_commit(session: OrmSession) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit flushes after this hook: count those changes now
    if session.info.pop(_DIRTY, False):
        # Core on the session's own connection: not an ORM statement, so it does not
        # mark the session again.
        connection = session.connection()
        connection.execute(_BUMP[connection.dialect.name], {"start": time.time_ns() // 1000})


def _forget(session: OrmSession, *args: Any) -> None:
    session.info.pop(_DIRTY, None)


def end_read_only(exc: BaseException | None) -> None:
    """teardown: end a request's transaction that wrote nothing with COMMIT, not ROLLBACK.

    The two mean the same for a transaction without writes, but psycopg forgets its
    prepared statements on every rollback (a rollback may undo DDL): each request would
    plan its statements anew on PostgreSQL (a feed's revalidation: 0.27 instead of 0.09
    ms for its one statement). Anything written and not committed is still rolled back.
    """
    if exc is not None or not db.session.registry.has():
        return
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get(_DIRTY):
        return
    if session.in_transaction():
        try:
            session.commit()
        except Exception:  # nothing was written: a failed COMMIT loses nothing
            with contextlib.suppress(Exception):
                session.rollback()  # the connection may be gone: remove() cleans up


def register() -> None:
    """Listen on every ORM session (once per process), after the other commit hooks."""
    if event.contains(OrmSession, "after_flush", _after_flush):
        return
    event.listen(OrmSession, "after_flush", _after_flush)
    event.listen(OrmSession, "do_orm_execute", _do_orm_execute)
    event.listen(OrmSession, "before_commit", _before_commit)
    event.listen(OrmSession, "after_commit", _forget)
    event.listen(OrmSession, "after_soft_rollback", _forget)
