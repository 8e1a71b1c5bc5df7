"""The season poll's use cases: open, answer, close, and read a poll with its answers.

The rules (how answers combine, who is missing) live in :mod:`learnnet.planning.poll`;
this module loads and stores, and hands the rules plain :class:`poll.Answer` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from learnnet import signals
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.planning import poll as rules
from learnnet.planning.poll_models import Poll, PollAnswer, PollDate
from learnnet.planning.recurrence import DATES, Pattern, candidate_dates
from learnnet.sessions.models import Series
from learnnet.timefmt import local_today

PREFILL_DATES = 10


class PollError(ValueError):
    """A poll or an answer that cannot be saved; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def suggested_dates(network: Network, today: date) -> list[date]:
    """Dates to start a poll from: the next ones of the network's latest weekly or
    monthly series, or none."""
    series = db.session.scalar(
        select(Series)
        .where(Series.network_id == network.id, Series.kind != DATES)
        .order_by(Series.id.desc())
        .limit(1)
    )
    if series is None:
        return []
    pattern = Pattern(
        kind=series.kind,
        start=today,
        weekday=series.weekday,
        interval_weeks=series.interval_weeks,
        nth=series.nth,
    )
    found = []
    for day in candidate_dates(pattern):
        found.append(day)
        if len(found) == PREFILL_DATES:
            break
    return found


def create_poll(
    network: Network, actor: User, days: list[date], closes_on: date, text: str
) -> Poll:
    """A new open poll on the given dates (duplicates once)."""
    problems = rules.check_dates(days, closes_on, local_today(network.timezone))
    if problems:
        raise PollError(problems[0])
    poll = Poll(network=network, created_by=actor, closes_on=closes_on, text=text.strip())
    poll.dates = [PollDate(day=day) for day in sorted(set(days))]
    db.session.add(poll)
    db.session.commit()
    return poll


def _contacts(poll: Poll) -> list[Contact]:
    return [c for f in member_facilities(poll.network) for c in f.contacts if c.active]


def _mail(poll: Poll, kind: str, contacts: list[Contact]) -> int:
    """Ask the mail room (above this one) to queue the poll's mails; how many it queued."""
    today = local_today(poll.network.timezone)
    results = signals.poll_mail_requested.send(poll, kind=kind, contacts=contacts, today=today)
    return sum(int(queued or 0) for _receiver, queued in results)


def send_poll(poll: Poll) -> int:
    """Mail the open poll to every contact who has not had it yet: all of them when it
    opens, later a facility that joined or a contact added since; how many mails were
    queued. Needs a request (the mails' links)."""
    if not poll.is_open:
        return 0
    count = _mail(poll, "invitation", _contacts(poll))
    db.session.commit()
    return count


def remind(poll: Poll) -> int:
    """Mail a reminder to each contact who has not answered every date yet, at most once
    a day each; how many mails were queued."""
    if not poll.is_open:
        return 0
    contacts = _contacts(poll)
    open_days = rules.missing(answers(poll), [c.id for c in contacts], [d.day for d in poll.dates])
    count = _mail(poll, "reminder", [c for c in contacts if c.id in open_days])
    db.session.commit()
    return count


def mailed(poll: Poll) -> int:
    """How many contacts the poll's invitation was queued for."""
    prefix = rules.invitation_key(poll.id, 0)[:-1]
    return (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.dedupe_key.startswith(prefix))
        )
        or 0
    )


def close_poll(poll: Poll) -> bool:
    """Close the poll (once): later answers are kept but no longer counted."""
    if poll.closed_at is not None:
        return False
    poll.closed_at = utcnow()
    db.session.commit()
    return True


def network_polls(network: Network) -> list[Poll]:
    """The network's polls, newest first."""
    return list(
        db.session.scalars(
            select(Poll)
            .where(Poll.network_id == network.id)
            .options(selectinload(Poll.dates))
            .order_by(Poll.id.desc())
        )
    )


def _current(network_id: int, today: date) -> list:
    return [
        Membership.network_id == network_id,
        or_(Membership.left_on.is_(None), Membership.left_on >= today),
    ]


def member_facilities(network: Network) -> list[Facility]:
    """The network's current member facilities with their active contacts, by name."""
    today = local_today(network.timezone)
    return list(
        db.session.scalars(
            select(Facility)
            .join(Membership, Membership.facility_id == Facility.id)
            .where(*_current(network.id, today))
            .options(selectinload(Facility.contacts))
            .order_by(Facility.name_key)
        ).unique()
    )


def may_answer(poll: Poll, contact: Contact) -> bool:
    """Active contacts of current member facilities answer the network's polls."""
    if not contact.active:
        return False
    today = local_today(poll.network.timezone)
    query = select(Membership.id).where(
        Membership.facility_id == contact.facility_id, *_current(poll.network_id, today)
    )
    return db.session.scalar(query.limit(1)) is not None


def open_polls_for(contact: Contact) -> list[Poll]:
    """Open polls of the contact's networks (for the member's page)."""
    if not contact.active:
        return []
    today = local_today()
    networks = select(Membership.network_id).where(
        Membership.facility_id == contact.facility_id,
        or_(Membership.left_on.is_(None), Membership.left_on >= today),
    )
    return list(
        db.session.scalars(
            select(Poll)
            .where(Poll.network_id.in_(networks), Poll.closed_at.is_(None))
            .options(selectinload(Poll.network), selectinload(Poll.dates))
            .order_by(Poll.closes_on, Poll.id)
        )
    )


def answers(poll: Poll) -> list[rules.Answer]:
    """Every answer of the poll as plain values (one statement). The dates come from the
    poll's own dates by id: a big poll has thousands of answers, and reading a date from
    each row is most of the work."""
    days = {d.id: d.day for d in poll.dates}
    rows = db.session.execute(
        select(
            PollAnswer.contact_id,
            Contact.facility_id,
            PollAnswer.poll_date_id,
            PollAnswer.answer,
            PollAnswer.host,
            PollAnswer.late,
        )
        .join(Contact, Contact.id == PollAnswer.contact_id)
        .where(PollAnswer.poll_date_id.in_(list(days)))
    )
    return [
        rules.Answer(contact, facility, days[day_id], answer, host, late)
        for contact, facility, day_id, answer, host, late in rows
    ]


def contact_answers(poll: Poll, contact: Contact) -> dict[date, PollAnswer]:
    """The contact's own answers per date: the late one where there is one, as that is
    what they said last."""
    rows = db.session.scalars(
        select(PollAnswer)
        .join(PollDate, PollDate.id == PollAnswer.poll_date_id)
        .where(PollDate.poll_id == poll.id, PollAnswer.contact_id == contact.id)
        .options(selectinload(PollAnswer.poll_date))
        .order_by(PollAnswer.late)
    )
    return {row.poll_date.day: row for row in rows}


def record_answers(
    poll: Poll, contact: Contact, given: dict[date, tuple[str, bool]]
) -> tuple[int, bool]:
    """Save the contact's answers (date → (answer, offers to host)); dates not given are
    left as they were. Returns (answers changed, late). After closing, answers go into
    late rows, kept beside the ones that counted."""
    if not may_answer(poll, contact):
        raise PollError("not_member")
    by_day = {d.day: d for d in poll.dates}
    if any(day not in by_day for day in given):
        raise PollError("date")
    late = not poll.is_open
    takes_turns = contact.facility.willing_to_host
    existing = {
        row.poll_date_id: row
        for row in db.session.scalars(
            select(PollAnswer).where(
                PollAnswer.poll_date_id.in_([d.id for d in poll.dates]),
                PollAnswer.contact_id == contact.id,
                PollAnswer.late.is_(late),
            )
        )
    }
    changed = 0
    now = utcnow()
    for day, (answer, host) in given.items():
        answer, host = rules.normalise(answer, host, takes_turns)
        poll_date = by_day[day]
        row = existing.get(poll_date.id)
        if row is None:
            row = PollAnswer(poll_date_id=poll_date.id, contact_id=contact.id, late=late)
            db.session.add(row)
        elif row.answer == answer and row.host == host:
            continue
        row.answer, row.host, row.answered_at = answer, host, now
        changed += 1
    db.session.commit()
    return changed, late


@dataclass
class DateRow:
    """One candidate date on the facilitator's page: the counts of the rules."""

    day: date
    can: int  # contacts that said "kan" (the expected attendance)
    rather_not: int
    cannot: int  # contacts that said "kan niet"
    hosts: list[Facility]  # facilities that offered to host
    late: int
    facilities_can: int = 0  # facilities whose combined answer is "kan"
    weak: bool = False  # fewer facilities can come than the threshold
    dropped: bool = False  # the facilitator dropped it (for the plan, not saved)
    # The grid's cells in facility order: (facility, kind), the kind the combined answer
    # ("can", "rather_not", "cannot" or "none") with "-host" when it offered to host.
    cells: list[tuple[Facility, str]] = field(default_factory=list)


@dataclass
class PollOverview:
    """A poll with what its answers add up to."""

    poll: Poll
    rows: list[DateRow]
    facilities: list[Facility]
    missing: list[tuple[Contact, int]]  # contacts with dates still open, and how many
    late: list[tuple[Contact, date, PollAnswer | None]]
    answered: int  # contacts with at least one answer in time
    cells: dict[tuple[int, date], rules.FacilityDay]  # (facility id, date) → combined
    threshold: int = 1  # a date is weak when fewer facilities than this can come
    answered_facilities: int = 0  # facilities with an answer in time

    def cell(self, facility: Facility, day: date) -> rules.FacilityDay | None:
        """The facility's combined answer on the date (the grid's cell), None if silent."""
        return self.cells.get((facility.id, day))

    @property
    def weak(self) -> list[date]:
        """The weak dates not dropped yet (the "drop all weak dates" button)."""
        return [row.day for row in self.rows if row.weak and not row.dropped]

    @property
    def dropped(self) -> list[date]:
        """The dates the facilitator dropped."""
        return [row.day for row in self.rows if row.dropped]

    @property
    def expected(self) -> int:
        """The most contacts that can come on one date still planned (0: no answers)."""
        return max((row.can for row in self.rows if not row.dropped), default=0)


def _cell_kind(cell: rules.FacilityDay | None) -> str:
    if cell is None or cell.answer is None:
        return "none"
    return f"{cell.answer}-host" if cell.host else cell.answer


def overview(
    poll: Poll, threshold: int | None = None, dropped: frozenset[date] = frozenset()
) -> PollOverview:
    """The poll's counts per date, the offers to host, who is missing, the late answers;
    dates with fewer facilities that can come than ``threshold`` (default: half of the
    facilities that answered) are weak, and ``dropped`` ones are marked."""
    given = answers(poll)
    days = [d.day for d in poll.dates]
    facilities = member_facilities(poll.network)
    by_id = {f.id: f for f in facilities}
    attendance = rules.expected_attendance(given, days)
    offered = rules.hosts_offered(given, days)
    cells = rules.facility_days(given)
    facilities_can = rules.facilities_can(
        {key: cell for key, cell in cells.items() if key[0] in by_id}, days
    )
    answered_facilities = len({key[0] for key, cell in cells.items() if cell.answer} & set(by_id))
    if threshold is None:
        threshold = rules.default_threshold(answered_facilities)
    weak = rules.weak_dates(facilities_can, threshold)
    counted: dict[date, dict[str, int]] = {day: {} for day in days}
    late_counts = dict.fromkeys(days, 0)
    for a in given:
        if a.day not in counted:
            continue
        if a.late:
            late_counts[a.day] += 1
        else:
            counted[a.day][a.answer] = counted[a.day].get(a.answer, 0) + 1
    rows = [
        DateRow(
            day=day,
            can=attendance[day],
            rather_not=counted[day].get(rules.RATHER_NOT, 0),
            cannot=counted[day].get(rules.CANNOT, 0),
            hosts=[by_id[i] for i in sorted(offered[day]) if i in by_id],
            late=late_counts[day],
            facilities_can=facilities_can[day],
            weak=day in weak,
            dropped=day in dropped,
            cells=[(f, _cell_kind(cells.get((f.id, day)))) for f in facilities],
        )
        for day in days
    ]
    contacts = [c for f in facilities for c in f.contacts if c.active]
    open_days = rules.missing(given, [c.id for c in contacts], days)
    missing = [(c, open_days[c.id]) for c in contacts if c.id in open_days]
    late_rows = list(
        db.session.scalars(
            select(PollAnswer)
            .join(PollDate, PollDate.id == PollAnswer.poll_date_id)
            .where(PollDate.poll_id == poll.id, PollAnswer.late.is_(True))
            .options(selectinload(PollAnswer.contact), selectinload(PollAnswer.poll_date))
            .order_by(PollDate.day, PollAnswer.answered_at)
        )
    )
    late = [(row.contact, row.poll_date.day, row) for row in late_rows]
    answered = len({a.contact_id for a in given if not a.late})
    return PollOverview(
        poll, rows, facilities, missing, late, answered, cells, threshold, answered_facilities
    )


@dataclass
class PlannerFeed:
    """What a poll hands the planner and the plan preview: the answers in time as the
    planner's plain data, and per date the "kan" count and who offered to host."""

    poll: Poll
    cannot_come: dict[int, frozenset[date]]
    offers: dict[int, frozenset[date]]
    can: dict[date, int]  # contacts that said "kan" per date
    offered: dict[date, list[int]]  # facility ids that offered to host per date


def planner_feed(poll: Poll) -> PlannerFeed:
    """The poll's answers given before closing, for the planner (one statement)."""
    given = answers(poll)
    days = [d.day for d in poll.dates]
    cannot_come, offers = rules.planner_input(rules.facility_days(given))
    offered = rules.hosts_offered(given, days)
    return PlannerFeed(
        poll=poll,
        cannot_come=cannot_come,
        offers=offers,
        can=rules.expected_attendance(given, days),
        offered={day: sorted(ids) for day, ids in offered.items()},
    )
