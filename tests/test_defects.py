"""Defects found on the way (issue 12, item 11), each with the test that shows it fixed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from learnnet.extensions import db
from learnnet.planning.recurrence import local_to_utc
from learnnet.timefmt import local_today, to_local
from tests import factories
from tests.test_scheduling import members as members  # the fixture


def test_saving_session_details_unchanged_keeps_the_deadline_time(logged_in, network, members):
    session = factories.session(network, members[0], days_ahead=20)
    day = to_local(session.starts_at, network.timezone).date() - timedelta(days=7)
    session.rsvp_deadline = local_to_utc(day, time(19, 0), network.timezone)
    db.session.commit()
    before = session.rsvp_deadline
    form = logged_in.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert day.isoformat() in form
    logged_in.post(
        f"/sessions/{session.id}/edit",
        data={
            "title": session.title,
            "agenda": "",
            "host_showcase": "",
            "practical_info": "",
            "capacity": str(session.capacity or ""),
            "rsvp_deadline": day.isoformat(),
        },
    )
    db.session.refresh(session)
    assert session.rsvp_deadline == before
    # Another day does get the end of that day.
    logged_in.post(
        f"/sessions/{session.id}/edit",
        data={"title": session.title, "rsvp_deadline": (day - timedelta(days=1)).isoformat()},
    )
    db.session.refresh(session)
    assert to_local(session.rsvp_deadline, network.timezone).time() == time(23, 59)


def test_reloading_a_failed_period_form_goes_back_to_its_page(logged_in, network, members):
    response = logged_in.get(f"/networks/{network.slug}/blackouts")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/networks/{network.slug}/sessions#blackouts")
    response = logged_in.get(f"/facilities/{members[0].id}/unavailability")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/facilities/{members[0].id}#unavailable")


def test_a_warning_after_a_move_is_a_warning_not_an_error(logged_in, network, members):
    session = factories.session(network, members[0], days_ahead=20)
    db.session.commit()
    year = date.today().year + 1
    html = logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": f"{year}-12-25",
            "start_time": "10:00",
            "end_time": "12:00",
            "host_id": str(members[0].id),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'class="flash flash-warning"' in html
    assert "Kerstmis" in html.split('class="flash flash-warning"')[1].split("</p>")[0]


def test_today_is_the_organisations_day_not_the_servers():
    late = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 March in Brussels
    assert local_today("Europe/Brussels", now=late) == date(2027, 3, 2)
    summer = datetime(2027, 7, 1, 22, 15, tzinfo=UTC)  # 00:15 on 2 July (summer time)
    assert local_today("Europe/Brussels", now=summer) == date(2027, 7, 2)
    assert local_today("UTC", now=summer) == date(2027, 7, 1)


def test_an_archived_network_offers_no_planning(logged_in, network, members):
    network.status = "archived"
    db.session.commit()
    for path in (f"/networks/{network.slug}", f"/networks/{network.slug}/sessions"):
        html = logged_in.get(path).get_data(as_text=True)
        assert f'href="/networks/{network.slug}/plan"' not in html, path
        assert f'href="/networks/{network.slug}/sessions/new"' not in html, path


def test_an_empty_tally_says_so(logged_in, facilitator):
    empty = factories.network(facilitators=[facilitator], name="Leeg netwerk")
    db.session.commit()
    html = logged_in.get(f"/networks/{empty.slug}/sessions").get_data(as_text=True)
    tally = html.split('id="tally"')[1].split("</section>")[0]
    assert "<table" not in tally and "Nog geen leden" in tally


def test_a_facility_without_street_has_no_dangling_comma(logged_in, network, members):
    host = members[0]
    host.street = ""
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    assert host.address == f"{host.postcode} {host.city}"
    for path in (f"/sessions/{session.id}", f"/sessions/{session.id}/sheet"):
        html = logged_in.get(path).get_data(as_text=True)
        assert not re.search(rf"(>|\s), {host.postcode} ", html), path  # no empty street
        assert f"{host.postcode} {host.city}" in html, path


def test_the_dashboard_greets_by_first_name(logged_in, facilitator):
    html = logged_in.get("/").get_data(as_text=True)
    assert "Dag An<" in html.replace("</p>", "<") or "Dag An" in html
    assert "Dag An Peeters" not in html and "Hallo" not in html


def test_breadcrumbs_are_the_same_on_every_page_of_a_network(logged_in, network, members):
    session = factories.session(network, members[0], days_ahead=20)
    db.session.commit()
    pages = [
        f"/networks/{network.slug}/sessions",
        f"/networks/{network.slug}/plan",
        f"/networks/{network.slug}/import",
        f"/networks/{network.slug}/members/new",
        f"/networks/{network.slug}/attendance",
        f"/sessions/{session.id}",
        f"/sessions/{session.id}/edit",
        f"/sessions/{session.id}/move",
        f"/sessions/{session.id}/swap",
        f"/sessions/{session.id}/checkin",
        f"/sessions/{session.id}/invitations",
    ]
    checked = 0
    for path in pages:
        response = logged_in.get(path)
        html = response.get_data(as_text=True)
        if response.status_code != 200 or 'class="breadcrumb"' not in html:
            continue
        checked += 1
        crumb = html.split('class="breadcrumb">')[1].split("</p>")[0]
        assert crumb.startswith('<a href="/">Mijn netwerken</a> › '), path
        assert f'href="/networks/{network.slug}">{network.name}</a>' in crumb, path
    assert checked >= 9


def test_sort_links_ignore_query_parameters_that_clash_with_their_own(logged_in, network):
    """Found by the form fuzzer: ?slug=… on the network page (and url_for's own
    parameters on any sortable list) gave a 500."""
    for url in (
        f"/networks/{network.slug}?slug=x&sort=name",
        f"/networks/{network.slug}?_scheme=ftp&_anchor=x&dsort=name",
        "/facilities?_scheme=ftp&_external=1&sort=city",
    ):
        response = logged_in.get(url)
        assert response.status_code == 200, url
        assert "ftp:" not in response.get_data(as_text=True)
