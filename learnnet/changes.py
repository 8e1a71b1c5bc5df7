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

Scoped versions (issue 24). One number for everything means one answer in network A
empties the kept pages of network B. So each write transaction also adds one to a
counter per *scope* it touched, in ``scope_version``:

- ``n:<id>`` — a network: the rows of that network (its sessions, their answers and
  attendance, memberships, blackouts, learning content…), and the facilities and
  contacts shown on its pages (a facility counts for every network it is, was or is
  asked to be a member of, or hosts for);
- ``f:<id>`` and ``c:<id>`` — a facility and a contact: what a member's own page shows;
- ``shared`` — everything that cannot be placed (users, deleted networks, facilities
  and contacts, textual and bulk INSERT statements, tables without a rule).

Each of these (not ``shared``) has a settled twin (``ns:<id>``, ``fs:<id>``, ``cs:<id>``,
see :func:`settled`) that moves with every write to it except members' answers.

The scopes are derived from the rows written, in the ORM's flush events and for bulk
UPDATE/DELETE from the rows they hit (:func:`scopes_of_row`): a write path cannot forget
to name its scope, and a table nobody thought about counts as ``shared`` (kept pages go
more often, never stale). A page that reads only some networks keys on ``shared`` and
those scopes (:func:`versions`); other pages on the one number, as before.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from typing import Any

from flask import g, has_request_context
from sqlalchemy import BigInteger, Integer, String, bindparam, event, inspect, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, ORMExecuteState, mapped_column
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import TextClause

from learnnet.extensions import db

_DIRTY = "data_version_dirty"
_NEEDS = "data_version_scopes"
_ANSWER_NEEDS = "data_version_answer_scopes"
SHARED = "shared"
# Members' answers: the most frequent write by far. Their rows move a scope but not its
# settled twin (see :func:`settled`).
ANSWER_TABLES = frozenset({"rsvp", "rsvp_change"})


class DataVersion(db.Model):  # type: ignore[name-defined]
    """The single row (id 1) counting committed write transactions."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ScopeVersion(db.Model):  # type: ignore[name-defined]
    """One counter per scope (``n:<network id>``, ``f:<facility id>``, ``c:<contact id>``,
    ``shared``) counting the committed write transactions that touched it."""

    __tablename__ = "scope_version"

    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def network_scope(network_id: int) -> str:
    return f"n:{network_id}"


def facility_scope(facility_id: int) -> str:
    return f"f:{facility_id}"


def contact_scope(contact_id: int) -> str:
    return f"c:{contact_id}"


def settled(scope: str) -> str:
    """The twin of a network, facility or contact scope that every write moves except
    members' answers (``n:4`` → ``ns:4``; ``shared`` is its own twin).

    Answers come in bursts in the weeks before a session, and each one moves its
    network's scope, so every page of that network is rendered anew. Most of what those
    pages compute does not read an answer (the bridges that weaken, host conflicts, the
    hosting tally, the member list): :mod:`learnnet.sections` keeps such parts under the
    settled twins, which an answer leaves alone."""
    if scope == SHARED:
        return SHARED
    kind, _, ident = scope.partition(":")
    return f"{kind}s:{ident}"


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


Versions = tuple[tuple[str, int], ...]


def versions(scopes: Iterable[str], session: OrmSession | None = None) -> Versions:
    """The counters of ``scopes`` and of ``shared`` as this connection sees them now (one
    indexed read), as a hashable key part; a scope never written counts 0."""
    wanted = sorted({SHARED, *scopes})
    table = ScopeVersion.__table__
    session = session or db.session
    found = dict(
        session.execute(
            select(table.c.scope, table.c.counter).where(table.c.scope.in_(wanted))
        ).all()
    )
    return tuple((scope, found.get(scope, 0)) for scope in wanted)


def facility_networks(facility_ids: Iterable[int], connection: Any = None) -> set[int]:
    """The networks a facility's rows show up in: memberships (current, former), requests
    to join, and networks it hosts a session for."""
    ids = list(set(facility_ids))
    if not ids:
        return set()
    tables = db.metadata.tables
    parts = [
        select(tables[name].c.network_id).where(tables[name].c[column].in_(ids))
        for name, column in (
            ("membership", "facility_id"),
            ("membership_request", "facility_id"),
            ("network_session", "host_facility_id"),
        )
        if name in tables
    ]
    run = connection.execute if connection is not None else db.session.execute
    return {row[0] for row in run(union(*parts))}


# --- which scopes a written row touches --------------------------------------------------------

# Tables no scoped page reads (a test checks): their writes count only in the one number.
UNSCOPED_TABLES = frozenset(
    {
        "data_version",
        "scope_version",
        "feed_stamp",
        "api_token",
        "api_token_network",
        "webhook_endpoint",
        "webhook_delivery",
        "outbox_attachment",
    }
)
# Rows written only with the row they describe, in the same transaction (the audit
# trail's listener and its bulk twin): that row's scopes are theirs.
FOLLOWING_TABLES = frozenset({"audit_event"})
# Columns no page shows: a change to only these touches no scope.
UNSHOWN_COLUMNS = {"user_account": frozenset({"last_login_at", "password_hash", "auth_token"})}
# Rows placed through their parent row: (column, parent table).
VIA_PARENT = {
    "rsvp_change": ("rsvp_id", "rsvp"),
    "attendance_change": ("attendance_id", "attendance"),
    "learning_goal": ("theme_id", "werkjaar_theme"),
}
_SCOPE_COLUMNS = frozenset({"network_id", "session_id", "facility_id", "contact_id"})
_VIA_COLUMNS = frozenset(column for column, _parent in VIA_PARENT.values())

# A need: ("scope", text) is final; ("session", id), ("facility", id, with_networks),
# ("contact", id, with_networks) and ("row", table, ((column, value), ...)) are
# resolved at commit, with a few indexed reads.
Need = tuple[Any, ...]


def _is_scope_column(name: str) -> bool:
    return (
        name in _SCOPE_COLUMNS
        or name in _VIA_COLUMNS
        or name.endswith("_facility_id")
        or name.endswith("_contact_id")
    )


def scopes_of_row(table: str, values: dict[str, Any], deleted: bool = False) -> set[Need]:
    """What a written row of ``table`` touches, from its column values (a pure rule).

    A network's, facility's or contact's own row is its scope (its deletion: ``shared``,
    the pages listing it cannot be told); another row belongs to its network (its
    ``network_id``, or its session's network), and to the facility and contact it
    names (when it names no network: to their networks too); a row with none of these,
    or of a table without a rule, is ``shared``.
    """
    if table in UNSCOPED_TABLES or table in FOLLOWING_TABLES:
        return set()
    ident = values.get("id")
    if table in ("network", "facility", "contact"):
        if deleted or ident is None:
            return {("scope", SHARED)}
        if table == "network":
            return {("scope", network_scope(ident))}
        if table == "facility":
            return {("facility", ident, True)}
        return {("contact", ident, False), ("facility", values.get("facility_id"), True)}
    if table in VIA_PARENT:
        column, parent = VIA_PARENT[table]
        if values.get(column) is None:
            return {("scope", SHARED)}
        return {("row", parent, (("id", values[column]),))}
    needs: set[Need] = set()
    placed = False
    if values.get("network_id") is not None:
        needs.add(("scope", network_scope(values["network_id"])))
        placed = True
    if values.get("session_id") is not None:
        needs.add(("session", values["session_id"]))
        placed = True
    facilities = [
        v for k, v in values.items() if (k == "facility_id" or k.endswith("_facility_id")) and v
    ]
    contacts = [
        v for k, v in values.items() if (k == "contact_id" or k.endswith("_contact_id")) and v
    ]
    needs |= {("facility", f, not placed) for f in facilities}
    needs |= {("contact", c, not placed and not facilities) for c in contacts}
    if not needs:
        needs.add(("scope", SHARED))
    return needs


def _row_needs(obj: Any, deleted: bool, new: bool = False) -> set[Need]:
    """The needs of one ORM object in a flush: its current and, when changed, its former
    scope columns (a row moved from one session to another touches both)."""
    state = inspect(obj)
    mapper = state.mapper
    name = getattr(mapper.local_table, "name", "")
    if name in UNSCOPED_TABLES or name in FOLLOWING_TABLES:
        return set()
    if not deleted and state.persistent and name in UNSHOWN_COLUMNS:
        changed = {
            prop.columns[0].name
            for prop in mapper.column_attrs
            if state.attrs[prop.key].history.has_changes()
        }
        if changed and changed <= UNSHOWN_COLUMNS[name]:
            return set()
    if not deleted:
        for rel in mapper.relationships:  # a link table written through a collection
            if rel.secondary is not None and state.attrs[rel.key].history.has_changes():
                return {("scope", SHARED)}
    now: dict[str, Any] = {}
    before: dict[str, Any] = {}
    missing = False
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.name != "id" and not _is_scope_column(column.name):
            continue
        if prop.key not in state.dict:
            if new:  # never set: NULL, or a server default that is no scope of its own
                now[column.name] = None
                continue
            missing = True  # expired, not loaded
            continue
        now[column.name] = state.dict[prop.key]
        history = state.attrs[prop.key].history
        if history.deleted and history.deleted[0] is not None:
            before[column.name] = history.deleted[0]
    needs: set[Need] = set()
    if missing:  # read the row at commit (or, when it is gone, count it as shared)
        if deleted or state.identity is None:
            return {("scope", SHARED)}
        keys = tuple(zip((c.name for c in mapper.primary_key), state.identity, strict=True))
        needs.add(("row", name, keys))
    else:
        needs |= scopes_of_row(name, now, deleted)
    if before:
        needs |= scopes_of_row(name, {**now, **before}, deleted)
    return needs


def _resolve(connection: Any, needs: set[Need]) -> set[str]:
    """The scopes of the needs collected in a transaction (a few indexed reads)."""
    tables = db.metadata.tables
    pending = [n for n in needs if n[0] == "row"]
    needs = {n for n in needs if n[0] != "row"}
    seen: set[Need] = set()
    while pending:
        need = pending.pop()
        if need in seen:
            continue
        seen.add(need)
        _kind, name, keys = need
        table = tables[name]
        row = (
            connection.execute(select(table).where(*(table.c[k] == v for k, v in keys)))
            .mappings()
            .first()
        )
        if row is None:
            needs.add(("scope", SHARED))
            continue
        for found in scopes_of_row(name, dict(row)):
            (pending.append if found[0] == "row" else needs.add)(found)  # type: ignore[operator]
    scopes = {n[1] for n in needs if n[0] == "scope"}
    sessions = {n[1] for n in needs if n[0] == "session"}
    facilities: dict[Any, bool] = {}
    for n in needs:
        if n[0] == "facility":
            facilities[n[1]] = facilities.get(n[1], False) or n[2]
    if sessions:
        table = tables["network_session"]
        rows = connection.execute(
            select(table.c.id, table.c.network_id, table.c.host_facility_id).where(
                table.c.id.in_(sessions)
            )
        ).all()
        if len(rows) < len(sessions):
            scopes.add(SHARED)
        for _id, network_id, host_id in rows:
            scopes.add(network_scope(network_id))
            facilities.setdefault(host_id, False)
    contacts = [n for n in needs if n[0] == "contact"]
    if contacts:
        scopes |= {contact_scope(n[1]) for n in contacts}
        placed = {n[1] for n in contacts if n[2]}
        if placed:
            table = tables["contact"]
            rows = connection.execute(
                select(table.c.id, table.c.facility_id).where(table.c.id.in_(placed))
            ).all()
            if len(rows) < len(placed):
                scopes.add(SHARED)
            for _id, facility_id in rows:
                facilities[facility_id] = True
    if None in facilities:
        scopes.add(SHARED)
        facilities.pop(None)
    scopes |= {facility_scope(f) for f in facilities}
    with_networks = [f for f, wanted in facilities.items() if wanted]
    scopes |= {network_scope(n) for n in facility_networks(with_networks, connection)}
    return scopes


def _table_of(obj: Any) -> str:
    return getattr(inspect(obj).mapper.local_table, "name", "")


def _needs_for(session: OrmSession, obj: Any = None, table: str = "") -> set[Need]:
    """Where a written row's needs go: an answer's apart (they move no settled twin)."""
    table = table or (_table_of(obj) if obj is not None else "")
    key = _ANSWER_NEEDS if table in ANSWER_TABLES else _NEEDS
    return session.info.setdefault(key, set())


def _after_flush(session: OrmSession, flush_context: Any) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_DIRTY] = True
        for obj in session.new:
            _needs_for(session, obj).update(_row_needs(obj, False, new=True))
        for obj in session.dirty:
            if session.is_modified(obj):
                _needs_for(session, obj).update(_row_needs(obj, False))
        for obj in session.deleted:
            _needs_for(session, obj).update(_row_needs(obj, True))


_DML = frozenset({"INSERT", "UPDATE", "DELETE", "TRUNCATE", "MERGE", "REPLACE"})


def _writes(statement: Any) -> bool:
    """A textual statement that changes rows (not a read, and not DDL: after a DROP
    TABLE there may be no row to count in)."""
    if isinstance(statement, TextClause):
        first = statement.text.lstrip().split(None, 1)[:1]
        return bool(first) and first[0].upper() in _DML
    return False


def _do_orm_execute(state: ORMExecuteState) -> None:
    if state.execution_options.get("changes_nothing"):
        return  # e.g. a lock taken by writing a row as it is
    writes = state.is_insert or state.is_update or state.is_delete or _writes(state.statement)
    if writes:
        state.session.info[_DIRTY] = True
        table = getattr(getattr(state.statement, "table", None), "name", "")
        needs = _needs_for(state.session, table=str(table or ""))
        try:
            needs |= _bulk_needs(state)
        except Exception:  # a statement the rules cannot read: it touches everything
            needs.add(("scope", SHARED))


def _bulk_needs(state: ORMExecuteState) -> set[Need]:
    """A bulk UPDATE or DELETE touches the scopes of the rows it hits (read before it
    runs), an INSERT those of the rows it writes; an UPDATE of a scope column, a statement
    without parameters to read and a textual statement: ``shared``."""
    statement = state.statement
    table = getattr(statement, "table", None)
    name = getattr(table, "name", "")
    if name in UNSCOPED_TABLES or name in FOLLOWING_TABLES:
        return set()
    if not name or not (state.is_insert or state.is_update or state.is_delete):
        return {("scope", SHARED)}
    if state.is_insert:
        rows = state.parameters
        rows = [rows] if isinstance(rows, dict) else rows
        if not rows or statement._values or getattr(statement, "select", None) is not None:
            return {("scope", SHARED)}
        needs: set[Need] = set()
        for row in rows:
            needs |= scopes_of_row(name, {str(k): v for k, v in row.items()})
        return needs
    if state.is_update:
        columns = {getattr(k, "name", getattr(k, "key", k)) for k in statement._values or {}}
        if not columns:
            return {("scope", SHARED)}
        if name in UNSHOWN_COLUMNS and columns <= UNSHOWN_COLUMNS[name]:
            return set()
        if any(_is_scope_column(c) or c == "id" for c in columns):
            return {("scope", SHARED)}
    scope_columns = [c for c in table.columns if c.name == "id" or _is_scope_column(c.name)]
    if not scope_columns:
        return {("scope", SHARED)}
    query = select(*scope_columns)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    needs = set()
    for row in state.session.connection().execute(query).mappings():
        needs |= scopes_of_row(name, dict(row), deleted=state.is_delete)
    return needs


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


def _scope_bump_statement(dialect: str) -> Any:
    """counter + 1 for one scope, or its row starting at the clock (see above)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ScopeVersion.__table__
    statement = insert(table).values(scope=bindparam("scope"), counter=bindparam("start"))
    return statement.on_conflict_do_update(
        index_elements=[table.c.scope], set_={"counter": table.c.counter + 1}
    )


_SCOPE_BUMP = {name: _scope_bump_statement(name) for name in ("postgresql", "sqlite")}


def _before_commit(session: OrmSession) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit flushes after this hook: count those changes now
    if session.info.pop(_DIRTY, False):
        # Core on the session's own connection: not an ORM statement, so it does not
        # mark the session again. The scopes first, in order, then the one number: two
        # writers take their locks in the same order.
        connection = session.connection()
        start = time.time_ns() // 1000
        scopes = _resolve(connection, session.info.pop(_NEEDS, set()))
        scopes |= {settled(s) for s in scopes}
        scopes |= _resolve(connection, session.info.pop(_ANSWER_NEEDS, set()))
        if scopes:
            connection.execute(
                _SCOPE_BUMP[connection.dialect.name],
                [{"scope": scope, "start": start} for scope in sorted(scopes)],
            )
        connection.execute(_BUMP[connection.dialect.name], {"start": start})


def writing(session: OrmSession | None = None) -> bool:
    """Whether this session's transaction has written anything not committed yet."""
    session = session or db.session()
    return bool(session.new or session.dirty or session.deleted or session.info.get(_DIRTY))


def _forget(session: OrmSession, *args: Any) -> None:
    session.info.pop(_DIRTY, None)
    session.info.pop(_NEEDS, None)
    session.info.pop(_ANSWER_NEEDS, None)


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
    if writing(session):
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
