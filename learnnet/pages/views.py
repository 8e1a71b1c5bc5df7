"""The facilitator's dashboard and the page of one session."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from learnnet import changes, sections
from learnnet.access import SESSION, USER, requires
from learnnet.audit import services as audit_services
from learnnet.extensions import db
from learnnet.learning import services as learning_services
from learnnet.mail.services import outbox_counts
from learnnet.models import utcnow
from learnnet.networks import services as network_services
from learnnet.networks.models import Network
from learnnet.networks.rules import parse_id
from learnnet.pagecache import scoped_view
from learnnet.pages.blueprint import bp
from learnnet.planning import planning
from learnnet.rsvp import notify
from learnnet.rsvp import services as rsvp_services
from learnnet.rsvp.contacts import expected_people
from learnnet.rsvp.forms import answer_choices
from learnnet.sessions.models import CANCELLED, CONFIRMED, Session
from learnnet.timefmt import local_date

# What needs doing looks this far ahead: hosts to confirm and agendas to write for the
# sessions of the coming two months, invitations for those of the coming month.
TODO_DAYS = 60
INVITE_DAYS = 30
# A week before a session, fewer than half of the member facilities answering is worth a
# reminder; a session held in the past month without attendance is worth recording.
LOW_RESPONSE_DAYS = 7
ATTENDANCE_DAYS = 30


@dataclass
class SessionTodo:
    """A coming session and what it still needs: keys the template words, each with the
    one action that resolves it."""

    session: Any  # a Session, or a Coming row until the page shows it
    needs: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # the planner's flags, if any
    answered: int = 0  # member facilities with an answer (for "low response")
    members: int = 0  # current member facilities of the network


@dataclass
class NetworkTodo:
    """What needs doing in one network (``shown``: the sessions the page lists)."""

    sessions: list[SessionTodo] = field(default_factory=list)
    shown: list[SessionTodo] = field(default_factory=list)
    uninvited: int = 0  # sessions of the coming month whose invitations were not sent
    without_contact: list[tuple[int, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many things to do (a session with two needs counts twice)."""
        return (
            sum(len(t.needs) for t in self.sessions)
            + (1 if self.uninvited else 0)
            + len(self.without_contact)
        )


def answered_facilities(session_ids: list[int]) -> dict[int, int]:
    """Per session: how many facilities have answered (yes, maybe or no), in one statement
    (also for none: the dashboard's statement count does not depend on the calendar)."""
    from learnnet.networks.models import Contact
    from learnnet.rsvp.models import MAYBE, NO, YES, Rsvp

    rows = db.session.execute(
        select(Rsvp.session_id, func.count(func.distinct(Contact.facility_id)))
        .join(Contact, Contact.id == Rsvp.contact_id)
        .where(Rsvp.session_id.in_(session_ids), Rsvp.answer.in_((YES, MAYBE, NO)))
        .group_by(Rsvp.session_id)
    )
    return {session_id: count for session_id, count in rows}


def held_without_attendance(network_ids: list[int], now: datetime) -> list[Session]:
    """Sessions of these networks held in the past ATTENDANCE_DAYS (not cancelled) for
    which nobody recorded attendance, oldest first, with their hosts, in one statement."""
    if not network_ids:
        return []
    from sqlalchemy import exists
    from sqlalchemy.orm import contains_eager

    from learnnet.attendance.models import Attendance
    from learnnet.networks.models import Facility

    return list(
        db.session.scalars(
            select(Session)
            .join(Facility, Facility.id == Session.host_facility_id)
            .options(contains_eager(Session.host))
            .where(
                Session.network_id.in_(network_ids),
                Session.status != CANCELLED,
                Session.ends_at <= now,
                Session.ends_at > now - timedelta(days=ATTENDANCE_DAYS),
                ~exists().where(Attendance.session_id == Session.id),
            )
            .order_by(Session.starts_at)
        )
    )


def _days_until(session: Session, zone: str, now: datetime) -> int:
    """Calendar days from today to the session's day, where the network is ("over 7
    dagen" is within the week, whatever the hour)."""
    return (local_date(session.starts_at, zone) - local_date(now, zone)).days


def network_todos(
    networks: list[Network],
    upcoming: Sequence[Any],
    flags: dict[int, tuple[str, ...]],
    summaries: dict[int, Any],
    now: datetime,
    answered: dict[int, int] | None = None,
    held: list[Session] | None = None,
    programmed: Collection[int] | None = None,
) -> dict[int, NetworkTodo]:
    """Per network: attendance to record, flagged sessions, hosts to confirm, agendas to
    write, low response a week before, invitations to send, members without an active
    contact person. ``upcoming``: the coming sessions (objects, or :class:`Coming` rows);
    ``flags``: the codes of the flagged ones, by session id; ``answered``: facilities
    answered per session (answered_facilities);
    ``held``: sessions held without attendance (held_without_attendance);
    ``programmed``: sessions with agenda items (their programme is their agenda)."""
    todos = {n.id: NetworkTodo(without_contact=summaries[n.id].without_contact) for n in networks}
    zones = {n.id: n.timezone for n in networks}
    answered = answered or {}
    programmed = programmed or set()
    for s in held or []:
        if s.network_id in todos:
            todos[s.network_id].sessions.append(SessionTodo(s, needs=["attendance"]))
    for s in upcoming:
        todo = todos.get(s.network_id)
        if todo is None:
            continue
        item = SessionTodo(s)
        if s.id in flags:
            item.needs.append("flag")
            item.codes = list(flags[s.id])
        if s.starts_at <= now + timedelta(days=TODO_DAYS):
            # A flagged session first needs another host or date; the rest can wait.
            if s.status != CONFIRMED and not item.needs:
                item.needs.append("confirm")
            has_agenda = (s.agenda or "").strip() or s.id in programmed
            if not has_agenda and "flag" not in item.needs:
                item.needs.append("agenda")
        open_ = notify.answers_open(s, now)
        members = summaries[s.network_id].members
        soon = _days_until(s, zones[s.network_id], now) <= LOW_RESPONSE_DAYS
        few = answered.get(s.id, 0) * 2 < members
        if s.invited_at is None and s.starts_at <= now + timedelta(days=INVITE_DAYS):
            if open_:
                todo.uninvited += 1
            elif "flag" not in item.needs:
                # Inviting would ask for answers that are refused: say what is urgent.
                item.needs.append("closed")
                item.answered, item.members = answered.get(s.id, 0), members
        if s.invited_at is not None and soon and "flag" not in item.needs and few:
            item.needs.append("low_response" if open_ else "closed")
            item.answered, item.members = answered.get(s.id, 0), members
        if item.needs:
            todo.sessions.append(item)
    return todos


def _dashboard_scopes() -> list[str]:
    """The dashboard reads the networks it lists (and ``shared``: the user, the links
    between users and networks)."""
    show_all = bool(current_user.is_admin and request.args.get("all") == "1")
    ids = network_services.visible_network_ids(current_user, mine_only=not show_all)
    return [changes.network_scope(n) for n in ids]


@bp.route("/")
@requires(USER)
@scoped_view(_dashboard_scopes)
def dashboard() -> str:
    """What needs doing, per network, each with the action that resolves it; then my
    networks with their next session; archived networks apart. An admin sees the networks
    they facilitate here, and all networks with ``?all=1``."""
    show_all = bool(current_user.is_admin and request.args.get("all") == "1")
    networks = network_services.visible_networks(current_user, mine_only=not show_all)
    active = [n for n in networks if not n.is_archived]
    now = utcnow()
    ids = tuple(n.id for n in active)
    scopes = [changes.network_scope(n) for n in ids]
    # Members, contacts, sessions and hosts' conflicts read no answer: kept between
    # renders (learnnet.sections); the answers and counts below are read afresh.
    summaries = sections.kept(
        "network-summaries", scopes, lambda: network_services.network_summaries(list(ids)), ids
    )
    plan = sections.kept("dashboard-sessions", scopes, lambda: _dashboard_plan(active, now), ids)
    # The coming sessions as a few columns: enough to work out what each needs. Only
    # those the page shows are read as objects with their hosts, below.
    upcoming = coming_sessions(plan.session_ids, now)
    soon = [
        s.id
        for s in upcoming
        if s.starts_at <= now + timedelta(days=LOW_RESPONSE_DAYS + 1)
        or (s.invited_at is None and not notify.answers_open(s, now))  # type: ignore[arg-type]
    ]
    todos = network_todos(
        active,
        upcoming,
        plan.flags,
        summaries,
        now,
        answered=answered_facilities(soon),
        held=held_without_attendance([n.id for n in active], now),
        programmed=plan.programmed,
    )
    todo_shown = None if request.args.get("todo") == "all" else TODO_SHOWN
    first: dict[int, int] = {}
    for s in upcoming:
        first.setdefault(s.network_id, s.id)
    for todo in todos.values():
        # Cut short: the sessions to move first (the alert above them names them), then
        # the earliest of the rest; all of them, in time order, with ?todo=all.
        flagged = [t for t in todo.sessions if t.codes]
        ordered = flagged + [t for t in todo.sessions if not t.codes]
        cut = ordered[: max(todo_shown or 0, len(flagged))]
        todo.shown = list(todo.sessions) if todo_shown is None else cut
    wanted = {*first.values(), *(t.session.id for td in todos.values() for t in td.shown)}
    loaded = {s.id: s for s in planning.sessions_by_id(sorted(wanted), now)}
    for todo in todos.values():
        for t in todo.shown:
            t.session = loaded.get(t.session.id, t.session)  # a held session is one already
        todo.shown = [t for t in todo.shown if isinstance(t.session, Session)]
    next_sessions = {nid: loaded[sid] for nid, sid in first.items() if sid in loaded}
    return render_template(
        "pages/dashboard.html",
        networks=active,
        archived=[n for n in networks if n.is_archived],
        show_all=show_all,
        all_count=(
            db.session.scalar(select(func.count(Network.id))) if current_user.is_admin else None
        ),
        todos=todos,
        summaries=summaries,
        next_sessions=next_sessions,
        coming=rsvp_services.confirmed_counts([s.id for s in next_sessions.values()]),
    )


@dataclass(frozen=True, slots=True)
class Coming:
    """A coming session as the dashboard's to-do list weighs it: a few columns."""

    id: int
    network_id: int
    starts_at: datetime
    status: str
    agenda: str | None
    invited_at: datetime | None
    rsvp_deadline: datetime | None

    @property
    def is_cancelled(self) -> bool:
        return self.status == CANCELLED


def coming_sessions(ids: tuple[int, ...], now: datetime) -> list[Coming]:
    """These sessions, those still to come (not cancelled), in time order, as columns."""
    if not ids:
        return []
    rows = db.session.execute(
        select(
            Session.id,
            Session.network_id,
            Session.starts_at,
            Session.status,
            Session.agenda,
            Session.invited_at,
            Session.rsvp_deadline,
        )
        .where(Session.id.in_(ids), Session.status != CANCELLED, Session.starts_at > now)
        .order_by(Session.starts_at, Session.id)
    )
    return [Coming(*row) for row in rows]


@dataclass(frozen=True)
class DashboardPlan:
    """The coming sessions the dashboard shows or weighs (the next one of each network,
    those within TODO_DAYS, the flagged ones), the flagged sessions' codes and the
    sessions with agenda items (their programme is their agenda)."""

    session_ids: tuple[int, ...]
    flags: dict[int, tuple[str, ...]]
    programmed: frozenset[int]


def _dashboard_plan(networks: list[Network], now: datetime) -> DashboardPlan:
    """Of the networks' coming sessions, those the dashboard needs (a day's margin on
    TODO_DAYS for the time the plan is kept), and the conflicts of all of them."""
    upcoming = planning.upcoming_sessions([n.id for n in networks], now)
    flags = planning.conflicts_for_networks(networks, now, upcoming)
    flagged = {f.session.id: f.codes for fs in flags.values() for f in fs}
    horizon = now + timedelta(days=TODO_DAYS + 1)
    first: set[int] = set()
    wanted = []
    for s in upcoming:
        if s.network_id not in first or s.starts_at <= horizon or s.id in flagged:
            wanted.append(s.id)
        first.add(s.network_id)
    return DashboardPlan(
        session_ids=tuple(wanted),
        flags=flagged,
        programmed=frozenset(learning_services.with_agenda_items(wanted)),
    )


TODO_SHOWN = 3  # sessions per network in the dashboard's to-do list before "show all"
PEOPLE_INLINE = 40  # expected people on a session page shown without asking
SEARCH_SHOWN = 20  # people listed by the on-behalf form's search


def _people_found(answers: Any, text: str) -> list[tuple[Any, Any]]:
    """The contacts on the session page whose name or facility holds ``text`` (any case),
    for the on-behalf form's search: (contact, facility), at most ``SEARCH_SHOWN``."""
    wanted = text.casefold()
    if not wanted:
        return []
    found = [
        (contact, group.facility)
        for group in answers.facilities
        for contact, _row in group.rows
        if wanted in contact.name.casefold() or wanted in group.facility.name.casefold()
    ]
    return found[:SEARCH_SHOWN]


@bp.route("/sessions/<int:session_id>")
@requires(SESSION)
@scoped_view(lambda session: [changes.network_scope(session.network_id)])
def session_view(session: Session) -> str:
    """A session's details, host and confirmation, answers, waitlist and messages."""
    # Once, for the answers and both counts; as columns (the page only reads them). Who
    # is expected reads memberships and contacts, not answers: kept (learnnet.sections).
    expected = list(
        sections.kept(
            "expected-people",
            [changes.network_scope(session.network_id)],
            lambda: tuple(expected_people(session)),
            key=session.id,
        )
    )
    answers = rsvp_services.session_answers(session, expected)
    search = request.args.get("q", "").strip()[:100]
    return render_template(
        "pages/session.html",
        search=search,
        found=_people_found(answers, search),
        network=session.network,
        session=session,
        now=utcnow(),
        answers=answers,
        to_invite=len(notify.to_invite(session, expected)),
        answers_open=notify.answers_open(session),
        unanswered=len(notify.unanswered_with_email(session, expected)),
        host_contacts=notify.host_contacts(session),
        mail=outbox_counts([session.id])[session.id],
        answer_choices=answer_choices(),
        answer_labels={**dict(answer_choices()), "withdrawn": _("withdrawn")},
        person=parse_id(request.args.get("person", "")),  # chosen in the on-behalf form
        # Every expected person's row (400 on a large network) only on request.
        everyone=request.args.get("people") == "all" or len(expected) <= PEOPLE_INLINE,
        session_changes=audit_services.for_session(session.id),
        learning_part=sections.kept(
            "session-learning",
            [changes.network_scope(session.network_id)],
            lambda: session_learning(session),
            key=session.id,
            per_browser=True,  # its forms carry this browser's CSRF token
        ),
    )


def session_learning(session: Session) -> Markup:
    """The session page's programme, minutes, materials, members' messages and evaluation,
    rendered: they read no answer, so a page rendered anew after one keeps them."""
    return sections.render(
        "pages/_session_learning.html",
        session=session,
        network=session.network,
        now=utcnow(),
        member_messages=rsvp_services.member_messages(session.id),
    )
