"""The facilitator's dashboard and the page of one session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from learnnet.access import SESSION, USER, requires
from learnnet.extensions import db
from learnnet.mail.services import outbox_counts
from learnnet.models import utcnow
from learnnet.networks import services as network_services
from learnnet.networks.models import Network
from learnnet.pagecache import cached_view
from learnnet.pages import bp
from learnnet.rsvp import notify
from learnnet.rsvp import services as rsvp_services
from learnnet.rsvp.contacts import expected_contacts
from learnnet.rsvp.forms import answer_choices
from learnnet.scheduling import planning
from learnnet.scheduling.models import CANCELLED, CONFIRMED, Session

# What needs doing looks this far ahead: hosts to confirm and agendas to write for the
# sessions of the coming two months, invitations for those of the coming month.
TODO_DAYS = 60
INVITE_DAYS = 30


@dataclass
class SessionTodo:
    """A coming session and what it still needs: keys the template words, each with the
    one action that resolves it."""

    session: Session
    needs: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # the planner's flags, if any


@dataclass
class NetworkTodo:
    """What needs doing in one network."""

    sessions: list[SessionTodo] = field(default_factory=list)
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


def upcoming_sessions(network_ids: list[int], now: datetime) -> list[Session]:
    """The coming sessions (not cancelled) of these networks with their hosts, in time
    order, in two statements."""
    if not network_ids:
        return []
    return list(
        db.session.scalars(
            select(Session)
            .where(
                Session.network_id.in_(network_ids),
                Session.status != CANCELLED,
                Session.starts_at > now,
            )
            .options(selectinload(Session.host))
            .order_by(Session.starts_at)
        )
    )


def network_todos(
    networks: list[Network],
    upcoming: list[Session],
    flags: dict[int, list[Any]],
    summaries: dict[int, Any],
    now: datetime,
) -> dict[int, NetworkTodo]:
    """Per network: flagged sessions, hosts to confirm, agendas to write, invitations to
    send, members without an active contact person."""
    todos = {n.id: NetworkTodo(without_contact=summaries[n.id].without_contact) for n in networks}
    flagged = {f.session.id: f for fs in flags.values() for f in fs}
    for s in upcoming:
        todo = todos.get(s.network_id)
        if todo is None:
            continue
        item = SessionTodo(s)
        if s.id in flagged:
            item.needs.append("flag")
            item.codes = list(flagged[s.id].codes)
        if s.starts_at <= now + timedelta(days=TODO_DAYS):
            # A flagged session first needs another host or date; the rest can wait.
            if s.status != CONFIRMED and not item.needs:
                item.needs.append("confirm")
            if not (s.agenda or "").strip() and "flag" not in item.needs:
                item.needs.append("agenda")
            if s.invited_at is None and s.starts_at <= now + timedelta(days=INVITE_DAYS):
                todo.uninvited += 1
        if item.needs:
            todo.sessions.append(item)
    return todos


@bp.route("/")
@requires(USER)
@cached_view
def dashboard() -> str:
    """What needs doing, per network, each with the action that resolves it; then my
    networks with their next session; archived networks apart. An admin sees the networks
    they facilitate here, and all networks with ``?all=1``."""
    show_all = bool(current_user.is_admin and request.args.get("all") == "1")
    networks = network_services.visible_networks(current_user, mine_only=not show_all)
    active = [n for n in networks if not n.is_archived]
    now = utcnow()
    upcoming = upcoming_sessions([n.id for n in active], now)
    next_sessions: dict[int, Session] = {}
    for s in upcoming:
        next_sessions.setdefault(s.network_id, s)
    summaries = network_services.network_summaries([n.id for n in active])
    flags = planning.conflicts_for_networks(active, now)
    return render_template(
        "pages/dashboard.html",
        networks=active,
        archived=[n for n in networks if n.is_archived],
        show_all=show_all,
        all_count=(
            db.session.scalar(select(func.count(Network.id))) if current_user.is_admin else None
        ),
        todos=network_todos(active, upcoming, flags, summaries, now),
        summaries=summaries,
        next_sessions=next_sessions,
        coming=rsvp_services.confirmed_counts([s.id for s in next_sessions.values()]),
    )


@bp.route("/sessions/<int:session_id>")
@requires(SESSION)
@cached_view
def session_view(session: Session) -> str:
    """A session's details, host and confirmation, answers, waitlist and messages."""
    expected = expected_contacts(session)  # once, for the answers and both counts
    return render_template(
        "pages/session.html",
        network=session.network,
        session=session,
        now=utcnow(),
        answers=rsvp_services.session_answers(session, expected),
        to_invite=len(notify.to_invite(session, expected)),
        unanswered=len(notify.unanswered_with_email(session, expected)),
        host_contacts=notify.host_contacts(session),
        mail=outbox_counts([session.id])[session.id],
        answer_choices=answer_choices(),
        answer_labels={**dict(answer_choices()), "withdrawn": _("withdrawn")},
    )
