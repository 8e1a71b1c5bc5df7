"""Personal check-in codes (issue 21.4): each contact's page shows, during the check-in
window, a QR of a signed, session-bound check-in link and a short code to type; the
facilitator's and the host's check-in pages take either and record "present"."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnnet.attendance import services
from learnnet.attendance.models import Attendance, AttendanceChange
from learnnet.extensions import db
from learnnet.models import utcnow
from tests import factories
from tests.rsvp_helpers import token_for
from tests.test_attendance import status_of


@pytest.fixture
def door(network):
    """A session at Ukkepuk starting in half an hour, one a week later; Jan works at the
    host, Sofie and Hanne at Zonnebloem."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    hanne = next(c for c in zonnebloem.contacts if c.name == "Hanne De Smet")
    jan = factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    start = utcnow() + timedelta(minutes=30)
    session = factories.session(
        network, ukkepuk, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    later = factories.session(network, ukkepuk, days_ahead=7)
    db.session.commit()
    return {"session": session, "later": later, "sofie": sofie, "hanne": hanne, "jan": jan}


def shown_codes(page: str) -> tuple[str, str]:
    """The check-in link in the member page's QR (from its data) and the typed code."""
    link = re.search(r'data-checkin-link="([^"]+)"', page)
    short = re.search(r'class="my-code-short">([^<]+)<', page)
    assert link and short, "no personal check-in code on the page"
    return htmllib.unescape(link.group(1)), short.group(1)


def test_the_member_page_shows_the_code_only_during_the_window(app, door):
    token = token_for(door["sofie"])
    page = app.test_client().get(f"/m/{token}").get_data(as_text=True)
    link, short = shown_codes(page)
    assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}", short)
    assert f"/sessions/{door['session'].id}/checkin?code=" in link
    assert token not in link  # no personal-link token inside the code
    assert page.count('class="my-code-short"') == 1  # not for next week's session
    door["session"].starts_at -= timedelta(days=1)
    door["session"].ends_at -= timedelta(days=1)
    db.session.commit()
    page = app.test_client().get(f"/m/{token}").get_data(as_text=True)
    assert "my-code-short" not in page  # the window has closed


def test_the_facilitator_checks_in_with_the_typed_short_code(logged_in, app, door):
    session, sofie = door["session"], door["sofie"]
    _link, short = shown_codes(app.test_client().get(f"/m/{token_for(sofie)}").get_data(True))
    response = logged_in.post(
        f"/sessions/{session.id}/checkin", data={"code": short.lower().replace("-", " ")}
    )
    assert response.status_code == 303
    assert response.location.endswith("#code-checkin")
    assert status_of(session, sofie) == "present"
    change = db.session.scalar(select(AttendanceChange))
    assert change.via == "facilitator" and change.by_user_id is not None
    page = logged_in.get(response.location).get_data(as_text=True)
    assert "Sofie Claes is ingecheckt: aanwezig." in page


def test_the_scanned_link_checks_in_through_the_same_post(logged_in, app, door):
    session, hanne = door["session"], door["hanne"]
    link, _short = shown_codes(app.test_client().get(f"/m/{token_for(hanne)}").get_data(True))
    assert logged_in.post(f"/sessions/{session.id}/checkin", data={"code": link}).status_code == 303
    assert status_of(session, hanne) == "present"


def test_a_camera_app_opening_the_link_gets_a_confirmation(logged_in, app, door):
    session, sofie = door["session"], door["sofie"]
    link, _short = shown_codes(app.test_client().get(f"/m/{token_for(sofie)}").get_data(True))
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = logged_in.get("/" + path).get_data(as_text=True)
    assert "Sofie Claes inchecken: aanwezig" in page
    assert status_of(session, sofie) is None  # opening a link changes nothing
    # Someone not logged in (a stranger who found the photo) sees nothing of it.
    assert "Sofie" not in app.test_client().get("/" + path).get_data(as_text=True)


@pytest.mark.parametrize("which", ["later", "wrong", "empty"])
def test_a_wrong_or_foreign_code_says_so_next_to_the_field(logged_in, app, door, which):
    session, sofie = door["session"], door["sofie"]
    if which == "later":  # her code of next week's session
        typed = services.personal_code(door["later"], sofie).short
    else:
        typed = {"wrong": "ZZZ-ZZZ", "empty": ""}[which]
    response = logged_in.post(f"/sessions/{session.id}/checkin", data={"code": typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="code-error"' in page and "Niemand op deze lijst heeft deze incheckcode" in page
    assert f'value="{typed}"' in page  # what was typed stays
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_the_host_scans_through_the_personal_link(logged_in, app, door):
    session, jan, sofie = door["session"], door["jan"], door["sofie"]
    logged_in.post(f"/sessions/{session.id}/checkin/settings", data={"host_may_check_in": "1"})
    host = app.test_client()
    url = f"/m/{token_for(jan)}/sessions/{session.id}/checkin"
    page = host.get(url)
    assert 'id="code-checkin"' in page.get_data(as_text=True)
    assert "camera=(self)" in page.headers["Permissions-Policy"]
    link, _short = shown_codes(app.test_client().get(f"/m/{token_for(sofie)}").get_data(True))
    assert host.post(url, data={"code": link}).status_code == 303
    assert status_of(session, sofie) == "present"
    change = db.session.scalar(select(AttendanceChange))
    assert change.via == "host" and change.by_contact_id == jan.id


def test_a_code_does_not_work_before_check_in_opens(logged_in, app, door):
    later, sofie = door["later"], door["sofie"]
    code = services.personal_code(later, sofie)
    response = logged_in.post(f"/sessions/{later.id}/checkin", data={"code": code.long})
    # The page of a session not open yet shows no code form; the post is refused with
    # the reason, nothing recorded.
    assert response.status_code == 400
    assert "nog niet begonnen" in response.get_data(as_text=True)
    assert status_of(later, sofie) is None


def test_the_camera_is_allowed_on_the_check_in_pages_only(logged_in, app, door):
    session = door["session"]
    checkin = logged_in.get(f"/sessions/{session.id}/checkin")
    assert checkin.headers["Permissions-Policy"].startswith("camera=(self),")
    assert "microphone=()" in checkin.headers["Permissions-Policy"]
    for other in ("/", f"/sessions/{session.id}", f"/m/{token_for(door['sofie'])}"):
        response = logged_in.get(other)
        assert response.headers["Permissions-Policy"].startswith("camera=(),"), other
    assert "script-src 'self'" in checkin.headers["Content-Security-Policy"]
