"""Every form on a page with a secret URL, posted by Chromium over HTTPS (issue 19, item 1).

The app runs as in production (``LEARNNET_ENV=production``, Secure cookies, HSTS, the
trusted-host list, CSRF on; Redis for the limits when it answers, else the laptop
settings over the same TLS), behind a self-signed certificate on loopback that the
browser is told to accept. Before the fix, Flask-WTF's HTTPS check refused each of
these posts with 400: the token pages sent no Referer at all.

Covered: the answer (with and without script), a colleague, the feed's renewal, the host's
"yes", details, "no" and check-in list, the QR and "Ik ben er" check-ins, the season poll,
a leervraag (write, change, remove), an agreement done and how it went, the evaluation, a
file shared and deleted, a message to the facilitator, the confirmation-mail choice, a
network's request (accept, decline) and the password links.
"""

from __future__ import annotations

import secrets
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from learnnet import MIGRATIONS, create_app, demo
from learnnet.attendance import services as attendance
from learnnet.attendance.models import Attendance
from learnnet.auth import services as accounts
from learnnet.auth.models import User
from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.rsvp.models import Rsvp
from learnnet.sessions.models import Session
from tests.browser.conftest import PHONE, Live, screenshot

pytestmark = pytest.mark.browser

REDIS_DB = "redis://127.0.0.1:6379/11"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _certificate(folder: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, made with the system's openssl."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def https_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("https")
    port = _free_port()
    production = _redis_answers()
    config: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "TRUSTED_HOSTS": ["127.0.0.1"],
        "BASE_URL": f"https://127.0.0.1:{port}",
        "MAIL_OUTBOX_DIR": str(folder / "outbox"),
    }
    if production:
        config |= {"ENV": "production", "RATELIMIT_STORAGE_URI": REDIS_DB}
    else:  # no Redis: the same TLS and CSRF checks, with limits kept in memory
        config |= {"RATELIMIT_STORAGE_URI": "memory://", "PREFERRED_URL_SCHEME": "https"}
    app = create_app(config, instance_path=str(folder / "instance"))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        demo.load()
        db.session.remove()
    if production:
        import redis

        redis.Redis.from_url(REDIS_DB).flushdb()
    server = make_server("127.0.0.1", port, app, threaded=True, ssl_context=_certificate(folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"https://127.0.0.1:{port}", app, folder / "instance")
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized page that accepts the self-signed certificate."""
    context = browser.new_context(viewport=PHONE, locale="nl-BE", ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _sofie(live: Live) -> tuple[str, int, int]:
    """Sofie's personal link, an open session without her answer, and her id."""
    with live.app.app_context():
        sofie = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        for rsvp in db.session.scalars(select(Rsvp).where(Rsvp.contact_id == sofie.id)):
            db.session.delete(rsvp)
        token = token_of(ensure_link(sofie))
        db.session.commit()
        from learnnet.rsvp.services import member_page

        rows = [r for r in member_page(sofie).sessions if not r.closed and r.free]
        result = (token, rows[0].session.id, sofie.id)
        db.session.remove()
    return result


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_member_answers_over_https(https_live, browser, javascript):
    token, session_id, sofie_id = _sofie(https_live)
    context = browser.new_context(
        viewport=PHONE, locale="nl-BE", ignore_https_errors=True, java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        response = page.goto(f"{https_live.url}/m/{token}")
        assert response.headers["referrer-policy"] == "strict-origin"
        card = page.locator(f"#session-{session_id}")
        card.get_by_role("button", name="Ik kom", exact=True).click()
        page.locator(f"#session-{session_id} .answer-state .chip-ok").wait_for()
        screenshot(page, f"https-member-answer-{'js' if javascript else 'nojs'}")
    finally:
        context.close()
    with https_live.app.app_context():
        answer = db.session.scalar(
            select(Rsvp).where(Rsvp.contact_id == sofie_id, Rsvp.session_id == session_id)
        )
        assert answer is not None and answer.answer == "yes"
        db.session.remove()


def test_a_member_adds_a_colleague_and_renews_the_feed_over_https(https_live, phone):
    token, _, sofie_id = _sofie(https_live)
    phone.goto(f"{https_live.url}/m/{token}")
    phone.get_by_text("Een collega toevoegen").click()
    phone.get_by_label("Naam").fill("Lotte Https")
    phone.get_by_role("button", name="Collega toevoegen").click()
    phone.wait_for_load_state("load")
    assert "Lotte Https" in phone.content()
    with https_live.app.app_context():
        sofie = db.session.get(Contact, sofie_id)
        names = [
            c.name
            for c in db.session.scalars(
                select(Contact).where(Contact.facility_id == sofie.facility_id)
            )
        ]
        assert "Lotte Https" in names
        db.session.remove()

    old_feed = phone.get_by_label("Link om te kopiëren").input_value()
    phone.once("dialog", lambda dialog: dialog.accept())  # "Make a new link?"
    with phone.expect_navigation():
        phone.locator("form[action$='/feed/renew'] button").click()
    assert phone.get_by_label("Link om te kopiëren").input_value() != old_feed


def test_a_host_confirms_and_checks_in_over_https(https_live, phone):
    """The host's "Ja, wij ontvangen" and, on the day, self check-in by the QR code."""
    with https_live.app.app_context():
        session = db.session.scalar(
            select(Session)
            .where(Session.starts_at > utcnow(), Session.host_confirmed_at.is_(None))
            .where(Session.status != "cancelled")
            .order_by(Session.starts_at)
        )
        host = db.session.scalar(
            select(Contact).where(Contact.facility_id == session.host_facility_id, Contact.active)
        )
        token = token_of(ensure_link(host))
        session_id = session.id
        db.session.commit()
        host = db.session.get(Contact, host.id)
        db.session.remove()
    phone.goto(f"{https_live.url}/m/{token}")
    phone.locator(f"#session-{session_id}").get_by_role(
        "button", name="Ja, wij ontvangen deze bijeenkomst"
    ).click()
    phone.locator(f"#session-{session_id} .host-box .chip-ok").wait_for()
    with https_live.app.app_context():
        assert db.session.get(Session, session_id).host_confirmed_at is not None
        # A session under way today, for the QR code's self check-in.
        today = db.session.get(Session, session_id)
        today.starts_at = utcnow() - timedelta(minutes=10)
        today.ends_at = utcnow() + timedelta(hours=2)
        db.session.commit()
        code = attendance.self_checkin_code(today)
        db.session.commit()
        host_id = host.id
        db.session.remove()
    # The same phone opened the personal link above: it is recognised.
    phone.goto(f"{https_live.url}/checkin/{code}")
    phone.get_by_role("button", name="Ik ben er").click()
    phone.get_by_text("Je aanwezigheid is genoteerd").wait_for()
    screenshot(phone, "https-self-checkin")
    with https_live.app.app_context():
        row = db.session.scalar(
            select(Attendance).where(
                Attendance.session_id == session_id, Attendance.contact_id == host_id
            )
        )
        assert row is not None and row.status == "present"
        db.session.remove()


@pytest.mark.parametrize("purpose", ["reset", "welcome"])
def test_a_password_is_set_through_a_mailed_link_over_https(https_live, phone, purpose):
    with https_live.app.app_context():
        user = db.session.scalar(select(User).where(User.role == "facilitator"))
        kind = accounts.RESET if purpose == "reset" else accounts.INVITE
        if purpose == "welcome":
            user = User(
                email=f"nieuw-{secrets.token_hex(3)}@example.org",
                name="Nieuwe Begeleider",
                role="facilitator",
                password_hash=accounts.unusable_password(),
            )
            db.session.add(user)
            db.session.commit()
        token = accounts.make_account_token(user, kind)
        email = user.email
        db.session.remove()
    phone.goto(f"{https_live.url}/account/{purpose}/{token}")
    password = "een lange zin om te onthouden " + secrets.token_hex(2)
    for box in phone.locator("input[type=password]").all():
        box.fill(password)
    phone.get_by_role("button", name="Mijn wachtwoord opslaan").click()
    phone.wait_for_load_state("load")
    assert "/account/" not in phone.url
    assert phone.locator("form[action$='/logout']").count() == 1  # logged in
    screenshot(phone, f"https-password-{purpose}")
    with https_live.app.app_context():
        assert accounts.authenticate(email, password) is not None
        db.session.remove()


# --- the forms added later on the personal link's pages (issue 19 again) -----------------------
#
# The season poll, a leervraag, an agreement done and how it went, the evaluation, a file,
# a message, the confirmation choice and a network's request to add the facility: each one
# tapped and typed in Chromium over HTTPS in production mode, then checked on the page (in
# Dutch) and in the database. Refused by CSRF, each post would land on a 400 page instead.


def _submit(page: Any, button: Any) -> None:
    """Tap a submit button and wait for the page it leads to, which must not be an error."""
    with page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    assert response is not None and response.status < 400, (response and response.status, page.url)
    assert "Bad Request" not in page.content()


def _flash(page: Any) -> str:
    return page.inner_text("#flashes")


@pytest.fixture(scope="module")
def world(https_live: Live) -> dict[str, Any]:
    """What the demo lacks for Sofie's forms, made through the app's services: an open poll
    in her network, published minutes with an agreement of her facility, her check-in at a
    held session (for its evaluation) and two other networks asking to add her facility."""
    from learnnet.access import needing_consent
    from learnnet.learning import evaluation_services, minutes_services
    from learnnet.learning.minutes_models import ActionPoint
    from learnnet.networks import services as networks
    from learnnet.networks.models import Facility, Membership, MembershipRequest, Network
    from learnnet.planning.poll_services import create_poll
    from learnnet.sessions.models import CANCELLED
    from learnnet.timefmt import local_today

    app = https_live.app
    with app.test_request_context("/", base_url=https_live.url):
        sofie = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        facility_id = sofie.facility_id
        network = db.session.scalar(
            select(Network)
            .join(Membership, Membership.network_id == Network.id)
            .where(Membership.facility_id == facility_id, Membership.left_on.is_(None))
            .order_by(Network.id)
        )
        facilitator = network.facilitators[0]
        first = local_today() + timedelta(days=40)
        poll = create_poll(
            network,
            facilitator,
            [first + timedelta(days=7 * i) for i in range(3)],
            first - timedelta(days=10),
            "Welke data passen in het najaar?",
        )
        held = list(
            db.session.scalars(
                select(Session)
                .where(Session.network_id == network.id, Session.ends_at < utcnow())
                .where(Session.ends_at > utcnow() - timedelta(days=50))
                .where(Session.status != CANCELLED)
                .order_by(Session.starts_at.desc())
            )
        )
        assert len(held) >= 1, "the demo network has no session held lately"
        minutes_session = held[0]
        # As the editor would: the texts and agreements already there, and one more.
        kept = minutes_services.minutes_of(minutes_session.id)
        saved = minutes_services.save_minutes(
            minutes_session,
            facilitator,
            kept.general_text if kept else "We spraken over wennen.",
            {r.key: r.text for r in minutes_services.section_rows(minutes_session, kept)},
            [
                minutes_services.ActionInput(
                    a.id, a.what, minutes_services.owner_value(a), a.due_on
                )
                for a in (kept.actions if kept else [])
            ]
            + [
                minutes_services.ActionInput(
                    None,
                    "Een wenschema voor nieuwe ouders opstellen",
                    f"f-{facility_id}",
                    local_today() + timedelta(days=20),
                )
            ],
            publish=True,
        )
        assert saved.minutes.is_published
        agreement = db.session.scalar(
            select(ActionPoint).where(
                ActionPoint.session_id == minutes_session.id,
                ActionPoint.what == "Een wenschema voor nieuwe ouders opstellen",
            )
        )
        # Sofie evaluated the demo's last session: a contact who has not is checked in.
        evaluated = minutes_session
        evaluator = next(
            c
            for m in network.memberships
            if m.left_on is None
            for c in sorted(m.facility.contacts, key=lambda c: c.id != sofie.id)
            if c.active and evaluation_services.response_of(evaluated, c) is None
        )
        attendance.record(evaluated, evaluator, "present", via="facilitator", by_user=facilitator)
        assert evaluated.id in {s.id for s in evaluation_services.open_for(evaluator)}
        # Two networks ask a facility to join: one Sofie's (she accepts), one another's
        # (its contact declines); only a facilitator of no network of theirs must ask.
        asking: list[tuple[int, int]] = []
        facilities = [sofie.facility] + [
            f
            for f in db.session.scalars(select(Facility).order_by(Facility.id))
            if f.id != facility_id and any(c.active and c.email for c in f.contacts)
        ]
        for facility in facilities:
            for other in db.session.scalars(select(Network).order_by(Network.id)):
                if any(m.facility_id == facility.id for m in other.memberships):
                    continue
                actor = next(
                    (u for u in other.facilitators if needing_consent(u, [facility.id])), None
                )
                if actor is None:
                    continue
                asked = networks.add_member(other, facility, local_today(), actor)
                assert isinstance(asked, MembershipRequest)
                contact = next(c for c in facility.contacts if c.active)
                if facility.id == facility_id:
                    contact = sofie
                asking.append((asked.id, contact.id))
                break
            if len(asking) == 2:
                break
        assert len(asking) == 2 and asking[0][1] == sofie.id, asking
        decliner = db.session.get(Contact, asking[1][1])
        found = {
            "token": token_of(ensure_link(sofie)),
            "sofie": sofie.id,
            "facility": facility_id,
            "takes_turns": bool(sofie.facility.willing_to_host),
            "network": network.id,
            "poll": poll.id,
            "minutes_session": minutes_session.id,
            "agreement": agreement.id,
            "evaluated": evaluated.id,
            "evaluator": evaluator.id,
            "evaluator_token": token_of(ensure_link(evaluator)),
            "accept": asking[0][0],
            "decline": asking[1][0],
            "decliner_token": token_of(ensure_link(decliner)),
        }
        db.session.commit()
        db.session.remove()
    return found


def test_a_member_answers_the_season_poll_over_https(https_live, phone, world):
    from learnnet.planning.poll_models import PollAnswer, PollDate

    token = world["token"]
    phone.goto(f"{https_live.url}/m/{token}")
    phone.get_by_role("link", name="Vul de datumbevraging in").click()
    phone.wait_for_url(f"**/m/{token}/polls/{world['poll']}")
    dates = phone.locator("fieldset.poll-date")
    assert dates.count() == 3
    for i, choice in enumerate(["Kan", "Kan niet", "Kan"]):
        dates.nth(i).get_by_label(choice, exact=True).click()
    receive = dates.nth(2).get_by_label("Wij kunnen ontvangen")
    assert receive.count() == int(world["takes_turns"])
    if world["takes_turns"]:  # "kan ontvangen": only a facility that takes turns hosting
        receive.check()
    _submit(phone, phone.get_by_role("button", name="Bewaar mijn antwoorden"))
    assert "3 antwoorden bewaard" in _flash(phone)
    screenshot(phone, "https-poll-answer")
    with https_live.app.app_context():
        answers = db.session.execute(
            select(PollAnswer.answer, PollAnswer.host)
            .join(PollDate, PollDate.id == PollAnswer.poll_date_id)
            .where(PollDate.poll_id == world["poll"], PollAnswer.contact_id == world["sofie"])
            .order_by(PollDate.day)
        )
        assert [tuple(a) for a in answers] == [
            ("can", False),
            ("cannot", False),
            ("can", world["takes_turns"]),
        ]
        db.session.remove()


def test_a_member_writes_changes_and_removes_a_leervraag_over_https(https_live, phone, world):
    from learnnet.learning.models import LearningQuestion

    token = world["token"]
    phone.goto(f"{https_live.url}/m/{token}")
    phone.locator("#learning").get_by_role("link", name="leervraag").click()
    phone.wait_for_url(f"**/m/{token}/leervragen")
    phone.get_by_label("Voor").select_option(f"year-{world['network']}")
    phone.get_by_label("Je leervraag").fill("Hoe betrek ik grootouders die elke dag ophalen?")
    _submit(phone, phone.get_by_role("button", name="Bezorg aan de begeleider"))
    assert "De begeleider ziet je leervraag" in _flash(phone)
    row = phone.locator("#mine .question-row", has_text="grootouders die elke dag ophalen")
    assert row.count() == 1

    def mine() -> list[LearningQuestion]:
        with https_live.app.app_context():
            found = list(
                db.session.scalars(
                    select(LearningQuestion).where(
                        LearningQuestion.contact_id == world["sofie"],
                        LearningQuestion.text.contains("grootouders die elke dag ophalen"),
                    )
                )
            )
            db.session.expunge_all()
            db.session.remove()
        return found

    [question] = mine()
    assert question.network_id == world["network"] and question.session_id is None

    row.get_by_role("link", name="Aanpassen").click()
    phone.wait_for_url(f"**/leervragen/{question.id}#edit")
    phone.locator("#edit").get_by_label("Je leervraag").fill(
        "Hoe betrek ik grootouders die elke dag ophalen, ook bij het wennen?"
    )
    _submit(phone, phone.locator("#edit").get_by_role("button", name="Opslaan"))
    assert "Je leervraag is bewaard" in _flash(phone)
    [question] = mine()
    assert question.text.endswith("ook bij het wennen?")

    row = phone.locator(f"#question-{question.id}")
    _submit(phone, row.get_by_role("button", name="Verwijderen"))
    assert "Je leervraag is verwijderd" in _flash(phone)
    assert mine() == []


def test_a_member_marks_her_agreement_done_and_says_how_it_went_over_https(
    https_live, phone, world
):
    from learnnet.learning.minutes_models import ActionNote, ActionPoint

    token, action_id = world["token"], world["agreement"]
    phone.goto(f"{https_live.url}/m/{token}#afspraken")
    mine = phone.locator(f"#action-{action_id}")
    _submit(phone, mine.get_by_role("button", name="Gedaan"))
    assert "Aangeduid als gedaan" in _flash(phone)
    assert mine.locator(".chip", has_text="Gedaan").count() == 1
    with https_live.app.app_context():
        assert db.session.get(ActionPoint, action_id).done_at is not None
        db.session.remove()

    mine.get_by_role("link", name="Hoe ging het?").click()
    phone.wait_for_url(f"**/m/{token}/actions/{action_id}")
    phone.get_by_label("Hoe ging het?").fill("Drie ouders gaven het schema al mee aan oma.")
    _submit(phone, phone.get_by_role("button", name="Bewaren"))
    assert "Bewaard" in _flash(phone)
    screenshot(phone, "https-agreement-note")
    with https_live.app.app_context():
        notes = db.session.scalars(
            select(ActionNote.text).where(
                ActionNote.action_id == action_id, ActionNote.contact_id == world["sofie"]
            )
        )
        assert list(notes) == ["Drie ouders gaven het schema al mee aan oma."]
        db.session.remove()


def test_a_member_who_was_there_evaluates_over_https(https_live, phone, world):
    from learnnet.learning.evaluation_models import EvaluationResponse

    token, session_id = world["evaluator_token"], world["evaluated"]
    phone.goto(f"{https_live.url}/m/{token}")
    phone.locator(f"#evaluation a[href$='/sessions/{session_id}/evaluation']").click()
    phone.wait_for_url(f"**/m/{token}/sessions/{session_id}/evaluation")
    phone.get_by_role("radiogroup").first.get_by_role("radio", name="4").click()
    phone.get_by_label("Wat neem je mee?").fill("Een vaste plek voor de knuffels.")
    _submit(phone, phone.get_by_role("button", name="Verstuur mijn evaluatie"))
    assert "Bedankt voor je evaluatie!" in _flash(phone)
    with https_live.app.app_context():
        response = db.session.scalar(
            select(EvaluationResponse).where(
                EvaluationResponse.session_id == session_id,
                EvaluationResponse.contact_id == world["evaluator"],
            )
        )
        assert response is not None
        assert 4 in {a.score for a in response.answers}
        assert "Een vaste plek voor de knuffels." in {a.text for a in response.answers}
        db.session.remove()


def test_a_member_shares_and_deletes_a_file_over_https(https_live, phone, world, tmp_path):
    from learnnet.learning.material_models import Material
    from tests import material_files

    handout = tmp_path / "wenschema-https.pdf"
    handout.write_bytes(material_files.pdf())
    token = world["token"]
    phone.goto(f"{https_live.url}/m/{token}#materials")
    phone.locator("#materials").get_by_role("link", name="Een bestand delen").click()
    phone.wait_for_url(f"**/m/{token}/materials")
    phone.get_by_label("Bijeenkomst").select_option(str(world["minutes_session"]))
    phone.get_by_label("Bestand", exact=True).set_input_files(str(handout))
    _submit(phone, phone.get_by_role("button", name="Delen", exact=True))
    assert "“wenschema-https.pdf” is toegevoegd" in _flash(phone)
    entry = phone.locator("#materials li.material", has_text="wenschema-https.pdf")
    assert entry.count() == 1

    def shared() -> list[tuple[int | None, int | None]]:
        with https_live.app.app_context():
            rows = db.session.execute(
                select(Material.session_id, Material.uploaded_by_contact_id).where(
                    Material.name == "wenschema-https.pdf"
                )
            )
            found = [tuple(r) for r in rows]
            db.session.remove()
        return found

    assert shared() == [(world["minutes_session"], world["sofie"])]
    entry.locator("summary", has_text="Verwijderen").click()
    _submit(phone, entry.get_by_role("button", name="Ja, wenschema-https.pdf verwijderen"))
    assert "“wenschema-https.pdf” is verwijderd" in _flash(phone)
    assert shared() == []


def test_a_member_writes_to_the_facilitator_and_chooses_confirmations_over_https(
    https_live, phone, world
):
    from learnnet.rsvp.models import MemberMessage

    token = world["token"]
    phone.goto(f"{https_live.url}/m/{token}#contact")
    box = phone.locator("#contact")
    box.locator("summary", has_text="Stuur een bericht").click()
    about = box.get_by_label("Over")
    session_id = about.locator("option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)[0]"
    )
    about.select_option(session_id)
    box.get_by_label("Je bericht").fill("Ik kom een kwartiertje later door de opvang.")
    _submit(phone, box.get_by_role("button", name="Versturen"))
    assert "Je bericht is naar de begeleider gestuurd" in _flash(phone)
    with https_live.app.app_context():
        sent = db.session.scalar(
            select(MemberMessage).where(
                MemberMessage.contact_id == world["sofie"],
                MemberMessage.body == "Ik kom een kwartiertje later door de opvang.",
            )
        )
        assert sent is not None and sent.session_id == int(session_id)
        db.session.remove()

    def choice() -> bool:
        with https_live.app.app_context():
            wanted = db.session.get(Contact, world["sofie"]).confirm_by_mail
            db.session.remove()
        return wanted

    before = choice()
    confirmations = phone.locator("#confirmations")
    confirmations.get_by_role("checkbox").set_checked(not before)
    _submit(phone, confirmations.get_by_role("button", name="Opslaan"))
    assert "bevestigingsmail" in _flash(phone)
    assert choice() is (not before)
    phone.locator("#confirmations").get_by_role("checkbox").set_checked(before)
    _submit(phone, phone.locator("#confirmations").get_by_role("button", name="Opslaan"))
    assert choice() is before


@pytest.mark.parametrize("decision", ["accept", "decline"])
def test_a_facility_answers_a_networks_request_over_https(https_live, phone, world, decision):
    from learnnet.networks.models import Membership, MembershipRequest

    request_id = world[decision]
    token = world["token"] if decision == "accept" else world["decliner_token"]
    phone.goto(f"{https_live.url}/m/{token}#requests")
    form = phone.locator(f"form[action$='/requests/{request_id}']")
    button = "Aanvaarden" if decision == "accept" else "Weigeren"
    _submit(phone, form.get_by_role("button", name=button))
    said = "Jullie voorziening is nu lid van" if decision == "accept" else "Geweigerd:"
    assert said in _flash(phone)
    assert phone.locator(f"form[action$='/requests/{request_id}']").count() == 0
    with https_live.app.app_context():
        asked = db.session.get(MembershipRequest, request_id)
        assert asked.status == ("accepted" if decision == "accept" else "declined")
        member = db.session.scalar(
            select(Membership.id).where(
                Membership.network_id == asked.network_id,
                Membership.facility_id == asked.facility_id,
                Membership.left_on.is_(None),
            )
        )
        assert (member is not None) is (decision == "accept")
        db.session.remove()


def _hosted_session(live: Live, *, under_way: bool) -> tuple[int, int, str]:
    """A session of another facility than Sofie's with the token of a contact of its host
    facility: the last one planned, or (``under_way``) one moved to this very hour, where
    the host may check people in. Session id, host contact id, token."""
    with live.app.app_context():
        sofie = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        query = (
            select(Session)
            .where(Session.starts_at > utcnow() + timedelta(days=2))
            .where(Session.status != "cancelled", Session.host_facility_id != sofie.facility_id)
            .order_by(Session.starts_at.desc() if not under_way else Session.starts_at)
        )
        session, host = next(
            (s, c)
            for s in db.session.scalars(query)
            for c in s.host.contacts
            if c.active and c.email
        )
        if under_way:  # as the facilitator would move it, and allow the host's check-in
            session.starts_at = utcnow() - timedelta(minutes=10)
            session.ends_at = utcnow() + timedelta(hours=2)
            attendance.set_host_checkin(session, True)
        found = (session.id, host.id, token_of(ensure_link(host)))
        db.session.commit()
        db.session.remove()
    return found


def test_a_host_fills_in_what_it_shows_then_declines_over_https(https_live, phone):
    session_id, host_id, token = _hosted_session(https_live, under_way=False)
    phone.goto(f"{https_live.url}/m/{token}?all=1#session-{session_id}")
    box = phone.locator(f"#host-{session_id}")
    box.locator("summary", has_text="Wat we tonen, parkeren en ingang").click()
    box.get_by_label("Wat we tonen").fill("Onze nieuwe buitenspeelplaats met de moestuin.")
    _submit(phone, box.locator("form[action$='/host/details'] button"))
    assert "Wie komt, ziet het op de eigen pagina" in _flash(phone)
    with https_live.app.app_context():
        session = db.session.get(Session, session_id)
        assert session.host_showcase == "Onze nieuwe buitenspeelplaats met de moestuin."
        db.session.remove()

    phone.goto(f"{https_live.url}/m/{token}?all=1#session-{session_id}")
    box = phone.locator(f"#host-{session_id}")
    box.locator("summary", has_text="Nee, het lukt niet").click()
    box.get_by_label("Reden (niet verplicht)").fill("Onze leefruimte wordt geschilderd.")
    _submit(phone, box.get_by_role("button", name="Laat de begeleider weten dat het niet lukt"))
    assert "De begeleider is verwittigd" in _flash(phone)
    with https_live.app.app_context():
        session = db.session.get(Session, session_id)
        assert session.host_declined_at is not None and session.host_declined_by_id == host_id
        assert session.host_declined_reason == "Onze leefruimte wordt geschilderd."
        db.session.remove()


def test_a_host_checks_people_in_and_a_member_says_she_is_here_over_https(https_live, phone):
    """The host's check-in list through the personal link (a tap on "Aanwezig"), and a
    member's "Ik ben er" on her own page, during a session under way."""
    session_id, host_id, token = _hosted_session(https_live, under_way=True)
    phone.goto(f"{https_live.url}/m/{token}")
    phone.locator(f"#host-{session_id}").get_by_role("link", name="Aanwezigheid noteren").click()
    phone.wait_for_url(f"**/m/{token}/sessions/{session_id}/checkin")
    me = phone.locator(f"#p-c{host_id}")
    me.locator("button.mark-present").click()
    phone.locator(f"#p-c{host_id}.status-present").wait_for()
    assert "Bad Request" not in phone.content()
    screenshot(phone, "https-host-checkin")

    with https_live.app.app_context():
        session = db.session.get(Session, session_id)
        row = db.session.scalar(
            select(Attendance).where(
                Attendance.session_id == session_id, Attendance.contact_id == host_id
            )
        )
        assert row is not None and row.status == "present"
        member = next(
            c
            for m in session.network.memberships
            if m.left_on is None
            for c in m.facility.contacts
            if c.active and c.id != host_id
        )
        member_id, member_token = member.id, token_of(ensure_link(member))
        db.session.commit()
        db.session.remove()
    phone.goto(f"{https_live.url}/m/{member_token}")
    _submit(phone, phone.locator(f"#session-{session_id}").get_by_role("button", name="Ik ben er"))
    assert "Je aanwezigheid is genoteerd" in _flash(phone)
    with https_live.app.app_context():
        row = db.session.scalar(
            select(Attendance).where(
                Attendance.session_id == session_id, Attendance.contact_id == member_id
            )
        )
        assert row is not None and row.status == "present"
        db.session.remove()
