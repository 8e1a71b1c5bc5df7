"""Feeds (conditional GET, HEAD), single-event downloads, and renewing feed links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learnnet.access import (
    CALENDAR_FEED,
    NETWORK,
    PERSONAL_LINK,
    PUBLIC,
    SESSION,
    USER,
    requires,
)
from learnnet.calendar import ical, imip, services, stamps
from learnnet.calendar.blueprint import bp
from learnnet.calendar.models import CONTACT
from learnnet.calendar.models import NETWORK as NETWORK_FEED
from learnnet.calendar.models import USER as USER_FEED
from learnnet.extensions import db
from learnnet.networks.models import Contact, Network
from learnnet.qr import qr_svg
from learnnet.rsvp import rules
from learnnet.rsvp.contacts import (
    DEVICE_COOKIE,
    current_link,
    is_member_on,
    remembered_contact,
    token_of,
)
from learnnet.sessions.models import Session
from learnnet.templating import current_locale
from learnnet.timefmt import to_local

CALENDAR_TYPE = "text/calendar; charset=utf-8"
FEED_CACHE = "private, max-age=0, must-revalidate"


def _landing_url(session: Session) -> str:
    """Where a member's calendar event links to: the landing, which asks for the personal
    link. Never the link itself: a feed is shared, and calendar providers keep what it
    says; a link there would let anyone answer as the member, even after it is renewed."""
    return url_for("calendar.member_landing", session_id=session.id, _external=True)


def _session_url(session: Session) -> str:
    return url_for("pages.session_view", session_id=session.id, _external=True)


@bp.route("/feeds/<feed_token>.ics")
@requires(CALENDAR_FEED)
def feed(feed: services.FeedRef) -> Response:
    """A subscription feed; answers 304 from its stamps without building the calendar."""
    checks = services.validators(feed, request.host)
    headers = {
        "ETag": f'"{checks.etag}"',
        "Last-Modified": checks.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Cache-Control": FEED_CACHE,
    }
    if _not_modified(checks):
        return Response(status=304, headers=headers)
    calendar = services.feed_calendar(feed, _landing_url, _session_url)
    response = Response(ical.build(calendar), content_type=CALENDAR_TYPE, headers=headers)
    response.headers["Content-Disposition"] = 'inline; filename="learnnet.ics"'
    return response


def _not_modified(checks: services.Validators) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since, and
    that only once the latest change has settled (a later change in the same second
    would carry the same date)."""
    if "If-None-Match" in request.headers:
        return request.if_none_match.contains_weak(checks.etag)
    since = request.if_modified_since
    return (
        checks.settled
        and since is not None
        and checks.last_modified <= services.utc_http_date(since)
    )


def _event_file(session: Session, url: str, words_language: str) -> Response:
    event = services.event_for(session, services.words_for(words_language), url=url)
    data = ical.build(ical.Calendar(events=(event,), refresh=None, name=session.network.name))
    day = to_local(session.starts_at, session.network.timezone).date().isoformat()
    response = Response(data, content_type=CALENDAR_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="bijeenkomst-{day}.ics"'
    return response


@bp.route("/sessions/<int:session_id>/event.ics")
@requires(SESSION)
def session_file(session: Session) -> Response:
    """One session as an .ics file (the facilitator's copy, with the session page link)."""
    return _event_file(session, _session_url(session), current_locale())


@bp.route("/m/<token>/sessions/<int:session_id>/event.ics")
@requires(PERSONAL_LINK)
def member_session_file(contact: Contact, session_id: int) -> Response:
    """One session as an .ics file from the member's page (only their own networks); it
    ends up in a calendar like a feed's events, so it links to the landing too."""
    session = services.load_for_event(session_id)
    if session is None:
        abort(404)
    day = to_local(session.starts_at, session.network.timezone).date()
    if not is_member_on(contact.facility_id, session.network_id, day):
        abort(404)
    return _event_file(session, _landing_url(session), contact.preferred_language)


@bp.route("/m/sessions/<int:session_id>")
@requires(PUBLIC)
def member_landing(session_id: int) -> Any:
    """Where a member's calendar event leads. The phone that opened a still valid personal
    link goes on to that member's page, at the session; anyone else is asked to open
    their link. Shows nothing of the session: feeds are shared, and session numbers are
    easy to guess."""
    g.token_page = True  # the redirect carries a personal link: no Referer, no caching
    contact = remembered_contact(request.cookies.get(DEVICE_COOKIE, ""))
    link = current_link(contact) if contact is not None else None
    if link is not None and rules.token_hash(token_of(link)) == link.token_hash:
        target = url_for("rsvp.member", token=token_of(link)) + f"#session-{session_id}"
        return redirect(target, code=303)
    return render_template(
        "calendar/landing.html",
        session_page=url_for("pages.session_view", session_id=session_id),
    )


def _renewed() -> None:
    flash(_("A new subscription link has been made; the old one no longer works."), "success")


@bp.route("/networks/<slug>/feed/renew", methods=["POST"])
@requires(NETWORK)
def network_feed_renew(network: Network) -> Response:
    """Revoke the network's feed URL and make a new one."""
    services.reissue_feed(NETWORK_FEED, network.id)
    _renewed()
    return redirect(url_for("networks.network_view", slug=network.slug) + "#calendar", code=303)


@bp.route("/m/<token>/feed/renew", methods=["POST"])
@requires(PERSONAL_LINK)
def member_feed_renew(contact: Contact) -> Response:
    """The member revokes their own feed URL (e.g. after sharing it by mistake)."""
    services.reissue_feed(CONTACT, contact.id)
    _renewed()
    token = request.view_args["token"]  # type: ignore[index]
    return redirect(url_for("rsvp.member", token=token) + "#calendar", code=303)


@bp.route("/account/feed/renew", methods=["POST"])
@requires(USER)
def account_feed_renew() -> Response:
    """The facilitator revokes their own feed URL."""
    services.reissue_feed(USER_FEED, current_user.id)
    _renewed()
    return redirect(url_for("auth.account") + "#calendar", code=303)


# --- what pages show --------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """The ways to subscribe to one feed."""

    https: str
    webcal: str
    google: str
    qr: str


def subscription(kind: str, owner_id: int) -> Subscription:
    """Template helper: the owner's feed links (the feed is made on first use)."""
    feed = services.current_feed(kind, owner_id)
    if feed is None or rules.token_hash(services.token_of(feed)) != feed.token_hash:
        feed = services.ensure_feed(kind, owner_id)
        db.session.commit()
    https = url_for("calendar.feed", feed_token=services.token_of(feed), _external=True)
    webcal = "webcal://" + https.split("://", 1)[1]
    return Subscription(
        https=https,
        webcal=webcal,
        google="https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
        qr=qr_svg(https),
    )


def init_app(app: Flask) -> None:
    """Stamps on every commit, iMIP parts on messages, the template helper."""
    stamps.register()
    imip.register()

    @app.context_processor
    def _calendar_helpers() -> dict[str, Any]:
        return {"calendar_subscription": subscription}
