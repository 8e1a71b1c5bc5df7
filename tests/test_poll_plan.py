"""Issue 22, step 3 and 4: the season poll feeds the planner, in one flow.

poll → grid (weak dates marked, dropped with one click) → "plan these dates" → the plan
preview with the poll's dates and answers → save. The pure rules are checked against a
direct count; the pages with the client, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from learnnet.extensions import db
from learnnet.planning import poll as rules
from learnnet.planning import poll_services
from learnnet.planning.plan_views import PLAN_FIELDS
from learnnet.planning.poll import CAN, CANNOT, RATHER_NOT, Answer
from learnnet.sessions.models import Session
from learnnet.timefmt import local_today
from tests import factories
from tests.test_scheduling import form_from_preview

NL = {"Accept-Language": "nl"}


# --- the pure rules -----------------------------------------------------------------------


def _random_answers(seed: int) -> tuple[list[Answer], list[date]]:
    rnd = random.Random(seed)
    days = [date(2027, 1, 5) + timedelta(days=7 * i) for i in range(5)]
    given = []
    for contact_id in range(1, 13):
        facility_id = 1 + contact_id % 5
        for day in days:
            if rnd.random() < 0.3:
                continue  # silence
            answer = rnd.choice(rules.ANSWERS)
            host = answer != CANNOT and rnd.random() < 0.3
            given.append(Answer(contact_id, facility_id, day, answer, host, rnd.random() < 0.15))
    return given, days


@pytest.mark.parametrize("seed", range(20))
def test_the_planner_input_and_counts_follow_the_answers_in_time(seed):
    given, days = _random_answers(seed)
    cells = rules.facility_days(given)
    cannot_come, offers = rules.planner_input(cells)
    counts = rules.facilities_can(cells, days)
    for facility_id in range(1, 6):
        for day in days:
            mine = [a for a in given if a.facility_id == facility_id and a.day == day]
            in_time = [a for a in mine if not a.late]
            # Direct reading of the rules: cannot only when every answer in time is "kan
            # niet"; an offer when one contact offered in time; "kan" when one can.
            cannot = bool(in_time) and all(a.answer == CANNOT for a in in_time)
            assert (day in cannot_come.get(facility_id, ())) == cannot
            assert (day in offers.get(facility_id, ())) == any(a.host for a in in_time)
    for day in days:
        can = {a.facility_id for a in given if a.day == day and not a.late and a.answer == CAN}
        assert counts[day] == len(can)


@pytest.mark.parametrize(("answered", "threshold"), [(0, 0), (1, 1), (2, 1), (7, 4), (8, 4)])
def test_a_date_is_weak_when_fewer_than_half_who_answered_can(answered, threshold):
    assert rules.default_threshold(answered) == threshold
    days = {date(2027, 1, 5): threshold - 1, date(2027, 1, 12): threshold}
    assert rules.weak_dates(days, threshold) == {date(2027, 1, 5)}


# --- the grid -----------------------------------------------------------------------------


@pytest.fixture
def world(app, facilitator):
    """A network of four facilities (two contacts each, all take turns) and a poll of
    four dates: on the third only one facility can come."""
    net = factories.network(facilitators=[facilitator], name="Lerend netwerk Gent")
    facilities = []
    for name in ("Aster", "Berk", "Ceder", "Den"):
        fac = factories.facility(name=f"KDV {name}")
        factories.member(net, fac)
        factories.contact(fac, name=f"{name} Een")
        factories.contact(fac, name=f"{name} Twee")
        facilities.append(fac)
    db.session.commit()
    start = local_today() + timedelta(days=30)
    days = [start + timedelta(days=7 * i) for i in range(4)]
    poll = poll_services.create_poll(net, facilitator, days, days[0], "Welke data passen?")
    return net, facilities, poll, days


def _answer(poll, facility, answers: dict[date, tuple[str, bool]]) -> None:
    poll_services.record_answers(poll, facility.contacts[0], answers)


def _fill(poll, facilities, days, offers: dict[date, int] | None = None, cannot=()) -> None:
    """Every facility can on every date but the third (only the first can), except the
    (facility index, date index) pairs in ``cannot``; ``offers``: date → facility index."""
    offers = offers or {}
    for n, fac in enumerate(facilities):
        given = {}
        for i, day in enumerate(days):
            answer = CAN if i != 2 or n == 0 else CANNOT
            if (n, i) in cannot:
                answer = CANNOT
            given[day] = (answer, offers.get(day) == n and answer != CANNOT)
        _answer(poll, fac, given)


def _grid(client, net, poll, query: str = "") -> str:
    url = f"/networks/{net.slug}/polls/{poll.id}{query}"
    response = client.get(url, headers=NL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _row(html: str, day: date) -> str:
    return html.split(f'id="grid-{day.isoformat()}"', 1)[1].split("</tr>", 1)[0]


def _href(html: str, css: str) -> str:
    return html.split(f'class="{css}" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_the_grid_marks_weak_dates_and_drops_them_with_one_click(app, world, logged_in):
    net, facilities, poll, days = world
    _fill(poll, facilities, days)
    html = _grid(logged_in, net, poll)
    assert 'value="2"' in html.split('id="min"', 1)[1].split(">", 1)[0]  # half of four
    assert "te weinig" in _row(html, days[2]) and "te weinig" not in _row(html, days[0])
    assert ">1/4<" in _row(html, days[2]) and ">4/4<" in _row(html, days[0])
    # One click drops the date; it is greyed, and one click puts it back.
    drop = _href(_row(html, days[2]), "button small drop-date")
    assert parse_qs(urlsplit(drop).query)["drop"] == [days[2].isoformat()]
    dropped = _grid(logged_in, net, poll, "?" + urlsplit(drop).query)
    assert "geschrapt" in _row(dropped, days[2])
    assert "3 data gaan in het plan" in dropped and "1 geschrapt" in dropped
    back = _href(_row(dropped, days[2]), "button small restore-date")
    assert "drop" not in parse_qs(urlsplit(back).query)
    # Nothing was written: the poll itself is as it was.
    assert "geschrapt" not in _row(_grid(logged_in, net, poll), days[2])


def test_the_threshold_decides_which_dates_are_weak(app, world, logged_in):
    net, facilities, poll, days = world
    _fill(poll, facilities, days, cannot={(1, 0), (2, 0)})  # first date: two of four
    assert "te weinig" not in _row(_grid(logged_in, net, poll), days[0])
    html = _grid(logged_in, net, poll, "?min=3")
    assert "te weinig" in _row(html, days[0]) and "te weinig" in _row(html, days[2])
    drop_all = _href(html, "button drop-weak")
    query = parse_qs(urlsplit(drop_all).query)
    assert query["drop"] == [f"{days[0].isoformat()},{days[2].isoformat()}"]
    assert query["min"] == ["3"]
    # Wrong values in the URL are ignored, not a 500.
    _grid(logged_in, net, poll, "?min=x&drop=nope,2027-13-45")


def test_the_grid_statements_do_not_grow_with_the_poll(app, facilitator, logged_in, count_queries):
    def build(facilities: int, dates: int) -> tuple[str, int]:
        net = factories.network(facilitators=[facilitator])
        made = []
        for _ in range(facilities):
            fac = factories.facility()
            factories.member(net, fac)
            for _c in range(3):
                factories.contact(fac)
            made.append(fac)
        db.session.commit()
        start = local_today() + timedelta(days=30)
        days = [start + timedelta(days=7 * i) for i in range(dates)]
        poll = poll_services.create_poll(net, facilitator, days, days[0], "")
        for n, fac in enumerate(made):
            for contact in fac.contacts:
                given = {
                    d: (rules.ANSWERS[(n + i) % 3], i % 4 == n % 4) for i, d in enumerate(days)
                }
                poll_services.record_answers(poll, contact, given)
        poll_services.close_poll(poll)
        poll_services.record_answers(poll, made[0].contacts[0], {days[0]: (RATHER_NOT, False)})
        return f"/networks/{net.slug}/polls/{poll.id}?drop={days[1].isoformat()}", dates

    counts = []
    for facilities, dates in ((2, 2), (12, 8)):
        url, _dates = build(facilities, dates)
        logged_in.get(url)
        db.session.expire_all()
        before = count_queries.count
        assert logged_in.get(url).status_code == 200
        counts.append(count_queries.count - before)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 14, counts


# --- from the poll to the plan ------------------------------------------------------------


def _plan_url(client, net, poll, query: str = "", post: bool = False) -> str:
    url = f"/networks/{net.slug}/polls/{poll.id}/plan{query}"
    response = client.post(url) if post else client.get(url)
    assert response.status_code == 303
    return response.headers["Location"]


def test_plan_these_dates_opens_the_preview_with_the_polls_dates(app, world, logged_in):
    net, facilities, poll, days = world
    _fill(poll, facilities, days)
    location = _plan_url(logged_in, net, poll, f"?drop={days[2].isoformat()}")
    query = parse_qs(urlsplit(location).query)
    assert urlsplit(location).path == f"/networks/{net.slug}/plan"
    assert query["pattern"] == ["dates"] and query["poll"] == [str(poll.id)]
    assert query["drop"] == query["polldrop"] == [days[2].isoformat()]
    assert query["dates"] == ["\n".join(f"{d:%d/%m/%Y}" for d in days)]
    # The expected attendance: the most "kan" on one date still planned (one contact
    # per facility answered: four).
    assert query["expected"] == ["4"]
    assert poll_services.network_polls(net)[0].is_open  # a GET closes nothing


def test_planning_from_an_open_poll_can_close_it_first(app, world, logged_in):
    net, facilities, poll, days = world
    _fill(poll, facilities, days)
    grid = _grid(logged_in, net, poll)
    assert "Sluit de bevraging en plan deze data" in grid and "Plan zonder te sluiten" in grid
    _plan_url(logged_in, net, poll, post=True)
    db.session.refresh(poll)
    assert not poll.is_open
    assert "Plan deze data" in _grid(logged_in, net, poll)


def _preview(client, location: str) -> str:
    response = client.get(location, headers=NL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _preview_row(html: str, day: date) -> str:
    return html.split(f'name="shown" value="{day.isoformat()}"', 1)[1].split("</tr>", 1)[0]


def test_the_preview_shows_the_polls_effect_per_date(app, world, logged_in):
    net, facilities, poll, days = world
    offers = {days[0]: 3, days[1]: 2, days[3]: 1}
    _fill(poll, facilities, days, offers=offers, cannot={(0, 3)})
    location = _plan_url(logged_in, net, poll, f"?drop={days[2].isoformat()}", post=True)
    html = _preview(logged_in, location)
    assert "te weinig aanwezigen in de datumbevraging" in _preview_row(html, days[2])
    for i, n in ((0, 3), (1, 2), (3, 1)):
        row = _preview_row(html, days[i])
        assert f'<option value="{facilities[n].id}" selected>' in row
        assert "bood aan om te ontvangen op deze datum" in row
        assert f"aanbod om te ontvangen: {facilities[n].name}" in row
    assert "“Kan” in de bevraging: 3" in _preview_row(html, days[3])  # Aster cannot
    assert "Uit de datumbevraging" in html.split('id="expected-from-poll"', 1)[1][:120]
    # The dropped date is unticked, not gone: ticked again, it is planned.
    assert 'name="keep-' + days[2].isoformat() + '" value="1">' in html


def test_cannot_come_is_a_closed_day_and_late_answers_change_nothing(app, world, logged_in):
    net, facilities, poll, days = world
    # Everyone can on the first date; Aster (first by name, never hosted) cannot.
    _fill(poll, facilities, days, cannot={(0, 0)})
    location = _plan_url(logged_in, net, poll, post=True)
    before = _preview(logged_in, location)
    assert f'<option value="{facilities[0].id}" selected>' not in _preview_row(before, days[0])
    # A late offer and a late "kan niet" are kept, not applied.
    poll_services.record_answers(poll, facilities[0].contacts[0], {days[0]: (CAN, True)})
    poll_services.record_answers(poll, facilities[1].contacts[0], {days[1]: (CANNOT, False)})
    after = _preview(logged_in, location)
    assert after.split('id="preview"', 1)[1] == before.split('id="preview"', 1)[1]


def test_saving_the_plan_from_the_poll_makes_the_sessions(app, world, logged_in):
    net, facilities, poll, days = world
    _fill(poll, facilities, days, offers={days[0]: 2, days[1]: 1, days[3]: 3})
    location = _plan_url(logged_in, net, poll, f"?drop={days[2].isoformat()}", post=True)
    html = _preview(logged_in, location)
    fields = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    form = form_from_preview(html, {k: v for k, v in fields.items() if k in PLAN_FIELDS})
    form["action"] = "save"
    response = logged_in.post(location.split("#")[0], data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert "/sessions" in response.headers["Location"]
    sessions = db.session.scalars(
        db.select(Session).where(Session.network_id == net.id).order_by(Session.starts_at)
    ).all()
    hosts = [s.host_facility_id for s in sessions]
    assert hosts == [facilities[2].id, facilities[1].id, facilities[3].id]


# --- the demo -----------------------------------------------------------------------------


def test_the_demo_poll_leads_to_a_plan_whose_hosts_follow_the_offers(app, client):
    from learnnet import demo
    from learnnet.networks.models import Network
    from tests.conftest import login

    demo.load()
    login(client, *demo.DEMO_FACILITATOR)
    net = db.session.scalar(db.select(Network).where(Network.slug == demo.POLL_SLUG))
    (poll,) = poll_services.network_polls(net)
    assert poll.is_open
    view = poll_services.overview(poll)
    assert view.missing and view.answered >= 4  # some answered, one facility not yet
    assert any(row.cannot for row in view.rows)
    (weak,) = view.weak
    grid = _grid(client, net, poll)
    drop = _href(_row(grid, weak), "button small drop-date")
    location = _plan_url(client, net, poll, "?" + urlsplit(drop).query, post=True)
    html = _preview(client, location)
    rows = [_preview_row(html, d.day) for d in poll.dates if d.day != weak]
    assert rows and all("bood aan om te ontvangen op deze datum" in row for row in rows)
    assert "te weinig aanwezigen in de datumbevraging" in _preview_row(html, weak)
    # Loading the demo again adds no second poll.
    demo.load()
    assert len(poll_services.network_polls(net)) == 1
