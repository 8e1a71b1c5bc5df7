"""Use cases of the API: tokens (create, revoke, authenticate) and the reads behind
every list, each a page in a fixed number of statements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from learnnet.api import rules
from learnnet.api.models import SCOPES, ApiToken, api_token_network
from learnnet.attendance.models import Attendance
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership, Network, network_facilitator
from learnnet.rsvp.models import MAYBE, NO, YES, Rsvp
from learnnet.sessions.models import Session
from learnnet.timefmt import local_today


class TokenError(ValueError):
    """A token cannot be made as asked; ``field`` names the form field, ``code`` why."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("DEFAULT_TIMEZONE", "Europe/Brussels"))


def choosable_networks(user: User) -> list[Network]:
    """The networks a token of this user may be given: those they facilitate (admin: all)."""
    query = select(Network).order_by(Network.name, Network.id)
    if not user.is_admin:
        query = query.join(network_facilitator).where(network_facilitator.c.user_id == user.id)
    return list(db.session.scalars(query))


def create_token(
    user: User,
    name: str,
    scope: str,
    network_ids: Iterable[int],
    may_see_people: bool,
    expires_on: date,
) -> tuple[ApiToken, str]:
    """Make a token and return it with its secret, which is shown once and never stored."""
    if scope not in SCOPES:
        raise TokenError("scope", "unknown")
    wanted = set(network_ids)
    allowed = {n.id: n for n in choosable_networks(user)}
    if not wanted:
        raise TokenError("networks", "none")
    if not wanted <= allowed.keys():
        raise TokenError("networks", "not_yours")
    reason = rules.expiry_error(expires_on, local_today())
    if reason:
        raise TokenError("expires_on", reason)
    secret = rules.new_token()
    token = ApiToken(
        user=user,
        name=name,
        prefix=secret[: rules.SHOWN_PREFIX_LENGTH],
        token_hash=rules.token_hash(secret),
        scope=scope,
        may_see_people=may_see_people,
        # The token works through the whole chosen day, local time.
        expires_at=datetime.combine(expires_on + timedelta(days=1), time(0), _zone()).astimezone(
            UTC
        ),
        networks=[allowed[i] for i in sorted(wanted)],
    )
    db.session.add(token)
    db.session.commit()
    return token, secret


def last_day(token: ApiToken) -> date:
    """The last local day a token works (it stops at the midnight after it)."""
    return (token.expires_at - timedelta(seconds=1)).astimezone(_zone()).date()


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, with their networks."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .options(selectinload(ApiToken.networks))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens (None when it is not theirs); idempotent."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def authenticate(secret: str) -> tuple[ApiToken | None, bool]:
    """The usable token with this secret (its owner loaded), and whether the secret is
    known at all: an expired or revoked token is no guess, a made-up one is.

    Notes the use (at most once a minute, see :mod:`learnnet.api.rules`).
    """
    if not rules.well_formed(secret):
        return None, False
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == rules.token_hash(secret))
        .options(selectinload(ApiToken.user))
    )
    if token is None:
        return None, False
    now = utcnow()
    if not rules.usable(token.revoked_at, token.expires_at, token.user.is_active, now):
        return None, True
    if rules.touch_due(token.last_used_at, now):
        token.last_used_at = now
        db.session.commit()
    return token, True


def visible_network_ids(token: ApiToken) -> list[int]:
    """The token's networks that its owner still facilitates (admin: all of them)."""
    query = select(api_token_network.c.network_id).where(
        api_token_network.c.api_token_id == token.id
    )
    if not token.user.is_admin:
        query = query.where(
            exists()
            .where(network_facilitator.c.network_id == api_token_network.c.network_id)
            .where(network_facilitator.c.user_id == token.user_id)
        )
    return sorted(db.session.scalars(query))


# ---- reads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What every list takes: the networks it may show, the filters and the page."""

    network_ids: tuple[int, ...]
    after: int = 0
    size: int = rules.PAGE_SIZE
    updated_since: datetime | None = None
    network_id: int | None = None
    starts_from: date | None = None
    starts_until: date | None = None
    active_on: date | None = None
    facility_id: int | None = None
    session_id: int | None = None

    @property
    def networks(self) -> tuple[int, ...]:
        """The networks to show: the asked one when the token sees it, else all visible."""
        if self.network_id is None:
            return self.network_ids
        return (self.network_id,) if self.network_id in self.network_ids else ()


def _page(query: Select[Any], model: Any, q: Query) -> tuple[list[Any], str | None]:
    if q.updated_since is not None and hasattr(model, "updated_at"):
        query = query.where(model.updated_at >= q.updated_since)
    query = query.where(model.id > q.after).order_by(model.id).limit(q.size + 1)
    return rules.page(list(db.session.scalars(query)), q.size)


def _bounds(q: Query) -> list[Any]:
    """Conditions on Session.starts_at for the from/until days (local days)."""
    conditions = []
    if q.starts_from is not None:
        conditions.append(Session.starts_at >= datetime.combine(q.starts_from, time(0), _zone()))
    if q.starts_until is not None:
        end = datetime.combine(q.starts_until + timedelta(days=1), time(0), _zone())
        conditions.append(Session.starts_at < end)
    return conditions


def network(q: Query, network_id: int) -> Network | None:
    """One visible network with its facilitators."""
    if network_id not in q.network_ids:
        return None
    return db.session.scalar(
        select(Network).where(Network.id == network_id).options(selectinload(Network.facilitators))
    )


def networks(q: Query) -> tuple[list[Network], str | None]:
    """A page of the visible networks with their facilitators."""
    query = (
        select(Network)
        .where(Network.id.in_(q.networks))
        .options(selectinload(Network.facilitators))
    )
    return _page(query, Network, q)


def _facility_visible(q: Query) -> Any:
    """A facility is shown while it is or was a member of a visible network."""
    return (
        exists()
        .where(Membership.facility_id == Facility.id)
        .where(Membership.network_id.in_(q.networks))
    )


def facility(q: Query, facility_id: int) -> Facility | None:
    """One facility that is or was a member of a visible network."""
    return db.session.scalar(
        select(Facility).where(Facility.id == facility_id).where(_facility_visible(q))
    )


def facilities(q: Query) -> tuple[list[Facility], str | None]:
    """A page of the facilities that are or were members of the visible networks."""
    return _page(select(Facility).where(_facility_visible(q)), Facility, q)


def memberships(q: Query) -> tuple[list[Membership], str | None]:
    """A page of the memberships of the visible networks (current or ended)."""
    query = select(Membership).where(Membership.network_id.in_(q.networks))
    if q.facility_id is not None:
        query = query.where(Membership.facility_id == q.facility_id)
    if q.active_on is not None:
        query = query.where(
            Membership.joined_on <= q.active_on,
            or_(Membership.left_on.is_(None), Membership.left_on >= q.active_on),
        )
    return _page(query, Membership, q)


def _people_visible(q: Query) -> Any:
    """People are shown while their facility is a *current* member of a visible network
    (the rule of :func:`learnnet.access.can_see_people`)."""
    today = local_today()
    return (
        exists()
        .where(Membership.facility_id == Contact.facility_id)
        .where(Membership.network_id.in_(q.networks))
        .where(Membership.joined_on <= today)
        .where(or_(Membership.left_on.is_(None), Membership.left_on >= today))
    )


def contact(q: Query, contact_id: int) -> Contact | None:
    """One contact the token may see."""
    return db.session.scalar(
        select(Contact).where(Contact.id == contact_id).where(_people_visible(q))
    )


def contacts(q: Query) -> tuple[list[Contact], str | None]:
    """A page of the contacts of the current member facilities of the visible networks."""
    query = select(Contact).where(_people_visible(q))
    if q.facility_id is not None:
        query = query.where(Contact.facility_id == q.facility_id)
    return _page(query, Contact, q)


@dataclass(frozen=True)
class Counts:
    """How a session's answers stand."""

    yes: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0


def answer_counts(session_ids: list[int]) -> dict[int, Counts]:
    """Answers per session, in one grouped statement."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Rsvp.session_id, Rsvp.answer, Rsvp.waitlisted, func.count())
        .where(Rsvp.session_id.in_(session_ids))
        .group_by(Rsvp.session_id, Rsvp.answer, Rsvp.waitlisted)
    )
    tally: dict[int, dict[str, int]] = {}
    for session_id, answer, waitlisted, count in rows:
        per = tally.setdefault(session_id, {"yes": 0, "maybe": 0, "no": 0, "waitlist": 0})
        if answer == YES and waitlisted:
            per["waitlist"] += count
        elif answer in (YES, MAYBE, NO):
            per[answer] += count
    return {sid: Counts(**per) for sid, per in tally.items()}


def session(q: Query, session_id: int) -> Session | None:
    """One session of a visible network, with its host."""
    return db.session.scalar(
        select(Session)
        .where(Session.id == session_id, Session.network_id.in_(q.networks))
        .options(selectinload(Session.host))
    )


def sessions(q: Query) -> tuple[list[Session], str | None]:
    """A page of the sessions of the visible networks, with their hosts."""
    query = (
        select(Session)
        .where(Session.network_id.in_(q.networks), *_bounds(q))
        .options(selectinload(Session.host))
    )
    if q.facility_id is not None:
        query = query.where(Session.host_facility_id == q.facility_id)
    return _page(query, Session, q)


def _of_sessions(model: Any, q: Query) -> Select[Any]:
    query = select(model).join(Session, Session.id == model.session_id)
    query = query.where(Session.network_id.in_(q.networks), *_bounds(q))
    if q.session_id is not None:
        query = query.where(model.session_id == q.session_id)
    return query


def answers(q: Query) -> tuple[list[Rsvp], str | None]:
    """A page of the answers to the sessions of the visible networks."""
    query = _of_sessions(Rsvp, q).options(selectinload(Rsvp.contact))
    return _page(query, Rsvp, q)


def attendance(q: Query) -> tuple[list[Attendance], str | None]:
    """A page of the attendance recorded at the sessions of the visible networks."""
    return _page(_of_sessions(Attendance, q), Attendance, q)


# ---- writes (issue 26, part 2): only through the rooms' own services --------------------


def writable_network(token: ApiToken, network_id: int) -> Network | None:
    """One of the token's networks that its owner still facilitates, else None."""
    if network_id not in visible_network_ids(token):
        return None
    return db.session.get(Network, network_id)


def _current_in(network_ids: Iterable[int], facility_id: Any) -> Any:
    today = local_today()
    return (
        exists()
        .where(Membership.facility_id == facility_id)
        .where(Membership.network_id.in_(tuple(network_ids)))
        .where(Membership.joined_on <= today)
        .where(or_(Membership.left_on.is_(None), Membership.left_on >= today))
    )


def writable_facility(token: ApiToken, facility_id: int) -> Facility | None:
    """A facility the token may change: a *current* member of one of its networks, the
    rule of the facility form (:func:`learnnet.access.can_see_people`)."""
    return db.session.scalar(
        select(Facility)
        .where(Facility.id == facility_id)
        .where(_current_in(visible_network_ids(token), Facility.id))
    )


def writable_contact(token: ApiToken, contact_id: int) -> Contact | None:
    """A contact the token may change: one of a writable facility."""
    return db.session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .where(_current_in(visible_network_ids(token), Contact.facility_id))
    )


def writable_membership(token: ApiToken, membership_id: int) -> Membership | None:
    """A membership of one of the token's networks."""
    return db.session.scalar(
        select(Membership)
        .where(Membership.id == membership_id)
        .where(Membership.network_id.in_(visible_network_ids(token)))
    )


def known_facility(token: ApiToken, facility_id: int) -> Facility | None:
    """A facility that is or was a member of one of the token's networks (one it may make
    a member again); others stay unknown to it."""
    return facility(Query(network_ids=tuple(visible_network_ids(token))), facility_id)


def writable_session(token: ApiToken, session_id: int) -> Session | None:
    """A session of one of the token's networks."""
    return session(Query(network_ids=tuple(visible_network_ids(token))), session_id)


# ---- themes, the yearly record and deletions --------------------------------------------


def current_themes(network_ids: list[int]) -> dict[int, Any]:
    """The current werkjaar's theme of each network (with its goals), in two statements."""
    from learnnet.learning import record as record_rules
    from learnnet.learning.models import WerkjaarTheme

    if not network_ids:
        return {}
    year = record_rules.start_year_of(local_today())
    themes = db.session.scalars(
        select(WerkjaarTheme)
        .where(WerkjaarTheme.network_id.in_(network_ids), WerkjaarTheme.start_year == year)
        .options(selectinload(WerkjaarTheme.goals))
    )
    return {t.network_id: t for t in themes}


def records(
    q: Query, facility_id: int, start_year: int | None, show_names: bool
) -> list[Any] | None:
    """The facility's yearly records for one werkjaar, one per visible network it was a
    member of in that werkjaar, loaded by the record page's own service (one set of sums).
    None when the facility is not one the token may see."""
    from learnnet.learning import record as record_rules
    from learnnet.learning import record_services

    found = facility(q, facility_id)
    if found is None:
        return None
    year = start_year if start_year is not None else record_rules.start_year_of(local_today())
    networks = db.session.scalars(
        select(Network)
        .where(
            Network.id.in_(q.networks),
            exists()
            .where(Membership.network_id == Network.id)
            .where(Membership.facility_id == facility_id),
        )
        .order_by(Network.id)
    )
    pages = []
    for network_row in networks:
        page = record_services.load(
            network_row, found, record_rules.werkjaar_label(year), show_names=show_names
        )
        # load() falls back to another werkjaar when the asked one is not the facility's.
        if page is not None and page.record.start_year == year and year in page.werkjaren:
            pages.append(page)
    return pages


def deletions(q: Query, may_see_people: bool) -> tuple[list[Any], str | None]:
    """A page of the tombstones the token may learn of: sessions and memberships of its
    networks; with "may see people" also answers and attendance of them, and contacts of
    facilities that are or were members of them."""
    from learnnet.api.models import ApiDeletion

    of_networks = ApiDeletion.network_id.in_(q.networks)
    shown = (ApiDeletion.entity.in_(("session", "membership"))) & of_networks
    if may_see_people:
        was_member = (
            exists()
            .where(Membership.facility_id == ApiDeletion.facility_id)
            .where(Membership.network_id.in_(q.networks))
        )
        shown = (
            shown
            | (ApiDeletion.entity.in_(("answer", "attendance")) & of_networks)
            | ((ApiDeletion.entity == "contact") & was_member)
        )
    query = select(ApiDeletion).where(shown)
    if q.updated_since is not None:
        query = query.where(ApiDeletion.deleted_at >= q.updated_since)
    return _page(query, ApiDeletion, q)
