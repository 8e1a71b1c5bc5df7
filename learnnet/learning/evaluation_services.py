"""The evaluation's use cases: the network's questions, asking who was there, answering
once, the results per session and per werkjaar, and a person's data (export, erase,
merge).

The rules live in :mod:`learnnet.learning.evaluation`; this module loads and stores and
hands them plain values. Results never carry who answered: a response keeps its contact
only so that it is answered once and belongs to that person's data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from learnnet.attendance.models import PRESENT, Attendance
from learnnet.extensions import db
from learnnet.learning import evaluation as rules
from learnnet.learning.evaluation_models import (
    EvaluationAnswer,
    EvaluationResponse,
    EvaluationSetting,
)
from learnnet.mail import services as mail
from learnnet.mail.models import BULK, OutboxMessage
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Network
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import format_day, local_date

EVALUATION = "evaluation"  # the mail's kind


class EvaluationError(ValueError):
    """An answer or a choice that cannot be saved; ``code`` says why (see the rules)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- the network's questions ------------------------------------------------------------------


def setting_of(network: Network) -> EvaluationSetting | None:
    """The network's evaluation setting, None while it asks the defaults."""
    return db.session.scalar(
        select(EvaluationSetting).where(EvaluationSetting.network_id == network.id)
    )


@dataclass(frozen=True)
class Choice:
    """What a network asks: on or off, and the question keys in order."""

    enabled: bool
    keys: tuple[str, ...]


def choice_of(network: Network) -> Choice:
    """The network's evaluation: on with the default questions unless chosen otherwise."""
    found = setting_of(network)
    if found is None:
        return Choice(True, rules.DEFAULT)
    return Choice(found.enabled, found.chosen)


def save_choice(network: Network, keys: list[str], enabled: bool) -> EvaluationSetting:
    """Store the facilitator's choice (2–4 questions of the set, in order); commits."""
    problem = rules.choice_problem(keys)
    if problem:
        raise EvaluationError(problem)
    found = setting_of(network) or EvaluationSetting(network_id=network.id)
    found.enabled = enabled
    found.questions = rules.store_choice(keys)
    db.session.add(found)
    db.session.commit()
    return found


# --- who may answer, and answering ------------------------------------------------------------


def was_present(session: Session, contact: Contact) -> bool:
    """Whether the contact was checked in at the session (attendance "present")."""
    return (
        db.session.scalar(
            select(Attendance.id).where(
                Attendance.session_id == session.id,
                Attendance.contact_id == contact.id,
                Attendance.status == PRESENT,
            )
        )
        is not None
    )


def response_of(session: Session, contact: Contact) -> EvaluationResponse | None:
    """The contact's evaluation of the session, if given."""
    return db.session.scalar(
        select(EvaluationResponse).where(
            EvaluationResponse.session_id == session.id,
            EvaluationResponse.contact_id == contact.id,
        )
    )


def closed_reason(session: Session, contact: Contact, now: datetime | None = None) -> str | None:
    """Why the contact cannot answer the session's evaluation now, or None."""
    return rules.closed_reason(
        present=was_present(session, contact),
        cancelled=session.status == CANCELLED,
        enabled=choice_of(session.network).enabled,
        answered=response_of(session, contact) is not None,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        now=now or utcnow(),
    )


def submit(
    session: Session, contact: Contact, given: list[rules.Given], now: datetime | None = None
) -> EvaluationResponse:
    """Store the contact's answer (once: a second one, also at the same moment, raises
    ``EvaluationError("answered")``); commits."""
    reason = closed_reason(session, contact, now)
    if reason:
        raise EvaluationError(reason)
    if not given:
        raise EvaluationError(rules.EMPTY)
    response = EvaluationResponse(
        session_id=session.id,
        contact_id=contact.id,
        facility_id=contact.facility_id,
        submitted_at=now or utcnow(),
        answers=[
            EvaluationAnswer(question=g.question, score=g.score, text=g.text, share=g.share)
            for g in given
        ],
    )
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:
        # Two submits at once both passed the check above: the database kept one.
        raise EvaluationError(rules.ANSWERED) from None
    db.session.commit()
    return response


def open_for(contact: Contact, now: datetime | None = None) -> list[Session]:
    """The sessions the contact was at and may still evaluate (the member page)."""
    now = now or utcnow()
    answered = select(EvaluationResponse.session_id).where(
        EvaluationResponse.contact_id == contact.id
    )
    sessions = db.session.scalars(
        select(Session)
        .join(Attendance, Attendance.session_id == Session.id)
        .where(
            Attendance.contact_id == contact.id,
            Attendance.status == PRESENT,
            Session.status != CANCELLED,
            Session.starts_at <= now,
            Session.ends_at >= now - timedelta(days=rules.ANSWER_DAYS),
            Session.id.not_in(answered),
        )
        .options(joinedload(Session.network), joinedload(Session.host))
        .order_by(Session.starts_at)
    )
    found = list(sessions)
    if not found:
        return []
    off = set(
        db.session.scalars(
            select(EvaluationSetting.network_id).where(
                EvaluationSetting.network_id.in_({s.network_id for s in found}),
                EvaluationSetting.enabled.is_(False),
            )
        )
    )
    return [s for s in found if s.network_id not in off]


# --- the mail ---------------------------------------------------------------------------------


def dedupe_key(session_id: int, contact_id: int) -> str:
    """The outbox key of a contact's evaluation mail for a session: it goes once."""
    return f"{EVALUATION}:{session_id}:{contact_id}"


def evaluation_url(contact: Contact, session: Session) -> str:
    """The contact's evaluation page of the session, through their personal link."""
    token = token_of(ensure_link(contact))
    return url_for(
        "evaluation.member_evaluation", token=token, session_id=session.id, _external=True
    )


def evaluation_mail(session: Session, contact: Contact) -> OutboxMessage | None:
    """The mail asking one contact to evaluate the session, in their language, with the
    link to their evaluation page; None when sent before or without an address. Needs a
    request context (the link); no commit."""
    if not contact.email or not contact.active:
        return None
    key = dedupe_key(session.id, contact.id)
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None  # checked first: no personal link is made for a mail not sent
    network = session.network
    locale = contact.preferred_language
    day = local_date(session.starts_at, network.timezone)
    keys = choice_of(network).keys

    def subject() -> str:
        return _(
            "How was it? Evaluation of %(network)s, %(date)s",
            network=network.name,
            date=format_day(day, locale),
        )

    rendered = mail.render(
        EVALUATION,
        locale,
        subject,
        contact=contact,
        network=network,
        session=session,
        day=format_day(day, locale),
        questions=len(keys),
        link=evaluation_url(contact, session),
    )
    return mail.queue(
        EVALUATION,
        contact.email,
        rendered,
        recipient_name=contact.name,
        contact_id=contact.id,
        session_id=session.id,
        dedupe_key=key,
        priority=BULK,
    )


def _present_contacts(session: Session) -> list[Contact]:
    """The contacts checked in at the session (not guests), by name."""
    return list(
        db.session.scalars(
            select(Contact)
            .join(Attendance, Attendance.contact_id == Contact.id)
            .where(Attendance.session_id == session.id, Attendance.status == PRESENT)
            .order_by(Contact.name)
        )
    )


def _mailed(session_id: int) -> set[int]:
    prefix = f"{EVALUATION}:{session_id}:"
    return {
        int(key.rsplit(":", 1)[1])
        for key in db.session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.startswith(prefix))
        )
    }


def _answered(session_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(EvaluationResponse.contact_id).where(
                EvaluationResponse.session_id == session_id,
                EvaluationResponse.contact_id.is_not(None),
            )
        )
    )


def can_ask(session: Session, now: datetime | None = None) -> bool:
    """Whether the session's evaluation can be asked for now: not cancelled, the network
    has it on, and the session has started and is still within the answering time."""
    now = now or utcnow()
    return (
        session.status != CANCELLED
        and choice_of(session.network).enabled
        and session.starts_at <= now <= session.ends_at + timedelta(days=rules.ANSWER_DAYS)
    )


def to_ask(session: Session) -> list[Contact]:
    """The checked-in contacts with an address who have not been asked and not answered."""
    skip = _mailed(session.id) | _answered(session.id)
    return [c for c in _present_contacts(session) if c.email and c.active and c.id not in skip]


def ask(session: Session, now: datetime | None = None) -> int:
    """Mail the evaluation to everyone checked in who has not had it; how many were
    queued. Commits. Needs a request context (the links)."""
    if not can_ask(session, now):
        return 0
    count = sum(evaluation_mail(session, c) is not None for c in to_ask(session))
    db.session.commit()
    return count


def send_due(now: datetime | None = None) -> int:
    """The cron's part (``send-reminders``): ask for the evaluation of every session that
    ended in the last MAIL_DAYS days; each contact gets it once. Commits."""
    now = now or utcnow()
    sessions = db.session.scalars(
        select(Session)
        .where(
            Session.status != CANCELLED,
            Session.ends_at <= now,
            Session.ends_at >= now - timedelta(days=rules.MAIL_DAYS),
            Session.id.in_(
                select(Attendance.session_id).where(
                    Attendance.status == PRESENT, Attendance.contact_id.is_not(None)
                )
            ),
        )
        .order_by(Session.ends_at)
    )
    return sum(ask(s, now) for s in list(sessions) if rules.mail_due(s.ends_at, now))


@dataclass(frozen=True)
class Status:
    """The session page's evaluation box: how many were there, asked, answered."""

    enabled: bool
    can_ask: bool
    present: int
    asked: int
    answered: int
    waiting: int  # checked in, with an address, not asked yet
    automatic: bool  # the cron still mails it by itself (until MAIL_DAYS after the end)


def status(session: Session, now: datetime | None = None) -> Status:
    """The evaluation's state for the session page."""
    now = now or utcnow()
    present = _present_contacts(session)
    mailed = _mailed(session.id)
    answered = _answered(session.id)
    return Status(
        enabled=choice_of(session.network).enabled,
        can_ask=can_ask(session, now),
        present=len(present),
        asked=len(mailed),
        answered=db.session.scalar(
            select(func.count(EvaluationResponse.id)).where(
                EvaluationResponse.session_id == session.id
            )
        )
        or 0,
        waiting=sum(
            1
            for c in present
            if c.email and c.active and c.id not in mailed and c.id not in answered
        ),
        automatic=now <= session.ends_at + timedelta(days=rules.MAIL_DAYS),
    )


# --- results ----------------------------------------------------------------------------------


def answers_of(session_ids: list[int]) -> list[rules.Answer]:
    """Every answer of these sessions as plain values, without people (one statement)."""
    if not session_ids:
        return []
    rows = db.session.execute(
        select(
            EvaluationAnswer.response_id,
            EvaluationResponse.session_id,
            EvaluationAnswer.question,
            EvaluationAnswer.score,
            EvaluationAnswer.text,
            EvaluationAnswer.share,
        )
        .join(EvaluationResponse, EvaluationResponse.id == EvaluationAnswer.response_id)
        .where(EvaluationResponse.session_id.in_(session_ids))
        .order_by(EvaluationResponse.submitted_at, EvaluationAnswer.id)
    )
    return [rules.Answer(*row) for row in rows]


def _present_counts(session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Attendance.session_id, func.count(Attendance.id))
        .where(
            Attendance.session_id.in_(session_ids),
            Attendance.status == PRESENT,
            Attendance.contact_id.is_not(None),
        )
        .group_by(Attendance.session_id)
    )
    return {session_id: n for session_id, n in rows}


@dataclass
class SessionResults:
    """One session's evaluation: who could answer, how many did, per question."""

    session: Session
    present: int
    responded: int
    summaries: list[rules.Summary]


def session_results(session: Session) -> SessionResults:
    """Counts, averages, distributions and texts of the session's evaluation."""
    given = answers_of([session.id])
    return SessionResults(
        session=session,
        present=_present_counts([session.id]).get(session.id, 0),
        responded=rules.respondents(given),
        summaries=rules.summarise(given, choice_of(session.network).keys),
    )


@dataclass
class YearRow:
    """One held session in the werkjaar view."""

    session: Session
    present: int
    responded: int
    averages: dict[str, float | None]


@dataclass
class YearResults:
    """A network's evaluations over a period (a werkjaar)."""

    start: date
    end: date
    keys: tuple[str, ...]
    rows: list[YearRow]
    summaries: list[rules.Summary]
    present: int
    responded: int


def _sessions_in(network: Network, start: date, end: date, now: datetime) -> list[Session]:
    """The network's sessions of the period that have started and were not cancelled."""
    # A day's margin either side in UTC; the local day decides below.
    first = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(days=1)
    last = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=2)
    sessions = db.session.scalars(
        select(Session)
        .where(
            Session.network_id == network.id,
            Session.status != CANCELLED,
            Session.starts_at <= now,
            Session.starts_at >= first,
            Session.starts_at < last,
        )
        .options(joinedload(Session.host))
        .order_by(Session.starts_at)
    )
    return [s for s in sessions if start <= local_date(s.starts_at, network.timezone) <= end]


def werkjaar_results(
    network: Network, start: date, end: date, now: datetime | None = None
) -> YearResults:
    """The network's evaluations between ``start`` and ``end`` (a werkjaar): per session
    the response and the averages, and for the whole period per question."""
    now = now or utcnow()
    sessions = _sessions_in(network, start, end, now)
    ids = [s.id for s in sessions]
    given = answers_of(ids)
    present = _present_counts(ids)
    keys = choice_of(network).keys
    per_session: dict[int, list[rules.Answer]] = defaultdict(list)
    for a in given:
        per_session[a.session_id].append(a)
    rows = []
    for s in sessions:
        summaries = rules.summarise(per_session[s.id], keys)
        rows.append(
            YearRow(
                session=s,
                present=present.get(s.id, 0),
                responded=rules.respondents(per_session[s.id]),
                averages={x.key: x.average for x in summaries if x.kind == rules.SCALE},
            )
        )
    rows = [r for r in rows if r.present or r.responded]
    return YearResults(
        start=start,
        end=end,
        keys=keys,
        rows=rows,
        summaries=rules.summarise(given, keys),
        present=sum(r.present for r in rows),
        responded=rules.respondents(given),
    )


def werkjaren(network: Network, today: date) -> list[str]:
    """The werkjaren with evaluations ("2026-2027"), newest first, and always the
    current one."""
    from learnnet.attendance.services import werkjaar_label

    starts = db.session.scalars(
        select(Session.starts_at)
        .join(EvaluationResponse, EvaluationResponse.session_id == Session.id)
        .where(Session.network_id == network.id)
        .distinct()
    )
    labels = {werkjaar_label(local_date(s, network.timezone)) for s in starts}
    labels.add(werkjaar_label(today))
    return sorted(labels, reverse=True)


def csv_rows(
    network: Network, sessions: list[Session], labels: dict[str, str]
) -> list[list[object]]:
    """One line per answer, without names: date, session, host, question, score, text,
    shared for the yearly record. ``labels``: the questions in words."""
    by_id = {s.id: s for s in sessions}
    lines: list[list[object]] = []
    for a in answers_of(list(by_id)):
        s = by_id[a.session_id]
        lines.append(
            [
                local_date(s.starts_at, network.timezone).isoformat(),
                s.title,
                s.host.name,
                labels.get(a.question, a.question),
                a.score if a.score is not None else "",
                a.text,
                _("yes") if a.share else "",
            ]
        )
    return lines


def csv_bytes(header: list[str], body: list[list[object]], variant: str) -> bytes:
    """The attendance room's CSV (Excel's semicolons and BOM, or plain commas), with its
    protection against cells a spreadsheet would run as a formula."""
    from learnnet.attendance.services import csv_bytes as attendance_csv

    return attendance_csv(header, body, variant)


# --- a person's data (privacy) ----------------------------------------------------------------


def export_for(contact: Contact) -> list[dict[str, Any]]:
    """The contact's evaluations with every answer, for the export of their data."""
    responses = db.session.scalars(
        select(EvaluationResponse)
        .where(EvaluationResponse.contact_id == contact.id)
        .options(
            joinedload(EvaluationResponse.session).joinedload(Session.network),
            joinedload(EvaluationResponse.answers),
        )
        .order_by(EvaluationResponse.submitted_at)
    ).unique()
    return [
        {
            "session": {
                "network": r.session.network.name,
                "starts_at": r.session.starts_at.isoformat(),
                "title": r.session.title,
            },
            "submitted_at": r.submitted_at.isoformat(),
            "answers": [
                {
                    "question": a.question,
                    "score": a.score,
                    "text": a.text,
                    "shared_for_yearly_record": a.share,
                }
                for a in r.answers
            ],
        }
        for r in responses
    ]


def erase_for(contact: Contact) -> None:
    """Erasure: the contact's evaluations lose their texts and their link to the person;
    the scores stay, so that counts and averages still add up. No commit."""
    ids = select(EvaluationResponse.id).where(EvaluationResponse.contact_id == contact.id)
    db.session.execute(
        delete(EvaluationAnswer)
        .where(EvaluationAnswer.response_id.in_(ids), EvaluationAnswer.score.is_(None))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(EvaluationAnswer)
        .where(EvaluationAnswer.response_id.in_(ids))
        .values(text="", share=False)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(EvaluationResponse)
        .where(EvaluationResponse.contact_id == contact.id)
        .values(contact_id=None)
        .execution_options(synchronize_session=False)
    )


def merge_for(duplicate: Contact, keeper: Contact) -> None:
    """One person listed twice: the duplicate's evaluations move to the keeper, except
    for a session the keeper evaluated too (the keeper's stays). No commit."""
    kept = _sessions_evaluated(keeper.id)
    db.session.execute(
        delete(EvaluationResponse)
        .where(
            EvaluationResponse.contact_id == duplicate.id,
            EvaluationResponse.session_id.in_(kept),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(EvaluationResponse)
        .where(EvaluationResponse.contact_id == duplicate.id)
        .values(contact_id=keeper.id)
        .execution_options(synchronize_session=False)
    )


def _sessions_evaluated(contact_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(EvaluationResponse.session_id).where(EvaluationResponse.contact_id == contact_id)
        )
    )
