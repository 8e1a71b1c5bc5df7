"""Rendered pages kept for a minute, until anything in the database changes.

Facilitators open the same network page, timeline and session page again and again,
and members reload their page; between two changes the HTML is the same. A list page
of 200 rows costs 40-90 ms of Jinja and SQLAlchemy; reading one number costs one
indexed SELECT. So the pages that show long lists keep what they rendered, per worker,
under a key of everything the HTML depends on:

- the path with its query string (sorting, ``?past=all``);
- who asks (the user's id, or for a personal link the token in the path) — the page
  is only ever served to the same person again, after the view's access rule has run
  (a login starts a new session anyway: the id is a second lock);
- the language;
- the session's CSRF secret, so that the form tokens in the HTML are this browser's;
- the data version (:mod:`learnnet.changes`), read before the page's own queries: any
  committed write, on any app server, makes every kept page out of date at once.

What the version does not see is the clock (relative dates, "past" and "to come"):
a kept page is used for at most ``PAGE_CACHE_SECONDS`` (60 by default). A request
that carries flashed messages is rendered afresh and not kept, and so is anything but
a 200. Pages are kept gzip-compressed, least recently used first out, within
``PAGE_CACHE_MB`` per worker; the first page kept under a new data version lets go
of every page kept under another one (they can never be served again), so from then
on a worker holds the pages of the current data, not 16 MB of history. They are sent
as they are kept to browsers that accept gzip (all do): a 300 KB list page travels as
15-30 KB, compressed once instead of by the proxy on every request.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request, session
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from learnnet import changes

F = TypeVar("F", bound=Callable[..., Any])
Page = str | bytes | tuple[str | bytes, int]
_EXTENSION = "learnnet_page_cache"


class PageCache:
    """A size-bounded LRU of compressed pages with an age limit (thread-safe)."""

    def __init__(self, max_bytes: int, seconds: float) -> None:
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.version = 0  # the data version of every page kept
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], now: float) -> bytes | None:
        """The page kept under ``key`` (gzip), unless it is older than the age limit."""
        with self._lock:
            found = self._pages.get(key)
            if found is None or now - found[0] > self.seconds:
                if found is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
        return found[1]

    def put(self, key: tuple[Any, ...], packed: bytes, now: float, version: int = 0) -> None:
        """Keep ``packed`` (see :func:`pack`), rendered from data ``version``; the least
        recently used pages make room. A page of another version than the last one kept
        lets go of every page kept so far: the version moves forward with every write
        (and when the database is recreated), backwards only when an older backup is
        restored, and either way the other pages can never be served again. (With
        threads, a slow request that read the data before a change may make the others
        go once: a lost hit, never a wrong page, since the version is part of the key.)"""
        if len(packed) > self.max_bytes:
            return
        with self._lock:
            if version != self.version:
                self.version = version
                self._pages.clear()
                self.size = 0
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (now, packed)
            self.size += len(packed)
            while self.size > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._pages)

    def _drop(self, key: tuple[Any, ...]) -> None:
        self.size -= len(self._pages.pop(key)[1])


def pack(body: bytes) -> bytes:
    """gzip, fast: level 1 makes a list page 15-20 times smaller in about a millisecond."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    return packer.compress(body) + packer.flush()


def unpack(packed: bytes) -> bytes:
    return zlib.decompress(packed, 47)


def init_app(app: Any) -> None:
    """One cache per process (each gunicorn worker fills its own)."""
    seconds = float(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds > 0:
        max_bytes = int(float(app.config.get("PAGE_CACHE_MB") or 0) * 1024 * 1024)
        app.extensions[_EXTENSION] = PageCache(max_bytes, seconds)


def switch_off(app: Any) -> None:
    """No page cache for this app from now on."""
    app.extensions.pop(_EXTENSION, None)


def cache_of(app: Any) -> PageCache | None:
    """The app's page cache, or None when it is switched off."""
    return app.extensions.get(_EXTENSION)


def _flashes_pending() -> bool:
    return "_flashes" in session or bool(getattr(request_ctx, "flashes", None))


def cached(build: Callable[[], Page]) -> tuple[str | bytes, int, dict[str, str]]:
    """``build()``'s page as (body, status, headers), or the one kept for the same request
    and data (see above). Call it after the access rule ran, around everything the page
    reads.
    """
    cache = cache_of(current_app)
    if cache is None or request.method != "GET" or _flashes_pending():
        return (*_pair(build()), {})
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field not in session:
        generate_csrf()  # the page's forms will use it; the key needs this session's secret
    user = current_user.get_id() if current_user.is_authenticated else None
    version = changes.current()
    key = (request.full_path, user, g.get("locale"), session.get(field), version)
    now = time.monotonic()
    packed = cache.get(key, now)
    if packed is None:
        html, status = _pair(build())
        if status != 200 or _flashes_pending():
            return html, status, {}
        packed = pack(html.encode() if isinstance(html, str) else html)
        cache.put(key, packed, now, version)
    if request.accept_encodings["gzip"]:
        return packed, 200, {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return unpack(packed), 200, {"Vary": "Accept-Encoding"}


def _pair(page: Page) -> tuple[str | bytes, int]:
    return page if isinstance(page, tuple) else (page, 200)


def cached_view(view: F) -> F:
    """Decorator form of :func:`cached`, under ``@requires``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return cached(lambda: view(*args, **kwargs))  # Flask takes (body, status, headers)

    return wrapper  # type: ignore[return-value]
