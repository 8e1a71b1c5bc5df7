"""Walk every route of the URL map with every role.

A new route fails this test until its view declares who may use it
(``@requires(...)``) and behaves accordingly for anonymous users, a facilitator
of another network, a facilitator of this network and an admin. Every route that takes
a POST is walked with a POST too, the write a form or a script sends without any API,
also where the page itself is a GET.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from learnnet.access import (
    ADMIN,
    API_TOKEN,
    CALENDAR_FEED,
    CONTACT,
    FACILITY,
    MEMBER_FACILITY,
    NETWORK,
    NETWORK_CREATOR,
    PERSONAL_LINK,
    PUBLIC,
    SESSION,
    USER,
)
from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.sessions.models import Blackout, Series, Unavailability
from tests import factories
from tests.conftest import login

# shared_facilitator: facilitates another network of which the world's facility is a member.
# asking_facilitator: facilitates a network that added the world's facility through the
# "add an existing facility" form (issue 19): that only asked it to join, and opens nothing.
ROLES = (
    "anonymous",
    "other_facilitator",
    "asking_facilitator",
    "shared_facilitator",
    "facilitator",
    "admin",
)
ALLOWED = {
    PUBLIC: set(ROLES),
    # The token is the identity: anyone holding the link may use it, logged in or not.
    PERSONAL_LINK: set(ROLES),
    CALENDAR_FEED: set(ROLES),
    USER: {"other_facilitator", "asking_facilitator", "shared_facilitator", "facilitator", "admin"},
    ADMIN: {"admin"},
    # The world's facilitator was granted the right to start networks; the others were not.
    NETWORK_CREATOR: {"facilitator", "admin"},
    NETWORK: {"facilitator", "admin"},
    FACILITY: {"shared_facilitator", "facilitator", "admin"},
    MEMBER_FACILITY: {"shared_facilitator", "facilitator", "admin"},
    CONTACT: {"shared_facilitator", "facilitator", "admin"},
    SESSION: {"facilitator", "admin"},
    # A bearer token is the only identity of the API: a login cookie opens nothing (401),
    # whoever's it is. What each token sees: test_every_api_route_checks_the_token.
    API_TOKEN: set(),
}


@pytest.fixture
def world(app, network, facilitator, admin):
    facilitator.may_create_networks = True
    other = factories.user(email="other@example.org", name="Other")
    factories.network(facilitators=[other], name="Ander netwerk")
    shared = factories.user(email="shared@example.org", name="Shared")
    shared_network = factories.network(facilitators=[shared], name="Gedeeld netwerk")
    membership = network.memberships[0]
    facility = membership.facility
    factories.member(shared_network, facility)
    asking = factories.user(email="asking@example.org", name="Asking")
    asking_network = factories.network(facilitators=[asking], name="Vragend netwerk")
    db.session.commit()
    client = app.test_client()
    login(client, asking.email)
    added = client.post(
        f"/networks/{asking_network.slug}/members/add", data={"facility_id": facility.id}
    )
    assert added.status_code == 302
    contact = facility.contacts[0]
    series = Series(
        network=network, kind="weekly", start_time=time(19, 0), duration_minutes=150, title="Reeks"
    )
    db.session.add(series)
    db.session.flush()
    session = factories.session(network, facility, series_id=series.id)
    blackout = Blackout(
        network=network, starts_on=date(2027, 7, 1), ends_on=date(2027, 8, 31), label="Zomer"
    )
    closed = Unavailability(facility=facility, starts_on=date(2027, 2, 1), ends_on=date(2027, 2, 7))
    db.session.add_all([blackout, closed])
    db.session.commit()
    from learnnet.rsvp.contacts import ensure_link, token_of

    token = token_of(ensure_link(contact))
    db.session.commit()
    from learnnet.auth.services import INVITE, RESET, make_account_token

    # One-time links of an account nobody logs in or out with during the walk.
    invited = factories.user(email="invited@example.org", name="Invited")
    reset_token = make_account_token(invited, RESET)
    invite_token = make_account_token(invited, INVITE)
    from learnnet.calendar.services import ensure_feed
    from learnnet.calendar.services import token_of as feed_token_of

    feed_token = feed_token_of(ensure_feed("network", network.id))
    from learnnet.attendance.models import CheckinSetting

    # The host's contacts may check people in (the contact works at the host facility).
    db.session.add(CheckinSetting(session_id=session.id, host_may_check_in=True, code="qr-code-1"))
    from learnnet.networks.models import MembershipRequest

    # A pending request of the network to the facility whose contact holds the link, so
    # that the facilitator's, the admin's and the contact's routes all find it.
    asked = MembershipRequest(network=network, facility=facility, joined_on=date(2026, 9, 1))
    db.session.add(asked)
    db.session.commit()
    from datetime import timedelta

    from learnnet.planning.poll_services import create_poll
    from learnnet.timefmt import local_today

    poll_day = local_today() + timedelta(days=30)
    poll = create_poll(network, facilitator, [poll_day], poll_day, "Welke data passen?")
    from tests.api_helpers import make_token

    api_token, _ = make_token(facilitator, [network])
    from learnnet.learning.minutes_models import PUBLISHED, ActionPoint, Minutes

    # Published minutes with an agreement of the link holder's facility (issue 23.4).
    minutes = Minutes(session_id=session.id, status=PUBLISHED, general_text="Verslag")
    action = ActionPoint(
        minutes=minutes,
        network_id=network.id,
        what="Voorleeshoek",
        owner_facility_id=facility.id,
        due_on=poll_day,
    )
    db.session.add_all([minutes, action])
    db.session.commit()
    from learnnet.learning.models import AgendaItem, LearningQuestion

    item = AgendaItem(session_id=session.id, position=0, title="Welkom", lead_kind="host")
    question = LearningQuestion(
        contact_id=contact.id,
        network_id=network.id,
        session_id=session.id,
        start_year=2026,
        text="Hoe betrekken we vaders meer?",
    )
    db.session.add_all([item, question])
    from learnnet.api.models import WebhookDelivery, WebhookEndpoint

    hook = WebhookEndpoint(url="http://127.0.0.1:9/hook", secret="whsec_AA==", events=[])
    delivery = WebhookDelivery(endpoint=hook, event_id="msg_1", event="session.held", body="{}")
    db.session.add_all([hook, delivery])
    db.session.commit()
    from learnnet.learning.material_services import add as add_material
    from learnnet.learning.material_store import DatabaseStore
    from tests.material_files import pdf

    # A file of the session, added by the facilitator: the member may see it, not delete it.
    material = add_material(
        DatabaseStore(),
        network,
        pdf(),
        "plan.pdf",
        photo_confirmed=False,
        today=local_today(),
        limit=10**6,
        session=session,
        user=facilitator,
    )
    return {
        "webhook_id": hook.id,
        "delivery_id": delivery.id,
        "network_id": network.id,
        "token_id": api_token.id,
        "action_id": action.id,
        "item_id": item.id,
        "question_id": question.id,
        "material_id": material.public_id,
        "poll_id": poll.id,
        "code": "qr-code-1",
        "feed_token": feed_token,
        "session_id": session.id,
        "series_id": series.id,
        "blackout_id": blackout.id,
        "period_id": closed.id,
        "event_id": db.session.scalar(
            db.select(AuditEvent.id).where(AuditEvent.facility_id == facility.id).limit(1)
        ),
        "token": token,
        "reset_token": reset_token,
        "invite_token": invite_token,
        "slug": network.slug,
        "facility_id": facility.id,
        "contact_id": contact.id,
        "membership_id": membership.id,
        "request_id": asked.id,
        "user_id": facilitator.id,
        "accounts": {
            "other_facilitator": other,
            "asking_facilitator": asking,
            "shared_facilitator": shared,
            "facilitator": facilitator,
            "admin": admin,
        },
    }


def routes(app):
    """Every rule; those that delete the world's rows come after the pages that show them
    (e.g. a confirmation page), those that retire its links or memberships last, and the
    deletions that a confirmation page's POST makes (its session, its series) after all."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    yield from sorted(
        rules,
        key=lambda r: (
            r.endpoint.endswith("_delete") and "GET" in r.methods,
            r.endpoint.endswith(("_renew", "_leave", "checkin_settings", "_withdraw")),
            r.endpoint == "rsvp.contact_link_renew",  # the personal link itself: last of all
            r.endpoint.endswith("_delete") and "GET" not in r.methods,
        ),
    )


def test_every_route_declares_an_access_rule(app):
    missing = [
        r.endpoint
        for r in routes(app)
        if getattr(app.view_functions[r.endpoint], "access_rule", None) is None
    ]
    assert missing == [], f"routes without @requires(...): {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_checks_who_may_use_it(app, world, role):
    """Each role walks the whole map on its own fresh data (deleting routes delete once)."""
    checked = 0
    writes = 0
    for rule in routes(app):
        access = app.view_functions[rule.endpoint].access_rule
        url = rule.build({k: world[k] for k in rule.arguments}, append_unknown=False)[1]
        # The page, then the write with nothing filled in (a form's POST, or a script's).
        for method in [m for m in ("GET", "POST", "PATCH") if m in rule.methods]:
            client = app.test_client()
            if role != "anonymous":
                assert login(client, world["accounts"][role].email).status_code == 302
            response = client.open(url, method=method)
            where = f"{role} {method} {url} ({rule.endpoint}, rule {access})"
            assert response.status_code != 500, where
            if access == API_TOKEN:
                # No token: 401 for a read or a write, whoever is logged in.
                assert response.status_code == 401, where
                assert response.mimetype == "application/problem+json", where
            elif role in ALLOWED[access]:
                assert response.status_code not in (401, 403, 404), where
                assert not (response.location or "").startswith("/login?next="), where
            elif role == "anonymous":
                assert response.status_code == 302, where
                assert response.location.startswith("/login?next="), where
            else:
                assert response.status_code == 403, where
            checked += 1
            writes += method != "GET"
    assert checked >= 30 and writes >= 30


def test_leaving_ends_access_to_the_people_but_not_to_the_name(app, network):
    """A facilitator sees a facility's people only while it is a member of their network."""
    from learnnet.networks.models import Membership

    shared = factories.user(email="shared@example.org", name="Shared")
    theirs = factories.network(facilitators=[shared], name="Gedeeld netwerk")
    facility = network.memberships[0].facility
    contact = facility.contacts[0]
    factories.member(theirs, facility)
    db.session.commit()
    client = app.test_client()
    login(client, shared.email)
    assert client.get(f"/contacts/{contact.id}/edit").status_code == 200
    page = client.get(f"/facilities/{facility.id}").get_data(as_text=True)
    assert contact.name in page
    membership = db.session.scalar(
        db.select(Membership).where(
            Membership.network_id == theirs.id, Membership.facility_id == facility.id
        )
    )
    membership.left_on = date(2026, 1, 1)
    db.session.commit()
    assert client.get(f"/contacts/{contact.id}/edit").status_code == 403
    assert client.get(f"/contacts/{contact.id}/link").status_code == 403
    assert (
        client.post(f"/facilities/{facility.id}/contacts/new", data={"name": "X"}).status_code
        == 403
    )
    page = client.get(f"/facilities/{facility.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert facility.name in html and contact.name not in html and (contact.email or "@") not in html


def test_no_personal_link_page_shows_another_contacts_history(app, network):
    """Issue 21.3: the history and certificate pages (and every other page a personal link
    opens with the token alone) show only the link holder's own attendance."""
    from datetime import timedelta

    from learnnet.attendance.models import Attendance
    from learnnet.models import utcnow
    from learnnet.rsvp.contacts import ensure_link, token_of

    first, second = (m.facility for m in network.memberships)
    owner = factories.contact(first, name="Griet Vandamme")
    other = factories.contact(second, name="Bart Peeters")
    start = utcnow() - timedelta(days=5)
    held = factories.session(network, first, starts_at=start, ends_at=start + timedelta(hours=2))
    db.session.add(
        Attendance(
            session=held,
            contact=owner,
            facility_id=first.id,
            person_name=owner.name,
            facility_name=first.name,
            status="present",
        )
    )
    db.session.commit()
    token = token_of(ensure_link(other))
    db.session.commit()
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "access_rule", None) != PERSONAL_LINK or "GET" not in rule.methods:
            continue
        if set(rule.arguments) != {"token"}:
            continue
        url = rule.build({"token": token}, append_unknown=False)[1]
        for query in ("", "?format=pdf"):
            response = client.get(url + query)
            assert response.status_code < 500, url
            if response.content_type != "application/pdf":
                body = response.get_data(as_text=True)
            else:
                import io

                from pypdf import PdfReader

                body = " ".join(
                    p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages
                )
                assert "Bart Peeters" in body  # the link holder's own certificate
            assert "Griet" not in body, url
            checked += 1
    assert checked >= 4  # the member page, the history, the certificate (print, PDF)


def test_every_api_route_checks_the_token(app, network, facilitator):
    """Issue 26: every API route × every kind of token. A token sees only its networks
    (another network's rows are absent, its objects 404); people (contacts, answers,
    attendance) only with "may see people" (403 otherwise); an expired or revoked token,
    or none, gets 401. Writes: a read token gets 403, a read/write token writes only in
    its networks (another network's objects 404, references to them 422), contacts and
    answers only with "may see people"."""
    from datetime import timedelta

    from learnnet.api.models import READ_WRITE, ApiToken, WebhookEndpoint
    from learnnet.api.rules import token_hash
    from learnnet.api.writes import PEOPLE_WRITES
    from learnnet.attendance.models import Attendance
    from learnnet.models import utcnow
    from learnnet.rsvp.models import Rsvp
    from learnnet.sessions import recovery
    from learnnet.timefmt import local_today
    from tests.api_helpers import bearer, make_token

    facility = network.memberships[0].facility
    leaving = network.memberships[1]
    contact = facility.contacts[0]
    session = factories.session(network, facility)
    db.session.add(Rsvp(session=session, contact=contact, answer="yes"))
    db.session.add(
        Attendance(
            session=session,
            contact=contact,
            facility_id=facility.id,
            person_name=contact.name,
            facility_name=facility.name,
            status="present",
        )
    )
    other_owner = factories.user(email="o@example.org")
    elsewhere = factories.network(facilitators=[other_owner], name="Elders")
    db.session.commit()
    _, people = make_token(facilitator, [network], people=True)
    _, no_people = make_token(facilitator, [network])
    _, other = make_token(other_owner, [elsewhere], people=True)
    _, expired = make_token(facilitator, [network], people=True, scope=READ_WRITE)
    _, revoked = make_token(facilitator, [network], people=True, scope=READ_WRITE)
    _, writer = make_token(facilitator, [network], people=True, scope=READ_WRITE)
    _, writer_no_people = make_token(facilitator, [network], scope=READ_WRITE)
    _, other_writer = make_token(other_owner, [elsewhere], people=True, scope=READ_WRITE)
    for secret, field, value in (
        (expired, "expires_at", utcnow() - timedelta(minutes=1)),
        (revoked, "revoked_at", utcnow()),
    ):
        token = db.session.scalar(
            db.select(ApiToken).where(ApiToken.token_hash == token_hash(secret))
        )
        setattr(token, field, value)
    db.session.commit()
    ids = {
        "network_id": network.id,
        "facility_id": facility.id,
        "contact_id": contact.id,
        "session_id": session.id,
        "membership_id": leaving.id,
    }
    # A body each write takes from a token of the network (references to its rows).
    bodies = {
        "api.facility_create": {
            "name": "Via de wandeling",
            "postcode": "9000",
            "city": "Gent",
            "network_id": network.id,
        },
        "api.facility_update": {"phone": "09 123 45 67"},
        "api.contact_create": {"facility_id": facility.id, "name": "Wandelaar"},
        "api.contact_update": {"function": "directeur"},
        "api.membership_create": {"network_id": network.id, "facility_id": facility.id},
        "api.membership_end": {"left_on": local_today().isoformat()},
        "api.answer_create": {"session_id": session.id, "contact_id": contact.id, "answer": "no"},
    }
    people_routes = {"api.contacts", "api.contact", "api.answers", "api.attendance"}
    # Webhooks carry every network's events: only an admin's read/write token (below).
    hook = WebhookEndpoint(url="http://127.0.0.1:9/h", secret="whsec_AA==", events=[])
    db.session.add(hook)
    # A deleted session: the deletions list has a row for the network's tokens.
    recovery.delete_session(factories.session(network, facility))
    ids["webhook_id"] = hook.id
    admin = factories.user(email="beheer@example.org", role="admin")
    _, admin_read = make_token(admin, [network])
    _, admin_writer = make_token(admin, [network], scope=READ_WRITE)
    webhook_bodies = {
        "api.webhook_create": {"url": "http://127.0.0.1:9/n", "events": ["session.held"]}
    }
    webhook_routes = {}
    client = app.test_client()
    checked = writes = 0
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "access_rule", None) != API_TOKEN:
            continue
        url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
        if rule.endpoint.startswith("api.webhook_"):
            (method,) = rule.methods - {"HEAD", "OPTIONS"}
            webhook_routes[rule.endpoint] = (method, url)
            for name, secret, expected in (
                ("none", None, 401),
                ("expired", expired, 401),
                ("revoked", revoked, 401),
                ("facilitator, read", people, 403),
                ("facilitator, read and write", writer, 403),
                ("other network's writer", other_writer, 403),
                ("admin, read", admin_read, 403),
            ):
                response = client.open(
                    url,
                    method=method,
                    json=webhook_bodies.get(rule.endpoint),
                    headers=bearer(secret) if secret else {},
                )
                where = f"{name} {method} {url}"
                assert response.status_code == expected, where
                assert response.mimetype == "application/problem+json", where
                writes += 1
            continue
        if "GET" not in rule.methods:
            method = "POST" if "POST" in rule.methods else "PATCH"
            body = bodies[rule.endpoint]
            sees_people = rule.endpoint in PEOPLE_WRITES
            for name, secret, expected in (
                ("none", None, {401}),
                ("expired", expired, {401}),
                ("revoked", revoked, {401}),
                ("read, people", people, {403}),
                ("read", no_people, {403}),
                ("other network", other_writer, {404} if rule.arguments else {422}),
                ("writer, no people", writer_no_people, {403} if sees_people else None),
                ("writer", writer, None),
            ):
                response = client.open(
                    url, method=method, json=body, headers=bearer(secret) if secret else {}
                )
                where = f"{name} {method} {url}"
                if expected is None:  # its own network: done, or a conflict with the last
                    assert response.status_code in (200, 201, 409), where
                    continue
                assert response.status_code in expected, where
                assert response.mimetype == "application/problem+json", where
                writes += 1
            continue
        listing = not rule.arguments
        sees_people = rule.endpoint in people_routes
        for name, secret, expected in (
            ("none", None, 401),
            ("expired", expired, 401),
            ("revoked", revoked, 401),
            ("no people", no_people, 403 if sees_people else 200),
            ("people", people, 200),
            ("other network", other, 200 if listing else 404),
        ):
            response = client.get(url, headers=bearer(secret) if secret else {})
            where = f"{name} GET {url}"
            assert response.status_code == expected, where
            if expected != 200:
                assert response.mimetype == "application/problem+json", where
            elif listing and name == "other network":
                rows = response.get_json()["data"]
                if rule.endpoint == "api.networks":  # its own network, not ours
                    assert [r["id"] for r in rows] == [elsewhere.id], where
                else:
                    assert rows == [], where
            elif listing:
                assert response.get_json()["data"], where  # the own rows are there
            checked += 1
    assert checked >= 6 * 11 and writes >= 6 * 7
    # The admin's read/write token: list, log, register, delete (in that order).
    assert set(webhook_routes) == {
        "api.webhook_list",
        "api.webhook_deliveries",
        "api.webhook_create",
        "api.webhook_delete",
    }
    for endpoint, status in (
        ("api.webhook_list", 200),
        ("api.webhook_deliveries", 200),
        ("api.webhook_create", 201),
        ("api.webhook_delete", 204),
    ):
        method, url = webhook_routes[endpoint]
        response = client.open(
            url, method=method, json=webhook_bodies.get(endpoint), headers=bearer(admin_writer)
        )
        assert response.status_code == status, f"admin {method} {url}"
    assert db.session.get(WebhookEndpoint, hook.id) is None
    # The other network's writer changed nothing here: not a line in the audit trail.
    assert not db.session.scalar(
        db.select(db.func.count(AuditEvent.id)).where(AuditEvent.user_id == other_owner.id)
    )
