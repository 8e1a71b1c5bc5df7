"""Odd input never ends in a 500: huge ids, far dates, exotic digits, long cells."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from learnnet.config import env_overrides
from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility
from learnnet.sessions.models import CONFIRMED, Session
from tests import factories
from tests.test_scheduling import plan_data


@pytest.mark.parametrize(
    "url",
    [
        "/facilities/99999999999999999999999",
        "/facilities/2147483648",
        "/sessions/99999999999999999999",
        "/contacts/2147483648/edit",
        "/admin/users/99999999999999999999/edit",
    ],
)
def test_huge_ids_are_404(logged_in, url):
    assert logged_in.get(url).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"until": "9999-12-31", "count": ""}, "until"),
        ({"start_on": "9999-12-31"}, "start_on"),
        ({"start_on": "0001-01-01"}, "start_on"),
        ({"pattern": "dates", "dates": "1/1/99999999999999999999"}, "dates"),
        ({"start_time": "23:00", "duration": "720"}, "duration"),
    ],
)
def test_far_dates_and_overnight_sessions_get_a_message(logged_in, network, change, field):
    response = logged_in.post(f"/networks/{network.slug}/plan", data=plan_data(**change))
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.get_data(as_text=True)


def test_exotic_digits_and_far_extra_dates_in_the_preview(logged_in, network):
    day = (date.today() + timedelta(days=10)).isoformat()
    data = plan_data() | {
        "shown": [day],
        f"host-{day}": "²",
        "add_date": "1/1/99999999999999999999",
    }
    response = logged_in.post(f"/networks/{network.slug}/plan", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "is geen datum" in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_adding_a_session_on_an_impossible_day(logged_in, network, day):
    host = network.memberships[0].facility
    response = logged_in.post(
        f"/networks/{network.slug}/sessions/new",
        data={
            "day": day,
            "start_time": "00:00",
            "end_time": "01:00",
            "host_id": host.id,
            "title": "X",
        },
    )
    assert response.status_code == 200
    assert 'id="day-error"' in response.get_data(as_text=True)


def upload(client, network, text: str):
    return client.post(
        f"/networks/{network.slug}/import",
        data={"file": (io.BytesIO(text.encode("utf-8")), "leden.csv")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "row",
    [
        "Opvang A;9000;Gent;²;;;",
        "Opvang A;²³⁴⁵;Gent;;;;",
        "Opvang A;9000;Gent;;Jan;" + "0" * 50 + ";",
        "Opvang A;9000;Gent;;Jan;;" + "x" * 130,
    ],
)
def test_csv_cells_that_do_not_fit_are_row_errors(logged_in, network, row):
    header = "facility_name;postcode;city;room_capacity;contact_name;contact_phone;contact_function"
    response = upload(logged_in, network, f"{header}\n{row}\n")
    assert response.status_code == 200
    assert "row-error" in response.get_data(as_text=True)


def test_a_name_that_grows_when_case_folded_still_fits(logged_in, network):
    name = "ß" * 100
    response = logged_in.post(
        f"/networks/{network.slug}/members/new",
        data={
            "name": name,
            "postcode": "9000",
            "city": "Gent",
            "willing_to_host": "1",
            "joined_on": "2026-09-01",
        },
    )
    assert response.status_code == 302
    html = upload(logged_in, network, f"facility_name;postcode;city\n{name};9000;Gent\n").get_data(
        as_text=True
    )
    assert "Het bestand is in orde" in html


def test_reimport_with_fewer_columns_keeps_what_the_file_does_not_mention(logged_in, network):
    facility = network.memberships[0].facility
    facility.street, facility.phone, facility.room_capacity = "Kerkstraat 9", "09 111 22 33", 30
    facility.willing_to_host = False
    gone = facility.contacts[1]
    gone.active = False
    db.session.commit()
    text = f"facility_name;postcode;city;contact_name;contact_email\n{facility.name};{facility.postcode};Gent;{gone.name};{gone.email}\n"
    html = upload(logged_in, network, text).get_data(as_text=True)
    payload = html.split('name="payload"')[1].split('value="')[1].split('"')[0]
    logged_in.post(f"/networks/{network.slug}/import/confirm", data={"payload": payload})
    db.session.expire_all()
    facility = db.session.get(Facility, facility.id)
    assert (facility.street, facility.phone, facility.room_capacity, facility.willing_to_host) == (
        "Kerkstraat 9",
        "09 111 22 33",
        30,
        False,
    )
    assert db.session.get(Contact, gone.id).active is False


def test_search_ignores_accents_and_spacing(logged_in, network, facilitator):
    factories.member(network, factories.facility(name="Crèche Kleine Stapjes", postcode="9000"))
    db.session.commit()
    for query in ("Crèche", "creche", "kleine  stapjes"):
        assert "Crèche Kleine Stapjes" in logged_in.get(f"/facilities?q={query}").get_data(
            as_text=True
        ), query


def test_adding_a_session_at_the_time_of_another_is_refused(logged_in, network):
    host = network.memberships[0].facility
    existing = factories.session(network, host, days_ahead=15)
    db.session.commit()
    local = existing.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Brussels"))
    response = logged_in.post(
        f"/networks/{network.slug}/sessions/new",
        data={
            "day": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "end_time": "23:30",
            "host_id": host.id,
            "title": "Dubbel",
        },
    )
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(Session.id))) == 1


def test_held_sessions_are_history(logged_in, network):
    host, other = (m.facility for m in network.memberships)
    held = factories.session(network, host, days_ahead=-30, status="held")
    upcoming = factories.session(network, other, days_ahead=30)
    db.session.commit()
    move = logged_in.post(
        f"/sessions/{held.id}/move",
        data={
            "day": (date.today() + timedelta(days=40)).isoformat(),
            "start_time": "19:00",
            "end_time": "21:00",
            "host_id": host.id,
        },
    )
    assert move.status_code == 200
    logged_in.post(f"/sessions/{held.id}/cancel")
    logged_in.post(f"/sessions/{upcoming.id}/swap", data={"other_id": held.id})
    db.session.refresh(held)
    db.session.refresh(upcoming)
    assert (held.status, held.revision, held.host_facility_id) == ("held", 0, host.id)
    assert upcoming.host_facility_id == other.id


def test_moving_to_another_date_asks_the_host_to_confirm_again(logged_in, network):
    host = network.memberships[0].facility
    session = factories.session(network, host, days_ahead=20, status=CONFIRMED)
    db.session.commit()
    logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": (date.today() + timedelta(days=27)).isoformat(),
            "start_time": "19:00",
            "end_time": "21:30",
            "host_id": host.id,
        },
    )
    db.session.refresh(session)
    assert (session.status, session.revision) == ("planned", 1)


def test_a_first_visit_gets_no_session_cookie(client):
    response = client.get("/healthz")
    assert not any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))


def test_a_numeric_secret_key_from_the_environment_stays_text():
    assert env_overrides({"LEARNNET_SECRET_KEY": "1234567890" * 4}) == {
        "SECRET_KEY": "1234567890" * 4
    }


# --- NUL characters: one central rule (issue 10) ----------------------------------------------


@pytest.mark.parametrize(
    "method,url,data",
    [
        ("post", "/login", {"email": "a\x00@example.org", "password": "x"}),
        ("get", "/login?next=/\x00", None),
        ("get", "/networks/%00", None),
        ("post", "/account/forgot", {"email": "\x00"}),
    ],
)
def test_a_nul_character_anywhere_is_a_clear_400_never_a_500(client, method, url, data):
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 400
    assert "onzichtbaar teken" in response.get_data(as_text=True)


def test_a_nul_character_in_a_logged_in_form_is_a_400(logged_in, network):
    response = logged_in.post(
        f"/networks/{network.slug}/edit", data={"name": "Gent\x00", "timezone": "Europe/Brussels"}
    )
    assert response.status_code == 400


def test_a_utf16_csv_with_a_nul_cell_is_refused(logged_in, network):
    import io

    text = "facility_name;postcode;city\r\nA\x00B;9000;Gent\r\n"
    data = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    response = logged_in.post(
        f"/networks/{network.slug}/import",
        data={"file": (io.BytesIO(data), "leden.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 400)
    assert "A\x00B" not in response.get_data(as_text=True)
    from learnnet.networks.models import Facility

    assert db.session.scalar(select(func.count(Facility.id)).where(Facility.name.like("A%B"))) == 0


def test_sql_parameters_stay_out_of_error_messages(app):
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        db.session.execute(
            text("SELECT * FROM no_such_table WHERE x = :secret"), {"secret": "ilse@example.org"}
        )
    except SQLAlchemyError as exc:
        assert "ilse@example.org" not in str(exc)
    db.session.rollback()
