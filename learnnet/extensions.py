"""Flask extensions, created once here and bound to an app in the factory."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every learnnet table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def _client_address() -> str:
    """The client address as the (proxy-fixed) request sees it."""
    return get_remote_address() or request.remote_addr or "unknown"


class _Limiter(Limiter):
    """Flask-Limiter that keeps answering when its shared store (Redis) is down.

    The decorated limits (reset form, self check-in) then count in the worker's own
    memory (Flask-Limiter's in-memory fallback) until the store answers again; a store
    that hangs costs a request at most a second (socket timeouts), not a worker.
    """

    def init_app(self, app: Flask) -> None:
        config = app.config
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        uri = str(config.get("RATELIMIT_STORAGE_URI", ""))
        if uri.startswith(("redis://", "rediss://", "redis+")):
            options = {"socket_connect_timeout": 1, "socket_timeout": 1}
            config["RATELIMIT_STORAGE_OPTIONS"] = {
                **options,
                **(config.get("RATELIMIT_STORAGE_OPTIONS") or {}),
            }
        super().init_app(app)
        counters.reset()


limiter = _Limiter(key_func=_client_address, default_limits=[])
log = logging.getLogger(__name__)


class Counters:
    """Fixed-window counters of failed attempts (logins, token lookups) in the limiter's store.

    With several workers the store is Redis, shared by all. When it cannot be reached,
    counting goes on in this process's memory instead of every login, personal link and
    feed failing with a 500: each worker then counts on its own, so a limit lets through
    at most (workers × its amount) attempts until the store answers again, which is tried
    every RETRY_SECONDS. :func:`shared_store_ok` tells ``/healthz``.
    """

    RETRY_SECONDS = 10.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget the local counts and any outage (a new app, or a test)."""
        self._local_counts: FixedWindowRateLimiter | None = None
        self._down_until = 0.0

    @property
    def _local(self) -> FixedWindowRateLimiter:
        if self._local_counts is None:  # made on first need: its store starts a thread
            self._local_counts = FixedWindowRateLimiter(MemoryStorage())
        return self._local_counts

    @property
    def degraded(self) -> bool:
        """True while the counters live in this process because the store was unreachable."""
        return time.monotonic() < self._down_until

    def _shared(self) -> FixedWindowRateLimiter:
        return FixedWindowRateLimiter(limiter.storage)

    def _run(self, action: str, item: RateLimitItem, keys: tuple[str, ...], cost: int) -> bool:
        if not self.degraded:
            try:
                return bool(getattr(self._shared(), action)(item, *keys, cost=cost))
            except Exception:  # the store's own errors, whatever its client library
                with self._lock:
                    self._down_until = time.monotonic() + self.RETRY_SECONDS
                log.warning(
                    "rate-limit store unreachable: counting in this process for %ss",
                    self.RETRY_SECONDS,
                    exc_info=True,
                )
        return bool(getattr(self._local, action)(item, *keys, cost=cost))

    def hit(self, item: RateLimitItem, *keys: str, cost: int = 1) -> bool:
        """Add ``cost`` (negative: give back); False when the count is now past the limit."""
        return self._run("hit", item, keys, cost)

    def test(self, item: RateLimitItem, *keys: str) -> bool:
        """True when one more would still be within the limit (counts nothing)."""
        return self._run("test", item, keys, 1)

    def clear(self, item: RateLimitItem, *keys: str) -> None:
        """Forget the count of ``keys`` (e.g. an account whose password was reset by mail)."""
        stores = [] if self._local_counts is None else [self._local_counts]
        for store in stores + ([] if self.degraded else [self._shared()]):
            try:
                store.clear(item, *keys)
            except Exception:
                log.warning("rate-limit store unreachable: count not cleared", exc_info=True)


counters = Counters()


def shared_store_ok() -> bool:
    """Whether the limiter's store answers (a ping; memory:// always does)."""
    try:
        return bool(limiter.storage.check())
    except Exception:
        return False
