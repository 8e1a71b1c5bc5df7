"""What the API reads and returns, as marshmallow schemas: flask-smorest turns them into
the OpenAPI 3.1 document and validates the query with them.

Every message about bad input is plain English marked with ``N_`` (marshmallow wants
``str``; a lazy string it would take apart letter by letter): the problem document
translates it into the token owner's language (:mod:`learnnet.api.problems`).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma
from marshmallow import validate

from learnnet.api import rules
from learnnet.api.webhook_rules import EVENTS as WEBHOOK_EVENTS
from learnnet.attendance.models import STATUSES as ATTENDANCE_STATUSES
from learnnet.networks.models import NETWORK_STATUSES
from learnnet.rsvp.models import ANSWERS, WITHDRAWN
from learnnet.sessions.models import STATUSES as SESSION_STATUSES

MAX_ID = 2**31 - 1


def N_(message: str) -> str:  # Babel extracts N_("…") by default
    """Mark a message for the catalogue; it is translated when the problem is written."""
    return message


def _messages(**extra: Any) -> dict[str, Any]:
    return {
        "required": N_("This field is required."),
        "null": N_("This field cannot be empty."),
        "invalid": N_("This value is not valid here."),
        **extra,
    }


def _id(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=False,
        validate=validate.Range(min=1, max=MAX_ID, error=N_("Give a number from 1 up.")),
        error_messages=_messages(invalid=N_("Give a whole number.")),
        metadata={"description": description},
    )


def _day(description: str) -> ma.fields.Date:
    return ma.fields.Date(
        error_messages=_messages(invalid=N_("Give a date as YYYY-MM-DD, e.g. 2027-01-12.")),
        metadata={"description": description},
    )


BAD_CURSOR = N_("This cursor is not one the API gave; start again without it.")


class ListArgs(ma.Schema):
    """Paging and the filters every list takes."""

    class Meta:
        unknown = ma.EXCLUDE

    cursor = ma.fields.String(
        validate=[validate.Regexp(rules.CURSOR_PATTERN, error=BAD_CURSOR)],
        error_messages=_messages(invalid=N_("The cursor is text.")),
        metadata={"description": "The `next_cursor` of the previous page; omit for the first."},
    )
    limit = ma.fields.Integer(
        load_default=rules.PAGE_SIZE,
        validate=validate.Range(
            min=1,
            max=rules.MAX_PAGE_SIZE,
            error=N_("Give a number from 1 to 200."),
        ),
        error_messages=_messages(invalid=N_("Give a whole number.")),
        metadata={"description": "Rows per page (1–200, default 50)."},
    )
    updated_since = ma.fields.AwareDateTime(
        default_timezone=UTC,
        error_messages=_messages(
            invalid=N_("Give a moment as in 2027-01-12T19:00:00Z."),
            invalid_awareness=N_("Give a moment as in 2027-01-12T19:00:00Z."),
        ),
        metadata={
            "description": "Only rows created or changed at or after this moment "
            "(ISO 8601; without a zone: UTC). For syncing changes."
        },
    )
    network_id = _id("Only rows of this network (one the token may see).")


class FacilityListArgs(ListArgs):
    """Facilities: the common filters."""


class MembershipListArgs(ListArgs):
    """Memberships: also by facility and by a day on which they ran."""

    facility_id = _id("Only memberships of this facility.")
    active_on = _day("Only memberships that ran on this day.")


class ContactListArgs(ListArgs):
    """Contacts: also by facility."""

    facility_id = _id("Only contacts of this facility.")


class SessionListArgs(ListArgs):
    """Sessions: also by host and by the days they start."""

    facility_id = _id("Only sessions hosted by this facility.")
    starts_from = _day("Only sessions starting on or after this day (local time).")
    starts_until = _day("Only sessions starting on or before this day (local time).")


class SessionRowArgs(ListArgs):
    """Answers and attendance: also by session and by the days their sessions start."""

    session_id = _id("Only rows of this session.")
    starts_from = _day("Only rows of sessions starting on or after this day (local time).")
    starts_until = _day("Only rows of sessions starting on or before this day (local time).")


# ---- responses -------------------------------------------------------------------------


class Problem(ma.Schema):
    """An error, as RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"example": "about:blank"})
    title = ma.fields.String(required=True, metadata={"description": "What went wrong."})
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status."})
    detail = ma.fields.String(metadata={"description": "What to do about it."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Bad input: the messages per field (query parameter)."},
    )


class _Stamped(ma.Schema):
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class Facilitator(ma.Schema):
    """A facilitator of a network."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class GoalOut(ma.Schema):
    """A learning goal (leerdoel) of a werkjaar's theme."""

    id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)


class ThemeOut(ma.Schema):
    """A network's theme for one werkjaar (1 September – 31 August), with its goals."""

    id = ma.fields.Integer(required=True)
    start_year = ma.fields.Integer(required=True, metadata={"example": 2026})
    werkjaar = ma.fields.String(required=True, metadata={"example": "2026-2027"})
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    goals = ma.fields.List(ma.fields.Nested(GoalOut), required=True)


class NetworkOut(_Stamped):
    """A learning network, with the theme of the current werkjaar (null: none set)."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(NETWORK_STATUSES))
    expected_attendance = ma.fields.Integer(required=True, allow_none=True)
    facilitators = ma.fields.List(ma.fields.Nested(Facilitator), required=True)
    theme = ma.fields.Nested(ThemeOut, required=True, allow_none=True)


class FacilityOut(_Stamped):
    """A (member) facility: an organisation, not a person."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    street = ma.fields.String(required=True)
    postcode = ma.fields.String(required=True)
    city = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    website = ma.fields.String(required=True)
    room_capacity = ma.fields.Integer(required=True, allow_none=True)
    willing_to_host = ma.fields.Boolean(required=True)


class MembershipOut(_Stamped):
    """A facility's membership of a network; ``left_on`` is null while it runs."""

    id = ma.fields.Integer(required=True)
    network_id = ma.fields.Integer(required=True)
    facility_id = ma.fields.Integer(required=True)
    joined_on = ma.fields.Date(required=True)
    left_on = ma.fields.Date(required=True, allow_none=True)


class ContactOut(_Stamped):
    """A person working at a facility (only for tokens that may see people)."""

    id = ma.fields.Integer(required=True)
    facility_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True, allow_none=True)
    phone = ma.fields.String(required=True)
    function = ma.fields.String(required=True)
    preferred_language = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)


class Host(ma.Schema):
    """The facility where a session takes place."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)


class AnswerCounts(ma.Schema):
    """How many answered what; ``yes`` counts those with a seat, ``waitlist`` the others."""

    yes = ma.fields.Integer(required=True)
    maybe = ma.fields.Integer(required=True)
    no = ma.fields.Integer(required=True)
    waitlist = ma.fields.Integer(required=True)


class SessionOut(_Stamped):
    """A meeting of a network. ``status`` is as shown in learnnet: a session that has
    ended and was not cancelled is ``held``."""

    id = ma.fields.Integer(required=True)
    uid = ma.fields.String(required=True, metadata={"description": "The calendar UID."})
    network_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(SESSION_STATUSES))
    capacity = ma.fields.Integer(required=True, allow_none=True)
    rsvp_deadline = ma.fields.AwareDateTime(required=True, allow_none=True)
    host = ma.fields.Nested(Host, required=True)
    host_confirmed = ma.fields.Boolean(required=True)
    answers = ma.fields.Nested(AnswerCounts, required=True)


class AnswerOut(_Stamped):
    """A contact's answer (RSVP) for a session."""

    id = ma.fields.Integer(required=True)
    session_id = ma.fields.Integer(required=True)
    contact_id = ma.fields.Integer(required=True)
    contact_name = ma.fields.String(required=True)
    facility_id = ma.fields.Integer(required=True)
    answer = ma.fields.String(required=True, validate=validate.OneOf((*ANSWERS, WITHDRAWN)))
    waitlisted = ma.fields.Boolean(required=True)


class AttendanceOut(_Stamped):
    """Who was at a session; a walk-in guest has no contact. Names are as recorded."""

    id = ma.fields.Integer(required=True)
    session_id = ma.fields.Integer(required=True)
    contact_id = ma.fields.Integer(required=True, allow_none=True)
    facility_id = ma.fields.Integer(required=True, allow_none=True)
    person_name = ma.fields.String(required=True)
    facility_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(ATTENDANCE_STATUSES))
    walk_in = ma.fields.Boolean(required=True)


def _page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(
        name,
        (ma.Schema,),
        {
            "__doc__": f"A page of {item.__name__} rows and the cursor of the next page.",
            "data": ma.fields.List(ma.fields.Nested(item), required=True),
            "next_cursor": ma.fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "Pass as `cursor` for the next page; null at the end."},
            ),
        },
    )


NetworkPage = _page_of(NetworkOut, "NetworkPage")
FacilityPage = _page_of(FacilityOut, "FacilityPage")
MembershipPage = _page_of(MembershipOut, "MembershipPage")
ContactPage = _page_of(ContactOut, "ContactPage")
SessionPage = _page_of(SessionOut, "SessionPage")
AnswerPage = _page_of(AnswerOut, "AnswerPage")
AttendancePage = _page_of(AttendanceOut, "AttendancePage")


# ---- the yearly record (jaaroverzicht) -----------------------------------------------------


class RecordArgs(ma.Schema):
    """Which werkjaar, and optionally which network."""

    class Meta:
        unknown = ma.EXCLUDE

    werkjaar = ma.fields.Integer(
        validate=validate.Range(min=2000, max=2100, error=N_("Give a year from 2000 to 2100.")),
        error_messages=_messages(invalid=N_("Give a whole number.")),
        metadata={
            "description": "The werkjaar by its first year: 2026 is 1 September 2026 – "
            "31 August 2027. Default: the current werkjaar."
        },
    )
    network_id = _id("Only the record in this network (one the token may see).")


class RecordSession(ma.Schema):
    """A held session the facility attended."""

    session_id = ma.fields.Integer(required=True)
    day = ma.fields.Date(required=True)
    title = ma.fields.String(required=True)
    host_name = ma.fields.String(required=True)
    hours = ma.fields.Float(required=True, metadata={"description": "Per person present."})
    people_present = ma.fields.Integer(required=True)
    people = ma.fields.List(
        ma.fields.String(),
        required=True,
        allow_none=True,
        metadata={"description": "Who was there; null for tokens that may not see people."},
    )


class RecordPerson(ma.Schema):
    """Someone of the facility present at least once, with sessions and learning hours."""

    name = ma.fields.String(required=True)
    sessions = ma.fields.Integer(required=True)
    hours = ma.fields.Float(required=True)


class RecordHosted(ma.Schema):
    """A held session at the facility."""

    session_id = ma.fields.Integer(required=True)
    day = ma.fields.Date(required=True)
    title = ma.fields.String(required=True)


class RecordGoal(ma.Schema):
    """A learning goal the attended sessions served, and how many of them."""

    goal_id = ma.fields.Integer(required=True)
    theme = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    sessions = ma.fields.Integer(required=True)


class RecordActionPoint(ma.Schema):
    """An action point of the facility, made at one of the werkjaar's held sessions."""

    id = ma.fields.Integer(required=True)
    session_day = ma.fields.Date(required=True)
    what = ma.fields.String(required=True)
    owner_name = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "Null without people."}
    )
    due_on = ma.fields.Date(required=True, allow_none=True)
    done = ma.fields.Boolean(required=True)
    notes = ma.fields.List(ma.fields.String(), required=True)


class RecordQuote(ma.Schema):
    """A shared evaluation answer of the facility's people, without a name."""

    day = ma.fields.Date(required=True)
    question = ma.fields.String(required=True)
    text = ma.fields.String(required=True)


class RecordOut(ma.Schema):
    """The facility's yearly record (jaaroverzicht) in one network, summed by the rules of
    the record page, its PDF and CSV (learnnet.learning.record)."""

    network_id = ma.fields.Integer(required=True)
    facility_id = ma.fields.Integer(required=True)
    start_year = ma.fields.Integer(required=True)
    werkjaar = ma.fields.String(required=True, metadata={"example": "2026-2027"})
    first_day = ma.fields.Date(required=True)
    last_day = ma.fields.Date(required=True)
    theme = ma.fields.String(required=True, metadata={"description": "'' when none was set."})
    goals_total = ma.fields.Integer(required=True)
    member_from = ma.fields.Date(required=True, allow_none=True)
    member_until = ma.fields.Date(required=True, allow_none=True)
    held_as_member = ma.fields.Integer(required=True)
    sessions_attended = ma.fields.Integer(required=True)
    total_hours = ma.fields.Float(required=True)
    action_points_done = ma.fields.Integer(required=True)
    attended = ma.fields.List(ma.fields.Nested(RecordSession), required=True)
    people = ma.fields.List(
        ma.fields.Nested(RecordPerson),
        required=True,
        allow_none=True,
        metadata={"description": "Null for tokens that may not see people."},
    )
    hosted = ma.fields.List(ma.fields.Nested(RecordHosted), required=True)
    goals = ma.fields.List(ma.fields.Nested(RecordGoal), required=True)
    action_points = ma.fields.List(ma.fields.Nested(RecordActionPoint), required=True)
    quotes = ma.fields.List(ma.fields.Nested(RecordQuote), required=True)


class RecordList(ma.Schema):
    """The facility's records for one werkjaar: one per network of the token it was a
    member of in that werkjaar (none: an empty list)."""

    data = ma.fields.List(ma.fields.Nested(RecordOut), required=True)


# ---- deletions -----------------------------------------------------------------------------


class DeletionListArgs(ListArgs):
    """Deletions: ``updated_since`` is the moment of the deletion."""


class DeletionOut(ma.Schema):
    """A row that is gone: ``reason`` "deleted", or "erased" for a contact erased on request
    (GDPR): forget that person. Ids and a moment only."""

    id = ma.fields.Integer(required=True, metadata={"description": "The id the row had."})
    type = ma.fields.String(
        required=True,
        validate=validate.OneOf(("session", "membership", "contact", "answer", "attendance")),
    )
    reason = ma.fields.String(required=True, validate=validate.OneOf(("deleted", "erased")))
    deleted_at = ma.fields.AwareDateTime(required=True)


DeletionPage = _page_of(DeletionOut, "DeletionPage")


# ---- webhooks (admins' read/write tokens) ------------------------------------------------


class WebhookListArgs(ma.Schema):
    """Paging only."""

    class Meta:
        unknown = ma.EXCLUDE

    cursor = ListArgs._declared_fields["cursor"]
    limit = ListArgs._declared_fields["limit"]


class WebhookOut(_Stamped):
    """A registered receiver (its secret is shown only when it is made)."""

    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    events = ma.fields.List(ma.fields.String(), required=True)
    active = ma.fields.Boolean(required=True)


class WebhookCreated(WebhookOut):
    """The new receiver with its signing secret: shown this once."""

    secret = ma.fields.String(required=True, metadata={"example": "whsec_…"})


WebhookPage = _page_of(WebhookOut, "WebhookPage")


class DeliveryOut(ma.Schema):
    """One event for the receiver: its state, attempts and last response code."""

    id = ma.fields.Integer(required=True)
    event_id = ma.fields.String(required=True, metadata={"description": "The webhook-id."})
    event = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True, validate=validate.OneOf(("queued", "sending", "delivered", "failed"))
    )
    attempts = ma.fields.Integer(required=True)
    last_status = ma.fields.Integer(required=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    next_attempt_at = ma.fields.AwareDateTime(required=True)
    delivered_at = ma.fields.AwareDateTime(required=True, allow_none=True)


DeliveryPage = _page_of(DeliveryOut, "DeliveryPage")


# ---- writes (issue 26, part 2) ----------------------------------------------------------
#
# The bodies only check types here; what a value may be (lengths, one line, postcode,
# e-mail, website, capacity) is decided by learnnet.networks.checks, the rules the forms
# and the CSV import apply, so the API's verdict is theirs (tests/test_form_csv_agree.py).


class _Body(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _an_object(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            raise ma.ValidationError(N_("Send a JSON object."), "_")
        return data


def _text(description: str, required: bool = False, **kw: Any) -> ma.fields.String:
    return ma.fields.String(
        required=required,
        error_messages=_messages(invalid=N_("Give text.")),
        metadata={"description": description},
        **kw,
    )


def _flag(description: str) -> ma.fields.Boolean:
    return ma.fields.Boolean(
        truthy={True},
        falsy={False},
        error_messages=_messages(invalid=N_("Give true or false.")),
        metadata={"description": description},
    )


def _ref(description: str, required: bool = True) -> ma.fields.Integer:
    return ma.fields.Integer(
        required=required,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID, error=N_("Give a number from 1 up.")),
        error_messages=_messages(invalid=N_("Give a whole number.")),
        metadata={"description": description},
    )


def _date(description: str, required: bool = False) -> ma.fields.Date:
    return ma.fields.Date(
        required=required,
        error_messages=_messages(invalid=N_("Give a date as YYYY-MM-DD, e.g. 2027-01-12.")),
        metadata={"description": description},
    )


class FacilityChange(_Body):
    """A facility's details; on a change, only the fields sent are changed."""

    name = _text("The facility's name (one line, at most 160 characters).")
    street = _text("Street and number.")
    postcode = _text("A Belgian postcode: four digits, 1000–9999.")
    city = _text("The municipality.")
    phone = _text("Phone number (one line).")
    email = _text("E-mail address of the facility (stored lower-case).")
    website = _text("Website; www.example.org is completed to https://www.example.org.")
    room_capacity = ma.fields.Integer(
        strict=True,
        allow_none=True,
        error_messages=_messages(invalid=N_("Enter a number from 1 to 1000.")),
        metadata={
            "description": "How many people fit in the meeting room (1–1000).",
            "minimum": 1,
            "maximum": 1000,
        },
    )
    accessibility_notes = _text("Accessibility.")
    parking_notes = _text("Parking and public transport.")
    willing_to_host = _flag("Whether it is willing to host a session.")


class FacilityNew(FacilityChange):
    """A new facility, which joins one of the token's networks at once."""

    name = _text("The facility's name (one line, at most 160 characters).", required=True)
    postcode = _text("A Belgian postcode: four digits, 1000–9999.", required=True)
    city = _text("The municipality.", required=True)
    network_id = _ref("The network it joins (one the token may write to).")
    joined_on = _date("Member since (default: today).")


class ContactChange(_Body):
    """A contact's details; on a change, only the fields sent are changed."""

    name = _text("The person's name (one line, at most 120 characters).")
    email = _text(
        "E-mail address (stored lower-case; unique within the facility).", allow_none=True
    )
    phone = _text("Phone number (one line).")
    function = _text("E.g. director, childcare worker, pedagogical coach.")
    preferred_language = _text("nl or en (default nl).")
    share_details = _flag("May be shown in the network's directory (only with consent).")
    active = _flag("Still works at the facility; false withdraws their answers to come.")


class ContactNew(ContactChange):
    """A new contact of a current member facility of the token's networks."""

    name = _text("The person's name (one line, at most 120 characters).", required=True)
    facility_id = _ref("The facility they work at.")


class MembershipNew(_Body):
    """A facility joins one of the token's networks."""

    network_id = _ref("The network (one the token may write to).")
    facility_id = _ref("A facility that is or was a member of one of the token's networks.")
    joined_on = _date("Member since (default: today).")


class MembershipEnd(_Body):
    """A membership ends; the facility and its history stay."""

    left_on = _date("The last day of the membership.", required=True)


class AnswerNew(_Body):
    """An answer (RSVP) given on someone's behalf, as a facilitator does after a phone call
    (the answer deadline does not apply; a cancelled or started session is closed)."""

    session_id = _ref("The session.")
    contact_id = _ref("The person who answers.")
    answer = ma.fields.String(
        required=True,
        validate=validate.OneOf(ANSWERS, error=N_("Choose an answer.")),
        error_messages=_messages(invalid=N_("Choose an answer.")),
        metadata={"description": "yes, maybe or no."},
    )
    note = _text("A note with the answer (at most 500 characters).")


class MembershipRequestOut(ma.Schema):
    """The facility is or was in a network the token's owner does not facilitate: its
    contacts are asked to agree first (by mail); the membership starts when they do."""

    id = ma.fields.Integer(required=True)
    network_id = ma.fields.Integer(required=True)
    facility_id = ma.fields.Integer(required=True)
    joined_on = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, metadata={"example": "pending"})


class WebhookNew(_Body):
    """A receiver: an admin's (a webhook carries events of every network). In production
    only https, to a host with public addresses only."""

    url = _text("Where the events go (https://…).", required=True)
    events = ma.fields.List(
        ma.fields.String(
            validate=validate.OneOf(WEBHOOK_EVENTS, error=N_("Not an event learnnet sends.")),
            error_messages=_messages(invalid=N_("Give text.")),
        ),
        required=True,
        error_messages=_messages(invalid=N_("Give a list of events.")),
        metadata={"description": "The events it wants: " + ", ".join(WEBHOOK_EVENTS) + "."},
    )
    secret = _text("whsec_ + base64 of 24–64 bytes; omit and learnnet makes one.")
