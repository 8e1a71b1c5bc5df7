"""The learning side in a real browser, at phone and laptop width: the facilitator writes
a programme, a member adds her learning question from her personal page, and the
facilitator sees it on the session page under the member's facility."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Network
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import CANCELLED, Session
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _gent(live) -> tuple[int, str, str]:
    """The Gent network's next session, Sofie's token and her facility's name."""
    with live.app.app_context():
        network = db.session.scalar(select(Network).where(Network.slug == "gent-baby-peuter"))
        session_id = db.session.scalar(
            select(Session.id)
            .where(
                Session.network_id == network.id,
                Session.starts_at > utcnow(),
                Session.status != CANCELLED,
            )
            .order_by(Session.starts_at)
        )
        sofie = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        token = token_of(ensure_link(sofie))
        facility = sofie.facility.name
        db.session.commit()
        db.session.remove()
    return session_id, token, facility


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_programme_learning_question_and_the_facilitators_view(
    live, live_server, page_factory, viewport
):
    width = viewport["width"]
    session_id, token, facility = _gent(live)
    item = f"Oefenen met voorleesboekjes ({width})"
    question = f"Hoe lees ik voor aan baby's die nog niet stilzitten? ({width})"

    # The facilitator adds an agenda item led by the host, moves it up, sets the question.
    facilitator = page_factory(viewport)
    log_in(facilitator, live_server)
    facilitator.goto(f"{live_server}/sessions/{session_id}")
    facilitator.get_by_role("link", name="Programma bewerken").click()
    facilitator.get_by_label("Agendapunt", exact=True).fill(item)
    facilitator.get_by_label("Duur in minuten").fill("twintig")
    facilitator.get_by_role("button", name="Toevoegen").click()
    expect(facilitator.locator("#add-minutes-error")).to_contain_text("als getal")
    expect(facilitator.get_by_label("Agendapunt", exact=True)).to_have_value(item)
    facilitator.get_by_label("Duur in minuten").fill("20")
    facilitator.get_by_role("radio", name="De gastvoorziening").check()
    facilitator.get_by_role("button", name="Toevoegen").click()
    row = facilitator.locator("li.agenda-row", has_text=item)
    expect(row).to_contain_text("20 min.")
    before = facilitator.locator("li.agenda-row").count()
    row.get_by_role("button", name=f"“{item}” naar boven").click()
    rows = facilitator.locator("li.agenda-row")
    expect(rows.nth(before - 2)).to_contain_text(item)
    facilitator.get_by_label("Voorbereidingsvraag").fill("Breng je lievelingsprentenboek mee.")
    facilitator.get_by_role("button", name="Opslaan").first.click()
    expect(facilitator.locator(".flash-success")).to_contain_text("Programma bewaard")
    assert no_horizontal_scroll(facilitator)
    screenshot(facilitator, f"learning-programme-{width}")

    # The member sees the programme and writes her learning question for that session.
    member = page_factory(viewport)
    member.goto(f"{live_server}/m/{token}")
    expect(member.locator("#learning")).to_contain_text("Taal in de leefgroep")
    card = member.locator(f"#session-{session_id}")
    card.locator("summary", has_text="Programma").click()
    expect(card).to_contain_text(item)
    expect(card).to_contain_text("Breng je lievelingsprentenboek mee.")
    assert no_horizontal_scroll(member)
    screenshot(member, f"learning-member-{width}")
    card.get_by_role("link", name="Schrijf een leervraag voor deze bijeenkomst").click()
    expect(member.get_by_label("Voor")).to_have_value(f"session-{session_id}")
    member.get_by_label("Je leervraag").fill(question)
    member.get_by_role("button", name="Bezorg aan de begeleider").click()
    expect(member.locator(".flash-success")).to_contain_text("De begeleider ziet je leervraag")
    expect(member.locator("#mine")).to_contain_text(question)
    assert no_horizontal_scroll(member)
    screenshot(member, f"learning-member-questions-{width}")

    # The facilitator finds it on the session page, under her facility.
    facilitator.goto(f"{live_server}/sessions/{session_id}#learning-questions")
    group = facilitator.locator("#learning-questions .question-group", has_text=question)
    expect(group.locator("h3")).to_contain_text(facility)
    expect(facilitator.locator("#programme")).to_contain_text(item)
    assert no_horizontal_scroll(facilitator)
    screenshot(facilitator, f"learning-session-{width}")
