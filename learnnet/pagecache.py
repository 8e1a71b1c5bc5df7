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
- the data versions (:mod:`learnnet.changes`), read before the page's own queries: a
  page that declares the scopes it reads (a network's pages: that network; a member's
  page: the member, their facility and its networks; the dashboard: the user's networks)
  keys on those scopes and ``shared``, so that an answer in network A leaves the kept
  pages of network B alone; any other page keys on the one number that every committed
  write, on any app server, moves.

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
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request, session
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from learnnet import changes
from learnnet.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
Page = str | bytes | tuple[str | bytes, int]
_EXTENSION = "learnnet_page_cache"
SETTLED = "learnnet.settled_versions"  # this request's settled versions (learnnet.sections)


Versions = tuple[tuple[str, int], ...]


class PageCache:
    """A size-bounded LRU of compressed pages with an age limit (thread-safe)."""

    def __init__(self, max_bytes: int, seconds: float) -> None:
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.counts: dict[str, int] = {}  # per scope, the count of the last page kept
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, bytes, Versions]] = OrderedDict()
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

    def put(self, key: tuple[Any, ...], packed: bytes, now: float, versions: Versions = ()) -> None:
        """Keep ``packed`` (see :func:`pack`), rendered from data ``versions`` (scope,
        count); the least recently used pages make room. A scope whose count differs from
        the last one kept lets go of every page kept under another count of it: counts
        move forward with every write (and when the database is recreated), backwards
        only when an older backup is restored, and either way those pages can never be
        served again. (With threads, a slow request that read the data before a change
        may make the others go once: a lost hit, never a wrong page, since the versions
        are part of the key.)"""
        if len(packed) > self.max_bytes:
            return
        with self._lock:
            moved = {s for s, count in versions if self.counts.get(s, count) != count}
            self.counts.update(versions)
            if moved:
                for old in [k for k, v in self._pages.items() if _stale(v[2], moved, versions)]:
                    self._drop(old)
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (now, packed, versions)
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


def _stale(kept: Versions, moved: set[str], now: Versions) -> bool:
    current = dict(now)
    return any(s in moved and count != current[s] for s, count in kept)


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


def csrf_secret() -> str | None:
    """This browser's CSRF secret (made now when it has none): a page or part holding a
    form is only ever served again to the browser whose secret it was rendered with."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field not in session:
        generate_csrf()  # the page's forms will use it
    return session.get(field)


def _flashes_pending() -> bool:
    return "_flashes" in session or bool(getattr(request_ctx, "flashes", None))


def cached(
    build: Callable[[], Page], scopes: Iterable[str] | None = None
) -> tuple[str | bytes, int, dict[str, str]]:
    """``build()``'s page as (body, status, headers), or the one kept for the same request
    and data (see above). Call it after the access rule ran, around everything the page
    reads; ``scopes``: the scopes of everything the page reads (see
    :mod:`learnnet.changes`), or None for a page that may read anything.
    """
    cache = cache_of(current_app)
    if cache is None or request.method != "GET":
        return (*_pair(build()), {})
    user = current_user.get_id() if current_user.is_authenticated else None
    if scopes is None:
        versions: Versions = (("*", changes.current()),)
    else:
        # With their settled twins, in the same statement: the kept parts of a page
        # rendered anew (learnnet.sections) key on those.
        scopes = set(scopes)
        read = changes.versions(scopes | {changes.settled(s) for s in scopes})
        request.environ.setdefault(SETTLED, {}).update(read)
        versions = tuple((s, n) for s, n in read if s in scopes or s == changes.SHARED)
    key = (request.full_path, user, g.get("locale"), csrf_secret(), versions)
    now = time.monotonic()
    flashed = _flashes_pending()  # rendered anew and not kept (see above)
    packed = None if flashed else cache.get(key, now)
    # Whether the page came from the cache: for `make bench` (which must know that a page
    # "after a change" was rendered anew) and for whoever debugs a stale-looking page.
    served = {"X-Page-Cache": "hit" if packed is not None else "miss"}
    if packed is None:
        if scopes is not None:
            # The access rule loaded its objects before the versions were read: read them
            # again, so that the page (and its kept parts) shows nothing older than its
            # versions.
            db.session.expire_all()
        html, status = _pair(build())
        if status != 200:
            return html, status, {}
        packed = pack(html.encode() if isinstance(html, str) else html)
        if not flashed and not _flashes_pending():
            cache.put(key, packed, now, versions)
    # Compressed also when not kept: a member's page after each answer carries a message.
    if request.accept_encodings["gzip"]:
        return packed, 200, {"Content-Encoding": "gzip", "Vary": "Accept-Encoding", **served}
    return unpack(packed), 200, {"Vary": "Accept-Encoding", **served}


def _pair(page: Page) -> tuple[str | bytes, int]:
    return page if isinstance(page, tuple) else (page, 200)


def cached_view(view: F) -> F:
    """Decorator form of :func:`cached`, under ``@requires``: a page that may read anything."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return cached(lambda: view(*args, **kwargs))  # Flask takes (body, status, headers)

    return wrapper  # type: ignore[return-value]


def scoped_view(scopes: Callable[..., Iterable[str]]) -> Callable[[F], F]:
    """Decorator form of :func:`cached` for a page that reads only ``scopes(**kwargs)``
    (called with the view's arguments, after the access rule), under ``@requires``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return cached(lambda: view(*args, **kwargs), scopes=scopes(*args, **kwargs))

        return wrapper  # type: ignore[return-value]

    return decorate
