"""Issue 20: messages members can trust.

Closed means closed; honest sending; one invitation per person per send; answers from
the mail; changes that say what changed; the mail transport.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.rsvp import notify
from tests import factories
from tests.rsvp_helpers import answer, token_for


def messages(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def calendar_of(message: OutboxMessage) -> str:
    return "".join(
        a.data.decode() for a in message.attachments if a.content_type.startswith("text/calendar")
    )


def person(network, name: str):
    return next(c for m in network.memberships for c in m.facility.contacts if c.name == name)


# --- 1. closed means closed --------------------------------------------------------------------


@pytest.fixture
def closed(network):
    """A session in eight days whose answers closed yesterday."""
    host = network.memberships[1].facility
    session = factories.session(
        network, host, days_ahead=8, rsvp_deadline=utcnow() - timedelta(days=1)
    )
    db.session.commit()
    return session


def test_inviting_to_a_closed_session_asks_the_facilitator_first(logged_in, closed):
    response = logged_in.post(f"/sessions/{closed.id}/invitations")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/sessions/{closed.id}/closed")
    assert messages() == []
    page = logged_in.get(f"/sessions/{closed.id}/closed").get_data(as_text=True)
    assert 'name="rsvp_deadline"' in page and 'value="inform"' in page


def test_an_information_mail_asks_no_answer(logged_in, closed):
    logged_in.post(f"/sessions/{closed.id}/closed", data={"action": "inform"})
    sent = messages("invitation")
    assert len(sent) == 2
    for message in sent:
        assert "Antwoord" not in message.text_body and "antwoord" not in message.subject.lower()
        assert "gesloten" in message.text_body
        ics = calendar_of(message)
        assert "METHOD:REQUEST" in ics and "RSVP=TRUE" not in ics


def test_reopening_answers_sets_the_deadline_and_invites(logged_in, closed, network):
    day = (utcnow() + timedelta(days=3)).date().isoformat()
    bad = logged_in.post(
        f"/sessions/{closed.id}/closed", data={"action": "reopen", "rsvp_deadline": "2001-01-01"}
    )
    assert bad.status_code == 400 and "2001-01-01" in bad.get_data(as_text=True)
    assert messages() == []
    logged_in.post(f"/sessions/{closed.id}/closed", data={"action": "reopen", "rsvp_deadline": day})
    db.session.refresh(closed)
    assert closed.rsvp_deadline > utcnow()
    sent = messages("invitation")
    assert len(sent) == 2 and all("RSVP=TRUE" in calendar_of(m) for m in sent)


def test_no_nudge_and_no_will_you_come_reminder_when_answers_are_closed(
    app, logged_in, client, network
):
    host = network.memberships[1].facility
    session = factories.session(network, host, days_ahead=6)
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    answer(client, token_for(person(network, "Sofie Claes")), session.id, "yes")
    session.rsvp_deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    response = logged_in.post(f"/sessions/{session.id}/nudges")
    assert response.status_code == 303 and messages("nudge") == []
    with app.test_request_context():
        assert notify.send_due_reminders([7, 1]) == 1
    assert [m.recipient for m in messages("reminder")] == ["sofie@example.org"]


def test_a_change_to_a_closed_session_asks_no_answer_in_the_calendar(logged_in, network):
    host = network.memberships[1].facility
    session = factories.session(network, host, days_ahead=8)
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    session.rsvp_deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": session.starts_at.strftime("%Y-%m-%d"),
            "start_time": "19:30",  # the same day: the deadline stays where it was
            "end_time": "21:30",
            "host_id": host.id,
        },
    )
    changes = messages("change")
    assert changes and all("RSVP=TRUE" not in calendar_of(m) for m in changes)


def test_the_dashboard_says_what_is_urgent_instead_of_offering_what_cannot_be_done(
    logged_in, network
):
    host = network.memberships[0].facility
    tomorrow = factories.session(
        network, host, days_ahead=1, rsvp_deadline=utcnow() - timedelta(hours=2)
    )
    db.session.commit()
    html = logged_in.get("/").get_data(as_text=True)
    todo = html.split('id="todo"')[1].split('aria-labelledby="networks-title"')[0]
    assert "/invitations" not in todo  # no "send the invitations"
    assert "morgen" in todo and "0 antwoorden" in todo and "uitnodigingen nooit verstuurd" in todo
    assert f"/sessions/{tomorrow.id}/closed" in todo


def test_sending_all_invitations_skips_closed_sessions(logged_in, closed, network):
    host = network.memberships[0].facility
    open_ = factories.session(network, host, days_ahead=12)
    db.session.commit()
    page = logged_in.get(f"/networks/{network.slug}/invitations").get_data(as_text=True)
    assert f"/sessions/{closed.id}/closed" in page
    logged_in.post(f"/networks/{network.slug}/invitations")
    assert {m.session_id for m in messages("invitation")} <= {open_.id}


# --- 2. honest sending -------------------------------------------------------------------------


def _invite_setup(network, people: int) -> object:
    host = network.memberships[0].facility
    for n in range(people):
        factories.contact(host, name=f"Lid {n}", email=f"lid{n}@example.org")
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    return session


def test_the_flash_says_how_many_went_and_how_many_wait(app_factory, tmp_path):
    from tests.conftest import login

    app = app_factory(MAIL_SEND_IMMEDIATELY_LIMIT=2)
    with app.app_context():
        user = factories.user(email="els@example.org", name="Els")
        network = factories.network(facilitators=[user])
        factories.member(network, factories.facility(name="Opvang A"))
        db.session.commit()
        session = _invite_setup(network, 3)
        client = app.test_client()
        login(client, "els@example.org")
        page = client.post(f"/sessions/{session.id}/invitations", follow_redirects=True)
        html = page.get_data(as_text=True)
        assert "3 uitnodigingen klaar om te versturen; 2 zijn al verstuurd." in html
        assert "uitnodigingen verstuurd" not in html
        assert "1 bericht wacht om verstuurd te worden" in html  # the progress line


def test_changes_and_cancellations_never_wait_behind_invitations(app_factory):
    from learnnet.mail.services import deliver_due

    app = app_factory(MAIL_SEND_IMMEDIATELY=False)
    with app.app_context(), app.test_request_context():
        user = factories.user(email="els@example.org", name="Els")
        network = factories.network(facilitators=[user])
        factories.member(network, factories.facility(name="Opvang A"))
        first = _invite_setup(network, 5)
        notify.send_invitations(first)
        second = factories.session(network, first.host, days_ahead=40)
        db.session.commit()
        notify.send_invitations(second)
        from learnnet.sessions import services as scheduling

        scheduling.cancel_session(first)
        report = deliver_due(limit=5)
        assert report.sent == 5
        kinds = [m.kind for m in messages() if m.status == "sent"]
        assert kinds == ["cancellation"] * 5


def test_the_mail_worker_delivers_within_seconds_without_another_command(
    app_factory, db_url, tmp_path
):
    """Like `make run`: the app queues (no delivery in the request), two workers beside it
    (two servers) deliver every message once, within seconds."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.conftest import TEST_SECRET, login

    app = app_factory(MAIL_SEND_IMMEDIATELY=False, MAIL_OUTBOX_DIR=str(tmp_path / "sent"))
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "LEARNNET_DATABASE_URL": db_url,
        "LEARNNET_SECRET_KEY": TEST_SECRET,
        "LEARNNET_INSTANCE_PATH": str(tmp_path / "instance"),
        "LEARNNET_MAIL_OUTBOX_DIR": str(tmp_path / "sent"),
    }
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "learnnet",
                "mail-worker",
                "--interval",
                "0.3",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        with app.app_context():
            user = factories.user(email="els@example.org", name="Els")
            network = factories.network(facilitators=[user])
            factories.member(network, factories.facility(name="Opvang A"))
            session = _invite_setup(network, 12)
            client = app.test_client()
            login(client, "els@example.org")
            client.post(f"/sessions/{session.id}/invitations")
            queued = len(messages("invitation"))
            assert queued == 12
            db.session.remove()
            db.engine.dispose()
        deadline = time.monotonic() + 15
        files: list[Path] = []
        while time.monotonic() < deadline:
            files = list((tmp_path / "sent").glob("*.eml"))
            if len(files) >= queued:
                break
            time.sleep(0.2)
        time.sleep(1)  # a duplicate would show up by now
        files = list((tmp_path / "sent").glob("*.eml"))
        assert len(files) == queued
    finally:
        for worker in workers:
            worker.terminate()
        outputs = [w.communicate(timeout=20)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    assert all("stopped" in out for out in outputs), outputs


# --- 3. one invitation per person per send ----------------------------------------------------


@pytest.fixture
def smtp():
    from tests.smtp_server import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


def _season(network, count: int = 7) -> list:
    host = network.memberships[0].facility
    sessions = [factories.session(network, host, days_ahead=10 + 21 * n) for n in range(count)]
    db.session.commit()
    return sessions


def _smtp_facilitator_app(app_factory, port: int):
    from tests.conftest import login

    app = app_factory(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    ctx = app.app_context()
    ctx.push()
    user = factories.user(email="els@example.org", name="Els")
    network = factories.network(facilitators=[user], name="Lerend netwerk Gent")
    host = factories.facility(name="KDV De Zonnebloem", postcode="9000", city="Gent")
    other = factories.facility(name="Kinderopvang Ukkepuk", postcode="9000", city="Gent")
    factories.member(network, host)
    factories.member(network, other)
    factories.contact(host, name="Sofie Claes", email="sofie@example.org")
    factories.contact(other, name="Jan Peeters", email="jan@example.org", preferred_language="en")
    db.session.commit()
    client = app.test_client()
    login(client, "els@example.org")
    return app, ctx, network, client


def test_a_season_send_gives_each_contact_one_mail_with_every_date(app_factory, smtp):
    from tests.ical_oracles import parse_icaljs, parse_vobject

    _app, ctx, network, client = _smtp_facilitator_app(app_factory, smtp.port)
    try:
        sessions = _season(network)
        expected_uids = {s.uid for s in sessions}
        response = client.post(f"/networks/{network.slug}/invitations", follow_redirects=True)
        assert "2 uitnodigingen verstuurd." in response.get_data(as_text=True)
    finally:
        ctx.pop()
    received = smtp.recorder.received
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == [
        "jan@example.org",
        "sofie@example.org",
    ]
    sofie = next(m for m in received if "sofie" in str(m["To"]))
    subject = str(sofie["Subject"])
    assert subject.startswith("Uitnodiging: Lerend netwerk Gent, 7 bijeenkomsten, ")
    text = sofie.get_body(("plain",)).get_content()
    assert text.count("?session=") == 7 * 3  # yes / maybe / no per date
    uids = set()
    calendars = [p for p in sofie.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 7 and all(p.get_filename() for p in calendars)  # attachments
    for part in calendars:
        data = part.get_payload(decode=True)
        for parsed in (parse_icaljs(data), parse_vobject(data)):
            assert parsed["method"] == "REQUEST" and len(parsed["events"]) == 1
            uids.add(parsed["events"][0]["uid"])
    assert uids == expected_uids  # each session its own event, its own UID


def test_one_session_keeps_its_inline_request_and_every_subject_names_the_date(logged_in, network):
    host = network.memberships[0].facility
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    sofie = next(m for m in messages("invitation") if m.recipient == "sofie@example.org")
    from learnnet.timefmt import format_day, local_date

    day = format_day(local_date(session.starts_at, "Europe/Brussels"), "nl").rsplit(" ", 1)[0]
    assert sofie.subject == f"Uitnodiging: Lerend netwerk Gent, {day}"
    assert [a.inline for a in sofie.attachments] == [True]
    logged_in.post(f"/sessions/{session.id}/cancel")
    assert all(day in m.subject for m in messages("cancellation"))


# --- 4. answer from the mail ------------------------------------------------------------------


def _answer_link(message: OutboxMessage, value: str) -> str:
    line = next(line for line in message.text_body.splitlines() if f"answer={value}" in line).split(
        ": ", 1
    )[1]
    return line.split("localhost", 1)[1]


def test_an_answer_button_opens_the_page_ready_to_confirm_and_changes_nothing(
    app, logged_in, network
):
    from learnnet.rsvp.models import Rsvp

    host = network.memberships[0].facility
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    mail = next(m for m in messages("invitation") if m.recipient == "sofie@example.org")
    scanner = app.test_client()
    for value in ("yes", "maybe", "no"):  # a mail scanner follows every link
        page = scanner.get(_answer_link(mail, value))
        assert page.status_code == 200
    assert db.session.scalars(select(Rsvp)).all() == []
    html = app.test_client().get(_answer_link(mail, "yes")).get_data(as_text=True)
    assert "Bevestig je antwoord" in html and "Bevestig: ik kom" in html
    assert 'name="confirm_by_mail"' in html and "checked" not in html.split('id="ready"')[1][:1200]


def test_confirming_records_the_answer_and_remembers_the_confirmation_mail_choice(
    app, logged_in, network
):
    from tests.ical_oracles import parse_icaljs, parse_vobject

    host = network.memberships[0].facility
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    sofie = person(network, "Sofie Claes")
    token = token_for(sofie)
    member = app.test_client()
    member.post(
        f"/m/{token}/sessions/{session.id}",
        data={"answer": "yes", "confirm_choice": "1", "confirm_by_mail": "1"},
    )
    db.session.refresh(sofie)
    assert sofie.confirm_by_mail is True
    [confirmation] = messages("confirmation")
    assert "Je antwoord is bewaard: je komt." in confirmation.text_body
    data = calendar_of(confirmation).encode()
    for parsed in (parse_icaljs(data), parse_vobject(data)):
        assert parsed["method"] == "REQUEST"
        [event] = parsed["events"]
        assert event["uid"] == session.uid
    assert "PARTSTAT=ACCEPTED" in data.decode()
    member.post(f"/m/{token}/sessions/{session.id}", data={"answer": "no"})  # remembered
    assert len(messages("confirmation")) == 2
    member.post(
        f"/m/{token}/sessions/{session.id}", data={"answer": "maybe", "confirm_choice": "1"}
    )
    db.session.refresh(sofie)
    assert sofie.confirm_by_mail is False and len(messages("confirmation")) == 2


def test_a_member_switches_confirmation_mails_on_and_off_on_her_own_page(app, network):
    """Issue 20.3: not only from a mail's answer button: her page has the switch too."""
    host = network.memberships[0].facility
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    sofie = person(network, "Sofie Claes")
    token = token_for(sofie)
    member = app.test_client()
    page = member.get(f"/m/{token}").get_data(as_text=True)
    assert 'id="confirmations"' in page and "Bevestiging per mail" in page
    response = member.post(f"/m/{token}/confirmations", data={"confirm_by_mail": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#confirmations")
    db.session.refresh(sofie)
    assert sofie.confirm_by_mail is True
    member.post(f"/m/{token}/sessions/{session.id}", data={"answer": "yes"})
    assert len(messages("confirmation")) == 1
    member.post(f"/m/{token}/confirmations", data={})
    db.session.refresh(sofie)
    assert sofie.confirm_by_mail is False
    member.post(f"/m/{token}/sessions/{session.id}", data={"answer": "no"})
    assert len(messages("confirmation")) == 1


def test_the_confirm_page_speaks_the_contacts_language_whatever_the_phone(app, network):
    host = network.memberships[0].facility
    jan = factories.contact(
        host, name="Jan Peeters", email="jan@example.org", preferred_language="en"
    )
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    page = app.test_client().get(
        f"/m/{token_for(jan)}?session={session.id}&answer=no",
        headers={"Accept-Language": "nl-BE,nl;q=0.9"},
    )
    assert "Confirm: I am not coming" in page.get_data(as_text=True)


# --- 6. transport -----------------------------------------------------------------------------


def _queue_calendar_mail() -> None:
    from learnnet.mail import services as mail
    from learnnet.mail.message import Part

    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n"
        "BEGIN:VEVENT\r\nUID:x@test\r\nDTSTAMP:20270101T000000Z\r\n"
        "DTSTART:20270112T180000Z\r\nSUMMARY:Crèche Zoë\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    rendered = mail.Rendered("Uitnodiging: Crèche Zoë", "Dag Zoë,\n", "<p>Dag Zoë</p>")
    mail.queue(
        "invitation",
        "zoe@example.org",
        rendered,
        recipient_name="Zoë",
        parts=[Part("invite.ics", "text/calendar; charset=UTF-8; method=REQUEST", ics, True)],
    )
    db.session.commit()


class _No8BitMime:
    """An aiosmtpd handler hook that takes 8BITMIME out of the EHLO answer."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [r for r in responses if "8BITMIME" not in r]


@pytest.mark.parametrize("eight_bit", [True, False])
def test_calendar_parts_over_smtp_say_8bitmime_or_go_quoted_printable(app_factory, eight_bit):
    from learnnet.mail.services import deliver_due
    from tests.smtp_server import Recorder, SmtpServer

    recorder = Recorder()
    if not eight_bit:
        recorder.handle_EHLO = _No8BitMime().handle_EHLO  # type: ignore[attr-defined]
    server = SmtpServer(recorder=recorder).start()
    try:
        app = app_factory(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
        with app.app_context():
            _queue_calendar_mail()
            assert deliver_due().sent == 1
    finally:
        server.stop()
    [envelope] = recorder.envelopes
    [received] = recorder.received
    [calendar] = [p for p in received.walk() if p.get_content_type() == "text/calendar"]
    assert "Crèche Zoë" in calendar.get_content()
    if eight_bit:
        assert "BODY=8BITMIME" in envelope.mail_options
        assert calendar["Content-Transfer-Encoding"] == "8bit"
    else:
        assert "BODY=8BITMIME" not in envelope.mail_options
        assert all(b < 128 for b in envelope.original_content)
        assert calendar["Content-Transfer-Encoding"] == "quoted-printable"


def test_eml_files_in_the_outbox_have_crlf_line_ends(app):
    from pathlib import Path

    from learnnet.mail.services import deliver_due

    _queue_calendar_mail()
    assert deliver_due().sent == 1
    [eml] = list((Path(app.instance_path) / "outbox").glob("*.eml"))
    data = eml.read_bytes()
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")


def test_reminders_and_nudges_carry_the_answer_buttons_while_answers_are_open(logged_in, network):
    host = network.memberships[0].facility
    session = factories.session(network, host, days_ahead=20)
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    logged_in.post(f"/sessions/{session.id}/nudges")
    nudges = messages("nudge")
    assert nudges and all(
        f"?session={session.id}&answer=maybe" in m.text_body
        and f"?session={session.id}&amp;answer=maybe" in m.html_body
        for m in nudges
    )
