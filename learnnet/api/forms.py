"""The form that makes an API token."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired

from learnnet.api.models import READ, READ_WRITE
from learnnet.api.webhook_rules import EVENTS
from learnnet.forms import Length, OneLine, PlausibleDate, strip_filter
from learnnet.networks.forms import MultiCheckboxField
from learnnet.timefmt import local_today


def scope_choices() -> list[tuple[str, str]]:
    """Read, or read and write; translated at render time."""
    return [
        (READ, str(_l("Read only"))),
        (READ_WRITE, str(_l("Read and write"))),
    ]


def default_expiry() -> object:
    """Three months from today: long enough for a sync job, short enough to be noticed."""
    return local_today() + timedelta(days=90)


class TokenForm(FlaskForm):
    """Name, rights, networks and expiry of a new token."""

    name = StringField(
        _l("Name"),
        description=_l("What uses it, e.g. 'CRM sync' or 'website agenda'."),
        filters=[strip_filter],
        validators=[DataRequired(_l("Give the key a name.")), Length(max=80), OneLine()],
    )
    scope = RadioField(_l("Rights"), choices=scope_choices, default=READ, validate_choice=True)
    networks = MultiCheckboxField(_l("Networks it may see"), coerce=int, validate_choice=True)
    may_see_people = BooleanField(
        _l("May see people"),
        description=_l(
            "Contact persons, their answers and attendance. Leave it off when the key "
            "only needs networks, facilities and sessions."
        ),
    )
    expires_on = DateField(
        _l("Valid until"),
        default=default_expiry,
        validators=[InputRequired(_l("Choose the last day the key works.")), PlausibleDate()],
    )


class WebhookForm(FlaskForm):
    """URL, events and (optionally) the secret of a new webhook endpoint."""

    url = StringField(
        _l("URL"),
        description=_l("Where learnnet sends the events, e.g. https://crm.example.org/hooks."),
        filters=[strip_filter],
        validators=[DataRequired(_l("Give the address.")), Length(max=500), OneLine()],
    )
    events = MultiCheckboxField(
        _l("Events"), choices=lambda: [(e, e) for e in EVENTS], validate_choice=False
    )
    secret = StringField(
        _l("Secret"),
        description=_l("Leave empty and learnnet makes one (recommended)."),
        filters=[strip_filter],
        validators=[Length(max=80), OneLine()],
    )
