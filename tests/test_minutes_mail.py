"""The minutes mail and the agreement reminder with markup in every user-written field:
shown as text in the HTML part, as typed in the text part (as tests/test_mail_escaping.py
does for the session mails), in each contact's language."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from learnnet.extensions import db
from learnnet.learning import minutes_services as services
from learnnet.learning.minutes_models import Minutes
from learnnet.learning.models import AgendaItem
from learnnet.mail.models import OutboxMessage
from learnnet.timefmt import local_today
from tests import factories
from tests.test_mail_escaping import MARKUP, Tags, marked

OWN_TAGS = {"html", "head", "meta", "title", "body", "div", "p", "a", "br", "ul", "li", "span"}


def test_markup_in_every_field_is_text_in_the_minutes_mails(app, facilitator):
    facilitator.name = marked("facilitator")
    network = factories.network(facilitators=[facilitator], name=marked("network"))
    host = factories.facility(name=marked("host"))
    other = factories.facility(name=marked("other"))
    factories.member(network, host)
    factories.member(network, other)
    people = {
        language: factories.contact(
            host,
            name=marked(f"contact-{language}"),
            email=f"{language}@example.org",
            preferred_language=language,
        )
        for language in ("nl", "en")
    }
    factories.contact(other, name=marked("colleague"), email="other@example.org")
    session = factories.session(network, host, days_ahead=-3, title=marked("title"))
    db.session.add(AgendaItem(session_id=session.id, title=marked("item")))
    db.session.commit()
    item = db.session.scalar(select(AgendaItem))
    due = local_today() + timedelta(days=3)
    points = [
        services.ActionInput(None, marked("ours"), f"c-{people['nl'].id}", due),
        services.ActionInput(None, marked("facility"), f"f-{host.id}", due),
        services.ActionInput(None, marked("theirs"), f"f-{other.id}", due),
    ]
    with app.test_request_context(base_url="https://learnnet.example.org"):
        saved = services.save_minutes(
            session,
            facilitator,
            marked("general"),
            {f"item-{item.id}": marked("said")},
            points,
            publish=True,
        )
        assert saved.mailed == 3
        assert services.send_due_action_reminders(local_today()) == 4  # 2 + 1 + 1
    messages = list(db.session.scalars(select(OutboxMessage)))
    assert {m.kind for m in messages} == {"minutes", "action_reminder"}
    for message in messages:
        where = f"{message.kind} to {message.recipient}"
        parser = Tags()
        parser.feed(message.html_body)
        assert parser.tags <= OWN_TAGS, where
        assert "onerror" not in parser.attributes, where
        for markup in MARKUP:
            assert markup not in message.html_body, where
        assert "&lt;b&gt;x&lt;/b&gt;" in message.html_body, where
        assert MARKUP[0] in message.text_body and MARKUP[1] in message.text_body, where
        assert "&lt;" not in message.text_body and "&amp;" not in message.text_body, where
    minutes_nl = next(
        m for m in messages if m.kind == "minutes" and m.recipient == "nl@example.org"
    )
    assert minutes_nl.subject.startswith("Verslag: ")
    assert marked("said") in minutes_nl.text_body and marked("general") in minutes_nl.text_body
    text = minutes_nl.text_body
    assert text.index(marked("ours")) < text.index(marked("said")) < text.index(marked("theirs"))
    minutes_en = next(
        m for m in messages if m.kind == "minutes" and m.recipient == "en@example.org"
    )
    assert minutes_en.subject.startswith("Minutes: ")
    reminder = next(
        m for m in messages if m.kind == "action_reminder" and m.recipient == "en@example.org"
    )
    assert reminder.subject.startswith("Reminder: your agreement")
    assert db.session.get(Minutes, session.id).is_published
