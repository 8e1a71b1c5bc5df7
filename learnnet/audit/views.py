"""The whole trail, for admins."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from learnnet.access import ADMIN, requires
from learnnet.audit import bp, services


@bp.route("/admin/audit")
@requires(ADMIN)
def trail() -> str:
    """Every recorded change, newest first (at most 200), optionally of one kind."""
    entity = request.args.get("entity") or None
    if entity not in (None, "facility", "contact", "membership", "network", "session", "account"):
        entity = None
    return render_template("audit/trail.html", events=services.recent(entity), entity=entity)


def entity_label(entity: str) -> str:
    """What a trail event is about, in words."""
    return {
        "facility": _("facility"),
        "contact": _("contact person"),
        "membership": _("membership"),
        "membership_request": _("membership request"),
        "network": _("network"),
        "session": _("session"),
        "account": _("account"),
        "user": _("account"),
        "rsvp": _("answer"),
        "attendance": _("attendance"),
        "evaluation_setting": _("evaluation questions"),
        "api_token": _("API key"),
        "webhook_endpoint": _("webhook"),
        "werkjaar_theme": _("theme of the werkjaar"),
        "learning_goal": _("learning goal"),
        "agenda_item": _("agenda item"),
        "programme": _("programme"),
        "material": _("material (file)"),
    }.get(entity, entity)


def field_label(key: str) -> str:
    """A changed field, in words (unknown ones keep their name)."""
    return {
        "name": _("name"),
        "send_again": _("sent again"),
        "street": _("street"),
        "postcode": _("postcode"),
        "city": _("municipality"),
        "phone": _("phone"),
        "email": _("email address"),
        "website": _("website"),
        "room_capacity": _("room capacity"),
        "willing_to_host": _("hosts"),
        "accessibility_notes": _("accessibility"),
        "parking_notes": _("parking"),
        "function": _("function"),
        "preferred_language": _("language"),
        "share_details": _("in the directory"),
        "active": _("works here"),
        "joined_on": _("member since"),
        "left_on": _("left on"),
        "starts_at": _("starts"),
        "ends_at": _("ends"),
        "title": _("title"),
        "agenda": _("agenda"),
        "host_showcase": _("what the host shows"),
        "practical_info": _("practical information"),
        "capacity": _("places"),
        "rsvp_deadline": _("answers until"),
        "status": _("status"),
        "host": _("host"),
        "host_facility_id": _("host"),
        "host_confirmed_at": _("host confirmed on"),
        "merged_into": _("merged into"),
        "host_declined_at": _("host cannot host, said on"),
        "host_declined_reason": _("the host's reason"),
        "answer": _("answer"),
        "note": _("note"),
        "present": _("present"),
        "facility": _("facility"),
        "contact": _("contact person"),
        "person_name": _("person"),
        "facility_name": _("facility"),
        "role": _("role"),
        "locale": _("language"),
        "scope": _("rights"),
        "may_see_people": _("may see people"),
        "expires_at": _("valid until"),
        "revoked_at": _("revoked on"),
        "prefix": _("key starts with"),
        "prepare_question": _("question to prepare"),
        "minutes": _("minutes"),
        "lead_kind": _("led by"),
        "lead_facility_id": _("leading facility"),
        "position": _("place in the order"),
        "start_year": _("werkjaar"),
        "text": _("text"),
        "description": _("description"),
    }.get(key, key.replace("_", " "))


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
    words = {
        "planned": _("planned"),
        "confirmed": _("confirmed"),
        "held": _("held"),
        "cancelled": _("cancelled"),
        "yes": _("yes"),
        "no": _("no"),
        "maybe": _("maybe"),
        "withdrawn": _("withdrawn"),
        "present": _("present"),
        "absent": _("absent"),
        "excused": _("excused"),
        "read": _("read only"),
        "read_write": _("read and write"),
    }
    if isinstance(value, str):
        if value in words:
            return words[value]
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
