"""Use cases of the learning room: the werkjaar's theme and goals, a session's programme,
and the members' learning questions. Reads and writes; commits where a use case ends.

Who may do what is checked by the views (``access.py``, the personal link); what a
contact may touch (her own questions, her networks' sessions) is checked here too.
Every write goes through the ORM, so the data version moves with it
(:mod:`learnnet.changes`) and kept pages are renewed; the trail records the
facilitator's writes (tracked in the app factory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import joinedload, selectinload

from learnnet.extensions import db
from learnnet.learning import rules
from learnnet.learning.models import (
    LEAD_FACILITY,
    LEAD_KINDS,
    AgendaItem,
    LearningGoal,
    LearningQuestion,
    SessionProgramme,
    WerkjaarTheme,
    session_goal,
)
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.planning.recurrence import local_to_utc
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import local_date, local_today


class LearningError(ValueError):
    """A write refused for a reason the user can fix; ``key`` names it, ``field`` where."""

    def __init__(self, key: str, field: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.field = field


# --- werkjaar, theme and goals ----------------------------------------------------------------


def current_start_year(network: Network, today: date | None = None) -> int:
    """The werkjaar the network is in today (its own time zone)."""
    return rules.werkjaar_start(today or local_today(network.timezone))


def session_start_year(session: Session) -> int:
    """The werkjaar a session belongs to: the day it takes place, where the network is."""
    return rules.werkjaar_start(local_date(session.starts_at, session.network.timezone))


def theme_of(network_id: int, start_year: int) -> WerkjaarTheme | None:
    """The network's theme of that werkjaar with its goals (one statement), or None."""
    return (
        db.session.scalars(
            select(WerkjaarTheme)
            .where(WerkjaarTheme.network_id == network_id, WerkjaarTheme.start_year == start_year)
            .options(joinedload(WerkjaarTheme.goals))
        )
        .unique()
        .first()
    )


def themes_by_network(network_ids: list[int], start_year: int) -> dict[int, WerkjaarTheme]:
    """The theme of that werkjaar per network, with goals, in two statements."""
    if not network_ids:
        return {}
    themes = db.session.scalars(
        select(WerkjaarTheme)
        .where(WerkjaarTheme.network_id.in_(network_ids), WerkjaarTheme.start_year == start_year)
        .options(selectinload(WerkjaarTheme.goals))
    )
    return {t.network_id: t for t in themes}


def theme_years(network_id: int) -> list[int]:
    """The werkjaren the network has a theme for, newest first."""
    return list(
        db.session.scalars(
            select(WerkjaarTheme.start_year)
            .where(WerkjaarTheme.network_id == network_id)
            .order_by(WerkjaarTheme.start_year.desc())
        )
    )


def save_theme(
    network: Network, start_year: int, title: str, description: str, goals: list[str]
) -> WerkjaarTheme:
    """Set the werkjaar's theme and goals; commits.

    Goals are matched by position: the goal in place 2 keeps its id (and the sessions
    that name it) when its wording is edited; goals beyond the new list are removed,
    and sessions no longer name them.
    """
    title = " ".join((title or "").split())
    if not title:
        raise LearningError("title_missing", "title")
    if len(title) > rules.THEME_TITLE_MAX:
        raise LearningError("title_long", "title")
    if len(description or "") > rules.THEME_DESCRIPTION_MAX:
        raise LearningError("description_long", "description")
    if rules.goal_problems(goals):
        raise LearningError(rules.goal_problems(goals)[0], "goals")
    theme = theme_of(network.id, start_year)
    if theme is None:
        theme = WerkjaarTheme(network_id=network.id, start_year=start_year, goals=[])
        db.session.add(theme)
    theme.title = title
    theme.description = (description or "").strip()
    kept = list(theme.goals)
    for position, text in enumerate(goals):
        if position < len(kept):
            kept[position].text = text
            kept[position].position = position
        else:
            theme.goals.append(LearningGoal(position=position, text=text))
    for goal in kept[len(goals) :]:
        theme.goals.remove(goal)
    db.session.commit()
    return theme


def sessions_of_year(network: Network, start_year: int) -> list[Session]:
    """The network's sessions in that werkjaar (cancelled ones too), with their hosts."""
    start, end = rules.werkjaar_bounds(start_year)
    first = local_to_utc(start, time(0, 0), network.timezone)
    last = local_to_utc(end + timedelta(days=1), time(0, 0), network.timezone)
    return list(
        db.session.scalars(
            select(Session)
            .where(
                Session.network_id == network.id,
                Session.starts_at >= first,
                Session.starts_at < last,
            )
            .options(selectinload(Session.host))
            .order_by(Session.starts_at)
        )
    )


def session_goal_ids(session_id: int) -> set[int]:
    """The goals a session names."""
    return set(
        db.session.scalars(
            select(session_goal.c.goal_id).where(session_goal.c.session_id == session_id)
        )
    )


def set_session_goals(session: Session, goal_ids: list[int]) -> None:
    """The goals the session serves: goals of its own werkjaar's theme only; commits."""
    theme = theme_of(session.network_id, session_start_year(session))
    allowed = {g.id for g in theme.goals} if theme else set()
    chosen = set(goal_ids)
    if not chosen <= allowed:
        raise LearningError("goal_unknown", "goals")
    db.session.execute(delete(session_goal).where(session_goal.c.session_id == session.id))
    if chosen:
        db.session.execute(
            insert(session_goal), [{"session_id": session.id, "goal_id": g} for g in chosen]
        )
    session.updated_at = utcnow()  # the trail and the feeds see that the session changed
    db.session.commit()


def themes_for_sessions(session_ids: list[int]) -> dict[int, str]:
    """The title of the werkjaar theme each session falls in (when there is one), in
    three statements: for the certificate's lines."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Session.id, Session.network_id, Session.starts_at, Network.timezone)
        .join(Network, Network.id == Session.network_id)
        .where(Session.id.in_(session_ids))
    ).all()
    years = {
        sid: (nid, rules.werkjaar_start(local_date(starts, tz))) for sid, nid, starts, tz in rows
    }
    if not years:
        return {}
    themes = {
        (t.network_id, t.start_year): t.title
        for t in db.session.execute(
            select(WerkjaarTheme.network_id, WerkjaarTheme.start_year, WerkjaarTheme.title).where(
                WerkjaarTheme.network_id.in_({nid for nid, _ in years.values()})
            )
        )
    }
    return {sid: themes[key] for sid, key in years.items() if key in themes}


# --- the programme of a session ---------------------------------------------------------------


@dataclass
class Programme:
    """Everything a session's programme shows."""

    session: Session
    items: list[AgendaItem] = field(default_factory=list)
    prepare_question: str = ""
    theme: WerkjaarTheme | None = None
    goals: list[LearningGoal] = field(default_factory=list)  # those the session serves

    @property
    def showcase(self) -> str:
        """What the host will show (kept on the session: the host fills it in too)."""
        return self.session.host_showcase or ""

    @property
    def total_minutes(self) -> int:
        return rules.total_minutes(i.minutes for i in self.items)

    @property
    def is_empty(self) -> bool:
        return not (self.items or self.prepare_question or self.showcase or self.goals)


def programmes_for(sessions: list[Session]) -> dict[int, Programme]:
    """The programme of each session, in a fixed number of statements (at most five)."""
    if not sessions:
        return {}
    ids = [s.id for s in sessions]
    found = {s.id: Programme(session=s) for s in sessions}
    items = db.session.scalars(
        select(AgendaItem)
        .where(AgendaItem.session_id.in_(ids))
        .options(selectinload(AgendaItem.lead_facility))
        .order_by(AgendaItem.session_id, AgendaItem.position, AgendaItem.id)
    )
    for item in items:
        found[item.session_id].items.append(item)
    for row in db.session.scalars(
        select(SessionProgramme).where(SessionProgramme.session_id.in_(ids))
    ):
        found[row.session_id].prepare_question = row.prepare_question
    goals = db.session.execute(
        select(session_goal.c.session_id, LearningGoal)
        .join(LearningGoal, LearningGoal.id == session_goal.c.goal_id)
        .where(session_goal.c.session_id.in_(ids))
        .order_by(LearningGoal.position)
    )
    for session_id, goal in goals:
        found[session_id].goals.append(goal)
    return found


def with_agenda_items(session_ids: list[int]) -> set[int]:
    """Of these sessions, those whose programme has agenda items (one statement, also for
    none: the dashboard's statement count does not depend on the calendar)."""
    return set(
        db.session.scalars(
            select(AgendaItem.session_id).where(AgendaItem.session_id.in_(session_ids)).distinct()
        )
    )


def programme_of(session: Session) -> Programme:
    """One session's programme, with its werkjaar's theme (and that theme's goals)."""
    programme = programmes_for([session])[session.id]
    programme.theme = theme_of(session.network_id, session_start_year(session))
    return programme


def _check_item(
    session: Session, title: str, minutes: int | None, lead_kind: str, lead_facility_id: int | None
) -> tuple[str, int | None]:
    title = " ".join((title or "").split())
    if not title:
        raise LearningError("item_title_missing", "title")
    if len(title) > rules.ITEM_TITLE_MAX:
        raise LearningError("item_title_long", "title")
    if minutes is not None and not 1 <= minutes <= rules.ITEM_MINUTES_MAX:
        raise LearningError("minutes", "minutes")
    if lead_kind not in LEAD_KINDS:
        raise LearningError("lead", "lead")
    if lead_kind == LEAD_FACILITY:
        if lead_facility_id is None or not _is_member(lead_facility_id, session.network_id):
            raise LearningError("lead_facility", "lead")
        return title, lead_facility_id
    return title, None


def _is_member(facility_id: int, network_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(Membership.id)).where(
                Membership.facility_id == facility_id,
                Membership.network_id == network_id,
                Membership.left_on.is_(None),
            )
        )
    )


def lead_choices(network: Network) -> list[tuple[int, str]]:
    """(facility id, name) of the network's current members, by name."""
    rows = db.session.execute(
        select(Facility.id, Facility.name)
        .join(Membership, Membership.facility_id == Facility.id)
        .where(Membership.network_id == network.id, Membership.left_on.is_(None))
        .order_by(Facility.name_key)
    )
    return [(fid, name) for fid, name in rows]


def add_item(
    session: Session,
    title: str,
    minutes: int | None,
    lead_kind: str,
    lead_facility_id: int | None = None,
) -> AgendaItem:
    """A new agenda item at the end of the programme; commits."""
    title, lead_facility_id = _check_item(session, title, minutes, lead_kind, lead_facility_id)
    count, last = db.session.execute(
        select(func.count(AgendaItem.id), func.max(AgendaItem.position)).where(
            AgendaItem.session_id == session.id
        )
    ).one()
    if count >= rules.ITEMS_MAX:
        raise LearningError("items_many", "title")
    item = AgendaItem(
        session_id=session.id,
        position=(last if last is not None else -1) + 1,
        title=title,
        minutes=minutes,
        lead_kind=lead_kind,
        lead_facility_id=lead_facility_id,
    )
    db.session.add(item)
    db.session.commit()
    return item


def item_of(session: Session, item_id: int | None) -> AgendaItem:
    """The agenda item, when it is one of this session's (else LearningError 'item')."""
    item = db.session.get(AgendaItem, item_id) if item_id else None
    if item is None or item.session_id != session.id:
        raise LearningError("item")
    return item


def update_item(
    session: Session,
    item_id: int,
    title: str,
    minutes: int | None,
    lead_kind: str,
    lead_facility_id: int | None = None,
) -> AgendaItem:
    """Change an agenda item of this session; commits."""
    item = item_of(session, item_id)
    title, lead_facility_id = _check_item(session, title, minutes, lead_kind, lead_facility_id)
    item.title, item.minutes = title, minutes
    item.lead_kind, item.lead_facility_id = lead_kind, lead_facility_id
    db.session.commit()
    return item


def move_item(session: Session, item_id: int, direction: str) -> None:
    """One place up or down; positions are renumbered 0, 1, 2… on the way; commits."""
    items = list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    try:
        order = rules.moved([i.id for i in items], item_id, direction)
    except ValueError:
        raise LearningError("item") from None
    by_id = {i.id: i for i in items}
    for position, ident in enumerate(order):
        if by_id[ident].position != position:
            by_id[ident].position = position
    db.session.commit()


def remove_item(session: Session, item_id: int) -> str:
    """Remove an agenda item of this session; returns its title (for the message); commits."""
    item = item_of(session, item_id)
    title = item.title
    db.session.delete(item)
    db.session.commit()
    return title


def save_programme_texts(session: Session, prepare_question: str, host_showcase: str) -> None:
    """The question to prepare and what the host will show; commits."""
    prepare_question = (prepare_question or "").strip()
    host_showcase = (host_showcase or "").strip()
    if len(prepare_question) > rules.PREPARE_MAX:
        raise LearningError("prepare_long", "prepare_question")
    if len(host_showcase) > rules.SHOWCASE_MAX:
        raise LearningError("showcase_long", "host_showcase")
    row = db.session.get(SessionProgramme, session.id)
    if row is None:
        row = SessionProgramme(session_id=session.id, prepare_question="")
        db.session.add(row)
    if row.prepare_question != prepare_question:
        row.prepare_question = prepare_question
    if session.host_showcase != host_showcase:
        session.host_showcase = host_showcase
    db.session.commit()


# --- learning questions (leervragen) ----------------------------------------------------------


def _member_network_ids(contact: Contact, today: date) -> set[int]:
    from learnnet.rsvp.contacts import member_networks

    return set(member_networks(contact.facility_id, today))


@dataclass(frozen=True)
class Target:
    """What a learning question can be about: a coming session, or a network's werkjaar."""

    key: str  # "year-<network id>" or "session-<session id>"
    network: Network
    start_year: int
    session: Session | None = None


def targets_for(contact: Contact, now: datetime | None = None) -> list[Target]:
    """The werkjaar of each of the contact's networks, then their coming sessions (not
    cancelled), in time order: what she may write a learning question for."""
    now = now or utcnow()
    network_ids = _member_network_ids(contact, now.date())
    if not network_ids:
        return []
    networks = list(
        db.session.scalars(
            select(Network).where(Network.id.in_(network_ids)).order_by(func.lower(Network.name))
        )
    )
    found = [Target(f"year-{n.id}", n, current_start_year(n)) for n in networks]
    sessions = db.session.scalars(
        select(Session)
        .where(
            Session.network_id.in_(network_ids),
            Session.status != CANCELLED,
            Session.ends_at > now,
        )
        .options(selectinload(Session.network), selectinload(Session.host))
        .order_by(Session.starts_at)
    )
    found += [Target(f"session-{s.id}", s.network, session_start_year(s), s) for s in sessions]
    return found


def _check_text(text: str) -> str:
    text = (text or "").strip()
    if len(text) < rules.QUESTION_MIN:
        raise LearningError("question_short", "text")
    if len(text) > rules.QUESTION_MAX:
        raise LearningError("question_long", "text")
    return text


def add_question(contact: Contact, target_key: str, text: str) -> LearningQuestion:
    """A learning question of the contact, for one of her targets (:func:`targets_for`);
    commits."""
    text = _check_text(text)
    target = next((t for t in targets_for(contact) if t.key == target_key), None)
    if target is None:
        raise LearningError("target", "target")
    question = LearningQuestion(
        contact_id=contact.id,
        network_id=target.network.id,
        session_id=target.session.id if target.session else None,
        start_year=target.start_year,
        text=text,
    )
    db.session.add(question)
    db.session.commit()
    return question


def question_of(contact: Contact, question_id: int) -> LearningQuestion:
    """One of the contact's own learning questions (else LearningError 'question')."""
    question = db.session.get(LearningQuestion, question_id)
    if question is None or question.contact_id != contact.id:
        raise LearningError("question")
    return question


def update_question(contact: Contact, question_id: int, text: str) -> LearningQuestion:
    """Change the text of one of her own questions; commits."""
    question = question_of(contact, question_id)
    question.text = _check_text(text)
    db.session.commit()
    return question


def remove_question(contact: Contact, question_id: int) -> None:
    """Remove one of her own questions; commits."""
    db.session.delete(question_of(contact, question_id))
    db.session.commit()


def questions_of_contact(contact: Contact, since_year: int | None = None) -> list[LearningQuestion]:
    """The contact's own questions (of this werkjaar and later, when ``since_year``),
    newest first, with their session and network."""
    query = (
        select(LearningQuestion)
        .where(LearningQuestion.contact_id == contact.id)
        .options(
            selectinload(LearningQuestion.session).selectinload(Session.host),
            selectinload(LearningQuestion.network),
        )
        .order_by(LearningQuestion.created_at.desc(), LearningQuestion.id.desc())
    )
    if since_year is not None:
        query = query.where(LearningQuestion.start_year >= since_year)
    return list(db.session.scalars(query))


def _grouped(query: object) -> list[tuple[str, list[LearningQuestion]]]:
    questions = db.session.scalars(
        query.options(  # type: ignore[attr-defined]
            selectinload(LearningQuestion.contact).selectinload(Contact.facility)
        ).order_by(LearningQuestion.created_at, LearningQuestion.id)
    )
    return rules.group_by(questions, lambda q: q.contact.facility.name)


def session_questions(session: Session) -> list[tuple[str, list[LearningQuestion]]]:
    """The learning questions for a session, grouped by the writer's facility."""
    return _grouped(select(LearningQuestion).where(LearningQuestion.session_id == session.id))


def werkjaar_questions(
    network: Network, start_year: int
) -> list[tuple[str, list[LearningQuestion]]]:
    """The learning questions for the werkjaar (not for one session), by facility."""
    return _grouped(
        select(LearningQuestion).where(
            LearningQuestion.network_id == network.id,
            LearningQuestion.start_year == start_year,
            LearningQuestion.session_id.is_(None),
        )
    )


def question_counts(session_ids: list[int]) -> dict[int, int]:
    """How many learning questions each session has, in one statement."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(LearningQuestion.session_id, func.count(LearningQuestion.id))
        .where(LearningQuestion.session_id.in_(session_ids))
        .group_by(LearningQuestion.session_id)
    )
    return {sid: n for sid, n in rows}


# --- the member's page ------------------------------------------------------------------------


@dataclass
class MemberLearning:
    """What the member's page shows of the learning side."""

    themes: list[tuple[Network, WerkjaarTheme]]  # this werkjaar's theme per network
    questions: list[LearningQuestion]  # her own, this werkjaar and later
    programmes: dict[int, Programme]


def member_learning(
    contact: Contact, networks: list[Network], sessions: list[Session]
) -> MemberLearning:
    """This year's themes of her networks, her own questions and the programmes of her
    sessions, in a fixed number of statements."""
    today = local_today()
    start = rules.werkjaar_start(today)
    themes = themes_by_network([n.id for n in networks], start)
    return MemberLearning(
        themes=[(n, themes[n.id]) for n in networks if n.id in themes],
        questions=questions_of_contact(contact, since_year=start - 1) if networks else [],
        programmes=programmes_for(sessions),
    )


# --- privacy ----------------------------------------------------------------------------------


def export_for(contact: Contact) -> list[dict[str, object]]:
    """The contact's learning questions as plain values, for her data export."""
    return [
        {
            "network": q.network.name,
            "werkjaar": rules.werkjaar_label(q.start_year),
            "session": q.session.starts_at.isoformat() if q.session else None,
            "text": q.text,
            "written_at": q.created_at.isoformat(),
            "changed_at": q.updated_at.isoformat(),
        }
        for q in questions_of_contact(contact)
    ]


def erase_for(contact: Contact) -> None:
    """Her learning questions go with her (no commit: the erasure commits)."""
    db.session.execute(delete(LearningQuestion).where(LearningQuestion.contact_id == contact.id))
