"""Pages for undo and recovery: delete or restore sessions, delete a series, and the
confirmation pages in front of every destructive action.

A destructive action is a GET that shows what will happen and a POST that does it: no
script is needed (the Content-Security-Policy allows none inline), and a refused action
says on the same page why. The five actions (delete or cancel a session, delete a series,
remove a period without sessions or a facility's unavailable days) are one view driven by
a table of kinds, :data:`CONFIRMS`: what to load, the question, what the POST does and
where to go after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from learnnet.access import MEMBER_FACILITY, NETWORK, SESSION, requires
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Network
from learnnet.sessions import recovery, services
from learnnet.sessions.blueprint import bp
from learnnet.sessions.forms import CancelForm
from learnnet.sessions.models import Blackout, Series, Session, Unavailability
from learnnet.templating import day_filter, moment_filter, session_when


@dataclass
class Confirm:
    """What a confirmation page shows: the question, what will happen, and the way out.

    ``action`` is where the red button posts; without it the action is refused and
    ``blockers`` say why.
    """

    heading: str
    crumbs: list[tuple[str, str]]
    back: str
    intro: str = ""  # before the items
    items: list[tuple[str, str]] = field(default_factory=list)  # (what, detail)
    lines: list[str] = field(default_factory=list)  # after the items
    action: str | None = None
    button: str = ""
    back_label: str = ""
    blockers: list[str] = field(default_factory=list)
    alternative: tuple[str, str, str] | None = None  # (sentence, link text, url)
    form: Any = None  # fields to fill in before the red button (and their errors)


def _render(confirm: Confirm) -> str:
    return render_template("sessions/confirm.html", confirm=confirm)


def _network_crumbs(network: Network) -> list[tuple[str, str]]:
    return [
        (network.name, url_for("networks.network_view", slug=network.slug)),
        (_("Sessions"), url_for("sessions.timeline", slug=network.slug)),
    ]


def _timeline(network: Network, anchor: str = "") -> str:
    return url_for("sessions.timeline", slug=network.slug) + anchor


def _session_page(session: Session) -> str:
    return url_for("pages.session_view", session_id=session.id)


def _session_crumbs(session: Session) -> list[tuple[str, str]]:
    return [
        *_network_crumbs(session.network),
        (session_when(session), _session_page(session)),
    ]


def blocker_texts(
    session: Session, codes: tuple[str, ...], facts: recovery.SessionFacts
) -> list[str]:
    """Why a session cannot be deleted, in words."""
    tz = session.network.timezone
    words = {
        recovery.ENDED: lambda: _("It has taken place."),
        recovery.INVITED: lambda: _(
            "Invitations were sent on %(date)s.", date=moment_filter(facts.invited_at, tz)
        ),
        recovery.HOST_CONFIRMED: lambda: _("The host has confirmed it."),
        recovery.MAILED: lambda: ngettext(
            "%(num)d message about it was sent or is waiting to be sent.",
            "%(num)d messages about it were sent or are waiting to be sent.",
            facts.messages,
        ),
        recovery.ANSWERED: lambda: ngettext(
            "%(num)d person has answered.", "%(num)d people have answered.", facts.answers
        ),
        recovery.ATTENDED: lambda: _("Attendance has been recorded."),
    }
    return [words[code]() for code in codes]


@bp.app_template_global()
def may_delete_session(session: Session) -> bool:
    """Jinja: show "Delete" on the session page only when the rules allow it."""
    return recovery.may_delete(session)


@bp.app_template_global()
def series_summaries(sessions: list[Session]) -> list[recovery.SeriesSummary]:
    """Jinja: the series of the timeline's sessions, each with its size and dates."""
    return recovery.series_summaries(sessions)


# --- a single session -------------------------------------------------------------------------


def _ask_delete_session(session: Session) -> Confirm:
    """Delete a session nobody was told about; otherwise say why and offer to cancel."""
    facts = recovery.facts_for([session])[session.id]
    codes = recovery.deletion_blockers(facts, utcnow())
    back = _session_page(session)
    summary = (session_when(session), session.host.name)
    if codes:
        can_cancel = not session.is_cancelled and recovery.ENDED not in codes
        return Confirm(
            heading=_("This session can no longer be deleted"),
            crumbs=_session_crumbs(session),
            back=back,
            back_label=_("Back"),
            items=[summary],
            blockers=blocker_texts(session, codes, facts),
            alternative=(
                _(
                    "Cancel it instead: it stays visible as cancelled, and everyone who "
                    "was invited gets a message."
                ),
                _("Cancel session"),
                url_for("sessions.session_cancel_confirm", session_id=session.id),
            )
            if can_cancel
            else None,
        )
    return Confirm(
        heading=_("Delete this session?"),
        crumbs=_session_crumbs(session),
        back=back,
        items=[summary],
        lines=[
            _("The session disappears from the timeline and from every calendar feed."),
            _("Nobody has been told about it yet, so nobody gets a message."),
            _("This cannot be undone."),
        ],
        action=url_for("sessions.session_delete", session_id=session.id),
        button=_("Delete session"),
    )


def _delete_session(session: Session) -> Response | None:
    try:
        recovery.delete_session(session)
    except recovery.RecoveryError:
        flash(_("This session can no longer be deleted."), "error")
        return redirect(url_for("sessions.session_delete", session_id=session.id))
    flash(_("Session deleted."), "success")
    return None


def _ask_cancel(session: Session) -> Confirm | Response:
    """Ask before cancelling, with an optional reason (nothing to ask when it is cancelled
    or over)."""
    back = _session_page(session)
    if session.is_cancelled:
        return redirect(back)
    if session.ends_at <= utcnow():
        flash(_("This session has taken place; it can no longer be changed."), "error")
        return redirect(back)
    return _cancel_question(session, CancelForm())


def _cancel_question(session: Session, form: CancelForm) -> Confirm:
    if session.invited_at is not None:
        told = _("Everyone who was invited gets a cancellation message.")
    else:
        told = _("Nobody has been invited yet, so nobody gets a message.")
    alternative = None
    if recovery.may_delete(session):
        alternative = (
            _("Nobody has been told about this session yet: you can also delete it."),
            _("Delete session"),
            url_for("sessions.session_delete", session_id=session.id),
        )
    return Confirm(
        heading=_("Cancel this session?"),
        crumbs=_session_crumbs(session),
        back=_session_page(session),
        back_label=_("Keep the session"),
        items=[(session_when(session), session.host.name)],
        lines=[
            _("It stays in the timeline and in calendars, marked as cancelled."),
            told,
            _("You can restore it later, as long as its time is still free."),
        ],
        action=url_for("sessions.session_cancel", session_id=session.id),
        button=_("Cancel session"),
        alternative=alternative,
        form=form if session.invited_at is not None else None,
    )


def _cancel(session: Session) -> ResponseReturnValue | None:
    """Cancel; it stays in the timeline, marked as cancelled. A reason that is too long is
    said next to the field, what was typed kept, and nothing is cancelled."""
    form = CancelForm()
    if not form.validate_on_submit():
        return _render(_cancel_question(session, form)), 422
    try:
        services.cancel_session(session, form.reason.data or "")
    except services.SchedulingError:
        flash(_("This session has taken place; it can no longer be changed."), "error")
    else:
        flash(_("Session cancelled."), "success")
    return None


RESTORE_ERRORS = {
    recovery.ENDED: lambda other, session: _(
        "This session has taken place; it can no longer be changed."
    ),
    recovery.OVERLAP: lambda other, session: _(
        "This session cannot be restored: another session of this network takes place at "
        "the same time (%(when)s).",
        when=session_when(other) if other else "",
    ),
    recovery.HOST_LEFT: lambda other, session: _(
        "This session cannot be restored: %(name)s is no longer a member of the network on "
        "that date.",
        name=session.host.name,
    ),
}


@bp.route("/sessions/<int:session_id>/restore", methods=["POST"])
@requires(SESSION)
def session_restore(session: Session) -> Response:
    """Un-cancel a session, unless it has ended or its time is taken by now."""
    try:
        withdrawn = recovery.restore_session(session)
    except recovery.RecoveryError as exc:
        explain = RESTORE_ERRORS.get(exc.codes[0])  # none when it was not cancelled
        if explain is not None:
            flash(explain(exc.other, session), "error")
    else:
        flash(_("Session restored."), "success")
        if withdrawn:
            flash(_("The host has to confirm again."), "info")
    return redirect(_session_page(session))


# --- a series ---------------------------------------------------------------------------------


def _ask_delete_series(series: Series) -> Confirm:
    """Delete a series saved by mistake: all its sessions, or nothing."""
    network = series.network
    sessions = recovery.series_sessions(series)
    crumbs, timeline = _network_crumbs(network), _timeline(network)
    now = utcnow()
    facts = recovery.facts_for(sessions)
    blocked = {s.id: recovery.deletion_blockers(facts[s.id], now) for s in sessions}
    if any(blocked.values()):
        return Confirm(
            heading=_("This series can no longer be deleted"),
            crumbs=crumbs,
            back=timeline,
            back_label=_("Back"),
            intro=_(
                "Members have already heard of the sessions below, or they have taken "
                "place. Cancel those you no longer want one by one; the other sessions "
                "can still be deleted one by one."
            ),
            blockers=[
                f"{session_when(s)} — {s.host.name}: "
                + " ".join(blocker_texts(s, blocked[s.id], facts[s.id]))
                for s in sessions
                if blocked[s.id]
            ],
        )
    action = url_for("sessions.series_delete", slug=network.slug, series_id=series.id)
    if not sessions:
        lines = [_("This series has no sessions left.")]
    else:
        lines = [
            _("They disappear from the timeline and from every calendar feed."),
            _("Nobody has been told about them yet, so nobody gets a message."),
            _("This cannot be undone."),
        ]
    return Confirm(
        heading=_("Delete this series?"),
        crumbs=crumbs,
        back=timeline,
        intro=ngettext(
            "Its %(num)d session is deleted:",
            "All %(num)d sessions of this series are deleted:",
            len(sessions),
        )
        if sessions
        else "",
        items=[(session_when(s), s.host.name) for s in sessions],
        lines=lines,
        action=action,
        button=_("Delete series"),
    )


def _delete_series(series: Series) -> Response | None:
    try:
        count = recovery.delete_series(series)
    except recovery.SeriesInUse:
        flash(_("This series can no longer be deleted as a whole."), "error")
        return redirect(
            url_for("sessions.series_delete", slug=series.network.slug, series_id=series.id)
        )
    flash(
        ngettext("Series deleted: %(num)d session.", "Series deleted: %(num)d sessions.", count),
        "success",
    )
    return None


# --- periods ----------------------------------------------------------------------------------


def _period_question(
    period: Blackout | Unavailability,
    heading: str,
    crumbs: list[tuple[str, str]],
    back: str,
    what: str,
    line: str,
    action: str,
) -> Confirm:
    return Confirm(
        heading=heading,
        crumbs=crumbs,
        back=back,
        items=[(f"{day_filter(period.starts_on)} – {day_filter(period.ends_on)}", what)],
        lines=[line],
        action=action,
        button=_("Remove period"),
    )


def _ask_remove_blackout(blackout: Blackout) -> Confirm:
    """Ask before removing a period without sessions."""
    network = blackout.network
    return _period_question(
        blackout,
        _("Remove this period without sessions?"),
        _network_crumbs(network),
        _timeline(network, "#blackouts"),
        blackout.label or _("period"),
        _(
            "The planner may plan sessions in this period again. Sessions already "
            "planned do not change."
        ),
        url_for("sessions.blackout_delete", slug=network.slug, blackout_id=blackout.id),
    )


def _ask_remove_unavailability(period: Unavailability) -> Confirm:
    """Ask before removing days a facility cannot host."""
    facility = period.facility
    page = url_for("networks.facility_view", facility_id=facility.id)
    return _period_question(
        period,
        _("Remove this unavailable period?"),
        [(_("Facilities"), url_for("networks.facilities")), (facility.name, page)],
        page + "#unavailable",
        period.reason,
        _(
            "The planner may choose %(name)s as host on these days again. Sessions "
            "already planned do not change.",
            name=facility.name,
        ),
        url_for("sessions.unavailability_delete", facility_id=facility.id, period_id=period.id),
    )


def _remove_period(period: Blackout | Unavailability) -> None:
    services.remove_period(period)
    flash(_("Period removed."), "success")


# --- the table and its one view ---------------------------------------------------------------


def _owned(model: Any, ident: int, **owner: int) -> Any:
    """The row ``ident`` of ``model`` when it belongs to the owner the URL names; else 404."""
    row = db.get_or_404(model, ident)
    if any(getattr(row, column) != value for column, value in owner.items()):
        abort(404)
    return row


@dataclass(frozen=True)
class ConfirmKind:
    """One destructive action: a GET on ``url`` asks, a POST to it does the action.

    ``access`` is the route's rule (it loads the session, network or facility of the URL);
    ``load`` turns the view's arguments into what the action is about (404 when it is not
    theirs); ``ask`` is the question, or a response when there is nothing to ask; ``act``
    does it and says what happened, returning a response only when it stays (a refusal, a
    form with errors); ``after`` is where the way goes next, taken before the action (what
    is deleted can no longer say where it was). ``post_endpoint`` names the POST apart.
    """

    url: str
    access: str
    load: Callable[..., Any]
    ask: Callable[[Any], Confirm | Response]
    act: Callable[[Any], ResponseReturnValue | None]
    after: Callable[[Any], str]
    post_endpoint: str | None = None


#: The confirmation pages by endpoint (the GET's; the POST shares it unless named apart).
CONFIRMS: dict[str, ConfirmKind] = {
    "session_delete": ConfirmKind(
        url="/sessions/<int:session_id>/delete",
        access=SESSION,
        load=lambda session: session,
        ask=_ask_delete_session,
        act=_delete_session,
        after=lambda session: _timeline(session.network),
    ),
    "session_cancel_confirm": ConfirmKind(
        url="/sessions/<int:session_id>/cancel",
        access=SESSION,
        load=lambda session: session,
        ask=_ask_cancel,
        act=_cancel,
        after=_session_page,
        post_endpoint="session_cancel",
    ),
    "series_delete": ConfirmKind(
        url="/networks/<slug>/series/<int:series_id>/delete",
        access=NETWORK,
        load=lambda network, series_id: _owned(Series, series_id, network_id=network.id),
        ask=_ask_delete_series,
        act=_delete_series,
        after=lambda series: _timeline(series.network),
    ),
    "blackout_delete_confirm": ConfirmKind(
        url="/networks/<slug>/blackouts/<int:blackout_id>/delete",
        access=NETWORK,
        load=lambda network, blackout_id: _owned(Blackout, blackout_id, network_id=network.id),
        ask=_ask_remove_blackout,
        act=_remove_period,
        after=lambda blackout: _timeline(blackout.network, "#blackouts"),
        post_endpoint="blackout_delete",
    ),
    "unavailability_delete_confirm": ConfirmKind(
        url="/facilities/<int:facility_id>/unavailability/<int:period_id>/delete",
        access=MEMBER_FACILITY,
        load=lambda facility, period_id: _owned(Unavailability, period_id, facility_id=facility.id),
        ask=_ask_remove_unavailability,
        act=_remove_period,
        after=lambda period: (
            url_for("networks.facility_view", facility_id=period.facility_id) + "#unavailable"
        ),
        post_endpoint="unavailability_delete",
    ),
}


def confirm_view(kind: ConfirmKind) -> Callable[..., ResponseReturnValue]:
    """The view of one kind: its access rule, then the question (GET) or the action (POST)."""

    @requires(kind.access)
    def view(**kwargs: Any) -> ResponseReturnValue:
        subject = kind.load(**kwargs)
        if request.method != "POST":
            page = kind.ask(subject)
            return _render(page) if isinstance(page, Confirm) else page
        after = kind.after(subject)
        stays = kind.act(subject)
        return stays if stays is not None else redirect(after)

    return view


for _endpoint, _kind in CONFIRMS.items():
    _view = confirm_view(_kind)
    if _kind.post_endpoint is None:
        bp.add_url_rule(_kind.url, _endpoint, _view, methods=["GET", "POST"])
    else:
        bp.add_url_rule(_kind.url, _endpoint, _view, methods=["GET"])
        bp.add_url_rule(_kind.url, _kind.post_endpoint, _view, methods=["POST"])
