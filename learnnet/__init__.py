"""learnnet: organise learning networks of childcare facilities."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, abort, flash, g, redirect, render_template, request
from flask import session as flask_session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from learnnet.config import (
    MIGRATIONS,
    ROOT,
    Defaults,
    check_environment,
    check_production,
    ensure_instance_secret,
    env_overrides,
)
from learnnet.extensions import babel, csrf, db, limiter, login_manager
from learnnet.logredact import RedactTokens as _RedactTokens  # noqa: F401 - tests import it
from learnnet.logredact import install as _redact_tokens_in_logs
from learnnet.origin import comes_from_here

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI and error pages.

    ``instance_path`` defaults to ``instance/`` at the top of the checkout (or
    ``LEARNNET_INSTANCE_PATH``); tests pass a temporary folder.
    """
    app = Flask(
        __name__,
        instance_path=instance_path
        or os.environ.get("LEARNNET_INSTANCE_PATH")
        or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _configure(app, config or {})
    _register_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_errors(app)
    from learnnet.cli import register_cli

    register_cli(app)
    return app


def _configure(app: Flask, overrides: dict[str, Any]) -> None:
    """Defaults < instance/config.py < LEARNNET_* environment < overrides."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(env_overrides())
    app.config.update(overrides)
    check_environment(app.config)
    production = app.config["ENV"] == "production"
    if app.config.get("TRUSTED_HOSTS"):  # host names compare without regard to case
        app.config["TRUSTED_HOSTS"] = [h.lower() for h in app.config["TRUSTED_HOSTS"]]

    instance = Path(app.instance_path)
    if not production and app.config["SECRET_KEY"] == Defaults.SECRET_KEY:
        # A laptop install gets its own random key on first start.
        app.config["SECRET_KEY"] = ensure_instance_secret(instance)
    if production:
        check_production(app.config)
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"

    url = app.config.get("DATABASE_URL") or ""
    if not url:
        instance.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{instance / 'learnnet.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)

    # Inside ProxyFix: a forwarded Host is lower-cased too, and https wins in production.
    app.wsgi_app = _Normalise(app.wsgi_app, https=production)  # type: ignore[method-assign]
    proxies = int(app.config.get("PROXY_FIX", 0) or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    if not app.debug:
        logging.basicConfig(level=logging.INFO)


class _Normalise:
    """WSGI: the Host header in lower case; in production every link is https.

    Behind a proxy that forgets X-Forwarded-Proto, links in mail and feeds would
    otherwise say http://. Runs inside ProxyFix, so a forwarded host is normalised too.
    """

    def __init__(self, wsgi_app: Any, https: bool) -> None:
        self.wsgi_app = wsgi_app
        self.https = https

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if "HTTP_HOST" in environ:
            environ["HTTP_HOST"] = environ["HTTP_HOST"].lower()
        if self.https:
            environ["wsgi.url_scheme"] = "https"
        return self.wsgi_app(environ, start_response)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: enforce foreign keys, WAL for concurrent readers, wait instead of failing."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # Writers queue for the lock; under load a short wait starved some (a 500).
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def select_locale() -> str:
    """The user's own setting, else the language picked this visit, else the browser's."""
    from flask import current_app

    languages = list(current_app.config["LANGUAGES"])
    if g.get("member_locale") in languages:  # a personal link speaks its contact's language
        return g.member_locale
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = flask_session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _register_extensions(app: Flask) -> None:
    db.init_app(app)
    if app.config["MIGRATION_COMMANDS"]:
        # Alembic weighs 12 MB a process: only where migrations run (the flask command,
        # the tests), not in the workers of gunicorn.conf.py. Imported after logging is
        # set up, its plugins would announce themselves on every command (cron mail).
        plugins = logging.getLogger("alembic.runtime.plugins")
        level = plugins.level
        plugins.setLevel(logging.WARNING)
        try:
            from flask_migrate import Migrate
        finally:
            plugins.setLevel(level)

        Migrate(compare_type=True, render_as_batch=True).init_app(
            app, db, directory=str(MIGRATIONS)
        )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = "basic"

    from learnnet.auth.services import load_user_from_session

    login_manager.user_loader(load_user_from_session)


class IdConverter(IntegerConverter):
    """``<int:...>`` in URLs, capped at the largest database integer: a huge id is a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    from learnnet.attendance import bp as attendance_bp
    from learnnet.auth import bp as auth_bp
    from learnnet.calendar import bp as calendar_bp
    from learnnet.networks import bp as networks_bp
    from learnnet.pages import bp as pages_bp
    from learnnet.planning import plan_views, poll_views  # noqa: F401  (its routes register on bp)
    from learnnet.planning.blueprint import bp as planning_bp
    from learnnet.rsvp import bp as rsvp_bp
    from learnnet.sessions import recovery_views, views  # noqa: F401  (likewise)
    from learnnet.sessions.blueprint import bp as sessions_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(networks_bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(rsvp_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(attendance_bp)
    from learnnet.privacy import bp as privacy_bp

    app.register_blueprint(privacy_bp)
    from learnnet.audit import bp as audit_bp

    app.register_blueprint(audit_bp)
    from learnnet.learning import bp as learning_bp

    app.register_blueprint(learning_bp)
    from learnnet.learning.record_views import init_app as record_init

    record_init(app)  # the yearly record (jaaroverzicht): its own blueprint
    from learnnet import api

    api.init_app(app)
    from learnnet.learning.minutes_views import bp as minutes_bp

    app.register_blueprint(minutes_bp)
    from learnnet.learning.werkjaar_views import init_app as werkjaar_init

    werkjaar_init(app)  # across the network: the werkjaar view, bridges that weaken
    _register_audit()
    from learnnet.learning.material_views import init_app as materials_init

    materials_init(app)
    from learnnet.attendance.views import init_app as attendance_init

    attendance_init(app)
    from learnnet.calendar.views import init_app as calendar_init

    calendar_init(app)
    from learnnet.learning.evaluation_views import init_app as evaluation_init

    evaluation_init(app)
    from learnnet import changes

    changes.register()  # after the trail's and the feed stamps' hooks: its row is written last
    app.teardown_appcontext(changes.end_read_only)  # runs before Flask-SQLAlchemy's remove()
    from learnnet import pagecache

    pagecache.init_app(app)


def _register_audit() -> None:
    """The trail is the bottom room: the factory, which knows every room, says what to track."""
    from learnnet.api.models import ApiToken, WebhookEndpoint
    from learnnet.attendance.models import Attendance
    from learnnet.audit import trail
    from learnnet.auth.models import User
    from learnnet.learning.minutes_models import ActionPoint, Minutes, MinutesSection
    from learnnet.learning.models import AgendaItem, LearningGoal, SessionProgramme, WerkjaarTheme
    from learnnet.networks.models import (
        Contact,
        Facility,
        Membership,
        MembershipRequest,
        Network,
    )
    from learnnet.rsvp.models import Rsvp
    from learnnet.sessions.models import Session

    for model, entity in (
        (ApiToken, "api_token"),
        (WebhookEndpoint, "webhook_endpoint"),
        (Minutes, "minutes"),
        (MinutesSection, "minutes_section"),
        (ActionPoint, "action_point"),
        (Facility, "facility"),
        (Contact, "contact"),
        (Membership, "membership"),
        (MembershipRequest, "membership_request"),
        (Network, "network"),
        (Session, "session"),
        (User, "account"),
        (Rsvp, "answer"),
        (Attendance, "attendance"),
        (WerkjaarTheme, "werkjaar_theme"),
        (LearningGoal, "learning_goal"),
        (AgendaItem, "agenda_item"),
        (SessionProgramme, "programme"),
    ):
        trail.track(model, entity)
    trail.register()


def _register_hooks(app: Flask) -> None:
    from learnnet import templating
    from learnnet.access import refuse_undeclared
    from learnnet.mail.services import deliver_after_request

    app.before_request(refuse_undeclared)
    templating.init_app(app)
    _redact_tokens_in_logs()

    app.after_request(deliver_after_request)

    @app.before_request
    def _refuse_nul() -> None:
        """One rule for every text input: a NUL character is refused with a 400.

        No database stores it (PostgreSQL refuses it outright), and no person types it.
        """
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
        ):
            abort(400, description=NUL_REFUSED)
        if request.method in ("POST", "PUT", "PATCH") and any(
            "\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)
        ):
            abort(400, description=NUL_REFUSED)

    @app.before_request
    def _same_origin_forms() -> None:
        """A form must come from this site: Origin, else Referer (learnnet.origin).

        Replaces Flask-WTF's HTTPS Referer check (WTF_CSRF_SSL_STRICT, off in config),
        which refused every post from a page that keeps its secret URL to itself.
        """
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if _is_api():  # a bearer token, never a cookie: no page of another site can forge it
            return
        if not comes_from_here(
            request.scheme,
            request.host,
            request.headers.get("Origin"),
            request.headers.get("Referer"),
        ):
            abort(400, description=ORIGIN_REFUSED)

    @app.before_request
    def _per_request() -> None:
        # The cookie carries its age; Flask refuses it after PERMANENT_SESSION_LIFETIME.
        # Only sessions that hold something: a first visit gets no cookie for nothing.
        if flask_session and not flask_session.permanent:
            flask_session.permanent = True
        g.locale = str(get_locale())

    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        # No camera, except where a view set its own (the check-in pages' code scanner).
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user and getattr(current_user, "is_authenticated", False):
            headers.setdefault("Cache-Control", "private, no-store")
        if g.get("token_page"):
            # A secret in the URL: never leak it to other sites, caches or search engines.
            # "strict-origin": a Referer holds only "https://host/", never the path, so
            # the token stays out of every log, ours included; yet the browser still
            # names the origin of its form posts, which learnnet.origin checks. Not
            # "no-referrer": that also makes the browser send "Origin: null" and no
            # Referer, and a same-site form could no longer be told from a forged one.
            # (A calendar feed sets its own Cache-Control: clients must revalidate it.)
            headers["Referrer-Policy"] = "strict-origin"
            headers.setdefault("Cache-Control", "private, no-store")
            headers["X-Robots-Tag"] = "noindex, nofollow"
        return response


NUL_REFUSED = "nul-character"
ORIGIN_REFUSED = "origin-refused"

ERROR_MESSAGES = {
    400: lambda: _("The request could not be understood. Reload the page and try again."),
    403: lambda: _("You do not have access to this page."),
    404: lambda: _("This page does not exist (any more)."),
    405: lambda: _(
        "This address only works from a form or a button. Go back to the page and try again."
    ),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many attempts. Wait a few minutes and try again."),
    500: lambda: _("Something went wrong on our side. Try again later."),
}


def _same_site_referrer() -> str | None:
    """The path of the page that sent the request, when it is on this site."""
    from urllib.parse import urlsplit

    from learnnet.auth.views import safe_next

    if not request.referrer:
        return None
    try:
        parts = urlsplit(request.referrer)
    except ValueError:  # "https://[::1/": a Referer is whatever the client sent
        return None
    if parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def _is_api() -> bool:
    """Errors under /api/ are problem documents for programs, not pages for people."""
    from learnnet.api import API_PREFIX

    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def _register_errors(app: Flask) -> None:
    def render_error(code: int, description: str | None = None) -> tuple[str, int]:
        message = ERROR_MESSAGES.get(code, ERROR_MESSAGES[400])()
        try:
            return render_template("errors.html", code=code, message=message), code
        except Exception:  # e.g. an untrusted Host header: no URL adapter to build links
            return message, code

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if error.code is None or error.code < 400:
            return error
        if _is_api():
            from learnnet.api.problems import from_exception

            return from_exception(error)
        if error.code == 413 and request.method == "POST" and request.url_rule is not None:
            # Typically a file upload that is too large: back to the form with a message.
            flash(_("What you sent is too large (at most 1 MB)."), "error")
            return redirect(_same_site_referrer() or request.path, code=303)
        if error.code == 400 and error.description == NUL_REFUSED:
            message = _(
                "What you sent contains a character that cannot be stored (NUL). "
                "Remove it and try again."
            )
            return render_template("errors.html", code=400, message=message), 400
        if error.code == 400 and error.description == ORIGIN_REFUSED:
            message = _(
                "This form was not sent from a page of this site, so nothing was changed. "
                "Open the page again and send the form from there."
            )
            return render_template("errors.html", code=400, message=message), 400
        if error.code == 400 and "CSRF" in (error.description or ""):
            return render_template(
                "errors.html",
                code=400,
                message=_("Your form expired. Go back, reload the page and try again."),
            ), 400
        return render_error(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        app.logger.exception("unhandled error")
        db.session.rollback()
        if _is_api():
            from learnnet.api.problems import response

            return response(500)
        return render_error(500)
