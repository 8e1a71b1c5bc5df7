"""Issue 19, item 2: who may start a membership, since people follow membership.

The probe: a facilitator of network B, and an account with no network at all, added a
facility that belonged only to network A through ``/networks/<slug>/members/add`` and
then read its people. Now starting a network is an admin's grant, and adding a facility
of someone else's network only asks it to join until a contact (or an admin) agrees.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.networks.models import Membership, Network
from learnnet.timefmt import local_today
from tests import factories
from tests.conftest import login


def _memberships(network_id: int, facility_id: int) -> int:
    return db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.network_id == network_id, Membership.facility_id == facility_id
        )
    )


def _personal_link(app, contact) -> str:
    from learnnet.rsvp.contacts import ensure_link, token_of

    token = token_of(ensure_link(contact))
    db.session.commit()
    return f"/m/{token}"


def _people_leak(client, network_slug: str, facility, contacts) -> list[str]:
    """Every place a facilitator could read the facility's people: what it shows of them."""
    leaks = []
    for c in contacts:
        for url in (f"/contacts/{c.id}/edit", f"/contacts/{c.id}/link"):
            if client.get(url).status_code != 403:
                leaks.append(url)
    for url in (f"/facilities/{facility.id}", f"/facilities/{facility.id}/edit"):
        if client.get(url).status_code != 403:
            leaks.append(url)
    pages = {
        "network": client.get(f"/networks/{network_slug}").get_data(as_text=True),
        "export": client.get(f"/networks/{network_slug}/members.csv").get_data(as_text=True),
        "invitations": client.get(f"/networks/{network_slug}/invitations").get_data(as_text=True),
        "search": client.get("/facilities?q=example").get_data(as_text=True),
    }
    for c in contacts:
        for where, html in pages.items():
            for secret in (c.name, c.email, c.phone):
                if secret and secret in html:
                    leaks.append(f"{where}: {secret}")
    return leaks


@pytest.fixture
def probe(app, network):
    """Network A (the fixture's) owns the facility and its people; B belongs to someone else."""
    facility = network.memberships[0].facility
    for c in facility.contacts:
        c.phone = "0470 12 34 56"
    b_owner = factories.user(email="b@example.org", name="Bert Begeleider")
    network_b = factories.network(facilitators=[b_owner], name="Netwerk B")
    nobody = factories.user(email="nobody@example.org", name="Zonder Netwerk")
    db.session.commit()
    return {
        "facility": facility,
        "contacts": list(facility.contacts),
        "b_owner": b_owner,
        "network_b": network_b,
        "nobody": nobody,
    }


def test_the_probe_facilitator_of_another_network_adds_by_id_and_sees_nobody(app, probe):
    facility, network_b = probe["facility"], probe["network_b"]
    client = app.test_client()
    login(client, probe["b_owner"].email)
    response = client.post(
        f"/networks/{network_b.slug}/members/add", data={"facility_id": facility.id}
    )
    assert response.status_code == 302
    assert _memberships(network_b.id, facility.id) == 0
    assert _people_leak(client, network_b.slug, facility, probe["contacts"]) == []


def test_the_probe_an_account_without_network_cannot_start_one(app, probe):
    client = app.test_client()
    login(client, probe["nobody"].email)
    assert client.get("/networks/new").status_code == 403
    response = client.post(
        "/networks/new", data={"name": "Mijn netwerk", "timezone": "Europe/Brussels"}
    )
    assert response.status_code == 403
    assert db.session.scalar(select(Network).where(Network.name == "Mijn netwerk")) is None
    assert "/networks/new" not in client.get("/").get_data(as_text=True)


def test_the_probe_even_with_the_right_a_new_network_only_asks(app, probe):
    """An account granted the right starts a network; A's facility it may only ask."""
    facility = probe["facility"]
    nobody = probe["nobody"]
    nobody.may_create_networks = True
    db.session.commit()
    client = app.test_client()
    login(client, nobody.email)
    assert "/networks/new" in client.get("/").get_data(as_text=True)
    created = client.post(
        "/networks/new", data={"name": "Mijn netwerk", "timezone": "Europe/Brussels"}
    )
    assert created.status_code == 302
    mine = db.session.scalar(select(Network).where(Network.name == "Mijn netwerk"))
    added = client.post(f"/networks/{mine.slug}/members/add", data={"facility_id": facility.id})
    assert added.status_code == 302
    assert _memberships(mine.id, facility.id) == 0
    assert _people_leak(client, mine.slug, facility, probe["contacts"]) == []
    page = client.get(f"/networks/{mine.slug}").get_data(as_text=True)
    assert facility.name in page and "Wacht op antwoord" in page


def _ask(app, probe) -> tuple:
    """B's facilitator asks A's facility to join; returns (client, request)."""
    from learnnet.networks.models import MembershipRequest

    client = app.test_client()
    login(client, probe["b_owner"].email)
    client.post(
        f"/networks/{probe['network_b'].slug}/members/add",
        data={"facility_id": probe["facility"].id},
    )
    asked = db.session.scalar(select(MembershipRequest))
    assert asked is not None and asked.status == "pending"
    return client, asked


def test_a_contact_accepts_through_the_personal_link(app, probe):
    facility, network_b = probe["facility"], probe["network_b"]
    client, asked = _ask(app, probe)
    sofie = probe["contacts"][0]
    link = _personal_link(app, sofie)
    member = app.test_client()
    page = member.get(link).get_data(as_text=True)
    assert "Netwerk B (begeleider Bert Begeleider) wil jullie voorziening toevoegen." in page
    assert "Aanvaarden" in page and "Weigeren" in page
    answered = member.post(f"{link}/requests/{asked.id}", data={"decision": "accept"})
    assert answered.status_code == 303
    assert "lid van Netwerk B" in member.get(link).get_data(as_text=True)
    db.session.expire_all()
    assert asked.status == "accepted" and asked.decided_by_contact_id == sofie.id
    membership = db.session.scalar(select(Membership).where(Membership.network_id == network_b.id))
    assert membership.facility_id == facility.id and membership.joined_on == local_today()
    # Now, and only now, B's facilitator sees the people.
    assert client.get(f"/contacts/{sofie.id}/edit").status_code == 200
    # The trail says who agreed.
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "membership_request", AuditEvent.action == "update"
        )
    )
    assert event.contact_id == sofie.id and event.changes["status"] == ["pending", "accepted"]
    assert event.facility_id == facility.id
    # Answered once: the page no longer asks, a second answer changes nothing.
    assert "wil jullie voorziening toevoegen" not in member.get(link).get_data(as_text=True)
    member.post(f"{link}/requests/{asked.id}", data={"decision": "decline"})
    db.session.expire_all()
    assert asked.status == "accepted"


def test_a_contact_declines_and_nothing_opens(app, probe):
    client, asked = _ask(app, probe)
    link = _personal_link(app, probe["contacts"][1])
    member = app.test_client()
    assert (
        member.post(f"{link}/requests/{asked.id}", data={"decision": "decline"}).status_code == 303
    )
    db.session.expire_all()
    assert asked.status == "declined"
    assert _memberships(probe["network_b"].id, probe["facility"].id) == 0
    assert _people_leak(client, probe["network_b"].slug, probe["facility"], probe["contacts"]) == []
    page = client.get(f"/networks/{probe['network_b'].slug}").get_data(as_text=True)
    assert "Wacht op antwoord" not in page


def test_only_the_facilitys_own_contacts_answer(app, probe, network):
    """A contact of another facility cannot accept on its behalf (404), nor can a made-up
    decision do anything."""
    _client, asked = _ask(app, probe)
    stranger_facility = network.memberships[1].facility
    stranger = factories.contact(stranger_facility, name="Vreemde", email="vreemd@example.org")
    db.session.commit()
    member = app.test_client()
    link = _personal_link(app, stranger)
    assert (
        member.post(f"{link}/requests/{asked.id}", data={"decision": "accept"}).status_code == 404
    )
    own = _personal_link(app, probe["contacts"][0])
    assert member.post(f"{own}/requests/{asked.id}", data={"decision": "ja"}).status_code == 303
    db.session.expire_all()
    assert asked.status == "pending"
    assert _memberships(probe["network_b"].id, probe["facility"].id) == 0


def test_an_admin_accepts_on_the_facilitys_behalf(app, probe, admin):
    client, asked = _ask(app, probe)
    slug = probe["network_b"].slug
    # The asking facilitator cannot accept their own request.
    assert client.post(f"/networks/{slug}/requests/{asked.id}/accept").status_code == 403
    db.session.expire_all()
    assert asked.status == "pending"
    boss = app.test_client()
    login(boss, admin.email)
    assert "Aanvaarden namens de voorziening" in boss.get(f"/networks/{slug}").get_data(
        as_text=True
    )
    assert boss.post(f"/networks/{slug}/requests/{asked.id}/accept").status_code == 303
    db.session.expire_all()
    assert asked.status == "accepted" and asked.decided_by_user_id == admin.id
    assert _memberships(probe["network_b"].id, probe["facility"].id) == 1
    # A request of another network under this network's address is not found.
    assert boss.post(f"/networks/{slug}/requests/{asked.id + 99}/accept").status_code == 404


def test_the_facilitator_withdraws_and_the_link_no_longer_asks(app, probe):
    client, asked = _ask(app, probe)
    slug = probe["network_b"].slug
    page = client.get(f"/networks/{slug}").get_data(as_text=True)
    assert "Intrekken" in page and probe["facility"].name in page
    assert client.post(f"/networks/{slug}/requests/{asked.id}/withdraw").status_code == 303
    db.session.expire_all()
    assert asked.status == "withdrawn"
    link = _personal_link(app, probe["contacts"][0])
    member = app.test_client()
    assert "wil jullie voorziening toevoegen" not in member.get(link).get_data(as_text=True)
    member.post(f"{link}/requests/{asked.id}", data={"decision": "accept"})
    db.session.expire_all()
    assert asked.status == "withdrawn"
    assert _memberships(probe["network_b"].id, probe["facility"].id) == 0
    # Another facilitator cannot withdraw it (it is not their network).
    other = factories.user(email="x@example.org")
    db.session.commit()
    stranger = app.test_client()
    login(stranger, other.email)
    assert stranger.post(f"/networks/{slug}/requests/{asked.id}/withdraw").status_code == 403


def test_asking_twice_is_refused_beside_the_field(app, probe):
    client, _asked = _ask(app, probe)
    html = client.post(
        f"/networks/{probe['network_b'].slug}/members/add",
        data={"facility_id": probe["facility"].id},
    ).get_data(as_text=True)
    assert "al gevraagd om lid te worden" in html


def test_own_facilities_still_join_at_once(app, network, facilitator):
    """A facility registered by this facilitator, or only in their own networks, joins at
    once; so does one a former network of theirs held. The add form says which ones ask."""
    second = factories.network(facilitators=[facilitator], name="Tweede netwerk")
    facility = network.memberships[0].facility
    theirs = factories.network(facilitators=[factories.user()], name="Hun netwerk")
    elsewhere = factories.facility(name="Kinderopvang Vroeger Elders")
    factories.member(theirs, elsewhere, left_on=date(2025, 12, 31))  # left long ago: still theirs
    db.session.commit()
    client = app.test_client()
    login(client, facilitator.email)
    form = client.get(f"/networks/{second.slug}/members/add?q=kinderopvang").get_data(as_text=True)
    assert "Vragen om lid te worden" in form  # the other network's facility
    client.post(f"/networks/{second.slug}/members/add", data={"facility_id": facility.id})
    assert _memberships(second.id, facility.id) == 1
    assert client.get(f"/contacts/{facility.contacts[0].id}/edit").status_code == 200
    client.post(f"/networks/{second.slug}/members/add", data={"facility_id": elsewhere.id})
    assert _memberships(second.id, elsewhere.id) == 0
    new = client.post(
        f"/networks/{second.slug}/members/new",
        data={"name": "Crèche Nieuw", "postcode": "9000", "city": "Gent", "willing_to_host": "1"},
    )
    assert new.status_code == 302
    registered = int(re.search(r"/facilities/(\d+)", new.location).group(1))
    client.post(f"/networks/{network.slug}/members/add", data={"facility_id": registered})
    assert _memberships(network.id, registered) == 1


def test_an_accepted_request_joins_today_when_the_asked_date_has_passed(app, probe):
    from learnnet.networks import services

    _client, asked = _ask(app, probe)
    asked.joined_on = local_today() - timedelta(days=30)
    db.session.commit()
    membership = services.accept_request(asked, user=None, contact=probe["contacts"][0])
    assert membership.joined_on == local_today()


def test_an_admin_grants_the_right_to_start_networks(app, admin, facilitator):
    client = app.test_client()
    login(client, admin.email)
    form = client.get(f"/admin/users/{facilitator.id}/edit").get_data(as_text=True)
    assert "Mag nieuwe netwerken starten" in form
    client.post(
        f"/admin/users/{facilitator.id}/edit",
        data={
            "name": facilitator.name,
            "email": facilitator.email,
            "role": "facilitator",
            "active": "y",
            "may_create_networks": "y",
        },
    )
    db.session.expire_all()
    assert facilitator.may_create_networks is True
    own = app.test_client()
    login(own, facilitator.email)
    assert own.get("/networks/new").status_code == 200


def test_create_user_grants_the_right_from_the_command_line(app):
    from learnnet.auth.services import user_by_email

    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "starter@example.org",
            "--name",
            "Starter",
            "--role",
            "facilitator",
            "--may-create-networks",
            "--password",
            "correct horse battery",
        ]
    )
    assert result.exit_code == 0, result.output
    assert user_by_email("starter@example.org").may_create_networks is True


def test_the_facilitys_contacts_are_asked_by_mail(app, probe):
    """The request reaches the people who can answer it: each active contact with an
    address gets one mail, in their language, linking to their page's request."""
    from learnnet.mail.models import OutboxMessage

    probe["network_b"].name = 'Netwerk <b>B</b>"><img src=x>'
    db.session.commit()
    _client, asked = _ask(app, probe)
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "membership_request")
    ).all()
    expected = {c.email for c in probe["contacts"] if c.active and c.email}
    assert expected and {m.recipient for m in mails} == expected
    assert len(mails) == len(expected)  # once each
    mail = mails[0]
    assert "vraagt jullie voorziening om aan te sluiten" in mail.subject
    assert "(begeleider Bert Begeleider) wil" in mail.text_body
    assert "/m/" in mail.text_body and "#requests" in mail.text_body
    assert "<img" not in mail.html_body and "&lt;b&gt;B&lt;/b&gt;" in mail.html_body
    # Asking again after a withdrawal is a new request and asks again; the same one never.
    from learnnet.rsvp import notify

    with app.test_request_context():
        assert notify.membership_request(asked) == 0
