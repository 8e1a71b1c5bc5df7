"""Forms of the learning room: theme and goals, agenda items, the programme's texts,
the session's goals, and a member's learning question."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from learnnet.forms import Length, OneLine, strip_filter
from learnnet.learning import rules
from learnnet.learning.models import LEAD_FACILITATOR, LEAD_FACILITY, LEAD_HOST
from learnnet.networks.forms import MultiCheckboxField

TRIM = [strip_filter]


class Goals:
    """Goals typed one per line: at most GOALS_MAX, each at most GOAL_MAX characters."""

    def __call__(self, form: Any, field: Any) -> None:
        problems = rules.goal_problems(rules.parse_goals(field.data))
        if "too_many" in problems:
            raise ValidationError(
                _l("At most %(max)d goals, please: keep the list short.", max=rules.GOALS_MAX)
            )
        if "too_long" in problems:
            raise ValidationError(
                _l("Each goal at most %(max)d characters, please.", max=rules.GOAL_MAX)
            )


class Minutes:
    """'20' or '20 min', from 1 to ITEM_MINUTES_MAX; empty is allowed."""

    def __call__(self, form: Any, field: Any) -> None:
        try:
            rules.parse_minutes(field.data)
        except rules.BadMinutes:
            raise ValidationError(
                _l(
                    "Enter the minutes as a number from 1 to %(max)d, e.g. 20.",
                    max=rules.ITEM_MINUTES_MAX,
                )
            ) from None


class ThemeForm(FlaskForm):
    """The werkjaar's theme and its short list of goals."""

    title = StringField(
        _l("Theme"),
        filters=TRIM,
        validators=[
            DataRequired(_l("Enter the theme.")),
            OneLine(),
            Length(max=rules.THEME_TITLE_MAX),
        ],
        description=_l("E.g. “Taal in de leefgroep” or “Samenwerken met ouders”."),
    )
    description = TextAreaField(
        _l("Why this theme (optional)"),
        filters=TRIM,
        validators=[Length(max=rules.THEME_DESCRIPTION_MAX)],
        render_kw={"rows": 3},
    )
    goals = TextAreaField(
        _l("Learning goals"),
        description=_l("One goal per line, at most %(max)d.", max=rules.GOALS_MAX),
        validators=[Goals()],
        render_kw={"rows": 5},
    )


def lead_kind_choices() -> list[tuple[str, str]]:
    """Who leads an agenda item."""
    return [
        (LEAD_FACILITATOR, str(_l("The facilitator"))),
        (LEAD_HOST, str(_l("The host"))),
        (LEAD_FACILITY, str(_l("A member facility"))),
    ]


class AgendaItemForm(FlaskForm):
    """One agenda item: what, how long, who leads it."""

    title = StringField(
        _l("Agenda item"),
        filters=TRIM,
        validators=[
            DataRequired(_l("Enter what this item is about.")),
            OneLine(),
            Length(max=rules.ITEM_TITLE_MAX),
        ],
    )
    minutes = StringField(_l("Duration in minutes"), filters=TRIM, validators=[Minutes()])
    lead_kind = RadioField(
        _l("Led by"), choices=lead_kind_choices, default=LEAD_FACILITATOR, validate_choice=True
    )
    lead_facility = SelectField(
        _l("Which member facility leads it"), coerce=str, validate_choice=False
    )

    def validate_lead_facility(self, field: Any) -> None:
        if self.lead_kind.data == LEAD_FACILITY and not (field.data or "").isdigit():
            raise ValidationError(_l("Choose the facility that leads this item."))

    @property
    def minutes_value(self) -> int | None:
        return rules.parse_minutes(self.minutes.data)

    @property
    def facility_id(self) -> int | None:
        value = self.lead_facility.data or ""
        return int(value) if value.isdigit() and len(value) < 10 else None


class ProgrammeTextsForm(FlaskForm):
    """The question to prepare, and what the host will show."""

    prepare_question = TextAreaField(
        _l("Question to prepare"),
        filters=TRIM,
        description=_l("What the members think about or bring along before the session."),
        validators=[Length(max=rules.PREPARE_MAX)],
        render_kw={"rows": 3},
    )
    host_showcase = TextAreaField(
        _l("What the host will show"),
        filters=TRIM,
        description=_l("The host can fill this in too, through their personal link."),
        validators=[Length(max=rules.SHOWCASE_MAX)],
        render_kw={"rows": 3},
    )


class SessionGoalsForm(FlaskForm):
    """The werkjaar's goals this session serves."""

    goals = MultiCheckboxField(_l("This session works on"), coerce=int, validate_choice=False)


class QuestionForm(FlaskForm):
    """A member's learning question: for a coming session or for the werkjaar."""

    target = SelectField(_l("For"), coerce=str, validate_choice=False)
    text = TextAreaField(
        _l("Your learning question"),
        filters=TRIM,
        description=_l(
            "What do you want to learn or find out? E.g. “How do we involve fathers more?”"
        ),
        validators=[
            DataRequired(_l("Write your learning question.")),
            Length(
                min=rules.QUESTION_MIN,
                max=rules.QUESTION_MAX,
                message=_l(
                    "Between %(min)d and %(max)d characters, please.",
                    min=rules.QUESTION_MIN,
                    max=rules.QUESTION_MAX,
                ),
            ),
        ],
        render_kw={"rows": 3},
    )


class QuestionEditForm(FlaskForm):
    """Change the text of one's own learning question."""

    text = QuestionForm.text
