"""Issue 12: the facility search finds people, tables sort, and the pages a facilitator
opens most say what needs doing (server side; the browser tests check the phone layout)."""

from __future__ import annotations

import re
from datetime import date

from learnnet.extensions import db
from learnnet.networks.models import Contact
from tests import factories
from tests.conftest import csrf_token_from, login


def people_section(html: str) -> str:
    return html.split('id="people"')[1].split("</section>")[0] if 'id="people"' in html else ""


def test_facility_search_finds_people_by_name_and_email(logged_in, network):
    by_name = logged_in.get("/facilities?q=sofie").get_data(as_text=True)
    assert "Sofie Claes" in people_section(by_name)
    assert 'href="mailto:sofie@example.org"' in people_section(by_name)
    by_email = logged_in.get("/facilities?q=hanne@exa").get_data(as_text=True)
    assert "Hanne De Smet" in people_section(by_email)
    assert "Sofie Claes" not in people_section(by_email)


def test_people_search_follows_the_access_rules(app, logged_in, network, facilitator):
    """Only the people of facilities that are current members of one's networks; admins all."""
    other = factories.network(facilitators=[factories.user(email="tom@example.org")])
    elsewhere = factories.facility(name="Elders", postcode="2000", city="Antwerpen")
    factories.member(other, elsewhere)
    factories.contact(elsewhere, name="Sofie Elders", email="sofie.elders@example.org")
    gone = factories.facility(name="Vertrokken", postcode="9050")
    factories.member(network, gone, left_on=date(2026, 1, 1))
    factories.contact(gone, name="Sofie Vertrokken", email="sofie.weg@example.org")
    db.session.commit()
    found = people_section(logged_in.get("/facilities?q=sofie").get_data(as_text=True))
    assert "Sofie Claes" in found
    assert "Sofie Elders" not in found and "sofie.elders@" not in found
    assert "Sofie Vertrokken" not in found
    admin = app.test_client()
    factories.user(email="root@example.org", role="admin")
    login(admin, "root@example.org")
    everyone = people_section(admin.get("/facilities?q=sofie").get_data(as_text=True))
    assert "Sofie Claes" in everyone and "Sofie Elders" in everyone
    assert "Sofie Vertrokken" in everyone


def test_one_letter_finds_no_people(logged_in, network):
    assert 'id="people"' not in logged_in.get("/facilities?q=s").get_data(as_text=True)


def test_facility_table_sorts_by_its_columns(logged_in, facilitator):
    net = factories.network(facilitators=[facilitator])
    for name, postcode, city in [
        ("Aster", "9000", "Gent"),
        ("Berk", "2000", "Antwerpen"),
        ("Ceder", "8000", "Brugge"),
    ]:
        factories.member(net, factories.facility(name=name, postcode=postcode, city=city))
    db.session.commit()

    def order(query: str) -> list[str]:
        html = logged_in.get(f"/facilities{query}").get_data(as_text=True)
        body = html.split("<tbody>")[1]
        return sorted(("Aster", "Berk", "Ceder"), key=body.index)

    assert order("") == ["Aster", "Berk", "Ceder"]
    assert order("?sort=-name") == ["Ceder", "Berk", "Aster"]
    assert order("?sort=city") == ["Berk", "Ceder", "Aster"]
    assert order("?sort=-city") == ["Aster", "Ceder", "Berk"]
    assert order("?sort=nonsense") == ["Aster", "Berk", "Ceder"]
    html = logged_in.get("/facilities?sort=city").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    assert "sort=-city" in html  # the active column's link reverses it
    assert "<script" not in html.split("</head>")[1]


def test_dashboard_is_a_to_do_list(logged_in, network):
    """Hosts to confirm and agendas to write for the coming sessions, with their actions;
    relative dates; a session far ahead is not yet a to-do."""
    from learnnet.sessions.models import CONFIRMED

    host = network.memberships[0].facility
    soon = factories.session(network, host, days_ahead=10, agenda="")
    done = factories.session(network, host, days_ahead=20, agenda="Onthaal", status=CONFIRMED)
    later = factories.session(network, host, days_ahead=120, agenda="")
    db.session.commit()
    html = logged_in.get("/").get_data(as_text=True)
    todo = html.split('id="todo"')[1].split('aria-labelledby="networks-title"')[0]
    assert f"/sessions/{soon.id}/edit" in todo  # write the agenda
    assert f'href="/sessions/{soon.id}"' in todo  # ask the host to confirm
    assert f"/sessions/{done.id}" not in todo
    assert f"/sessions/{later.id}" not in todo
    assert "over 10 dagen" in html
    assert '<span class="nowrap">' in todo  # the times stay on one line


def test_the_to_do_list_asks_for_answers_a_week_before_and_for_attendance_after(logged_in, network):
    """UI.md's two other to-dos: low response a week before (fewer than half of the
    member facilities answered, invitations sent), attendance not yet recorded."""
    from learnnet.attendance import services as attendance
    from learnnet.models import utcnow
    from tests.rsvp_helpers import answer, token_for

    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    for n in range(2):  # four members: two answers are half, one is too few
        factories.member(network, factories.facility(name=f"Opvang {n}", postcode="9000"))
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    bram = factories.contact(ukkepuk, name="Bram Peeters", email="bram@example.org")
    invited = utcnow()
    quiet = factories.session(network, ukkepuk, days_ahead=5, agenda="x", invited_at=invited)
    half = factories.session(network, ukkepuk, days_ahead=6, agenda="x", invited_at=invited)
    uninvited = factories.session(network, ukkepuk, days_ahead=4, agenda="x")
    far = factories.session(network, ukkepuk, days_ahead=12, agenda="x", invited_at=invited)
    held = factories.session(network, ukkepuk, days_ahead=-3, agenda="x")
    recorded = factories.session(network, ukkepuk, days_ahead=-4, agenda="x")
    long_ago = factories.session(network, ukkepuk, days_ahead=-45, agenda="x")
    db.session.commit()
    client = logged_in.application.test_client()
    answer(client, token_for(sofie), quiet.id, "yes")
    answer(client, token_for(sofie), half.id, "no")
    answer(client, token_for(bram), half.id, "maybe")
    attendance.record(recorded, sofie, "present", via="facilitator")
    db.session.commit()

    html = logged_in.get("/").get_data(as_text=True)
    todo = html.split('id="todo"')[1].split('aria-labelledby="networks-title"')[0]
    assert f'href="/sessions/{quiet.id}#answers"' in todo
    assert "Weinig antwoorden: 1 van de 4 voorzieningen" in todo
    for not_yet in (half, uninvited, far):
        assert f'href="/sessions/{not_yet.id}#answers"' not in todo
    assert f'href="/sessions/{held.id}/checkin"' in todo
    assert "Aanwezigheid nog niet ingevuld" in todo
    for done in (recorded, long_ago):
        assert f"/sessions/{done.id}/checkin" not in todo


def test_archived_networks_are_apart(logged_in, network, facilitator):
    old = factories.network(facilitators=[facilitator], name="Oud netwerk", status="archived")
    db.session.commit()
    html = logged_in.get("/").get_data(as_text=True)
    archived = html.split('id="archived"')[1]
    assert old.name in archived
    assert old.name not in html.split('id="archived"')[0]


def test_network_page_shows_the_next_sessions_and_one_primary_action(logged_in, network):
    host = network.memberships[0].facility
    first = factories.session(network, host, days_ahead=5)
    factories.session(network, host, days_ahead=-5)
    db.session.commit()
    html = logged_in.get(f"/networks/{network.slug}").get_data(as_text=True)
    sessions = html.split('id="sessions"')[1].split("</section>")[0]
    assert f"/sessions/{first.id}" in sessions and "over 5 dagen" in sessions
    head = html.split('class="head-actions"')[1].split("</div>")[0]
    assert head.count("button primary") == 1
    assert 'value="archive"' not in head  # archiving is apart, at the bottom
    assert 'value="archive"' in html.split('id="archive"')[1]
    tabs = html.split('class="tabs"')[1].split("</nav>")[0]
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]+)"', tabs))


def test_members_leave_through_one_page_not_a_form_per_member(logged_in, network):
    for n in range(30):
        factories.member(network, factories.facility(name=f"Opvang {n}", postcode="9000"))
    sofie = db.session.scalar(db.select(Contact).where(Contact.name == "Sofie Claes"))
    sofie.phone = "0470 12 34 56"  # she is in the directory
    db.session.commit()
    html = logged_in.get(f"/networks/{network.slug}").get_data(as_text=True)
    assert html.count('name="csrf_token"') <= 4  # log out, language, archive, calendar link
    members = html.split('id="members"')[1].split("</section>")[0]
    leave_url = f"/networks/{network.slug}/members/leave"
    assert leave_url in members  # findable without opening anything
    assert '<a class="tel" href="tel:0470123456">0470 12 34 56</a>' in html  # one line

    membership = network.memberships[1]
    page = logged_in.get(f"{leave_url}?membership={membership.id}").get_data(as_text=True)
    assert f'<option value="{membership.id}" selected>' in page
    token = csrf_token_from(page)
    refused = logged_in.post(
        leave_url, data={"csrf_token": token, "membership": "", "left_on": "2026-12-31"}
    )
    assert refused.status_code == 200 and "error-summary" in refused.get_data(as_text=True)
    too_early = logged_in.post(
        leave_url,
        data={"csrf_token": token, "membership": membership.id, "left_on": "2020-01-01"},
    )
    assert too_early.status_code == 200
    db.session.refresh(membership)
    assert membership.left_on is None
    done = logged_in.post(
        leave_url,
        data={"csrf_token": token, "membership": membership.id, "left_on": "2026-12-31"},
    )
    assert done.status_code == 302
    db.session.refresh(membership)
    assert membership.left_on == date(2026, 12, 31)


def test_leaving_another_networks_membership_is_refused(logged_in, network, facilitator):
    other = factories.network(facilitators=[factories.user(email="z@example.org")])
    foreign = factories.member(other, factories.facility(name="Elders"))
    db.session.commit()
    page = logged_in.get(f"/networks/{network.slug}/members/leave").get_data(as_text=True)
    response = logged_in.post(
        f"/networks/{network.slug}/members/leave",
        data={
            "csrf_token": csrf_token_from(page),
            "membership": foreign.id,
            "left_on": "2026-12-31",
        },
    )
    assert response.status_code == 200
    db.session.refresh(foreign)
    assert foreign.left_on is None


def test_timeline_groups_by_werkjaar_and_marks_moved_sessions(logged_in, network):
    """A session whose date or host changed after planning (the audit trail says so)
    carries "verplaatst"; an agenda edit does not; the usual title is not repeated."""
    from datetime import time, timedelta

    from learnnet.sessions import services as scheduling
    from learnnet.timefmt import to_local

    host = network.memberships[0].facility
    kept = factories.session(network, host, days_ahead=15)
    shifted = factories.session(network, host, days_ahead=40)
    special = factories.session(network, host, days_ahead=50, title="Nieuwjaarsreceptie")
    db.session.commit()
    day = to_local(shifted.starts_at, network.timezone).date() + timedelta(days=1)
    assert scheduling.move_session(shifted, day, time(19, 0), time(21, 30), host.id)
    kept.agenda = "Onthaal en rondleiding"
    db.session.commit()
    html = logged_in.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)

    def item(session) -> str:
        return html.split(f'/sessions/{session.id}"')[1].split("</li>")[0]

    assert "chip-moved" in item(shifted) and "chip-moved" not in item(kept)
    assert "over 15 dagen" in item(kept)
    assert "Netwerkbijeenkomst" not in item(kept)  # the usual title: no filler on every row
    assert "Nieuwjaarsreceptie" in item(special)
    year = to_local(kept.starts_at, network.timezone).date()
    start = year.year if year.month >= 9 else year.year - 1
    assert f"{start}–{start + 1}" in html.split('id="upcoming"')[1].split("</section>")[0]


def test_facility_page_hosting_history_and_contact_links(logged_in, network, facilitator):
    facility = network.memberships[0].facility
    sofie = db.session.scalar(db.select(Contact).where(Contact.name == "Sofie Claes"))
    sofie.phone = "09 123 45 67"
    past = factories.session(network, facility, days_ahead=-30)
    planned = factories.session(network, facility, days_ahead=30)
    theirs = factories.network(facilitators=[factories.user(email="y@example.org")])
    factories.member(theirs, facility)
    hidden = factories.session(theirs, facility, days_ahead=60)
    db.session.commit()
    html = logged_in.get(f"/facilities/{facility.id}").get_data(as_text=True)
    hosting = html.split('id="hosting"')[1].split("</section>")[0]
    assert f"/sessions/{past.id}" in hosting and f"/sessions/{planned.id}" in hosting
    assert f"/sessions/{hidden.id}" not in hosting  # another network's session
    contacts = html.split('id="contacts"')[1].split("</section>")[0]
    assert 'href="mailto:sofie@example.org"' in contacts
    assert 'href="tel:091234567"' in contacts
    assert html.index('id="contacts"') < html.index('id="unavailable"')


def test_member_and_directory_tables_sort_by_their_columns(logged_in, network):
    html = logged_in.get(f"/networks/{network.slug}?sort=-name").get_data(as_text=True)
    members = html.split('id="members"')[1].split("</section>")[0].split("<tbody>")[1]
    assert members.index("Kinderopvang Ukkepuk") < members.index("KDV De Zonnebloem")
    assert 'aria-sort="descending"' in html
    html = logged_in.get(f"/networks/{network.slug}?dsort=facility").get_data(as_text=True)
    assert 'href="/networks/' in html and "dsort=-facility#directory" in html
