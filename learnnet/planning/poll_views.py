"""Pages of the season poll: the facilitator opens, reads and closes a poll; a member
answers it through their personal link (one form, one tap per date, no script)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from learnnet.access import NETWORK, PERSONAL_LINK, requires
from learnnet.extensions import db
from learnnet.forms import Length, PlausibleDate, strip_filter
from learnnet.networks.models import Contact, Network
from learnnet.networks.rules import parse_id
from learnnet.planning import planning, poll_services
from learnnet.planning import poll as rules
from learnnet.planning.blueprint import bp
from learnnet.planning.forms import parse_dates
from learnnet.planning.poll_models import Poll
from learnnet.planning.recurrence import DATES
from learnnet.timefmt import local_today


def date_problems() -> dict[str, str]:
    """Why a poll's dates were refused, in words."""
    return {
        "none": _("Enter at least one date."),
        "too_many": _("A poll has at most %(max)d dates.", max=rules.MAX_DATES),
        "past": _("A date in the poll has already passed."),
        "closes_past": _("The closing date has already passed."),
        "closes_late": _("The closing date is after the last date of the poll."),
    }


class PollForm(FlaskForm):
    """A new poll: its candidate dates, the date to answer by, a short text."""

    dates = TextAreaField(
        _l("Candidate dates"),
        description=_l("One date per line, e.g. 12/01/2027."),
        validators=[Length(max=2000)],
    )
    closes_on = DateField(
        _l("Answer by"), validators=[DataRequired(_l("Enter a date.")), PlausibleDate()]
    )
    text = TextAreaField(
        _l("Short text for the members"),
        filters=[strip_filter],
        validators=[Length(max=rules.MAX_TEXT)],
    )

    def validate_dates(self, field: Any) -> None:
        """Every line a date, at least one, none past, not too many."""
        try:
            parsed = parse_dates(field.data or "")
        except ValueError as exc:
            raise ValidationError(
                _l("“%(value)s” is not a date; write e.g. 12/01/2027.", value=str(exc))
            ) from exc
        problems = [
            p for p in rules.check_dates(parsed, None, local_today()) if p in date_problems()
        ]
        if problems:
            raise ValidationError(date_problems()[problems[0]])
        self.parsed = parsed

    def validate_closes_on(self, field: Any) -> None:
        """Not in the past, not after the last date."""
        if field.data is None:
            return
        parsed = getattr(self, "parsed", None)
        try:
            parsed = parsed or parse_dates(self.dates.data or "")
        except ValueError:
            parsed = []
        problems = rules.check_dates(parsed or [field.data], field.data, local_today())
        for code in ("closes_past", "closes_late"):
            if code in problems:
                raise ValidationError(date_problems()[code])


def _poll_of(network: Network, poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.network_id != network.id:
        abort(404)
    return poll


@bp.route("/networks/<slug>/polls")
@requires(NETWORK)
def poll_list(network: Network) -> str:
    """The network's season polls."""
    return render_template(
        "planning/poll_list.html", network=network, polls=poll_services.network_polls(network)
    )


@bp.route("/networks/<slug>/polls/new", methods=["GET", "POST"])
@requires(NETWORK)
def poll_new(network: Network) -> Any:
    """Open a poll: the dates (from the latest series' pattern when there is one)."""
    form = PollForm()
    if request.method == "GET":
        suggested = poll_services.suggested_dates(network, local_today(network.timezone))
        form.dates.data = "\n".join(f"{d:%d/%m/%Y}" for d in suggested)
        if suggested:
            form.closes_on.data = max(local_today(network.timezone), suggested[0])
    if form.validate_on_submit():
        try:
            poll = poll_services.create_poll(
                network, current_user, form.parsed, form.closes_on.data, form.text.data or ""
            )
        except poll_services.PollError as exc:  # the day turned between check and save
            db.session.rollback()
            form.dates.errors = [date_problems().get(exc.code, exc.code)]
        else:
            flash(
                ngettext(
                    "The poll is open and was mailed to %(num)d contact. Members answer it "
                    "on their personal page.",
                    "The poll is open and was mailed to %(num)d contacts. Members answer it "
                    "on their personal page.",
                    poll_services.send_poll(poll),
                ),
                "success",
            )
            return redirect(url_for("planning.poll_view", slug=network.slug, poll_id=poll.id))
    status = 400 if request.method == "POST" else 200
    return render_template("planning/poll_new.html", network=network, form=form), status


def _grid_state(poll: Poll) -> tuple[int | None, frozenset[date]]:
    """The grid's threshold (``min``: fewer facilities that can come make a date weak)
    and the dates dropped for the plan (``drop``), from the URL: dropping writes nothing
    and is undone with one click until the plan is saved."""
    threshold = parse_id(request.values.get("min", ""))
    days = {d.day for d in poll.dates}
    dropped = set()
    for raw in request.values.get("drop", "").split(","):
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            continue
        if day in days:
            dropped.add(day)
    return threshold, frozenset(dropped)


def _iso(days: Any) -> str:
    return ",".join(d.isoformat() for d in sorted(days))


@bp.route("/networks/<slug>/polls/<int:poll_id>")
@requires(NETWORK)
def poll_view(network: Network, poll_id: int) -> str:
    """The poll's answers per date: who can come, who can host, who is missing; weak
    dates marked, to drop with one click before planning from the poll."""
    poll = _poll_of(network, poll_id)
    threshold, dropped = _grid_state(poll)
    view = poll_services.overview(poll, threshold, dropped)

    base = url_for("planning.poll_view", slug=network.slug, poll_id=poll.id)

    def grid_url(add: Any = (), remove: date | None = None) -> str:
        """The grid with these dates dropped too, or one put back (the threshold kept).
        Built by hand: one per date, and url_for is slow at that rate."""
        drop = (set(dropped) | set(add)) - {remove}
        params: dict[str, Any] = {"min": view.threshold}
        if drop:
            params["drop"] = _iso(drop)
        return f"{base}?{urlencode(params, safe=',')}"

    return render_template(
        "planning/poll_view.html",
        network=network,
        view=view,
        mailed=poll_services.mailed(poll),
        grid_url=grid_url,
        dropped=set(dropped),
        drop_param=_iso(dropped),
    )


def _plan_values(
    poll: Poll, dropped: frozenset[date], found: planning.PlanDefaults, today: date
) -> dict[str, Any]:
    """The plan form's values for a plan from the poll: its dates as a list, the time and
    details of the previous series, the expected attendance from the "kan" (the most on
    one date still planned, when anyone answered)."""
    feed = poll_services.planner_feed(poll)
    expected = max((n for day, n in feed.can.items() if day not in dropped), default=0)
    params: dict[str, Any] = {
        "preview": "1",
        "pattern": DATES,
        "dates": "\n".join(f"{d.day:%d/%m/%Y}" for d in poll.dates),
        "start_on": today.isoformat(),
        "start_time": found.start_time.strftime("%H:%M"),
        "duration": found.duration,
        "title": found.title or _("Network session"),
        "expected": expected or found.expected or "",
        "poll": poll.id,
    }
    if found.rsvp_days is not None:
        params["rsvp_days"] = found.rsvp_days
    if dropped:
        params["drop"] = params["polldrop"] = _iso(dropped)
    return {k: v for k, v in params.items() if v != ""}


@bp.route("/networks/<slug>/polls/<int:poll_id>/plan", methods=["GET", "POST"])
@requires(NETWORK)
def poll_plan(network: Network, poll_id: int) -> Any:
    """Plan the season from the poll: the plan preview with the poll's dates (those
    dropped on the grid unticked) and its answers. A POST closes the poll first."""
    poll = _poll_of(network, poll_id)
    _threshold, dropped = _grid_state(poll)
    if request.method == "POST" and poll_services.close_poll(poll):
        flash(_("The poll is closed. Later answers are kept but not counted."), "success")
    today = local_today(network.timezone)
    params = _plan_values(poll, dropped, planning.defaults(network, today), today)
    return redirect(
        url_for("planning.plan_season", slug=network.slug, _anchor="preview", **params), 303
    )


@bp.route("/networks/<slug>/polls/<int:poll_id>/send", methods=["POST"])
@requires(NETWORK)
def poll_send(network: Network, poll_id: int) -> Any:
    """Mail the open poll to the contacts who have not had it yet (new since it opened)."""
    poll = _poll_of(network, poll_id)
    sent = poll_services.send_poll(poll)
    if sent:
        flash(
            ngettext(
                "The poll was mailed to %(num)d contact.",
                "The poll was mailed to %(num)d contacts.",
                sent,
            ),
            "success",
        )
    else:
        flash(_("Every contact with an email address already has the poll."), "info")
    return redirect(url_for("planning.poll_view", slug=network.slug, poll_id=poll.id), 303)


@bp.route("/networks/<slug>/polls/<int:poll_id>/remind", methods=["POST"])
@requires(NETWORK)
def poll_remind(network: Network, poll_id: int) -> Any:
    """Remind by mail who has not answered yet: each contact at most once a day."""
    poll = _poll_of(network, poll_id)
    sent = poll_services.remind(poll)
    if sent:
        flash(
            ngettext(
                "A reminder was mailed to %(num)d contact.",
                "A reminder was mailed to %(num)d contacts.",
                sent,
            ),
            "success",
        )
    else:
        flash(
            _("Nobody to remind: each of them had a reminder today or has no email address."),
            "info",
        )
    return redirect(
        url_for("planning.poll_view", slug=network.slug, poll_id=poll.id) + "#missing", 303
    )


@bp.route("/networks/<slug>/polls/<int:poll_id>/close", methods=["POST"])
@requires(NETWORK)
def poll_close(network: Network, poll_id: int) -> Any:
    """Close the poll: answers after this are kept and shown, not counted."""
    poll = _poll_of(network, poll_id)
    if poll_services.close_poll(poll):
        flash(_("The poll is closed. Later answers are kept but not counted."), "success")
    return redirect(url_for("planning.poll_view", slug=network.slug, poll_id=poll.id), 303)


def _member_poll_page(
    contact: Contact, poll: Poll, typed: dict[date, tuple[str, bool]], error: str = ""
) -> tuple[str, int]:
    return render_template(
        "planning/poll_answer.html",
        contact=contact,
        poll=poll,
        token=request.view_args["token"],  # type: ignore[index]
        typed=typed,
        error=error,
        takes_turns=contact.facility.willing_to_host,
    ), (400 if error else 200)


def _member_poll(contact: Contact, poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None or not poll_services.may_answer(poll, contact):
        abort(404)
    return poll


@bp.route("/m/<token>/polls/<int:poll_id>", methods=["GET", "POST"])
@requires(PERSONAL_LINK)
def member_poll(contact: Contact, poll_id: int) -> Any:
    """A member answers the poll: per date kan / liever niet / kan niet, and whether
    their facility can receive the network; one submit for all dates."""
    poll = _member_poll(contact, poll_id)
    if request.method == "GET":
        mine = poll_services.contact_answers(poll, contact)
        typed = {day: (row.answer, row.host) for day, row in mine.items()}
        return _member_poll_page(contact, poll, typed)
    typed: dict[date, tuple[str, bool]] = {}
    wrong = False
    for poll_date in poll.dates:
        key = poll_date.day.isoformat()
        answer = request.form.get(f"answer-{key}", "")
        host = request.form.get(f"host-{key}") == "1"
        if answer in rules.ANSWERS:
            typed[poll_date.day] = (answer, host)
        elif answer:
            wrong = True
    if wrong or not typed:
        return _member_poll_page(contact, poll, typed, _("Choose an answer for each date."))
    try:
        changed, late = poll_services.record_answers(poll, contact, typed)
    except poll_services.PollError:
        db.session.rollback()
        abort(404)
    if late:
        flash(
            _(
                "The poll was already closed: your answer is kept for the facilitator, "
                "but the dates may already be planned."
            ),
            "warning",
        )
    elif changed:
        flash(
            ngettext(
                "Thank you! %(num)d answer saved.", "Thank you! %(num)d answers saved.", changed
            ),
            "success",
        )
    else:
        flash(_("Your answers were already saved."), "success")
    return redirect(url_for("rsvp.member", token=request.view_args["token"]) + "#poll", 303)  # type: ignore[index]


@bp.app_template_global()
def open_polls_for(contact: Contact) -> list[Poll]:
    """The open polls on a member's page (the member page's "season poll" section)."""
    return poll_services.open_polls_for(contact)
