"""Demo data: three learning networks of childcare facilities in Flanders.

Plausible but invented facilities and people, with addresses in real municipalities and
email addresses under example.org, so no real person is ever mailed. The data lives in
files beside this module (demo_networks.json, demo_members/*.csv, demo_learning.json);
this module holds the steps. Each network's members come in through the members-CSV
import a facilitator uses (:func:`learnnet.networks.services.apply_import`), so the demo
proves that import. Loading is idempotent: every step adds only what is missing (a
network that has members is not imported again).
"""

from __future__ import annotations

import functools
import json
import zlib
from dataclasses import replace
from datetime import date, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from learnnet.auth import services as auth_services
from learnnet.auth.models import ROLE_ADMIN, ROLE_FACILITATOR, User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks import csvio
from learnnet.networks import services as network_services
from learnnet.networks.models import Contact, Membership, Network
from learnnet.planning import rotation, schoolholidays
from learnnet.planning import services as planning_services
from learnnet.planning.recurrence import Pattern
from learnnet.sessions import services as scheduling
from learnnet.sessions.models import CONFIRMED, HELD, Blackout, Session

# The demo member whose personal link `make run` prints.
DEMO_MEMBER = ("Sofie Claes", "Kinderdagverblijf De Zonnebloem")
# Demo logins, printed by `make run`; never use these outside a demo.
DEMO_FACILITATOR = ("begeleider@example.org", "demo-begeleider")
DEMO_ADMIN = ("admin@example.org", "demo-beheerder")
DEMO_FACILITATOR_2 = ("tom.janssens@example.org", "demo-begeleider-2")

USERS = (
    (DEMO_FACILITATOR, "An Peeters", ROLE_FACILITATOR),
    (DEMO_FACILITATOR_2, "Tom Janssens", ROLE_FACILITATOR),
    (DEMO_ADMIN, "Beheerder Demo", ROLE_ADMIN),
)

# The demo's data, beside this module: networks, seasons and answers in demo_networks.json,
# each network's member facilities and contacts in demo_members/<slug>.csv in the
# members-CSV format (docs/csv.md), read by the same parser as a facilitator's upload.
DATA = Path(__file__).parent
SPEC = json.loads((DATA / "demo_networks.json").read_text("utf-8"))
NETWORKS = tuple(SPEC["networks"])
SPEC_BY_SLUG = {n["slug"]: n for n in NETWORKS}
# Facilities that are also a member of a second network: (network, name, postcode, joined).
SHARED = tuple(
    (s["network"], s["facility"], s["postcode"], date.fromisoformat(s["joined"]))
    for s in SPEC["shared"]
)
# A former member: left the Gent network at the end of the previous working year.
FORMER = (
    SPEC["former"]["network"],
    SPEC["former"]["facility"],
    SPEC["former"]["postcode"],
    date.fromisoformat(SPEC["former"]["left"]),
)

# When the members joined (the import's "today"); the shared ones joined later.
JOINED = date.fromisoformat(SPEC["joined"])
# The parser's row errors, untranslated: the demo's own files have none.
CSV_MESSAGES = {key: f"{key} (%(column)s: %(value)s)" for key in csvio.ERROR_KEYS}


@functools.cache
def member_file(slug: str) -> bytes:
    """The network's member facilities and contacts: its CSV file as a facilitator uploads it."""
    return (DATA / SPEC_BY_SLUG[slug]["members"]).read_bytes()


def member_rows(slug: str) -> list[csvio.FacilityRow]:
    """The network's member facilities with their contacts, read by the upload's parser."""
    parsed = csvio.parse(member_file(slug), CSV_MESSAGES)
    problems = [f"line {r.line}: {'; '.join(r.errors)}" for r in parsed.rows if r.errors]
    if problems:  # a mistake in the demo's own file: say where
        raise ValueError(f"{SPEC_BY_SLUG[slug]['members']}: {' / '.join(problems)}")
    return parsed.facilities


AGENDA = "\n".join(SPEC["agenda"])
# The demo's periods without sessions are the Flemish school holidays of the school years
# its seasons run in, computed by learnnet.planning.schoolholidays and added as the
# timeline's one-click button adds them (same dates, same Dutch names), so that button
# finds them already there.
SCHOOL_HOLIDAY_NAMES = {
    schoolholidays.AUTUMN: "Herfstvakantie",
    schoolholidays.CHRISTMAS: "Kerstvakantie",
    schoolholidays.SPRING: "Krokusvakantie",
    schoolholidays.EASTER: "Paasvakantie",
    schoolholidays.SUMMER: "Zomervakantie",
}
SEASON_REACH = timedelta(days=400)  # ten sessions, monthly or every four weeks, and skips


def _school_holiday_labels(school_year: int) -> dict[str, str]:
    years = f"{school_year}–{school_year + 1}"
    return {key: f"{name} {years}" for key, name in SCHOOL_HOLIDAY_NAMES.items()}


# network slug -> how its season runs
SEASONS = {n["slug"]: n["season"] for n in NETWORKS}


def _plan_season(network: Network, spec: dict) -> int:  # type: ignore[type-arg]
    """A season planned with the planner: started three months ago, ten sessions."""
    if db.session.scalar(select(func.count(Session.id)).where(Session.network_id == network.id)):
        return 0
    today = date.today()
    start = today - timedelta(days=91)
    if not db.session.scalar(
        select(func.count(Blackout.id)).where(Blackout.network_id == network.id)
    ):
        first = schoolholidays.school_year_of(start)
        for year in range(first, schoolholidays.school_year_of(start + SEASON_REACH) + 1):
            scheduling.add_school_holidays(network, year, _school_holiday_labels(year))
    pattern = Pattern(start=start, **SEASONS[spec["slug"]])
    network.expected_attendance = 8  # what the demo networks usually get
    request = planning_services.build_request(
        network, pattern, today=start, count=10, until=None, expected=8
    )
    plan = rotation.plan(request)
    details = planning_services.SeriesDetails(
        start_time=time(19, 0), duration_minutes=150, title="Netwerkbijeenkomst", rsvp_days=7
    )
    sessions = planning_services.save_plan(network, plan, details)
    now = utcnow()
    confirmed = 0
    for session in sessions:
        session.agenda = AGENDA
        session.host_showcase = (
            f"{session.host.name} toont hoe de dag verloopt in de leefgroepen en "
            "deelt de eigen aanpak rond het thema van het netwerk."
        )
        if session.ends_at < now:
            session.status = HELD
        elif confirmed < 2 and session.host.contacts:
            # The next two hosts have already confirmed.
            session.status = CONFIRMED
            session.host_confirmed_by = session.host.contacts[0]
            session.host_confirmed_at = now
            confirmed += 1
    db.session.commit()
    return len(sessions)


def demo_member_email() -> str:
    """The email address of the demo member (see DEMO_MEMBER), as her network's file gives it."""
    person, facility = DEMO_MEMBER
    for slug in SPEC_BY_SLUG:
        for row in member_rows(slug):
            for contact in row.contacts if row.name == facility else ():
                if contact.name == person and contact.email:
                    return contact.email
    raise LookupError(f"{person} of {facility} is in none of the demo's member files")


def _answers(network: Network) -> int:
    """Answers of other members for the next two sessions of the network.

    The second one is made full (its capacity set to its "yes" answers, the room is
    small that evening), so the demo member who says yes lands on the waitlist, and
    is promoted when a colleague declines.
    """
    from learnnet.rsvp import services as rsvp
    from learnnet.rsvp.models import Rsvp

    now = utcnow()
    upcoming = list(
        db.session.scalars(
            select(Session)
            .where(Session.network_id == network.id, Session.starts_at > now)
            .order_by(Session.starts_at)
            .limit(2)
        )
    )
    if len(upcoming) < 2 or db.session.scalar(
        select(func.count(Rsvp.id)).where(Rsvp.session_id.in_([s.id for s in upcoming]))
    ):
        return 0
    member_email = demo_member_email()
    people = [
        c
        for c in rsvp.expected_contacts(upcoming[1])
        if c.email != member_email and c.facility.name != upcoming[1].host.name
    ]
    colleague = next(c for c in people if c.facility.name == DEMO_MEMBER[1])
    others = [c for c in people if c is not colleague]
    count = 0
    first, second = upcoming
    # The demo starts "today", whatever day that is: when the next session's answers have
    # closed already, its invitations went out and its members answered before that,
    # as they would have in a season that really ran.
    answered_at = None
    if first.rsvp_deadline is not None and first.rsvp_deadline < now:
        answered_at = first.rsvp_deadline - timedelta(days=2)
        first.invited_at = first.rsvp_deadline - timedelta(days=14)
        db.session.commit()
    for contact, (answer, note) in zip(others, SPEC["answers"], strict=False):
        rsvp.answer(first.id, contact, answer, note, by_contact=contact, now=answered_at)
        count += 1
    coming = [colleague, *others[:3]]
    second.capacity = len(coming)
    db.session.commit()
    for contact in coming:
        rsvp.answer(second.id, contact, "yes", "", by_contact=contact)
        count += 1
    return count


def _attendance(network: Network) -> int:
    """Who was at the network's past sessions: a stable, plausible pick of its people."""
    from learnnet.attendance.models import PRESENT, Attendance, AttendanceChange
    from learnnet.rsvp.contacts import expected_contacts

    now = utcnow()
    past = list(
        db.session.scalars(
            select(Session)
            .where(Session.network_id == network.id, Session.ends_at < now)
            .order_by(Session.starts_at)
        )
    )
    if not past or db.session.scalar(
        select(func.count(Attendance.id)).where(Attendance.session_id.in_([s.id for s in past]))
    ):
        return 0
    count = 0
    for session in past:
        for contact in expected_contacts(session):
            # About two in three people came; the host's own people always.
            pick = zlib.crc32(f"{session.id}:{contact.name}".encode()) % 3
            if contact.facility_id != session.host_facility_id and pick == 0:
                continue
            attendance = Attendance(
                session=session,
                contact=contact,
                facility_id=contact.facility_id,
                person_name=contact.name,
                facility_name=contact.facility.name,
                status=PRESENT,
            )
            db.session.add(attendance)
            db.session.add(
                AttendanceChange(attendance=attendance, new_status=PRESENT, via="facilitator")
            )
            count += 1
    db.session.commit()
    return count


# Evaluation answers of the demo: (score, what they take with them, shared?, what they
# will try, shared?); the demo's checked-in contacts answer them in turn.
EVALUATIONS = tuple(tuple(e) for e in SPEC["evaluations"])


def _evaluations(network: Network) -> int:
    """Evaluations of the network's last two held sessions, by several of the people who
    were checked in (some quotes shared for their facility's yearly record)."""
    from learnnet.attendance.models import PRESENT, Attendance
    from learnnet.learning.evaluation_models import EvaluationAnswer, EvaluationResponse

    now = utcnow()
    held = list(
        db.session.scalars(
            select(Session)
            .where(Session.network_id == network.id, Session.ends_at < now)
            .order_by(Session.starts_at.desc())
            .limit(2)
        )
    )
    if not held or db.session.scalar(
        select(func.count(EvaluationResponse.id)).where(
            EvaluationResponse.session_id.in_([s.id for s in held])
        )
    ):
        return 0
    count = 0
    for n, session in enumerate(held):
        present = db.session.scalars(
            select(Attendance)
            .where(
                Attendance.session_id == session.id,
                Attendance.status == PRESENT,
                Attendance.contact_id.is_not(None),
            )
            .order_by(Attendance.id)
        )
        for i, attendance in enumerate(list(present)[: 5 - 2 * n]):
            score, take_away, share_take, try_out, share_try = EVALUATIONS[
                (i + 5 * n) % len(EVALUATIONS)
            ]
            answers = [EvaluationAnswer(question="useful", score=score)]
            if take_away:
                answers.append(
                    EvaluationAnswer(question="take_away", text=take_away, share=share_take)
                )
            if try_out:
                answers.append(EvaluationAnswer(question="try_out", text=try_out, share=share_try))
            db.session.add(
                EvaluationResponse(
                    session_id=session.id,
                    contact_id=attendance.contact_id,
                    facility_id=attendance.facility_id,
                    submitted_at=session.ends_at + timedelta(hours=2 + i),
                    answers=answers,
                )
            )
            count += 1
    db.session.commit()
    return count


POLL_SLUG = SPEC["poll"]["network"]
POLL_DATES = SPEC["poll"]["dates"]
POLL_TEXT = SPEC["poll"]["text"]


def _season_poll(network: Network) -> int:
    """An open season poll for the network's next season, with answers (how many).

    Six candidate dates after its last session. Every facility but the last answered:
    one date most cannot come (too few: the facilitator drops it), a few "kan niet", and
    per date one facility offers to host. The offers are the ones the planner can follow
    within its rules (each swaps the queue's hosts of two dates in a row where it can),
    so the plan from the poll has its hosts where they offered.
    """
    from learnnet.planning import poll as poll_rules
    from learnnet.planning import poll_services
    from learnnet.planning.poll_models import Poll
    from learnnet.planning.recurrence import DATES, candidate_dates
    from learnnet.timefmt import local_today

    if db.session.scalar(select(func.count(Poll.id)).where(Poll.network_id == network.id)):
        return 0
    last = db.session.scalar(
        select(func.max(Session.starts_at)).where(Session.network_id == network.id)
    )
    today = local_today(network.timezone)
    start = max(today, last.date() if last else today) + timedelta(days=7)
    holidays = planning_services.public_holidays(start, start + SEASON_REACH)
    days: list[date] = []
    for day in candidate_dates(Pattern(start=start, **SEASONS[POLL_SLUG])):
        if day not in holidays and schoolholidays.holiday_on(day) is None:
            days.append(day)
        if len(days) == POLL_DATES:
            break
    poll = poll_services.create_poll(
        network, network.facilitators[0], days, today + timedelta(days=14), POLL_TEXT
    )
    facilities = [f for f in poll_services.member_facilities(network) if f.contacts]
    answering = facilities[:-1]  # the last one has not answered yet
    weak = days[4]
    cannot = {(answering[i % len(answering)].id, days[d]) for i, d in ((1, 1), (2, 3), (3, 0))}
    cannot |= {(f.id, weak) for f in answering[2:]}
    # Who answers what: two contacts of each facility, the first for every date, the
    # second for every other date.
    answers: list[tuple[Contact, int, dict[date, str]]] = []
    for n, facility in enumerate(answering):
        for k, contact in enumerate(c for c in facility.contacts[:2] if c.active):
            given = {}
            for i, day in enumerate(days):
                if k and i % 2:
                    continue
                if (facility.id, day) in cannot:
                    given[day] = poll_rules.CANNOT
                elif (n + i) % 5 == 0:
                    given[day] = poll_rules.RATHER_NOT
                else:
                    given[day] = poll_rules.CAN
            answers.append((contact, k, given))
    # The plan from the poll expects the most "kan" on one date it plans.
    expected = max(
        sum(given.get(day) == poll_rules.CAN for _c, _k, given in answers)
        for day in days
        if day != weak
    )
    # The queue's hosts, then each pair of dates swapped: kept where the planner follows.
    request = planning_services.build_request(
        network,
        Pattern(DATES, today, dates=tuple(days)),
        today,
        None,
        None,
        expected,
        dropped={weak},
    )
    cannot_come: dict[int, set[date]] = {}
    for facility_id, day in cannot:
        cannot_come.setdefault(facility_id, set()).add(day)
    request = replace(request, cannot_come={f: frozenset(d) for f, d in cannot_come.items()})
    queue = {a.day: a.facility_id for a in rotation.plan(request).assignments}
    planned = sorted(queue)
    swapped = {}
    for first, second in zip(planned[::2], planned[1::2], strict=False):
        swapped[first], swapped[second] = queue[second], queue[first]
    offers: dict[int, set[date]] = {}
    for day, facility_id in swapped.items():
        offers.setdefault(facility_id, set()).add(day)
    followed = rotation.plan(replace(request, offers={f: frozenset(d) for f, d in offers.items()}))
    offered = {(a.facility_id, a.day) for a in followed.assignments}
    count = 0
    for contact, k, given in answers:
        host = {day: k == 0 and (contact.facility_id, day) in offered for day in given}
        poll_services.record_answers(
            poll, contact, {day: (answer, host[day]) for day, answer in given.items()}
        )
        count += len(given)
    return count


# Minutes of the two latest held sessions (issue 23.4): per agenda item when the session
# has a programme, else one text; agreements of which one is done with a line on how it
# went, and one open, which the next session's look-back shows.
MINUTES = tuple(SPEC["minutes"])


def _minutes(network: Network) -> int:
    """Published minutes with agreements for the network's two latest held sessions
    (no mail: the demo's people are invented); nothing when minutes exist already."""
    from learnnet.learning.minutes_models import (
        PUBLISHED,
        ActionNote,
        ActionPoint,
        Minutes,
        MinutesSection,
    )
    from learnnet.learning.models import AgendaItem
    from learnnet.sessions.models import CANCELLED

    now = utcnow()
    held = list(
        db.session.scalars(
            select(Session)
            .where(
                Session.network_id == network.id,
                Session.ends_at < now,
                Session.status != CANCELLED,
            )
            .order_by(Session.starts_at.desc())
            .limit(2)
        )
    )[::-1]
    if len(held) < 2 or db.session.scalar(
        select(func.count(Minutes.session_id)).where(Minutes.session_id.in_([s.id for s in held]))
    ):
        return 0
    member = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
    others = [
        m.facility
        for m in network.memberships
        if m.left_on is None and (member is None or m.facility_id != member.facility_id)
    ]
    if member is None or not others:
        return 0
    count = 0
    for session, spec in zip(held, MINUTES, strict=True):
        minutes = Minutes(
            session_id=session.id,
            status=PUBLISHED,
            published_at=session.ends_at + timedelta(days=2),
            published_by_id=network.facilitators[0].id if network.facilitators else None,
        )
        items = list(
            db.session.scalars(
                select(AgendaItem)
                .where(AgendaItem.session_id == session.id)
                .order_by(AgendaItem.position)
            )
        )
        if items:
            minutes.sections = [
                MinutesSection(agenda_item_id=i.id, position=n, title=i.title, text=spec["said"])
                for n, i in enumerate(items[:1])
            ]
        minutes.general_text = spec["general"]
        db.session.add(minutes)
        for position, (what, who, state, line) in enumerate(spec["actions"]):
            facility = others[0] if who == "other" else member.facility
            point = ActionPoint(
                minutes=minutes,
                network_id=network.id,
                position=position,
                what=what,
                owner_facility_id=facility.id,
                owner_contact_id=member.id if who == "contact" else None,
                due_on=(session.starts_at + timedelta(days=21)).date(),
            )
            if state == "done":
                point.done_at = session.ends_at + timedelta(days=10)
                point.done_by_contact_id = member.id
            if line:
                point.notes.append(
                    ActionNote(contact_id=member.id, text=line, created_at=point.done_at or now)
                )
            db.session.add(point)
            count += 1
    db.session.commit()
    return count


def _learning(network: Network) -> int:
    """The learning side of one network (data in demo_learning.json): a theme with three
    goals for the werkjaar, a programme for the last two held sessions and the next one,
    with the goals they serve, and two learning questions. Returns the rows added (0 when there)."""
    import json
    from pathlib import Path

    from learnnet.learning import rules as learning_rules
    from learnnet.learning import services as learning
    from learnnet.learning.models import AgendaItem, LearningQuestion, WerkjaarTheme

    if db.session.scalar(
        select(func.count(WerkjaarTheme.id)).where(WerkjaarTheme.network_id == network.id)
    ):
        return 0
    spec = json.loads((Path(__file__).parent / "demo_learning.json").read_text("utf-8"))
    now = utcnow()
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(Session.network_id == network.id, Session.status != "cancelled")
            .order_by(Session.starts_at)
        )
    )
    held = [s for s in sessions if s.ends_at < now]
    upcoming = [s for s in sessions if s.starts_at > now]
    if not held or not upcoming:
        return 0
    chosen = {"held": held[-1], "upcoming": upcoming[0]}
    if len(held) > 1:  # the session before it, so two held sessions have a programme
        chosen = {"held_before": held[-2], **chosen}
    themes = {}
    for start_year in sorted({learning.session_start_year(s) for s in chosen.values()}):
        themes[start_year] = learning.save_theme(
            network, start_year, spec["theme"], spec["description"], spec["goals"]
        )
    count = len(themes) * (1 + len(spec["goals"]))
    members = [m.facility for m in network.memberships if m.left_on is None]
    for key, session in chosen.items():
        part = spec[key]
        guest = next(f for f in members if f.id != session.host_facility_id)
        for position, (title, minutes, lead) in enumerate(part["items"]):
            db.session.add(
                AgendaItem(
                    session_id=session.id,
                    position=position,
                    title=title,
                    minutes=minutes,
                    lead_kind="facility" if lead == "member" else lead,
                    lead_facility_id=guest.id if lead == "member" else None,
                )
            )
            count += 1
        db.session.commit()
        learning.save_programme_texts(session, part["prepare_question"], session.host_showcase)
        goals = themes[learning.session_start_year(session)].goals
        learning.set_session_goals(session, [goals[i].id for i in part["goals"]])
        count += 1
    people = [c for f in members for c in f.contacts if c.active]
    for name, where, text in spec["questions"]:
        session = chosen[where] if where else None
        if name == "*":  # someone of another facility than the demo member's
            writer = next(c for c in people if c.facility.name != DEMO_MEMBER[1])
        else:
            writer = next(c for c in people if c.name == name)
        start_year = (
            learning.session_start_year(session)
            if session
            else learning_rules.werkjaar_start(now.date())
        )
        db.session.add(
            LearningQuestion(
                contact_id=writer.id,
                network_id=network.id,
                session_id=session.id if session else None,
                start_year=start_year,
                text=text,
            )
        )
        count += 1
    db.session.commit()
    return count


def load() -> str:
    """Add whatever part of the demo is missing; return a one-line report."""
    created = {"users": 0, "networks": 0, "facilities": 0, "memberships": 0, "contacts": 0}
    users: dict[str, User] = {}
    for (email, password), name, role in USERS:
        user = auth_services.user_by_email(email)
        if user is None:
            user = auth_services.create_user(email, name, password, role, locale="nl")
            created["users"] += 1
        if (email, password) == DEMO_FACILITATOR:
            user.may_create_networks = True  # the demo shows starting a network
        users[email] = user

    networks: dict[str, Network] = {}
    for spec in NETWORKS:
        network = db.session.scalar(select(Network).where(Network.slug == spec["slug"]))
        if network is None:
            network = Network(
                slug=spec["slug"],
                name=spec["name"],
                region=spec["region"],
                description=spec["description"],
                timezone="Europe/Brussels",
            )
            network.facilitators = [users[e] for e in spec["facilitators"]]
            db.session.add(network)
            created["networks"] += 1
        networks[spec["slug"]] = network
    db.session.flush()

    for slug, network in networks.items():
        if network.memberships:  # imported before (the former member is no longer current)
            continue
        plan = network_services.apply_import(
            network, member_rows(slug), JOINED, actor=network.facilitators[0]
        )
        created["facilities"] += plan.new_facilities
        created["memberships"] += plan.new_members
        created["contacts"] += plan.new_contacts
        db.session.refresh(network)
        for membership in network.memberships:
            facility = membership.facility
            if (slug, facility.name, facility.postcode) == FORMER[:3]:
                network_services.leave(membership, FORMER[3])
    for slug, name, postcode, joined in SHARED:
        network = networks[slug]
        facility = network_services.find_facility(name, postcode)
        if facility is not None and not any(m.network is network for m in facility.memberships):
            facility.memberships.append(Membership(network=network, joined_on=joined))
            created["memberships"] += 1
    db.session.commit()
    created["sessions"] = sum(_plan_season(networks[spec["slug"]], spec) for spec in NETWORKS)
    created["answers"] = _answers(networks["gent-baby-peuter"])
    created["attendances"] = sum(_attendance(n) for n in networks.values())
    created["learning"] = _learning(networks["gent-baby-peuter"])
    created["evaluations"] = _evaluations(networks["gent-baby-peuter"])
    created["poll answers"] = _season_poll(networks[POLL_SLUG])
    created["agreements"] = _minutes(networks["gent-baby-peuter"])
    parts = ", ".join(f"{n} {k}" for k, n in created.items())
    return f"Demo data loaded: {parts} added."
