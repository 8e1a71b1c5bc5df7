"""The timeline and tally, periods without sessions, and changing single sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from learnnet import changes, sections
from learnnet.access import MEMBER_FACILITY, NETWORK, SESSION, requires
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Facility, Network
from learnnet.networks.rules import parse_id
from learnnet.pagecache import scoped_view
from learnnet.planning import planning
from learnnet.planning import services as planning_services
from learnnet.planning.plan_views import (
    flash_conflicts,
    network_today,
    offered_school_years,
    passed_label,
    school_holiday_labels,
    skip_label,
)
from learnnet.planning.recurrence import local_to_utc
from learnnet.sessions import services
from learnnet.sessions.blueprint import bp
from learnnet.sessions.forms import (
    PeriodForm,
    SessionDetailsForm,
    SessionTimeForm,
    SwapForm,
)
from learnnet.sessions.models import Session
from learnnet.templating import current_locale
from learnnet.timefmt import format_day, local_date, to_local


@bp.route("/networks/<slug>/sessions")
@requires(NETWORK)
@scoped_view(lambda network: [changes.network_scope(network.id)])
def timeline(network: Network) -> str:
    """Past and upcoming sessions with their hosts, the hosting tally and blackout periods."""
    return _render_timeline(network, PeriodForm(prefix="blackout"))


PAST_SHOWN = 10  # past sessions on the timeline before "show the older ones"
TALLY_SHOWN = 12  # members in the hosting tally, next in line first, before "show all"


def _render_timeline(network: Network, blackout_form: PeriodForm) -> str:
    lists = sections.kept(
        "timeline-lists",
        [changes.network_scope(network.id)],
        lambda: timeline_lists(network),
        key=network.id,
        per_page=True,
    )
    return render_template(
        "sessions/timeline.html",
        network=network,
        lists=lists,
        blackouts=planning_services.network_blackouts(network),
        blackout_form=blackout_form,
        school_years=offered_school_years(network_today(network)),
    )


@dataclass(frozen=True)
class TimelineLists:
    """The timeline's sessions and hosting tally, rendered. They read sessions, hosts,
    memberships and the audit trail of sessions, never an answer, so a timeline rendered
    anew after an answer takes them as they were (:mod:`learnnet.sections`)."""

    html: Markup
    has_past: bool


def timeline_lists(network: Network) -> TimelineLists:
    """Render the coming and past sessions (with their conflicts and "moved" marks) and
    the hosting tally."""
    from collections import Counter

    from sqlalchemy import select

    from learnnet.audit.models import AuditEvent

    now = utcnow()
    # The coming sessions and the latest past ones; years of history a link away.
    listed = services.timeline_sessions(
        network, now, None if request.args.get("past") == "all" else PAST_SHOWN
    )
    # "Moved": the audit trail holds a change of the date, the time or the host after the
    # session was planned (not a cancellation, a restore or an agenda edit). One statement.
    moved = {
        session_id
        for session_id, changes in db.session.execute(
            select(AuditEvent.entity_id, AuditEvent.changes).where(
                AuditEvent.entity == "session",
                AuditEvent.action == "update",
                AuditEvent.entity_id.in_(
                    select(Session.id).where(Session.network_id == network.id)
                ),
            )
        )
        if {"starts_at", "host_facility_id"} & set(changes or {})
    }

    def by_werkjaar(items: list[Session]) -> list[tuple[int, list[Session]]]:
        """Sessions grouped by werkjaar (September to August), in the order given."""
        groups: list[tuple[int, list[Session]]] = []
        for s in items:
            day = to_local(s.starts_at, network.timezone).date()
            year = day.year if day.month >= 9 else day.year - 1
            if not groups or groups[-1][0] != year:
                groups.append((year, []))
            groups[-1][1].append(s)
        return groups

    titles = Counter(listed.titles)
    html = sections.render(
        "sessions/_timeline_lists.html",
        network=network,
        moved=moved,
        by_werkjaar=by_werkjaar,
        usual_title=titles.most_common(1)[0][0] if titles else "",
        upcoming=listed.upcoming,
        flags={f.session.id: f.codes for f in planning.conflicts(network, now)},
        past=listed.past,
        older=listed.older,
        now=now,
        tally=services.hosting_tally(
            network, network_today(network), planning.expected_attendance(network)[0]
        ),
        passed_label=passed_label,
        tally_shown=None if request.args.get("tally") == "all" else TALLY_SHOWN,
        past_all=request.args.get("past") == "all",
    )
    return TimelineLists(html=html, has_past=bool(listed.past))


@bp.route("/networks/<slug>/blackouts", methods=["GET", "POST"])
@requires(NETWORK)
def blackout_add(network: Network) -> str | Response:
    """Add a period without sessions (e.g. school holidays). A GET (a reload after a form
    with errors) goes back to the page that holds the form."""
    if request.method == "GET":
        return redirect(url_for("sessions.timeline", slug=network.slug) + "#blackouts")
    form = PeriodForm(prefix="blackout")
    if not form.validate_on_submit():
        return _render_timeline(network, form)
    services.add_blackout(network, form.starts_on.data, form.ends_on.data, form.label.data or "")
    flash(_("Period without sessions added."), "success")
    flash_conflicts(planning.conflicts(network))
    return redirect(url_for("sessions.timeline", slug=network.slug) + "#blackouts")


@bp.route("/networks/<slug>/blackouts/school-holidays", methods=["POST"])
@requires(NETWORK)
def school_holidays_add(network: Network) -> Response:
    """The Flemish school holidays of a school year as periods without sessions, in one click."""
    school_year = parse_id(request.form.get("school_year", ""))
    back = redirect(url_for("sessions.timeline", slug=network.slug) + "#blackouts")
    if school_year not in offered_school_years(network_today(network)):
        flash(_("Choose one of the school years offered."), "error")
        return back
    added = services.add_school_holidays(network, school_year, school_holiday_labels(school_year))
    if added:
        flash(
            ngettext(
                "%(num)d school holiday added as a period without sessions.",
                "%(num)d school holidays added as periods without sessions.",
                len(added),
            ),
            "success",
        )
        flash_conflicts(planning.conflicts(network))
    else:
        flash(_("These school holidays were already there."), "success")
    return back


def _host_choices(network: Network, form: Any) -> None:
    form.host_id.choices = [(0, _("Choose a host…")), *services.current_member_names(network)]


SCHEDULING_ERRORS = {
    "not_member": lambda: _("This facility is not a member on that date."),
    "end_before_start": lambda: _("The end is before the start."),
    "in_past": lambda: _("This moment has passed."),
    "overlap": lambda: _("Another session of this network takes place at that time."),
    "cancelled": lambda: _("A cancelled session cannot be changed."),
    "ended": lambda: _("This session has taken place; it can no longer be changed."),
    "same": lambda: _("Choose another session of this network."),
}


def _warn_about(session: Session) -> None:
    """After a single change: say so when the planner would have avoided this date or host."""
    network = session.network
    day = to_local(session.starts_at, network.timezone).date()
    for warning in services.date_warnings(network, session.host_facility_id, day, current_locale()):
        flash(_("Note: %(reason)s.", reason=skip_label(warning)), "warning")


def _error(form: Any, exc: services.SchedulingError) -> None:
    field = getattr(form, exc.field)
    field.errors = [*field.errors, SCHEDULING_ERRORS[exc.code]()]


@bp.route("/networks/<slug>/sessions/new", methods=["GET", "POST"])
@requires(NETWORK)
def session_new(network: Network) -> str | Response:
    """Add one session outside a series."""
    form = SessionTimeForm()
    _host_choices(network, form)
    if request.method == "GET":
        form.start_time.data, form.end_time.data = time(19, 0), time(21, 30)
        form.title.data = _("Network session")
    if form.validate_on_submit():
        try:
            session = services.add_session(
                network,
                form.day.data,
                form.start_time.data,
                form.end_time.data,
                form.host_id.data,
                form.title.data or _("Network session"),
            )
        except services.SchedulingError as exc:
            _error(form, exc)
        else:
            flash(_("Session added."), "success")
            _warn_about(session)
            return redirect(url_for("pages.session_view", session_id=session.id))
    return render_template("sessions/session_time.html", network=network, form=form, session=None)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@requires(SESSION)
def session_edit(session: Session) -> str | Response:
    """Agenda, practical information, capacity, deadline."""
    form = SessionDetailsForm(obj=session)
    tz = session.network.timezone
    if request.method == "GET" and session.rsvp_deadline:
        form.rsvp_deadline.data = to_local(session.rsvp_deadline, tz).date()
    if form.validate_on_submit():
        if form.rsvp_deadline.data and form.rsvp_deadline.data > local_date(session.starts_at, tz):
            form.rsvp_deadline.errors = [
                _("Answers must close on or before the day of the session.")
            ]
        else:
            deadline = None
            if form.rsvp_deadline.data:
                kept = session.rsvp_deadline
                if kept is not None and to_local(kept, tz).date() == form.rsvp_deadline.data:
                    deadline = kept  # the same day: keep its time (e.g. 19:00), not 23:59
                else:
                    deadline = local_to_utc(form.rsvp_deadline.data, time(23, 59), tz)
            services.update_details(
                session,
                {
                    "title": form.title.data,
                    "agenda": form.agenda.data or "",
                    "practical_info": form.practical_info.data or "",
                    "capacity": form.capacity.data,
                    "rsvp_deadline": deadline,
                },
            )
            flash(_("Session saved."), "success")
            return redirect(url_for("pages.session_view", session_id=session.id))
    return render_template(
        "sessions/session_edit.html", network=session.network, form=form, session=session
    )


@bp.route("/sessions/<int:session_id>/move", methods=["GET", "POST"])
@requires(SESSION)
def session_move(session: Session) -> str | Response:
    """Move a session: another date, time or host."""
    network = session.network
    form = SessionTimeForm()
    _host_choices(network, form)
    del form.title
    if request.method == "GET":
        start = to_local(session.starts_at, network.timezone)
        end = to_local(session.ends_at, network.timezone)
        form.day.data, form.start_time.data, form.end_time.data = (
            start.date(),
            start.time(),
            end.time(),
        )
        form.host_id.data = session.host_facility_id
    if form.validate_on_submit():
        try:
            changed = services.move_session(
                session, form.day.data, form.start_time.data, form.end_time.data, form.host_id.data
            )
        except services.SchedulingError as exc:
            _error(form, exc)
        else:
            flash(_("Session moved.") if changed else _("Nothing changed."), "success")
            if changed:
                _warn_about(session)
            return redirect(url_for("pages.session_view", session_id=session.id))
    return render_template(
        "sessions/session_time.html", network=network, form=form, session=session
    )


@bp.route("/sessions/<int:session_id>/swap", methods=["GET", "POST"])
@requires(SESSION)
def session_swap(session: Session) -> str | Response:
    """Swap the hosts of this session and another upcoming one."""
    network = session.network
    form = SwapForm()
    now = utcnow()
    others = [
        s
        for s in services.sessions_of(network)
        if s.id != session.id and not s.is_cancelled and s.ends_at > now
    ]
    locale = current_locale()
    form.other_id.choices = [(0, _("Choose a session…"))] + [
        (s.id, f"{format_day(local_date(s.starts_at, network.timezone), locale)} — {s.host.name}")
        for s in others
    ]
    if form.validate_on_submit():
        other = db.session.get(Session, form.other_id.data)
        if other is None or other.id not in {s.id for s in others}:
            form.other_id.errors = [_("Choose a session.")]
        else:
            try:
                services.swap_hosts(session, other)
            except services.SchedulingError as exc:
                _error(form, exc)
            else:
                flash(_("Hosts swapped."), "success")
                return redirect(url_for("sessions.timeline", slug=network.slug))
    return render_template(
        "sessions/session_swap.html", network=network, form=form, session=session
    )


@bp.route("/facilities/<int:facility_id>/unavailability", methods=["GET", "POST"])
@requires(MEMBER_FACILITY)
def unavailability_add(facility: Facility) -> str | Response:
    """Days the facility cannot host. A GET (a reload after a form with errors) goes back
    to the facility page."""
    from learnnet.networks.views import render_facility

    if request.method == "GET":
        return redirect(url_for("networks.facility_view", facility_id=facility.id) + "#unavailable")

    form = PeriodForm(prefix="closed")
    if not form.validate_on_submit():
        return render_facility(facility, form)
    services.add_unavailability(
        facility, form.starts_on.data, form.ends_on.data, form.label.data or ""
    )
    flash(_("Unavailable period added."), "success")
    flash_conflicts(planning.conflicts_for_facility(facility.id))
    return redirect(url_for("networks.facility_view", facility_id=facility.id) + "#unavailable")


@bp.route("/sessions/<int:session_id>/rehost", methods=["POST"])
@requires(SESSION)
def session_rehost(session: Session) -> Response:
    """One click: give a flagged session the host the planner proposes (same date and time)."""
    back = redirect(url_for("pages.session_view", session_id=session.id))
    expected_host = parse_id(request.form.get("current_host_id", ""))
    new_host = parse_id(request.form.get("host_id", ""))
    if expected_host != session.host_facility_id or new_host is None:
        flash(_("This session changed in the meantime; nothing was changed. Look again."), "error")
        return back
    network = session.network
    start = to_local(session.starts_at, network.timezone)
    end = to_local(session.ends_at, network.timezone)
    try:
        services.move_session(session, start.date(), start.time(), end.time(), new_host)
    except services.SchedulingError as exc:
        flash(SCHEDULING_ERRORS[exc.code](), "error")
        return back
    flash(
        _("%(name)s now hosts this session. They have to confirm.", name=session.host.name),
        "success",
    )
    flash_conflicts([f for f in planning.conflicts(network) if f.session.id == session.id])
    return back
