"""Feeds and calendar parts: tokens, validators (ETag, Last-Modified), and building.

The pure :mod:`learnnet.calendar.ical` turns plain events into bytes; this module loads
sessions, words their texts in the reader's language, adds links, and decides what a
feed holds:
- a network's feed: every session of the network;
- a contact's feed: every session of every network their facility belongs to (within
  its membership), with their own answer and a link to the member landing, never their
  personal link: a feed is shared, and calendar providers keep it;
- a facilitator's feed: every session of the networks they facilitate, with counts.
Sessions from half a year back onwards; cancelled sessions stay, marked cancelled, for
30 days after their date, so subscribed calendars remove them.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from learnnet.auth.models import User
from learnnet.calendar import ical
from learnnet.calendar.models import (
    CONTACT,
    FACILITY,
    NETWORK,
    USER,
    CalendarFeed,
    FeedStamp,
)
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Membership, Network, network_facilitator
from learnnet.rsvp import rules
from learnnet.rsvp.models import MAYBE, NO, YES, Rsvp
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import to_local

# Part of every ETag: raise it when the feed's layout changes, so that calendar apps
# fetch it again. 3: a member's events link to the landing, no longer their personal link.
# 4: VTIMEZONEs made from each zone's own changes; the ETag counts every change.
FORMAT = "4"
HISTORY = timedelta(days=183)
CANCELLED_KEPT = timedelta(days=30)


# --- tokens -----------------------------------------------------------------------------------


def _token(nonce: str) -> str:
    return rules.derive_token(str(current_app.config["SECRET_KEY"]), nonce, "calendar-feed")


def token_of(feed: CalendarFeed) -> str:
    """The feed's token (derived from the secret key and its nonce; only a hash is stored)."""
    return _token(feed.nonce)


def _owner_column(kind: str) -> object:
    return {
        NETWORK: CalendarFeed.network_id,
        CONTACT: CalendarFeed.contact_id,
        USER: CalendarFeed.user_id,
    }[kind]


def current_feed(kind: str, owner_id: int) -> CalendarFeed | None:
    """The owner's feed that has not been revoked."""
    return db.session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.kind == kind,
            _owner_column(kind) == owner_id,  # type: ignore[arg-type]
            CalendarFeed.revoked_at.is_(None),
        )
    )


def ensure_feed(kind: str, owner_id: int) -> CalendarFeed:
    """The owner's current feed, made when there is none (no commit)."""
    feed = current_feed(kind, owner_id)
    if feed is not None and rules.token_hash(token_of(feed)) != feed.token_hash:
        feed.revoked_at = utcnow()  # made under another secret key: cannot be shown again
        db.session.flush()
        feed = None
    if feed is None:
        nonce = secrets.token_urlsafe(24)
        feed = CalendarFeed(kind=kind, nonce=nonce, token_hash=rules.token_hash(_token(nonce)))
        setattr(
            feed, {NETWORK: "network_id", CONTACT: "contact_id", USER: "user_id"}[kind], owner_id
        )
        db.session.add(feed)
        db.session.flush()
    return feed


def revoke_feed(kind: str, owner_id: int) -> None:
    """Revoke the owner's current feed URL, if any: it answers 410 Gone from now on, and
    the owner's page offers a new one (no commit)."""
    feed = current_feed(kind, owner_id)
    if feed is not None:
        feed.revoked_at = utcnow()
        db.session.flush()


def reissue_feed(kind: str, owner_id: int) -> CalendarFeed:
    """Revoke the current feed URL (it answers 410 Gone from now on) and make a new one."""
    revoke_feed(kind, owner_id)
    new = ensure_feed(kind, owner_id)
    db.session.commit()
    return new


@dataclass(frozen=True)
class FeedRef:
    """A live feed as its token finds it: the columns a feed request uses and the latest
    stamp behind it. Columns, not an ORM object: revalidations are most feed requests,
    and building the object cost more than running the statement."""

    id: int
    kind: str
    network_id: int | None
    contact_id: int | None
    user_id: int | None
    created_at: datetime
    latest: datetime | None
    versions: int | None = None


def feed_for_token(token: str) -> FeedRef | None:
    """The live feed with this token; None for anything else (revoked, unknown, malformed,
    or its owner gone: a contact who no longer works there, a deactivated account).

    Read together with its latest stamp, so that a calendar client's revalidation (most
    feed requests) costs one statement: see :func:`validators`.
    """
    if not rules.well_formed(token):
        return None
    row = db.session.execute(_by_token(), {"token_hash": rules.token_hash(token)}).first()
    return None if row is None else FeedRef(*row)


def feed_token_revoked(token: str) -> bool:
    """True when this token was a feed's and no longer works: renewed, revoked with its
    personal link, or its owner gone (a contact no longer there, a deactivated account).
    Asked only after :func:`feed_for_token` found no live feed, so any feed row with this
    token is a dead one: a calendar app still polling it gets 410 Gone instead of
    counting as a guess."""
    if not rules.well_formed(token):
        return False
    return bool(
        db.session.scalar(
            select(CalendarFeed.id).where(CalendarFeed.token_hash == rules.token_hash(token))
        )
    )


# --- validators -------------------------------------------------------------------------------


#: How long after its latest change a feed's Last-Modified is taken at its word. A change
#: later in the same second would carry the same whole-second date (HTTP dates have no
#: fractions), so until then the date sent is a second earlier and If-Modified-Since
#: gives no 304; the ETag, which counts every change, still does.
SETTLE = timedelta(seconds=2)


@dataclass(frozen=True)
class Validators:
    """What a conditional GET compares, read without building the calendar.

    ``settled``: no change can still join the second of ``last_modified``, so a client's
    If-Modified-Since of that second can be answered 304.
    """

    etag: str
    last_modified: datetime
    settled: bool = True


@functools.cache
def _by_token() -> Any:
    """The live feed of a token hash, as FeedRef's columns with its latest stamp (built
    once: building this statement took longer than running it)."""
    return select(
        CalendarFeed.id,
        CalendarFeed.kind,
        CalendarFeed.network_id,
        CalendarFeed.contact_id,
        CalendarFeed.user_id,
        CalendarFeed.created_at,
        _latest_stamp(),
        _stamp_versions(),
    ).where(
        CalendarFeed.token_hash == bindparam("token_hash"),
        CalendarFeed.revoked_at.is_(None),
        _owner_present(),
    )


def _owner_present() -> Any:
    """Whether the feed's owner is still there (correlated with CalendarFeed): a network's
    feed lives as long as the network; a contact's while they work at the facility; a
    facilitator's while their account is active. Checked when the feed is read rather
    than revoked when the owner leaves, so every way of leaving counts (a form, a CSV
    import, erasure), and a feed comes back with its owner, like their personal link."""
    contact = (
        exists()
        .where(Contact.id == CalendarFeed.contact_id, Contact.active.is_(True))
        .correlate(CalendarFeed)
    )
    user = (
        exists()
        .where(User.id == CalendarFeed.user_id, User.active.is_(True))
        .correlate(CalendarFeed)
    )
    return or_(
        CalendarFeed.kind == NETWORK,
        and_(CalendarFeed.kind == CONTACT, contact),
        and_(CalendarFeed.kind == USER, user),
    )


def _stamps_behind() -> Any:
    """Which stamps are behind the feed of the row (correlated with CalendarFeed).

    A network's feed: its network. A contact's: the contact, their facility and the
    networks it belongs to. A facilitator's: the user and the networks they facilitate.
    """
    facility = (
        select(Contact.facility_id)
        .where(Contact.id == CalendarFeed.contact_id)
        .correlate(CalendarFeed)
        .scalar_subquery()
    )
    facility_networks = select(Membership.network_id).where(Membership.facility_id == facility)
    user_networks = (
        select(network_facilitator.c.network_id)
        .where(network_facilitator.c.user_id == CalendarFeed.user_id)
        .correlate(CalendarFeed)
    )
    stamp = FeedStamp
    return or_(
        and_(
            CalendarFeed.kind == NETWORK,
            stamp.kind == NETWORK,
            stamp.owner_id == CalendarFeed.network_id,
        ),
        and_(
            CalendarFeed.kind == CONTACT,
            or_(
                and_(stamp.kind == CONTACT, stamp.owner_id == CalendarFeed.contact_id),
                and_(stamp.kind == FACILITY, stamp.owner_id == facility),
                and_(stamp.kind == NETWORK, stamp.owner_id.in_(facility_networks)),
            ),
        ),
        and_(
            CalendarFeed.kind == USER,
            or_(
                and_(stamp.kind == USER, stamp.owner_id == CalendarFeed.user_id),
                and_(stamp.kind == NETWORK, stamp.owner_id.in_(user_networks)),
            ),
        ),
    )


def _latest_stamp() -> Any:
    """The latest change behind the feed of the row (correlated with CalendarFeed)."""
    return (
        select(func.max(FeedStamp.changed_at))
        .where(_stamps_behind())
        .correlate(CalendarFeed)
        .scalar_subquery()
    )


def _stamp_versions() -> Any:
    """How many changes there have been behind the feed of the row: the sum of its stamps'
    versions (correlated with CalendarFeed).

    Each write adds one to a stamp, so the sum grows with every change, also one whose
    clock was behind the stamp. The set of stamps changes only with a membership or
    the facilitators, which writes a stamp that stays in the set (the facility's, the
    user's) and moves the latest change forward.
    """
    return (
        select(func.coalesce(func.sum(FeedStamp.version), 0))
        .where(_stamps_behind())
        .correlate(CalendarFeed)
        .scalar_subquery()
    )


def validators(
    feed: CalendarFeed | FeedRef, variant: str, now: datetime | None = None
) -> Validators:
    """ETag and Last-Modified of a feed; Last-Modified never goes back.

    The ETag changes with every change behind the feed: it hashes the latest change to
    the microsecond and the number of changes (:func:`_stamp_versions`). Last-Modified
    is the latest change in whole seconds once it has settled (:data:`SETTLE`), a second
    earlier before that. No statement for a feed from :func:`feed_for_token` (its stamps
    came with it), one otherwise. ``variant`` adds what else shapes the bytes (the host
    name in its links).
    """
    if isinstance(feed, FeedRef):
        latest, versions = feed.latest, feed.versions
    else:
        latest, versions = db.session.execute(
            select(_latest_stamp(), _stamp_versions()).where(CalendarFeed.id == feed.id)
        ).one()
    moment = max(latest or feed.created_at, feed.created_at)
    key = f"{FORMAT}:{feed.id}:{moment.isoformat()}:{versions or 0}:{variant}"
    tag = hashlib.sha256(key.encode()).hexdigest()[:32]
    settled = (now or utcnow()) - moment >= SETTLE
    last_modified = moment.replace(microsecond=0)
    if not settled:
        last_modified -= timedelta(seconds=1)
    return Validators(etag=tag, last_modified=last_modified, settled=settled)


# --- words ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """Labels of a calendar's texts, translated once per calendar."""

    agenda: str
    showcase: str
    practical: str
    cancelled: str
    your_answer: str
    answers: dict[str, str]
    open_link: str
    counts: Callable[[dict[str, int], int | None], str]


def words_for(language: str) -> Words:
    with force_locale(language):
        answers = {
            YES: _("yes, I'm coming"),
            "waitlist": _("on the waitlist"),
            MAYBE: _("maybe"),
            NO: _("no, I'm not coming"),
            "none": _("not answered yet"),
        }
        template = {
            "coming": _("Coming"),
            "waitlist": _("Waitlist"),
            "maybe": _("Maybe"),
            "no": _("Not coming"),
            "of": _("places"),
        }
        return Words(
            agenda=_("Agenda"),
            showcase=_("What the host will show"),
            practical=_("Practical information"),
            cancelled=_("Cancelled"),
            your_answer=_("Your answer"),
            answers=answers,
            open_link=_("Answer or change your answer"),
            counts=lambda c, capacity: (
                f"{template['coming']}: {c.get('yes', 0)}"
                + (f"/{capacity} {template['of']}" if capacity else "")
                + f" · {template['waitlist']}: {c.get('waitlist', 0)}"
                + f" · {template['maybe']}: {c.get('maybe', 0)}"
                + f" · {template['no']}: {c.get('no', 0)}"
            ),
        )


def _location(session: Session) -> str:
    host = session.host
    address = ", ".join(p for p in (host.street, f"{host.postcode} {host.city}".strip()) if p)
    return f"{host.name}, {address}" if address else host.name


def event_for(
    session: Session,
    words: Words,
    *,
    extra: tuple[str, ...] = (),
    url: str = "",
    organizer: ical.Person | None = None,
    attendee: ical.Person | None = None,
) -> ical.Event:
    """One session as a calendar event, worded with ``words``."""
    cancelled = session.status == CANCELLED
    parts = list(extra)
    if session.agenda:
        parts.append(f"{words.agenda}:\n{session.agenda}")
    if session.host_showcase:
        parts.append(f"{words.showcase}:\n{session.host_showcase}")
    if session.practical_info:
        parts.append(f"{words.practical}:\n{session.practical_info}")
    if url:
        parts.append(url)
    summary = f"{session.network.name}: {session.title}"
    return ical.Event(
        uid=session.uid,
        sequence=session.revision,
        start=session.starts_at,
        end=session.ends_at,
        tz=session.network.timezone,
        summary=f"{words.cancelled}: {summary}" if cancelled else summary,
        last_modified=session.updated_at or session.created_at,
        created=session.created_at,
        description="\n\n".join(parts),
        location=_location(session),
        url=url,
        status=ical.CANCELLED if cancelled else ical.CONFIRMED,
        organizer=organizer,
        attendees=(attendee,) if attendee else (),
    )


# --- feeds ------------------------------------------------------------------------------------


def _window(query: object, now: datetime) -> object:
    return query.where(  # type: ignore[attr-defined]
        Session.starts_at >= now - HISTORY,
        or_(Session.status != CANCELLED, Session.ends_at >= now - CANCELLED_KEPT),
    )


def _sessions(where: object, now: datetime) -> list[Session]:
    query = (
        select(Session)
        .where(where)  # type: ignore[arg-type]
        .options(joinedload(Session.host), joinedload(Session.network))
        .order_by(Session.starts_at, Session.id)
    )
    return list(db.session.scalars(_window(query, now)))  # type: ignore[arg-type]


def answer_key(rsvp: Rsvp | None) -> str:
    """The answer as one of "yes", "waitlist", "maybe", "no", "none"."""
    if rsvp is None or rsvp.answer not in (YES, MAYBE, NO):
        return "none"
    if rsvp.answer == YES and rsvp.waitlisted:
        return "waitlist"
    return rsvp.answer


def _member_sessions(contact: Contact, now: datetime) -> list[Session]:
    periods = list(
        db.session.execute(
            select(Membership.network_id, Membership.joined_on, Membership.left_on).where(
                Membership.facility_id == contact.facility_id
            )
        )
    )
    if not periods:
        return []
    sessions = _sessions(Session.network_id.in_({p[0] for p in periods}), now)

    def member_then(session: Session) -> bool:
        day = to_local(session.starts_at, session.network.timezone).date()
        return any(
            network_id == session.network_id and joined <= day and (left is None or day <= left)
            for network_id, joined, left in periods
        )

    return [s for s in sessions if member_then(s)]


def feed_calendar(
    feed: CalendarFeed | FeedRef,
    landing_url: Callable[[Session], str],
    session_url: Callable[[Session], str],
) -> ical.Calendar:
    """What a feed holds, worded in its reader's language. A member's events link to
    ``landing_url`` (which asks for the personal link), a facilitator's to ``session_url``."""
    now = utcnow()
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if feed.kind == NETWORK:
        network = db.session.get(Network, feed.network_id)
        assert network is not None  # nosec B101 - cascade deletes feeds
        words = words_for(default)
        events = tuple(
            event_for(s, words) for s in _sessions(Session.network_id == network.id, now)
        )
        return ical.Calendar(events=events, name=network.name, timezone=network.timezone)
    if feed.kind == CONTACT:
        contact = db.session.get(Contact, feed.contact_id)
        assert contact is not None  # nosec B101
        language = contact.preferred_language
        words = words_for(language)
        sessions = _member_sessions(contact, now)
        own = {
            r.session_id: r
            for r in db.session.scalars(
                select(Rsvp).where(
                    Rsvp.contact_id == contact.id, Rsvp.session_id.in_([s.id for s in sessions])
                )
            )
        }
        events = tuple(
            event_for(
                s,
                words,
                extra=(f"{words.your_answer}: {words.answers[answer_key(own.get(s.id))]}",),
                url=landing_url(s),
            )
            for s in sessions
        )
        with force_locale(language):
            name = _("My learning networks")
        return ical.Calendar(events=events, name=name)
    user = db.session.get(User, feed.user_id)
    assert user is not None  # nosec B101
    words = words_for(user.locale or default)
    ids = select(network_facilitator.c.network_id).where(network_facilitator.c.user_id == user.id)
    sessions = _sessions(Session.network_id.in_(ids), now)
    counts = answer_counts([s.id for s in sessions])
    events = tuple(
        event_for(
            s,
            words,
            extra=(words.counts(counts.get(s.id, {}), s.capacity),),
            url=session_url(s),
        )
        for s in sessions
    )
    with force_locale(user.locale or default):
        name = _("Sessions I facilitate")
    return ical.Calendar(events=events, name=name)


def answer_counts(session_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per session: confirmed, waitlisted, maybe and no answers, in one statement."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Rsvp.session_id, Rsvp.answer, Rsvp.waitlisted, func.count(Rsvp.id))
        .where(Rsvp.session_id.in_(session_ids), Rsvp.answer.in_((YES, MAYBE, NO)))
        .group_by(Rsvp.session_id, Rsvp.answer, Rsvp.waitlisted)
    )
    found: dict[int, dict[str, int]] = {}
    for session_id, answer, waitlisted, n in rows:
        key = "waitlist" if answer == YES and waitlisted else answer
        found.setdefault(session_id, {})[key] = found.get(session_id, {}).get(key, 0) + n
    return found


def load_for_event(session_id: int) -> Session | None:
    """A session with what its event needs."""
    return db.session.scalar(
        select(Session)
        .where(Session.id == session_id)
        .options(selectinload(Session.host), selectinload(Session.network))
    )


def utc_http_date(moment: datetime) -> datetime:
    """A moment as HTTP dates carry it: UTC, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0)
