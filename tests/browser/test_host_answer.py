"""Issue 21.2 in a real browser at 375 px: the host says "no, it is not possible" with a
reason on its own page; the facilitator's dashboard flags the session, and one click on
the session page gives it the planner's choice of another host."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Network
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import CANCELLED, Session
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _host_and_session(live) -> tuple[str, int, str]:
    """(host contact's token, session id, host name) of an upcoming session of the demo
    facilitator's first network."""
    with live.app.app_context():
        network_ids = list(
            db.session.scalars(
                select(Network.id)
                .join(Network.facilitators)
                .where(User.email == "begeleider@example.org")
            )
        )
        session = db.session.scalar(
            select(Session)
            .where(
                Session.network_id.in_(network_ids),
                Session.status != CANCELLED,
                Session.starts_at > utcnow() + timedelta(days=2),
            )
            .order_by(Session.starts_at)
            .limit(1)
        )
        contact = db.session.scalar(
            select(Contact)
            .where(Contact.facility_id == session.host_facility_id, Contact.active.is_(True))
            .limit(1)
        )
        token = token_of(ensure_link(contact))
        db.session.commit()
        found = (token, session.id, session.host.name)
        db.session.remove()
        return found


def test_host_declines_and_the_facilitator_replaces_the_host_in_one_click(live, page_factory):
    token, session_id, host_name = _host_and_session(live)
    host = page_factory(PHONE)
    host.goto(f"{live.url}/m/{token}?all=1#session-{session_id}")
    box = host.locator(f"#host-{session_id}")
    assert box.get_by_text("Ruimte voor").count() == 1
    box.locator("summary", has_text="Nee, het lukt niet").click()
    box.get_by_label("Reden (niet verplicht)").fill("Onze zaal wordt geschilderd")
    screenshot(host, "host-decline-form-375")
    assert no_horizontal_scroll(host)
    box.get_by_role("button", name="Laat de begeleider weten dat het niet lukt").click()
    host.wait_for_load_state("load")
    assert host.locator(".flash-success", has_text="De begeleider is verwittigd").count() == 1
    box = host.locator(f"#host-{session_id}")
    assert box.get_by_text("Je liet weten dat jullie deze bijeenkomst niet kunnen").count() == 1
    assert box.get_by_role("button", name="We kunnen toch ontvangen").count() == 1
    screenshot(host, "host-declined-375")
    assert no_horizontal_scroll(host)

    page = page_factory(PHONE)
    log_in(page, live.url)
    conflict = page.locator(".conflict", has=page.locator(f"a[href^='/sessions/{session_id}']"))
    assert conflict.count() == 1
    assert "niet kan ontvangen" in conflict.inner_text()
    screenshot(page, "dashboard-host-declined-375")
    assert no_horizontal_scroll(page)
    conflict.locator(f"a[href^='/sessions/{session_id}']").click()
    flag = page.locator("#flag")
    assert flag.count() == 1
    assert page.locator("#host-declined", has_text="Onze zaal wordt geschilderd").count() == 1
    screenshot(page, "session-host-declined-375")
    assert no_horizontal_scroll(page)
    flag.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator("#flag").count() == 0
    assert page.locator("#host-declined").count() == 0
    assert page.locator(".flash-success").count() == 1
    assert host_name not in page.locator(".grid-2 .card").first.inner_text()
