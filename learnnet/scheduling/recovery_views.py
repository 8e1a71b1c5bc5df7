"""Pages for undo and recovery: delete or restore sessions, delete a series, and the
confirmation pages in front of every destructive action.

A destructive action is a GET that shows what will happen and a POST that does it: no
script is needed (the Content-Security-Policy allows none inline), and a refused action
says on the same page why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from learnnet.access import MEMBER_FACILITY, NETWORK, SESSION, requires
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Facility, Network
from learnnet.scheduling import bp, recovery, services
from learnnet.scheduling.forms import CancelForm
from learnnet.scheduling.models import Blackout, Series, Session, Unavailability
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
    return render_template("scheduling/confirm.html", confirm=confirm)


def _session_crumbs(session: Session) -> list[tuple[str, str]]:
    network = session.network
    return [
        (network.name, url_for("networks.network_view", slug=network.slug)),
        (_("Sessions"), url_for("scheduling.timeline", slug=network.slug)),
        (session_when(session), url_for("pages.session_view", session_id=session.id)),
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


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@requires(SESSION)
def session_delete(session: Session) -> str | Response:
    """Delete a session nobody was told about; otherwise say why and offer to cancel."""
    network = session.network
    if request.method == "POST":
        try:
            recovery.delete_session(session)
        except recovery.RecoveryError:
            flash(_("This session can no longer be deleted."), "error")
            return redirect(url_for("scheduling.session_delete", session_id=session.id))
        flash(_("Session deleted."), "success")
        return redirect(url_for("scheduling.timeline", slug=network.slug))
    facts = recovery.facts_for([session])[session.id]
    codes = recovery.deletion_blockers(facts, utcnow())
    back = url_for("pages.session_view", session_id=session.id)
    summary = (session_when(session), session.host.name)
    if codes:
        can_cancel = not session.is_cancelled and recovery.ENDED not in codes
        return _render(
            Confirm(
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
                    url_for("scheduling.session_cancel_confirm", session_id=session.id),
                )
                if can_cancel
                else None,
            )
        )
    return _render(
        Confirm(
            heading=_("Delete this session?"),
            crumbs=_session_crumbs(session),
            back=back,
            items=[summary],
            lines=[
                _("The session disappears from the timeline and from every calendar feed."),
                _("Nobody has been told about it yet, so nobody gets a message."),
                _("This cannot be undone."),
            ],
            action=url_for("scheduling.session_delete", session_id=session.id),
            button=_("Delete session"),
        )
    )


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET"])
@requires(SESSION)
def session_cancel_confirm(session: Session) -> str | Response:
    """Ask before cancelling, with an optional reason; the red button posts to
    ``scheduling.session_cancel``."""
    back = url_for("pages.session_view", session_id=session.id)
    if session.is_cancelled:
        return redirect(back)
    if session.ends_at <= utcnow():
        flash(_("This session has taken place; it can no longer be changed."), "error")
        return redirect(back)
    return _cancel_page(session, CancelForm())


def _cancel_page(session: Session, form: CancelForm) -> str:
    back = url_for("pages.session_view", session_id=session.id)
    if session.invited_at is not None:
        told = _("Everyone who was invited gets a cancellation message.")
    else:
        told = _("Nobody has been invited yet, so nobody gets a message.")
    alternative = None
    if recovery.may_delete(session):
        alternative = (
            _("Nobody has been told about this session yet: you can also delete it."),
            _("Delete session"),
            url_for("scheduling.session_delete", session_id=session.id),
        )
    return _render(
        Confirm(
            heading=_("Cancel this session?"),
            crumbs=_session_crumbs(session),
            back=back,
            back_label=_("Keep the session"),
            items=[(session_when(session), session.host.name)],
            lines=[
                _("It stays in the timeline and in calendars, marked as cancelled."),
                told,
                _("You can restore it later, as long as its time is still free."),
            ],
            action=url_for("scheduling.session_cancel", session_id=session.id),
            button=_("Cancel session"),
            alternative=alternative,
            form=form if session.invited_at is not None else None,
        )
    )


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@requires(SESSION)
def session_cancel(session: Session) -> str | tuple[str, int] | Response:
    """Cancel a session; it stays in the timeline, marked as cancelled. A reason that is
    too long is said next to the field, what was typed kept, and nothing is cancelled."""
    form = CancelForm()
    if not form.validate_on_submit():
        return _cancel_page(session, form), 422
    try:
        services.cancel_session(session, form.reason.data or "")
    except services.SchedulingError:
        flash(_("This session has taken place; it can no longer be changed."), "error")
    else:
        flash(_("Session cancelled."), "success")
    return redirect(url_for("pages.session_view", session_id=session.id))


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
    return redirect(url_for("pages.session_view", session_id=session.id))


# --- a series ---------------------------------------------------------------------------------


def _series_of(network: Network, series_id: int) -> Series:
    series = db.session.get(Series, series_id)
    if series is None or series.network_id != network.id:
        abort(404)
    return series


@bp.route("/networks/<slug>/series/<int:series_id>/delete", methods=["GET", "POST"])
@requires(NETWORK)
def series_delete(network: Network, series_id: int) -> str | Response:
    """Delete a series saved by mistake: all its sessions, or nothing."""
    series = _series_of(network, series_id)
    timeline = url_for("scheduling.timeline", slug=network.slug)
    if request.method == "POST":
        try:
            count = recovery.delete_series(series)
        except recovery.SeriesInUse:
            flash(_("This series can no longer be deleted as a whole."), "error")
            return redirect(
                url_for("scheduling.series_delete", slug=network.slug, series_id=series_id)
            )
        flash(
            ngettext(
                "Series deleted: %(num)d session.", "Series deleted: %(num)d sessions.", count
            ),
            "success",
        )
        return redirect(timeline)
    sessions = recovery.series_sessions(series)
    crumbs = [
        (network.name, url_for("networks.network_view", slug=network.slug)),
        (_("Sessions"), timeline),
    ]
    now = utcnow()
    facts = recovery.facts_for(sessions)
    blocked = {s.id: recovery.deletion_blockers(facts[s.id], now) for s in sessions}
    if any(blocked.values()):
        return _render(
            Confirm(
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
        )
    return _render(
        Confirm(
            heading=_("Delete this series?"),
            crumbs=crumbs,
            back=timeline,
            intro=ngettext(
                "Its %(num)d session is deleted:",
                "All %(num)d sessions of this series are deleted:",
                len(sessions),
            ),
            items=[(session_when(s), s.host.name) for s in sessions],
            lines=[
                _("They disappear from the timeline and from every calendar feed."),
                _("Nobody has been told about them yet, so nobody gets a message."),
                _("This cannot be undone."),
            ],
            action=url_for("scheduling.series_delete", slug=network.slug, series_id=series.id),
            button=_("Delete series"),
        )
        if sessions
        else Confirm(
            heading=_("Delete this series?"),
            crumbs=crumbs,
            back=timeline,
            lines=[_("This series has no sessions left.")],
            action=url_for("scheduling.series_delete", slug=network.slug, series_id=series.id),
            button=_("Delete series"),
        )
    )


# --- periods ----------------------------------------------------------------------------------


def _period_span(start: Any, end: Any) -> str:
    return f"{day_filter(start)} – {day_filter(end)}"


@bp.route("/networks/<slug>/blackouts/<int:blackout_id>/delete", methods=["GET"])
@requires(NETWORK)
def blackout_delete_confirm(network: Network, blackout_id: int) -> str:
    """Ask before removing a period without sessions (posts to ``blackout_delete``)."""
    blackout = db.get_or_404(Blackout, blackout_id)
    if blackout.network_id != network.id:
        abort(404)
    timeline = url_for("scheduling.timeline", slug=network.slug)
    label = blackout.label or _("period")
    return _render(
        Confirm(
            heading=_("Remove this period without sessions?"),
            crumbs=[
                (network.name, url_for("networks.network_view", slug=network.slug)),
                (_("Sessions"), timeline),
            ],
            back=timeline + "#blackouts",
            items=[(_period_span(blackout.starts_on, blackout.ends_on), label)],
            lines=[
                _(
                    "The planner may plan sessions in this period again. Sessions already "
                    "planned do not change."
                )
            ],
            action=url_for(
                "scheduling.blackout_delete", slug=network.slug, blackout_id=blackout.id
            ),
            button=_("Remove period"),
        )
    )


@bp.route("/facilities/<int:facility_id>/unavailability/<int:period_id>/delete", methods=["GET"])
@requires(MEMBER_FACILITY)
def unavailability_delete_confirm(facility: Facility, period_id: int) -> str:
    """Ask before removing days a facility cannot host (posts to ``unavailability_delete``)."""
    period = db.get_or_404(Unavailability, period_id)
    if period.facility_id != facility.id:
        abort(404)
    page = url_for("networks.facility_view", facility_id=facility.id)
    return _render(
        Confirm(
            heading=_("Remove this unavailable period?"),
            crumbs=[(_("Facilities"), url_for("networks.facilities")), (facility.name, page)],
            back=page + "#unavailable",
            items=[(_period_span(period.starts_on, period.ends_on), period.reason)],
            lines=[
                _(
                    "The planner may choose %(name)s as host on these days again. Sessions "
                    "already planned do not change.",
                    name=facility.name,
                )
            ],
            action=url_for(
                "scheduling.unavailability_delete", facility_id=facility.id, period_id=period.id
            ),
            button=_("Remove period"),
        )
    )
