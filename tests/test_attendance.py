"""Attendance: recording, check-in by facilitator, host and QR, reports, CSV, certificate."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnnet.attendance import rules, services
from learnnet.attendance.models import Attendance, AttendanceChange
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.models import Rsvp
from learnnet.sessions.models import HELD
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import answer, token_for


@pytest.fixture
def held(network):
    """A session that started an hour ago, at Ukkepuk; Sofie said yes."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    hanne = next(c for c in zonnebloem.contacts if c.name == "Hanne De Smet")
    jan = factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    start = utcnow() - timedelta(hours=1)
    session = factories.session(
        network, ukkepuk, starts_at=start, ends_at=start + timedelta(hours=2, minutes=30)
    )
    db.session.commit()
    return {"session": session, "sofie": sofie, "hanne": hanne, "jan": jan, "network": network}


def status_of(session, contact):
    db.session.expire_all()
    row = db.session.scalar(
        select(Attendance).where(
            Attendance.session_id == session.id, Attendance.contact_id == contact.id
        )
    )
    return row.status if row else None


def mark(client, session, contact, status):
    return client.post(
        f"/sessions/{session.id}/checkin", data={"person": f"c{contact.id}", "status": status}
    )


# --- rules ------------------------------------------------------------------------------------


def test_rules_hours_periods_and_windows():
    start = utcnow()
    assert rules.hours(start, start + timedelta(hours=2, minutes=30)) == 2.5
    assert rules.hours(start, start + timedelta(minutes=50)) == 0.75
    assert rules.period("2026-2027") == (
        __import__("datetime").date(2026, 9, 1),
        __import__("datetime").date(2027, 8, 31),
    )
    assert rules.period("2026-2028") is None and rules.period("x") is None
    end = start + timedelta(hours=2)
    assert rules.closed_reason(False, start, end, start - timedelta(hours=2)) == rules.NOT_STARTED
    assert rules.closed_reason(False, start, end, start - timedelta(minutes=30)) is None
    assert rules.closed_reason(True, start, end, start) == rules.CANCELLED
    later = end + timedelta(days=3)
    assert rules.closed_reason(False, start, end, later) is None  # corrections afterwards
    assert rules.closed_reason(False, start, end, later, by_self=True) == rules.STALE


# --- the sheet and check-in -------------------------------------------------------------------


def test_sheet_lists_yes_answers_first_and_blank_rows(logged_in, held):
    session = held["session"]
    session.starts_at = utcnow() + timedelta(days=2)
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()
    answer(logged_in, token_for(held["jan"]), session.id, "yes")
    html = logged_in.get(f"/sessions/{session.id}/sheet").get_data(as_text=True)
    names = [n for n in ("Jan Peeters", "Hanne De Smet", "Sofie Claes") if n in html]
    assert names == ["Jan Peeters", "Hanne De Smet", "Sofie Claes"]
    assert html.index("Jan Peeters") < html.index("Hanne De Smet") < html.index("Sofie Claes")
    assert html.count('class="blank"') == 8


def test_check_in_marks_held_keeps_history_and_corrects(logged_in, held, facilitator):
    session, sofie = held["session"], held["sofie"]
    assert mark(logged_in, session, sofie, "present").status_code == 303
    assert status_of(session, sofie) == "present"
    db.session.refresh(session)
    assert session.status == HELD
    mark(logged_in, session, sofie, "excused")  # a mistake, fixed
    mark(logged_in, session, sofie, "excused")  # twice: nothing new
    assert status_of(session, sofie) == "excused"
    changes = db.session.scalars(select(AttendanceChange).order_by(AttendanceChange.id)).all()
    assert [(c.old_status, c.new_status) for c in changes] == [
        (None, "present"),
        ("present", "excused"),
    ]
    assert all(c.by_user_id == facilitator.id for c in changes)


def test_days_later_from_the_paper_sheet_still_works(logged_in, held):
    session = held["session"]
    session.starts_at -= timedelta(days=5)
    session.ends_at -= timedelta(days=5)
    db.session.commit()
    mark(logged_in, session, held["jan"], "present")
    assert status_of(session, held["jan"]) == "present"


def test_refused_not_started_cancelled_and_strangers(logged_in, held, facilitator):
    session = held["session"]
    future = factories.session(held["network"], session.host, days_ahead=10)
    cancelled = factories.session(held["network"], session.host, days_ahead=-1, status="cancelled")
    elsewhere = factories.network(facilitators=[facilitator])
    stranger_home = factories.facility(name="Elders")
    factories.member(elsewhere, stranger_home)
    stranger = factories.contact(stranger_home)
    db.session.commit()
    for s, c in ((future, held["sofie"]), (cancelled, held["sofie"]), (session, stranger)):
        response = mark(logged_in, s, c, "present")
        assert response.status_code == 303
    for bad in ("maybe", "", "present'--"):
        mark(logged_in, session, held["sofie"], bad)
    logged_in.post(
        f"/sessions/{session.id}/checkin", data={"person": "c99999999999", "status": "present"}
    )
    logged_in.post(f"/sessions/{session.id}/checkin", data={"person": "zz", "status": "present"})
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_walk_ins_new_contact_or_guest(logged_in, held):
    session = held["session"]
    zonnebloem = held["sofie"].facility
    response = logged_in.post(
        f"/sessions/{session.id}/walk-in",
        data={"walkin-name": "Sara Wuyts", "walkin-facility_id": zonnebloem.id},
    )
    assert response.status_code == 303
    assert "Sara Wuyts" in {c.name for c in zonnebloem.contacts}
    logged_in.post(
        f"/sessions/{session.id}/walk-in",
        data={
            "walkin-name": "Lotte Gast",
            "walkin-facility_id": "0",
            "walkin-organisation": "Stad Gent",
        },
    )
    guest = db.session.scalar(select(Attendance).where(Attendance.person_name == "Lotte Gast"))
    assert guest.is_guest and guest.status == "present" and guest.facility_name == "Stad Gent"
    logged_in.post(
        f"/sessions/{session.id}/checkin", data={"person": f"a{guest.id}", "status": "absent"}
    )
    db.session.refresh(guest)
    assert guest.status == "absent"
    empty = logged_in.post(f"/sessions/{session.id}/walk-in", data={"walkin-name": ""})
    assert empty.status_code == 400


def test_two_devices_at_once_leave_one_record(app, held, facilitator):
    session, sofie = held["session"], held["sofie"]
    services.record(session, sofie, "present", via="facilitator", by_user=facilitator)
    services.record(session, sofie, "present", via="facilitator", by_user=facilitator)
    services.record(session, sofie, "absent", via="facilitator", by_user=facilitator)
    assert db.session.scalar(select(func.count(Attendance.id))) == 1


def test_host_checks_in_only_when_allowed_and_only_their_own_session(logged_in, held, app):
    session, jan, sofie = held["session"], held["jan"], held["sofie"]
    jan_token = token_for(jan)  # Jan works at the host facility, Ukkepuk
    url = f"/m/{jan_token}/sessions/{session.id}/checkin"
    anonymous = app.test_client()
    assert anonymous.get(url).status_code == 404
    logged_in.post(f"/sessions/{session.id}/checkin/settings", data={"host_may_check_in": "1"})
    assert anonymous.get(url).status_code == 200
    anonymous.post(url, data={"person": f"c{sofie.id}", "status": "present"})
    assert status_of(session, sofie) == "present"
    change = db.session.scalar(select(AttendanceChange))
    assert change.by_contact_id == jan.id and change.via == "host"
    # Sofie is not of the host facility: her link cannot check anyone in.
    sofie_url = f"/m/{token_for(sofie)}/sessions/{session.id}/checkin"
    assert anonymous.get(sofie_url).status_code == 404
    assert (
        anonymous.post(sofie_url, data={"person": f"c{jan.id}", "status": "present"}).status_code
        == 404
    )


def test_self_check_in_with_the_qr_code_and_the_phone_that_opened_the_link(logged_in, held, app):
    session, sofie = held["session"], held["sofie"]
    qr_page = logged_in.get(f"/sessions/{session.id}/checkin/qr").get_data(as_text=True)
    code = services.self_checkin_code(session)
    assert f"/checkin/{code}" in qr_page and "<svg" in qr_page
    phone = app.test_client()
    assert "persoonlijke link" in phone.get(f"/checkin/{code}").get_data(as_text=True)
    phone.get(f"/m/{token_for(sofie)}")  # the phone opens her personal link once
    assert phone.post(f"/checkin/{code}").status_code == 200
    assert status_of(session, sofie) == "present"
    assert db.session.scalar(select(AttendanceChange.via)) == "self"
    assert app.test_client().get("/checkin/not-a-code").status_code == 404


def test_a_stale_qr_code_does_nothing(logged_in, held, app):
    session, sofie = held["session"], held["sofie"]
    code = services.self_checkin_code(session)
    session.starts_at -= timedelta(days=2)
    session.ends_at -= timedelta(days=2)
    db.session.commit()
    phone = app.test_client()
    phone.get(f"/m/{token_for(sofie)}")
    html = phone.post(f"/checkin/{code}").get_data(as_text=True)
    assert status_of(session, sofie) is None
    assert "niet meer geldig" in html


def test_a_member_cannot_see_attendance_pages(app, held):
    session = held["session"]
    token = token_for(held["sofie"])
    member = app.test_client()
    member.get(f"/m/{token}")
    for url in (
        f"/sessions/{session.id}/checkin",
        f"/sessions/{session.id}/sheet",
        f"/sessions/{session.id}/attendance",
        f"/contacts/{held['jan'].id}/attendance",
        f"/networks/{held['network'].slug}/attendance",
    ):
        assert member.get(url).status_code == 302  # to the login page
    other = factories.user(email="other@example.org")
    outsider = app.test_client()
    login(outsider, other.email)
    assert outsider.get(f"/sessions/{session.id}/checkin").status_code == 403


# --- reports, CSV and the certificate ---------------------------------------------------------


def test_reports_and_csv_read_back_with_accents(logged_in, held):
    session, sofie, jan, hanne = held["session"], held["sofie"], held["jan"], held["hanne"]
    db.session.add(Rsvp(session=session, contact=sofie, answer="yes", waitlisted=False))
    hanne.name = "Hanne Dé Smët"
    db.session.commit()
    mark(logged_in, session, jan, "present")  # unannounced
    mark(logged_in, session, sofie, "absent")  # a no-show
    mark(logged_in, session, hanne, "excused")
    report = logged_in.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "Sofie Claes" in report and "Jan Peeters" in report
    excel = logged_in.get(f"/sessions/{session.id}/attendance.csv")
    assert excel.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(excel.data.decode("utf-8-sig")), delimiter=";"))
    assert ["Hanne Dé Smët", "KDV De Zonnebloem", "Verontschuldigd", ""] in lines
    comma = logged_in.get(f"/sessions/{session.id}/attendance.csv?variant=comma")
    assert not comma.data.startswith(b"\xef\xbb\xbf")
    assert len(list(csv.reader(io.StringIO(comma.get_data(as_text=True))))) == len(lines)
    network = logged_in.get(f"/networks/{held['network'].slug}/attendance.csv")
    rows = list(csv.reader(io.StringIO(network.data.decode("utf-8-sig")), delimiter=";"))
    assert ["Kinderopvang Ukkepuk", "1", "1", "1"] in rows
    page = logged_in.get(f"/networks/{held['network'].slug}/attendance").get_data(as_text=True)
    assert "<svg" in page


def test_contact_report_certificate_pdf(logged_in, held):
    from pypdf import PdfReader

    session, sofie = held["session"], held["sofie"]
    mark(logged_in, session, sofie, "present")
    start, _end = rules.werkjaar_of(session.starts_at.date())
    period = f"{start.year}-{start.year + 1}"
    page = logged_in.get(f"/contacts/{sofie.id}/attendance?period={period}").get_data(as_text=True)
    assert "2,5" in page
    pdf = logged_in.get(f"/contacts/{sofie.id}/certificate?period={period}&format=pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = " ".join(
        "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split()
    )
    assert "Sofie Claes" in text and "Kinderopvang Ukkepuk" in text and "2,5" in text
    html = logged_in.get(f"/contacts/{sofie.id}/certificate?period={period}").get_data(as_text=True)
    assert "Sofie Claes" in html


def test_history_survives_people_and_facilities_leaving(logged_in, held):
    session, sofie = held["session"], held["sofie"]
    mark(logged_in, session, sofie, "present")
    sofie.active = False
    db.session.commit()
    network = held["network"]
    membership = next(m for m in network.memberships if m.facility_id == sofie.facility_id)
    logged_in.post(
        f"/networks/{network.slug}/members/{membership.id}/leave",
        data={"left_on": utcnow().date().isoformat()},
    )
    html = logged_in.get(f"/sessions/{session.id}/checkin").get_data(as_text=True)
    assert "Sofie Claes" in html
    report = logged_in.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "KDV De Zonnebloem" in report


def test_network_page_shows_the_bridges(logged_in, held):
    session = held["session"]
    mark(logged_in, session, held["sofie"], "present")  # Zonnebloem visits Ukkepuk
    html = logged_in.get(f"/networks/{held['network'].slug}").get_data(as_text=True)
    bridges = html.split('id="bridges"')[1].split("</section>")[0]
    assert "<svg" in bridges and "1 van de 1" in bridges


def test_statement_counts_do_not_grow_with_attendance(logged_in, held, count_queries):
    network, session = held["network"], held["session"]

    def statements(url: str) -> int:
        logged_in.get(url)
        db.session.expire_all()
        count_queries.statements.clear()
        assert logged_in.get(url).status_code == 200
        return count_queries.count

    urls = [
        f"/networks/{network.slug}/attendance",
        f"/networks/{network.slug}",
        f"/sessions/{session.id}/checkin",
        f"/sessions/{session.id}/attendance",
    ]
    mark(logged_in, session, held["sofie"], "present")
    small = [statements(u) for u in urls]
    host = session.host
    for n in range(6):
        extra = factories.facility(name=f"Extra {n}")
        factories.member(network, extra)
        people = [factories.contact(extra) for _ in range(3)]
        start = utcnow() - timedelta(days=20 + n)
        past = factories.session(network, host, starts_at=start, ends_at=start + timedelta(hours=2))
        db.session.commit()
        for person in people:
            services.record(past, person, "present", via="facilitator")
    assert [statements(u) for u in urls] == small


@pytest.mark.parametrize("facility_id", ["2147483648", "-2147483649", str(10**20), str(-(10**20))])
def test_a_walk_in_with_an_id_no_column_holds_is_refused_not_a_500(logged_in, held, facility_id):
    """Issue 19, item 13: PostgreSQL refused the lookup of 2**31 ("integer out of range")."""
    session = held["session"]
    response = logged_in.post(
        f"/sessions/{session.id}/walk-in",
        data={"walkin-name": "Iemand", "walkin-facility_id": facility_id},
    )
    assert response.status_code == 400
    assert "hoort niet bij een lidvoorziening" in response.get_data(as_text=True)
    assert "Iemand" not in {c.name for c in db.session.scalars(select(Contact))}
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


@pytest.mark.parametrize("suffix", ["\r\n", "\n", "\rSet-Cookie: x=1", " "])
def test_a_person_key_with_a_line_break_is_no_500(logged_in, held, suffix):
    """Issue 19, item 13: the key went into the redirect's Location header as it came."""
    session, sofie = held["session"], held["sofie"]
    response = logged_in.post(
        f"/sessions/{session.id}/checkin",
        data={"person": f"c{sofie.id}{suffix}", "status": "present"},
    )
    assert response.status_code == 303
    assert "\r" not in response.headers["Location"] and "\n" not in response.headers["Location"]
    assert response.headers["Location"].endswith(f"/sessions/{session.id}/checkin")
