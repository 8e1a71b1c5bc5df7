"""Who may use which route.

Every view declares its rule with :func:`requires`. The rule loads the object named in
the URL (404 when it does not exist), checks the current user against it (login page
for anonymous users, 403 for others) and hands the loaded object to the view. A
``before_request`` hook refuses any endpoint that declared nothing, and a test walks
the URL map with every role, so a new route cannot forget its rule.

People follow *current* membership (:func:`can_see_people`), so who may start a
membership is the lock on them:

- A network is started by an admin or by an account an admin granted that right
  (:data:`NETWORK_CREATOR`, :func:`can_create_networks`); the starter facilitates it.
- A facility joins a network at once when the one who adds it already sees all of it:
  an admin, or a facilitator of every network the facility is or was in (a facility
  they registered themselves, or one only in their own networks)
  (:func:`joins_at_once`). Otherwise adding it only asks: a pending membership request
  that shows none of its people until a contact of the facility accepts it through their
  personal link, or an admin does. A request is never a membership.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import exists, select

from learnnet.extensions import db, login_manager
from learnnet.timefmt import local_today

PUBLIC = "public"
USER = "user"
ADMIN = "admin"
NETWORK = "network"
FACILITY = "facility"
CONTACT = "contact"
SESSION = "session"
PERSONAL_LINK = "personal_link"
CALENDAR_FEED = "calendar_feed"
MEMBER_FACILITY = "member_facility"  # a facility that is a current member of one's network
NETWORK_CREATOR = "network_creator"  # may start a new network (see can_create_networks)
# The API (learnnet.api): a bearer token, checked by the API's blueprint before its views
# run; a login cookie opens nothing there.
API_TOKEN = "api_token"  # noqa: S105  # nosec B105 - a rule name, not a secret
RULES = (
    PUBLIC,
    USER,
    ADMIN,
    NETWORK_CREATOR,
    NETWORK,
    FACILITY,
    MEMBER_FACILITY,
    CONTACT,
    SESSION,
    PERSONAL_LINK,
    CALENDAR_FEED,
    API_TOKEN,
)

F = TypeVar("F", bound=Callable[..., Any])


def facilitates(user: Any, network: Any) -> bool:
    """True when the user is an admin or one of the network's facilitators."""
    if user.is_admin:
        return True
    return any(f.id == user.id for f in network.facilitators)


def can_create_networks(user: Any) -> bool:
    """Admins, and accounts an admin granted the right, may start networks: starting one
    makes its starter a facilitator who may ask facilities to join."""
    return bool(user.is_admin or getattr(user, "may_create_networks", False))


def joins_at_once(user: Any, facility_id: int) -> bool:
    """Whether a facility the user adds to a network becomes a member at once.

    Yes for admins, and for a facilitator of every network the facility is or was a
    member of (a facility with no membership at all belongs to nobody else). Otherwise
    the facility's consent is needed: adding it would show its people, who belong to
    another network's register, to someone they never agreed to.
    """
    return facility_id not in needing_consent(user, [facility_id])


def needing_consent(user: Any, facility_ids: Any) -> set[int]:
    """Of ``facility_ids``, those the user may only ask to join (see :func:`joins_at_once`),
    in one statement."""
    ids = list(facility_ids)
    if user.is_admin or not ids:
        return set()
    from learnnet.networks.models import Membership, network_facilitator

    mine = select(network_facilitator.c.network_id).where(network_facilitator.c.user_id == user.id)
    query = (
        select(Membership.facility_id)
        .where(Membership.facility_id.in_(ids), Membership.network_id.not_in(mine))
        .distinct()
    )
    return set(db.session.scalars(query))


def _facilitated(network_id: Any) -> Any:
    """A column: does the current user facilitate this network (admins: all)? Read in
    the same statement as the object of the URL."""
    from sqlalchemy import literal

    if current_user.is_admin:
        return literal(True)
    from learnnet.networks.models import network_facilitator

    return (
        exists()
        .where(network_facilitator.c.network_id == network_id)
        .where(network_facilitator.c.user_id == current_user.id)
    )


def can_see_facility(user: Any, facility_id: int) -> bool:
    """Admins see all facilities; a facilitator those that are or were in one of their
    networks. A pending membership request is no membership: it opens nothing."""
    if user.is_admin:
        return True
    from learnnet.networks.models import Membership, network_facilitator

    query = select(
        exists()
        .where(Membership.facility_id == facility_id)
        .where(Membership.network_id == network_facilitator.c.network_id)
        .where(network_facilitator.c.user_id == user.id)
    )
    return bool(db.session.scalar(query))


def can_see_people(user: Any, facility_id: int) -> bool:
    """Admins see everyone; a facilitator the people of facilities that are *current*
    members of one of their networks. After a facility leaves, its name and history
    stay visible to them (:func:`can_see_facility`), its people do not."""
    if user.is_admin:
        return True

    from sqlalchemy import or_

    from learnnet.networks.models import Membership, network_facilitator

    today = local_today()
    query = select(
        exists()
        .where(Membership.facility_id == facility_id)
        .where(Membership.joined_on <= today)
        .where(or_(Membership.left_on.is_(None), Membership.left_on >= today))
        .where(Membership.network_id == network_facilitator.c.network_id)
        .where(network_facilitator.c.user_id == user.id)
    )
    return bool(db.session.scalar(query))


def _load(model: Any, ident: Any) -> Any:
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _token_miss_guard() -> tuple[Any, Any, bool]:
    """(limit, key, enabled) of the failed-lookup limit shared by every token route."""
    from limits import parse

    from learnnet.extensions import _client_address

    enabled = current_app.config.get("RATELIMIT_ENABLED", True)
    return parse(current_app.config["TOKEN_MISS_LIMIT"]), ("token-miss", _client_address()), enabled


def _by_token(
    token: str, find: Callable[[str], Any], gone: Callable[[str], bool] | None = None
) -> Any:
    """Look a secret token up, or 404; failed lookups count against the client address.

    Past TOKEN_MISS_LIMIT only further *misses* from that address get 429: a valid token
    always goes through, so a shared address (a childcare centre's wifi, a calendar
    provider) is not locked out by somebody else's typos (issue 19.17). A token that
    ``gone`` recognises (a renewed feed a calendar app still polls) gets a bodiless 410,
    which tells the app to stop, and counts nothing.
    """
    from flask import Response

    from learnnet.extensions import counters

    g.token_page = True
    found = find(token)
    if found is not None:
        return found
    if gone is not None and gone(token):
        abort(Response(status=410))
    limit, key, enabled = _token_miss_guard()
    if enabled and not counters.hit(limit, *key):
        abort(429)
    abort(404)


def use_locale(language: str) -> None:
    """Speak ``language`` for the rest of this request, whatever the browser asks for."""
    from flask_babel import refresh

    g.member_locale = language
    refresh()
    g.locale = language


def _calendar_feed(kwargs: dict[str, Any]) -> None:
    """A calendar feed's token: load the feed, or 404."""
    from learnnet.calendar.services import feed_for_token, feed_token_revoked

    kwargs["feed"] = _by_token(kwargs.pop("feed_token"), feed_for_token, feed_token_revoked)


def _personal_link(kwargs: dict[str, Any]) -> None:
    """The token in the URL is the only identity: load its contact, or 404.

    The page speaks the contact's own language, whatever the phone is set to.
    """
    from learnnet.rsvp.contacts import contact_for_token

    contact = _by_token(kwargs.pop("token"), contact_for_token)
    g.audit_actor = (None, contact)  # changes through the link are the contact's
    use_locale(contact.preferred_language)
    kwargs["contact"] = contact


def _check(rule: str, kwargs: dict[str, Any]) -> None:
    """Apply ``rule`` to the request; replace URL ids in kwargs by the loaded objects."""
    if rule == PUBLIC:
        return
    if rule == PERSONAL_LINK:
        _personal_link(kwargs)
        return
    if rule == CALENDAR_FEED:
        _calendar_feed(kwargs)
        return
    if rule == API_TOKEN:
        if g.get("api_token") is None:  # set by the API's own before_request, or nothing
            abort(401)
        return
    if not current_user.is_authenticated:
        # Redirects to the login page (302) with ?next= pointing back here.
        abort(login_manager.unauthorized())
    if rule == USER:
        return
    if rule == ADMIN:
        if not current_user.is_admin:
            abort(403)
        return
    if rule == NETWORK_CREATOR:
        if not can_create_networks(current_user):
            abort(403)
        return
    from learnnet.networks.models import Contact, Facility, Network

    if rule == NETWORK:
        query = select(Network, _facilitated(Network.id)).where(Network.slug == kwargs.pop("slug"))
        row = db.session.execute(query).first()
        if row is None:
            abort(404)
        if not row[1]:
            abort(403)
        kwargs["network"] = row[0]
    elif rule == FACILITY:
        facility = _load(Facility, kwargs.pop("facility_id"))
        if not can_see_facility(current_user, facility.id):
            abort(403)
        kwargs["facility"] = facility
    elif rule == MEMBER_FACILITY:
        facility = _load(Facility, kwargs.pop("facility_id"))
        if not can_see_people(current_user, facility.id):
            abort(403)
        kwargs["facility"] = facility
    elif rule == CONTACT:
        contact = _load(Contact, kwargs.pop("contact_id"))
        if not can_see_people(current_user, contact.facility_id):
            abort(403)
        kwargs["contact"] = contact
    elif rule == SESSION:
        from learnnet.sessions.models import Session

        query = select(Session, _facilitated(Session.network_id)).where(
            Session.id == kwargs.pop("session_id")
        )
        row = db.session.execute(query).first()
        if row is None:
            abort(404)
        if not row[1]:
            abort(403)
        kwargs["session"] = row[0]
    else:  # pragma: no cover - guarded by requires()
        abort(403)


def requires(rule: str) -> Callable[[F], F]:
    """Declare and enforce who may use a view (see the module docstring)."""
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _check(rule, kwargs)
            return view(*args, **kwargs)

        wrapper.access_rule = rule  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def refuse_undeclared() -> None:
    """before_request: a route without a declared rule is a bug, never an open door."""
    if request.endpoint is None or request.endpoint == "static":
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "access_rule", None) is None:
        current_app.logger.error("route %s declares no access rule", request.endpoint)
        abort(403)
