"""Parts of a page kept between renders while the data they read is unchanged.

A member's answer moves its network's scope (:mod:`learnnet.changes`), so every kept page
of that network goes and is rendered anew. In the weeks before a session that is most
views. Yet most of what those pages compute reads no answer at all: the bridges that
weaken (memberships and attendance), the hosts with a conflict (sessions, closures,
blackouts), the hosting tally, the member list, the minutes. Each such part is kept here,
per worker, under

- its name and what else it depends on (the networks, the language, today's date, a
  "show all" switch: the caller's ``key``);
- the *settled* versions of the scopes it reads (:func:`learnnet.changes.settled`): they
  move with every write to those scopes except members' answers;

so a page rendered after an answer reads its answers and counts afresh and takes the rest
as it was. A part must not read an answer (``rsvp``, ``rsvp_change``): its value would
stay when one changes. The oracle test (``tests/test_pagecache_scopes.py``) renders every
page after every kind of write against a second app without any cache.

Values are kept as they are, shared by every request of the worker: plain, immutable data
(tuples, frozen dataclasses of ids and text, rendered ``Markup``) — never ORM objects,
which belong to one request's session; a part with a form (a CSRF token, personal to one
browser) only under a key that holds the browser's CSRF secret, as kept pages do. Like
kept pages, a part is used for at most ``PAGE_CACHE_SECONDS``: what the versions do not
see is the clock. Nothing is kept in a request that writes (it reads what it has not
committed), nor when the page cache is switched off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from flask import current_app, g, has_request_context, render_template, request
from markupsafe import Markup

from learnnet import changes, pagecache

T = TypeVar("T")
_EXTENSION = "learnnet_sections"
MAX_PARTS = 4096  # per worker, besides the size limit


class Sections:
    """An LRU of kept parts with an age limit and a size limit (thread-safe).

    Like :class:`learnnet.pagecache.PageCache`: the first part kept under a newer count of
    a scope lets go of every part kept under an older one (they can never be used again),
    so a worker holds the parts of the current data, not the history of every write.
    """

    def __init__(self, seconds: float, max_bytes: int, max_parts: int = MAX_PARTS) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.max_parts = max_parts
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.counts: dict[str, int] = {}  # per scope, the count of the last part kept
        self._parts: OrderedDict[tuple[Any, ...], tuple[float, Any, changes.Versions, int]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], now: float) -> tuple[bool, Any]:
        with self._lock:
            found = self._parts.get(key)
            if found is None or now - found[0] > self.seconds:
                if found is not None:
                    self._drop(key)
                self.misses += 1
                return False, None
            self._parts.move_to_end(key)
            self.hits += 1
            return True, found[1]

    def put(
        self, key: tuple[Any, ...], value: Any, now: float, versions: changes.Versions = ()
    ) -> None:
        size = size_of(value)
        if size > self.max_bytes:
            return
        with self._lock:
            moved = {s for s, count in versions if self.counts.get(s, count) != count}
            self.counts.update(versions)
            if moved:
                current = dict(versions)
                for old in [
                    k
                    for k, part in self._parts.items()
                    if any(s in moved and n != current[s] for s, n in part[2])
                ]:
                    self._drop(old)
            if key in self._parts:
                self._drop(key)
            self._parts[key] = (now, value, versions, size)
            self.size += size
            while self.size > self.max_bytes or len(self._parts) > self.max_parts:
                self._drop(next(iter(self._parts)))

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._parts)

    def _drop(self, key: tuple[Any, ...]) -> None:
        self.size -= self._parts.pop(key)[3]


def size_of(value: Any, depth: int = 6) -> int:
    """About how many bytes a kept value holds: its text (the bulk of a rendered part)
    and a few bytes per other item; rough, for the size limit."""
    if isinstance(value, str | bytes):
        return len(value) + 50
    if depth <= 0:
        return 64
    if isinstance(value, dict):
        return 64 + sum(size_of(k, depth - 1) + size_of(v, depth - 1) for k, v in value.items())
    if isinstance(value, tuple | list | set | frozenset):
        return 56 + sum(size_of(v, depth - 1) for v in value)
    fields = getattr(value, "__dataclass_fields__", None)
    if fields:
        return 56 + sum(size_of(getattr(value, f, None), depth - 1) for f in fields)
    return 32


def sections_of(app: Any) -> Sections | None:
    """The app's kept parts, or None when the page cache is off."""
    if pagecache.cache_of(app) is None:
        return None
    found = app.extensions.get(_EXTENSION)
    if found is None:
        seconds = float(app.config.get("PAGE_CACHE_SECONDS") or 0)
        max_bytes = int(float(app.config.get("PAGE_CACHE_MB") or 0) * 1024 * 1024)
        found = app.extensions.setdefault(_EXTENSION, Sections(seconds, max_bytes))
    return found


def settled_versions(scopes: Iterable[str]) -> changes.Versions:
    """The settled versions of ``scopes`` (and ``shared``), read once per request: the
    page cache reads them with the page's own versions."""
    wanted = sorted({changes.settled(s) for s in scopes} | {changes.SHARED})
    # Per request, not in ``g``: an app context may outlive a request (tests, CLI).
    known: dict[str, int] = (
        request.environ.setdefault(pagecache.SETTLED, {}) if has_request_context() else {}
    )
    missing = [s for s in wanted if s not in known]
    if missing:
        known.update(changes.versions(missing))
    return tuple((s, known[s]) for s in wanted)


def kept(
    name: str,
    scopes: Iterable[str],
    build: Callable[[], T],
    key: Hashable = (),
    *,
    per_page: bool = False,
    per_browser: bool = False,
) -> T:
    """``build()``, or the value kept for ``name`` and ``key`` under the same settled
    versions of ``scopes`` (see above), in the same language. ``key``: what else the value
    depends on; ``per_page``: the path and query string (sorting, "show all"); a part
    that holds a form is ``per_browser`` (its CSRF token is this browser's)."""
    sections = sections_of(current_app) if has_request_context() else None
    if sections is None or request.method not in ("GET", "HEAD") or changes.writing():
        # A write's own request reads what it has not committed yet: keep nothing.
        return build()
    versions = settled_versions(scopes)
    full = (
        name,
        key,
        g.get("locale"),
        request.full_path if per_page else None,
        pagecache.csrf_secret() if per_browser else None,
        versions,
    )
    now = time.monotonic()
    found, value = sections.get(full, now)
    if found:
        return value  # type: ignore[no-any-return]
    value = build()
    sections.put(full, value, now, versions)
    return value


def render(template: str, **context: Any) -> Markup:
    """A part rendered by one of our templates (autoescaped), to keep and to place in a
    page as it is."""
    # Escaped by Jinja (autoescape on for our .html templates).
    return Markup(render_template(template, **context))  # noqa: S704  # nosec B704
