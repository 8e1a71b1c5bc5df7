"""Issue 20 in a real browser: a season's invitations, one mail per person, answered from
the mail; and every kind of member mail, in Dutch, at phone width.

A live app of its own (not the demo: its networks were invited long ago) with one
network, seven sessions still to come and four contacts, one without an email address.
Mail goes to ``instance/outbox/`` as .eml files (the file backend), sent right after the
request that queued it.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from learnnet import MIGRATIONS, create_app
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from tests import factories
from tests.browser.conftest import PHONE, Live, no_horizontal_scroll, screenshot
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.browser

FACILITATOR = "els@example.org"
NETWORK = "Lerend netwerk Gent"


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A served app whose facilitator has seven sessions to come, nobody invited yet."""
    folder = tmp_path_factory.mktemp("season")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'season.sqlite3'}",
            "SECRET_KEY": TEST_SECRET,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_BACKEND": "file",
        },
        instance_path=str(folder / "instance"),
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        user = factories.user(email=FACILITATOR, name="Els Wouters")
        network = factories.network(facilitators=[user], name=NETWORK)
        zonnebloem = factories.facility(name="KDV De Zonnebloem", street="Kerkstraat 1")
        ukkepuk = factories.facility(name="Kinderopvang Ukkepuk", street="Dorpsstraat 5")
        for facility in (zonnebloem, ukkepuk):
            factories.member(network, facility)
        factories.contact(zonnebloem, name="Sofie Claes", email="sofie@example.org")
        factories.contact(zonnebloem, name="Hanne De Smet", email="hanne@example.org")
        factories.contact(
            ukkepuk, name="Jan Peeters", email="jan@example.org", preferred_language="en"
        )
        factories.contact(ukkepuk, name="Zonder Mail", email="")
        for n in range(7):
            host = (zonnebloem, ukkepuk)[n % 2]
            factories.session(network, host, days_ahead=10 + 21 * n)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", app, folder / "instance")
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(FACILITATOR)
    page.get_by_label("Wachtwoord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base}/")


def _eml_recipients(instance: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted((instance / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["Subject"].startswith(("Uitnodiging", "Invitation")):
            counts[message["To"].addresses[0].addr_spec] += 1
    return counts


def test_a_season_is_invited_with_one_mail_each_and_answered_from_the_mail(season, page_factory):
    facilitator = page_factory()
    _log_in(facilitator, season.url)
    facilitator.goto(f"{season.url}/")  # the dashboard's to-do: invitations not sent yet
    facilitator.locator("a.todo-action", has_text="Uitnodigingen versturen").first.click()
    send = facilitator.get_by_role("button", name=re.compile("naar 3 contactpersonen"))
    assert "één mail per persoon" in send.inner_text()
    send.click()
    facilitator.locator(".flashes").wait_for()
    screenshot(facilitator, "season-invitations-sent")

    with season.app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "invitation")
        ).all()
        per_person = Counter(m.recipient for m in rows)
        sofie = next(m for m in rows if m.recipient == "sofie@example.org")
        html, status = sofie.html_body, sofie.status
        db.session.remove()
    assert per_person == {"sofie@example.org": 1, "hanne@example.org": 1, "jan@example.org": 1}
    assert status == "sent"
    assert _eml_recipients(season.instance) == per_person  # one file each, too

    member = page_factory(PHONE)
    member.set_content(html)
    assert no_horizontal_scroll(member)
    dates = member.locator("div[style*='border-radius:12px']")
    assert dates.count() == 7
    third = dates.nth(2)
    when = third.locator("p").first.inner_text()
    third.get_by_role("link", name="Ja", exact=True).click()
    member.wait_for_url(re.compile(r"/m/.*answer=yes"))
    ready = member.locator("#ready")
    assert when.split(",")[0] in ready.inner_text()
    ready.get_by_role("button", name="Bevestig: ik kom").click()
    member.locator(".flashes").wait_for()
    with season.app.app_context():
        from learnnet.rsvp.models import Rsvp

        [rsvp] = db.session.scalars(select(Rsvp)).all()
        session_id, answer, contact = rsvp.session_id, rsvp.answer, rsvp.contact.name
        db.session.remove()
    assert (answer, contact) == ("yes", "Sofie Claes")

    facilitator.goto(f"{season.url}/sessions/{session_id}")
    row = facilitator.locator(".person-answer", has_text="Sofie Claes")
    assert "Komt" in row.inner_text()  # the facilitator's word for a yes
    assert when.split(",")[0] in facilitator.content()  # the date she pressed "Ja" for
    screenshot(facilitator, "season-answer-on-session-page")
