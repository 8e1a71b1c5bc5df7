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
from learnnet.attendance.models import STATUSES as ATTENDANCE_STATUSES
from learnnet.networks.models import NETWORK_STATUSES
from learnnet.rsvp.models import ANSWERS, WITHDRAWN
from learnnet.scheduling.models import STATUSES as SESSION_STATUSES

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


class NetworkOut(_Stamped):
    """A learning network."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(NETWORK_STATUSES))
    expected_attendance = ma.fields.Integer(required=True, allow_none=True)
    facilitators = ma.fields.List(ma.fields.Nested(Facilitator), required=True)


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
