"""The facilitator's dashboard and the page of one session."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from learnnet.access import SESSION, USER, requires
from learnnet.mail.services import outbox_counts
from learnnet.models import utcnow
from learnnet.networks import services as network_services
from learnnet.pages import bp
from learnnet.rsvp import notify
from learnnet.rsvp import services as rsvp_services
from learnnet.rsvp.forms import answer_choices
from learnnet.scheduling import planning
from learnnet.scheduling import services as scheduling
from learnnet.scheduling.models import Session


@bp.route("/")
@requires(USER)
def dashboard() -> str:
    """My networks, each with its counts, its next session, how many come, and the planned
    sessions whose host has a problem since a change."""
    networks = network_services.visible_networks(current_user)
    ids = [n.id for n in networks]
    upcoming = scheduling.next_sessions(ids, utcnow())
    return render_template(
        "pages/dashboard.html",
        networks=networks,
        flags=planning.conflicts_for_networks([n for n in networks if not n.is_archived]),
        summaries=network_services.network_summaries(ids),
        next_sessions=upcoming,
        coming=rsvp_services.confirmed_counts([s.id for s in upcoming.values()]),
    )


@bp.route("/sessions/<int:session_id>")
@requires(SESSION)
def session_view(session: Session) -> str:
    """A session's details, host and confirmation, answers, waitlist and messages."""
    return render_template(
        "pages/session.html",
        network=session.network,
        session=session,
        now=utcnow(),
        answers=rsvp_services.session_answers(session),
        to_invite=len(notify.to_invite(session)),
        unanswered=len(notify.unanswered_with_email(session)),
        host_contacts=notify.host_contacts(session),
        mail=outbox_counts([session.id])[session.id],
        answer_choices=answer_choices(),
        answer_labels={**dict(answer_choices()), "withdrawn": _("withdrawn")},
    )
