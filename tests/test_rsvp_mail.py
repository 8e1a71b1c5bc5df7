"""Messages of answering: invitations, changes, cancellations, host requests, reminders."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.rsvp import notify
from tests import factories
from tests.rsvp_helpers import answer, token_for

BRUSSELS_FMT = "%Y-%m-%d"


@pytest.fixture
def planned(network):
    _zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org", preferred_language="en")
    factories.contact(ukkepuk, name="Zonder Mail", email="")
    session = factories.session(network, ukkepuk, days_ahead=20)
    db.session.commit()
    return session


def messages(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def test_planning_sends_nothing_until_the_facilitator_says_so(logged_in, planned):
    html = logged_in.get(f"/sessions/{planned.id}").get_data(as_text=True)
    assert messages() == []
    assert "3" in html.split('id="answers"')[1].split("</button>")[0]


def test_invitations_go_once_to_each_contact_with_email_in_their_language(app, logged_in, planned):
    response = logged_in.post(f"/sessions/{planned.id}/invitations")
    assert response.status_code == 303
    sent = messages("invitation")
    assert sorted(m.recipient for m in sent) == [
        "hanne@example.org",
        "jan@example.org",
        "sofie@example.org",
    ]
    jan = next(m for m in sent if m.recipient == "jan@example.org")
    sofie = next(m for m in sent if m.recipient == "sofie@example.org")
    assert jan.subject.startswith("Invitation") and sofie.subject.startswith("Uitnodiging")
    assert "/m/" in sofie.text_body and "/m/" in sofie.html_body
    assert all(m.status == "sent" for m in sent)  # delivered right after the request
    files = list((Path(app.instance_path) / "outbox").glob("*invitation.eml"))
    assert len(files) == 3
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert {p.get_content_type() for p in parsed.walk()} >= {"text/plain", "text/html"}
    logged_in.post(f"/sessions/{planned.id}/invitations")
    assert len(messages("invitation")) == 3
    db.session.refresh(planned)
    assert planned.invited_at is not None


def test_a_link_in_the_invitation_opens_the_members_page(app, logged_in, planned):
    logged_in.post(f"/sessions/{planned.id}/invitations")
    body = next(m for m in messages("invitation") if m.recipient == "sofie@example.org").text_body
    url = next(line for line in body.splitlines() if "/m/" in line).strip()
    path = url.split("localhost", 1)[1].split("#")[0]
    assert app.test_client().get(path).status_code == 200


def test_moving_or_cancelling_an_invited_session_tells_the_invited(logged_in, planned, network):
    logged_in.post(f"/sessions/{planned.id}/invitations")
    local = planned.starts_at + timedelta(days=1)
    logged_in.post(
        f"/sessions/{planned.id}/move",
        data={
            "day": local.strftime(BRUSSELS_FMT),
            "start_time": "19:00",
            "end_time": "21:30",
            "host_id": planned.host_facility_id,
        },
    )
    assert len(messages("change")) == 3
    logged_in.post(f"/sessions/{planned.id}/cancel")
    cancellations = messages("cancellation")
    assert len(cancellations) == 3
    assert all("geannuleerd" in m.text_body or "cancelled" in m.text_body for m in cancellations)


def test_changes_to_a_session_nobody_was_invited_to_send_nothing(logged_in, planned):
    logged_in.post(f"/sessions/{planned.id}/cancel")
    assert messages() == []


def test_host_confirmation_request_reaches_the_hosts_contacts(logged_in, planned):
    logged_in.post(f"/sessions/{planned.id}/host-request")
    sent = messages("host_request")
    assert [m.recipient for m in sent] == ["jan@example.org"]
    logged_in.post(f"/sessions/{planned.id}/host-request")
    assert len(messages("host_request")) == 1  # not twice on the same day


def test_nudge_only_those_who_have_not_answered(logged_in, client, planned, network):
    logged_in.post(f"/sessions/{planned.id}/invitations")
    sofie = next(
        c for m in network.memberships for c in m.facility.contacts if c.name == "Sofie Claes"
    )
    answer(client, token_for(sofie), planned.id, "yes")
    logged_in.post(f"/sessions/{planned.id}/nudges")
    assert sorted(m.recipient for m in messages("nudge")) == [
        "hanne@example.org",
        "jan@example.org",
    ]


def test_reminders_are_sent_in_their_window_and_never_twice(
    app, logged_in, client, planned, network
):
    logged_in.post(f"/sessions/{planned.id}/invitations")
    hanne = next(
        c for m in network.memberships for c in m.facility.contacts if c.name == "Hanne De Smet"
    )
    answer(client, token_for(hanne), planned.id, "no")
    days = [7, 1]
    start = planned.starts_at
    with app.test_request_context():
        assert notify.send_due_reminders(days, now=start - timedelta(days=8)) == 0
        assert notify.send_due_reminders(days, now=start - timedelta(days=6)) == 2  # not Hanne
        assert notify.send_due_reminders(days, now=start - timedelta(days=5)) == 0
        assert notify.send_due_reminders(days, now=start - timedelta(hours=20)) == 2
        assert notify.send_due_reminders(days, now=start - timedelta(hours=2)) == 0
    assert sorted(m.recipient for m in messages("reminder")) == [
        "jan@example.org",
        "jan@example.org",
        "sofie@example.org",
        "sofie@example.org",
    ]


def test_send_reminders_command(app, logged_in, planned):
    logged_in.post(f"/sessions/{planned.id}/invitations")
    planned.starts_at = utcnow() + timedelta(days=3)
    planned.ends_at = planned.starts_at + timedelta(hours=2)
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0, first.output
    assert "3 reminders queued" in first.output
    assert "3 sent" in first.output
    again = runner.invoke(args=["send-reminders"])
    assert "0 reminders queued" in again.output


def test_invite_to_every_upcoming_session_at_once(logged_in, planned, network):
    later = factories.session(network, planned.host, days_ahead=50)
    factories.session(network, planned.host, days_ahead=70, status="cancelled")
    db.session.commit()
    from learnnet.rsvp.models import Invitation

    page = logged_in.get(f"/networks/{network.slug}/invitations").get_data(as_text=True)
    assert "3 contactpersonen" in page  # one mail each, for both sessions
    logged_in.post(f"/networks/{network.slug}/invitations")
    sent = messages("invitation")
    assert len(sent) == 3  # one mail per person per send (issue 20)
    invited = {(i.session_id, i.contact_id) for i in db.session.scalars(select(Invitation))}
    assert {s for s, _c in invited} == {planned.id, later.id} and len(invited) == 6
    logged_in.post(f"/networks/{network.slug}/invitations")
    assert len(messages("invitation")) == 3
