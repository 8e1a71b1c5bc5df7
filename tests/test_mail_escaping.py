"""Every mail kind the outbox can produce, with markup in every user-written field
(issue 19, item 7): the HTML part shows that markup as text, never as tags; the text
part shows it as typed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select

from learnnet.auth import services as auth_services
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.rsvp import notify
from learnnet.rsvp.models import Rsvp
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
MARKUP = ("<b>x</b>", '"><img src=x onerror=alert(1)>')
# The tags the mail templates write themselves; anything else came from a user's field.
OWN_TAGS = {"html", "head", "meta", "title", "body", "div", "p", "a", "br"}
# Every kind the session message's intro knows.
SESSION_KINDS = set(
    re.findall(r'kind == "(\w+)"', (ROOT / "templates" / "mail" / "_intro.txt").read_text())
)


def marked(label: str) -> str:
    """A field value with both kinds of markup around a recognisable word."""
    return f"{MARKUP[0]}{label}{MARKUP[1]}"


class Tags(HTMLParser):
    """The tags and attribute names of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


@pytest.fixture
def everything_marked(app, facilitator):
    """A network, host, session and contacts whose every user-written text holds markup."""
    facilitator.name = marked("facilitator")
    network = factories.network(
        facilitators=[facilitator],
        name=marked("network"),
        description=marked("description"),
        region=marked("region"),
    )
    host = factories.facility(
        name=marked("host"),
        street=marked("street"),
        city=marked("city"),
        accessibility_notes=marked("access"),
        parking_notes=marked("parking"),
    )
    factories.member(network, host)
    session = factories.session(
        network,
        host,
        days_ahead=3,
        title=marked("title"),
        agenda=marked("agenda"),
        host_showcase=marked("showcase"),
        practical_info=marked("practical"),
    )
    from learnnet.learning.models import AgendaItem, SessionProgramme

    db.session.add(AgendaItem(session_id=session.id, title=marked("item"), lead_kind="host"))
    db.session.add(SessionProgramme(session_id=session.id, prepare_question=marked("prepare")))
    contacts = {
        language: factories.contact(
            host,
            name=marked(f"contact-{language}"),
            email=f"{language}@example.org",
            function=marked("function"),
            preferred_language=language,
        )
        for language in ("nl", "en")
    }
    db.session.commit()
    return session, contacts


def _queue_every_kind(app, session, contacts, facilitator) -> None:
    with app.test_request_context(base_url="https://learnnet.example.org"):
        for contact in contacts.values():
            notify.invitation(session, contact)  # the host branch: "your facility hosts"
            notify.nudge(session, contact)
            notify.host_request(session, contact)
            notify.change_notice(session, contact, frozenset({"time"}))
            notify.cancellation(session, contact)
            for waitlisted in (False, True):
                rsvp = Rsvp(session=session, contact=contact, answer="yes", waitlisted=waitlisted)
                notify.promoted(rsvp)
                notify.waitlisted(rsvp)
                notify.reminder(session, contact, 1 + waitlisted, rsvp)
                notify.confirmation(rsvp)
            notify.reminder(session, contact, 7, None)
        admin = factories.user(name=marked("admin"), role="admin")
        for language in ("nl", "en"):
            auth_services.invite_user(
                f"new-{language}@example.org", marked("user"), locale=language, invited_by=admin
            )
            auth_services.request_password_reset(f"new-{language}@example.org", language)
    db.session.commit()


def test_markup_in_every_field_is_text_in_every_mail_kind(app, facilitator, everything_marked):
    session, contacts = everything_marked
    _queue_every_kind(app, session, contacts, facilitator)
    messages = list(db.session.scalars(select(OutboxMessage)))
    assert len(SESSION_KINDS) == 9
    assert {m.kind for m in messages} == SESSION_KINDS | {"account_invite", "password_reset"}
    for message in messages:
        where = f"{message.kind} to {message.recipient}"
        parser = Tags()
        parser.feed(message.html_body)
        assert parser.tags <= OWN_TAGS, where
        assert "onerror" not in parser.attributes, where
        for markup in MARKUP:
            assert markup not in message.html_body, where
        # What was typed is shown, escaped, in the HTML and as typed in the text.
        assert "&lt;b&gt;x&lt;/b&gt;" in message.html_body, where
        assert "&lt;img src=x onerror=alert(1)&gt;" in message.html_body, where
        assert MARKUP[0] in message.text_body and MARKUP[1] in message.text_body, where
        assert "&lt;" not in message.text_body and "&amp;" not in message.text_body, where


def test_the_network_name_in_the_invitation_sentence_is_escaped(
    app, facilitator, everything_marked
):
    """The finding itself: the sentence "You are invited to the next session of …"."""
    session, contacts = everything_marked
    with app.test_request_context():
        message = notify.invitation(session, contacts["en"])
    db.session.commit()
    sentence = next(line for line in message.html_body.splitlines() if "a session of" in line)
    assert "&lt;b&gt;x&lt;/b&gt;network&#34;&gt;&lt;img" in sentence
    assert "<img" not in sentence
    text = next(line for line in message.text_body.splitlines() if "a session of" in line)
    assert marked("network") in text


def test_the_invitation_shows_the_programme_and_the_question_to_prepare_as_text(
    app, facilitator, everything_marked
):
    """The learning room's part of the invitation (one session): its agenda items and
    the question to prepare, escaped in the HTML and as typed in the text."""
    session, contacts = everything_marked
    with app.test_request_context(base_url="https://learnnet.example.org"):
        notify.invitation(session, contacts["nl"])
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "invitation"))
    for label in ("item", "prepare"):
        assert f"{MARKUP[0]}{label}{MARKUP[1]}" in message.text_body, label
        assert str(escape(f"{MARKUP[0]}{label}{MARKUP[1]}")) in message.html_body, label
    assert "Programma" in message.text_body and "Voorbereiden" in message.html_body
    parser = Tags()
    parser.feed(message.html_body)
    assert parser.tags <= OWN_TAGS
