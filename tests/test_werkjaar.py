"""Across the network (issue 23.7): the werkjaar view, the call list and the bridges that
weaken on the dashboard, on SQLite and PostgreSQL, with their statement counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from learnnet.attendance.models import ABSENT, PRESENT, Attendance
from learnnet.extensions import db
from learnnet.learning import werkjaar_services as services
from learnnet.learning.models import LearningGoal, WerkjaarTheme, session_goal
from learnnet.learning.weak_bridges import MISSED_LAST_TWO, NOT_COME, NOT_HOSTED
from learnnet.sessions.models import CANCELLED, HELD
from learnnet.timefmt import local_today
from tests import factories
from tests.conftest import login

NL = {"Accept-Language": "nl"}


def at(day: date, hour: int = 18) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def present(session, contact, status=PRESENT):
    db.session.add(
        Attendance(
            session=session,
            contact=contact,
            facility_id=contact.facility_id,
            person_name=contact.name,
            facility_name=contact.facility.name,
            status=status,
        )
    )


def held_session(network, host, day, **kw):
    s = factories.session(network, host, starts_at=at(day), ends_at=at(day, 20), **kw)
    s.status = kw.pop("status", HELD)
    return s


def year_world(network):
    """Three members; in this werkjaar two held sessions, one cancelled, one to come."""
    for user in network.facilitators:
        user.locale = "nl"  # the pages in Dutch, as most facilitators have them
    today = local_today()
    first, third = (m.facility for m in network.memberships)
    extra = factories.facility(name="Kinderdagverblijf Klimop", phone="09 123 45 67")
    factories.member(network, extra, joined_on=date(2024, 9, 1))
    sofie = first.contacts[0]
    ukkepuk = factories.contact(
        third, name="Lien Wouters", email="lien@example.org", phone="0470 11 22 33"
    )
    year = services.current_year(network)
    start = date(year, 9, 1)
    day1 = max(start, today - timedelta(days=60))
    day2 = max(start, today - timedelta(days=20))
    s1 = held_session(network, first, day1)
    s2 = held_session(network, third, day2)
    cancelled = held_session(network, extra, max(start, today - timedelta(days=10)))
    cancelled.status = CANCELLED
    coming = factories.session(network, first, days_ahead=5)
    present(s1, sofie)
    present(s1, ukkepuk)
    present(s2, ukkepuk)
    present(s2, sofie, ABSENT)
    theme = WerkjaarTheme(network_id=network.id, start_year=year, title="Buiten spelen")
    db.session.add(theme)
    db.session.flush()
    g1 = LearningGoal(theme_id=theme.id, position=0, text="Elke dag buiten")
    g2 = LearningGoal(theme_id=theme.id, position=1, text="Ouders mee")
    db.session.add_all([g1, g2])
    db.session.flush()
    db.session.execute(
        session_goal.insert(),
        [
            {"session_id": s1.id, "goal_id": g1.id},
            {"session_id": s2.id, "goal_id": g1.id},
            {"session_id": cancelled.id, "goal_id": g2.id},
        ],
    )
    db.session.commit()
    return {
        "s1": s1,
        "s2": s2,
        "cancelled": cancelled,
        "coming": coming,
        "extra": extra,
        "first": first,
        "third": third,
        "year": year,
        "g1": g1,
        "g2": g2,
    }


def test_network_year_sums(app, network):
    w = year_world(network)
    data = services.network_year(network, w["year"])
    lines = {line.session.id: line for line in data.summary.lines}
    assert set(lines) == {w["s1"].id, w["s2"].id, w["cancelled"].id, w["coming"].id}
    assert lines[w["s1"].id].session.present_people == 2
    assert (lines[w["s1"].id].facilities_present, lines[w["s1"].id].facilities_of) == (2, 3)
    assert (lines[w["s2"].id].facilities_present, lines[w["s2"].id].session.present_people) == (
        1,
        1,
    )
    assert not lines[w["coming"].id].session.held and lines[w["cancelled"].id].session.cancelled
    # The cancelled session named goal 2, but serves nothing.
    assert [(g.goal.id, len(g.session_ids)) for g in data.summary.goals] == [
        (w["g1"].id, 2),
        (w["g2"].id, 0),
    ]
    assert data.summary.held == 2 and data.summary.people == 3
    # The bridges of the year: Ukkepuk visited De Zonnebloem, nobody else visited anyone.
    edges = {(e.visitor_id, e.host_id) for e in data.bridges.edges}
    assert edges == {(w["third"].id, w["first"].id)}
    assert w["year"] in data.years
    # An earlier werkjaar has none of these sessions.
    assert services.network_year(network, w["year"] - 1).summary.lines == ()


def test_werkjaar_page(app, network, logged_in):
    w = year_world(network)
    page = logged_in.get(f"/networks/{network.slug}/werkjaar/overview", headers=NL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Buiten spelen" in html and "Elke dag buiten" in html
    assert "Geannuleerd" in html and "<svg" in html
    assert "2 van 3 voorzieningen" in html  # the first session: members present of members then
    assert "nog geen afspraken in een gepubliceerd verslag" in html
    assert f"/networks/{network.slug}/werkjaar?jaar={w['year']}" in html  # the theme's own page
    earlier = logged_in.get(
        f"/networks/{network.slug}/werkjaar/overview?jaar={w['year'] - 1}", headers=NL
    )
    assert "Buiten spelen" not in earlier.get_data(as_text=True)
    for odd in ("abc", "99999", "2025-2030", "%00"):
        assert logged_in.get(
            f"/networks/{network.slug}/werkjaar/overview?jaar={odd}"
        ).status_code in (200, 400)
    network_page = logged_in.get(f"/networks/{network.slug}").get_data(as_text=True)
    assert f"/networks/{network.slug}/werkjaar/overview" in network_page


def test_weak_bridges_on_dashboard_and_call_list(app, network, logged_in):
    w = year_world(network)
    found = services.weak_bridges([network])[network.id]
    by_id = {line.bridge.facility_id: line for line in found}
    # Klimop never came this werkjaar and missed the last two; Zonnebloem hosted s1 but
    # was absent at s2: it missed only one of the last two.
    assert MISSED_LAST_TWO in by_id[w["extra"].id].bridge.reasons
    assert NOT_COME in by_id[w["extra"].id].bridge.reasons
    assert w["first"].id not in by_id and w["third"].id not in by_id
    dash = logged_in.get("/", headers=NL).get_data(as_text=True)
    assert "Bruggen die verzwakken" in dash and "Kinderdagverblijf Klimop" in dash
    assert "miste de laatste twee bijeenkomsten" in dash
    assert "kwam dit werkjaar nog niet" in dash
    # Klimop has no contact with an address, nor an address itself: the call, not a mail.
    assert f"call-list#f{w['extra'].id}" in dash
    calls = logged_in.get(f"/networks/{network.slug}/call-list", headers=NL).get_data(as_text=True)
    assert "Belronde" in calls and 'href="tel:091234567"' in calls
    assert f"/networks/{network.slug}/facilities/{w['extra'].id}/jaaroverzicht" in calls
    csv = logged_in.get(f"/networks/{network.slug}/call-list.csv", headers=NL)
    text = csv.data.decode("utf-8-sig")
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert "Kinderdagverblijf Klimop" in text and "09 123 45 67" in text
    # A member that comes but has not hosted for more than a werkjaar: asked to host.
    guest = factories.facility(name="Onthaal Regenboog", email="info@regenboog.example")
    factories.member(network, guest, joined_on=date(2024, 9, 1))
    guest_contact = factories.contact(guest, name="Mira", email="")
    present(w["s1"], guest_contact)
    present(w["s2"], guest_contact)
    db.session.commit()
    line = {ln.bridge.facility_id: ln for ln in services.weak_bridges([network])[network.id]}[
        guest.id
    ]
    assert line.bridge.reasons == (NOT_HOSTED,)
    dash = logged_in.get("/", headers=NL).get_data(as_text=True)
    assert "ontving dit werkjaar nog niet" in dash
    # Mira has no address: the mail goes to the facility's own.
    assert "mailto:info@regenboog.example?subject=" in dash
    assert "ontvangen%20jullie%20eens%20een%20bijeenkomst%3F" in dash
    # A contact with an address: the mail link goes to her, with a Dutch subject.
    factories.contact(
        w["extra"], name="Els Maes", email="els+net@example.org", phone="0499 00 00 00"
    )
    db.session.commit()
    dash = logged_in.get("/", headers=NL).get_data(as_text=True)
    assert (
        "mailto:els+net@example.org?subject=Lerend%20netwerk%20Gent%3A%20we%20misten%20jullie"
        in dash
    )


def test_other_facilitators_see_nothing(app, network):
    year_world(network)
    other = factories.user(email="other@example.org", name="Ander")
    factories.network(facilitators=[other], name="Ander netwerk")
    db.session.commit()
    client = app.test_client()
    login(client, other.email)
    for url in (
        f"/networks/{network.slug}/werkjaar/overview",
        f"/networks/{network.slug}/call-list",
        f"/networks/{network.slug}/call-list.csv",
    ):
        assert client.get(url).status_code == 403
    assert "Klimop" not in client.get("/").get_data(as_text=True)


def grow(network, members: int, sessions: int, people: int):
    hosts = [m.facility for m in network.memberships]
    for _n in range(members):
        fac = factories.facility(phone="09 000 00 00")
        factories.member(network, fac, joined_on=date(2024, 9, 1))
        for p in range(people):
            factories.contact(fac, phone=f"0470 00 00 {p:02d}")
        hosts.append(fac)
    today = local_today()
    for n in range(sessions):
        s = held_session(network, hosts[n % len(hosts)], today - timedelta(days=3 + 9 * n))
        for c in hosts[(n + 1) % len(hosts)].contacts:
            present(s, c)
    db.session.commit()


def statements(client, count_queries, url):
    client.get(url)
    db.session.expire_all()
    before = count_queries.count
    assert client.get(url).status_code == 200
    return count_queries.count - before


def test_statement_counts_do_not_grow(app, network, facilitator, logged_in, count_queries):
    grow(network, members=2, sessions=2, people=1)
    second = factories.network(facilitators=[facilitator], name="Tweede")
    db.session.commit()
    urls = [
        "/",
        f"/networks/{network.slug}/werkjaar/overview",
        f"/networks/{network.slug}/call-list",
    ]
    small = [statements(logged_in, count_queries, u) for u in urls]
    grow(network, members=8, sessions=12, people=3)
    for n in range(3):
        grow(factories.network(facilitators=[facilitator], name=f"Meer {n}"), 4, 5, 2)
    factories.member(second, factories.facility(name="Late"), joined_on=date(2024, 9, 1))
    db.session.commit()
    large = [statements(logged_in, count_queries, u) for u in urls]
    assert large == small


def test_share_of_agreements_done_counts_published_minutes_only(app, network, logged_in):
    from learnnet.learning.minutes_models import DRAFT, PUBLISHED, ActionPoint, Minutes
    from learnnet.models import utcnow

    w = year_world(network)
    due = local_today() + timedelta(days=14)
    published = Minutes(session_id=w["s1"].id, status=PUBLISHED, published_at=utcnow())
    draft = Minutes(session_id=w["s2"].id, status=DRAFT)
    db.session.add_all([published, draft])
    db.session.flush()
    for n, (session, done) in enumerate(
        [(w["s1"], True), (w["s1"], False), (w["s1"], False), (w["s2"], True)]
    ):
        db.session.add(
            ActionPoint(
                session_id=session.id,
                network_id=network.id,
                position=n,
                what=f"Afspraak {n}",
                owner_facility_id=w["first"].id,
                due_on=due,
                done_at=utcnow() if done else None,
            )
        )
    db.session.commit()
    share = services.network_year(network, w["year"]).summary.agreements
    assert (share.done, share.total, share.percent) == (1, 3, 33)
    html = logged_in.get(f"/networks/{network.slug}/werkjaar/overview", headers=NL).get_data(
        as_text=True
    )
    assert "1 van 3 afspraken uitgevoerd (33 %)" in html
    assert f"/sessions/{w['s1'].id}/minutes#agreements" in html  # the minutes, one tap away
