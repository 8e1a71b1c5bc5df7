"""Every kind of mail, in Dutch, as a phone shows it (issue 20, quality): each HTML part is
rendered in Chromium at 375 px, saved to test-artifacts/mail-<name>.png for people to look
at, and must fit the width (no horizontal scroll) and speak Dutch."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from learnnet.auth import services as auth
from learnnet.calendar import imip
from learnnet.extensions import db
from learnnet.learning import evaluation_services, minutes_services
from learnnet.learning.actions import REMINDER_DAYS
from learnnet.mail import services as mail
from learnnet.mail.models import OutboxMessage
from learnnet.networks import services as networks
from learnnet.planning.poll_services import create_poll
from learnnet.rsvp import notify
from learnnet.rsvp.models import Rsvp
from learnnet.sessions.before import snapshot
from learnnet.timefmt import local_today
from tests import factories
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot
from tests.test_dutch_words import TELL_TALE, visible_words

pytestmark = pytest.mark.browser


def _every_kind(app, network, facilitator) -> dict[str, str]:
    """One mail of every kind a member or facilitator can get, by name: its HTML part."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    zonnebloem.street = "Sint-Pietersnieuwstraat 233"  # a long address, as in real life
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    host = factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    sessions = [
        factories.session(
            network,
            (zonnebloem, ukkepuk)[n % 2],
            days_ahead=10 + 21 * n,
            agenda="Welkom\nWat werkt bij het wennen?\nAfspraken voor de volgende keer",
        )
        for n in range(3)
    ]
    first = sessions[0]
    first.rsvp_deadline = first.starts_at - timedelta(days=2)
    db.session.commit()
    html: dict[str, str] = {}

    def keep(name: str, message: OutboxMessage | None) -> None:
        assert message is not None, name
        html[name] = message.html_body

    keep("invitation", notify.invitation(first, sofie))
    keep("invitation-season", notify.invitation_for(sessions, sofie))
    before = snapshot(first)
    first.starts_at += timedelta(days=1)
    first.ends_at += timedelta(days=1)
    first.host = ukkepuk
    first.revision += 1
    keep("change", notify.change_notice(first, sofie, frozenset({"time", "place"}), before))
    first.revision += 1
    keep("restored", notify.change_notice(first, sofie, frozenset({"time", "restored"})))
    first.revision += 1
    first.status, first.cancel_reason = "cancelled", "De zaal is niet beschikbaar door een lek."
    keep("cancellation", notify.cancellation(first, sofie))
    first.status = "planned"
    second = sessions[1]
    rsvp = Rsvp(session=second, contact=sofie, answer="yes", waitlisted=False)
    db.session.add(rsvp)
    keep("promotion", notify.promoted(rsvp))
    keep("confirmation", notify.confirmation(rsvp))
    keep("reminder-registered", notify.reminder(second, sofie, 1, rsvp))
    keep("reminder", notify.reminder(sessions[2], sofie, 7, None))
    keep("nudge", notify.nudge(sessions[2], sofie))
    keep("waitlisted", notify.waitlisted(Rsvp(session=sessions[2], contact=sofie, answer="yes")))
    keep("host-request", notify.host_request(second, host))
    keep("evaluation", evaluation_services.evaluation_mail(second, sofie))
    notify.host_declined(second, host)
    notify.member_message(SimpleNamespace(session=second, contact=sofie, body="Ik kom later."))
    notify.link_again("sofie@example.org")
    for kind in ("host_declined", "member_message", "link_again"):
        keep(kind, db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == kind)))
    for reason in ("outdated", "left_network"):
        template = "calendar_refused" if reason == "outdated" else "calendar_removed"
        rendered = mail.render(
            template,
            "nl",
            lambda: "-",
            **imip._mail_context(second, sofie),
            reason=reason,
            answer="yes",
            facility=zonnebloem,
        )
        html[template] = rendered.html
    _newer_kinds(network, facilitator, zonnebloem, sofie, keep)
    auth.invite_user("nieuw@example.org", "Nieuwe Begeleider", locale="nl", invited_by=facilitator)
    auth.request_password_reset(facilitator.email, "nl")
    for kind in ("account_invite", "password_reset"):
        keep(kind, db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == kind)))
    db.session.rollback()
    return html


def _newer_kinds(network, facilitator, zonnebloem, sofie, keep) -> None:
    """The season poll's invitation and reminder, published minutes with an agreement of
    Sofie's facility, that agreement's reminder, and another network asking her facility
    to join: each made by its service, as the app sends it. Commits."""
    today = local_today()
    first = today + timedelta(days=40)
    poll = create_poll(
        network,
        facilitator,
        [first + timedelta(days=7 * n) for n in range(4)],
        first - timedelta(days=10),
        "Welke data passen in het voorjaar?",
    )
    keep("poll_invitation", notify.poll_mail(poll, sofie, False, today))
    keep("poll_reminder", notify.poll_mail(poll, sofie, True, today))
    held = factories.session(network, zonnebloem, days_ahead=-7, agenda="Welkom\nWennen")
    due = today + timedelta(days=REMINDER_DAYS)
    minutes_services.save_minutes(
        held,
        facilitator,
        "We spraken over het wennen van baby's en over de rol van de ouders daarbij.",
        {},
        [
            minutes_services.ActionInput(
                None, "Een wenschema voor nieuwe ouders opstellen", f"f-{zonnebloem.id}", due
            ),
            minutes_services.ActionInput(
                None, "Foto's van de speelhoek delen met het netwerk", f"c-{sofie.id}", due
            ),
        ],
        publish=True,
    )
    minutes_services.send_due_action_reminders(today)
    other = factories.network(
        facilitators=[factories.user(email="tom@example.org", name="Tom Janssens")],
        name="Lerend netwerk Limburg — buitenspelen",
    )
    networks.add_member(other, zonnebloem, today, other.facilitators[0])
    for kind in ("minutes", "action_reminder", "membership_request"):
        keep(
            kind,
            db.session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind, OutboxMessage.contact_id == sofie.id)
                .order_by(OutboxMessage.id)
            ),
        )


def test_every_mail_kind_fits_a_phone_and_speaks_dutch(app, network, facilitator, page_factory):
    facilitator.locale = "nl"
    db.session.commit()
    with app.test_request_context("/"):
        kinds = _every_kind(app, network, facilitator)
    assert len(kinds) >= 25
    page = page_factory(PHONE)
    for name, html in kinds.items():
        page.set_content(html)
        screenshot(page, f"mail-{name}")
        assert no_horizontal_scroll(page), name
        english = visible_words(html) & TELL_TALE - {"host"}
        assert not english, (name, english)
        links = page.locator("a")
        for i in range(links.count()):
            box = links.nth(i).bounding_box()
            assert box is None or box["x"] + box["width"] <= PHONE["width"] + 1, name


def test_a_change_mail_marks_the_change_in_words_and_colour_at_phone_width(
    app, network, page_factory
):
    with app.test_request_context("/"):
        kinds = _every_kind(app, network, network.facilitators[0])
    page = page_factory(PHONE)
    page.set_content(kinds["change"])
    changed = page.locator(".fact", has_text="(gewijzigd)")
    assert changed.count() == 3  # date, host and address; the time of day stays
    time = page.locator(".fact", has_text="Uur")
    assert re.search(r"\d{2}:\d{2}–\d{2}:\d{2}", time.inner_text())
    assert "Eerst" not in time.inner_text()
    host = page.locator(".fact", has_text="Gastvoorziening")
    assert "Eerst: KDV De Zonnebloem" in host.inner_text()
    assert "Nu: Kinderopvang Ukkepuk" in host.inner_text()
    struck = host.locator("s")
    assert "line-through" in struck.evaluate("e => getComputedStyle(e).textDecorationLine")
    colour = host.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour != time.evaluate("e => getComputedStyle(e).backgroundColor")
