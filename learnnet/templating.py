"""Jinja filters and globals: local times, dates, language switch."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, g, request
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from learnnet.timefmt import format_day, format_moment, format_span

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


def current_locale() -> str:
    """The language of this request ('nl' or 'en'), as chosen by Flask-Babel's selector."""
    return getattr(g, "locale", None) or current_app.config["BABEL_DEFAULT_LOCALE"]


def moment_filter(value: datetime | None, tz: str | None = None) -> str:
    """Jinja: an aware moment as 'di 12 jan. 2027, 19:00' in the network's zone."""
    if value is None:
        return ""
    return format_moment(value, tz or current_app.config["DEFAULT_TIMEZONE"], current_locale())


def session_when(session: Any) -> str:
    """Jinja: a session's start and end in its network's zone."""
    return format_span(
        session.starts_at, session.ends_at, session.network.timezone, current_locale()
    )


def session_when_parts(session: Any) -> tuple[str, str]:
    """Jinja: a session's day and its times apart ("di 12 jan. 2027", "19:00–21:30")."""
    from learnnet.timefmt import to_local

    tz = session.network.timezone
    start, end = to_local(session.starts_at, tz), to_local(session.ends_at, tz)
    if start.date() != end.date():
        return session_when(session), ""
    return format_day(start.date(), current_locale()), f"{start:%H:%M}–{end:%H:%M}"


def day_filter(value: date | None) -> str:
    """Jinja: a date as 'di 12 jan. 2027'."""
    if value is None:
        return ""
    return format_day(value, current_locale())


def relative_day(value: datetime | None, tz: str | None = None) -> str:
    """Jinja: "vandaag", "morgen", "over 10 dagen" for a moment in the coming two months."""
    from flask_babel import gettext, ngettext

    from learnnet.models import utcnow
    from learnnet.timefmt import local_date

    if value is None:
        return ""
    zone = tz or current_app.config["DEFAULT_TIMEZONE"]
    days = (local_date(value, zone) - local_date(utcnow(), zone)).days
    if days == 0:
        return gettext("today")
    if days == 1:
        return gettext("tomorrow")
    if 1 < days <= 60:
        return ngettext("in %(num)d day", "in %(num)d days", days)
    return ""


_OPEN_ID = 2_147_483_647  # stands for the id a row fills in (see link_parts)


def link_parts(endpoint: str, key: str, **values: Any) -> tuple[str, str]:
    """Jinja: ``url_for`` with the id argument ``key`` left open, as (before, after),
    built once per page for a link on every row of a long list: a row then writes
    ``before ~ id ~ after`` instead of building a URL (about 10 µs each, 1,000 on a
    network page of 200 members)."""
    from flask import url_for

    url = url_for(endpoint, **values, **{key: _OPEN_ID})
    before, _sep, after = url.rpartition(str(_OPEN_ID))
    return before, after


def hours_filter(value: float | None) -> str:
    """Jinja: hours the local way ("2,5" in Dutch, "2.5" in English)."""
    from babel.numbers import format_decimal

    return format_decimal(value or 0, format="#,##0.##", locale=current_locale())


def current_page() -> str:
    """Where the language switch returns to: the page being shown, as a same-site path.

    A page rendered in answer to a POST (a form with errors) has no address of its own
    to go back to, so it is the page that held the form (the referrer, if on this site).
    Empty when there is none: the switch then lands on the dashboard.
    """
    from urllib.parse import urlsplit

    from learnnet.auth.views import safe_next

    if request.method in ("GET", "HEAD"):
        path, query = request.path, request.query_string.decode("latin-1")
    else:
        try:
            parts = urlsplit(request.referrer or "")
        except ValueError:  # "https://[::1/": a Referer is whatever the client sent
            return ""
        if parts.netloc != request.host:
            return ""
        path, query = parts.path, parts.query
    return safe_next(path + (f"?{query}" if query else "")) or ""


# --- translations in templates -----------------------------------------------------------------
#
# Flask-Babel's template gettext finds the catalogue anew on every call (the app context,
# the domain, the locale and its name: about 15 µs), and Jinja wraps each answer in Markup
# and formats it, also without variables. A list page calls it thousands of times (the
# column labels on every row). Here the catalogue is found once per locale per process, and
# a label without variables is kept ready, as Jinja would return it.

_CATALOGUES: dict[str, Any] = {}  # locale name -> Flask-Babel's translations
_LABELS: dict[tuple[str, bool, str], str] = {}  # (locale, autoescape, msgid) -> result
_LABELS_MAX = 20_000  # labels are literals in templates; a bound all the same
# The locale at the start of a render (inside force_locale too), put in its context:
# reading it there is cheaper than through Flask's ``g`` on every label.
LOCALE_KEY = "_babel_locale_name"


def _locale_name() -> str:
    """The locale Flask-Babel translates into at this moment (``force_locale`` included)."""
    # Flask's own context variable, not the ``g`` proxy: macros imported by templates
    # (no render context of their own) ask this for every label.
    ctx = getattr(_cv_app.get().g, "_flask_babel", None)
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    if locale is None:
        locale = get_locale()
        ctx = g.get("_flask_babel")
    memo = getattr(ctx, "learnnet_locale", None)
    if memo is None or memo[0] is not locale:
        memo = (locale, str(locale))
        ctx.learnnet_locale = memo  # type: ignore[union-attr]
    return memo[1]


def _catalogue(name: str) -> Any:
    try:
        return _CATALOGUES[name]
    except KeyError:
        catalogue = _CATALOGUES[name] = get_translations()
        return catalogue


@pass_context
def template_gettext(__context: Context, __string: str, **variables: Any) -> str:
    """Jinja's newstyle ``_()``/``gettext()``, with the catalogue and labels kept."""
    name = __context.get(LOCALE_KEY) or _locale_name()
    autoescape = __context.eval_ctx.autoescape
    if not variables:
        key = (name, autoescape, __string)
        try:
            return _LABELS[key]
        except KeyError:
            pass
    rv = _catalogue(name).ugettext(__string)
    if autoescape:  # our own catalogue is trusted, as in Jinja's gettext; variables are escaped
        rv = Markup(rv)  # noqa: S704  # nosec B704
    rv = rv % variables  # as Jinja does: always a format string, also without variables
    if not variables and len(_LABELS) < _LABELS_MAX:
        _LABELS[key] = rv
    return rv


@pass_context
def template_ngettext(
    __context: Context, __singular: str, __plural: str, __num: int, **variables: Any
) -> str:
    """Jinja's newstyle ``ngettext()``, with the catalogue kept."""
    variables.setdefault("num", __num)
    name = __context.get(LOCALE_KEY) or _locale_name()
    rv = _catalogue(name).ungettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704  # nosec B704
    return rv % variables


def warm_up(app: Flask) -> None:
    """Do now what the first requests would do: compile every template, read each
    language's dates and catalogue (gunicorn.conf.py, before the workers are forked)."""
    from flask_babel import force_locale

    for name in app.jinja_env.list_templates(extensions=("html", "txt")):
        app.jinja_env.get_template(name)
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            format_day(date(2000, 1, 1), language)
            with force_locale(language):
                _catalogue(_locale_name())


def init_app(app: Flask) -> None:
    """Register the filters and template globals."""
    # After Flask-Babel's own: ``_`` goes straight to gettext, not through Jinja's alias.
    app.jinja_env.globals.update(
        _=template_gettext,
        gettext=template_gettext,
        ngettext=template_ngettext,
        link_parts=link_parts,
    )
    app.add_template_filter(moment_filter, "moment")
    app.add_template_filter(day_filter, "day")
    app.add_template_filter(session_when, "when")
    app.add_template_filter(session_when_parts, "when_parts")
    app.add_template_filter(relative_day, "relative_day")
    app.add_template_filter(hours_filter, "hours")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "languages": [
                (code, LANGUAGE_NAMES.get(code, code)) for code in app.config["LANGUAGES"]
            ],
            "current_locale": current_locale(),
            "current_page": current_page,
            LOCALE_KEY: _locale_name(),
        }
