"""Answers from the calendar app: iTIP REPLY mails, in the shapes real clients send."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnnet.calendar import imip
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.rsvp.models import Rsvp
from tests import factories
from tests.ical_oracles import parse_icaljs
from tests.itip_replies import SHAPES, reply
from tests.rsvp_helpers import token_for

ANSWER = {"ACCEPTED": "yes", "DECLINED": "no", "TENTATIVE": "maybe"}


@pytest.fixture
def invited(app, logged_in, network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    hanne = next(c for c in zonnebloem.contacts if c.name == "Hanne De Smet")
    session = factories.session(network, ukkepuk, days_ahead=25)
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    invitation = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "invitation", OutboxMessage.contact_id == sofie.id
        )
    )
    data = next(a.data for a in invitation.attachments if a.inline)
    [event] = parse_icaljs(data)["events"]
    return {"session": session, "sofie": sofie, "hanne": hanne, "organizer": event["organizer"]}


def rsvp_of(session, contact):
    db.session.expire_all()
    return db.session.scalar(
        select(Rsvp).where(Rsvp.session_id == session.id, Rsvp.contact_id == contact.id)
    )


def receive(app, raw: bytes):
    return app.test_cli_runner().invoke(args=["receive-mail"], input=raw)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_reply_from_each_client_becomes_the_members_answer(app, client, invited, shape):
    session, sofie = invited["session"], invited["sofie"]
    raw = reply(shape, session.uid, invited["organizer"], sofie.email)
    result = receive(app, raw)
    assert result.exit_code == 0, result.output
    assert "recorded" in result.output
    expected = ANSWER[SHAPES[shape]]
    assert rsvp_of(session, sofie).answer == expected
    page = client.get(f"/m/{token_for(sofie)}").get_data(as_text=True)
    card = page.split(f'id="session-{session.id}"')[1].split("</article>")[0]
    label = {"yes": "Ik kom", "no": "Ik kom niet", "maybe": "Misschien"}[expected]
    assert f">{label}</span>" in card.split('class="answer-state"')[1].split("</div>")[0]


def test_the_address_may_come_back_lowercased_or_uppercased(app, invited):
    session, sofie = invited["session"], invited["sofie"]
    raw = reply("gmail_decline.eml", session.uid, invited["organizer"].upper(), sofie.email)
    assert "recorded" in receive(app, raw).output
    assert rsvp_of(session, sofie).answer == "no"


def test_unknown_uid_unknown_or_spoofed_attendee_and_forged_tags_are_ignored(app, invited):
    session, sofie, hanne = invited["session"], invited["sofie"], invited["hanne"]
    organizer = invited["organizer"]
    local, domain = organizer.split("@")
    contact_id, mac = local.split("+")[1].split(".")
    forged_mac = mac[:-1] + ("a" if mac[-1] != "a" else "b")
    cases = [
        reply("outlook_accept.eml", "no-such-uid@learnnet", organizer, sofie.email),
        reply("outlook_accept.eml", session.uid, organizer, hanne.email),  # Hanne poses as Sofie
        reply("outlook_accept.eml", session.uid, organizer, "stranger@example.org"),
        reply(
            "outlook_accept.eml",
            session.uid,
            f"{local.split('+')[0]}+{hanne.id}.{mac}@{domain}",  # Sofie's mac, Hanne's id
            hanne.email,
        ),
        reply(
            "outlook_accept.eml",
            session.uid,
            f"{local.split('+')[0]}+{contact_id}.{forged_mac}@{domain}",
            sofie.email,
        ),
        reply(
            "outlook_accept.eml", session.uid, f"someone+{contact_id}.{mac}@{domain}", sofie.email
        ),
    ]
    for raw in cases:
        result = receive(app, raw)
        assert result.exit_code == 0 and "ignored" in result.output, result.output
    assert rsvp_of(session, sofie) is None and rsvp_of(session, hanne) is None


def test_hostile_mail_is_refused_cleanly(app, invited):
    session, sofie = invited["session"], invited["sofie"]
    good = reply("thunderbird_accept.eml", session.uid, invited["organizer"], sofie.email)
    assert b"METHOD:REPLY" in good
    for raw in (
        good.replace(b"METHOD:REPLY", b"METHOD:REQUEST"),
        b"From: x@example.org\r\n\r\nno calendar here",
        b"\x00\xff" * 1000,
        good + b"X" * 5_000_000,
    ):
        result = receive(app, raw)
        assert result.exit_code == 0 and "ignored" in result.output
    assert rsvp_of(session, sofie) is None


def test_a_reply_for_a_full_session_waitlists_and_says_so(app, invited, network):
    session, sofie = invited["session"], invited["sofie"]
    session.capacity = 1
    db.session.commit()
    other = factories.contact(session.host, email="jan@example.org")
    db.session.commit()
    from learnnet.rsvp import services

    services.answer(session.id, other, "yes")
    raw = reply("thunderbird_accept.eml", session.uid, invited["organizer"], sofie.email)
    assert "waitlisted" in receive(app, raw).output
    assert rsvp_of(session, sofie).waitlisted
    notice = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "waitlisted", OutboxMessage.contact_id == sofie.id
        )
    )
    assert notice is not None and "wachtlijst" in notice.text_body


def test_a_renewed_personal_link_retires_the_old_reply_address(app, logged_in, invited):
    session, sofie = invited["session"], invited["sofie"]
    logged_in.post(f"/contacts/{sofie.id}/link/renew")
    raw = reply("outlook_accept.eml", session.uid, invited["organizer"], sofie.email)
    assert "ignored" in receive(app, raw).output
    assert rsvp_of(session, sofie) is None


def test_reply_address_is_never_the_recipient(app, invited):
    with app.test_request_context():
        assert imip.reply_address(invited["sofie"]) != invited["sofie"].email
    assert invited["organizer"].startswith("noreply+")
