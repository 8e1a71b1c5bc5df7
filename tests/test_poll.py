"""The season poll: its pure rules, and the pages that open, answer and close a poll."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from learnnet.extensions import db
from learnnet.planning import poll as rules
from learnnet.planning import poll_services
from learnnet.planning.poll import CAN, CANNOT, RATHER_NOT, Answer
from learnnet.planning.poll_models import Poll, PollAnswer, PollDate
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.timefmt import local_today
from tests import factories
from tests.conftest import login

D1, D2 = date(2027, 1, 12), date(2027, 2, 9)


# --- the pure rules -------------------------------------------------------------------


def test_a_facility_can_host_when_one_contact_offers():
    answers = [Answer(1, 10, D1, CAN, host=False), Answer(2, 10, D1, RATHER_NOT, host=True)]
    day = rules.facility_day(answers, 10, D1)
    assert day.host is True and day.answer == CAN and day.can == 1


@pytest.mark.parametrize(
    ("given", "combined"),
    [
        ([CANNOT, CANNOT], CANNOT),
        ([CANNOT, RATHER_NOT], RATHER_NOT),
        ([CANNOT, CAN], CAN),
        ([RATHER_NOT], RATHER_NOT),
        ([], None),
    ],
)
def test_a_facility_cannot_only_when_every_answering_contact_cannot(given, combined):
    answers = [Answer(i, 10, D1, a) for i, a in enumerate(given)]
    assert rules.facility_day(answers, 10, D1).answer == combined


def test_expected_attendance_counts_the_kan_in_time():
    answers = [
        Answer(1, 10, D1, CAN),
        Answer(2, 10, D1, CAN),
        Answer(3, 11, D1, RATHER_NOT),
        Answer(4, 11, D1, CAN, late=True),
        Answer(1, 10, D2, CANNOT),
    ]
    assert rules.expected_attendance(answers, [D1, D2]) == {D1: 2, D2: 0}


def test_late_answers_are_kept_apart_and_not_counted():
    answers = [Answer(1, 10, D1, CANNOT), Answer(1, 10, D1, CAN, host=True, late=True)]
    day = rules.facility_day(answers, 10, D1)
    assert (day.answer, day.host, day.late) == (CANNOT, False, 1)
    assert rules.hosts_offered(answers, [D1]) == {D1: set()}
    assert rules.missing(answers, [1, 2], [D1]) == {2: 1}


def test_an_offer_to_host_needs_turns_and_coming():
    assert rules.normalise(CAN, True, takes_turns=True) == (CAN, True)
    assert rules.normalise(CAN, True, takes_turns=False) == (CAN, False)
    assert rules.normalise(CANNOT, True, takes_turns=True) == (CANNOT, False)
    with pytest.raises(ValueError):
        rules.normalise("maybe", False, True)


def test_missing_counts_the_dates_still_open():
    answers = [Answer(1, 10, D1, CAN)]
    assert rules.missing(answers, [1, 2], [D1, D2]) == {1: 1, 2: 2}


@pytest.mark.parametrize(
    ("days", "closes_on", "problem"),
    [
        ([], D1, "none"),
        ([D1 + timedelta(days=i) for i in range(rules.MAX_DATES + 1)], D1, "too_many"),
        ([date(2026, 12, 1), D1], D1, "past"),
        ([D1], date(2026, 12, 1), "closes_past"),
        ([D1], D2, "closes_late"),
    ],
)
def test_a_polls_dates_are_checked(days, closes_on, problem):
    assert problem in rules.check_dates(days, closes_on, date(2026, 12, 10))
    assert rules.check_dates([D1, D2], D1, date(2026, 12, 10)) == []


# --- the pages ------------------------------------------------------------------------


def _future(n: int) -> list[date]:
    start = local_today() + timedelta(days=20)
    return [start + timedelta(days=7 * i) for i in range(n)]


@pytest.fixture
def poll(network, facilitator):
    days = _future(3)
    made = poll_services.create_poll(network, facilitator, days, days[0], "Welke data passen?")
    return made


def _token(contact) -> str:
    token = token_of(ensure_link(contact))
    db.session.commit()
    return token


def test_the_facilitator_opens_a_poll_from_the_planning_pages(app, network, logged_in):
    plan = logged_in.get(f"/networks/{network.slug}/plan").get_data(as_text=True)
    assert f"/networks/{network.slug}/polls" in plan
    days = _future(2)
    response = logged_in.post(
        f"/networks/{network.slug}/polls/new",
        data={
            "dates": "\n".join(f"{d:%d/%m/%Y}" for d in days),
            "closes_on": days[0].isoformat(),
            "text": "Graag voor vrijdag",
        },
    )
    assert response.status_code == 302
    poll = db.session.scalar(db.select(Poll))
    assert (
        [d.day for d in poll.dates] == days and poll.is_open and poll.text == "Graag voor vrijdag"
    )
    page = logged_in.get(response.location).get_data(as_text=True)
    assert "Graag voor vrijdag" in page and "Sofie Claes" in page  # not answered yet


@pytest.mark.parametrize(
    ("dates", "closes_on", "message"),
    [
        ("", "future", "Vul minstens één datum in."),
        ("31/02/2027", "future", "is geen datum"),
        ("past", "future", "is al voorbij"),
        ("future", "", "Vul een datum in."),
        ("future", "later", "na de laatste datum"),
    ],
)
def test_a_wrong_poll_is_refused_next_to_the_field_and_kept(
    app, network, logged_in, dates, closes_on, message
):
    day = _future(1)[0]
    values = {
        "future": f"{day:%d/%m/%Y}",
        "past": f"{local_today() - timedelta(days=3):%d/%m/%Y}",
        "later": (day + timedelta(days=5)).isoformat(),
    }
    typed = values.get(dates, dates)
    response = logged_in.post(
        f"/networks/{network.slug}/polls/new",
        data={
            "dates": typed,
            "closes_on": values.get(closes_on, closes_on)
            if closes_on != "future"
            else day.isoformat(),
            "text": "Mijn tekst",
        },
        headers={"Accept-Language": "nl"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and "Mijn tekst" in html and (typed in html)
    assert db.session.scalar(db.select(db.func.count(Poll.id))) == 0


def test_the_poll_form_starts_from_the_latest_series_pattern(app, network, logged_in):
    from datetime import time

    from learnnet.sessions.models import Series

    db.session.add(
        Series(
            network=network,
            kind="weekly",
            weekday=1,
            interval_weeks=2,
            start_time=time(19),
            duration_minutes=120,
            title="Reeks",
        )
    )
    db.session.commit()
    html = logged_in.get(f"/networks/{network.slug}/polls/new").get_data(as_text=True)
    suggested = poll_services.suggested_dates(network, local_today())
    assert len(suggested) == poll_services.PREFILL_DATES
    assert all(d.weekday() == 1 for d in suggested)
    assert f"{suggested[0]:%d/%m/%Y}" in html


def test_a_member_answers_every_date_in_one_form(app, network, poll):
    contact = network.memberships[0].facility.contacts[0]
    token = _token(contact)
    client = app.test_client()
    page = client.get(f"/m/{token}").get_data(as_text=True)
    assert f"/m/{token}/polls/{poll.id}" in page  # the member page's season poll section
    form = client.get(f"/m/{token}/polls/{poll.id}")
    assert form.status_code == 200
    assert "<script" not in form.get_data(as_text=True).split("<main", 1)[-1]
    d1, d2, _d3 = (d.day.isoformat() for d in poll.dates)
    response = client.post(
        f"/m/{token}/polls/{poll.id}",
        data={f"answer-{d1}": CAN, f"host-{d1}": "1", f"answer-{d2}": CANNOT, f"host-{d2}": "1"},
    )
    assert response.status_code == 303
    saved = poll_services.contact_answers(poll, contact)
    assert {d.isoformat(): (a.answer, a.host, a.late) for d, a in saved.items()} == {
        d1: (CAN, True, False),
        d2: (CANNOT, False, False),  # who cannot come cannot host
    }
    # The answers show again on the form, and a second answer replaces the first.
    again = client.get(f"/m/{token}/polls/{poll.id}").get_data(as_text=True)
    assert f'name="answer-{d1}" value="can" checked' in again
    client.post(f"/m/{token}/polls/{poll.id}", data={f"answer-{d1}": RATHER_NOT, f"host-{d1}": "1"})
    assert poll_services.contact_answers(poll, contact)[poll.dates[0].day].answer == RATHER_NOT
    assert db.session.scalar(db.select(db.func.count(PollAnswer.id))) == 2
    # The facilitator's page counts them.
    view = poll_services.overview(poll)
    assert [(r.can, r.rather_not, r.cannot) for r in view.rows] == [(0, 1, 0), (0, 0, 1), (0, 0, 0)]
    assert view.rows[0].hosts == [contact.facility]


def test_a_facility_that_does_not_take_turns_cannot_offer_to_host(app, network, poll):
    facility = network.memberships[0].facility
    facility.willing_to_host = False
    db.session.commit()
    contact = facility.contacts[0]
    token = _token(contact)
    client = app.test_client()
    assert 'name="host-' not in client.get(f"/m/{token}/polls/{poll.id}").get_data(as_text=True)
    d1 = poll.dates[0].day
    client.post(f"/m/{token}/polls/{poll.id}", data={f"answer-{d1}": CAN, f"host-{d1}": "1"})
    assert poll_services.contact_answers(poll, contact)[d1].host is False


@pytest.mark.parametrize("data", [{}, {"answer-2027-01-12": "yes"}, {"answer-x": "maybe"}])
def test_an_empty_or_wrong_answer_is_refused_without_saving(app, network, poll, data):
    contact = network.memberships[0].facility.contacts[0]
    token = _token(contact)
    key = f"answer-{poll.dates[0].day.isoformat()}"
    data = {key: "perhaps"} if data.get("answer-2027-01-12") else data
    response = app.test_client().post(f"/m/{token}/polls/{poll.id}", data=data)
    assert response.status_code == 400
    assert "Kies een antwoord voor elke datum." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(PollAnswer.id))) == 0


def test_answers_after_closing_are_kept_and_shown_not_applied(app, network, poll, logged_in):
    contact = network.memberships[0].facility.contacts[0]
    token = _token(contact)
    member = app.test_client()
    d1 = poll.dates[0].day
    member.post(f"/m/{token}/polls/{poll.id}", data={f"answer-{d1}": CANNOT})
    closed = logged_in.post(f"/networks/{network.slug}/polls/{poll.id}/close")
    assert closed.status_code == 303
    db.session.refresh(poll)
    assert not poll.is_open
    # The member page no longer invites; the poll page still takes a late answer.
    assert f"/polls/{poll.id}" not in member.get(f"/m/{token}").get_data(as_text=True)
    late = member.post(f"/m/{token}/polls/{poll.id}", data={f"answer-{d1}": CAN, f"host-{d1}": "1"})
    assert late.status_code == 303
    rows = {a.late: a for a in db.session.scalars(db.select(PollAnswer))}
    assert rows[False].answer == CANNOT and rows[True].answer == CAN
    view = poll_services.overview(poll)
    assert (view.rows[0].can, view.rows[0].cannot, view.rows[0].hosts) == (0, 1, [])
    page = logged_in.get(f"/networks/{network.slug}/polls/{poll.id}").get_data(as_text=True)
    assert "Antwoorden na het sluiten" in page and contact.name in page


def test_a_contact_outside_the_network_cannot_open_its_poll(app, network, poll):
    outsider = factories.contact(factories.facility(name="Elders"), name="Buiten Staander")
    db.session.commit()
    token = _token(outsider)
    client = app.test_client()
    assert client.get(f"/m/{token}/polls/{poll.id}").status_code == 404
    day = poll.dates[0].day.isoformat()
    assert (
        client.post(f"/m/{token}/polls/{poll.id}", data={f"answer-{day}": CAN}).status_code == 404
    )
    assert db.session.scalar(db.select(db.func.count(PollAnswer.id))) == 0


def test_another_networks_poll_is_not_found_under_this_network(app, network, poll, facilitator):
    other = factories.network(facilitators=[facilitator], name="Tweede netwerk")
    db.session.commit()
    client = app.test_client()
    login(client, facilitator.email)
    assert client.get(f"/networks/{other.slug}/polls/{poll.id}").status_code == 404
    assert client.post(f"/networks/{other.slug}/polls/{poll.id}/close").status_code == 404
    assert db.session.get(Poll, poll.id).is_open
    assert PollDate  # the table of candidate dates exists beside the poll


# --- the mails: the invitation when the poll opens, a reminder at most once a day -------


def _poll_mails(kind: str) -> list:
    from learnnet.mail.models import OutboxMessage

    query = db.select(OutboxMessage).where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def test_opening_a_poll_mails_each_contact_once_in_their_language(app, network, logged_in):
    network.name = 'Netwerk <b>Gent</b>"><img src=x>'
    hanne, sofie = sorted(network.memberships[0].facility.contacts, key=lambda c: c.name)
    hanne.preferred_language = "en"
    db.session.commit()
    days = _future(2)
    response = logged_in.post(
        f"/networks/{network.slug}/polls/new",
        data={
            "dates": "\n".join(f"{d:%d/%m/%Y}" for d in days),
            "closes_on": days[0].isoformat(),
            "text": "Kies <script>alert(1)</script> data",
        },
        headers={"Accept-Language": "nl"},
        follow_redirects=True,
    )
    assert "gemaild naar 2 contactpersonen" in response.get_data(as_text=True)
    poll = db.session.scalar(db.select(Poll))
    mails = _poll_mails("poll_invitation")
    assert {m.recipient: m.contact_id for m in mails} == {
        "sofie@example.org": sofie.id,
        "hanne@example.org": hanne.id,
    }
    english, dutch = sorted(mails, key=lambda m: m.recipient)
    assert dutch.subject.startswith("Welke data passen je?")
    assert english.subject.startswith("Which dates suit you?")
    assert f"/m/{token_of(ensure_link(sofie))}/polls/{poll.id}" in dutch.text_body
    assert f"{days[0].day} " in dutch.text_body and "Kies <script>" in dutch.text_body
    assert "<script" not in dutch.html_body and "<img" not in dutch.html_body
    assert "&lt;script&gt;" in dutch.html_body and "&lt;b&gt;Gent&lt;/b&gt;" in dutch.html_body
    page = logged_in.get(
        f"/networks/{network.slug}/polls/{poll.id}", headers={"Accept-Language": "nl"}
    )
    assert "2 contactpersonen kregen de bevraging per mail" in page.get_data(as_text=True)
    # Sending again mails nobody twice; a contact added since gets it.
    assert poll_services.send_poll(poll) == 0
    late_comer = factories.contact(
        network.memberships[1].facility, name="Lotte Peeters", email="lotte@example.org"
    )
    db.session.commit()
    response = logged_in.post(f"/networks/{network.slug}/polls/{poll.id}/send")
    assert response.status_code == 303
    assert [m.recipient for m in _poll_mails("poll_invitation")][2:] == [late_comer.email]
    assert poll_services.mailed(poll) == 3


def test_the_reminder_goes_to_who_has_not_answered_at_most_once_a_day(
    app, network, poll, logged_in, monkeypatch
):
    hanne, sofie = sorted(network.memberships[0].facility.contacts, key=lambda c: c.name)
    poll_services.record_answers(poll, sofie, {d.day: (CAN, False) for d in poll.dates})
    url = f"/networks/{network.slug}/polls/{poll.id}"
    page = logged_in.get(url, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert f'action="{url}/remind"' in page
    assert logged_in.post(f"{url}/remind").status_code == 303
    assert [m.recipient for m in _poll_mails("poll_reminder")] == [hanne.email]
    reminder = _poll_mails("poll_reminder")[0]
    assert reminder.subject.startswith("Herinnering") and f"/polls/{poll.id}" in reminder.text_body
    # The same day again: nobody; the next day: once more.
    tomorrow = local_today() + timedelta(days=1)
    with app.test_request_context():
        assert poll_services.remind(poll) == 0
        monkeypatch.setattr(poll_services, "local_today", lambda tz=None: tomorrow)
        assert poll_services.remind(poll) == 1
        # A closed poll reminds nobody.
        poll_services.close_poll(poll)
        day_after = tomorrow + timedelta(days=1)
        monkeypatch.setattr(poll_services, "local_today", lambda tz=None: day_after)
        assert poll_services.remind(poll) == 0
    assert f'action="{url}/remind"' not in logged_in.get(url).get_data(as_text=True)


# --- the facilitator's grid --------------------------------------------------------------


def test_the_grid_shows_each_facilitys_combined_answer_and_host_mark(app, network, poll, logged_in):
    hanne, sofie = sorted(network.memberships[0].facility.contacts, key=lambda c: c.name)
    d1, d2, d3 = (d.day for d in poll.dates)
    poll_services.record_answers(poll, sofie, {d1: (CANNOT, False), d2: (RATHER_NOT, True)})
    poll_services.record_answers(poll, hanne, {d1: (CAN, True), d2: (CANNOT, False)})
    html = logged_in.get(
        f"/networks/{network.slug}/polls/{poll.id}", headers={"Accept-Language": "nl"}
    ).get_data(as_text=True)
    grid = html.split('<table class="poll-grid">', 1)[1].split("</table>", 1)[0]
    heads = grid.split("</thead>", 1)[0]
    assert heads.index("KDV De Zonnebloem") < heads.index("Kinderopvang Ukkepuk")

    def cells(day):
        row = grid.split(f'id="grid-{day.isoformat()}"', 1)[1].split("</tr>", 1)[0]
        return [c.split("</td>", 1)[0] for c in row.split('<td class="poll-cell">')[1:]]

    zonnebloem, ukkepuk = cells(d1)
    assert ">kan</span>" in zonnebloem and "kan ontvangen" in zonnebloem  # one contact can
    assert "geen antwoord" in ukkepuk  # silence is not "kan niet"
    zonnebloem, _ = cells(d2)
    assert ">liever niet</span>" in zonnebloem and "kan ontvangen" in zonnebloem
    assert all("geen antwoord" in c for c in cells(d3))
    # The phone's list opens each date to the same answers, without script.
    phone = html.split('<ul class="plain-list poll-dates">', 1)[1]
    assert phone.count("<details>") == 3 and "<script" not in phone
