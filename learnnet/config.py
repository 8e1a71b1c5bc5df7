"""Configuration: laptop defaults, overridden by instance/config.py and LEARNNET_* variables.

Order of precedence (last wins): the defaults below, ``instance/config.py``,
``LEARNNET_*`` environment variables, and finally the mapping passed to
``create_app(config=...)`` (used by the tests).
"""

from __future__ import annotations

import json
import os
import secrets
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.sansio.utils import host_is_trusted

#: The checkout (or installed tree) and its Alembic migrations (the app and the CLI use them).
ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"

# The marker we replace on a laptop and refuse in production.
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105  # nosec B105
MIN_SECRET_KEY_LENGTH = 32
# A random key of 32 characters has at least 9 different ones even from 16 (hex), and
# hardly compresses; "a" * 32, 32 spaces or "0123456789" * 4 fail one or the other.
MIN_SECRET_KEY_DISTINCT = 8
MIN_SECRET_KEY_COMPRESSED = 0.7  # compressed size / length
NEW_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class Defaults:
    """Settings that make ``make run`` work on a laptop without any configuration."""

    ENV = "development"  # "production" switches on the strict start-up checks
    SECRET_KEY = DEFAULT_SECRET_KEY
    DATABASE_URL = ""  # empty: SQLite file instance/learnnet.sqlite3
    # hide_parameters: SQL parameters (names, email addresses…) never reach the error log.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    # The `flask db` commands (Alembic); gunicorn.conf.py leaves them out of its workers.
    MIGRATION_COMMANDS = True
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Brussels"
    LANGUAGES = ("nl", "en")
    DEFAULT_TIMEZONE = "Europe/Brussels"
    # Sessions expire after this much inactivity (the signed cookie carries its age).
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    # Request bodies above this are refused with 413 (CSV uploads included).
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    CSV_MAX_BYTES = 1024 * 1024
    # Materials (files shared with a network): the largest file, and where they are kept
    # (empty: in the database; else a directory every app server mounts).
    MATERIALS_MAX_MB = 15
    MATERIALS_DIR = ""
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    # Flask-WTF's HTTPS check wants a Referer, which pages with a secret URL don't
    # send; learnnet.origin checks Origin, then Referer, on every POST instead.
    WTF_CSRF_SSL_STRICT = False
    # Rate limits: memory:// is fine for one process; use redis:// with several workers.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    LOGIN_LIMIT_PER_ACCOUNT_ALL = "50 per hour"
    TRUSTED_HOSTS: list[str] | None = None
    PREFERRED_URL_SCHEME = "http"
    # Links in mail sent from the command line (cron) start with this.
    BASE_URL = "http://127.0.0.1:5000"

    # Mail. "file" writes each message to instance/outbox/ (or MAIL_OUTBOX_DIR) as .eml;
    # "smtp" delivers through MAIL_SERVER.
    MAIL_BACKEND = "file"
    MAIL_OUTBOX_DIR = ""
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USE_SSL = False  # implicit TLS, usually port 465
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""  # nosec B105 - empty: set it through LEARNNET_MAIL_PASSWORD
    MAIL_TIMEOUT = 20
    MAIL_DEFAULT_SENDER = "learnnet <noreply@learnnet.invalid>"
    MAIL_REPLY_TO = ""
    MAIL_MAX_ATTEMPTS = 8  # then the message is marked failed
    # Deliver what a request queued right after it, besides `flask send-mail` from cron.
    MAIL_SEND_IMMEDIATELY = True
    MAIL_SEND_IMMEDIATELY_LIMIT = 50
    # Reminders go this many days before a session (`flask send-reminders`).
    REMINDER_DAYS: list[int] = [7, 1]

    # Calendar: replies (Accept/Decline in a calendar app) go to this address with a
    # per-contact tag (antwoord+<tag>@…); empty: the address of MAIL_DEFAULT_SENDER.
    CALENDAR_REPLY_ADDRESS = ""
    CALENDAR_REPLY_MAX_BYTES = 1_000_000
    # Incoming replies by polling a mailbox (`flask fetch-mail`); empty host: off.
    IMAP_HOST = ""
    IMAP_PORT = 993
    IMAP_USERNAME = ""
    IMAP_PASSWORD = ""  # nosec B105 - empty: set it through LEARNNET_IMAP_PASSWORD
    IMAP_FOLDER = "INBOX"

    # Who issues attendance certificates (the support organisation); empty: the networks' names.
    ORGANISATION_NAME = ""

    # Accounts by mail: a welcome link (set your password) and a reset link live this long.
    ACCOUNT_INVITE_MAX_AGE = 7 * 24 * 3600
    PASSWORD_RESET_MAX_AGE = 3600
    PASSWORD_RESET_LIMIT_PER_ACCOUNT = "5 per hour"  # noqa: S105  # nosec B105 - a rate
    PASSWORD_RESET_LIMIT_PER_ADDRESS = "20 per hour"  # noqa: S105  # nosec B105 - a rate
    # "Ik ben mijn link kwijt": requests per email address and per client address.
    LINK_AGAIN_LIMIT_PER_EMAIL = "3 per hour"
    LINK_AGAIN_LIMIT_PER_ADDRESS = "20 per hour"

    # Personal links: failed lookups per client address before 429 (brute-force guard).
    TOKEN_MISS_LIMIT = "20 per 10 minutes"  # noqa: S105  # nosec B105 - a rate, not a secret
    # Requests per API token (learnnet.api), in the limiter's store.
    API_RATE_LIMIT = "300 per minute"
    # Test-only: seconds to wait between counting seats and writing an answer, to make
    # races visible; RSVP_LOCKING=False removes the protection (to prove the test bites).
    RSVP_TEST_PAUSE = 0.0
    RSVP_LOCKING = True

    # Rendered list pages kept per worker (learnnet.pagecache): at most this many seconds,
    # and only while nothing in the database changed. 0 switches the cache off.
    PAGE_CACHE_SECONDS = 60
    PAGE_CACHE_MB = 16  # compressed pages per worker


ENV_PREFIX = "LEARNNET_"


def _coerce(value: str) -> Any:
    """Read an environment value: JSON when it parses (numbers, booleans, lists), else text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def env_overrides(environ: dict[str, str] | os._Environ[str] | None = None) -> dict[str, Any]:
    """Collect ``LEARNNET_FOO=bar`` variables as ``{"FOO": "bar"}``."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and not key.startswith("LEARNNET_TEST_"):
            name = key[len(ENV_PREFIX) :]
            # Settings that are text by default (keys, URLs) stay text, even "12345".
            textual = isinstance(getattr(Defaults, name, None), str)
            out[name] = value if textual else _coerce(value)
    if "TRUSTED_HOSTS" in out and isinstance(out["TRUSTED_HOSTS"], str):
        out["TRUSTED_HOSTS"] = [h.strip() for h in out["TRUSTED_HOSTS"].split(",") if h.strip()]
    return out


def ensure_instance_secret(instance_path: Path) -> str:
    """Return the instance's secret key, creating a random one on first start.

    The key lives in ``instance/secret_key`` (mode 0600) so that logins survive restarts
    without anybody having to invent a key for a laptop install.
    """
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to change."""


ENVIRONMENTS = ("development", "production")


def check_environment(config: dict[str, Any]) -> None:
    """Refuse an ENV that is neither "development" nor "production" ("Production", "prod")."""
    if config.get("ENV") not in ENVIRONMENTS:
        raise ConfigError(
            f"LEARNNET_ENV is {config.get('ENV')!r}; use exactly 'production' (or 'development' "
            "on a laptop). Anything else would quietly run without the production checks."
        )


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is too weak to sign production sessions and links, or None.

    Length alone lets "a" * 32 through; a key must also use several different characters
    and not repeat itself (it must not compress well), as a generated one does.
    """
    if not key or key == DEFAULT_SECRET_KEY:
        return "LEARNNET_SECRET_KEY is missing or still the default."
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return (
            f"LEARNNET_SECRET_KEY is too short ({len(key)} characters); "
            f"use at least {MIN_SECRET_KEY_LENGTH} random characters."
        )
    if not key.strip():
        return "LEARNNET_SECRET_KEY is only spaces."
    compressed = len(zlib.compress(key.encode("utf-8", "surrogatepass"), 9)) / len(key)
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT or compressed < MIN_SECRET_KEY_COMPRESSED:
        return (
            f"LEARNNET_SECRET_KEY is not random: it uses {len(set(key))} different characters "
            "or repeats itself. Anyone who guesses it can forge logins."
        )
    return None


def base_url_problem(config: dict[str, Any], production: bool) -> str | None:
    """Why BASE_URL cannot make the links of mail sent from the command line, or None.

    Its host must be one of TRUSTED_HOSTS (when set), or no link can be built; in
    production it must be https, as the links of mail sent by a request are.
    """
    base = str(config.get("BASE_URL") or "")
    parts = urlsplit(base)
    if production and (parts.scheme != "https" or not parts.hostname):
        return (
            f"LEARNNET_BASE_URL is {base!r}: in production it must be the site's https "
            "address, e.g. https://learnnet.example.org (links in mail from cron use it)."
        )
    if not parts.scheme or not parts.hostname:
        return f"LEARNNET_BASE_URL is {base!r}: give a full address, e.g. http://127.0.0.1:5000."
    trusted = [h.lower() for h in config.get("TRUSTED_HOSTS") or []]
    if trusted and not host_is_trusted(parts.netloc.lower(), trusted):
        return (
            f"The host of LEARNNET_BASE_URL ({parts.hostname}) is not in LEARNNET_TRUSTED_HOSTS "
            f"({', '.join(trusted)}): add it, or links in mail from cron cannot be made."
        )
    return None


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start a production app with a weak secret, debug mode, no host list or
    a base URL that is not the site's own https address."""
    key_problem = secret_key_problem(config.get("SECRET_KEY") or "")
    if key_problem:
        raise ConfigError(f"{key_problem} Set it to a long random value, e.g. {NEW_KEY_HINT}.")
    if config.get("DEBUG"):
        raise ConfigError("Debug mode is not allowed in production: unset LEARNNET_DEBUG.")
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        raise ConfigError(
            "LEARNNET_RATELIMIT_STORAGE_URI is memory://, which each worker process keeps "
            "on its own; point it at a shared store, e.g. redis://127.0.0.1:6379/0."
        )
    if not config.get("TRUSTED_HOSTS"):
        raise ConfigError(
            "LEARNNET_TRUSTED_HOSTS is not set: list the host names this site answers to, "
            "comma-separated (e.g. learnnet.example.org)."
        )
    url_problem = base_url_problem(config, production=True)
    if url_problem:
        raise ConfigError(url_problem)
