"""Routes of the learning room.

Facilitators: the werkjaar's theme and goals (from the network page), the programme of
a session (from the session page). Members, through their personal link: their own
learning questions. Every form works without JavaScript; bad input comes back with a
message next to the field and what was typed.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from learnnet import signals
from learnnet.access import NETWORK, PERSONAL_LINK, SESSION, requires
from learnnet.extensions import db
from learnnet.learning import rules, services
from learnnet.learning.blueprint import bp
from learnnet.learning.forms import (
    AgendaItemForm,
    ProgrammeTextsForm,
    QuestionEditForm,
    QuestionForm,
    SessionGoalsForm,
    ThemeForm,
)
from learnnet.learning.models import LEAD_FACILITY, LearningQuestion
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Network
from learnnet.sessions.models import Session


def error_message(key: str) -> str:
    """A refused write, in words."""
    return {
        "title_missing": _("Enter the theme."),
        "title_long": _("The theme is too long (at most %(max)d characters).", max=160),
        "description_long": _("The description is too long."),
        "too_many": _("At most %(max)d goals, please.", max=rules.GOALS_MAX),
        "too_long": _("Each goal at most %(max)d characters, please.", max=rules.GOAL_MAX),
        "goal_unknown": _("Choose goals of this session's werkjaar."),
        "item_title_missing": _("Enter what this item is about."),
        "item_title_long": _("At most %(max)d characters, please.", max=rules.ITEM_TITLE_MAX),
        "minutes": _(
            "Enter the minutes as a number from 1 to %(max)d, e.g. 20.",
            max=rules.ITEM_MINUTES_MAX,
        ),
        "lead": _("Choose who leads this item."),
        "lead_facility": _("Choose a member facility of this network."),
        "items_many": _("A programme has at most %(max)d items.", max=rules.ITEMS_MAX),
        "item": _("This agenda item is not part of this session (any more)."),
        "prepare_long": _("At most %(max)d characters, please.", max=rules.PREPARE_MAX),
        "showcase_long": _("At most %(max)d characters, please.", max=rules.SHOWCASE_MAX),
        "question_short": _("Write your learning question."),
        "question_long": _("At most %(max)d characters, please.", max=rules.QUESTION_MAX),
        "target": _("Choose one of your coming sessions, or the werkjaar."),
        "question": _("This learning question does not exist (any more)."),
    }.get(key, _("This could not be saved."))


def _year_arg(network: Network) -> int:
    """``?jaar=2026`` (a werkjaar's start year), else the current werkjaar."""
    value = request.args.get("jaar", "")
    if value.isdigit() and len(value) == 4 and 2000 <= int(value) <= 2100:
        return int(value)
    return services.current_start_year(network)


# --- werkjaar: theme and goals ----------------------------------------------------------------


@bp.route("/networks/<slug>/werkjaar", methods=["GET", "POST"])
@requires(NETWORK)
def werkjaar(network: Network) -> Any:
    """A werkjaar's theme and goals, its sessions with the goals they serve, and the
    members' learning questions for the year."""
    year = _year_arg(network)
    theme = services.theme_of(network.id, year)
    form = ThemeForm()
    if request.method == "GET" and theme is not None:
        form.title.data = theme.title
        form.description.data = theme.description
        form.goals.data = "\n".join(goal.text for goal in theme.goals)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.save_theme(
                    network,
                    year,
                    form.title.data or "",
                    form.description.data or "",
                    rules.parse_goals(form.goals.data),
                )
            except services.LearningError as error:
                db.session.rollback()
                getattr(form, error.field or "title").errors = [error_message(error.key)]
            else:
                flash(_("Theme and goals saved."), "success")
                return redirect(url_for("learning.werkjaar", slug=network.slug, jaar=year), 303)
        status = 400
    sessions = services.sessions_of_year(network, year)
    programmes = services.programmes_for(sessions)
    current = services.current_start_year(network)
    # This werkjaar and the next one are always a tap away: the theme is chosen ahead.
    years = sorted({*services.theme_years(network.id), year, current, current + 1})
    return render_template(
        "learning/werkjaar.html",
        network=network,
        year=year,
        label=rules.werkjaar_label(year),
        theme=theme,
        form=form,
        sessions=sessions,
        programmes=programmes,
        questions=services.werkjaar_questions(network, year),
        counts=services.question_counts([s.id for s in sessions]),
        years=years,
        werkjaar_label=rules.werkjaar_label,
        now=utcnow(),
    ), status


# --- the programme of a session ---------------------------------------------------------------


def _item_form(session: Session, prefix: str, obj: Any = None, formdata: Any = ...) -> Any:
    kwargs: dict[str, Any] = {"prefix": prefix}
    if formdata is None:
        kwargs["formdata"] = None
    form = AgendaItemForm(**kwargs)
    choices = [("", _("Choose…"))] + [
        (str(fid), name) for fid, name in services.lead_choices(session.network)
    ]
    form.lead_facility.choices = choices
    if obj is not None and formdata is None:
        form.title.data = obj.title
        form.minutes.data = str(obj.minutes) if obj.minutes else ""
        form.lead_kind.data = obj.lead_kind
        form.lead_facility.data = str(obj.lead_facility_id or "")
    return form


def _programme_page(
    session: Session,
    status: int = 200,
    add_form: Any = None,
    edit_form: Any = None,
    edit_id: int | None = None,
    texts_form: Any = None,
    goals_form: Any = None,
) -> tuple[str, int]:
    programme = services.programme_of(session)
    if edit_id is None and request.method == "GET":
        from learnnet.networks.rules import parse_id

        edit_id = parse_id(request.args.get("edit", ""))
    editing = next((i for i in programme.items if i.id == edit_id), None)
    if editing is not None and edit_form is None:
        edit_form = _item_form(session, f"item-{editing.id}", obj=editing, formdata=None)
    if texts_form is None:
        texts_form = ProgrammeTextsForm(prefix="texts", formdata=None)
        texts_form.prepare_question.data = programme.prepare_question
        texts_form.host_showcase.data = session.host_showcase
    theme_goals = programme.theme.goals if programme.theme else []
    if goals_form is None:
        goals_form = SessionGoalsForm(prefix="goals", formdata=None)
        goals_form.goals.data = [g.id for g in programme.goals]
    goals_form.goals.choices = [(g.id, g.text) for g in theme_goals]
    return render_template(
        "learning/programme.html",
        network=session.network,
        session=session,
        programme=programme,
        add_form=add_form or _item_form(session, "add", formdata=None),
        edit_form=edit_form,
        editing=editing,
        texts_form=texts_form,
        goals_form=goals_form,
        year=services.session_start_year(session),
        now=utcnow(),
    ), status


def _back_to_programme(session: Session, anchor: str = "agenda") -> Response:
    return redirect(url_for("learning.programme", session_id=session.id, _anchor=anchor), code=303)


@bp.route("/sessions/<int:session_id>/programme")
@requires(SESSION)
def programme(session: Session) -> Any:
    """The programme: agenda items in order, the question to prepare, what the host
    shows, the goals the session serves."""
    return _programme_page(session)


@bp.route("/sessions/<int:session_id>/programme/items", methods=["POST"])
@requires(SESSION)
def programme_item_add(session: Session) -> Any:
    """Add an agenda item at the end."""
    form = _item_form(session, "add")
    if form.validate_on_submit():
        try:
            services.add_item(
                session,
                form.title.data or "",
                form.minutes_value,
                form.lead_kind.data,
                form.facility_id if form.lead_kind.data == LEAD_FACILITY else None,
            )
        except services.LearningError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            flash(_("Agenda item added."), "success")
            return _back_to_programme(session)
    return _programme_page(session, 400, add_form=form)


def _field_error(form: Any, error: services.LearningError) -> None:
    name = {"lead": "lead_facility"}.get(error.field, error.field) or "title"
    target = getattr(form, name, None) or form.title
    target.errors = [*list(target.errors or []), error_message(error.key)]


def _item_or_message(session: Session, item_id: int) -> Any:
    """The session's item, or None after flashing why (an item of another session)."""
    try:
        return services.item_of(session, item_id)
    except services.LearningError as error:
        flash(error_message(error.key), "error")
        return None


@bp.route("/sessions/<int:session_id>/programme/items/<int:item_id>", methods=["POST"])
@requires(SESSION)
def programme_item_edit(session: Session, item_id: int) -> Any:
    """Change an agenda item."""
    if _item_or_message(session, item_id) is None:
        return _back_to_programme(session)
    form = _item_form(session, f"item-{item_id}")
    if form.validate_on_submit():
        try:
            services.update_item(
                session,
                item_id,
                form.title.data or "",
                form.minutes_value,
                form.lead_kind.data,
                form.facility_id if form.lead_kind.data == LEAD_FACILITY else None,
            )
        except services.LearningError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            flash(_("Agenda item saved."), "success")
            return _back_to_programme(session, f"item-{item_id}")
    return _programme_page(session, 400, edit_form=form, edit_id=item_id)


@bp.route("/sessions/<int:session_id>/programme/items/<int:item_id>/move", methods=["POST"])
@requires(SESSION)
def programme_item_move(session: Session, item_id: int) -> Response:
    """One place up (``direction=up``) or down (``down``)."""
    direction = request.form.get("direction", "")
    if direction not in (rules.UP, rules.DOWN):
        flash(_("Choose up or down."), "error")
        return _back_to_programme(session)
    try:
        services.move_item(session, item_id, direction)
    except services.LearningError as error:
        db.session.rollback()
        flash(error_message(error.key), "error")
        return _back_to_programme(session)
    return _back_to_programme(session, f"item-{item_id}")


@bp.route("/sessions/<int:session_id>/programme/items/<int:item_id>/delete", methods=["POST"])
@requires(SESSION)
def programme_item_delete(session: Session, item_id: int) -> Response:
    """Remove an agenda item."""
    try:
        title = services.remove_item(session, item_id)
    except services.LearningError as error:
        db.session.rollback()
        flash(error_message(error.key), "error")
    else:
        flash(_("“%(title)s” removed from the programme.", title=title), "success")
    return _back_to_programme(session)


@bp.route("/sessions/<int:session_id>/programme/texts", methods=["POST"])
@requires(SESSION)
def programme_texts(session: Session) -> Any:
    """The question to prepare and what the host will show."""
    form = ProgrammeTextsForm(prefix="texts")
    if form.validate_on_submit():
        try:
            services.save_programme_texts(
                session, form.prepare_question.data or "", form.host_showcase.data or ""
            )
        except services.LearningError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [error_message(error.key)]
        else:
            flash(_("Programme saved."), "success")
            return _back_to_programme(session, "prepare")
    return _programme_page(session, 400, texts_form=form)


@bp.route("/sessions/<int:session_id>/programme/goals", methods=["POST"])
@requires(SESSION)
def programme_goals(session: Session) -> Any:
    """The werkjaar's goals this session serves."""
    form = SessionGoalsForm(prefix="goals")
    form.goals.choices = []
    if form.validate_on_submit():
        try:
            services.set_session_goals(session, list(form.goals.data or []))
        except services.LearningError as error:
            db.session.rollback()
            form.goals.errors = [error_message(error.key)]
        else:
            flash(_("Goals saved."), "success")
            return _back_to_programme(session, "goals")
    else:
        form.goals.errors = [_("Choose goals of this session's werkjaar.")]
    return _programme_page(session, 400, goals_form=form)


# --- the member's learning questions ----------------------------------------------------------


def _token() -> str:
    return request.view_args["token"]  # type: ignore[index]


def _target_label(target: services.Target, several: bool) -> str:
    """Short enough for a phone's select: the werkjaar, or the session's day; the
    network's name only for a member of several networks."""
    from learnnet.templating import current_locale
    from learnnet.timefmt import format_day, local_date

    if target.session is None:
        label = _("The whole werkjaar %(year)s", year=rules.werkjaar_label(target.start_year))
    else:
        s = target.session
        day = format_day(local_date(s.starts_at, s.network.timezone), current_locale())
        label = _("The session of %(day)s", day=day)
    return f"{label} · {target.network.name}" if several else label


def _questions_page(
    contact: Contact,
    status: int = 200,
    form: QuestionForm | None = None,
    edit_form: QuestionEditForm | None = None,
    editing: LearningQuestion | None = None,
) -> tuple[str, int]:
    targets = services.targets_for(contact)
    if form is None:
        form = QuestionForm(prefix="q", formdata=None)
        wanted = request.args.get("for", "")
        form.target.data = wanted if any(t.key == wanted for t in targets) else ""
    several = len({t.network.id for t in targets}) > 1
    form.target.choices = [(t.key, _target_label(t, several)) for t in targets]
    g.token_page = True
    return render_template(
        "learning/member_questions.html",
        contact=contact,
        token=_token(),
        form=form,
        edit_form=edit_form,
        editing=editing,
        questions=services.questions_of_contact(contact),
        targets=targets,
        werkjaar_label=rules.werkjaar_label,
    ), status


@bp.route("/m/<token>/leervragen", methods=["GET", "POST"])
@requires(PERSONAL_LINK)
def member_questions(contact: Contact) -> Any:
    """The member's own learning questions: write one, see, change or remove them."""
    if request.method == "GET":
        return _questions_page(contact)
    form = QuestionForm(prefix="q")
    form.target.choices = []  # checked by the service: one of her own targets
    if form.validate_on_submit():
        try:
            services.add_question(contact, form.target.data or "", form.text.data or "")
        except services.LearningError as error:
            db.session.rollback()
            getattr(form, error.field or "text").errors = [error_message(error.key)]
        else:
            flash(_("Thank you! The facilitator sees your learning question."), "success")
            return redirect(url_for("learning.member_questions", token=_token()), code=303)
    return _questions_page(contact, 400, form=form)


@bp.route("/m/<token>/leervragen/<int:question_id>", methods=["GET", "POST"])
@requires(PERSONAL_LINK)
def member_question_edit(contact: Contact, question_id: int) -> Any:
    """Change the text of one's own learning question."""
    try:
        question = services.question_of(contact, question_id)
    except services.LearningError:
        abort(404)
    form = QuestionEditForm(prefix="e")
    if request.method == "GET":
        form.text.data = question.text
        return _questions_page(contact, edit_form=form, editing=question)
    if form.validate_on_submit():
        try:
            services.update_question(contact, question_id, form.text.data or "")
        except services.LearningError as error:
            db.session.rollback()
            form.text.errors = [error_message(error.key)]
        else:
            flash(_("Your learning question is saved."), "success")
            return redirect(url_for("learning.member_questions", token=_token()), code=303)
    return _questions_page(contact, 400, edit_form=form, editing=question)


@bp.route("/m/<token>/leervragen/<int:question_id>/delete", methods=["POST"])
@requires(PERSONAL_LINK)
def member_question_delete(contact: Contact, question_id: int) -> Response:
    """Remove one's own learning question."""
    try:
        services.remove_question(contact, question_id)
    except services.LearningError as error:
        db.session.rollback()
        flash(error_message(error.key), "error")
    else:
        flash(_("Your learning question is removed."), "success")
    return redirect(url_for("learning.member_questions", token=_token()), code=303)


# --- what other rooms' pages show (template globals) -------------------------------------------


@bp.app_template_global()
def learning_theme(network: Network) -> Any:
    """This werkjaar's theme of a network, with its goals (for the network page)."""
    return services.theme_of(network.id, services.current_start_year(network))


@bp.app_template_global()
def learning_for_member(contact: Contact, page: Any) -> services.MemberLearning:
    """The learning side of the member's page, loaded once per request: themes, her
    questions, the programmes of the sessions shown."""
    kept = request.environ.get("learnnet.learning_member")  # this request's, never older
    if kept is None or kept[0] != contact.id:
        sessions = [ms.session for ms in page.sessions]
        kept = (contact.id, services.member_learning(contact, page.networks, sessions))
        request.environ["learnnet.learning_member"] = kept
    return kept[1]


@bp.app_template_global()
def learning_for_session(session: Session) -> dict[str, Any]:
    """The facilitator's session page: the programme and the learning questions."""
    questions = services.session_questions(session)
    return {
        "programme": services.programme_of(session),
        "questions": questions,
        "count": sum(len(group) for _name, group in questions),
    }


@bp.app_template_global()
def learning_programmes(sessions: list[Session]) -> dict[int, services.Programme]:
    """The programmes of some sessions at once (the invitation mail)."""
    return services.programmes_for(list(sessions))


@bp.app_template_global()
def lead_label(item: Any, session: Session) -> str:
    """Who leads an agenda item, in words."""
    if item.lead_kind == "host":
        return _("the host (%(name)s)", name=session.host.name)
    if item.lead_kind == LEAD_FACILITY:
        return item.lead_facility.name if item.lead_facility else _("a member facility")
    return _("the facilitator")


@signals.session_themes_wanted.connect
def _themes_for_certificate(session_ids: tuple[int, ...]) -> dict[int, str]:
    """The certificate (attendance room) names the werkjaar theme of each session."""
    return services.themes_for_sessions(list(session_ids))
