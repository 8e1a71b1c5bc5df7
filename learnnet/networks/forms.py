"""Forms for networks, facilities, memberships, contacts and the CSV import."""

from __future__ import annotations

import functools
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from learnnet.forms import Length, OneLine, PlausibleDate, strip_filter
from learnnet.networks import checks
from learnnet.networks.rules import (
    CAPACITY_RANGE,
    LIMITS,
    complete_web_address,
    is_ascii_number,
    is_belgian_postcode,
    is_valid_timezone,
    is_web_address,
)
from learnnet.timefmt import local_today

TRIM = [strip_filter]


class BelgianPostcode:
    """Four digits, 1000–9999."""

    def __call__(self, form: Any, field: Any) -> None:
        value = (field.data or "").strip()
        if value and not is_belgian_postcode(value):
            raise ValidationError(_l("Enter a Belgian postcode of four digits, e.g. 9000."))


class EmailAddress:
    """The e-mail rule shared with the CSV import and the API (``checks.email``)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and checks.email(field.data)[1]:
            raise ValidationError(self.message)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (readable on a phone, unlike a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def timezone_choices() -> list[tuple[str, str]]:
    """Zone names in words ("tijd in België"), Europe first, the zone's name beside."""
    from learnnet.templating import current_locale

    return _timezone_choices(current_locale())


@functools.cache
def _timezone_choices(locale: str) -> list[tuple[str, str]]:
    from zoneinfo import available_timezones

    from babel.dates import get_timezone_location

    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    europe = [z for z in zones if z.startswith("Europe/")]
    out = []
    for zone in europe + [z for z in zones if z not in europe]:
        try:
            words = get_timezone_location(zone, locale=locale)
            city = get_timezone_location(zone, locale=locale, return_city=True)
        except (LookupError, ValueError):
            words, city = zone.replace("_", " "), ""
        label = f"{words[:1].upper()}{words[1:]}"
        out.append((zone, f"{label} · {city}" if city and city not in label else label))
    return out


def _timezone(form: Any, field: Any) -> None:
    if not is_valid_timezone(field.data or ""):
        raise ValidationError(_l("Choose a time zone from the list."))


class NetworkForm(FlaskForm):
    """Create or edit a learning network."""

    name = StringField(
        _l("Name"),
        filters=TRIM,
        validators=[DataRequired(_l("Give the network a name.")), Length(max=160), OneLine()],
    )
    slug = StringField(
        _l("Web address"),
        filters=TRIM,
        description=_l(
            "Short name in the address, e.g. gent-baby-peuter. "
            "Leave empty to derive it from the name."
        ),
        validators=[
            Optional(),
            Length(max=60),
            Regexp(
                r"^[a-z0-9]+(-[a-z0-9]+)*$",
                message=_l("Use lower-case letters, digits and hyphens only."),
            ),
        ],
    )
    description = TextAreaField(
        _l("Theme and description"), filters=TRIM, validators=[Length(max=5000)]
    )
    region = StringField(_l("Region"), filters=TRIM, validators=[Length(max=120)])
    timezone = SelectField(
        _l("Time zone"),
        choices=timezone_choices,
        default="Europe/Brussels",
        validators=[_timezone],
        description=_l("Sessions are planned in this zone's local time, summer time included."),
    )
    facilitators = MultiCheckboxField(_l("Facilitators"), coerce=int, validate_choice=True)


def _yes_no_choices() -> list[tuple[str, str]]:
    return [("1", str(_l("Yes"))), ("0", str(_l("No")))]


class AsciiNumber:
    """Only the digits 0-9, as the CSV import reads them (int() would take '１２' too)."""

    def __call__(self, form: Any, field: Any) -> None:
        raw = (field.raw_data or [""])[0].strip()
        if raw and not is_ascii_number(raw):
            raise ValidationError(_l("Enter a number from 1 to 1000."))


class WebAddress:
    """The website rule shared with the CSV import (``rules.is_web_address``)."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and not is_web_address(field.data):
            raise ValidationError(_l("Enter a full web address, starting with https://."))


class FacilityForm(FlaskForm):
    """Create or edit a member facility."""

    name = StringField(
        _l("Name"),
        filters=TRIM,
        validators=[
            DataRequired(_l("Enter the facility's name.")),
            Length(max=LIMITS["facility_name"]),
            OneLine(),
        ],
    )
    street = StringField(
        _l("Street and number"), filters=TRIM, validators=[Length(max=LIMITS["street"]), OneLine()]
    )
    postcode = StringField(
        _l("Postcode"),
        filters=TRIM,
        validators=[DataRequired(_l("Enter the postcode.")), BelgianPostcode()],
        render_kw={"inputmode": "numeric", "autocomplete": "postal-code"},
    )
    city = StringField(
        _l("Municipality"),
        filters=TRIM,
        validators=[
            DataRequired(_l("Enter the municipality.")),
            Length(max=LIMITS["city"]),
            OneLine(),
        ],
    )
    phone = TelField(
        _l("Phone"),
        filters=TRIM,
        validators=[Length(max=LIMITS["phone"]), OneLine()],
        render_kw={"autocomplete": "tel"},
    )
    email = EmailField(
        _l("Email address"),
        filters=TRIM,
        validators=[
            Optional(),
            EmailAddress(_l("Enter a valid email address, e.g. info@example.org.")),
            Length(max=LIMITS["email"]),
        ],
    )
    website = StringField(
        _l("Website"),
        filters=[*TRIM, lambda v: complete_web_address(v) if isinstance(v, str) else v],
        render_kw={"inputmode": "url", "autocomplete": "url"},
        validators=[
            Optional(),
            WebAddress(),
            Length(max=LIMITS["website"]),
        ],
    )
    room_capacity = IntegerField(
        _l("Room capacity for a meeting"),
        description=_l("How many people fit in the meeting room."),
        validators=[
            AsciiNumber(),
            Optional(),
            NumberRange(
                min=CAPACITY_RANGE[0],
                max=CAPACITY_RANGE[1],
                message=_l("Enter a number from 1 to 1000."),
            ),
        ],
    )
    accessibility_notes = TextAreaField(
        _l("Accessibility"), filters=TRIM, validators=[Length(max=LIMITS["accessibility"])]
    )
    parking_notes = TextAreaField(
        _l("Parking and public transport"),
        filters=TRIM,
        validators=[Length(max=LIMITS["parking"])],
    )
    willing_to_host = SelectField(_l("Willing to host a session"), choices=_yes_no_choices)


class NewMemberForm(FacilityForm):
    """A new facility that joins the network straight away."""

    joined_on = DateField(
        _l("Member since"),
        validators=[DataRequired(_l("Enter a date.")), PlausibleDate()],
        default=local_today,
    )


class AddMemberForm(FlaskForm):
    """An existing facility joins the network."""

    facility_id = SelectField(
        _l("Facility"), coerce=int, validators=[DataRequired(_l("Choose a facility."))]
    )
    joined_on = DateField(
        _l("Member since"),
        validators=[DataRequired(_l("Enter a date.")), PlausibleDate()],
        default=local_today,
    )


class LeaveForm(FlaskForm):
    """A facility leaves the network on a date; its history stays."""

    left_on = DateField(
        _l("Membership ends on"),
        validators=[DataRequired(_l("Enter a date.")), PlausibleDate()],
        default=local_today,
    )


def _language_choices() -> list[tuple[str, str]]:
    return [("nl", "Nederlands"), ("en", "English")]


class ContactForm(FlaskForm):
    """Create or edit a contact person."""

    name = StringField(
        _l("Name"),
        filters=TRIM,
        validators=[
            DataRequired(_l("Enter the person's name.")),
            Length(max=LIMITS["contact_name"]),
            OneLine(),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "words"},
    )
    email = EmailField(
        _l("Email address"),
        filters=TRIM,
        validators=[
            Optional(),
            EmailAddress(_l("Enter a valid email address, e.g. name@example.org.")),
            Length(max=LIMITS["email"]),
        ],
    )
    phone = TelField(
        _l("Phone"),
        filters=TRIM,
        validators=[Length(max=LIMITS["contact_phone"]), OneLine()],
        render_kw={"autocomplete": "off"},
    )
    function = StringField(
        _l("Function"),
        filters=TRIM,
        description=_l("E.g. director, childcare worker, pedagogical coach."),
        validators=[Length(max=LIMITS["contact_function"]), OneLine()],
    )
    preferred_language = SelectField(_l("Preferred language"), choices=_language_choices)
    share_details = BooleanField(
        _l("May be shown in the network's directory"),
        description=_l(
            "Only with this person's consent: other members then see name, function, "
            "email and phone."
        ),
    )
    active = BooleanField(_l("Still works here"), default=True)


class ImportForm(FlaskForm):
    """Upload a member list."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])


class ConfirmImportForm(FlaskForm):
    """Carries the previewed file back for the real import (validated again)."""

    payload = HiddenField(validators=[DataRequired()])
    # "1": import the lines without errors and skip the others.
    valid_only = HiddenField()


class FacilitySearchForm(FlaskForm):
    """Search and filter facilities (GET, so no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), filters=TRIM, validators=[Length(max=100)])
    network = SelectField(_l("Network"), coerce=int, validate_choice=False)
    hosts = BooleanField(_l("Willing to host only"))
