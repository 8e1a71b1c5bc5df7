"""Use cases of attendance: the people to expect, recording and correcting, walk-ins,
self check-in, personal check-in codes, and the reports (per session, network and
contact) with their CSV."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from learnnet import signals
from learnnet.attendance import bridges as bridges_module
from learnnet.attendance import checkin_code, rules
from learnnet.attendance.certificate import Certificate, CertificateLine
from learnnet.attendance.models import (
    ABSENT,
    PRESENT,
    STATUSES,
    Attendance,
    AttendanceChange,
    CheckinSetting,
)
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks import services as network_services
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.rsvp.contacts import expected_contacts, is_member_on
from learnnet.rsvp.models import YES, Rsvp
from learnnet.rsvp.services import lock_session
from learnnet.sessions.models import CANCELLED, HELD, Session
from learnnet.sessions.services import current_member_names
from learnnet.timefmt import local_today, to_local


class AttendanceError(ValueError):
    """A recording a rule refuses; ``code`` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- who to expect ----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the sheet or the check-in list."""

    key: str  # "c<contact id>" or "a<attendance id>" (a guest)
    name: str
    facility: str
    contact: Contact | None
    attendance: Attendance | None
    rsvp: Rsvp | None

    @property
    def status(self) -> str | None:
        return self.attendance.status if self.attendance else None

    @property
    def said_yes(self) -> bool:
        return self.rsvp is not None and self.rsvp.answer == YES and not self.rsvp.waitlisted


def rows(session: Session) -> list[Row]:
    """Everyone to expect: "yes" answers first, then the other contacts of member
    facilities, then anyone else recorded (walk-ins, guests, people who left since)."""
    contacts = expected_contacts(session)
    attendance = list(
        db.session.scalars(
            select(Attendance)
            .where(Attendance.session_id == session.id)
            .options(joinedload(Attendance.contact))
            .order_by(Attendance.id)
        )
    )
    answers = {
        r.contact_id: r
        for r in db.session.scalars(select(Rsvp).where(Rsvp.session_id == session.id))
    }
    by_contact = {a.contact_id: a for a in attendance if a.contact_id is not None}
    found = [
        Row(f"c{c.id}", c.name, c.facility.name, c, by_contact.get(c.id), answers.get(c.id))
        for c in contacts
    ]
    known = {c.id for c in contacts}
    for a in attendance:
        if a.contact_id is None or a.contact_id not in known:
            key = f"c{a.contact_id}" if a.contact_id else f"a{a.id}"
            found.append(
                Row(key, a.person_name, a.facility_name, a.contact, a, answers.get(a.contact_id))
            )
    found.sort(key=lambda r: (not r.said_yes, r.facility.casefold(), r.name.casefold(), r.key))
    return found


# --- recording --------------------------------------------------------------------------------


def _change(
    attendance: Attendance,
    old: str | None,
    via: str,
    by_user: User | None,
    by_contact: Contact | None,
) -> None:
    db.session.add(
        AttendanceChange(
            attendance=attendance,
            old_status=old,
            new_status=attendance.status,
            via=via,
            by_user_id=by_user.id if by_user else None,
            by_contact_id=by_contact.id if by_contact else None,
        )
    )
    db.session.flush()
    signals.attendance_recorded.send(attendance)


def _check(session: Session, now: datetime, by_self: bool = False) -> None:
    reason = rules.closed_reason(
        session.status == CANCELLED, session.starts_at, session.ends_at, now, by_self
    )
    if reason:
        raise AttendanceError(reason)


def _mark_held(session: Session) -> None:
    if session.status not in (CANCELLED, HELD):
        session.status = HELD
        signals.session_held.send(session)


def _expected(session: Session, contact: Contact) -> bool:
    day = to_local(session.starts_at, session.network.timezone).date()
    return is_member_on(contact.facility_id, session.network_id, day)


def record(
    session: Session,
    contact: Contact,
    status: str,
    *,
    via: str,
    by_user: User | None = None,
    by_contact: Contact | None = None,
    now: datetime | None = None,
) -> Attendance:
    """Set one contact's attendance (one record however often or from where); commits."""
    if status not in STATUSES:
        raise AttendanceError("status")
    now = now or utcnow()
    lock_session(session.id)  # two devices at once: one record, the last word wins
    _check(session, now, by_self=via == "self")
    existing = db.session.scalar(
        select(Attendance).where(
            Attendance.session_id == session.id, Attendance.contact_id == contact.id
        )
    )
    if existing is None and not _expected(session, contact):
        raise AttendanceError("not_member")
    if existing is not None and existing.status == status:
        db.session.commit()
        return existing
    attendance = existing or Attendance(
        session=session,
        contact=contact,
        facility_id=contact.facility_id,
        person_name=contact.name,
        facility_name=contact.facility.name,
    )
    old = attendance.status if existing else None
    attendance.status = status
    db.session.add(attendance)
    _change(attendance, old, via, by_user, by_contact)
    _mark_held(session)
    db.session.commit()
    return attendance


def record_guest(
    attendance: Attendance, status: str, *, by_user: User, now: datetime | None = None
) -> Attendance:
    """Correct a guest's (or a former contact's) row; commits."""
    if status not in STATUSES:
        raise AttendanceError("status")
    session = attendance.session
    lock_session(session.id)
    _check(session, now or utcnow())
    if attendance.status != status:
        old = attendance.status
        attendance.status = status
        _change(attendance, old, "facilitator", by_user, None)
    db.session.commit()
    return attendance


def add_walk_in(
    session: Session,
    *,
    name: str,
    facility_id: int | None,
    organisation: str,
    email: str | None,
    by_user: User | None = None,
    by_contact: Contact | None = None,
    via: str = "facilitator",
) -> Attendance:
    """Someone who came without being on the list: a new contact of a member facility,
    or a guest (no facility of the network); marked present. Commits."""
    now = utcnow()
    lock_session(session.id)
    _check(session, now)
    if facility_id:
        # The member list first: an id from the form may be anything (2**31, -10**20),
        # and only a current member's id is worth a lookup.
        member_ids = {fid for fid, _name in current_member_names(session.network)}
        facility = db.session.get(Facility, facility_id) if facility_id in member_ids else None
        if facility is None:
            raise AttendanceError("not_member")
        contact = network_services.create_contact(
            facility, {"name": name, "email": email, "preferred_language": "nl"}
        )
        return record(
            session, contact, PRESENT, via=via, by_user=by_user, by_contact=by_contact, now=now
        )
    attendance = Attendance(
        session=session,
        contact_id=None,
        facility_id=None,
        person_name=name,
        facility_name=organisation,
        status=PRESENT,
        walk_in=True,
    )
    db.session.add(attendance)
    _change(attendance, None, via, by_user, by_contact)
    _mark_held(session)
    db.session.commit()
    return attendance


def history(session: Session) -> list[AttendanceChange]:
    """Every change to the session's attendance, newest first."""
    return list(
        db.session.scalars(
            select(AttendanceChange)
            .join(Attendance, Attendance.id == AttendanceChange.attendance_id)
            .where(Attendance.session_id == session.id)
            .options(
                joinedload(AttendanceChange.attendance),
                joinedload(AttendanceChange.by_user),
                joinedload(AttendanceChange.by_contact),
            )
            .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())
        )
    )


# --- check-in settings ------------------------------------------------------------------------


def setting(session: Session) -> CheckinSetting:
    """The session's check-in settings (made on first use; no commit)."""
    found = db.session.get(CheckinSetting, session.id)
    if found is None:
        found = CheckinSetting(session_id=session.id, host_may_check_in=False)
        db.session.add(found)
        db.session.flush()
    return found


def self_checkin_code(session: Session) -> str:
    """The code behind the session's QR code (made on first use); commits."""
    found = setting(session)
    if not found.code:
        found.code = secrets.token_urlsafe(18)
    db.session.commit()
    return found.code


def session_for_code(code: str) -> Session | None:
    """The session whose self check-in QR code this is."""
    if not code or len(code) > 40:
        return None
    found = db.session.scalar(select(CheckinSetting).where(CheckinSetting.code == code))
    return found.session if found else None


def _secret() -> bytes:
    from flask import current_app

    return str(current_app.config["SECRET_KEY"]).encode()


@dataclass(frozen=True)
class PersonalCode:
    """A contact's check-in code for one session: the QR's code and the typed one."""

    long: str
    short: str  # as shown: "K7Q-4MX"


def personal_code(session: Session, contact: Contact) -> PersonalCode:
    """The contact's check-in code for this session (computed, never stored)."""
    secret = _secret()
    return PersonalCode(
        long=checkin_code.long_code(secret, session.id, contact.id),
        short=checkin_code.shown(checkin_code.short_code(secret, session.id, contact.id)),
    )


def contact_for_code(session: Session, text: str) -> Contact | None:
    """Whose personal check-in code (scanned link, long or typed short code) this is among
    the people the session's check-in list holds; None for a wrong or foreign code."""
    people = {row.contact.id: row.contact for row in rows(session) if row.contact is not None}
    found = checkin_code.contact_of(_secret(), session.id, text, people)
    return people.get(found) if found is not None else None


def set_host_checkin(session: Session, allowed: bool) -> None:
    """Let the host's contacts check people in through their personal link, or not."""
    setting(session).host_may_check_in = allowed
    db.session.commit()


def sessions_with_host_checkin() -> set[int]:
    """Ids of the sessions whose host may check people in (few: one statement)."""
    return set(
        db.session.scalars(
            select(CheckinSetting.session_id).where(CheckinSetting.host_may_check_in.is_(True))
        )
    )


def host_may_check_in(session: Session, contact: Contact) -> bool:
    """True when the facilitator allows it and the contact works at the host facility."""
    found = db.session.get(CheckinSetting, session.id)
    return bool(
        found and found.host_may_check_in and contact.facility_id == session.host_facility_id
    )


# --- reports ----------------------------------------------------------------------------------


@dataclass
class FacilityLine:
    """One facility in a session report."""

    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    no_shows: list[str] = field(default_factory=list)
    unannounced: list[str] = field(default_factory=list)


def session_report(session: Session) -> list[FacilityLine]:
    """Present, absent and excused per facility, against the answers."""
    lines: dict[str, FacilityLine] = {}
    for row in rows(session):
        line = lines.setdefault(row.facility, FacilityLine(row.facility))
        if row.status:
            line.counts[row.status] += 1
        if row.said_yes and row.status != PRESENT:
            line.no_shows.append(row.name)
        if row.status == PRESENT and not row.said_yes:
            line.unannounced.append(row.name)
    return sorted(lines.values(), key=lambda x: x.name.casefold())


@dataclass
class NetworkReport:
    """Attendance over a network's held sessions."""

    sessions: list[tuple[Session, int, float]]  # session, present, hours
    facilities: list[tuple[str, int, int, int]]  # name, sessions with someone present, of, people
    hosts: list[tuple[str, int]]
    total_hours: float
    total_present: int


def _held(network: Network) -> Select[Any]:
    """The network's sessions that took place (held, or with attendance recorded)."""
    recorded = select(Attendance.session_id).distinct()
    return (
        select(Session)
        .where(
            Session.network_id == network.id,
            Session.status != CANCELLED,
            or_(Session.id.in_(recorded), Session.ends_at <= utcnow()),
        )
        .order_by(Session.starts_at)
    )


def held_sessions(network: Network) -> list[Session]:
    """The network's sessions that took place (held, or with attendance recorded)."""
    return list(db.session.scalars(_held(network).options(joinedload(Session.host))))


def network_report(network: Network) -> NetworkReport:
    """Per session and per facility: who came, the rate, hosts and learning hours."""
    sessions = held_sessions(network)
    ids = [s.id for s in sessions]
    # (session, facility) -> people present, from plain rows: no objects per person.
    people: dict[tuple[int, int | None], int] = {}
    per_session: dict[int, int] = defaultdict(int)
    for session_id, facility_id, n in db.session.execute(
        select(Attendance.session_id, Attendance.facility_id, func.count(Attendance.id))
        .where(Attendance.session_id.in_(ids), Attendance.status == PRESENT)
        .group_by(Attendance.session_id, Attendance.facility_id)
    ):
        people[(session_id, facility_id)] = n
        per_session[session_id] += n
    memberships = list(
        db.session.scalars(
            select(Membership)
            .where(Membership.network_id == network.id)
            .options(joinedload(Membership.facility))
        )
    )
    days = {s.id: to_local(s.starts_at, network.timezone).date() for s in sessions}
    facility_rows = []
    for m in memberships:
        eligible = [
            s.id
            for s in sessions
            if m.joined_on <= days[s.id] and (m.left_on is None or days[s.id] <= m.left_on)
        ]
        if not eligible and m.left_on is not None:
            continue  # left before any session was held
        counts = [people.get((sid, m.facility_id), 0) for sid in eligible]
        facility_rows.append(
            (m.facility.name, sum(1 for n in counts if n), len(eligible), sum(counts))
        )
    facility_rows.sort(key=lambda r: r[0].casefold())
    hosts: dict[str, int] = defaultdict(int)
    for s in sessions:
        hosts[s.host.name] += 1
    lines = [(s, per_session[s.id], rules.hours(s.starts_at, s.ends_at)) for s in sessions]
    return NetworkReport(
        sessions=lines,
        facilities=facility_rows,
        hosts=sorted(hosts.items(), key=lambda h: (-h[1], h[0].casefold())),
        total_hours=sum(n * h for _s, n, h in lines),
        total_present=sum(n for _s, n, _h in lines),
    )


@dataclass
class ContactLine:
    """A session a contact attended."""

    session: Session
    hours: float


def attended(
    contact: Contact, start: date | None = None, end: date | None = None
) -> list[ContactLine]:
    """The sessions the contact was present at (in a period), in date order."""
    query = (
        select(Attendance)
        .join(Session, Session.id == Attendance.session_id)
        .where(Attendance.contact_id == contact.id, Attendance.status == PRESENT)
        .options(joinedload(Attendance.session).joinedload(Session.host))
        .options(joinedload(Attendance.session).joinedload(Session.network))
        .order_by(Session.starts_at)
    )
    lines = []
    for a in db.session.scalars(query):
        s = a.session
        day = to_local(s.starts_at, s.network.timezone).date()
        if (start and day < start) or (end and day > end):
            continue
        lines.append(ContactLine(s, rules.hours(s.starts_at, s.ends_at)))
    return lines


# --- CSV --------------------------------------------------------------------------------------


def csv_bytes(header: list[str], body: list[list[object]], variant: str) -> bytes:
    """'excel': UTF-8 with BOM and semicolons (Excel in Belgium); 'comma': plain CSV."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if variant == "excel" else ",", lineterminator="\r\n")
    writer.writerow(header)
    for line in body:
        writer.writerow(
            [
                (
                    f"{v:.2f}".rstrip("0")
                    .rstrip(".")
                    .replace(".", "," if variant == "excel" else ".")
                )
                if isinstance(v, float)
                else _safe_cell(str(v))
                for v in line
            ]
        )
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if variant == "excel" else data


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- the certificate --------------------------------------------------------------------------


def session_themes(session_ids: list[int]) -> dict[int, str]:
    """The werkjaar theme of each session, from the room above that keeps themes
    (learning), asked through a signal: attendance does not import it."""
    found: dict[int, str] = {}
    if not session_ids:
        return found
    for _receiver, answer in signals.session_themes_wanted.send(tuple(session_ids)):
        found.update(answer or {})
    return found


def certificate_for(
    contact: Contact,
    period_label: str,
    start: date,
    end: date,
    signer: User | None,
    signed_by: str | None = None,
) -> Certificate:
    """The attendance certificate of a contact for a period, signed by ``signer`` (the
    facilitator who makes it) or, when the member fetches it, ``signed_by`` (the names of
    their networks' facilitators)."""
    from flask import current_app

    lines = attended(contact, start, end)
    networks = sorted({line.session.network.name for line in lines})
    themes = session_themes([line.session.id for line in lines])
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, f"attest:{contact.id}:{period_label}".encode(), hashlib.sha256)
    return Certificate(
        contact_name=contact.name,
        facility_name=contact.facility.name,
        period_label=period_label,
        lines=tuple(
            CertificateLine(
                day=to_local(line.session.starts_at, line.session.network.timezone).date(),
                network=line.session.network.name,
                host=line.session.host.name,
                title=line.session.title,
                hours=line.hours,
                theme=themes.get(line.session.id, ""),
            )
            for line in lines
        ),
        organisation=current_app.config.get("ORGANISATION_NAME") or ", ".join(networks),
        signed_by=signed_by if signed_by is not None else (signer.name if signer else ""),
        issued_on=local_today(),
        reference=f"ATT-{start.year}-{contact.id:06d}-{digest.hexdigest()[:4].upper()}",
    )


# --- bridges ----------------------------------------------------------------------------------


@dataclass
class NetworkBridges:
    """The network's members and who has visited whom."""

    members: list[bridges_module.Member]
    bridges: bridges_module.Bridges


def network_bridges(network: Network) -> NetworkBridges:
    """Who has visited whom among the current members, in three statements."""
    members = [bridges_module.Member(fid, name) for fid, name in current_member_names(network)]
    # Only the columns the picture needs: no Session and host objects for years of history.
    sessions = db.session.execute(
        _held(network).with_only_columns(Session.id, Session.starts_at, Session.host_facility_id)
    ).all()
    present: dict[int, set[int]] = defaultdict(set)
    for session_id, facility_id in db.session.execute(
        select(Attendance.session_id, Attendance.facility_id).where(
            Attendance.session_id.in_([s.id for s in sessions]),
            Attendance.status == PRESENT,
            Attendance.facility_id.is_not(None),
        )
    ):
        present[session_id].add(facility_id)
    held = [
        bridges_module.HeldSession(
            id=session_id,
            day=to_local(starts_at, network.timezone).date(),
            host_id=host_id,
            present_facility_ids=frozenset(present[session_id]),
        )
        for session_id, starts_at, host_id in sessions
    ]
    return NetworkBridges(members, bridges_module.bridges(members, held))


# --- the member's own history (issue 21.3) -----------------------------------------------------


@dataclass
class HistoryLine:
    """A past session with the member's recorded attendance."""

    session: Session
    status: str  # present, absent, excused
    hours: float  # counted only when present


@dataclass
class MemberHistory:
    """What the member's history page shows: every past session with their attendance
    (all networks, also ones the facility has left), hours per werkjaar (newest first),
    and their facility's past hosting turns."""

    lines: list[HistoryLine]
    hours_per_werkjaar: list[tuple[str, float]]
    hosted: list[Session]


def werkjaar_label(day: date) -> str:
    """'2026-2027': the werkjaar (1 September–31 August) of a day, as ``?period=`` takes it."""
    start, end = rules.werkjaar_of(day)
    return f"{start.year}-{end.year}"


def member_history(contact: Contact, now: datetime | None = None) -> MemberHistory:
    """The contact's own past sessions, hours and their facility's hosting turns, in
    three statements."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Attendance)
        .join(Session, Session.id == Attendance.session_id)
        .where(Attendance.contact_id == contact.id, Session.ends_at <= now)
        .options(joinedload(Attendance.session).joinedload(Session.host))
        .options(joinedload(Attendance.session).joinedload(Session.network))
        .order_by(Session.starts_at.desc())
    )
    lines = []
    per_year: dict[str, float] = defaultdict(float)
    for a in rows:
        s = a.session
        present = a.status == PRESENT
        hours = rules.hours(s.starts_at, s.ends_at) if present else 0.0
        lines.append(HistoryLine(s, a.status, hours))
        if present:
            per_year[werkjaar_label(to_local(s.starts_at, s.network.timezone).date())] += hours
    hosted = list(
        db.session.scalars(
            select(Session)
            .where(
                Session.host_facility_id == contact.facility_id,
                Session.status != CANCELLED,
                Session.ends_at <= now,
            )
            .options(joinedload(Session.network))
            .order_by(Session.starts_at.desc())
        )
    )
    return MemberHistory(
        lines=lines,
        hours_per_werkjaar=sorted(per_year.items(), reverse=True),
        hosted=hosted,
    )


def certificate_signers(contact: Contact, start: date, end: date) -> str:
    """The facilitators of the networks whose sessions the contact attended in a period,
    by name: who signs the certificate a member fetches through their link."""
    names = sorted(
        {
            user.name
            for line in attended(contact, start, end)
            for user in line.session.network.facilitators
            if user.active
        },
        key=str.casefold,
    )
    return ", ".join(names)


def mark_rest_absent(session: Session, by_user: User, now: datetime | None = None) -> int:
    """Record everyone on the session's list without a record as absent (the contacts
    only; walk-ins always have one); commits. Returns how many. Only once the session has
    started: before, nobody is absent yet."""
    now = now or utcnow()
    if now < session.starts_at:
        raise AttendanceError(rules.NOT_STARTED)
    count = 0
    for row in rows(session):
        if row.contact is not None and row.attendance is None:
            record(session, row.contact, ABSENT, via="facilitator", by_user=by_user, now=now)
            count += 1
    return count
