"""The whole trail, for admins."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from learnnet.access import ADMIN, requires
from learnnet.audit import services
from learnnet.audit.blueprint import bp


@bp.route("/admin/audit")
@requires(ADMIN)
def trail() -> str:
    """Every recorded change, newest first (at most 200), optionally of one kind."""
    entity = request.args.get("entity") or None
    if entity not in (None, "facility", "contact", "membership", "network", "session", "account"):
        entity = None
    return render_template("audit/trail.html", events=services.recent(entity), entity=entity)


# Labels as lazy strings, translated one at a time: building the whole table for each
# label cost a session page about 400 translations (issue 24).
_ENTITIES = {
    "facility": _l("facility"),
    "contact": _l("contact person"),
    "membership": _l("membership"),
    "membership_request": _l("membership request"),
    "network": _l("network"),
    "session": _l("session"),
    "account": _l("account"),
    "user": _l("account"),
    "rsvp": _l("answer"),
    "attendance": _l("attendance"),
    "evaluation_setting": _l("evaluation questions"),
    "api_token": _l("API key"),
    "webhook_endpoint": _l("webhook"),
    "werkjaar_theme": _l("theme of the werkjaar"),
    "learning_goal": _l("learning goal"),
    "agenda_item": _l("agenda item"),
    "programme": _l("programme"),
    "material": _l("material (file)"),
}

_FIELDS = {
    "name": _l("name"),
    "send_again": _l("sent again"),
    "street": _l("street"),
    "postcode": _l("postcode"),
    "city": _l("municipality"),
    "phone": _l("phone"),
    "email": _l("email address"),
    "website": _l("website"),
    "room_capacity": _l("room capacity"),
    "willing_to_host": _l("hosts"),
    "accessibility_notes": _l("accessibility"),
    "parking_notes": _l("parking"),
    "function": _l("function"),
    "preferred_language": _l("language"),
    "share_details": _l("in the directory"),
    "active": _l("works here"),
    "joined_on": _l("member since"),
    "left_on": _l("left on"),
    "starts_at": _l("starts"),
    "ends_at": _l("ends"),
    "title": _l("title"),
    "agenda": _l("agenda"),
    "host_showcase": _l("what the host shows"),
    "practical_info": _l("practical information"),
    "capacity": _l("places"),
    "rsvp_deadline": _l("answers until"),
    "status": _l("status"),
    "host": _l("host"),
    "host_facility_id": _l("host"),
    "host_confirmed_at": _l("host confirmed on"),
    "merged_into": _l("merged into"),
    "host_declined_at": _l("host cannot host, said on"),
    "host_declined_reason": _l("the host's reason"),
    "answer": _l("answer"),
    "note": _l("note"),
    "present": _l("present"),
    "facility": _l("facility"),
    "contact": _l("contact person"),
    "person_name": _l("person"),
    "facility_name": _l("facility"),
    "role": _l("role"),
    "locale": _l("language"),
    "scope": _l("rights"),
    "may_see_people": _l("may see people"),
    "expires_at": _l("valid until"),
    "revoked_at": _l("revoked on"),
    "prefix": _l("key starts with"),
    "prepare_question": _l("question to prepare"),
    "minutes": _l("minutes"),
    "lead_kind": _l("led by"),
    "lead_facility_id": _l("leading facility"),
    "position": _l("place in the order"),
    "start_year": _l("werkjaar"),
    "text": _l("text"),
    "description": _l("description"),
}

_WORDS = {
    "planned": _l("planned"),
    "confirmed": _l("confirmed"),
    "held": _l("held"),
    "cancelled": _l("cancelled"),
    "yes": _l("yes"),
    "no": _l("no"),
    "maybe": _l("maybe"),
    "withdrawn": _l("withdrawn"),
    "present": _l("present"),
    "absent": _l("absent"),
    "excused": _l("excused"),
    "read": _l("read only"),
    "read_write": _l("read and write"),
}


def entity_label(entity: str) -> str:
    """What a trail event is about, in words."""
    found = _ENTITIES.get(entity)
    return str(found) if found is not None else entity


def field_label(key: str) -> str:
    """A changed field, in words (unknown ones keep their name)."""
    found = _FIELDS.get(key)
    return str(found) if found is not None else key.replace("_", " ")


def value_label(value: object) -> str:
    """An old or new value, readable: dates and times in the page's language, statuses and
    yes/no in words."""
    from datetime import date, datetime

    from learnnet.templating import current_locale
    from learnnet.timefmt import format_day, format_moment

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        if value in _WORDS:
            return str(_WORDS[value])
        try:
            if "T" in value and len(value) >= 16:
                return format_moment(datetime.fromisoformat(value), locale=current_locale())
            if len(value) == 10 and value[4] == "-":
                return format_day(date.fromisoformat(value), current_locale())
        except ValueError:
            pass
    return str(value)


def shown_changes(changes: dict[str, list[object]]) -> list[tuple[str, str, str]]:
    """The changes a person reads: internal ids left out, labels and values in words."""
    return [
        (field_label(key), value_label(pair[0]), value_label(pair[1]))
        for key, pair in changes.items()
        if not key.endswith("_id")
    ]


# Globals, not context: the events macro is imported by other templates without context.
for _helper in (entity_label, field_label, value_label, shown_changes):
    bp.add_app_template_global(_helper)
