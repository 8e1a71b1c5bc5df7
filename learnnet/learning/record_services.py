"""Loads a facility's yearly record (*jaaroverzicht*) in one network.

Reads only, in a fixed number of statements whatever the number of sessions or people:
the rows go to :func:`learnnet.learning.record.year_record`, which decides what counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select

from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.learning import record as rules
from learnnet.learning.evaluation_models import EvaluationAnswer, EvaluationResponse
from learnnet.learning.minutes_models import PUBLISHED, ActionNote, ActionPoint, Minutes
from learnnet.learning.models import LearningGoal, WerkjaarTheme, session_goal
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import local_today, to_local


@dataclass
class RecordPage:
    """What the page, the PDF and the CSV show."""

    network: Network
    facility: Facility
    record: rules.YearRecord
    werkjaren: list[int]  # the werkjaren one can choose, newest first
    theme: str  # the werkjaar's theme in this network, or ""
    goals_total: int  # how many goals that theme has
    facilitators: list[str]
    show_names: bool  # whether the reader may see the facility's people
    issued_on: date = field(default_factory=local_today)


def memberships(network: Network, facility: Facility) -> list[rules.MembershipRow]:
    """The facility's memberships of the network (none: it never was a member)."""
    rows = db.session.execute(
        select(Membership.joined_on, Membership.left_on).where(
            Membership.network_id == network.id, Membership.facility_id == facility.id
        )
    )
    return [rules.MembershipRow(joined, left) for joined, left in rows]


def choose_werkjaar(werkjaren: list[int], asked: str | None, today: date) -> int:
    """The asked werkjaar ('2026-2027') when it is one of the facility's; otherwise the
    current one when it is, otherwise its latest."""
    wanted = rules.parse_werkjaar(asked)
    if wanted is not None and wanted in werkjaren:
        return wanted
    current = rules.start_year_of(today)
    if current in werkjaren or not werkjaren:
        return current
    return werkjaren[0]


def _window(network: Network, start_year: int) -> tuple[datetime, datetime]:
    """UTC moments safely around the werkjaar: the rules pick the sessions by local day."""
    first, last = rules.werkjaar_bounds(start_year)
    return (
        datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1),
        datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=2),
    )


def load(
    network: Network,
    facility: Facility,
    asked: str | None,
    *,
    show_names: bool,
    now: datetime | None = None,
) -> RecordPage | None:
    """The facility's record in the network for the asked werkjaar; None when the
    facility never was a member of the network."""
    now = now or utcnow()
    today = to_local(now, network.timezone).date()
    member_rows = memberships(network, facility)
    if not member_rows:
        return None
    werkjaren = rules.werkjaren(member_rows, today)
    start_year = choose_werkjaar(werkjaren, asked, today)
    lower, upper = _window(network, start_year)

    recorded = exists().where(Attendance.session_id == Session.id)
    in_window = select(Session.id).where(
        Session.network_id == network.id, Session.starts_at >= lower, Session.starts_at < upper
    )
    sessions = [
        rules.SessionRow(
            id=sid,
            starts_at=starts,
            ends_at=ends,
            title=title,
            host_facility_id=host_id,
            host_name=host_name,
            cancelled=status == CANCELLED,
            has_attendance=bool(has),
        )
        for sid, starts, ends, title, host_id, host_name, status, has in db.session.execute(
            select(
                Session.id,
                Session.starts_at,
                Session.ends_at,
                Session.title,
                Session.host_facility_id,
                Facility.name,
                Session.status,
                recorded,
            )
            .join(Facility, Facility.id == Session.host_facility_id)
            .where(Session.id.in_(in_window))
        )
    ]
    presence = [
        rules.PresenceRow(*row)
        for row in db.session.execute(
            select(
                Attendance.session_id,
                Attendance.facility_id,
                Attendance.contact_id,
                Attendance.person_name,
                Attendance.status,
            ).where(Attendance.session_id.in_(in_window), Attendance.facility_id == facility.id)
        )
    ]
    goals = [
        rules.GoalRow(*row)
        for row in db.session.execute(
            select(
                session_goal.c.session_id,
                LearningGoal.id,
                WerkjaarTheme.title,
                LearningGoal.position,
                LearningGoal.text,
            )
            .join(LearningGoal, LearningGoal.id == session_goal.c.goal_id)
            .join(WerkjaarTheme, WerkjaarTheme.id == LearningGoal.theme_id)
            .where(session_goal.c.session_id.in_(in_window))
        )
    ]
    theme_row = db.session.execute(
        select(WerkjaarTheme.title, func.count(LearningGoal.id))
        .outerjoin(LearningGoal, LearningGoal.theme_id == WerkjaarTheme.id)
        .where(WerkjaarTheme.network_id == network.id, WerkjaarTheme.start_year == start_year)
        .group_by(WerkjaarTheme.id, WerkjaarTheme.title)
    ).first()
    year = rules.year_record(
        facility_id=facility.id,
        start_year=start_year,
        timezone=network.timezone,
        now=now,
        sessions=sessions,
        presence=presence,
        memberships=member_rows,
        goals=goals,
        action_points=action_point_rows(facility, in_window),
        answers=answer_rows(facility, in_window),
    )
    return RecordPage(
        network=network,
        facility=facility,
        record=year,
        werkjaren=werkjaren,
        theme=theme_row[0] if theme_row else "",
        goals_total=int(theme_row[1]) if theme_row else 0,
        facilitators=sorted((u.name for u in network.facilitators if u.active), key=str.casefold),
        show_names=show_names,
        issued_on=today,
    )


def action_point_rows(facility: Facility, session_ids: Any) -> list[rules.ActionPointRow]:
    """The action points of the sessions' *published* minutes owned by the facility (or
    one of its contacts), with their lines on how it went: two statements."""
    points = db.session.execute(
        select(
            ActionPoint.id,
            ActionPoint.session_id,
            ActionPoint.what,
            ActionPoint.owner_facility_id,
            func.coalesce(Contact.name, Facility.name),
            ActionPoint.due_on,
            ActionPoint.done_at,
        )
        .join(Minutes, Minutes.session_id == ActionPoint.session_id)
        .join(Facility, Facility.id == ActionPoint.owner_facility_id)
        .outerjoin(Contact, Contact.id == ActionPoint.owner_contact_id)
        .where(
            ActionPoint.session_id.in_(session_ids),
            ActionPoint.owner_facility_id == facility.id,
            Minutes.status == PUBLISHED,
        )
    ).all()
    notes: dict[int, list[str]] = {}
    if points:
        for action_id, text in db.session.execute(
            select(ActionNote.action_id, ActionNote.text)
            .where(ActionNote.action_id.in_([p[0] for p in points]))
            .order_by(ActionNote.id)
        ):
            notes.setdefault(action_id, []).append(text)
    return [
        rules.ActionPointRow(
            id=pid,
            session_id=sid,
            what=what,
            owner_facility_id=owner,
            owner_name=name,
            due_on=due,
            done=done_at is not None,
            notes=tuple(notes.get(pid, ())),
        )
        for pid, sid, what, owner, name, due, done_at in points
    ]


def answer_rows(facility: Facility, session_ids: Any) -> list[rules.AnswerRow]:
    """The facility's people's evaluation answers they chose to share (text only, never
    who wrote them): one statement."""
    return [
        rules.AnswerRow(session_id, facility_id, question, text, share)
        for session_id, facility_id, question, text, share in db.session.execute(
            select(
                EvaluationResponse.session_id,
                EvaluationResponse.facility_id,
                EvaluationAnswer.question,
                EvaluationAnswer.text,
                EvaluationAnswer.share,
            )
            .join(EvaluationAnswer, EvaluationAnswer.response_id == EvaluationResponse.id)
            .where(
                EvaluationResponse.session_id.in_(session_ids),
                EvaluationResponse.facility_id == facility.id,
                EvaluationAnswer.share.is_(True),
                EvaluationAnswer.text != "",
            )
        )
    ]
