"""Pages of the evaluation: the facilitator chooses the questions, asks who was there and
reads the results (per session, per werkjaar, CSV); a member who was checked in answers
once through their personal link (one form, no script).

Results show counts, averages, distributions and texts, never names: members see no
one's answers, facilitators see what was written, not by whom.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from learnnet.access import NETWORK, PERSONAL_LINK, SESSION, requires
from learnnet.attendance import rules as attendance_rules
from learnnet.extensions import db
from learnnet.learning import evaluation as rules
from learnnet.learning import evaluation_services as services
from learnnet.networks.models import Contact, Network
from learnnet.sessions.models import Session
from learnnet.timefmt import local_date, local_today

bp = Blueprint("evaluation", __name__)


# --- words ------------------------------------------------------------------------------------


def question_labels() -> dict[str, str]:
    """Each question of the set as the member reads it."""
    return {
        "useful": _("How useful was this session?"),
        "practice": _("How well can you put this into practice in your own facility?"),
        "exchange": _("How valuable was the exchange with the other facilities?"),
        "take_away": _("What do you take with you?"),
        "try_out": _("What will you try out?"),
        "missed": _("What did you miss, or what could be better?"),
        "next_topic": _("Which topic would you like to discuss next time?"),
    }


def short_labels() -> dict[str, str]:
    """Each question in a word or two, for table headers."""
    return {
        "useful": _("Useful"),
        "practice": _("Put into practice"),
        "exchange": _("Exchange"),
        "take_away": _("Take with you"),
        "try_out": _("Try out"),
        "missed": _("Missed"),
        "next_topic": _("Next topic"),
    }


def closed_messages() -> dict[str, str]:
    """Why a member cannot answer, in words."""
    return {
        rules.CANCELLED: _("This session was cancelled: there is nothing to evaluate."),
        rules.OFF: _("This network does not ask for an evaluation."),
        rules.NOT_PRESENT: _(
            "Only those who were checked in at this session can evaluate it. "
            "Were you there? Ask the facilitator to record your attendance."
        ),
        rules.ANSWERED: _("You have already evaluated this session. Thank you!"),
        rules.NOT_YET: _("You can evaluate this session once it has started."),
        rules.TOO_LATE: _("The evaluation of this session has closed."),
    }


def answer_problems() -> dict[str, str]:
    """Why an answer was refused, in words."""
    return {
        rules.EMPTY: _("Answer at least one question."),
        rules.BAD_SCORE: _("Choose a score from 1 to 5."),
        rules.TOO_LONG: _("Keep it under %(max)d characters.", max=rules.MAX_TEXT),
    }


def choice_problems() -> dict[str, str]:
    """Why a choice of questions was refused, in words."""
    return {
        rules.TOO_FEW: _("Choose at least %(num)d questions.", num=rules.MIN_CHOSEN),
        rules.TOO_MANY: _("Choose at most %(num)d questions.", num=rules.MAX_CHOSEN),
        rules.TWICE: _("Give each chosen question its own place."),
        rules.UNKNOWN: _("Choose questions from the list."),
    }


def average_label(value: float | None) -> str:
    """'4,2' (in the page's language), or a dash without scores."""
    return "—" if value is None else format_decimal(round(value, 1), format="0.0")


# --- the facilitator's pages ------------------------------------------------------------------


def _period_arg() -> tuple[str, Any, Any]:
    raw = request.args.get("period", "")
    bounds = attendance_rules.period(raw) if "-" in raw else None
    if bounds is None:
        start, end = attendance_rules.werkjaar_of(local_today())
        return f"{start.year}-{end.year}", start, end
    return raw, bounds[0], bounds[1]


@bp.route("/networks/<slug>/evaluation")
@requires(NETWORK)
def network_results(network: Network) -> str:
    """The werkjaar's evaluations: per question, per session; the questions asked."""
    period, start, end = _period_arg()
    results = services.werkjaar_results(network, start, end)
    return render_template(
        "learning/evaluation_network.html",
        network=network,
        results=results,
        scale_keys=[k for k in results.keys if rules.BY_KEY[k].kind == rules.SCALE],
        choice=services.choice_of(network),
        period=period,
        periods=services.werkjaren(network, local_today(network.timezone)),
    )


def _csv(network: Network, sessions: list[Session], name: str) -> Response:
    labels = question_labels()
    header = [
        _("Date"),
        _("Session"),
        _("Host"),
        _("Question"),
        _("Score (1–5)"),
        _("Answer"),
        _("Shared for the yearly record"),
    ]
    body = services.csv_rows(network, sessions, labels)
    variant = "comma" if request.args.get("variant") == "comma" else "excel"
    response = Response(
        services.csv_bytes(header, body, variant), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/networks/<slug>/evaluation.csv")
@requires(NETWORK)
def network_csv(network: Network) -> Response:
    """Every answer of the werkjaar, one line each, without names."""
    period, start, end = _period_arg()
    sessions = [r.session for r in services.werkjaar_results(network, start, end).rows]
    return _csv(network, sessions, f"evaluatie-{network.slug}-{period}.csv")


@bp.route("/sessions/<int:session_id>/evaluation")
@requires(SESSION)
def session_results(session: Session) -> str:
    """One session's evaluation: response, per question counts, average, texts."""
    return render_template(
        "learning/evaluation_session.html",
        session=session,
        network=session.network,
        results=services.session_results(session),
        status=services.status(session),
    )


@bp.route("/sessions/<int:session_id>/evaluation.csv")
@requires(SESSION)
def session_csv(session: Session) -> Response:
    """Every answer of the session, one line each, without names."""
    day = local_date(session.starts_at, session.network.timezone).isoformat()
    return _csv(session.network, [session], f"evaluatie-{day}.csv")


@bp.route("/sessions/<int:session_id>/evaluation/ask", methods=["POST"])
@requires(SESSION)
def session_ask(session: Session) -> Response:
    """Mail the evaluation now to whoever was checked in and has not had it."""
    if not services.can_ask(session):
        flash(
            _(
                "The evaluation can be sent once the session has started, "
                "if the network asks for one."
            ),
            "error",
        )
    else:
        sent = services.ask(session)
        if sent:
            flash(
                ngettext(
                    "The evaluation was mailed to %(num)d person who was there.",
                    "The evaluation was mailed to %(num)d people who were there.",
                    sent,
                ),
                "success",
            )
        else:
            flash(_("Everyone who was checked in and has an email address has had it."), "info")
    return redirect(url_for("pages.session_view", session_id=session.id) + "#evaluation", 303)


def _questions_page(
    network: Network, positions: dict[str, str], enabled: bool, error: str = ""
) -> tuple[str, int]:
    return render_template(
        "learning/evaluation_questions.html",
        network=network,
        questions=rules.QUESTIONS,
        labels=question_labels(),
        positions=positions,
        enabled=enabled,
        error=error,
        places=range(1, rules.MAX_CHOSEN + 1),
    ), (400 if error else 200)


@bp.route("/networks/<slug>/evaluation/questions", methods=["GET", "POST"])
@requires(NETWORK)
def questions(network: Network) -> Any:
    """Choose 2–4 questions of the set and their order; or switch the evaluation off."""
    if request.method == "GET":
        choice = services.choice_of(network)
        positions = {key: str(n) for n, key in enumerate(choice.keys, start=1)}
        return _questions_page(network, positions, choice.enabled)
    positions = {
        q.key: request.form.get(f"place-{q.key}", "").strip()
        for q in rules.QUESTIONS
        if request.form.get(f"place-{q.key}", "").strip()
    }
    enabled = request.form.get("enabled") == "1"
    allowed = {str(n) for n in range(1, rules.MAX_CHOSEN + 1)}
    if any(v not in allowed for v in positions.values()):
        return _questions_page(network, positions, enabled, choice_problems()[rules.UNKNOWN])
    if len(set(positions.values())) != len(positions):
        return _questions_page(network, positions, enabled, choice_problems()[rules.TWICE])
    keys = [k for k, _v in sorted(positions.items(), key=lambda kv: int(kv[1]))]
    try:
        services.save_choice(network, keys, enabled)
    except services.EvaluationError as exc:
        db.session.rollback()
        return _questions_page(network, positions, enabled, choice_problems()[exc.code])
    flash(
        _("The evaluation questions are saved.")
        if enabled
        else _("Saved: this network does not ask for an evaluation."),
        "success",
    )
    return redirect(url_for("evaluation.network_results", slug=network.slug), 303)


# --- the member's page ------------------------------------------------------------------------


def _member_session(session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None:
        abort(404)
    return session


def _back(token: str) -> Response:
    return redirect(url_for("rsvp.member", token=token) + "#evaluation", 303)


@bp.route("/m/<token>/sessions/<int:session_id>/evaluation", methods=["GET", "POST"])
@requires(PERSONAL_LINK)
def member_evaluation(contact: Contact, session_id: int) -> Any:
    """A member who was checked in evaluates the session: the network's questions, a
    score with one tap, a line of text, once."""
    token = request.view_args["token"]  # type: ignore[index]
    session = _member_session(session_id)
    reason = services.closed_reason(session, contact)
    if reason:
        flash(closed_messages()[reason], "success" if reason == rules.ANSWERED else "info")
        return _back(token)
    chosen = services.choice_of(session.network).keys
    if request.method == "GET":
        return _member_page(contact, session, chosen, token, {}, {})
    typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
    given, problems = rules.clean(request.form, chosen)
    if problems:
        return _member_page(contact, session, chosen, token, typed, problems)
    try:
        services.submit(session, contact, given)
    except services.EvaluationError as exc:
        db.session.rollback()
        flash(closed_messages().get(exc.code, answer_problems()[rules.EMPTY]), "info")
        return _back(token)
    flash(_("Thank you for your evaluation!"), "success")
    return _back(token)


def _member_page(
    contact: Contact,
    session: Session,
    chosen: tuple[str, ...],
    token: str,
    typed: dict[str, str],
    problems: dict[str, str],
) -> tuple[str, int]:
    messages = answer_problems()
    return render_template(
        "learning/evaluation_member.html",
        contact=contact,
        session=session,
        network=session.network,
        questions=[rules.BY_KEY[k] for k in chosen],
        labels=question_labels(),
        token=token,
        typed=typed,
        errors={k: messages[v] for k, v in problems.items()},
        scores=rules.SCORES,
        max_text=rules.MAX_TEXT,
    ), (400 if problems else 200)


# --- what other rooms' pages show -------------------------------------------------------------


def evaluations_open(contact: Contact) -> list[Session]:
    """Template helper (member page): the sessions the member may still evaluate."""
    return services.open_for(contact)


def evaluation_status(session: Session) -> services.Status:
    """Template helper (session page): the evaluation box's counts."""
    return services.status(session)


def init_app(app: Flask) -> None:
    """Register the pages, the helpers the member and session pages include, and the
    trail of the facilitator's choice of questions."""
    from learnnet.audit import trail
    from learnnet.learning.evaluation_models import EvaluationSetting

    app.register_blueprint(bp)
    trail.track(EvaluationSetting, "evaluation_setting")

    @app.context_processor
    def _evaluation_helpers() -> dict[str, Any]:
        return {
            "evaluations_open": evaluations_open,
            "evaluation_status": evaluation_status,
            "evaluation_average": average_label,
            "evaluation_labels": short_labels,
            "evaluation_questions": question_labels,
        }
