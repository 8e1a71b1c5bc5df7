"""Conflicts are flagged at once: a change that makes a planned host invalid is named in
the message after it, on the timeline, on the dashboard and on the session, which offers
the planner's choice of another host in one click (issue 9)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from learnnet.extensions import db
from learnnet.planning import planning
from learnnet.planning.services import network_blackouts
from learnnet.sessions.models import Blackout
from learnnet.timefmt import to_local
from tests import factories
from tests.test_scheduling import members as members  # the fixture


def _day(session):
    return to_local(session.starts_at, session.network.timezone).date()


def _planned(network, members):
    first = factories.session(network, members[0], days_ahead=20)
    second = factories.session(network, members[1], days_ahead=48)
    db.session.commit()
    return first, second


def test_an_unavailable_period_over_a_planned_date_is_named_and_flagged_everywhere(
    logged_in, network, members
):
    first, second = _planned(network, members)
    day = _day(first)
    response = logged_in.post(
        f"/facilities/{members[0].id}/unavailability",
        data={
            "closed-starts_on": (day - timedelta(days=1)).isoformat(),
            "closed-ends_on": (day + timedelta(days=1)).isoformat(),
            "closed-label": "Verbouwing",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Deze wijziging raakt 1 geplande bijeenkomst" in html
    assert f'href="/sessions/{first.id}"' in html
    timeline = logged_in.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)
    item = timeline.split(f'/sessions/{first.id}"')[1].split("</li>")[0]
    assert "chip-warn" in item and "gesloten" in item
    other = timeline.split(f'/sessions/{second.id}"')[1].split("</li>")[0]
    assert "chip-warn" not in other
    dashboard = logged_in.get("/").get_data(as_text=True)
    assert "1 geplande bijeenkomst heeft een andere gastvoorziening of datum nodig" in dashboard
    page = logged_in.get(f"/sessions/{first.id}").get_data(as_text=True)
    assert 'id="flag"' in page


def test_choose_another_host_in_one_click_clears_the_flag(logged_in, network, members):
    first, _second = _planned(network, members)
    day = _day(first)
    factories_period = dict(starts_on=day, ends_on=day, reason="Dicht")
    from learnnet.sessions.models import Unavailability

    db.session.add(Unavailability(facility=members[0], **factories_period))
    db.session.commit()
    page = logged_in.get(f"/sessions/{first.id}").get_data(as_text=True)
    flag = page.split('id="flag"')[1].split("</section>")[0]
    proposed = re.search(r'name="host_id" value="(\d+)"', flag).group(1)
    assert int(proposed) not in (members[0].id, members[1].id)  # not closed, not next door
    response = logged_in.post(
        f"/sessions/{first.id}/rehost",
        data={"host_id": proposed, "current_host_id": str(members[0].id)},
        follow_redirects=True,
    )
    db.session.refresh(first)
    assert first.host_facility_id == int(proposed)
    assert first.status == "planned"  # the new host confirms again
    assert 'id="flag"' not in response.get_data(as_text=True)
    assert planning.conflicts(network) == []


def test_a_stale_choose_another_host_form_changes_nothing(logged_in, network, members):
    first, _second = _planned(network, members)
    revision = first.revision
    response = logged_in.post(
        f"/sessions/{first.id}/rehost",
        data={"host_id": str(members[2].id), "current_host_id": str(members[3].id)},
        follow_redirects=True,
    )
    db.session.refresh(first)
    assert first.host_facility_id == members[0].id and first.revision == revision
    assert "intussen gewijzigd" in response.get_data(as_text=True)


def test_a_blackout_over_a_planned_date_is_named(logged_in, network, members):
    first, _second = _planned(network, members)
    day = _day(first)
    html = logged_in.post(
        f"/networks/{network.slug}/blackouts",
        data={
            "blackout-starts_on": day.isoformat(),
            "blackout-ends_on": day.isoformat(),
            "blackout-label": "Pedagogische studiedag",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Deze wijziging raakt 1 geplande bijeenkomst" in html
    assert "periode zonder bijeenkomsten" in html


def test_a_host_that_stops_hosting_or_leaves_or_loses_its_contacts_is_flagged(
    app, network, members
):
    first, second = _planned(network, members)
    assert planning.conflicts(network) == []
    members[0].willing_to_host = False
    db.session.commit()
    assert [(f.session.id, f.codes) for f in planning.conflicts(network)] == [
        (first.id, ("not_willing",))
    ]
    members[0].willing_to_host = True
    for contact in members[1].contacts:
        contact.active = False
    db.session.commit()
    assert [(f.session.id, f.codes) for f in planning.conflicts(network)] == [
        (second.id, ("no_contact",))
    ]
    for contact in members[1].contacts:
        contact.active = True
    membership = next(m for m in network.memberships if m.facility_id == members[1].id)
    membership.left_on = _day(first)
    db.session.commit()
    assert [(f.session.id, f.codes) for f in planning.conflicts(network)] == [
        (second.id, ("not_member",))
    ]


def test_a_room_now_too_small_is_flagged(app, network, members):
    first, _second = _planned(network, members)
    network.expected_attendance = 15
    members[0].room_capacity = 10
    members[1].room_capacity = 30
    db.session.commit()
    assert [(f.session.id, f.codes) for f in planning.conflicts(network)] == [
        (first.id, ("too_small",))
    ]


def test_blackouts_in_the_past_or_cancelled_sessions_are_not_flagged(app, network, members):
    first, _second = _planned(network, members)
    first.status = "cancelled"
    db.session.add(Blackout(network=network, starts_on=_day(first), ends_on=_day(first)))
    db.session.commit()
    assert planning.conflicts(network) == []


def test_school_holidays_of_a_school_year_in_one_click(logged_in, network, members):
    from learnnet.planning.schoolholidays import school_holidays, school_year_of

    year = school_year_of(date.today())
    page = logged_in.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)
    assert f'name="school_year" value="{year + 1}"' in page
    url = f"/networks/{network.slug}/blackouts/school-holidays"
    html = logged_in.post(url, data={"school_year": str(year + 1)}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "5 schoolvakanties toegevoegd" in html
    stored = {(b.starts_on, b.ends_on, b.label) for b in network_blackouts(network)}
    expected = school_holidays(year + 1)
    assert {(h.start, h.end) for h in expected} == {(s, e) for s, e, _label in stored}
    assert any(label.startswith("Krokusvakantie") for _s, _e, label in stored)
    # Twice changes nothing; a school year not offered is refused.
    logged_in.post(url, data={"school_year": str(year + 1)})
    assert len(network_blackouts(network)) == 5
    html = logged_in.post(url, data={"school_year": "1999"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert len(network_blackouts(network)) == 5
    assert "Kies een van de voorgestelde schooljaren" in html


def test_the_tally_shows_the_running_round(logged_in, network, members):
    factories.session(network, members[0], days_ahead=-60, status="held")
    factories.session(network, members[1], days_ahead=-30, status="held")
    factories.session(network, members[2], days_ahead=20)
    db.session.commit()
    html = logged_in.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)
    tally = html.split('id="tally"')[1].split("</section>")[0]
    assert "Ronde 1" in tally

    def row(facility):
        return tally.split(f"/facilities/{facility.id}")[1].split("</tr>")[0]

    assert "ontving op" in row(members[0]) and "ontving op" in row(members[1])
    assert "ontvangt op" in row(members[2])
    assert "nog aan de beurt" in row(members[3])


def test_editing_a_facility_or_its_contacts_names_the_sessions_it_breaks(
    logged_in, network, members
):
    first, _second = _planned(network, members)
    facility = members[0]
    form = logged_in.get(f"/facilities/{facility.id}/edit").get_data(as_text=True)
    assert "willing_to_host" in form
    data = {
        "name": facility.name,
        "street": facility.street or "Straat 1",
        "postcode": facility.postcode,
        "city": facility.city or "Gent",
        "room_capacity": str(facility.room_capacity or 20),
        "willing_to_host": "0",
    }
    html = logged_in.post(
        f"/facilities/{facility.id}/edit", data=data, follow_redirects=True
    ).get_data(as_text=True)
    assert "Deze wijziging raakt 1 geplande bijeenkomst" in html
    assert f'href="/sessions/{first.id}"' in html
    assert "ontvangt niet meer" in html


def test_a_csv_import_that_changes_a_host_names_the_sessions_it_affects(
    logged_in, network, members
):
    """The import updates existing facilities like the edit form does: the sessions that
    lose their host are named at once (checked for all changed facilities together)."""
    from tests.test_csv import HEADER, upload

    first, second = _planned(network, members)
    host = members[0]
    line = (
        f"{host.name};{host.street or 'Straat 1'};{host.postcode};{host.city or 'Gent'};20;nee;;;;"
    )
    preview = upload(logged_in, network, f"{HEADER}\n{line}\n".encode()).get_data(as_text=True)
    assert "1 bestaande voorziening bijgewerkt" in preview
    payload = preview.split('name="payload"')[1].split('value="')[1].split('"')[0]
    html = logged_in.post(
        f"/networks/{network.slug}/import/confirm",
        data={"payload": payload},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Import klaar." in html
    assert "Deze wijziging raakt 1 geplande bijeenkomst" in html
    assert f'href="/sessions/{first.id}"' in html
    assert (
        f'href="/sessions/{second.id}"'
        not in html.split("Deze wijziging raakt")[1].split("</div>")[0]
    )
