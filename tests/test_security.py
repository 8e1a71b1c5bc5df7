"""Headers, CSRF, body limits, host checks, production start-up checks, error pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from learnnet import create_app
from learnnet.config import DEFAULT_SECRET_KEY, ConfigError, env_overrides
from tests import factories
from tests.conftest import login

GOOD_KEY = "3Q9pTjZ8JcFeA9nLzyVEDh6K0m-27to8jFZVWXojyzK5iSFnunDUxHJRLbWWkKP_"  # token_urlsafe(48)


def production_config(**extra):
    config = {
        "ENV": "production",
        "SECRET_KEY": GOOD_KEY,
        "TRUSTED_HOSTS": ["learnnet.example.org"],
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
        "DATABASE_URL": "sqlite://",
        "BASE_URL": "https://learnnet.example.org",
    }
    config.update(extra)
    return config


def test_every_response_carries_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # laptop: http


def test_pages_have_no_inline_script_or_style(logged_in, network):
    html = logged_in.get(f"/networks/{network.slug}").get_data(as_text=True)
    assert "<script>" not in html
    assert "style=" not in html
    assert "onclick" not in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "missing"),
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "default"),
        ({"SECRET_KEY": "short-key"}, "too short"),
        ({"DEBUG": True}, "Debug"),
        ({"TRUSTED_HOSTS": None}, "TRUSTED_HOSTS"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "memory://"),
        # Long but weak keys (issue 19.15).
        ({"SECRET_KEY": "a" * 32}, "not random"),
        ({"SECRET_KEY": " " * 32}, "only spaces"),
        ({"SECRET_KEY": "0123456789" * 4}, "not random"),
        ({"SECRET_KEY": "abcdefgh" * 6}, "not random"),
        # Links in mail from cron (issue 19.14).
        ({"BASE_URL": "http://learnnet.example.org"}, "must be the site's https address"),
        ({"BASE_URL": "http://127.0.0.1:5000"}, "must be the site's https address"),
        ({"BASE_URL": "https://other.example.org"}, "not in LEARNNET_TRUSTED_HOSTS"),
        ({"BASE_URL": "learnnet.example.org"}, "https"),
    ],
)
def test_production_refuses_unsafe_configuration(tmp_path: Path, change, message):
    with pytest.raises(ConfigError, match=message):
        create_app(production_config(**change), instance_path=str(tmp_path))


def test_generated_secret_keys_are_accepted():
    import secrets

    from learnnet.config import secret_key_problem

    for _ in range(2000):  # hex has 16 symbols: the least varied of the usual generators
        for key in (secrets.token_hex(16), secrets.token_urlsafe(48)):
            assert secret_key_problem(key) is None, key
    assert secret_key_problem("correct horse battery staple, and a pony") is None


def test_production_accepts_its_base_url_with_a_port_or_a_subdomain_pattern(tmp_path: Path):
    create_app(
        production_config(BASE_URL="https://learnnet.example.org:8443/"),
        instance_path=str(tmp_path),
    )
    create_app(
        production_config(TRUSTED_HOSTS=[".example.org"], BASE_URL="https://www.example.org"),
        instance_path=str(tmp_path),
    )


@pytest.mark.parametrize("command", [["send-reminders"], ["member-link", "sofie@example.org"]])
def test_cron_commands_explain_a_base_url_the_hosts_do_not_trust(app_factory, command):
    """Before: AttributeError ('NoneType' object has no attribute 'build') from url_for."""
    app = app_factory(TRUSTED_HOSTS=["learnnet.example.org"], BASE_URL="https://other.example")
    with app.app_context():
        facility = factories.facility()
        factories.contact(facility, email="sofie@example.org")
        from learnnet.extensions import db

        db.session.commit()
        result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, AttributeError)
    assert "not in LEARNNET_TRUSTED_HOSTS" in result.output


def test_production_sends_hsts_secure_cookies_and_refuses_unknown_hosts(tmp_path: Path):
    app = create_app(production_config(), instance_path=str(tmp_path))
    client = app.test_client()
    response = client.get("/login", base_url="https://learnnet.example.org")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert all("Secure" in h for h in cookie)
    assert client.get("/login", base_url="https://evil.example").status_code == 400


def test_production_error_page_shows_no_traceback(tmp_path: Path):
    app = create_app(production_config(), instance_path=str(tmp_path))

    @app.route("/boom")
    def boom():  # pragma: no cover - the body raises
        raise RuntimeError("secret internals")

    boom.access_rule = "public"
    response = app.test_client().get("/boom", base_url="https://learnnet.example.org")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in html
    assert "secret internals" not in html


def test_environment_variables_override_configuration():
    values = env_overrides(
        {
            "LEARNNET_DATABASE_URL": "postgresql+psycopg://x/y",
            "LEARNNET_MAX_CONTENT_LENGTH": "1000",
            "LEARNNET_TRUSTED_HOSTS": "a.example.org, b.example.org",
            "LEARNNET_TEST_DATABASE_URL": "ignored",
            "OTHER": "ignored",
        }
    )
    assert values == {
        "DATABASE_URL": "postgresql+psycopg://x/y",
        "MAX_CONTENT_LENGTH": 1000,
        "TRUSTED_HOSTS": ["a.example.org", "b.example.org"],
    }


def test_laptop_install_gets_a_random_secret_key_once(tmp_path: Path):
    first = create_app({"DATABASE_URL": "sqlite://"}, instance_path=str(tmp_path))
    second = create_app({"DATABASE_URL": "sqlite://"}, instance_path=str(tmp_path))
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_instance_config_file_is_read(tmp_path: Path):
    (tmp_path / "config.py").write_text("DEFAULT_TIMEZONE = 'Europe/Amsterdam'\n")
    app = create_app({"DATABASE_URL": "sqlite://"}, instance_path=str(tmp_path))
    assert app.config["DEFAULT_TIMEZONE"] == "Europe/Amsterdam"


def test_post_without_csrf_token_is_refused(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = factories.user(email="x@example.org")
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
        assert response.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        from tests.conftest import csrf_token_from

        token = csrf_token_from(page)
        ok = client.post(
            "/login",
            data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
        )
        assert ok.status_code == 302
        assert client.post("/logout").status_code == 400  # no token: still logged in
        assert client.get("/").status_code == 200


def test_request_bodies_are_size_limited(logged_in, network):
    response = logged_in.post(
        f"/networks/{network.slug}/edit", data={"name": "x" * (3 * 1024 * 1024)}
    )
    assert response.status_code == 303
    assert response.location == f"/networks/{network.slug}/edit"
    assert "te groot" in logged_in.get(response.location).get_data(as_text=True)


def test_unknown_ids_answer_404_not_500(logged_in, network):
    for url in [
        "/networks/nope",
        "/facilities/99999",
        "/contacts/99999/edit",
        "/facilities/99999/edit",
    ]:
        assert logged_in.get(url).status_code == 404


def test_404_page_is_friendly_and_dutch(client):
    response = client.get("/does-not-exist")
    assert response.status_code == 404
    assert "bestaat niet" in response.get_data(as_text=True)


def test_admin_can_not_lock_themselves_out(client, admin):
    login(client, admin.email)
    response = client.post(
        f"/admin/users/{admin.id}/edit",
        data={"name": admin.name, "email": admin.email, "role": "facilitator", "active": "y"},
    )
    assert response.status_code == 200
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize("env", ["Production", "prod", "staging", ""])
def test_an_unknown_environment_is_refused_at_start(tmp_path: Path, env):
    with pytest.raises(ConfigError, match="LEARNNET_ENV"):
        create_app(production_config(ENV=env), instance_path=str(tmp_path))


def test_production_links_are_https_without_forwarded_proto(tmp_path: Path):
    from flask import url_for

    app = create_app(production_config(), instance_path=str(tmp_path))
    seen = {}

    @app.get("/_probe")
    def _probe():  # a route of the test only
        seen["url"] = url_for("auth.login", _external=True)
        return "ok"

    _probe.access_rule = "public"
    app.test_client().get("/_probe", base_url="http://learnnet.example.org")
    assert seen["url"] == "https://learnnet.example.org/login"


def test_the_host_check_ignores_case(tmp_path: Path):
    app = create_app(
        production_config(TRUSTED_HOSTS=["LearnNet.Example.org"]), instance_path=str(tmp_path)
    )
    client = app.test_client()
    assert client.get("/login", base_url="https://LEARNNET.example.ORG").status_code == 200
    assert client.get("/login", base_url="https://learnnet.example.org.evil").status_code == 400
