"""Planning a season through the web, and changing sessions afterwards."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Facility
from learnnet.sessions.models import CANCELLED, CONFIRMED, Blackout, Session, Unavailability
from tests import factories

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
def members(network):
    """Four members willing to host, each with a contact person to confirm (the fixture
    network has two; add two)."""
    for name in ("Kinderopvang Tuimeling", "Crèche Kleine Stapjes"):
        factories.member(network, factories.facility(name=name, room_capacity=20))
    for membership in network.memberships:
        if not any(c.active for c in membership.facility.contacts):
            factories.contact(membership.facility)
    db.session.commit()
    return [m.facility for m in network.memberships]


def next_weekday(weekday: int, after: date | None = None) -> date:
    day = (after or date.today()) + timedelta(days=1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def plan_data(**change):
    data = {
        "pattern": "weekly",
        "weekday": "1",
        "interval_weeks": "2",
        "nth": "2",
        "start_on": next_weekday(1).isoformat(),
        "count": "4",
        "start_time": "19:00",
        "duration": "150",
        "title": "Netwerkbijeenkomst",
        "expected": "8",
        "rsvp_days": "7",
    }
    data.update(change)
    return data


def preview_rows(html: str) -> list[tuple[str, str]]:
    """(date, chosen facility id) of each planned row in the preview."""
    rows = []
    for iso in re.findall(r'name="shown" value="([\d-]+)"', html):
        if f'name="host-{iso}"' not in html:
            continue  # a dropped date: no host
        select_html = html.split(f'name="host-{iso}"')[1].split("</select>")[0]
        chosen = re.search(r'<option value="(\d+)" selected', select_html)
        if chosen:
            rows.append((iso, chosen.group(1)))
    return rows


def form_from_preview(html: str, data: dict) -> dict:
    """What the browser would send back from the preview page: the form's fields, every
    hidden field of the preview, ticked boxes and chosen hosts."""
    out = dict(data)
    preview = html.split('id="preview"', 1)[1] if 'id="preview"' in html else ""
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', preview):
        value = value.replace("&amp;", "&").replace("&#34;", '"')
        if name in ("shown", "school_shown"):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    for iso in out.get("shown", []):
        if f'name="keep-{iso}" value="1" checked' in html:
            out[f"keep-{iso}"] = "1"
    for iso in out.get("school_shown", []):
        if f'name="school-{iso}" value="1" checked' in html:
            out[f"school-{iso}"] = "1"
    for iso, host in preview_rows(html):
        out[f"host-{iso}"] = host
    return out


def plan_post(client, url: str, data: dict):
    """Post the plan form and follow the redirect to the preview (post/redirect/get)."""
    return client.post(url, data=data, follow_redirects=True)


def sessions():
    return list(db.session.scalars(select(Session).order_by(Session.starts_at)))


def test_preview_shows_hosts_with_reasons_and_saves_nothing(logged_in, network, members):
    response = plan_post(logged_in, f"/networks/{network.slug}/plan", plan_data())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(preview_rows(html)) == 4
    assert len({host for _day, host in preview_rows(html)}) == 4  # everyone hosts once
    assert sessions() == []


def test_preview_adjust_one_host_and_save(logged_in, network, members):
    url = f"/networks/{network.slug}/plan"
    html = plan_post(logged_in, url, plan_data()).get_data(as_text=True)
    form = form_from_preview(html, plan_data())
    first_day, first_host = preview_rows(html)[0]
    other = next(str(f.id) for f in members if str(f.id) != first_host)
    form[f"host-{first_day}"] = other
    html = plan_post(logged_in, url, form | {"action": "preview"}).get_data(as_text=True)
    assert preview_rows(html)[0] == (first_day, other)
    response = logged_in.post(url, data=form_from_preview(html, plan_data()) | {"action": "save"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/networks/{network.slug}/sessions#upcoming")
    saved = sessions()
    assert len(saved) == 4
    assert saved[0].host_facility_id == int(other)
    local = saved[0].starts_at.astimezone(BRUSSELS)
    assert (local.date().isoformat(), local.hour, local.minute) == (first_day, 19, 0)
    assert saved[0].ends_at - saved[0].starts_at == timedelta(minutes=150)
    assert saved[0].rsvp_deadline == saved[0].starts_at - timedelta(days=7)
    assert saved[0].capacity == db.session.get(Facility, int(other)).room_capacity


def test_dropping_and_adding_dates(logged_in, network, members):
    url = f"/networks/{network.slug}/plan"
    html = plan_post(logged_in, url, plan_data()).get_data(as_text=True)
    form = form_from_preview(html, plan_data())
    dropped = preview_rows(html)[1][0]
    del form[f"keep-{dropped}"]
    extra = next_weekday(3)  # a Thursday
    form["add_date"] = extra.strftime("%d/%m/%Y")
    html = plan_post(logged_in, url, form | {"action": "preview"}).get_data(as_text=True)
    days = [d for d, _ in preview_rows(html)]
    assert dropped not in days
    assert extra.isoformat() in days
    plan_post(logged_in, url, form_from_preview(html, plan_data()) | {"action": "save"})
    saved_days = {s.starts_at.astimezone(BRUSSELS).date() for s in sessions()}
    assert date.fromisoformat(dropped) not in saved_days
    assert extra in saved_days


def test_save_refuses_a_plan_that_changed_since_the_preview(logged_in, network, members):
    url = f"/networks/{network.slug}/plan"
    html = plan_post(logged_in, url, plan_data()).get_data(as_text=True)
    form = form_from_preview(html, plan_data())
    first_day = date.fromisoformat(preview_rows(html)[0][0])
    # Meanwhile somebody adds a session on the first date.
    factories.session(network, members[0], days_ahead=(first_day - date.today()).days)
    db.session.commit()
    response = plan_post(logged_in, url, form | {"action": "save"})
    assert response.status_code == 200
    assert "gewijzigd sinds je voorbeeld" in response.get_data(as_text=True)
    assert len(sessions()) == 1


def test_series_keeps_its_local_time_across_summer_time(logged_in, network, members, monkeypatch):
    # Dates outside the school holidays, on both sides of both changes.
    url = f"/networks/{network.slug}/plan"
    data = plan_data(
        pattern="dates", dates="16/03/2027\n13/04/2027\n26/10/2027\n09/11/2027", count=""
    )
    html = plan_post(logged_in, url, data).get_data(as_text=True)
    plan_post(logged_in, url, form_from_preview(html, data) | {"action": "save"})
    hours = [(s.starts_at.astimezone(BRUSSELS).hour, s.starts_at.hour) for s in sessions()]
    assert hours == [(19, 18), (19, 17), (19, 17), (19, 18)]


def test_holidays_and_blackouts_are_skipped_with_a_reason(logged_in, network, members):
    year = date.today().year + 1
    db.session.add(
        Blackout(
            network=network,
            starts_on=date(year, 2, 15),
            ends_on=date(year, 2, 21),
            label="Krokusvakantie",
        )
    )
    db.session.commit()
    data = plan_data(pattern="dates", dates=f"01/01/{year}\n16/02/{year}\n02/03/{year}", count="")
    html = plan_post(logged_in, f"/networks/{network.slug}/plan", data).get_data(as_text=True)
    assert [d for d, _ in preview_rows(html)] == [f"{year}-03-02"]
    assert "Nieuwjaar" in html
    assert "Krokusvakantie" in html


def test_unavailable_host_is_never_planned_on_those_days(logged_in, network, members):
    closed = members[0]
    start = next_weekday(1)
    db.session.add(
        Unavailability(facility=closed, starts_on=start, ends_on=start + timedelta(days=60))
    )
    db.session.commit()
    html = plan_post(logged_in, f"/networks/{network.slug}/plan", plan_data(count="3")).get_data(
        as_text=True
    )
    assert str(closed.id) not in {host for _d, host in preview_rows(html)}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"until": date.today().isoformat(), "count": ""}, "until"),
        ({"duration": "0"}, "duration"),
        ({"duration": "-30"}, "duration"),
        ({"count": "1000"}, "count"),
        ({"start_on": (date.today() - timedelta(days=3)).isoformat()}, "start_on"),
        ({"count": "", "until": ""}, "until"),
        ({"pattern": "dates", "dates": "31/02/2027"}, "dates"),
        ({"start_time": "25:00"}, "start_time"),
    ],
)
def test_bad_plan_input_is_named_beside_the_field_and_nothing_saved(
    logged_in, network, members, change, field
):
    data = plan_data(**change) | {"action": "save"}
    response = logged_in.post(f"/networks/{network.slug}/plan", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in html
    for key, value in change.items():
        if value and key not in ("pattern",):
            assert value in html  # what was typed stays
    assert sessions() == []


def test_no_member_willing_to_host(logged_in, network):
    for m in network.memberships:
        m.facility.willing_to_host = False
    db.session.commit()
    html = plan_post(logged_in, f"/networks/{network.slug}/plan", plan_data()).get_data(
        as_text=True
    )
    assert 'id="pattern-error"' in html
    assert sessions() == []


def test_move_session_bumps_the_revision_and_refuses_bad_moves(logged_in, network, members):
    session = factories.session(network, members[0], days_ahead=20)
    other = factories.session(network, members[1], days_ahead=40)
    db.session.commit()
    url = f"/sessions/{session.id}/move"
    day = (date.today() + timedelta(days=25)).isoformat()
    ok = logged_in.post(
        url, data={"day": day, "start_time": "18:30", "end_time": "21:00", "host_id": members[2].id}
    )
    assert ok.status_code == 302
    db.session.refresh(session)
    assert session.revision == 1
    assert session.host_facility_id == members[2].id
    assert session.starts_at.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M") == f"{day} 18:30"
    bad = {
        "past": (
            {
                "day": (date.today() - timedelta(days=2)).isoformat(),
                "start_time": "19:00",
                "end_time": "21:00",
                "host_id": members[0].id,
            },
            "day",
        ),
        "end": (
            {"day": day, "start_time": "21:00", "end_time": "19:00", "host_id": members[0].id},
            "end_time",
        ),
        "overlap": (
            {
                "day": other.starts_at.astimezone(BRUSSELS).date().isoformat(),
                "start_time": other.starts_at.astimezone(BRUSSELS).strftime("%H:%M"),
                "end_time": "23:30",
                "host_id": members[0].id,
            },
            "day",
        ),
    }
    outsider = factories.facility(name="Geen lid")
    db.session.commit()
    bad["not_member"] = (
        {"day": day, "start_time": "19:00", "end_time": "21:00", "host_id": outsider.id},
        "host_id",
    )
    for name, (data, field) in bad.items():
        response = logged_in.post(url, data=data)
        assert response.status_code == 200, name
        assert f'id="{field}-error"' in response.get_data(as_text=True), name
    db.session.refresh(session)
    assert session.revision == 1


def test_swap_hosts_of_two_sessions(logged_in, network, members):
    a = factories.session(network, members[0], days_ahead=10)
    b = factories.session(network, members[1], days_ahead=40)
    db.session.commit()
    response = logged_in.post(f"/sessions/{a.id}/swap", data={"other_id": b.id})
    assert response.status_code == 302
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.host_facility_id, b.host_facility_id) == (members[1].id, members[0].id)
    assert (a.revision, b.revision) == (1, 1)


def test_cancel_keeps_the_session_shown_as_cancelled(logged_in, network, members):
    session = factories.session(network, members[0])
    db.session.commit()
    assert logged_in.post(f"/sessions/{session.id}/cancel").status_code == 302
    db.session.refresh(session)
    assert (session.status, session.revision) == (CANCELLED, 1)
    html = logged_in.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)
    assert "status-cancelled" in html
    again = logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": "2099-01-01",
            "start_time": "19:00",
            "end_time": "21:00",
            "host_id": members[0].id,
        },
    )
    assert again.status_code == 200


def test_add_a_single_session_and_edit_its_details(logged_in, network, members):
    day = (date.today() + timedelta(days=12)).isoformat()
    response = logged_in.post(
        f"/networks/{network.slug}/sessions/new",
        data={
            "day": day,
            "start_time": "09:30",
            "end_time": "12:00",
            "host_id": members[1].id,
            "title": "Extra: buitenspelen",
        },
    )
    assert response.status_code == 302
    session = sessions()[0]
    assert session.title == "Extra: buitenspelen"
    edit = logged_in.post(
        f"/sessions/{session.id}/edit",
        data={
            "title": "Buitenspelen",
            "agenda": "Rondleiding",
            "host_showcase": "De tuin",
            "practical_info": "Fietsenstalling",
            "capacity": "14",
            "rsvp_deadline": day,
        },
    )
    assert edit.status_code == 302
    db.session.refresh(session)
    assert (session.agenda, session.capacity, session.revision) == ("Rondleiding", 14, 0)
    assert session.rsvp_deadline.astimezone(BRUSSELS).strftime("%H:%M") == "23:59"


def _member_token(contact):
    from learnnet.rsvp.contacts import ensure_link, token_of

    token = token_of(ensure_link(contact))
    db.session.commit()
    return token


def test_host_confirms_through_their_personal_link(app, client, network, members):
    host = members[0]
    contact = host.contacts[0]
    session = factories.session(network, host)
    db.session.commit()
    token = _member_token(contact)
    page = client.get(f"/m/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/m/{token}/sessions/{session.id}/host" in html
    assert client.post(f"/m/{token}/sessions/{session.id}/host").status_code == 303
    db.session.refresh(session)
    assert session.status == CONFIRMED
    assert session.host_confirmed_by_id == contact.id


def test_a_contact_of_another_facility_cannot_confirm_hosting(app, client, network, members):
    session = factories.session(network, members[0])
    other = factories.contact(members[1])
    db.session.commit()
    token = _member_token(other)
    assert client.post(f"/m/{token}/sessions/{session.id}/host").status_code == 404
    db.session.refresh(session)
    assert session.status == "planned"


def test_a_new_host_must_confirm_again_and_the_old_host_can_no_longer(
    app, logged_in, network, members
):
    host = members[0]
    session = factories.session(network, host, status=CONFIRMED)
    db.session.commit()
    token = _member_token(host.contacts[0])
    local = session.starts_at.astimezone(BRUSSELS)
    logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "end_time": "23:00",
            "host_id": members[1].id,
        },
    )
    db.session.refresh(session)
    assert session.status == "planned"
    assert app.test_client().post(f"/m/{token}/sessions/{session.id}/host").status_code == 404
    db.session.refresh(session)
    assert session.status == "planned"


def test_timeline_and_tally(logged_in, network, members):
    factories.session(network, members[0], days_ahead=-60, status="held")
    factories.session(network, members[1], days_ahead=-30, status="held")
    factories.session(network, members[2], days_ahead=20)
    db.session.commit()
    html = logged_in.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)
    tally = html.split('id="tally"')[1].split("</section>")[0]
    # Never hosted first: the fourth member is next in line.
    first_row = tally.split("<tbody>")[1].split("</tr>")[0]
    assert members[3].name in first_row
    assert html.count("timeline-item") == 3


def test_blackouts_and_unavailability_can_be_added_and_removed(logged_in, network, members):
    response = logged_in.post(
        f"/networks/{network.slug}/blackouts",
        data={
            "blackout-label": "Kerstvakantie",
            "blackout-starts_on": "2026-12-21",
            "blackout-ends_on": "2027-01-03",
        },
    )
    assert response.status_code == 302
    blackout = db.session.scalar(select(Blackout))
    bad = logged_in.post(
        f"/networks/{network.slug}/blackouts",
        data={
            "blackout-label": "Fout",
            "blackout-starts_on": "2027-01-03",
            "blackout-ends_on": "2026-12-21",
        },
    )
    assert bad.status_code == 200 and 'id="blackout-ends_on-error"' in bad.get_data(as_text=True)
    assert (
        logged_in.post(f"/networks/{network.slug}/blackouts/{blackout.id}/delete").status_code
        == 302
    )
    assert db.session.scalar(select(func.count(Blackout.id))) == 0
    facility = members[0]
    logged_in.post(
        f"/facilities/{facility.id}/unavailability",
        data={
            "closed-label": "Verbouwing",
            "closed-starts_on": "2027-02-01",
            "closed-ends_on": "2027-02-28",
        },
    )
    period = db.session.scalar(select(Unavailability))
    assert period.reason == "Verbouwing"
    assert (
        logged_in.post(f"/facilities/{facility.id}/unavailability/{period.id}/delete").status_code
        == 302
    )


def test_demo_has_a_planned_season_per_network_with_held_sessions(app):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    now = utcnow()
    from learnnet.networks.models import Network

    for network in db.session.scalars(select(Network)):
        mine = [s for s in sessions() if s.network_id == network.id]
        assert len(mine) >= 10
        assert any(s.display_status(now) == "held" for s in mine)
        assert any(s.starts_at > now for s in mine)
        hosts = [s.host_facility_id for s in sorted(mine, key=lambda s: s.starts_at)]
        assert all(a != b for a, b in itertools.pairwise(hosts))


def test_unavailability_errors_are_shown_beside_the_field(logged_in, network, members):
    facility = members[0]
    response = logged_in.post(
        f"/facilities/{facility.id}/unavailability",
        data={
            "closed-label": "Verbouwing",
            "closed-starts_on": "2027-02-28",
            "closed-ends_on": "2027-02-01",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="closed-ends_on-error"' in html
    assert 'value="Verbouwing"' in html
    assert db.session.scalar(select(func.count(Unavailability.id))) == 0


def test_deadline_after_the_session_is_refused(logged_in, network, members):
    session = factories.session(network, members[0], days_ahead=10)
    db.session.commit()
    late = (date.today() + timedelta(days=20)).isoformat()
    response = logged_in.post(
        f"/sessions/{session.id}/edit", data={"title": "X", "rsvp_deadline": late}
    )
    assert response.status_code == 200
    assert 'id="rsvp_deadline-error"' in response.get_data(as_text=True)


def test_archived_network_is_not_planned(logged_in, network, members):
    network.status = "archived"
    db.session.commit()
    response = logged_in.post(
        f"/networks/{network.slug}/plan", data=plan_data() | {"action": "save"}
    )
    assert response.status_code == 302
    assert sessions() == []


def test_single_changes_warn_about_holidays_and_closed_hosts(logged_in, network, members):
    year = date.today().year + 1
    host = members[0]
    db.session.add(
        Unavailability(
            facility=host,
            starts_on=date(year, 12, 24),
            ends_on=date(year, 12, 26),
            reason="Kerstsluiting",
        )
    )
    db.session.commit()
    response = logged_in.post(
        f"/networks/{network.slug}/sessions/new",
        data={
            "day": f"{year}-12-25",
            "start_time": "10:00",
            "end_time": "12:00",
            "host_id": host.id,
            "title": "Kerst",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Kerstmis" in html
    assert "kan op deze datum niet ontvangen" in html


def test_leaving_warns_about_sessions_the_facility_still_hosts(logged_in, network, members):
    membership = network.memberships[0]
    hosted = factories.session(network, membership.facility, days_ahead=40)
    db.session.commit()
    response = logged_in.post(
        f"/networks/{network.slug}/members/{membership.id}/leave",
        data={"left_on": date.today().isoformat()},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Deze wijziging raakt 1 geplande bijeenkomst" in html
    assert "geen lid meer" in html
    assert f'href="/sessions/{hosted.id}"' in html


def test_the_demo_uses_the_official_school_holidays_and_adding_them_gives_no_duplicates(
    app, client
):
    """Issue 22: the demo's carnival and Easter periods were a week off the app's own
    calculation (a session in the real carnival holiday; the one-click holidays then gave
    duplicates). Now they come from the same source."""
    from learnnet import demo
    from learnnet.networks.models import Network
    from learnnet.planning import schoolholidays
    from learnnet.planning.services import network_blackouts
    from learnnet.timefmt import to_local
    from tests.conftest import login

    demo.load()
    network = db.session.scalar(select(Network).where(Network.slug == "gent-baby-peuter"))
    periods = {(b.starts_on, b.ends_on, b.label) for b in network_blackouts(network)}
    for session in db.session.scalars(select(Session)):
        day = to_local(session.starts_at, session.network.timezone).date()
        assert schoolholidays.holiday_on(day) is None, (session.network.slug, day)
    year = schoolholidays.school_year_of(date.today())
    spring = schoolholidays.school_holidays(year)[2]
    assert (spring.start, spring.end, f"Krokusvakantie {year}–{year + 1}") in periods
    # The timeline's one-click button finds them all there already.
    assert login(client, *demo.DEMO_FACILITATOR).status_code == 302
    for school_year in (year, year + 1):
        response = client.post(
            f"/networks/{network.slug}/blackouts/school-holidays",
            data={"school_year": str(school_year)},
            follow_redirects=True,
        )
        assert "Deze schoolvakanties stonden er al." in response.get_data(as_text=True)
    after = [(b.starts_on, b.ends_on) for b in network_blackouts(network)]
    assert len(after) == len(set(after))
    assert {(s, e) for s, e, _label in periods} <= set(after)
