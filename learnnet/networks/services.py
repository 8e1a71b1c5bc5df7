"""Use cases for networks, facilities, memberships and contacts.

Views call these with plain values and the acting user; these functions read and
write the database and commit. They raise :class:`ServiceError` subclasses for the
conflicts a form should show beside a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, insert, literal, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from learnnet import signals
from learnnet.access import needing_consent
from learnnet.audit import trail
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks import checks, csvio
from learnnet.networks.models import (
    NETWORK_ACTIVE,
    NETWORK_ARCHIVED,
    REQUEST_ACCEPTED,
    REQUEST_DECLINED,
    REQUEST_PENDING,
    REQUEST_WITHDRAWN,
    Contact,
    Facility,
    Membership,
    MembershipRequest,
    Network,
    network_facilitator,
)
from learnnet.networks.rules import collapse_spaces, name_key, slugify, unique_slug
from learnnet.timefmt import local_today


class ServiceError(Exception):
    """A rule stops the change; ``field`` names the form field the message belongs to."""

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__(message or field)
        self.field = field


class DuplicateFacility(ServiceError):
    """Another facility has the same name and postcode."""

    def __init__(self, existing: Facility) -> None:
        super().__init__("name")
        self.existing = existing


class DuplicateContact(ServiceError):
    """Another contact at this facility has the same email address."""


class DuplicateSlug(ServiceError):
    """Another network uses this web address."""


class AlreadyMember(ServiceError):
    """The facility is a current member of the network."""


class AlreadyRequested(ServiceError):
    """The network already asked this facility to join; the answer is pending."""


class NotPending(ServiceError):
    """The membership request was already accepted, declined or withdrawn."""


# --- networks -----------------------------------------------------------------------------


def visible_networks(
    user: User, include_archived: bool = True, mine_only: bool = False
) -> list[Network]:
    """The networks the user facilitates (admins: all, unless ``mine_only``), active first,
    by name."""
    query = select(Network).options(selectinload(Network.facilitators))
    if not user.is_admin or mine_only:
        query = query.join(network_facilitator).where(network_facilitator.c.user_id == user.id)
    if not include_archived:
        query = query.where(Network.status == NETWORK_ACTIVE)
    query = query.order_by(Network.status, func.lower(Network.name))
    return list(db.session.scalars(query).unique())


def visible_network_ids(user: User, mine_only: bool = False) -> list[int]:
    """The ids of :func:`visible_networks` (one light statement: the page cache's key)."""
    query = select(Network.id)
    if not user.is_admin or mine_only:
        query = query.join(network_facilitator).where(network_facilitator.c.user_id == user.id)
    return sorted(db.session.scalars(query))


@dataclass
class NetworkSummary:
    """Counts for the dashboard card of a network, and the next step they suggest."""

    members: int = 0
    contacts: int = 0
    hosts: int = 0
    # (facility id, name) of the current members without an active contact person.
    without_contact: list[tuple[int, str]] = field(default_factory=list)

    @property
    def without_contacts(self) -> int:
        """How many current members have no active contact person."""
        return len(self.without_contact)

    @property
    def next_step(self) -> str:
        """A key for the most useful next action (the template words it)."""
        if self.members < 2:
            return "add_members"
        if self.without_contacts:
            return "add_contacts"
        if self.hosts < 2:
            return "find_hosts"
        return "plan_sessions"


def network_summaries(network_ids: list[int]) -> dict[int, NetworkSummary]:
    """Member, contact and host counts of many networks, and the members without an active
    contact person, in one statement (a row per current membership)."""
    summaries = {nid: NetworkSummary() for nid in network_ids}
    if not network_ids:
        return summaries
    contacts_per_facility = (
        select(Contact.facility_id, func.count(Contact.id).label("n"))
        .where(Contact.active.is_(True))
        .group_by(Contact.facility_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Membership.network_id,
            Facility.id,
            Facility.name,
            Facility.willing_to_host,
            contacts_per_facility.c.n,
        )
        .join(Facility, Facility.id == Membership.facility_id)
        .outerjoin(contacts_per_facility, contacts_per_facility.c.facility_id == Facility.id)
        .where(Membership.network_id.in_(network_ids), Membership.left_on.is_(None))
        .order_by(Membership.network_id, Facility.name_key)
    )
    for network_id, facility_id, name, willing, contacts in rows:
        summary = summaries[network_id]
        summary.members += 1
        summary.hosts += 1 if willing else 0
        summary.contacts += contacts or 0
        if not contacts:
            summary.without_contact.append((facility_id, name))
    return summaries


def _taken_slugs(exclude_id: int | None = None) -> set[str]:
    query = select(Network.slug)
    if exclude_id is not None:
        query = query.where(Network.id != exclude_id)
    return set(db.session.scalars(query))


def create_network(actor: User, data: dict[str, Any], facilitator_ids: list[int]) -> Network:
    """Create a network; the actor becomes one of its facilitators."""
    slug = data.pop("slug", "") or ""
    taken = _taken_slugs()
    if slug:
        slug = slugify(slug)
        if slug in taken:
            raise DuplicateSlug("slug")
    else:
        slug = unique_slug(slugify(data["name"]), taken)
    network = Network(slug=slug, **data)
    ids = set(facilitator_ids) | {actor.id}
    network.facilitators = list(db.session.scalars(select(User).where(User.id.in_(ids))))
    db.session.add(network)
    db.session.commit()
    return network


def update_network(
    network: Network, data: dict[str, Any], facilitator_ids: list[int] | None
) -> None:
    """Change a network's details and its facilitators (at least one must stay)."""
    slug = slugify(data.pop("slug", "") or network.slug)
    if slug != network.slug and slug in _taken_slugs(network.id):
        raise DuplicateSlug("slug")
    network.slug = slug
    for key, value in data.items():
        setattr(network, key, value)
    if facilitator_ids is not None:
        if not facilitator_ids:
            raise ServiceError("facilitators")
        network.facilitators = list(
            db.session.scalars(select(User).where(User.id.in_(facilitator_ids)))
        )
    db.session.commit()


def set_network_status(network: Network, archived: bool) -> None:
    """Archive (keep for history, stop planning) or reactivate a network."""
    network.status = NETWORK_ARCHIVED if archived else NETWORK_ACTIVE
    db.session.commit()


@dataclass
class NetworkPage:
    """Everything the network page shows, loaded in a fixed number of statements."""

    current: list[Membership]
    former: list[Membership]
    directory: list[Contact]
    # Facilities asked to join that have not answered (only when asked for).
    requests: list[MembershipRequest] = field(default_factory=list)


def network_page(network: Network, with_requests: bool = False) -> NetworkPage:
    """Members with their contacts, former members, and the opt-in directory; with
    ``with_requests`` the pending membership requests too (one statement more, only when
    there are any: the members' statement tells)."""
    asked = (
        select(MembershipRequest.id)
        .where(
            MembershipRequest.network_id == network.id,
            MembershipRequest.status == REQUEST_PENDING,
        )
        .exists()
    )
    rows = db.session.execute(
        select(Membership, asked if with_requests else literal(False))
        .where(Membership.network_id == network.id)
        .join(Facility)
        .options(contains_eager(Membership.facility).selectinload(Facility.contacts))
        .order_by(func.lower(Facility.name), Membership.joined_on)
    ).all()
    memberships = [row[0] for row in rows]
    requests: list[MembershipRequest] = []
    if with_requests and (not rows or rows[0][1]):
        requests = pending_requests(network)
    current = [m for m in memberships if m.left_on is None]
    current_ids = {m.facility_id for m in current}
    former = [m for m in memberships if m.left_on is not None and m.facility_id not in current_ids]
    directory = [c for m in current for c in m.facility.contacts if c.active and c.share_details]
    directory.sort(key=lambda c: (c.name.casefold(), c.facility.name.casefold()))
    return NetworkPage(current=current, former=former, directory=directory, requests=requests)


# --- facilities -----------------------------------------------------------------------------


def find_facility(name: str, postcode: str) -> Facility | None:
    """The facility with this name (case, accents and spaces ignored) and postcode."""
    return db.session.scalar(
        select(Facility).where(Facility.name_key == name_key(name), Facility.postcode == postcode)
    )


def _check_facility_unique(name: str, postcode: str, facility_id: int | None) -> None:
    existing = find_facility(name, postcode)
    if existing is not None and existing.id != facility_id:
        raise DuplicateFacility(existing)


def _stored_email(data: dict[str, Any]) -> dict[str, Any]:
    """The address as every way in stores it (lower-case, as the CSV import does)."""
    if not data.get("email"):
        return data
    return data | {"email": checks.email(data["email"])[0] or data["email"]}


def create_facility(data: dict[str, Any], network: Network | None, joined_on: date) -> Facility:
    """Create a facility and, when a network is given, make it a member from ``joined_on``."""
    data = _stored_email(data)
    _check_facility_unique(data["name"], data.get("postcode", ""), None)
    facility = Facility(name_key=name_key(data["name"]), **data)
    db.session.add(facility)
    if network is not None:
        membership = Membership(network=network, facility=facility, joined_on=joined_on)
        db.session.add(membership)
        db.session.flush()
        signals.membership_started.send((membership,))
    db.session.commit()
    return facility


def update_facility(facility: Facility, data: dict[str, Any]) -> None:
    """Change a facility's details; name plus postcode must stay unique."""
    data = _stored_email(data)
    _check_facility_unique(data["name"], data.get("postcode", ""), facility.id)
    changed = frozenset(k for k, v in data.items() if getattr(facility, k) != v)
    for key, value in data.items():
        setattr(facility, key, value)
    facility.name_key = name_key(facility.name)
    signals.facility_updated.send(facility, changed=changed)  # a new place for calendars
    db.session.commit()


def visible_facilities_query(user: User) -> Any:
    """Select of the facilities a user may open (admins: all)."""
    query = select(Facility)
    if not user.is_admin:
        mine = (
            select(Membership.facility_id)
            .join(network_facilitator, network_facilitator.c.network_id == Membership.network_id)
            .where(network_facilitator.c.user_id == user.id)
        )
        query = query.where(Facility.id.in_(mine))
    return query


FACILITY_SORTS = ("name", "city", "contacts", "hosting")


def _facility_order(sort: str) -> list[Any]:
    """ORDER BY for a ``sort`` key of :data:`FACILITY_SORTS`, ``-key`` descending."""
    key = sort.lstrip("-")
    if key == "city":
        columns: list[Any] = [func.lower(Facility.city), Facility.postcode]
    elif key == "contacts":
        columns = [
            select(func.count(Contact.id))
            .where(Contact.facility_id == Facility.id, Contact.active.is_(True))
            .correlate(Facility)
            .scalar_subquery()
        ]
    elif key == "hosting":
        columns = [Facility.willing_to_host]
    else:
        columns = []
    if sort.startswith("-"):
        columns = [c.desc() for c in columns]
    name = Facility.name_key.desc() if sort == "-name" else Facility.name_key
    return [*columns, name, Facility.postcode]


def search_facilities(
    user: User,
    text: str = "",
    network_id: int | None = None,
    hosts_only: bool = False,
    limit: int = 200,
    sort: str = "name",
) -> list[Facility]:
    """Facilities visible to the user, filtered by text (name, city, postcode), network,
    hosting; ordered by ``sort`` (a key of :data:`FACILITY_SORTS`, ``-key`` descending)."""
    query = visible_facilities_query(user).options(
        selectinload(Facility.memberships).selectinload(Membership.network),
        selectinload(Facility.contacts),
    )
    if text:
        key = name_key(text).replace("\\", "").replace("%", "").replace("_", "")
        like = f"%{key}%"
        query = query.where(
            or_(
                Facility.name_key.like(like),
                func.lower(Facility.city).like(f"%{collapse_spaces(text).lower()}%"),
                Facility.postcode.like(like),
            )
        )
    if network_id:
        query = query.where(
            Facility.id.in_(
                select(Membership.facility_id).where(
                    Membership.network_id == network_id, Membership.left_on.is_(None)
                )
            )
        )
    if hosts_only:
        query = query.where(Facility.willing_to_host.is_(True))
    query = query.order_by(*_facility_order(sort)).limit(limit)
    return list(db.session.scalars(query))


def search_people(user: User, text: str, limit: int = 50) -> list[Contact]:
    """People whose name or email address contains ``text`` (two characters at least).

    Only the people a user may see (:func:`learnnet.access.can_see_people`): admins
    everyone, a facilitator the contacts of facilities that are current members of one of
    their networks. Active people first, then by name.
    """
    needle = collapse_spaces(text).lower().replace("\\", "").replace("%", "").replace("_", "")
    if len(needle) < 2:
        return []
    query = (
        select(Contact)
        .options(selectinload(Contact.facility))
        .where(
            or_(
                func.lower(Contact.name).like(f"%{needle}%"),
                func.lower(Contact.email).like(f"%{needle}%"),
            )
        )
    )
    if not user.is_admin:
        today = local_today()
        current = (
            select(Membership.facility_id)
            .join(network_facilitator, network_facilitator.c.network_id == Membership.network_id)
            .where(
                network_facilitator.c.user_id == user.id,
                Membership.joined_on <= today,
                or_(Membership.left_on.is_(None), Membership.left_on >= today),
            )
        )
        query = query.where(Contact.facility_id.in_(current))
    query = query.order_by(Contact.active.desc(), func.lower(Contact.name), Contact.id)
    return list(db.session.scalars(query.limit(limit)))


def facilities_not_in(network: Network, text: str = "", limit: int = 25) -> list[Facility]:
    """Facilities that could join the network, found by name or postcode (two characters
    at least): the shared register is searched, never listed whole."""
    key = name_key(text or "").replace("\\", "").replace("%", "").replace("_", "")
    if len(key) < 2:
        return []
    current = select(Membership.facility_id).where(
        Membership.network_id == network.id, Membership.left_on.is_(None)
    )
    return list(
        db.session.scalars(
            select(Facility)
            .where(
                Facility.id.not_in(current),
                or_(Facility.name_key.like(f"%{key}%"), Facility.postcode.like(f"{key}%")),
            )
            .order_by(Facility.name_key, Facility.postcode)
            .limit(limit)
        )
    )


# --- memberships -----------------------------------------------------------------------------


def _current_membership(network_id: int, facility_id: int) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.network_id == network_id,
            Membership.facility_id == facility_id,
            Membership.left_on.is_(None),
        )
    )


def _pending_request(network_id: int, facility_id: int) -> MembershipRequest | None:
    return db.session.scalar(
        select(MembershipRequest).where(
            MembershipRequest.network_id == network_id,
            MembershipRequest.facility_id == facility_id,
            MembershipRequest.status == REQUEST_PENDING,
        )
    )


def add_member(
    network: Network, facility: Facility, joined_on: date, actor: User
) -> Membership | MembershipRequest:
    """Make the facility a member, or only ask it to join when it is or was in a network
    the actor does not facilitate (:func:`learnnet.access.joins_at_once`): then a pending
    :class:`MembershipRequest` is returned, which shows none of its people. Refused when it
    already is a member, or was already asked."""
    if _current_membership(network.id, facility.id) is not None:
        raise AlreadyMember("facility_id")
    if _pending_request(network.id, facility.id) is not None:
        raise AlreadyRequested("facility_id")
    if facility.id in needing_consent(actor, [facility.id]):
        request = MembershipRequest(
            network=network, facility=facility, joined_on=joined_on, requested_by_id=actor.id
        )
        db.session.add(request)
        db.session.flush()
        signals.membership_requested.send(request)  # its contacts are asked by mail
        db.session.commit()
        return request
    membership = Membership(network=network, facility=facility, joined_on=joined_on)
    db.session.add(membership)
    db.session.flush()
    signals.membership_started.send((membership,))
    db.session.commit()
    return membership


def pending_requests(network: Network) -> list[MembershipRequest]:
    """The network's requests still waiting for an answer, with their facilities."""
    return list(
        db.session.scalars(
            select(MembershipRequest)
            .join(Facility, Facility.id == MembershipRequest.facility_id)
            .options(
                contains_eager(MembershipRequest.facility),
                selectinload(MembershipRequest.requested_by),
            )
            .where(
                MembershipRequest.network_id == network.id,
                MembershipRequest.status == REQUEST_PENDING,
            )
            .order_by(Facility.name_key)
        )
    )


def requests_to_facility(facility_id: int) -> list[MembershipRequest]:
    """Pending requests of networks that ask this facility to join, with who asked."""
    return list(
        db.session.scalars(
            select(MembershipRequest)
            .options(
                selectinload(MembershipRequest.network).selectinload(Network.facilitators),
                selectinload(MembershipRequest.requested_by),
            )
            .where(
                MembershipRequest.facility_id == facility_id,
                MembershipRequest.status == REQUEST_PENDING,
            )
            .order_by(MembershipRequest.created_at, MembershipRequest.id)
        )
    )


def _decide(
    request: MembershipRequest, status: str, user: User | None, contact: Contact | None
) -> MembershipRequest:
    """Close a pending request (locked, so two answers cannot both count)."""
    locked = db.session.scalar(
        select(MembershipRequest)
        .where(MembershipRequest.id == request.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.status != REQUEST_PENDING:
        db.session.rollback()
        raise NotPending("request")
    locked.status = status
    locked.decided_at = utcnow()
    locked.decided_by_user_id = user.id if user is not None else None
    locked.decided_by_contact_id = contact.id if contact is not None else None
    return locked


def accept_request(
    request: MembershipRequest, *, user: User | None = None, contact: Contact | None = None
) -> Membership | None:
    """The facility agrees (a ``contact`` of it) or an admin (``user``) does: the membership
    starts on the asked date, or today when that has passed. None when the facility
    had become a member meanwhile."""
    locked = _decide(request, REQUEST_ACCEPTED, user, contact)
    membership = None
    if _current_membership(locked.network_id, locked.facility_id) is None:
        membership = Membership(
            network_id=locked.network_id,
            facility_id=locked.facility_id,
            joined_on=max(locked.joined_on, local_today()),
        )
        db.session.add(membership)
        db.session.flush()
        signals.membership_started.send((membership,))
    db.session.commit()
    return membership


def decline_request(request: MembershipRequest, contact: Contact) -> None:
    """A contact of the facility says no: nothing of it is shown to the network."""
    _decide(request, REQUEST_DECLINED, None, contact)
    db.session.commit()


def withdraw_request(request: MembershipRequest, user: User) -> None:
    """The network's facilitator no longer asks."""
    _decide(request, REQUEST_WITHDRAWN, user, None)
    db.session.commit()


def leave(membership: Membership, left_on: date) -> None:
    """End a membership on ``left_on``; the row and its history stay."""
    if left_on < membership.joined_on:
        raise ServiceError("left_on")
    membership.left_on = left_on
    db.session.flush()
    signals.membership_ended.send(membership)  # answers for later sessions are withdrawn
    db.session.commit()


# --- contacts -----------------------------------------------------------------------------


def _check_contact_unique(facility: Facility, email: str | None, contact_id: int | None) -> None:
    if not email:
        return
    other = db.session.scalar(
        select(Contact).where(Contact.facility_id == facility.id, Contact.email == email)
    )
    if other is not None and other.id != contact_id:
        raise DuplicateContact("email")


def _contact_email(raw: str | None) -> str | None:
    """The address as every way in stores it (the rule of ``checks.email``)."""
    raw = (raw or "").strip()
    return checks.email(raw)[0] or raw.lower() or None


def create_contact(facility: Facility, data: dict[str, Any]) -> Contact:
    """Add a person to a facility; an email address is unique within the facility."""
    data["email"] = _contact_email(data.get("email"))
    _check_contact_unique(facility, data["email"], None)
    contact = Contact(facility=facility, **data)
    db.session.add(contact)
    db.session.commit()
    return contact


def update_contact(contact: Contact, data: dict[str, Any]) -> None:
    """Change a contact's details."""
    data["email"] = _contact_email(data.get("email"))
    _check_contact_unique(contact.facility, data["email"], contact.id)
    was_active = contact.active
    for key, value in data.items():
        setattr(contact, key, value)
    if was_active and not contact.active:
        db.session.flush()
        signals.contact_left.send(contact)  # answers for sessions to come are withdrawn
    db.session.commit()


# --- CSV -----------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """What an import would do, shown in the preview before anything is written."""

    new_facilities: int = 0
    updated_facilities: int = 0
    new_members: int = 0
    new_contacts: int = 0
    updated_contacts: int = 0
    # Facilities found in the register but not members of this network: they join,
    # their details and people are left as they are (they belong to others too).
    elsewhere: list[str] = field(default_factory=list)
    # Facilities of networks the importer does not facilitate: they are asked to join
    # (a membership request), nothing of them is shown until they accept.
    requested: list[str] = field(default_factory=list)
    # After the import: the existing facilities whose details it changed.
    changed_facility_ids: list[int] = field(default_factory=list, compare=False)


# CSV column -> facility attribute, for the columns an import may change.
_FACILITY_COLUMNS = {
    "street": "street",
    "city": "city",
    "phone": "phone",
    "email": "email",
    "website": "website",
    "room_capacity": "room_capacity",
    "willing_to_host": "willing_to_host",
    "accessibility": "accessibility_notes",
    "parking": "parking_notes",
}
_CONTACT_COLUMNS = {
    "contact_email": "email",
    "contact_phone": "phone",
    "contact_function": "function",
    "contact_language": "preferred_language",
    "contact_share": "share_details",
}


def _facility_values(row: csvio.FacilityRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "name_key": row.key,
        "street": row.street,
        "postcode": row.postcode,
        "city": row.city,
        "phone": row.phone,
        "email": row.email,
        "website": row.website,
        "room_capacity": row.room_capacity,
        "willing_to_host": row.willing_to_host,
        "accessibility_notes": row.accessibility,
        "parking_notes": row.parking,
    }


def _contact_values(person: csvio.ContactRow) -> dict[str, Any]:
    return {
        "name": person.name,
        "email": person.email,
        "phone": person.phone,
        "function": person.function,
        "preferred_language": person.language,
        "share_details": person.share,
        "active": True,
    }


@dataclass
class _ImportWork:
    """An import worked out against the stored rows: the counts and what to write."""

    plan: ImportPlan = field(default_factory=ImportPlan)
    # New facilities with their contacts' values.
    new_facilities: list[tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)
    joining: list[int] = field(default_factory=list)  # facilities found elsewhere
    requesting: list[int] = field(default_factory=list)  # ... that must agree first
    new_contacts: list[dict[str, Any]] = field(default_factory=list)  # at current members
    # id -> the values the file gives, only for rows where one of them differs.
    facility_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    contact_updates: dict[int, dict[str, Any]] = field(default_factory=dict)


def _work_out(
    network: Network, facilities: list[csvio.FacilityRow], columns: frozenset[str], actor: User
) -> _ImportWork:
    """Compare the file with the stored rows, read in five SELECTs of the needed columns."""
    facility_attrs = ["name"] + [a for c, a in _FACILITY_COLUMNS.items() if c in columns]
    contact_attrs = ["name"] + [a for c, a in _CONTACT_COLUMNS.items() if c in columns]
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    keys = {f.key for f in facilities}
    if keys:
        facility_columns = [getattr(Facility, a) for a in ("name", *_FACILITY_COLUMNS.values())]
        rows = db.session.execute(
            select(Facility.id, Facility.name_key, Facility.postcode, *facility_columns).where(
                Facility.name_key.in_(keys)
            )
        )
        stored = {(r.name_key, r.postcode): r._asdict() for r in rows}
    members: set[int] = set()
    if stored:
        members = set(
            db.session.scalars(
                select(Membership.facility_id).where(
                    Membership.network_id == network.id,
                    Membership.left_on.is_(None),
                    Membership.facility_id.in_([r["id"] for r in stored.values()]),
                )
            )
        )
    outside = [r["id"] for r in stored.values() if r["id"] not in members]
    consent = needing_consent(actor, outside)
    asked: set[int] = set()
    if consent:
        asked = set(
            db.session.scalars(
                select(MembershipRequest.facility_id).where(
                    MembershipRequest.network_id == network.id,
                    MembershipRequest.status == REQUEST_PENDING,
                    MembershipRequest.facility_id.in_(consent),
                )
            )
        )
    people: dict[int, list[dict[str, Any]]] = {}
    if members:
        rows = db.session.execute(
            select(Contact.id, Contact.facility_id, Contact.name, Contact.email)
            .add_columns(*(getattr(Contact, a) for a in _CONTACT_COLUMNS.values() if a != "email"))
            .where(Contact.facility_id.in_(members))
            .order_by(Contact.facility_id, Contact.name, Contact.id)
        )
        for r in rows:
            people.setdefault(r.facility_id, []).append(r._asdict())

    work = _ImportWork()
    plan = work.plan
    for row in facilities:
        values = _facility_values(row)
        found = stored.get((row.key, row.postcode))
        if found is None:
            work.new_facilities.append((values, [_contact_values(p) for p in row.contacts]))
            plan.new_facilities += 1
            plan.new_members += 1
            plan.new_contacts += len(row.contacts)
            continue
        if found["id"] in consent:
            # Of another network: only asked to join; untouched and unseen until it agrees.
            if found["id"] not in asked:
                asked.add(found["id"])
                work.requesting.append(found["id"])
                plan.requested.append(found["name"])
            continue
        if found["id"] not in members:
            # Exists elsewhere: it joins; its details and its people stay as they are.
            work.joining.append(found["id"])
            plan.new_members += 1
            plan.elsewhere.append(found["name"])
            continue
        # Only what the file holds: a column left out keeps the stored value.
        update = {a: values[a] for a in facility_attrs}
        if any(found[a] != v for a, v in update.items()):
            work.facility_updates[found["id"]] = update
            plan.updated_facilities += 1
        known = people.get(found["id"], [])
        by_email = {c["email"]: c for c in known if c["email"]}
        by_name = {c["name"].casefold(): c for c in known if not c["email"]}
        for person in row.contacts:
            contact = (
                by_email.get(person.email) if person.email else by_name.get(person.name.casefold())
            )
            values = _contact_values(person)
            if contact is None:
                work.new_contacts.append(values | {"facility_id": found["id"]})
                plan.new_contacts += 1
                continue
            # Columns left out keep their value; "no longer works here" stays.
            update = {a: values[a] for a in contact_attrs}
            if any(contact[a] != v for a, v in update.items()):
                work.contact_updates[contact["id"]] = update
                plan.updated_contacts += 1
    return work


def plan_import(
    network: Network,
    facilities: list[csvio.FacilityRow],
    columns: frozenset[str] = frozenset(csvio.COLUMNS),
    *,
    actor: User,
) -> ImportPlan:
    """What :func:`apply_import` would do with a valid file, read without writing anything."""
    return _work_out(network, facilities, columns, actor).plan


def _bulk_returning() -> bool:
    """Whether the driver returns the rows of a many-row INSERT (SQLite 3.35+, PostgreSQL)."""
    return bool(db.session.get_bind().dialect.insert_executemany_returning)


def _insert(model: type, rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    """Insert ``rows`` into ``model``'s table in few statements; return them with their ids.

    The database hands back each new id with the ``key`` columns, which tell the rows
    apart (RETURNING has no guaranteed order); rows that ``key`` does not tell apart, and
    drivers without many-row RETURNING, go in one at a time.
    """
    table = model.__table__  # type: ignore[attr-defined]
    keys = [tuple(row[k] for k in key) for row in rows]
    if rows and _bulk_returning() and len(set(keys)) == len(keys):
        returned = db.session.execute(
            insert(table).returning(table.c.id, *(table.c[k] for k in key)), rows
        )
        ids = {tuple(r[1:]): r[0] for r in returned}
        return [row | {"id": ids[k]} for row, k in zip(rows, keys, strict=True)]
    return [
        row | {"id": db.session.execute(insert(table), row).inserted_primary_key[0]} for row in rows
    ]


def apply_import(
    network: Network,
    facilities: list[csvio.FacilityRow],
    today: date,
    columns: frozenset[str] = frozenset(csvio.COLUMNS),
    *,
    actor: User,
) -> ImportPlan:
    """Create or update facilities and contacts from a valid file and make them members.

    Existing facilities are matched on name and postcode, contacts on email (else name),
    so importing the same file twice changes nothing. A facility of a network the
    ``actor`` does not facilitate is only asked to join (:func:`add_member`). An existing
    facility or contact only gets the ``columns`` the file has; new ones get defaults for
    the others. One transaction.

    Rows that exist already are changed through the ORM, so the audit trail and the feed
    stamps see them as any other change. New rows are inserted in bulk, their audit events
    written alongside. They need no feed stamp: no feed is older than its owner, and a new
    facility's membership only shows in the feeds of its contacts, who are new as well.
    """
    work = _work_out(network, facilities, columns, actor)
    try:
        for model, updates in ((Facility, work.facility_updates), (Contact, work.contact_updates)):
            if updates:
                for obj in db.session.scalars(select(model).where(model.id.in_(list(updates)))):
                    new = updates[obj.id]
                    changed = frozenset(k for k, v in new.items() if getattr(obj, k) != v)
                    for key, value in new.items():
                        setattr(obj, key, value)
                    if model is Facility:
                        signals.facility_updated.send(obj, changed=changed)
        joined = [
            Membership(network_id=network.id, facility_id=facility_id, joined_on=today)
            for facility_id in work.joining
        ]
        db.session.add_all(joined)
        requests = [
            MembershipRequest(
                network_id=network.id,
                facility_id=facility_id,
                joined_on=today,
                requested_by_id=actor.id,
            )
            for facility_id in work.requesting
        ]
        db.session.add_all(requests)
        db.session.flush()
        for request in requests:
            signals.membership_requested.send(request)  # its contacts are asked by mail

        facilities_in = _insert(
            Facility, [values for values, _people in work.new_facilities], ("name_key", "postcode")
        )
        memberships_in = _insert(
            Membership,
            [
                {
                    "network_id": network.id,
                    "facility_id": f["id"],
                    "joined_on": today,
                    "left_on": None,
                }
                for f in facilities_in
            ],
            ("facility_id",),
        )
        contacts_in = _insert(
            Contact,
            [
                person | {"facility_id": f["id"]}
                for f, (_values, people) in zip(facilities_in, work.new_facilities, strict=True)
                for person in people
            ]
            + work.new_contacts,
            ("facility_id", "email", "name"),
        )
        if memberships_in:  # the new facilities' memberships, as rows for the webhooks
            ids = [r["id"] for r in memberships_in]
            joined += db.session.scalars(select(Membership).where(Membership.id.in_(ids)))
        if joined:
            db.session.flush()
            signals.membership_started.send(tuple(joined))
        for model, rows in (
            (Facility, facilities_in),
            (Membership, memberships_in),
            (Contact, contacts_in),
        ):
            trail.record(
                db.session,
                model,
                "create",
                ((r["id"], trail.created(model, r), r.get("facility_id", r["id"])) for r in rows),
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    work.plan.changed_facility_ids = sorted(work.facility_updates)
    return work.plan


def export_rows(network: Network) -> list[dict[str, str]]:
    """The current members and their active contacts as CSV rows (import format)."""
    page = network_page(network)
    rows: list[dict[str, str]] = []
    for membership in page.current:
        f = membership.facility
        base = {
            "facility_name": f.name,
            "street": f.street,
            "postcode": f.postcode,
            "city": f.city,
            "phone": f.phone,
            "email": f.email,
            "website": f.website,
            "room_capacity": "" if f.room_capacity is None else str(f.room_capacity),
            "willing_to_host": "ja" if f.willing_to_host else "nee",
            "accessibility": f.accessibility_notes,
            "parking": f.parking_notes,
        }
        contacts = [c for c in f.contacts if c.active]
        if not contacts:
            rows.append(base)
        for c in contacts:
            rows.append(
                base
                | {
                    "contact_name": c.name,
                    "contact_email": c.email or "",
                    "contact_phone": c.phone,
                    "contact_function": c.function,
                    "contact_language": c.preferred_language,
                    "contact_share": "ja" if c.share_details else "nee",
                }
            )
    return rows
