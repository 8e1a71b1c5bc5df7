"""The season poll's rules. Pure: no Flask, no database.

Before a season is planned, the facilitator asks the members which candidate dates suit
them. Every contact of a member facility answers per date:

- ``kan`` (:data:`CAN`), ``kan niet`` (:data:`CANNOT`) or ``liever niet``
  (:data:`RATHER_NOT`);
- and, for a facility that takes turns hosting, "wij kunnen ontvangen": an offer to host
  on that date. An offer goes with coming: with "kan niet" it is dropped.

A facility's answer on a date combines its contacts' answers (:func:`facility_day`):

- it *can host* when at least one contact offered to host;
- it *comes* ("kan") when at least one contact can; failing that it "rather not" comes
  when one contact said so; it *cannot* ("kan niet") only when every contact that
  answered for the date said so. A facility none of whose contacts answered has no
  answer (None): silence is never read as "kan niet".

The expected attendance of a date is the number of contacts that said "kan"
(:func:`expected_attendance`).

**Feeding the planner.** A date is *weak* when fewer facilities than the threshold can
come (default: fewer than half of the facilities that answered, :func:`default_threshold`); the
facilitator may drop it, and it becomes one of the planner's dropped dates. The answers
enter the planner as plain data (:func:`planner_input`): a facility that *cannot* come on
a date is treated as closed that day, and one that offered to host is preferred there.

Closing the poll is the facilitator's explicit act. Answers given after it are kept and
shown ("late"), but never counted in the rules above: the facilitator may already have
planned with the answers as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

CAN = "can"
CANNOT = "cannot"
RATHER_NOT = "rather_not"
ANSWERS = (CAN, RATHER_NOT, CANNOT)

MAX_DATES = 60  # a season, twice over: more is a typing mistake, not a poll
MAX_TEXT = 1000


class Answer(NamedTuple):
    """One contact's answer for one candidate date (a tuple: a big poll has thousands)."""

    contact_id: int
    facility_id: int
    day: date
    answer: str
    host: bool = False
    late: bool = False


@dataclass(frozen=True)
class FacilityDay:
    """A facility's combined answer on one date (see the module docstring)."""

    answer: str | None  # CAN, RATHER_NOT, CANNOT, or None when nobody answered
    host: bool
    can: int  # contacts that said "kan"
    late: int  # answers given after closing (shown, not counted)


def normalise(answer: str, host: bool, takes_turns: bool) -> tuple[str, bool]:
    """The answer as stored: an offer to host only from a facility that takes turns and
    only with a "kan" or "liever niet" (who cannot come cannot receive)."""
    if answer not in ANSWERS:
        raise ValueError(answer)
    return answer, bool(host and takes_turns and answer != CANNOT)


def combine(answers: Iterable[Answer]) -> FacilityDay:
    """The combined answer of one facility's contacts on one date; late ones only counted
    in ``late``."""
    kinds: set[str] = set()
    host = False
    can = late = 0
    for a in answers:
        if a.late:
            late += 1
            continue
        kinds.add(a.answer)
        host = host or a.host
        can += a.answer == CAN
    combined = next((kind for kind in ANSWERS if kind in kinds), None)
    return FacilityDay(answer=combined, host=host, can=can, late=late)


def facility_days(answers: Iterable[Answer]) -> dict[tuple[int, date], FacilityDay]:
    """Every (facility, date) that has answers, combined."""
    grouped: dict[tuple[int, date], list[Answer]] = {}
    for a in answers:
        grouped.setdefault((a.facility_id, a.day), []).append(a)
    return {key: combine(group) for key, group in grouped.items()}


def facility_day(answers: Iterable[Answer], facility_id: int, day: date) -> FacilityDay:
    """One facility's combined answer on one date."""
    return combine(a for a in answers if a.facility_id == facility_id and a.day == day)


def expected_attendance(answers: Iterable[Answer], days: Iterable[date]) -> dict[date, int]:
    """Per candidate date, the contacts that said "kan" in time."""
    counts = dict.fromkeys(days, 0)
    for a in answers:
        if not a.late and a.answer == CAN and a.day in counts:
            counts[a.day] += 1
    return counts


def hosts_offered(answers: Iterable[Answer], days: Iterable[date]) -> dict[date, set[int]]:
    """Per candidate date, the facilities that offered to host in time."""
    offered: dict[date, set[int]] = {day: set() for day in days}
    for a in answers:
        if not a.late and a.host and a.day in offered:
            offered[a.day].add(a.facility_id)
    return offered


def facilities_can(
    cells: Mapping[tuple[int, date], FacilityDay], days: Iterable[date]
) -> dict[date, int]:
    """Per candidate date, the facilities whose combined answer is "kan" (in time)."""
    counts = dict.fromkeys(days, 0)
    for (_facility_id, day), cell in cells.items():
        if cell.answer == CAN and day in counts:
            counts[day] += 1
    return counts


def default_threshold(answered: int) -> int:
    """How many facilities must be able to come for a date not to be weak: half of the
    facilities that answered, rounded up (so "fewer than half" is weak). Counting only
    who answered keeps a young poll from marking every date; nobody answered: none."""
    return (answered + 1) // 2


def weak_dates(counts: Mapping[date, int], threshold: int) -> set[date]:
    """The dates where fewer facilities than ``threshold`` can come."""
    return {day for day, n in counts.items() if n < threshold}


def planner_input(
    cells: Mapping[tuple[int, date], FacilityDay],
) -> tuple[dict[int, frozenset[date]], dict[int, frozenset[date]]]:
    """The poll's answers as the planner takes them: (facility → dates it cannot come,
    facility → dates it offered to host). Late answers are not in ``cells``' counts."""
    cannot: dict[int, set[date]] = {}
    offers: dict[int, set[date]] = {}
    for (facility_id, day), cell in cells.items():
        if cell.answer == CANNOT:
            cannot.setdefault(facility_id, set()).add(day)
        if cell.host:
            offers.setdefault(facility_id, set()).add(day)
    return (
        {f: frozenset(days) for f, days in cannot.items()},
        {f: frozenset(days) for f, days in offers.items()},
    )


def missing(
    answers: Iterable[Answer], contact_ids: Iterable[int], days: Iterable[date]
) -> dict[int, int]:
    """Contacts that have not answered every date in time: contact id → dates open."""
    wanted = set(days)
    given: dict[int, set[date]] = {}
    for a in answers:
        if not a.late and a.day in wanted:
            given.setdefault(a.contact_id, set()).add(a.day)
    result = {}
    for contact_id in contact_ids:
        open_days = len(wanted - given.get(contact_id, set()))
        if open_days:
            result[contact_id] = open_days
    return result


def check_dates(days: Iterable[date], closes_on: date | None, today: date) -> list[str]:
    """What is wrong with a new poll's dates, as codes (empty when fine):
    ``none``, ``too_many``, ``past`` (a date before today), ``closes_late`` (the
    closing date after the last candidate date), ``closes_past``."""
    unique = sorted(set(days))
    problems = []
    if not unique:
        problems.append("none")
    if len(unique) > MAX_DATES:
        problems.append("too_many")
    if any(day < today for day in unique):
        problems.append("past")
    if closes_on is not None:
        if closes_on < today:
            problems.append("closes_past")
        elif unique and closes_on > unique[-1]:
            problems.append("closes_late")
    return problems


def invitation_key(poll_id: int, contact_id: int) -> str:
    """The outbox dedupe key of a poll's invitation: each contact gets it once."""
    return f"poll-invitation:{poll_id}:{contact_id}"


def reminder_key(poll_id: int, contact_id: int, day: date) -> str:
    """The outbox dedupe key of a poll's reminder: at most one a day per contact."""
    return f"poll-reminder:{poll_id}:{contact_id}:{day.isoformat()}"
