"""Networks, members, facilities and contacts through the web pages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility, Membership, Network
from tests import factories

FACILITY_FORM = {
    "name": "Kinderopvang De Regenboog",
    "street": "Dorpsstraat 4",
    "postcode": "9050",
    "city": "Gentbrugge",
    "phone": "09 123 45 67",
    "email": "info@regenboog.example.org",
    "website": "https://regenboog.example.org",
    "room_capacity": "14",
    "accessibility_notes": "Gelijkvloers",
    "parking_notes": "Parking achteraan",
    "willing_to_host": "1",
    "joined_on": "2026-09-01",
}


def test_dashboard_lists_only_my_networks_with_counts_and_next_step(logged_in, network):
    factories.network(facilitators=[factories.user(email="x@example.org")], name="Niet van mij")
    db.session.commit()
    html = logged_in.get("/").get_data(as_text=True)
    assert "Lerend netwerk Gent" in html
    assert "Niet van mij" not in html
    # Kinderopvang Ukkepuk has no contact yet: the to-do list says so, with the action.
    ukkepuk = network.memberships[1].facility
    todo = html.split('id="todo"')[1].split("</section>")[0]
    assert ukkepuk.name in todo and f"/facilities/{ukkepuk.id}/contacts/new" in todo


def test_admin_sees_every_network(client, admin, network):
    from tests.conftest import login

    login(client, admin.email)
    # "My networks" are the ones the admin facilitates; all networks are one click further.
    mine = client.get("/").get_data(as_text=True)
    assert "Lerend netwerk Gent" not in mine and "/?all=1" in mine
    assert "Lerend netwerk Gent" in client.get("/?all=1").get_data(as_text=True)
    assert client.get(f"/networks/{network.slug}").status_code == 200


@pytest.fixture
def creator(logged_in, facilitator):
    """The logged-in facilitator, whom an admin granted the right to start networks."""
    facilitator.may_create_networks = True
    db.session.commit()
    return logged_in


def test_create_network_makes_me_facilitator_and_derives_the_slug(creator, facilitator):
    logged_in = creator
    response = logged_in.post(
        "/networks/new",
        data={
            "name": "Lerend netwerk Leuven — inclusie",
            "region": "Leuven",
            "timezone": "Europe/Brussels",
        },
    )
    assert response.status_code == 302
    network = db.session.scalar(select(Network).where(Network.region == "Leuven"))
    assert network.slug == "lerend-netwerk-leuven-inclusie"
    assert facilitator in network.facilitators
    assert response.location == f"/networks/{network.slug}"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "timezone": "Europe/Brussels"}, "name", "naam"),
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone", "Europe/Brussels"),
        (
            {"name": "X", "timezone": "Europe/Brussels", "slug": "Met Spaties"},
            "slug",
            "kleine letters",
        ),
    ],
)
def test_network_form_errors_are_shown_beside_the_field_and_input_kept(
    creator, data, field, message
):
    response = creator.post("/networks/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in html
    assert message in html
    if data.get("slug"):
        assert 'value="Met Spaties"' in html
    assert db.session.scalar(select(func.count(Network.id))) == 0


def test_duplicate_slug_is_refused_beside_the_field(creator, network):
    html = creator.post(
        "/networks/new", data={"name": "Ander", "slug": network.slug, "timezone": "Europe/Brussels"}
    ).get_data(as_text=True)
    assert 'id="slug-error"' in html


def test_edit_network_and_archive_and_reactivate(logged_in, network, facilitator):
    response = logged_in.post(
        f"/networks/{network.slug}/edit",
        data={
            "name": "Nieuwe naam",
            "slug": "nieuwe-naam",
            "description": "Thema",
            "region": "Gent",
            "timezone": "Europe/Brussels",
            "facilitators": [str(facilitator.id)],
        },
    )
    assert response.location == "/networks/nieuwe-naam"
    assert (
        logged_in.post("/networks/nieuwe-naam/archive", data={"action": "archive"}).status_code
        == 302
    )
    assert db.session.get(Network, network.id).is_archived
    assert "Gearchiveerd" in logged_in.get("/").get_data(as_text=True)
    logged_in.post("/networks/nieuwe-naam/archive", data={"action": "reactivate"})
    assert not db.session.get(Network, network.id).is_archived


def test_facilitator_cannot_remove_themselves(logged_in, network, facilitator):
    other = factories.user(email="co@example.org")
    html = logged_in.post(
        f"/networks/{network.slug}/edit",
        data={"name": "X", "timezone": "Europe/Brussels", "facilitators": [str(other.id)]},
    ).get_data(as_text=True)
    assert 'id="facilitators-error"' in html
    assert "jezelf" in html


def test_add_a_new_facility_to_the_network(logged_in, network):
    response = logged_in.post(f"/networks/{network.slug}/members/new", data=FACILITY_FORM)
    assert response.status_code == 302
    facility = db.session.scalar(select(Facility).where(Facility.name == FACILITY_FORM["name"]))
    assert facility.room_capacity == 14
    assert facility.willing_to_host is True
    assert [m.network_id for m in facility.memberships] == [network.id]
    assert facility.memberships[0].joined_on == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"postcode": "123"}, "postcode"),
        ({"postcode": "0999"}, "postcode"),
        ({"city": ""}, "city"),
        ({"email": "geen-adres"}, "email"),
        ({"website": "regenboog"}, "website"),
        ({"room_capacity": "-3"}, "room_capacity"),
        ({"room_capacity": "veel"}, "room_capacity"),
        ({"joined_on": "31-02-2026"}, "joined_on"),
    ],
)
def test_bad_facility_input_is_named_beside_the_field_and_nothing_saved(
    logged_in, network, change, field
):
    data = FACILITY_FORM | change
    response = logged_in.post(f"/networks/{network.slug}/members/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in html
    assert 'class="error-summary"' in html
    assert 'value="Dorpsstraat 4"' in html  # what was typed stays
    assert db.session.scalar(select(func.count(Facility.id))) == 2


def test_same_facility_twice_gets_a_clear_message(logged_in, network):
    data = FACILITY_FORM | {"name": "  kdv de ZONNEBLOEM ", "postcode": "9000"}
    html = logged_in.post(f"/networks/{network.slug}/members/new", data=data).get_data(as_text=True)
    assert 'id="name-error"' in html
    assert "bestaat al" in html
    assert db.session.scalar(select(func.count(Facility.id))) == 2


def test_add_existing_facility_from_another_network(logged_in, network, facilitator):
    other = factories.network(facilitators=[facilitator], name="Tweede netwerk")
    shared = network.memberships[0].facility
    db.session.commit()
    page = logged_in.get(f"/networks/{other.slug}/members/add").get_data(as_text=True)
    assert shared.name not in page  # the register is searched, never listed whole
    page = logged_in.get(f"/networks/{other.slug}/members/add?q=zonneb").get_data(as_text=True)
    assert shared.name in page
    by_postcode = logged_in.get(f"/networks/{other.slug}/members/add?q=90").get_data(as_text=True)
    assert shared.name in by_postcode
    response = logged_in.post(
        f"/networks/{other.slug}/members/add",
        data={"facility_id": shared.id, "joined_on": "2026-10-01"},
    )
    assert response.status_code == 302
    assert {m.network_id for m in shared.memberships} == {network.id, other.id}
    again = logged_in.post(
        f"/networks/{other.slug}/members/add",
        data={"facility_id": shared.id, "joined_on": "2026-10-01"},
    )
    assert again.status_code == 200
    assert 'class="error-summary"' in again.get_data(as_text=True)


def test_leaving_keeps_history_and_shows_a_former_member(logged_in, network):
    membership = network.memberships[1]
    response = logged_in.post(
        f"/networks/{network.slug}/members/{membership.id}/leave", data={"left_on": "2026-12-31"}
    )
    assert response.status_code == 302
    db.session.refresh(membership)
    assert membership.left_on == date(2026, 12, 31)
    assert db.session.get(Facility, membership.facility_id) is not None
    html = logged_in.get(f"/networks/{network.slug}").get_data(as_text=True)
    assert "Vroegere leden" in html
    assert "31 dec. 2026" in html


def test_leaving_before_joining_is_refused(logged_in, network):
    membership = network.memberships[0]
    logged_in.post(
        f"/networks/{network.slug}/members/{membership.id}/leave", data={"left_on": "2020-01-01"}
    )
    db.session.refresh(membership)
    assert membership.left_on is None


def test_membership_of_another_network_is_404(logged_in, network, facilitator):
    other = factories.network(facilitators=[facilitator])
    foreign = factories.member(other, factories.facility(name="Elders"))
    db.session.commit()
    response = logged_in.post(
        f"/networks/{network.slug}/members/{foreign.id}/leave", data={"left_on": "2026-12-31"}
    )
    assert response.status_code == 404


def test_directory_shows_only_contacts_who_opted_in(logged_in, network):
    html = logged_in.get(f"/networks/{network.slug}").get_data(as_text=True)
    directory = html.split('id="directory"')[1].split("</section>")[0]
    assert "Sofie Claes" in directory
    assert "sofie@example.org" in directory
    assert "Hanne De Smet" not in directory


def test_contact_create_edit_and_duplicate_email(logged_in, network):
    facility = network.memberships[0].facility
    url = f"/facilities/{facility.id}/contacts/new"
    ok = logged_in.post(
        url,
        data={
            "name": "Lies Wouters",
            "email": "LIES@Example.org",
            "preferred_language": "nl",
            "share_details": "y",
        },
    )
    assert ok.status_code == 302
    lies = db.session.scalar(select(Contact).where(Contact.name == "Lies Wouters"))
    assert lies.email == "lies@example.org"
    assert lies.active and lies.share_details
    dup = logged_in.post(
        url, data={"name": "Iemand", "email": "lies@example.org", "preferred_language": "nl"}
    )
    assert dup.status_code == 200
    assert 'id="email-error"' in dup.get_data(as_text=True)
    edit = logged_in.post(
        f"/contacts/{lies.id}/edit",
        data={"name": "Lies W.", "email": "lies@example.org", "preferred_language": "en"},
    )
    assert edit.status_code == 302
    db.session.refresh(lies)
    assert (lies.name, lies.preferred_language, lies.active, lies.share_details) == (
        "Lies W.",
        "en",
        False,
        False,
    )


def test_same_email_at_two_facilities_is_fine(logged_in, network):
    second = network.memberships[1].facility
    response = logged_in.post(
        f"/facilities/{second.id}/contacts/new",
        data={"name": "Sofie Claes", "email": "sofie@example.org", "preferred_language": "nl"},
    )
    assert response.status_code == 302


def test_edit_facility(logged_in, network):
    facility = network.memberships[0].facility
    data = FACILITY_FORM | {"name": "KDV De Zonnebloem", "postcode": "9000", "willing_to_host": "0"}
    assert logged_in.post(f"/facilities/{facility.id}/edit", data=data).status_code == 302
    db.session.refresh(facility)
    assert facility.willing_to_host is False
    assert facility.street == "Dorpsstraat 4"


def test_facility_search_filters_by_text_network_and_hosting(logged_in, network, facilitator):
    other = factories.network(facilitators=[facilitator], name="Kempen")
    geel = factories.facility(
        name="Gezinsopvang Pluk", postcode="2440", city="Geel", willing_to_host=False
    )
    factories.member(other, geel)
    factories.facility(
        name="Onzichtbaar", postcode="1000", city="Brussel"
    )  # in none of my networks
    db.session.commit()

    def names(query: str) -> set[str]:
        html = logged_in.get(f"/facilities?{query}").get_data(as_text=True)
        return {
            n
            for n in (
                "KDV De Zonnebloem",
                "Kinderopvang Ukkepuk",
                "Gezinsopvang Pluk",
                "Onzichtbaar",
            )
            if n in html
        }

    assert names("") == {"KDV De Zonnebloem", "Kinderopvang Ukkepuk", "Gezinsopvang Pluk"}
    assert names("q=geel") == {"Gezinsopvang Pluk"}
    assert names("q=zonneBLOEM") == {"KDV De Zonnebloem"}
    assert names(f"network={other.id}") == {"Gezinsopvang Pluk"}
    assert names("hosts=y") == {"KDV De Zonnebloem", "Kinderopvang Ukkepuk"}
    assert names("network=abc") == {
        "KDV De Zonnebloem",
        "Kinderopvang Ukkepuk",
        "Gezinsopvang Pluk",
    }


def test_partial_unique_index_allows_rejoining_after_leaving(app, network):
    membership = network.memberships[0]
    membership.left_on = date(2026, 1, 1)
    db.session.commit()
    db.session.add(
        Membership(network=network, facility=membership.facility, joined_on=date(2026, 3, 1))
    )
    db.session.commit()
    db.session.add(
        Membership(network=network, facility=membership.facility, joined_on=date(2026, 4, 1))
    )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        db.session.commit()
    db.session.rollback()


def test_sqlite_enforces_foreign_keys(app, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite-specific")
    mode = db.session.execute(db.text("PRAGMA foreign_keys")).scalar()
    journal = db.session.execute(db.text("PRAGMA journal_mode")).scalar()
    assert (mode, journal) == (1, "wal")
