"""Undo and recovery: delete what nobody was told about, restore a cancelled session.

A session that no member has heard of (no invitation, no message, no answer, no
attendance, no host confirmation) is a draft: deleting it harms nobody, and it vanishes
from the calendar feeds. Once anyone was told, it can only be cancelled, so that
calendars and people see the change. A whole series is deleted only if this holds for
every one of its sessions. A cancelled session can be restored while its time is still
free and ahead.

The rules are plain functions of plain facts; the service functions below load the
facts, apply the rules and write in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, literal, or_, select, text, union_all
from sqlalchemy.orm import selectinload

from learnnet import signals
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Membership
from learnnet.sessions.models import CANCELLED, PLANNED, Series, Session
from learnnet.timefmt import local_date

# Why a session cannot be deleted, in the order they are shown.
ENDED = "ended"
INVITED = "invited"
HOST_CONFIRMED = "host_confirmed"
MAILED = "mailed"
ANSWERED = "answered"
ATTENDED = "attended"

# Why a cancelled session cannot be restored.
NOT_CANCELLED = "not_cancelled"
OVERLAP = "overlap"
HOST_LEFT = "host_left"


@dataclass(frozen=True)
class SessionFacts:
    """What decides whether a session may still be deleted: has anyone been told?"""

    ends_at: datetime
    invited_at: datetime | None = None
    host_confirmed: bool = False
    messages: int = 0  # outbox messages about it (any kind, any state)
    answers: int = 0  # answers, including withdrawn ones
    attendance: int = 0  # attendance records


def deletion_blockers(facts: SessionFacts, now: datetime) -> tuple[str, ...]:
    """Why the session cannot be deleted; empty when it can.

    An ended session is history. Any sign that a member knows about the session
    (invitation, message, answer, attendance, host confirmation) means it may only be
    cancelled, so that the cancellation reaches them.
    """
    found = []
    if facts.ends_at <= now:
        found.append(ENDED)
    if facts.invited_at is not None:
        found.append(INVITED)
    if facts.host_confirmed:
        found.append(HOST_CONFIRMED)
    if facts.messages:
        found.append(MAILED)
    if facts.answers:
        found.append(ANSWERED)
    if facts.attendance:
        found.append(ATTENDED)
    return tuple(found)


def restore_blocker(
    status: str, ends_at: datetime, now: datetime, overlaps: bool, host_is_member: bool
) -> str | None:
    """Why a session cannot be restored, or None when it can."""
    if status != CANCELLED:
        return NOT_CANCELLED
    if ends_at <= now:
        return ENDED
    if overlaps:
        return OVERLAP
    if not host_is_member:
        return HOST_LEFT
    return None


class RecoveryError(ValueError):
    """A deletion or restore that the rules refuse; ``codes`` say why."""

    def __init__(self, codes: Iterable[str], other: Session | None = None) -> None:
        self.codes = tuple(codes)
        self.other = other  # the session in the way of a restore, if that is why
        super().__init__(", ".join(self.codes))


class SeriesInUse(ValueError):
    """A series some of whose sessions were told about: per session, why."""

    def __init__(self, blocked: list[tuple[Session, tuple[str, ...]]]) -> None:
        self.blocked = blocked
        super().__init__(f"{len(blocked)} sessions block the deletion")


# --- facts ------------------------------------------------------------------------------------


def _counts(models: tuple[object, ...], ids: list[int]) -> list[dict[int, int]]:
    """Per model, its rows per session, in one statement (a UNION ALL of the counts)."""
    parts = [
        select(literal(k).label("k"), column, func.count()).where(column.in_(ids)).group_by(column)
        for k, column in enumerate(m.session_id for m in models)  # type: ignore[attr-defined]
    ]
    found: list[dict[int, int]] = [{} for _ in models]
    for k, session_id, n in db.session.execute(union_all(*parts)):
        found[k][session_id] = n
    return found


def facts_for(sessions: Iterable[Session]) -> dict[int, SessionFacts]:
    """The facts of each session, in one statement whatever their number.

    Answers, attendance and the outbox belong to rooms above this one; they are read
    here (imported at call time, so the import graph stays one-way) because deleting
    a session is only safe when none of them refers to it.
    """
    from learnnet.attendance.models import Attendance
    from learnnet.mail.models import OutboxMessage
    from learnnet.rsvp.models import Rsvp

    sessions = list(sessions)
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    messages, answers, attendance = _counts((OutboxMessage, Rsvp, Attendance), ids)
    return {
        s.id: SessionFacts(
            ends_at=s.ends_at,
            invited_at=s.invited_at,
            host_confirmed=s.host_confirmed_at is not None,
            messages=messages.get(s.id, 0),
            answers=answers.get(s.id, 0),
            attendance=attendance.get(s.id, 0),
        )
        for s in sessions
    }


def session_blockers(session: Session, now: datetime | None = None) -> tuple[str, ...]:
    """Why this session cannot be deleted (empty: it can)."""
    return deletion_blockers(facts_for([session])[session.id], now or utcnow())


def may_delete(session: Session) -> bool:
    """True when the session can be deleted (the session page shows the button then)."""
    return not session_blockers(session)


def series_sessions(series: Series) -> list[Session]:
    """The sessions of a series, in time order, with their hosts (freshly read)."""
    return list(
        db.session.scalars(
            select(Session)
            .where(Session.series_id == series.id)
            .options(selectinload(Session.host))
            .order_by(Session.starts_at)
            .execution_options(populate_existing=True)
        )
    )


def series_blockers(
    sessions: list[Session], now: datetime | None = None
) -> list[tuple[Session, tuple[str, ...]]]:
    """The sessions of a series that cannot be deleted, each with why."""
    now = now or utcnow()
    facts = facts_for(sessions)
    found = [(s, deletion_blockers(facts[s.id], now)) for s in sessions]
    return [(s, codes) for s, codes in found if codes]


@dataclass(frozen=True)
class SeriesSummary:
    """One series as the timeline shows it: how many sessions, from when to when."""

    series_id: int
    count: int
    first: date  # local days
    last: date
    deletable: bool


def series_summaries(
    sessions: Iterable[Session], now: datetime | None = None
) -> list[SeriesSummary]:
    """The series that the given sessions belong to, with all their sessions counted."""
    series_ids = sorted({s.series_id for s in sessions if s.series_id is not None})
    if not series_ids:
        return []
    now = now or utcnow()
    members = list(
        db.session.scalars(
            select(Session).where(Session.series_id.in_(series_ids)).order_by(Session.starts_at)
        )
    )
    facts = facts_for(members)
    grouped: dict[int, list[Session]] = defaultdict(list)
    for s in members:
        grouped[s.series_id].append(s)  # type: ignore[index]
    return [
        SeriesSummary(
            series_id=sid,
            count=len(group),
            first=local_date(group[0].starts_at, group[0].network.timezone),
            last=local_date(group[-1].starts_at, group[-1].network.timezone),
            deletable=not any(deletion_blockers(facts[s.id], now) for s in group),
        )
        for sid, group in grouped.items()
    ]


# --- changes ----------------------------------------------------------------------------------


def _lock(ids: list[int]) -> None:
    """Take the sessions' row locks first: an answer or invitation waits, then finds none.

    Answers lock their session the same way (``rsvp.services.lock_session``), so the
    facts read after this cannot change before the commit.
    """
    if not ids:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has no FOR UPDATE; a first write takes the database's write lock.
        statement = text("UPDATE network_session SET id = id WHERE id IN :ids")
        db.session.execute(statement.bindparams(bindparam("ids", expanding=True)), {"ids": ids})
    else:
        db.session.execute(select(Session.id).where(Session.id.in_(ids)).with_for_update())


def delete_session(session: Session, now: datetime | None = None) -> None:
    """Delete a session nobody was told about (commits); RecoveryError otherwise.

    The feeds drop it at once (the flush moves the network's feed stamp); no message is
    sent, as nobody knew of it.
    """
    _lock([session.id])
    db.session.refresh(session)
    codes = session_blockers(session, now)
    if codes:
        db.session.rollback()
        raise RecoveryError(codes)
    db.session.delete(session)
    db.session.commit()


def delete_series(series: Series, now: datetime | None = None) -> int:
    """Delete a series and all its sessions, or nothing (commits); returns how many.

    Refused with SeriesInUse, naming each session that blocks, when any of them was
    told about or has ended.
    """
    _lock(list(db.session.scalars(select(Session.id).where(Session.series_id == series.id))))
    sessions = series_sessions(series)
    blocked = series_blockers(sessions, now)
    if blocked:
        db.session.rollback()
        raise SeriesInUse(blocked)
    for s in sessions:
        db.session.delete(s)
    db.session.delete(series)
    db.session.commit()
    return len(sessions)


def _overlapping(session: Session) -> Session | None:
    """Another session of the network, not cancelled, at a time that overlaps this one."""
    return db.session.scalar(
        select(Session)
        .where(
            Session.network_id == session.network_id,
            Session.id != session.id,
            Session.status != CANCELLED,
            Session.starts_at < session.ends_at,
            Session.ends_at > session.starts_at,
        )
        .order_by(Session.starts_at)
        .limit(1)
    )


def _host_is_member(session: Session) -> bool:
    day: date = local_date(session.starts_at, session.network.timezone)
    return (
        db.session.scalar(
            select(Membership.id)
            .where(
                Membership.network_id == session.network_id,
                Membership.facility_id == session.host_facility_id,
                Membership.joined_on <= day,
                or_(Membership.left_on.is_(None), Membership.left_on >= day),
            )
            .limit(1)
        )
        is not None
    )


def restore_check(
    session: Session, now: datetime | None = None
) -> tuple[str | None, Session | None]:
    """Why the session cannot be restored (or None), and the session in the way if any."""
    other = _overlapping(session)
    code = restore_blocker(
        session.status,
        session.ends_at,
        now or utcnow(),
        other is not None,
        _host_is_member(session),
    )
    return code, other if code == OVERLAP else None


def restore_session(session: Session, now: datetime | None = None) -> bool:
    """Un-cancel a session (commits); RecoveryError when the rules refuse.

    The status goes back to planned and the host has to confirm again (they were told
    it was off). The revision rises and the change is announced as a change of time
    (marked "restored", which its message says in its own words):
    calendars get the event again as a REQUEST with a higher SEQUENCE and status
    confirmed, and everyone invited gets a change notice. Returns True when the host's
    confirmation was withdrawn.
    """
    code, other = restore_check(session, now)
    if code is not None:
        raise RecoveryError([code], other)
    was_confirmed = session.host_confirmed_at is not None
    session.status = PLANNED
    session.cancel_reason = ""  # it is not cancelled any more
    session.host_confirmed_at = None
    session.host_confirmed_by_id = None
    session.revision += 1
    # "restored": its own message ("goes ahead after all"), not an ordinary change.
    signals.session_changed.send(session, changes=frozenset({"time", "restored"}))
    db.session.commit()
    return was_confirmed
