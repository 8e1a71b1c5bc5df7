"""Accounts by mail: an admin's invitation and a forgotten password, both one-time links."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from itsdangerous import base64_decode
from sqlalchemy import select

from learnnet.auth import services
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from tests import factories
from tests.conftest import login

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "a fresh password 123"


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(query))


def link_path(message: OutboxMessage, kind: str) -> str:
    """The path of the one-time link in a message; text and HTML carry the same link."""
    match = re.search(rf"https?://\S+/account/{kind}/\S+", message.text_body)
    assert match, message.text_body
    assert match.group(0) in message.html_body
    return urlsplit(match.group(0)).path


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(
        path, data={"new_password": password, "confirm": password if confirm is None else confirm}
    )


def invite(client, admin, **fields):
    login(client, admin.email)
    data = {"name": "Nieuwe Begeleider", "email": "New@Example.org", "role": "facilitator"}
    data.update(fields)
    return client.post("/admin/users/new", data=data)


# --- invitation ---------------------------------------------------------------


def test_an_admin_invites_instead_of_choosing_a_password(client, admin):
    page = client.get("/admin/users/new")
    assert page.status_code == 302  # not logged in yet
    login(client, admin.email)
    html = client.get("/admin/users/new").get_data(as_text=True)
    assert 'type="password"' not in html
    response = invite(client, admin, locale="en")
    assert response.status_code == 302
    user = services.user_by_email("new@example.org")
    assert user is not None and user.active and user.last_login_at is None
    # Nobody knows the password the account starts with.
    assert login(client.application.test_client(), "new@example.org", "").status_code == 200
    [message] = outbox("account_invite")
    assert message.recipient == "new@example.org"
    assert message.subject == "Your learnnet account: choose your password"
    assert "Admin has made a learnnet account for you." in message.text_body
    assert 'lang="en"' in message.html_body
    assert link_path(message, "welcome").startswith("/account/welcome/")


def test_the_invitation_speaks_the_language_chosen_for_the_account(client, admin):
    invite(client, admin, locale="nl")
    [message] = outbox("account_invite")
    assert 'lang="nl"' in message.html_body
    assert services.user_by_email("new@example.org").locale == "nl"


def test_an_invitation_needs_a_free_email_address(client, admin, facilitator):
    response = invite(client, admin, email=facilitator.email.upper())
    assert response.status_code == 200
    assert outbox() == []


def test_the_welcome_link_sets_the_password_once_and_logs_in(app, client, admin):
    invite(client, admin, locale="en")
    path = link_path(outbox("account_invite")[0], "welcome")
    visitor = app.test_client()
    page = visitor.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Welcome to learnnet, Nieuwe Begeleider" in html
    assert page.headers["Referrer-Policy"] == "strict-origin"
    assert page.headers["Cache-Control"] == "private, no-store"

    short = choose(visitor, path, "short")
    assert short.status_code == 200
    assert 'id="new_password-error"' in short.get_data(as_text=True)
    differ = choose(visitor, path, NEW_PASSWORD, "something else entirely")
    assert 'id="confirm-error"' in differ.get_data(as_text=True)

    done = choose(visitor, path)
    assert done.status_code == 302
    assert done.location == "/"
    assert visitor.get("/").status_code == 200  # logged in
    assert services.user_by_email("new@example.org").last_login_at is not None
    assert login(app.test_client(), "new@example.org", NEW_PASSWORD).status_code == 302

    again = app.test_client()
    used = again.get(path)
    assert used.status_code == 404
    assert "/account/forgot" in used.get_data(as_text=True)
    assert choose(again, path, "yet another password!").status_code == 404
    assert login(app.test_client(), "new@example.org", "yet another password!").status_code == 200


def test_an_expired_invitation_is_refused(app_factory):
    app = app_factory(ACCOUNT_INVITE_MAX_AGE=-1)
    with app.app_context():
        user = factories.user(email="late@example.org")
        token = services.make_account_token(user, services.INVITE)
        assert services.user_for_account_token(token, services.INVITE) is None
        assert app.test_client().get(f"/account/welcome/{token}").status_code == 404
        assert services.user_for_account_token(token, services.INVITE, max_age=60) is user


def test_a_token_expires_after_its_max_age(app, facilitator):
    token = services.make_account_token(facilitator, services.RESET)
    assert services.user_for_account_token(token, services.RESET) is facilitator
    assert services.user_for_account_token(token, services.RESET, max_age=-1) is None


def test_resending_an_invitation_replaces_the_earlier_link(app, client, admin):
    invite(client, admin, locale="en")
    user = services.user_by_email("new@example.org")
    first = link_path(outbox("account_invite")[0], "welcome")
    html = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert f'action="/admin/users/{user.id}/invite"' in html
    assert client.post(f"/admin/users/{user.id}/invite").status_code == 302
    messages = outbox("account_invite")
    assert len(messages) == 2
    second = link_path(messages[1], "welcome")
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200


def test_no_new_invitation_once_the_account_was_used(app, client, admin, facilitator):
    login(app.test_client(), facilitator.email)  # sets last_login_at
    login(client, admin.email)
    html = client.get(f"/admin/users/{facilitator.id}/edit").get_data(as_text=True)
    assert "/invite" not in html
    assert client.post(f"/admin/users/{facilitator.id}/invite").status_code == 302
    assert outbox() == []


def test_only_admins_send_invitations(app, logged_in, facilitator):
    other = factories.user(email="fresh@example.org")
    assert logged_in.post(f"/admin/users/{other.id}/invite").status_code == 403
    assert logged_in.post("/admin/users/new", data={"name": "x"}).status_code == 403
    assert outbox() == []


def test_deactivating_or_renaming_the_address_ends_an_invitation(app, client, admin):
    invite(client, admin, locale="en")
    user = services.user_by_email("new@example.org")
    path = link_path(outbox("account_invite")[0], "welcome")
    services.update_user(
        user, name=user.name, email="moved@example.org", role=user.role, active=True
    )
    assert app.test_client().get(path).status_code == 404

    token = services.make_account_token(user, services.INVITE)
    services.update_user(user, name=user.name, email=user.email, role=user.role, active=False)
    assert app.test_client().get(f"/account/welcome/{token}").status_code == 404


# --- forgotten password -------------------------------------------------------


def test_login_page_links_to_forgot_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/account/forgot"' in html


def test_forgot_gives_the_same_answer_for_known_and_unknown_addresses(app, facilitator):
    known = app.test_client().post(
        "/account/forgot", buffered=True, data={"email": facilitator.email}, headers=EN
    )
    unknown = app.test_client().post(
        "/account/forgot", buffered=True, data={"email": "nobody@example.org"}, headers=EN
    )
    assert known.status_code == unknown.status_code == 200
    known_text = known.get_data(as_text=True).replace(facilitator.email, "ADDRESS")
    unknown_text = unknown.get_data(as_text=True).replace("nobody@example.org", "ADDRESS")
    assert known_text == unknown_text
    assert "If an account exists for ADDRESS" in known_text
    [message] = outbox()
    assert message.kind == "password_reset"
    assert message.recipient == facilitator.email


def test_forgot_is_case_insensitive_and_speaks_the_page_language(app, facilitator):
    app.test_client().post(
        "/account/forgot", buffered=True, data={"email": " AN@Example.ORG "}, headers=EN
    )
    [message] = outbox("password_reset")
    assert message.recipient == "an@example.org"
    assert message.subject == "Choose a new learnnet password"
    assert "expires after 1 hour" in message.text_body


def test_the_accounts_own_language_wins_for_the_reset_mail(app, facilitator):
    facilitator.locale = "nl"
    db.session.commit()
    app.test_client().post(
        "/account/forgot", buffered=True, data={"email": facilitator.email}, headers=EN
    )
    [message] = outbox("password_reset")
    assert 'lang="nl"' in message.html_body


def test_an_inactive_account_gets_no_reset_mail(app, facilitator):
    facilitator.active = False
    db.session.commit()
    response = app.test_client().post(
        "/account/forgot", buffered=True, data={"email": facilitator.email}
    )
    assert response.status_code == 200
    assert outbox() == []


def test_forgot_form_validates_the_address(client):
    response = client.post("/account/forgot", buffered=True, data={"email": "not an address"})
    assert response.status_code == 200
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert outbox() == []


def _reset_path(app, user) -> str:
    app.test_client().post("/account/forgot", buffered=True, data={"email": user.email})
    return link_path(outbox("password_reset")[-1], "reset")


def test_the_reset_link_works_once_and_ends_other_logins(app, facilitator):
    laptop = app.test_client()
    login(laptop, facilitator.email)
    path = _reset_path(app, facilitator)
    phone = app.test_client()
    page = phone.get(path, headers=EN)
    assert page.status_code == 200
    assert "Choose a new password" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "strict-origin"
    assert page.headers["Cache-Control"] == "private, no-store"
    assert choose(phone, path).status_code == 302
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 302  # the old login ended
    assert login(app.test_client(), facilitator.email, NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), facilitator.email).status_code == 200  # old password
    assert app.test_client().get(path).status_code == 404
    assert choose(app.test_client(), path, "another password 456").status_code == 404


def test_a_reset_link_stops_working_after_a_password_change(app, client, facilitator):
    path = _reset_path(app, facilitator)
    login(client, facilitator.email)
    client.post(
        "/account",
        data={
            "password-current_password": factories.PASSWORD,
            "password-new_password": "changed on purpose",
            "password-confirm": "changed on purpose",
            "password-submit": "1",
        },
    )
    assert app.test_client().get(path).status_code == 404


def test_a_newer_reset_link_does_not_revive_a_used_one(app, facilitator):
    first = _reset_path(app, facilitator)
    second = _reset_path(app, facilitator)
    assert choose(app.test_client(), second).status_code == 302
    assert app.test_client().get(first).status_code == 404


def test_an_expired_reset_link_is_refused(app_factory):
    app = app_factory(PASSWORD_RESET_MAX_AGE=-1)
    with app.app_context():
        user = factories.user(email="late@example.org")
        path = _reset_path(app, user)
        assert app.test_client().get(path).status_code == 404


def test_invitation_and_reset_tokens_are_not_interchangeable(app, facilitator):
    reset = services.make_account_token(facilitator, services.RESET)
    invite_token = services.make_account_token(facilitator, services.INVITE)
    client = app.test_client()
    assert client.get(f"/account/welcome/{reset}").status_code == 404
    assert client.get(f"/account/reset/{invite_token}").status_code == 404
    assert client.get(f"/account/reset/{reset}").status_code == 200


def test_the_link_does_not_carry_the_login_token(app, facilitator):
    token = services.make_account_token(facilitator, services.RESET)
    payload = json.loads(base64_decode(token.split(".")[0]))
    assert payload["u"] == facilitator.id
    assert facilitator.auth_token not in token
    assert payload["t"] != facilitator.auth_token


def test_a_token_signed_with_another_key_is_refused(app_factory, db_url):
    app = app_factory()
    with app.app_context():
        user = factories.user(email="x@example.org")
        token = services.make_account_token(user, services.RESET)
        app.config["SECRET_KEY"] = "another-secret-" + "z" * 40
        assert services.user_for_account_token(token, services.RESET) is None


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "a.b.c",
        "eyJ1IjoxLCJ0IjoieCJ9.ZZZZZZ.not-a-signature",
        "A" * 10_000,
        "%00%ff",
        "%C3%A9t%C3%A9",
        "..",
    ],
)
@pytest.mark.parametrize("kind", ["reset", "welcome"])
def test_garbage_tokens_never_fail(client, facilitator, token, kind):
    for method in ("GET", "POST"):
        response = client.open(
            f"/account/{kind}/{token}",
            method=method,
            data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        # A NUL character is refused for every input alike (400); anything else is 404.
        expected = 400 if "%00" in token else 404
        assert response.status_code == expected, (method, response.status_code)
    assert login(client, facilitator.email).status_code == 302


def test_a_tampered_token_is_refused(app, facilitator):
    token = services.make_account_token(facilitator, services.RESET)
    # Change a character in the middle of the signature (the last base64 character
    # may only carry padding bits, so changing it can leave the bytes the same).
    head, signature = token.rsplit(".", 1)
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    tampered = f"{head}.{signature[:middle]}{changed}{signature[middle + 1 :]}"
    assert app.test_client().get(f"/account/reset/{tampered}").status_code == 404
    other = factories.user(email="other@example.org")
    forged = services.make_account_token(other, services.RESET).split(".")
    mine = token.split(".")
    swapped = ".".join([forged[0], mine[1], mine[2]])
    assert app.test_client().get(f"/account/reset/{swapped}").status_code == 404


def test_forgot_is_limited_per_address_asked_for(app_factory):
    app = app_factory(PASSWORD_RESET_LIMIT_PER_ACCOUNT="3 per hour")
    with app.app_context():
        user = factories.user(email="x@example.org")
        for _ in range(3):
            assert (
                app.test_client()
                .post("/account/forgot", buffered=True, data={"email": user.email})
                .status_code
                == 200
            )
        blocked = app.test_client().post(
            "/account/forgot", buffered=True, data={"email": "X@example.org"}
        )
        assert blocked.status_code == 429
        assert len(outbox("password_reset")) == 3
        other = app.test_client().post(
            "/account/forgot", buffered=True, data={"email": "y@example.org"}
        )
        assert other.status_code == 200


def test_forgot_is_limited_per_client_address(app_factory):
    app = app_factory(PASSWORD_RESET_LIMIT_PER_ADDRESS="3 per hour")
    with app.app_context():
        for n in range(3):
            response = app.test_client().post(
                "/account/forgot", buffered=True, data={"email": f"guess{n}@example.org"}
            )
            assert response.status_code == 200
        blocked = app.test_client().post(
            "/account/forgot", buffered=True, data={"email": "guess9@example.org"}
        )
        assert blocked.status_code == 429


def test_reset_mail_goes_after_the_response_so_timing_reveals_nothing(app, facilitator):
    response = app.test_client().post("/account/forgot", data={"email": facilitator.email})
    assert outbox() == []  # nothing looked up, written or sent while the answer goes out
    response.close()  # the server closes the response once it is sent
    [message] = outbox("password_reset")
    assert message.status == "sent"
    assert len(list(Path(app.instance_path).glob("outbox/*.eml"))) == 1


def test_known_and_unknown_addresses_cost_the_answer_the_same_statements(app, facilitator):
    """Issue 19.16: the answer for an existing account came 1.1 ms later (median of 40
    pairs): it looked the account up, wrote the mail and committed before answering."""
    from sqlalchemy import event

    from tests.conftest import QueryCounter

    answered: dict[str, list[str]] = {}
    for email in (facilitator.email, "nobody@example.org"):
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            response = app.test_client().post("/account/forgot", data={"email": email})
            answered[email] = list(counter.statements)  # up to the answer
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        assert response.status_code == 200
        response.close()
    assert answered[facilitator.email] == answered["nobody@example.org"]
    assert [m.recipient for m in outbox("password_reset")] == [facilitator.email]


def test_a_reset_while_logged_in_as_someone_else_logs_in_as_the_links_owner(app, client, admin):
    other = factories.user(email="owner@example.org", name="Link Owner")
    login(client, admin.email)
    path = _reset_path(app, other)
    assert choose(client, path).status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert "Dag Link" in html  # greeted by the owner's first name
    assert db.session.get(User, other.id).last_login_at is not None


def test_of_two_simultaneous_uses_of_a_link_only_one_sets_the_password(app, facilitator):
    token = services.make_account_token(facilitator, services.RESET)
    user = services.user_for_account_token(token, services.RESET)  # request A checks the link
    assert user is not None
    with app.app_context():  # request B, with its own database session, uses it meanwhile
        other = services.user_for_account_token(token, services.RESET)
        assert services.set_password_by_link(other, "first password wins")
    assert not services.set_password_by_link(user, "second password loses")
    assert login(app.test_client(), facilitator.email, "first password wins").status_code == 302
    assert login(app.test_client(), facilitator.email, "second password loses").status_code == 200
