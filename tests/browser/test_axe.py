"""Accessibility: axe-core (from tests/js/node_modules, installed by `make test`) finds no
violation on the main pages, in Dutch, at phone and laptop width (issue 12, quality)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import Session
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"


def _a_poll() -> int:
    """The open season poll of the demo's Gent network (made once per live app)."""
    from datetime import timedelta

    from learnnet.auth.models import User
    from learnnet.networks.models import Network
    from learnnet.planning.poll_models import Poll
    from learnnet.planning.poll_services import create_poll
    from learnnet.timefmt import local_today

    network = db.session.scalar(select(Network).where(Network.slug == "gent-baby-peuter"))
    found = db.session.scalar(select(Poll.id).where(Poll.network_id == network.id))
    if found:
        return found
    actor = db.session.scalar(select(User).where(User.role == "facilitator"))
    today = local_today(network.timezone)
    days = [today + timedelta(days=30 + 7 * k) for k in range(4)]
    return create_poll(network, actor, days, today + timedelta(days=14), "Welke dinsdag?").id


def _paths(live) -> list[str]:
    with live.app.app_context():
        session = db.session.scalar(select(Session).order_by(Session.starts_at.desc()))
        facility = db.session.scalar(select(Facility).order_by(Facility.id))
        contact = db.session.scalar(select(Contact).where(Contact.email.like("sofie%")))
        token = token_of(ensure_link(contact))
        db.session.commit()
        poll = _a_poll()
        paths = [
            "/",
            "/networks/gent-baby-peuter",
            "/networks/gent-baby-peuter/sessions",
            "/networks/gent-baby-peuter/plan",
            "/networks/gent-baby-peuter/import",
            "/facilities",
            f"/facilities/{facility.id}",
            f"/sessions/{session.id}",
            f"/m/{token}",
            f"/m/{token}/history",
            "/m/lost",
            f"/networks/gent-baby-peuter/polls/{poll}",
            f"/m/{token}/polls/{poll}",
            f"/networks/gent-baby-peuter/facilities/{contact.facility_id}/jaaroverzicht",
            f"/m/{token}/networks/{contact.facility.memberships[0].network_id}/jaaroverzicht",
        ]
        db.session.remove()
    return paths


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violation_on_the_main_pages(live, browser, viewport):
    assert AXE.exists(), "run `make test` (it installs tests/js/node_modules)"
    source = AXE.read_text()
    # bypass_csp: axe is injected by the test, the app's pages forbid inline script.
    context = browser.new_context(viewport=viewport, locale="nl-BE", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live.url)
        found = {}
        for path in _paths(live):
            page.goto(live.url + path)
            page.wait_for_load_state("load")
            page.evaluate(source)
            result = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']}))"
                ".violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3)"
                ".map(n => n.target.join(' '))}))"
            )
            if result:
                found[path] = result
        assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
        # The check can fail: an image without text on the last page is found.
        page.evaluate("document.body.appendChild(document.createElement('img')).src = 'x.png'")
        broken = page.evaluate("async () => (await axe.run(document)).violations.map(v => v.id)")
        assert "image-alt" in broken
    finally:
        context.close()
