"""Minutes and action points: write and publish the minutes, mark an action point done,
read the look-back (terugblik) of a session, remind owners before their date.

Where an action point comes back is decided by :mod:`learnnet.learning.actions`; this
module loads plain values for it and the rows it picks. The acting user or contact is
passed in. Functions that end a use case commit; ``queue_*`` functions do not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.learning import actions as rules
from learnnet.learning.minutes_models import (
    DRAFT,
    PUBLISHED,
    ActionNote,
    ActionPoint,
    Minutes,
    MinutesSection,
)
from learnnet.learning.models import AgendaItem
from learnnet.mail import services as mail
from learnnet.mail.models import BULK, NORMAL, OutboxMessage
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership
from learnnet.rsvp.contacts import ensure_link, expected_contacts, token_of
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import format_day, format_span, local_date, local_today

MINUTES_MAIL = "minutes"
ACTION_REMINDER = "action_reminder"
MAX_TEXT = 20000
MAX_WHAT = 1000
MAX_NOTE = 1000


class MinutesError(ValueError):
    """Minutes or an action point that cannot be saved; ``code`` says why, ``row`` which
    action point (its index in the form) when it concerns one."""

    def __init__(self, code: str, row: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.row = row


# --- who may be an owner ------------------------------------------------------------------------


@dataclass
class OwnerGroup:
    """A member facility and its active contacts: the choices for "who"."""

    facility: Facility
    contacts: list[Contact]


def owner_groups(session: Session) -> list[OwnerGroup]:
    """The facilities that were members on the session's day, or are now, with their
    active contacts, by name (two statements)."""
    day = local_date(session.starts_at, session.network.timezone)
    today = local_today(session.network.timezone)
    facilities = db.session.scalars(
        select(Facility)
        .join(Membership, Membership.facility_id == Facility.id)
        .where(
            Membership.network_id == session.network_id,
            Membership.joined_on <= max(day, today),
            or_(Membership.left_on.is_(None), Membership.left_on >= min(day, today)),
        )
        .options(selectinload(Facility.contacts))
        .order_by(Facility.name_key)
    ).unique()
    return [OwnerGroup(f, [c for c in f.contacts if c.active]) for f in facilities]


def owner_value(point: ActionPoint) -> str:
    """The form value naming a point's owner: "c-<id>" for a contact, "f-<id>" else."""
    if point.owner_contact_id is not None:
        return f"c-{point.owner_contact_id}"
    return f"f-{point.owner_facility_id}"


def resolve_owner(value: str, groups: Iterable[OwnerGroup]) -> tuple[int, int | None] | None:
    """(facility id, contact id or None) for a form value, when it names a member facility
    or one of its active contacts; None otherwise (another network's, or made up)."""
    for group in groups:
        if value == f"f-{group.facility.id}":
            return group.facility.id, None
        for contact in group.contacts:
            if value == f"c-{contact.id}":
                return group.facility.id, contact.id
    return None


# --- writing the minutes ------------------------------------------------------------------------


def is_held(session: Session, now: datetime | None = None) -> bool:
    """Minutes are written once a session has ended, and never for a cancelled one."""
    return session.status != CANCELLED and session.ends_at <= (now or utcnow())


def minutes_of(session_id: int) -> Minutes | None:
    """The session's minutes (draft or published) with sections and action points."""
    return db.session.scalar(
        select(Minutes)
        .where(Minutes.session_id == session_id)
        .options(
            selectinload(Minutes.sections),
            selectinload(Minutes.actions).selectinload(ActionPoint.notes),
        )
    )


@dataclass
class SectionRow:
    """One text of the editor: an agenda item's (key "item-<id>") or a kept section's
    whose item is gone (key "section-<id>")."""

    key: str
    title: str
    text: str


def section_rows(session: Session, minutes: Minutes | None) -> list[SectionRow]:
    """The editor's texts: one per agenda item of the session, in order, then the kept
    sections whose agenda item was removed."""
    items = list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    kept = {s.agenda_item_id: s for s in (minutes.sections if minutes else [])}
    rows = [
        SectionRow(f"item-{i.id}", i.title, kept[i.id].text if i.id in kept else "") for i in items
    ]
    for section in minutes.sections if minutes else []:
        if section.agenda_item_id is None:
            rows.append(SectionRow(f"section-{section.id}", section.title, section.text))
    return rows


@dataclass(frozen=True)
class ActionInput:
    """One action point as the form gives it (``action_id`` None for a new one)."""

    action_id: int | None
    what: str
    owner: str
    due_on: date | None
    remove: bool = False


@dataclass
class Saved:
    """What saving did: the minutes, whether they were published now, mails queued."""

    minutes: Minutes
    published_now: bool = False
    mailed: int = 0


def save_minutes(
    session: Session,
    actor: User,
    general_text: str,
    texts: dict[str, str],
    points: list[ActionInput],
    publish: bool = False,
) -> Saved:
    """Save the minutes (created on first save) and their action points; publish them when
    asked. Publishing mails every member contact once (:func:`queue_minutes_mail`); saving
    again later changes the text members see, without a new mail. All or nothing: a bad
    owner or an unknown action point raises :class:`MinutesError` before anything is
    written. Needs a request (the mails' links). Commits."""
    if not is_held(session):
        raise MinutesError("not_held")
    groups = owner_groups(session)
    owners = []
    for index, point in enumerate(points):
        if point.remove:
            owners.append(None)
            continue
        if not point.what.strip():
            raise MinutesError("what", index)
        if point.due_on is None:
            raise MinutesError("due_on", index)
        owner = resolve_owner(point.owner, groups)
        if owner is None:
            raise MinutesError("owner", index)
        owners.append(owner)
    minutes = minutes_of(session.id)
    if minutes is None:
        minutes = Minutes(session_id=session.id, status=DRAFT, general_text="")
        db.session.add(minutes)
        minutes.sections = []
        minutes.actions = []
    existing = {a.id: a for a in minutes.actions}
    if any(p.action_id is not None and p.action_id not in existing for p in points):
        raise MinutesError("unknown_action")
    minutes.general_text = general_text.strip()
    _save_sections(session, minutes, texts)
    position = 0
    for point, owner in zip(points, owners, strict=True):
        row = existing.get(point.action_id) if point.action_id is not None else None
        if point.remove:
            if row is not None:
                minutes.actions.remove(row)
            continue
        assert owner is not None  # nosec B101 - checked above
        if row is None:
            row = ActionPoint(network_id=session.network_id)
            minutes.actions.append(row)
        row.what = point.what.strip()
        row.owner_facility_id, row.owner_contact_id = owner
        row.due_on = point.due_on  # type: ignore[assignment] - checked above
        row.position = position
        position += 1
    result = Saved(minutes)
    if publish and not minutes.is_published:
        minutes.status = PUBLISHED
        minutes.published_at = utcnow()
        minutes.published_by_id = actor.id
        db.session.flush()
        result.published_now = True
        result.mailed = queue_minutes_mail(session, minutes)
    db.session.commit()
    return result


def _save_sections(session: Session, minutes: Minutes, texts: dict[str, str]) -> None:
    items = list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    by_item = {s.agenda_item_id: s for s in minutes.sections if s.agenda_item_id is not None}
    for position, item in enumerate(items):
        section = by_item.get(item.id)
        text = (texts.get(f"item-{item.id}") or "").strip()
        if section is None:
            if not text:
                continue
            section = MinutesSection(agenda_item_id=item.id)
            minutes.sections.append(section)
        section.title = item.title
        section.position = position
        section.text = text
    for section in minutes.sections:
        key = f"section-{section.id}"
        if section.agenda_item_id is None and key in texts:
            section.text = texts[key].strip()


# --- the mails ----------------------------------------------------------------------------------


def member_link(contact: Contact, endpoint: str, **values: Any) -> str:
    """A page of the contact's personal link (made when missing), as a full URL."""
    return url_for(endpoint, token=token_of(ensure_link(contact)), _external=True, **values)


def _theirs(points: Iterable[ActionPoint], contact: Contact) -> list[ActionPoint]:
    """The points agreed for the contact's facility (hers and her colleagues')."""
    return [p for p in points if p.owner_facility_id == contact.facility_id]


def queue_minutes_mail(session: Session, minutes: Minutes) -> int:
    """One mail per member contact with an address, in her language: what was agreed for
    her facility first, then the minutes; never twice for the same minutes. No commit."""
    points = list(
        db.session.scalars(
            select(ActionPoint)
            .where(ActionPoint.session_id == session.id)
            .options(joinedload(ActionPoint.owner_facility), joinedload(ActionPoint.owner_contact))
            .order_by(ActionPoint.position, ActionPoint.id)
        )
    )
    sections = [s for s in minutes.sections if s.text]
    count = 0
    network = session.network
    for contact in expected_contacts(session):
        if not contact.email:
            continue
        key = f"minutes:{session.id}:{contact.id}"
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            continue
        locale = contact.preferred_language
        ours = _theirs(points, contact)
        rendered = mail.render(
            "minutes",
            locale,
            lambda locale=locale: _(
                "Minutes: %(network)s, %(day)s",
                network=network.name,
                day=format_day(local_date(session.starts_at, network.timezone), locale),
            ),
            contact=contact,
            network=network,
            session=session,
            when=format_span(session.starts_at, session.ends_at, network.timezone, locale),
            ours=[(p, format_day(p.due_on, locale)) for p in ours],
            others=[(p, format_day(p.due_on, locale)) for p in points if p not in ours],
            sections=sections,
            general=minutes.general_text,
            link=member_link(contact, "minutes.member_minutes", session_id=session.id),
        )
        sent = mail.queue(
            MINUTES_MAIL,
            contact.email,
            rendered,
            recipient_name=contact.name,
            contact_id=contact.id,
            session_id=session.id,
            dedupe_key=key,
            priority=NORMAL,
        )
        count += sent is not None
    return count


def reminder_recipients(point: ActionPoint) -> list[Contact]:
    """Who a point's reminder goes to: its contact, or the facility's active contacts."""
    if point.owner_contact is not None:
        people = [point.owner_contact]
    else:
        people = list(point.owner_facility.contacts)
    return [c for c in people if c.active and c.email]


def send_due_action_reminders(today: date | None = None) -> int:
    """Queue the reminders due today (a week before an open point's date), each once per
    point, date and person; commits. Needs a request context (the links)."""
    today = today or local_today()
    horizon = today + timedelta(days=rules.REMINDER_DAYS)
    points = list(
        db.session.scalars(
            select(ActionPoint)
            .join(Minutes, Minutes.session_id == ActionPoint.session_id)
            .where(
                Minutes.status == PUBLISHED,
                ActionPoint.done_at.is_(None),
                ActionPoint.due_on >= today,
                ActionPoint.due_on <= horizon,
            )
            .options(
                joinedload(ActionPoint.owner_contact),
                joinedload(ActionPoint.owner_facility).selectinload(Facility.contacts),
                joinedload(ActionPoint.minutes).joinedload(Minutes.session),
            )
            .order_by(ActionPoint.id)
        ).unique()
    )
    count = 0
    for point in points:
        if not rules.reminder_due(point.due_on, today, point.is_done):
            continue
        session = point.minutes.session
        for contact in reminder_recipients(point):
            key = f"action-reminder:{point.id}:{point.due_on:%Y%m%d}:{contact.id}"
            if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
                continue
            locale = contact.preferred_language
            rendered = mail.render(
                "action_reminder",
                locale,
                lambda point=point, locale=locale: _(
                    "Reminder: your agreement for %(day)s", day=format_day(point.due_on, locale)
                ),
                contact=contact,
                network=session.network,
                session=session,
                point=point,
                due=format_day(point.due_on, locale),
                agreed=format_day(local_date(session.starts_at, session.network.timezone), locale),
                link=member_link(contact, "minutes.member_action", action_id=point.id),
            )
            sent = mail.queue(
                ACTION_REMINDER,
                contact.email or "",
                rendered,
                recipient_name=contact.name,
                contact_id=contact.id,
                session_id=session.id,
                dedupe_key=key,
                priority=BULK,
            )
            count += sent is not None
    db.session.commit()
    return count


# --- the owner's side ---------------------------------------------------------------------------


def owns(point: ActionPoint, contact: Contact) -> bool:
    """A facility's point belongs to each of its contacts; a contact's point to her."""
    if point.owner_contact_id is not None:
        return point.owner_contact_id == contact.id
    return point.owner_facility_id == contact.facility_id


def published_point(action_id: int) -> ActionPoint | None:
    """An action point of published minutes, or None (a draft's points do not exist yet
    for anyone but the facilitator)."""
    point = db.session.scalar(
        select(ActionPoint)
        .join(Minutes, Minutes.session_id == ActionPoint.session_id)
        .where(ActionPoint.id == action_id, Minutes.status == PUBLISHED)
        .options(selectinload(ActionPoint.notes).joinedload(ActionNote.contact))
    )
    return point


def mark_done(point: ActionPoint, contact: Contact | None = None, user: User | None = None) -> bool:
    """Mark the point done (once); True when it changed. Commits."""
    if point.is_done:
        return False
    point.done_at = utcnow()
    point.done_by_contact_id = contact.id if contact is not None else None
    point.done_by_user_id = user.id if user is not None else None
    db.session.commit()
    return True


def reopen(point: ActionPoint) -> bool:
    """Not done after all: the point is open again and comes back. Commits."""
    if not point.is_done:
        return False
    point.done_at = None
    point.done_by_contact_id = None
    point.done_by_user_id = None
    db.session.commit()
    return True


def add_note(point: ActionPoint, contact: Contact, text: str) -> ActionNote:
    """Add the contact's line on how it went. Commits."""
    text = text.strip()
    if not text:
        raise MinutesError("note_empty")
    if len(text) > MAX_NOTE:
        raise MinutesError("note_long")
    note = ActionNote(action=point, contact_id=contact.id, text=text)
    db.session.add(note)
    db.session.commit()
    return note


# --- reading: look-back, the member's page ------------------------------------------------------


def _slots(network_id: int) -> list[rules.Slot]:
    rows = db.session.execute(
        select(Session.id, Session.starts_at, Session.status).where(
            Session.network_id == network_id
        )
    )
    return [rules.Slot(i, start, status == CANCELLED) for i, start, status in rows]


def _published_points(network_id: int) -> list[rules.Point]:
    rows = db.session.execute(
        select(ActionPoint.id, ActionPoint.session_id, ActionPoint.done_at)
        .join(Minutes, Minutes.session_id == ActionPoint.session_id)
        .where(ActionPoint.network_id == network_id, Minutes.status == PUBLISHED)
    )
    return [rules.Point(i, s, d) for i, s, d in rows]


def _load_points(ids: list[int]) -> list[ActionPoint]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(ActionPoint)
            .where(ActionPoint.id.in_(ids))
            .options(
                joinedload(ActionPoint.owner_facility),
                joinedload(ActionPoint.owner_contact),
                joinedload(ActionPoint.minutes).joinedload(Minutes.session),
                selectinload(ActionPoint.notes).joinedload(ActionNote.contact),
            )
            .order_by(ActionPoint.due_on, ActionPoint.id)
        ).unique()
    )


def lookback(session: Session) -> list[ActionPoint]:
    """The action points the session's look-back shows (see :mod:`actions`), by date."""
    slots = _slots(session.network_id)
    return _load_points(rules.lookback(session.id, _published_points(session.network_id), slots))


@dataclass
class SessionMinutes:
    """The minutes part of the facilitator's session page."""

    minutes: Minutes | None
    held: bool
    lookback: list[ActionPoint]
    next_session: Session | None


def session_part(session: Session) -> SessionMinutes:
    """The session's minutes (any state), its look-back, and where its points go next."""
    slots = _slots(session.network_id)
    following = rules.next_session(session.id, slots)
    ids = rules.lookback(session.id, _published_points(session.network_id), slots)
    return SessionMinutes(
        minutes=minutes_of(session.id),
        held=is_held(session),
        lookback=_load_points(ids),
        next_session=db.session.get(Session, following.id) if following else None,
    )


def _networks_of(contact: Contact) -> list[int]:
    today = local_today()
    return list(
        db.session.scalars(
            select(Membership.network_id).where(
                Membership.facility_id == contact.facility_id,
                or_(Membership.left_on.is_(None), Membership.left_on >= today),
            )
        )
    )


def may_read(contact: Contact, session: Session) -> bool:
    """A contact reads the published minutes of the sessions of her current networks."""
    return contact.active and session.network_id in _networks_of(contact)


def published_minutes(session_id: int) -> Minutes | None:
    """The session's minutes when published, else None (members never see a draft)."""
    minutes = minutes_of(session_id)
    return minutes if minutes is not None and minutes.is_published else None


@dataclass
class MemberMinutes:
    """The minutes part of the member's page."""

    mine: list[ActionPoint] = field(default_factory=list)
    lookbacks: list[tuple[Session, list[ActionPoint]]] = field(default_factory=list)
    recent: list[Minutes] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.mine or self.lookbacks or self.recent)


RECENT_DONE_DAYS = 14
RECENT_MINUTES = 3


def member_part(contact: Contact, now: datetime | None = None) -> MemberMinutes:
    """Her open action points (and those done in the last two weeks), the look-back of
    the next session of each of her networks, the latest published minutes."""
    now = now or utcnow()
    part = MemberMinutes()
    if not contact.active:
        return part
    networks = _networks_of(contact)
    if not networks:
        return part
    mine = db.session.scalars(
        select(ActionPoint.id)
        .join(Minutes, Minutes.session_id == ActionPoint.session_id)
        .where(
            Minutes.status == PUBLISHED,
            ActionPoint.network_id.in_(networks),
            ActionPoint.owner_facility_id == contact.facility_id,
            or_(ActionPoint.owner_contact_id.is_(None), ActionPoint.owner_contact_id == contact.id),
            or_(
                ActionPoint.done_at.is_(None),
                ActionPoint.done_at >= now - timedelta(days=RECENT_DONE_DAYS),
            ),
        )
    )
    part.mine = sorted(_load_points(list(mine)), key=lambda p: (p.is_done, p.due_on, p.id))
    for network_id in networks:
        following = db.session.scalar(
            select(Session)
            .where(
                Session.network_id == network_id,
                Session.status != CANCELLED,
                Session.starts_at > now,
            )
            .order_by(Session.starts_at, Session.id)
            .limit(1)
        )
        if following is None:
            continue
        points = lookback(following)
        if points:
            part.lookbacks.append((following, points))
    part.recent = list(
        db.session.scalars(
            select(Minutes)
            .join(Session, Session.id == Minutes.session_id)
            .where(Session.network_id.in_(networks), Minutes.status == PUBLISHED)
            .options(joinedload(Minutes.session).joinedload(Session.network))
            .order_by(Session.starts_at.desc())
            .limit(RECENT_MINUTES)
        )
    )
    return part


# --- privacy ------------------------------------------------------------------------------------


def export_contact(contact: Contact) -> dict[str, Any]:
    """What this room holds about a contact: the action points she owns, the lines she
    wrote."""
    owned = db.session.scalars(
        select(ActionPoint)
        .where(ActionPoint.owner_contact_id == contact.id)
        .options(joinedload(ActionPoint.minutes).joinedload(Minutes.session))
        .order_by(ActionPoint.id)
    )
    notes = db.session.scalars(
        select(ActionNote)
        .where(ActionNote.contact_id == contact.id)
        .options(joinedload(ActionNote.action))
        .order_by(ActionNote.id)
    )
    return {
        "action_points": [
            {
                "what": p.what,
                "due_on": p.due_on.isoformat(),
                "done_at": p.done_at.isoformat() if p.done_at else None,
                "agreed_at_session": p.minutes.session.starts_at.isoformat(),
            }
            for p in owned
        ],
        "action_point_lines": [
            {"action_point": n.action.what, "text": n.text, "written_at": n.created_at.isoformat()}
            for n in notes
        ],
    }


def erase_contact(contact: Contact) -> None:
    """Her lines go; the action points she owned stay her facility's (the agreement was
    the facility's work), no longer naming her. No commit."""
    db.session.execute(ActionNote.__table__.delete().where(ActionNote.contact_id == contact.id))
    db.session.execute(
        update(ActionPoint)
        .where(ActionPoint.owner_contact_id == contact.id)
        .values(owner_contact_id=None)
    )
    db.session.execute(
        update(ActionPoint)
        .where(ActionPoint.done_by_contact_id == contact.id)
        .values(done_by_contact_id=None)
    )


def merge_contact(duplicate: Contact, keeper: Contact) -> None:
    """The duplicate's agreements, "done" marks and lines become the keeper's (her
    agreements move with her to the keeper's facility). No commit."""
    db.session.execute(
        update(ActionPoint)
        .where(ActionPoint.owner_contact_id == duplicate.id)
        .values(owner_contact_id=keeper.id, owner_facility_id=keeper.facility_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ActionPoint)
        .where(ActionPoint.done_by_contact_id == duplicate.id)
        .values(done_by_contact_id=keeper.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ActionNote)
        .where(ActionNote.contact_id == duplicate.id)
        .values(contact_id=keeper.id)
        .execution_options(synchronize_session=False)
    )
