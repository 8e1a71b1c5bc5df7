"""The plan flow as a facilitator uses it: post/redirect/get, unticking and adding dates,
defaults from the previous series, expected attendance, members passed over (issue 9)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from learnnet.extensions import db
from learnnet.sessions.models import Series, Session
from tests import factories
from tests.test_scheduling import (
    form_from_preview,
    next_weekday,
    plan_data,
    plan_post,
    preview_rows,
)
from tests.test_scheduling import members as members  # the fixture


def _sessions():
    return list(db.session.scalars(select(Session).order_by(Session.starts_at)))


def test_preview_is_a_get_so_reload_and_back_never_resubmit(logged_in, network, members):
    url = f"/networks/{network.slug}/plan"
    response = logged_in.post(url, data=plan_data())
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "preview=1" in location
    first = logged_in.get(location).get_data(as_text=True)
    again = logged_in.get(location).get_data(as_text=True)  # Reload
    assert preview_rows(first) == preview_rows(again)
    assert "gewijzigd sinds je voorbeeld" not in again
    # Saving redirects to the timeline; going back to the preview shows the dates as taken.
    logged_in.post(url, data=form_from_preview(first, plan_data()) | {"action": "save"})
    assert len(_sessions()) == 4
    back = logged_in.get(location).get_data(as_text=True)
    saved = {d for d, _ in preview_rows(first)}
    assert not saved & {d for d, _ in preview_rows(back)}  # those dates now have a session
    assert back.count("er is die dag al een bijeenkomst") >= len(saved)
    assert len(_sessions()) == 4


def test_unticking_a_date_gives_one_session_fewer_and_adding_one_gives_one_more(
    logged_in, network, members
):
    url = f"/networks/{network.slug}/plan"
    html = plan_post(logged_in, url, plan_data()).get_data(as_text=True)
    rows = preview_rows(html)
    assert len(rows) == 4
    form = form_from_preview(html, plan_data())
    del form[f"keep-{rows[1][0]}"]
    html = plan_post(logged_in, url, form | {"action": "preview"}).get_data(as_text=True)
    assert [d for d, _ in preview_rows(html)] == [rows[0][0], rows[2][0], rows[3][0]]
    # The unticked date stays in its place, struck through, and can be ticked again.
    table = html.split("<tbody>")[1]
    assert (
        table.index(rows[0][0]) < table.index(f'name="keep-{rows[1][0]}"') < table.index(rows[2][0])
    )
    form = form_from_preview(html, plan_data())
    extra = next_weekday(3)
    form["add_date"] = extra.strftime("%d/%m/%Y")
    html = plan_post(logged_in, url, form | {"action": "preview"}).get_data(as_text=True)
    assert len(preview_rows(html)) == 4
    assert extra.isoformat() in [d for d, _ in preview_rows(html)]


def test_skipped_dates_sit_in_date_order_with_their_times(logged_in, network, members):
    year = date.today().year + 1
    data = plan_data(pattern="dates", dates=f"02/03/{year}\n01/01/{year}\n16/02/{year}", count="")
    html = plan_post(logged_in, f"/networks/{network.slug}/plan", data).get_data(as_text=True)
    table = html.split("<tbody>")[1].split("</tbody>")[0]
    assert (
        table.index(f"{year}-01-01") < table.index(f"{year}-02-16") < table.index(f"{year}-03-02")
    )
    assert table.count("19:00–21:30") == 3


def test_an_added_date_before_the_series_start_is_checked_against_public_holidays(
    logged_in, network, members
):
    year = date.today().year + 1
    url = f"/networks/{network.slug}/plan"
    data = plan_data(start_on=f"{year}-01-10")
    html = plan_post(logged_in, url, data).get_data(as_text=True)
    form = form_from_preview(html, data) | {"add_date": f"01/01/{year}"}
    html = plan_post(logged_in, url, form | {"action": "preview"}).get_data(as_text=True)
    assert f"{year}-01-01" not in [d for d, _ in preview_rows(html)]
    assert "Nieuwjaar" in html


def test_the_next_plan_starts_from_the_previous_series(logged_in, network, members):
    url = f"/networks/{network.slug}/plan"
    data = plan_data(weekday="3", interval_weeks="3", start_time="09:30", duration="120")
    data["title"] = "Ochtendsessie"
    html = plan_post(logged_in, url, data).get_data(as_text=True)
    logged_in.post(url, data=form_from_preview(html, data) | {"action": "save"})
    series = db.session.scalar(select(Series))
    assert series is not None and all(s.series_id == series.id for s in _sessions())
    last = _sessions()[-1].starts_at.date()
    page = logged_in.get(url).get_data(as_text=True)
    assert 'value="Ochtendsessie"' in page
    assert 'value="09:30"' in page
    assert 'value="120"' in page
    assert '<option selected value="3">' in page or 'value="3" selected' in page
    assert f'value="{(last + timedelta(days=1)).isoformat()}"' in page


def test_expected_attendance_is_estimated_from_contacts_and_remembered(logged_in, network, members):
    url = f"/networks/{network.slug}/plan"
    page = logged_in.get(url).get_data(as_text=True)
    # Four members with one active contact each: about four people.
    assert 'name="expected" type="number" value="4"' in page or 'value="4"' in page
    data = plan_data(expected="14")
    html = plan_post(logged_in, url, data).get_data(as_text=True)
    logged_in.post(url, data=form_from_preview(html, data) | {"action": "save"})
    db.session.refresh(network)
    assert network.expected_attendance == 14
    assert 'value="14"' in logged_in.get(url).get_data(as_text=True)


def test_rooms_too_small_are_listed_and_the_green_message_only_when_true(
    logged_in, network, members
):
    small = members[0]
    small.room_capacity = 8
    db.session.commit()
    url = f"/networks/{network.slug}/plan"
    html = plan_post(logged_in, url, plan_data(expected="10", count="3")).get_data(as_text=True)
    assert 'id="passed-over"' in html
    passed = html.split('id="passed-over"')[1].split("</div>")[0]
    assert small.name in passed
    assert "Alle regels worden gerespecteerd" not in html
    html = plan_post(logged_in, url, plan_data(expected="8", count="4")).get_data(as_text=True)
    assert "Alle regels worden gerespecteerd" in html


def test_a_member_without_contact_person_is_passed_over_with_that_reason(
    logged_in, network, members
):
    lonely = factories.facility(name="Zonder Contact", room_capacity=30)
    factories.member(network, lonely)
    db.session.commit()
    html = plan_post(logged_in, f"/networks/{network.slug}/plan", plan_data(count="5")).get_data(
        as_text=True
    )
    passed = html.split('id="passed-over"')[1].split("</div>")[0]
    assert "Zonder Contact" in passed
    assert "contactpersoon" in passed


def test_school_holidays_of_any_school_year_are_skipped_shown_and_can_be_unticked(
    logged_in, network, members
):
    """Issue 22: a plan for 2027–2028 proposed 11 Apr 2028 (Easter holidays) and 11 Jul
    2028 (summer) with no rule broken: the one-click holidays cover only two school years.
    The planner now applies the Flemish school holidays of every year it plans in."""
    url = f"/networks/{network.slug}/plan"
    data = plan_data(pattern="dates", dates="14/03/2028\n11/04/2028\n11/07/2028", count="")
    html = plan_post(logged_in, url, data).get_data(as_text=True)
    assert [d for d, _ in preview_rows(html)] == ["2028-03-14"]
    assert "schoolvakantie: Paasvakantie 2027–2028" in html
    assert "schoolvakantie: Zomervakantie 2027–2028" in html
    # Shown in the preview, ticked: the Easter holidays run 3 to 17 April 2028.
    assert 'name="school-2028-04-03" value="1" checked' in html
    assert 'name="school-2028-07-01" value="1" checked' in html
    # Untick the Easter holidays: 11 April gets a session; the summer stays off.
    form = form_from_preview(html, data)
    del form["school-2028-04-03"]
    html = plan_post(logged_in, url, form | {"action": "preview"}).get_data(as_text=True)
    assert [d for d, _ in preview_rows(html)] == ["2028-03-14", "2028-04-11"]
    assert 'id="school-2028-04-03"' in html  # still shown, unticked, to tick again
    assert 'name="school-2028-04-03" value="1" checked' not in html
    plan_post(logged_in, url, form_from_preview(html, data) | {"action": "save"})
    assert [s.starts_at.date() for s in _sessions()] == [date(2028, 3, 14), date(2028, 4, 11)]
    # Ticked again (after a reload of the preview), the holiday applies again.
    form = form_from_preview(html, data) | {"school-2028-04-03": "1"}
    html = plan_post(logged_in, url, form | {"action": "preview"}).get_data(as_text=True)
    assert "2028-04-11" not in [d for d, _ in preview_rows(html)]


def test_a_school_holiday_that_is_also_a_network_period_is_shown_without_a_tickbox(
    logged_in, network, members
):
    """The network's own period applies whatever the plan says: unticking could not help."""
    from learnnet.sessions.services import add_blackout

    add_blackout(network, date(2028, 7, 1), date(2028, 8, 31), "Zomervakantie 2027–2028")
    data = plan_data(pattern="dates", dates="14/03/2028\n11/04/2028\n11/07/2028", count="")
    html = plan_post(logged_in, f"/networks/{network.slug}/plan", data).get_data(as_text=True)
    assert 'id="school-2028-04-03"' in html
    assert 'id="school-2028-07-01"' not in html
    assert "Ook een periode zonder bijeenkomsten van dit netwerk." in html
