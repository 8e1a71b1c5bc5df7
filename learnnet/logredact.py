"""Secrets in URLs never reach a log: personal links, feeds, one-time links, check-in codes.

One filter for every path a URL takes into a log (issue 19.4):
- gunicorn's access log, which passes its fields as a *mapping* (``%(r)s``, ``%(U)s``,
  ``%(f)s`` for the Referer, ``%({header}i)s``…) — redacted in place, so gunicorn's own
  mapping still answers ``-`` for a field it does not know;
- werkzeug's development server and gunicorn's error log (positional arguments);
- the app's own messages and the traceback of an unhandled error (``exc_text``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

# /m/<token>, /feeds/<token>.ics, /account/reset|welcome/<token>, /checkin/<code>; the
# facilitator's own /sessions/<id>/checkin/qr and …/settings are pages, not codes.
TOKEN_IN_PATH = re.compile(
    r"/(m|feeds|account/(?:reset|welcome)|checkin(?!/(?:qr|settings)(?:[/?#\s\"]|$)))/[^/?#\s\"]+"
)
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "learnnet", "flask.app")


def redact(text: str) -> str:
    """``text`` with every token in a path replaced by ``[redacted]``."""
    return TOKEN_IN_PATH.sub(r"/\1/[redacted]", text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    """Rewrite a record's message, arguments and traceback text without any token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redacted(a) for a in args)
        elif isinstance(args, MutableMapping):
            for key, value in list(args.items()):
                if isinstance(value, str):
                    args[key] = redact(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install() -> None:
    """Filter the loggers that see URLs, and the root logger's handlers (which see every
    record that propagates, e.g. from ``learnnet.mail``). Safe to call again."""
    targets: list[logging.Filterer] = [logging.getLogger(name) for name in LOGGERS]
    targets += logging.getLogger().handlers
    for target in targets:
        if not any(isinstance(f, RedactTokens) for f in target.filters):
            target.addFilter(RedactTokens())
