"""Did a form come from this site? The Origin / Referer check behind the CSRF token.

Flask-WTF's own check (``WTF_CSRF_SSL_STRICT``) demands a same-origin ``Referer`` on
every HTTPS POST. Pages whose URL holds a secret (personal links, welcome and reset
links) must keep that URL out of other sites' logs, and a browser that sends no
Referer at all (a privacy setting, an extension) would be refused too. OWASP's CSRF
cheat sheet ("Verifying origin with standard headers") checks ``Origin`` first, which
every current browser sends with a POST, and falls back to ``Referer``. This module
is that rule, without Flask, so it can be tested with plain strings.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL; None for anything else.

    A port that is not a number (``https://a:443.evil.example/``), a missing host or
    another scheme is simply not an origin: the caller refuses it, never a 500.
    """
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def request_origin(scheme: str, host_header: str) -> tuple[str, str, int] | None:
    """The origin a request was sent to, from its scheme and ``Host`` header."""
    return origin_of(f"{scheme}://{host_header}/")


def comes_from_here(scheme: str, host_header: str, origin: str | None, referer: str | None) -> bool:
    """True when a state-changing request may go on.

    - An ``Origin`` header (other than ``null``) must name this site exactly.
    - Without one, a ``Referer`` must be on this site.
    - With neither: refused over HTTPS (every browser sends one of the two with a form
      post to its own site there), allowed over plain HTTP, where proxies and old
      clients strip them and only a laptop install runs. The CSRF token is checked
      in every case; this rule is the second lock, not the only one.
    """
    here = request_origin(scheme, host_header)
    if here is None:
        return False
    if origin and origin.strip() != "null":
        return origin_of(origin) == here
    if referer:
        return origin_of(referer) == here
    return here[0] != "https"
