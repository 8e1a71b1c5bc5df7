"""Who a contact is and where they belong: personal links, networks, expected people.

The lowest part of the answering room; both :mod:`services` and :mod:`notify` use it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from learnnet import signals
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership
from learnnet.rsvp import rules
from learnnet.rsvp.models import PersonalLink
from learnnet.sessions.models import Session
from learnnet.timefmt import to_local

# --- personal links ---------------------------------------------------------------------------


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def token_of(link: PersonalLink) -> str:
    """The token of a stored link (derived from the secret key and its nonce)."""
    return rules.derive_token(_secret(), link.nonce)


def current_link(contact: Contact) -> PersonalLink | None:
    """The contact's link that has not been revoked, if any."""
    return db.session.scalar(
        select(PersonalLink).where(
            PersonalLink.contact_id == contact.id, PersonalLink.revoked_at.is_(None)
        )
    )


def ensure_link(contact: Contact) -> PersonalLink:
    """The contact's current link, creating one when there is none (no commit).

    A link made under another secret key (the key was changed) can no longer be shown:
    its token no longer hashes to what is stored. It is retired and replaced.
    """
    link = current_link(contact)
    if link is not None and rules.token_hash(token_of(link)) != link.token_hash:
        link.revoked_at = utcnow()
        db.session.flush()
        link = None
    if link is None:
        nonce = secrets.token_urlsafe(24)
        link = PersonalLink(
            contact=contact,
            nonce=nonce,
            token_hash=rules.token_hash(rules.derive_token(_secret(), nonce)),
        )
        db.session.add(link)
        db.session.flush()
    return link


def reissue_link(contact: Contact) -> PersonalLink:
    """Revoke the contact's link (the old one stops working at once) and make a new one.

    Whoever had the old link may have subscribed to the feed its page offers: the
    calendar room revokes that feed in the same transaction (``personal_link_renewed``).
    """
    link = current_link(contact)
    if link is not None:
        link.revoked_at = utcnow()
        db.session.flush()
    new = ensure_link(contact)
    signals.personal_link_renewed.send(contact)
    db.session.commit()
    return new


def contact_for_token(token: str) -> Contact | None:
    """The active contact whose current link has this token; None for anything else."""
    if not rules.well_formed(token):
        return None
    from learnnet import changes

    row = db.session.execute(
        select(PersonalLink, changes.column())
        .where(
            PersonalLink.token_hash == rules.token_hash(token),
            PersonalLink.revoked_at.is_(None),
        )
        .options(joinedload(PersonalLink.contact).joinedload(Contact.facility))
    ).first()
    if row is None:
        return None
    link, version = row
    changes.note(version)  # read with the link: see learnnet.pagecache
    if not link.contact.active:
        return None
    if has_request_context():
        # remember_device needs it again: as plain values, which the page cache's
        # expire_all leaves readable without another statement; per request (an app
        # context, and so ``g``, may outlive one).
        request.environ[_LINK_FACTS] = (link.contact_id, link.nonce)
    return link.contact


# --- where a contact belongs ------------------------------------------------------------------


def member_networks(facility_id: int, today: date) -> dict[int, date | None]:
    """Networks the facility is a member of today, with the day it leaves (if known)."""
    rows = db.session.execute(
        select(Membership.network_id, Membership.left_on).where(
            Membership.facility_id == facility_id,
            Membership.joined_on <= today,
            or_(Membership.left_on.is_(None), Membership.left_on >= today),
        )
    )
    return {network_id: left_on for network_id, left_on in rows}


def is_member_on(facility_id: int, network_id: int, day: date) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(Membership.id)).where(
                Membership.facility_id == facility_id,
                Membership.network_id == network_id,
                Membership.joined_on <= day,
                or_(Membership.left_on.is_(None), Membership.left_on >= day),
            )
        )
    )


def expected_contacts(session: Session) -> list[Contact]:
    """Active contacts of the facilities that are members on the session's day."""
    day = to_local(session.starts_at, session.network.timezone).date()
    return list(
        db.session.scalars(
            select(Contact)
            .join(Membership, Membership.facility_id == Contact.facility_id)
            .where(
                Membership.network_id == session.network_id,
                Membership.joined_on <= day,
                or_(Membership.left_on.is_(None), Membership.left_on >= day),
                Contact.active.is_(True),
            )
            .options(joinedload(Contact.facility))
            .order_by(Contact.facility_id, func.lower(Contact.name))
        ).unique()
    )


@dataclass(frozen=True, slots=True)
class ExpectedFacility:
    """A facility as a session page names it."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Expected:
    """An expected contact as a session page reads one: columns, not an ORM object."""

    id: int
    facility_id: int
    name: str
    email: str | None
    facility: ExpectedFacility


def expected_people(session: Session) -> list[Expected]:
    """:func:`expected_contacts` as rows of the columns a session page shows, in the same
    order: 400 contacts and their facilities as ORM objects were a third of its time."""
    day = to_local(session.starts_at, session.network.timezone).date()
    rows = db.session.execute(
        select(Contact.id, Contact.facility_id, Contact.name, Contact.email, Facility.name)
        .join(Facility, Facility.id == Contact.facility_id)
        .join(Membership, Membership.facility_id == Contact.facility_id)
        .where(
            Membership.network_id == session.network_id,
            Membership.joined_on <= day,
            or_(Membership.left_on.is_(None), Membership.left_on >= day),
            Contact.active.is_(True),
        )
        .order_by(Contact.facility_id, func.lower(Contact.name))
    )
    places: dict[int, ExpectedFacility] = {}
    found: dict[int, Expected] = {}  # a facility with two memberships that day: once
    for ident, facility_id, name, email, facility_name in rows:
        place = places.get(facility_id) or places.setdefault(
            facility_id, ExpectedFacility(facility_id, facility_name)
        )
        found.setdefault(ident, Expected(ident, facility_id, name, email, place))
    return list(found.values())


# --- the phone that opened a personal link ----------------------------------------------------

DEVICE_COOKIE = "learnnet_member"
_LINK_FACTS = "learnnet.personal_link"  # (contact id, nonce) of this request's link


def _device_serializer() -> Any:
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="member-device")


def remember_device(response: Any, contact: Contact) -> None:
    """Remember on this phone whose personal link it opened (signed, HttpOnly; renewing
    the link forgets it), so that scanning a session's check-in code identifies them."""
    facts = request.environ.get(_LINK_FACTS)
    if facts is not None and facts[0] == contact.id:
        nonce = facts[1]
    else:
        link = current_link(contact)
        if link is None:
            return
        nonce = link.nonce
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps({"c": contact.id, "n": nonce[:12]}),
        max_age=400 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["ENV"] == "production",
    )


def remembered_contact(cookie: str) -> Contact | None:
    """The active contact this phone opened a still valid personal link of, if any."""
    from itsdangerous import BadSignature

    try:
        data = _device_serializer().loads(cookie) if cookie else None
        contact = db.session.get(Contact, int(data["c"])) if data else None
        nonce = str(data["n"]) if data else ""
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    link = current_link(contact) if contact is not None else None
    if contact is None or not contact.active or link is None or link.nonce[:12] != nonce:
        return None
    return contact
