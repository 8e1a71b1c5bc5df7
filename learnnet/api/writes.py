"""The write endpoints under ``/api/v1/`` (issue 26, part 2): facilities, contacts,
memberships and an answer on someone's behalf.

Each one checks its values with :mod:`learnnet.networks.checks` (the rules of the forms
and the CSV import) and changes them through the rooms' own services, so the audit
trail, the signals (webhooks, page caches, withdrawn answers) and the conflicts are
theirs too. Only read/write tokens get here, and only for their networks
(:func:`learnnet.api.views._authenticate`); the audit trail names the token.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, g, json
from flask_babel import gettext as _

from learnnet import signals
from learnnet.access import API_TOKEN, requires
from learnnet.api import problems, rules
from learnnet.api import schemas as s
from learnnet.api import services as api_services
from learnnet.api.views import _answer, _errors, bp
from learnnet.extensions import db
from learnnet.forms import EARLIEST, LATEST
from learnnet.networks import checks
from learnnet.networks import services as network_services
from learnnet.networks.models import Membership, MembershipRequest
from learnnet.networks.rules import LIMITS
from learnnet.rsvp import rules as rsvp_rules
from learnnet.rsvp import services as rsvp_services
from learnnet.timefmt import local_today

FACILITY_FIELDS = checks.FACILITY_FIELDS
CONTACT_FIELDS = checks.CONTACT_FIELDS
# Writes that touch people: only tokens made with "may see people" (views._authenticate).
PEOPLE_WRITES = rules.PEOPLE_WRITES
WRITE_CODES = (400, 401, 403, 409, 422, 429)


def _message(kind: str, field: str, code: str, value: Any = "") -> str:
    """The form's message for a check's code, in the token owner's language."""
    if code == checks.TOO_LONG:
        table = checks.CONTACT_TEXT if kind == "contact" else checks.FACILITY_TEXT
        limit = LIMITS[table[field][0]] if field in table else LIMITS[field]
        return _(
            "At most %(max)d characters, please (now %(length)d).", max=limit, length=len(value)
        )
    if code == checks.REQUIRED:
        return {
            ("facility", "name"): lambda: _("Enter the facility's name."),
            ("facility", "postcode"): lambda: _("Enter the postcode."),
            ("facility", "city"): lambda: _("Enter the municipality."),
            ("contact", "name"): lambda: _("Enter the person's name."),
        }[(kind, field)]()
    if code == checks.EMAIL:
        if kind == "contact":
            return _("Enter a valid email address, e.g. name@example.org.")
        return _("Enter a valid email address, e.g. info@example.org.")
    return {
        checks.ONE_LINE: lambda: _(
            "Use one line of text, without line breaks or other control characters."
        ),
        checks.POSTCODE: lambda: _("Enter a Belgian postcode of four digits, e.g. 9000."),
        checks.WEBSITE: lambda: _("Enter a full web address, starting with https://."),
        checks.CAPACITY: lambda: _("Enter a number from 1 to 1000."),
        checks.LANGUAGE: lambda: _("Choose nl or en."),
        checks.UNSTORABLE: lambda: _("This holds a character that cannot be stored."),
    }[code]()


def _refused(status: int, errors: dict[str, str], description: str | None = None) -> Response:
    """A problem document with one message per field; nothing of the request is kept."""
    db.session.rollback()
    return problems.response(status, description, {k: [v] for k, v in errors.items()})


def _checked(kind: str, values: dict[str, Any]) -> tuple[dict[str, Any], Response | None]:
    check = checks.facility if kind == "facility" else checks.contact
    clean, codes = check(values)
    if not codes:
        return clean, None
    errors = {f: _message(kind, f, code, values.get(f) or "") for f, code in codes.items()}
    return clean, _refused(422, errors)


def _unknown(field: str) -> Response:
    return _refused(422, {field: _("Unknown, or not one this token may change.")})


def _plausible(field: str, day: date) -> Response | None:
    if EARLIEST <= day <= LATEST:
        return None
    return _refused(422, {field: _("Enter a date between 2000 and 2100.")})


def _created(body: Any, status: int = 201) -> Any:
    return body, status


# ---- facilities ------------------------------------------------------------------------


@bp.route("/facilities", methods=["POST"])
@bp.arguments(s.FacilityNew)
@bp.response(201, s.FacilityOut)
@_errors(*WRITE_CODES)
@requires(API_TOKEN)
def facility_create(body: dict[str, Any]) -> Any:
    """Register a new facility as a member of one of the token's networks (as "Nieuw lid"
    on the network page does). The same name and postcode twice: 409."""
    network = api_services.writable_network(g.api_token, body.pop("network_id"))
    if network is None:
        return _unknown("network_id")
    joined_on = body.pop("joined_on", None) or local_today()
    clean, refused = _checked("facility", body)
    refused = refused or _plausible("joined_on", joined_on)
    if refused is not None:
        return refused
    try:
        facility = network_services.create_facility(clean, network, joined_on)
    except network_services.DuplicateFacility as exc:
        return _duplicate(exc)
    return _created(facility)


def _duplicate(exc: network_services.DuplicateFacility) -> Response:
    message = _(
        "%(name)s in %(postcode)s already exists. "
        "Add the existing facility to the network instead.",
        name=exc.existing.name,
        postcode=exc.existing.postcode,
    )
    return _refused(409, {"name": message})


@bp.route("/facilities/<int:facility_id>", methods=["PATCH"])
@bp.arguments(s.FacilityChange)
@bp.response(200, s.FacilityOut)
@_errors(404, *WRITE_CODES)
@requires(API_TOKEN)
def facility_update(body: dict[str, Any], facility_id: int) -> Any:
    """Change a current member facility of the token's networks; only the fields sent."""
    facility = api_services.writable_facility(g.api_token, facility_id)
    if facility is None:
        abort(404)
    values = {k: getattr(facility, k) for k in FACILITY_FIELDS} | body
    clean, refused = _checked("facility", values)
    if refused is not None:
        return refused
    try:
        network_services.update_facility(facility, clean)
    except network_services.DuplicateFacility as exc:
        return _duplicate(exc)
    signals.facility_changed.send(facility.id)
    return facility


# ---- contacts --------------------------------------------------------------------------


def _duplicate_contact() -> Response:
    return _refused(409, {"email": _("A contact with this email address already exists here.")})


@bp.route("/contacts", methods=["POST"])
@bp.arguments(s.ContactNew)
@bp.response(201, s.ContactOut)
@_errors(*WRITE_CODES)
@requires(API_TOKEN)
def contact_create(body: dict[str, Any]) -> Any:
    """Add a person to a current member facility of the token's networks (tokens that may
    see people only). An e-mail address already used at that facility: 409."""
    facility = api_services.writable_facility(g.api_token, body.pop("facility_id"))
    if facility is None:
        return _unknown("facility_id")
    clean, refused = _checked("contact", body)
    if refused is not None:
        return refused
    try:
        contact = network_services.create_contact(facility, clean)
    except network_services.DuplicateContact:
        return _duplicate_contact()
    return _created(contact)


@bp.route("/contacts/<int:contact_id>", methods=["PATCH"])
@bp.arguments(s.ContactChange)
@bp.response(200, s.ContactOut)
@_errors(404, *WRITE_CODES)
@requires(API_TOKEN)
def contact_update(body: dict[str, Any], contact_id: int) -> Any:
    """Change a contact (tokens that may see people only); only the fields sent.
    ``active: false`` withdraws their answers to sessions to come, as the form does."""
    contact = api_services.writable_contact(g.api_token, contact_id)
    if contact is None:
        abort(404)
    values = {k: getattr(contact, k) for k in CONTACT_FIELDS} | body
    clean, refused = _checked("contact", values)
    if refused is not None:
        return refused
    try:
        network_services.update_contact(contact, clean)
    except network_services.DuplicateContact:
        return _duplicate_contact()
    signals.facility_changed.send(contact.facility_id)
    return contact


# ---- memberships -----------------------------------------------------------------------


@bp.route("/memberships", methods=["POST"])
@bp.arguments(s.MembershipNew)
@bp.response(201, s.MembershipOut)
@bp.alt_response(202, schema=s.MembershipRequestOut, description="Asked to agree first.")
@_errors(*WRITE_CODES)
@requires(API_TOKEN)
def membership_create(body: dict[str, Any]) -> Any:
    """A facility that is or was a member of one of the token's networks joins one of them
    (again). When it is also in a network the token's owner does not facilitate, its
    contacts are asked to agree first (202), as with "Bestaande voorziening toevoegen"."""
    network = api_services.writable_network(g.api_token, body["network_id"])
    if network is None:
        return _unknown("network_id")
    facility = api_services.known_facility(g.api_token, body["facility_id"])
    if facility is None:
        return _unknown("facility_id")
    joined_on = body.get("joined_on") or local_today()
    refused = _plausible("joined_on", joined_on)
    if refused is not None:
        return refused
    try:
        added = network_services.add_member(network, facility, joined_on, g.api_token.user)
    except network_services.AlreadyMember:
        return _refused(409, {"facility_id": _("This facility is already a member.")})
    except network_services.AlreadyRequested:
        message = _("This facility has already been asked to join; it has not answered yet.")
        return _refused(409, {"facility_id": message})
    if isinstance(added, MembershipRequest):
        data = s.MembershipRequestOut().dump(added)
        return Response(json.dumps(data), status=202, mimetype="application/json")
    return _created(added)


@bp.route("/memberships/<int:membership_id>", methods=["PATCH"])
@bp.arguments(s.MembershipEnd)
@bp.response(200, s.MembershipOut)
@_errors(404, *WRITE_CODES)
@requires(API_TOKEN)
def membership_end(body: dict[str, Any], membership_id: int) -> Any:
    """End a membership on ``left_on``; the facility and its history stay. Its people's
    answers to later sessions are withdrawn, as on the network page."""
    membership: Membership | None = api_services.writable_membership(g.api_token, membership_id)
    if membership is None:
        abort(404)
    if membership.left_on is not None:
        return _refused(409, {"left_on": _("This facility had already left.")})
    refused = _plausible("left_on", body["left_on"])
    if refused is not None:
        return refused
    try:
        network_services.leave(membership, body["left_on"])
    except network_services.ServiceError:
        message = _("The leaving date cannot be before the joining date.")
        return _refused(422, {"left_on": message})
    signals.facility_changed.send(membership.facility_id)
    return membership


# ---- answers ---------------------------------------------------------------------------


@bp.route("/answers", methods=["POST"])
@bp.arguments(s.AnswerNew)
@bp.response(200, s.AnswerOut)
@_errors(*WRITE_CODES)
@requires(API_TOKEN)
def answer_create(body: dict[str, Any]) -> Any:
    """Give or change someone's answer on their behalf (tokens that may see people only),
    as a facilitator does on the session page: capacity and waitlist apply, the answer
    deadline does not; a cancelled or started session is closed (409)."""
    session = api_services.writable_session(g.api_token, body["session_id"])
    if session is None:
        return _unknown("session_id")
    contact = api_services.writable_contact(g.api_token, body["contact_id"])
    if contact is None:
        return _unknown("contact_id")
    note = body.get("note") or ""
    if not checks.storable(note):
        return _refused(422, {"note": _message("answer", "note", checks.UNSTORABLE)})
    try:
        outcome = rsvp_services.answer(
            session.id, contact, body["answer"], note, by_user=g.api_token.user
        )
    except rsvp_services.AnswerError as exc:
        return _answer_refused(exc.code)
    return _answer(outcome.rsvp)


def _answer_refused(code: str) -> Response:
    if code == rsvp_rules.CANCELLED:
        message = _("This session has been cancelled; answers are closed.")
        return _refused(409, {"session_id": message})
    if code == rsvp_rules.STARTED:
        return _refused(409, {"session_id": _("This session has started; answers are closed.")})
    field, message = {
        "answer": ("answer", _("Choose an answer.")),
        "note": ("note", _("The note is too long (at most 500 characters).")),
        "not_member": (
            "contact_id",
            _(
                "This person's facility is not a member of the session's network on its "
                "day, or they no longer work there."
            ),
        ),
    }.get(code, ("session_id", _("The answer could not be saved.")))
    return _refused(422, {field: message})
