"""Issue 26, what a CRM needs beyond rows that changed: the yearly record and the theme,
what was deleted or erased since a moment (tombstones), and webhooks registered through
the API by an admin's read/write token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from learnnet.api.models import READ_WRITE, ApiDeletion, WebhookDelivery, WebhookEndpoint
from learnnet.api.webhooks import queue
from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.learning import record_services
from learnnet.learning.models import LearningGoal, WerkjaarTheme
from learnnet.learning.record import start_year_of
from learnnet.models import utcnow
from learnnet.privacy.services import erase
from learnnet.rsvp.models import Rsvp
from learnnet.sessions import recovery
from learnnet.timefmt import local_today
from tests import factories
from tests.api_helpers import bearer, make_token
from tests.test_record import year  # noqa: F401 - the record page's test data, a fixture


def _get(client, url, secret, status=200):
    response = client.get(url, headers=bearer(secret))
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


# ---- the yearly record and the theme ---------------------------------------------------


def test_the_record_has_the_record_pages_sums(app, network, year, facilitator):  # noqa: F811
    first = year["first"]
    _, people = make_token(facilitator, [network], people=True)
    client = app.test_client()
    body = _get(client, f"/api/v1/facilities/{first.id}/record?werkjaar=2025", people)
    (record,) = body["data"]
    page = record_services.load(network, first, "2025-2026", show_names=True)
    assert record["werkjaar"] == "2025-2026" and record["network_id"] == network.id
    # One set of sums: the page's (Sofie 2.5 + 2 h, Hanne 2.5 h; the cancelled one not).
    assert record["total_hours"] == page.record.total_hours == 7.0
    assert record["sessions_attended"] == 2 and record["theme"] == "Taal in de kinderopvang"
    assert record["goals_total"] == 2
    assert [h["title"] for h in record["hosted"]] == ["Voorlezen"]
    assert {p["name"] for p in record["people"]} == {"Sofie Claes", "Hanne De Smet"}
    assert "Bart Peeters" not in str(body)  # another facility's person


def test_without_people_the_record_has_counts_not_names(app, network, year, facilitator):  # noqa: F811
    first = year["first"]
    _, no_people = make_token(facilitator, [network])
    response = app.test_client().get(
        f"/api/v1/facilities/{first.id}/record?werkjaar=2025", headers=bearer(no_people)
    )
    (record,) = response.get_json()["data"]
    assert record["people"] is None and record["total_hours"] == 7.0
    assert [a["people_present"] for a in record["attended"]] == [2, 1]
    assert all(a["people"] is None for a in record["attended"])
    assert "Sofie" not in response.get_data(as_text=True)


def test_a_record_only_for_the_tokens_facilities_and_werkjaren(app, network, facilitator):
    first = network.memberships[0].facility
    owner = factories.user(email="o@example.org")
    elsewhere = factories.network(facilitators=[owner], name="Elders")
    outsider = factories.facility(name="Elders thuis", postcode="2000", city="Antwerpen")
    factories.member(elsewhere, outsider)
    db.session.commit()
    _, secret = make_token(facilitator, [network])
    client = app.test_client()
    _get(client, f"/api/v1/facilities/{outsider.id}/record", secret, 404)
    # Members since 2025-09-01: nothing before; the current werkjaar by default.
    assert _get(client, f"/api/v1/facilities/{first.id}/record?werkjaar=2020", secret) == {
        "data": []
    }
    (record,) = _get(client, f"/api/v1/facilities/{first.id}/record", secret)["data"]
    assert record["start_year"] == start_year_of(local_today())
    bad = client.get(f"/api/v1/facilities/{first.id}/record?werkjaar=1066", headers=bearer(secret))
    assert bad.status_code == 422 and "werkjaar" in bad.get_json()["errors"]


def test_networks_carry_the_current_werkjaars_theme(app, network, facilitator, count_queries):
    current = start_year_of(local_today())
    theme = WerkjaarTheme(network=network, start_year=current, title="Buitenspelen")
    theme.goals = [LearningGoal(position=1, text="Elke dag naar buiten")]
    db.session.add_all([theme, WerkjaarTheme(network=network, start_year=current - 1, title="Oud")])
    other = factories.network(facilitators=[facilitator], name="Zonder thema")
    db.session.commit()
    _, secret = make_token(facilitator, [network, other])
    client = app.test_client()
    rows = {n["id"]: n for n in _get(client, "/api/v1/networks", secret)["data"]}
    assert rows[other.id]["theme"] is None
    shown = rows[network.id]["theme"]
    assert shown["title"] == "Buitenspelen" and shown["werkjaar"] == f"{current}-{current + 1}"
    assert [g["text"] for g in shown["goals"]] == ["Elke dag naar buiten"]
    assert _get(client, f"/api/v1/networks/{network.id}", secret)["theme"] == shown


# ---- deletions -------------------------------------------------------------------------


def test_deletions_report_a_deleted_session_and_an_erased_contact(app, network, facilitator):
    first = network.memberships[0].facility
    contact = first.contacts[0]
    session = factories.session(network, first)
    db.session.commit()
    session_id, contact_id, name = session.id, contact.id, contact.name
    before = utcnow() - timedelta(seconds=1)
    recovery.delete_session(session)
    erase(contact)
    assert db.session.scalar(select(func.count(ApiDeletion.id))) == 2
    _, people = make_token(facilitator, [network], people=True)
    _, no_people = make_token(facilitator, [network])
    client = app.test_client()
    since = before.isoformat().replace("+00:00", "Z")
    response = client.get(f"/api/v1/deletions?updated_since={since}", headers=bearer(people))
    rows = response.get_json()["data"]
    assert {(r["type"], r["id"], r["reason"]) for r in rows} == {
        ("session", session_id, "deleted"),
        ("contact", contact_id, "erased"),
    }
    assert name not in response.get_data(as_text=True)  # ids only, never who it was
    # Without "may see people" the contact stays unknown, as contacts do.
    rows = _get(client, "/api/v1/deletions", no_people)["data"]
    assert [(r["type"], r["id"]) for r in rows] == [("session", session_id)]
    # Later than the deletions: nothing; another network's token: nothing.
    later = (utcnow() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert _get(client, f"/api/v1/deletions?updated_since={later}", people)["data"] == []
    owner = factories.user(email="o@example.org")
    elsewhere = factories.network(facilitators=[owner], name="Elders")
    db.session.commit()
    _, other = make_token(owner, [elsewhere], people=True)
    assert _get(client, "/api/v1/deletions", other)["data"] == []


def test_a_rolled_back_delete_leaves_no_tombstone(app, network):
    session = factories.session(network, network.memberships[0].facility)
    db.session.commit()
    db.session.delete(session)
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count(ApiDeletion.id))) == 0


def test_a_merged_duplicates_answer_is_reported_with_its_network(app, network):
    from learnnet.privacy.services import merge_contacts

    first = network.memberships[0].facility
    keeper, duplicate = first.contacts[0], first.contacts[1]
    session = factories.session(network, first)
    db.session.add_all(
        [
            Rsvp(session=session, contact=keeper, answer="yes"),
            Rsvp(session=session, contact=duplicate, answer="no"),
        ]
    )
    db.session.commit()
    gone = db.session.scalar(select(Rsvp.id).where(Rsvp.contact_id == duplicate.id))
    merge_contacts(duplicate, keeper)
    row = db.session.scalar(select(ApiDeletion).where(ApiDeletion.entity == "answer"))
    assert (row.entity_id, row.network_id) == (gone, network.id)


# ---- webhooks through the API ------------------------------------------------------------


def test_an_admins_token_registers_lists_and_deletes_a_webhook(app, admin, network):
    _, secret = make_token(admin, [network], scope=READ_WRITE)
    client = app.test_client()
    made = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["session.planned", "session.held"]},
        headers=bearer(secret),
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert body["secret"].startswith("whsec_") and body["active"] is True
    endpoint = db.session.get(WebhookEndpoint, body["id"])
    assert endpoint.secret == body["secret"] and endpoint.created_by_id == admin.id
    listed = _get(client, "/api/v1/webhooks", secret)["data"]
    assert [w["id"] for w in listed] == [body["id"]] and "secret" not in listed[0]
    # Events queue for it; its deliveries are readable.
    queue("session.held", {"session_id": 1})
    db.session.commit()
    deliveries = _get(client, f"/api/v1/webhooks/{body['id']}/deliveries", secret)["data"]
    assert [(d["event"], d["status"]) for d in deliveries] == [("session.held", "queued")]
    gone = client.delete(f"/api/v1/webhooks/{body['id']}", headers=bearer(secret))
    assert gone.status_code == 204
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0
    assert db.session.scalar(select(func.count(WebhookDelivery.id))) == 0
    assert (
        client.delete(f"/api/v1/webhooks/{body['id']}", headers=bearer(secret)).status_code == 404
    )
    trail = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "webhook_endpoint").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in trail] == ["create", "delete"]
    assert all(e.actor_name.endswith("(API)") for e in trail)
    assert "whsec_" not in str([e.changes for e in trail])  # the secret is never logged


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/h",
    ],
)
def test_in_production_the_api_refuses_plain_http_and_private_addresses(app, admin, network, url):
    app.config["ENV"] = "production"
    _, secret = make_token(admin, [network], scope=READ_WRITE)
    response = app.test_client().post(
        "/api/v1/webhooks", json={"url": url, "events": ["session.held"]}, headers=bearer(secret)
    )
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == ["url"]
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def test_bad_webhook_bodies_get_a_message_per_field(app, admin, network):
    _, secret = make_token(admin, [network], scope=READ_WRITE)
    client = app.test_client()
    for body, field in (
        ({"url": "http://127.0.0.1/h", "events": ["session.exploded"]}, "events.0"),
        ({"url": "http://127.0.0.1/h", "events": []}, "events"),
        ({"url": "http://127.0.0.1/h", "events": ["session.held"], "secret": "geheim"}, "secret"),
        ({"url": "ftp://example.org/h", "events": ["session.held"]}, "url"),
    ):
        response = client.post("/api/v1/webhooks", json=body, headers=bearer(secret))
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], (body, response.get_json())
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def test_only_an_admins_read_write_token_manages_webhooks(app, admin, network, facilitator):
    hook = WebhookEndpoint(url="http://127.0.0.1:9/h", secret="whsec_AA==", events=[])
    db.session.add(hook)
    db.session.commit()
    _, admin_read = make_token(admin, [network])
    _, facilitator_rw = make_token(facilitator, [network], people=True, scope=READ_WRITE)
    client = app.test_client()
    for secret in (admin_read, facilitator_rw):
        for method, url, body in (
            ("GET", "/api/v1/webhooks", None),
            ("POST", "/api/v1/webhooks", {"url": "http://127.0.0.1/h", "events": ["session.held"]}),
            ("DELETE", f"/api/v1/webhooks/{hook.id}", None),
            ("GET", f"/api/v1/webhooks/{hook.id}/deliveries", None),
        ):
            response = client.open(url, method=method, json=body, headers=bearer(secret))
            assert response.status_code == 403, (method, url)
            assert response.mimetype == "application/problem+json"
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 1


def test_the_deletion_moment_is_utc(app, network):
    session = factories.session(network, network.memberships[0].facility)
    db.session.commit()
    recovery.delete_session(session)
    row = db.session.scalar(select(ApiDeletion))
    assert row.deleted_at.tzinfo is not None
    assert abs(row.deleted_at - datetime.now(UTC)) < timedelta(hours=1)
    assert row.entity == "session" and row.network_id == network.id


def test_deletions_and_themed_networks_cost_the_same_statements_on_every_page(
    app, network, facilitator, count_queries
):
    """Keyset paging for the new lists too: the first page and a later one, at several
    page sizes, issue the same number of SQL statements (every network has a theme, so
    the theme's goals are loaded on every page)."""
    current = start_year_of(local_today())
    host = network.memberships[0].facility
    networks = [network]
    for i in range(11):
        networks.append(factories.network(facilitators=[facilitator], name=f"Netwerk {i}"))
    for i, net in enumerate(networks):
        theme = WerkjaarTheme(network=net, start_year=current, title=f"Thema {i}")
        theme.goals = [LearningGoal(position=1, text="Doel")]
        db.session.add(theme)
    sessions = [factories.session(network, host, days_ahead=5 + i) for i in range(12)]
    db.session.commit()
    for s in sessions:
        recovery.delete_session(s)
    _, secret = make_token(facilitator, networks)
    client = app.test_client()
    client.get("/api/v1/networks", headers=bearer(secret))  # its first use is written once
    for url in ("/api/v1/deletions", "/api/v1/networks"):
        counts = []
        for limit in (1, 2, 5):
            cursor = None
            for _ in range(2):
                query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
                count_queries.statements.clear()
                body = _get(client, url + query, secret)
                counts.append(count_queries.count)
                cursor = body["next_cursor"]
                assert len(body["data"]) == limit, url
        assert len(set(counts)) == 1, (url, counts)
