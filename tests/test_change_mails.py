"""Issue 20, item 4: changes say what changed.

A change mail shows old and new side by side (date, time, host, address) with the change
marked, in text and HTML; a restored session says it goes ahead after all; a cancellation
carries the facilitator's reason; what the mails say about the host is the current host's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.sessions.before import Before, compare
from learnnet.timefmt import format_day, to_local
from tests import factories


def messages(kind: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def to(recipient: str, kind: str) -> OutboxMessage:
    return next(m for m in messages(kind) if m.recipient == recipient)


def calendar_of(message: OutboxMessage) -> str:
    data = "".join(
        a.data.decode() for a in message.attachments if a.content_type.startswith("text/calendar")
    )
    return data.replace("\r\n ", "").replace("\\n", "\n").replace("\\,", ",")


@pytest.fixture
def invited(logged_in, network):
    """A session at Ukkepuk (Dorpsstraat 5) in 20 days, everyone invited; Sofie's
    facility, De Zonnebloem, is the other member."""
    _zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    ukkepuk.street = "Dorpsstraat 5"
    factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org", preferred_language="en")
    session = factories.session(
        network,
        ukkepuk,
        days_ahead=20,
        practical_info="Dorpsstraat 5, 9000 Gent\nParking achter het gebouw.",
        host_showcase="Ukkepuk toont zijn buitenspel met de peuters.",
    )
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    return session


def _day(session) -> str:
    return format_day(to_local(session.starts_at, "Europe/Brussels").date(), "nl")


def _move(client, session, days: int = 0, host_id: int | None = None, start: str = "19:00"):
    local = to_local(session.starts_at, "Europe/Brussels") + timedelta(days=days)
    return client.post(
        f"/sessions/{session.id}/move",
        data={
            "day": local.strftime("%Y-%m-%d"),
            "start_time": start,
            "end_time": "21:30",
            "host_id": host_id or session.host_facility_id,
        },
    )


def test_compare_marks_only_what_changed():
    start = datetime(2027, 1, 12, 18, 0, tzinfo=UTC)
    before = Before(
        start, start + timedelta(hours=2), "Europe/Brussels", "A", "Straat 1, 9000 Gent"
    )
    after = Before(
        start + timedelta(days=1), start + timedelta(days=1, hours=2), "Europe/Brussels", "A", "X"
    )
    facts = {f.name: f for f in compare(before, after, "nl")}
    assert facts["date"].changed and not facts["time"].changed
    assert not facts["host"].changed and facts["address"].changed
    assert facts["time"].new == "19:00–21:00"  # local time
    assert (facts["date"].old, facts["date"].new) == ("di 12 jan. 2027", "wo 13 jan. 2027")


def test_a_moved_session_shows_the_old_and_the_new_date_and_host(logged_in, network, invited):
    zonnebloem = network.memberships[0].facility
    old_day = _day(invited)
    assert _move(logged_in, invited, days=1, host_id=zonnebloem.id).status_code == 302
    db.session.refresh(invited)
    new_day = _day(invited)
    mail = to("sofie@example.org", "change")
    text = mail.text_body
    assert "Wat is er gewijzigd:" in text
    assert f"* Datum: {new_day} (was: {old_day})" in text
    assert "* Gastvoorziening: KDV De Zonnebloem (was: Kinderopvang Ukkepuk)" in text
    assert "* Adres: Kerkstraat 1, 9000 Gent (was: Dorpsstraat 5, 9000 Gent)" in text
    assert "  Uur: 19:00–21:30 (ongewijzigd)" in text
    html = mail.html_body
    assert html.count("(gewijzigd)") == 3  # date, host, address; the time did not change
    assert f"Eerst: <s>{old_day}</s>" in html and f"Nu: {new_day}" in html
    english = to("jan@example.org", "change").text_body
    assert "What changed:" in english and "(was: Kinderopvang Ukkepuk)" in english


def test_a_new_host_address_is_shown_old_and_new_and_the_practical_info_follows(
    logged_in, network, invited
):
    ukkepuk = invited.host
    data = {
        "name": ukkepuk.name,
        "street": "Nieuwstraat 9",
        "postcode": ukkepuk.postcode,
        "city": ukkepuk.city,
        "room_capacity": str(ukkepuk.room_capacity),
        "willing_to_host": "1",
    }
    assert logged_in.post(f"/facilities/{ukkepuk.id}/edit", data=data).status_code == 302
    db.session.refresh(invited)
    assert invited.practical_info == "Nieuwstraat 9, 9000 Gent\nParking achter het gebouw."
    mail = to("sofie@example.org", "change")
    assert "* Adres: Nieuwstraat 9, 9000 Gent (was: Dorpsstraat 5, 9000 Gent)" in mail.text_body
    assert "  Gastvoorziening: Kinderopvang Ukkepuk (ongewijzigd)" in mail.text_body
    assert "Dorpsstraat" not in calendar_of(mail)  # LOCATION and the practical info


def test_after_a_new_host_the_mails_say_nothing_of_the_old_hosts_practice(
    logged_in, network, invited
):
    zonnebloem = network.memberships[0].facility
    zonnebloem.parking_notes = "Parking op het plein."
    db.session.commit()
    _move(logged_in, invited, host_id=zonnebloem.id)
    change = calendar_of(to("sofie@example.org", "change"))
    assert "Parking op het plein." in change and "Kerkstraat 1" in change
    assert "buitenspel" not in change and "Parking achter" not in change
    logged_in.post(f"/sessions/{invited.id}/cancel", data={"reason": ""})
    cancel = to("sofie@example.org", "cancellation")
    assert "buitenspel" not in calendar_of(cancel) + cancel.text_body + cancel.html_body
    assert "Parking achter" not in calendar_of(cancel)


def test_a_restored_session_says_it_goes_ahead_after_all(logged_in, invited):
    logged_in.post(f"/sessions/{invited.id}/cancel")
    assert logged_in.post(f"/sessions/{invited.id}/restore").status_code == 302
    mail = to("sofie@example.org", "change")
    assert mail.subject.startswith("Gaat toch door: Lerend netwerk Gent, ")
    assert "gaat toch door" in mail.text_body and "gaat toch door" in mail.html_body
    assert "Gewijzigd" not in mail.subject and "gewijzigd" not in mail.text_body
    assert to("jan@example.org", "change").subject.startswith("Goes ahead after all: ")


def test_the_cancel_page_asks_for_a_reason_and_the_mail_carries_it_escaped(logged_in, invited):
    page = logged_in.get(f"/sessions/{invited.id}/cancel").get_data(as_text=True)
    assert 'name="reason"' in page and "Reden (niet verplicht)" in page
    reason = "De zaal is <b>onder water</b> gelopen & we zoeken een nieuwe datum."
    response = logged_in.post(f"/sessions/{invited.id}/cancel", data={"reason": reason})
    assert response.status_code == 302
    db.session.refresh(invited)
    assert invited.cancel_reason == reason
    mail = to("sofie@example.org", "cancellation")
    assert f"Reden: {reason}" in mail.text_body
    assert "&lt;b&gt;onder water&lt;/b&gt; gelopen &amp; we" in mail.html_body
    assert "<b>onder water" not in mail.html_body


def test_a_too_long_reason_is_said_next_to_the_field_and_nothing_is_cancelled(logged_in, invited):
    reason = "Te lang. " * 200
    response = logged_in.post(f"/sessions/{invited.id}/cancel", data={"reason": reason})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="reason-error"' in html and "Te lang. Te lang." in html  # kept
    db.session.refresh(invited)
    assert not invited.is_cancelled and messages("cancellation") == []
