"""The evaluation's rules. Pure: no Flask, no database.

After a session the people who were there answer a short evaluation through their
personal link:

- The questions come from a fixed set (:data:`QUESTIONS`): a few on a 1–5 scale, a few
  open ones. Per network the facilitator chooses 2 to 4 of them, in an order
  (:func:`choice_problem`); a network that chose nothing asks :data:`DEFAULT`.
- Only a contact who was checked in (attendance "present") may answer, once, from the
  session's start until :data:`ANSWER_DAYS` days after its end, never for a cancelled
  session and not while the network has switched evaluation off (:func:`closed_reason`).
- The mail that asks for it goes to each of them once, within :data:`MAIL_DAYS` days of
  the end (:func:`mail_due`): who is checked in later, from the paper sheet, still gets it.
- An answer holds at least one question answered (:func:`clean`); each open answer can be
  shared for the facility's yearly record (*jaaroverzicht*) — only when its text is not
  empty.
- Results are counts, averages and distributions per question, plus the texts, never
  who wrote them (:func:`summarise`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SCALE = "scale"
TEXT = "text"

SCORES = (1, 2, 3, 4, 5)
MIN_CHOSEN = 2
MAX_CHOSEN = 4
MAX_TEXT = 2000
MAIL_DAYS = 14
ANSWER_DAYS = 60


@dataclass(frozen=True)
class Question:
    """One question of the set: its key (stored with each answer) and its kind."""

    key: str
    kind: str


QUESTIONS = (
    Question("useful", SCALE),
    Question("practice", SCALE),
    Question("exchange", SCALE),
    Question("take_away", TEXT),
    Question("try_out", TEXT),
    Question("missed", TEXT),
    Question("next_topic", TEXT),
)
BY_KEY = {q.key: q for q in QUESTIONS}
DEFAULT = ("useful", "take_away", "try_out")

# Why a contact cannot answer (now).
CANCELLED = "cancelled"
OFF = "off"
NOT_PRESENT = "not_present"
ANSWERED = "answered"
NOT_YET = "not_yet"
TOO_LATE = "too_late"

# Why a choice of questions is refused.
TOO_FEW = "too_few"
TOO_MANY = "too_many"
UNKNOWN = "unknown"
TWICE = "twice"

# Why an answer is refused.
EMPTY = "empty"
BAD_SCORE = "score"
TOO_LONG = "too_long"


def choice_problem(keys: Sequence[str]) -> str | None:
    """Why this choice of questions cannot be saved, or None."""
    if any(k not in BY_KEY for k in keys):
        return UNKNOWN
    if len(set(keys)) != len(keys):
        return TWICE
    if len(keys) < MIN_CHOSEN:
        return TOO_FEW
    if len(keys) > MAX_CHOSEN:
        return TOO_MANY
    return None


def parse_choice(stored: str | None) -> tuple[str, ...]:
    """The chosen keys as stored ("useful,take_away"), in order; :data:`DEFAULT` when
    nothing (valid) was stored. Unknown keys (a question retired since) are skipped."""
    keys: list[str] = []
    for key in (stored or "").split(","):
        key = key.strip()
        if key in BY_KEY and key not in keys:
            keys.append(key)
    return tuple(keys[:MAX_CHOSEN]) if len(keys) >= MIN_CHOSEN else DEFAULT


def store_choice(keys: Sequence[str]) -> str:
    """The chosen keys as one column value."""
    return ",".join(keys)


def closed_reason(
    *,
    present: bool,
    cancelled: bool,
    enabled: bool,
    answered: bool,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> str | None:
    """Why the contact cannot answer the session's evaluation now (a code), or None."""
    if cancelled:
        return CANCELLED
    if not enabled:
        return OFF
    if not present:
        return NOT_PRESENT
    if answered:
        return ANSWERED
    if now < starts_at:
        return NOT_YET
    if now > ends_at + timedelta(days=ANSWER_DAYS):
        return TOO_LATE
    return None


def mail_due(ends_at: datetime, now: datetime) -> bool:
    """Whether the evaluation mail of a session that ends at ``ends_at`` goes now."""
    return ends_at <= now <= ends_at + timedelta(days=MAIL_DAYS)


@dataclass(frozen=True)
class Given:
    """One question answered: a score (scale) or a text (open), and whether the text may
    be quoted in the facility's yearly record."""

    question: str
    score: int | None = None
    text: str = ""
    share: bool = False


def clean(form: Mapping[str, str], chosen: Sequence[str]) -> tuple[list[Given], dict[str, str]]:
    """Read an answer from form fields ``score-<key>``, ``text-<key>``, ``share-<key>``.

    Returns the questions answered and the problems per question key (``""`` for the
    whole form: nothing answered). Unanswered questions are left out; questions not
    chosen are ignored.
    """
    given: list[Given] = []
    problems: dict[str, str] = {}
    for key in chosen:
        question = BY_KEY.get(key)
        if question is None:
            continue
        if question.kind == SCALE:
            raw = (form.get(f"score-{key}") or "").strip()
            if not raw:
                continue
            if raw not in {str(s) for s in SCORES}:
                problems[key] = BAD_SCORE
                continue
            given.append(Given(key, score=int(raw)))
        else:
            text = (form.get(f"text-{key}") or "").replace("\r\n", "\n").strip()
            if not text:
                continue
            if len(text) > MAX_TEXT:
                problems[key] = TOO_LONG
                continue
            share = (form.get(f"share-{key}") or "") in ("1", "on", "y", "yes")
            given.append(Given(key, text=text, share=share))
    if not given and not problems:
        problems[""] = EMPTY
    return given, problems


@dataclass(frozen=True)
class Answer:
    """One stored answer, as plain values (no person: results never need one)."""

    response_id: int
    session_id: int
    question: str
    score: int | None = None
    text: str = ""
    share: bool = False


@dataclass
class Summary:
    """What one question's answers add up to."""

    key: str
    kind: str
    count: int = 0
    total: int = 0
    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))
    texts: list[tuple[str, bool]] = field(default_factory=list)  # (text, shared)

    @property
    def average(self) -> float | None:
        """The mean score, None without scores."""
        return self.total / self.count if self.count else None


def summarise(answers: Iterable[Answer], keys: Sequence[str]) -> list[Summary]:
    """Per question: the chosen ``keys`` in their order, then any other question that was
    answered (chosen earlier), in the set's order. Texts keep the order given."""
    summaries = {k: Summary(k, BY_KEY[k].kind) for k in keys if k in BY_KEY}
    extra: dict[str, Summary] = {}
    for a in answers:
        question = BY_KEY.get(a.question)
        if question is None:
            continue
        counts = a.score in SCORES if question.kind == SCALE else bool(a.text)
        if not counts:
            continue  # an empty answer adds nothing, not even a question shown without any
        found = summaries.get(a.question) or extra.setdefault(
            a.question, Summary(a.question, question.kind)
        )
        if question.kind == SCALE and a.score in SCORES:
            found.count += 1
            found.total += a.score
            found.distribution[a.score] += 1
        elif question.kind == TEXT and a.text:
            found.count += 1
            found.texts.append((a.text, a.share))
    order = [q.key for q in QUESTIONS]
    return list(summaries.values()) + sorted(extra.values(), key=lambda s: order.index(s.key))


def respondents(answers: Iterable[Answer]) -> int:
    """How many people answered (one response each)."""
    return len({a.response_id for a in answers})
