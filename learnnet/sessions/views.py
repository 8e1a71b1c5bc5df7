"""Pages for planning a season, the timeline and tally, and changing single sessions."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask import (
    Response,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from learnnet import changes, signals
from learnnet.access import MEMBER_FACILITY, NETWORK, SESSION, requires
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Facility, Network
from learnnet.networks.rules import parse_id
from learnnet.pagecache import scoped_view
from learnnet.planning import planning, rotation, schoolholidays
from learnnet.planning.recurrence import DATES, local_to_utc
from learnnet.sessions import services
from learnnet.sessions.blueprint import bp
from learnnet.sessions.forms import (
    PeriodForm,
    PlanForm,
    SessionDetailsForm,
    SessionTimeForm,
    SwapForm,
    parse_dates,
)
from learnnet.sessions.models import Session
from learnnet.templating import current_locale
from learnnet.timefmt import format_day, local_date, to_local


def _today(network: Network) -> date:
    return to_local(utcnow(), network.timezone).date()


def rule_labels() -> dict[str, str]:
    """Short names of the rules a plan can break."""
    return {
        rotation.FAIRNESS: _("hosts again before others had a turn"),
        rotation.CONSECUTIVE: _("hosts two sessions in a row"),
        rotation.CAPACITY: _("room too small for the expected attendance"),
        rotation.CONTACT: _("no active contact person to confirm"),
        rotation.NOT_WILLING: _("does not host (chosen by you)"),
        rotation.UNAVAILABLE: _("not available on this date"),
    }


def skip_label(skip: rotation.Skip) -> str:
    """Why a date of the pattern has no session."""
    labels = {
        "host_unavailable": _("the host cannot host on this date"),
        rotation.SKIP_PAST: _("date has passed"),
        rotation.SKIP_DROPPED: _("removed by you"),
        rotation.SKIP_HOLIDAY: _("public holiday: %(name)s", name=skip.detail),
        rotation.SKIP_SCHOOL_HOLIDAY: _("school holiday: %(name)s", name=_school_name(skip)),
        rotation.SKIP_BLACKOUT: _("no sessions in this period: %(name)s", name=skip.detail),
        rotation.SKIP_TAKEN: _("there is already a session that day"),
        rotation.SKIP_NO_HOST: _("no member can host on this date"),
        rotation.SKIP_TOO_FAR: _("more than three years ahead"),
    }
    return labels[skip.code]


def _school_name(skip: rotation.Skip) -> str:
    if skip.code != rotation.SKIP_SCHOOL_HOLIDAY:
        return ""
    return school_holiday_labels(schoolholidays.school_year_of(skip.day))[skip.detail]


def reason_label(reason: rotation.Reason) -> str:
    """Why the planner chose a host."""
    if reason.code == rotation.REASON_CHOSEN:
        return _("chosen by you")
    if reason.code == rotation.REASON_NEVER:
        return _("has not hosted yet")
    if reason.code == rotation.REASON_PLANNED_ONLY:
        if reason.day is None:
            return _("has not hosted yet")
        return _(
            "has not hosted yet; next turn on %(date)s",
            date=format_day(reason.day, current_locale()),
        )
    if reason.day is None:
        return _("has not hosted yet")
    return ngettext(
        "hosted %(num)d time, last on %(date)s",
        "hosted %(num)d times, last on %(date)s",
        reason.count,
        date=format_day(reason.day, current_locale()),
    )


PLANNING_ERRORS = {
    "no_limit": ("count", lambda: _("Enter a number of sessions or a last date.")),
    "count_range": (
        "count",
        lambda: _("Plan between 1 and %(max)d sessions at a time.", max=rotation.MAX_SESSIONS),
    ),
    "until_before_start": ("until", lambda: _("The last date is before the first.")),
    "start_in_past": ("start_on", lambda: _("This date has passed.")),
    "no_host": (
        "pattern",
        lambda: _("No member is willing to host. Mark at least one facility as willing to host."),
    ),
}


# The fields that decide the dates (when they change, the preview starts afresh), then
# the rest of the plan form.
PATTERN_FIELDS = (
    "pattern",
    "nth",
    "weekday",
    "interval_weeks",
    "dates",
    "start_on",
    "count",
    "until",
)
PLAN_FIELDS = (*PATTERN_FIELDS, "start_time", "duration", "title", "expected", "rsvp_days")


def _iso_list(raw: str) -> list[date]:
    found = []
    for part in raw.split(","):
        try:
            found.append(date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return found


def _fixed_map(raw: str) -> dict[date, int]:
    found: dict[date, int] = {}
    for part in raw.split(","):
        day, _sep, host = part.partition(":")
        try:
            when = date.fromisoformat(day.strip())
        except ValueError:
            continue
        host_id = parse_id(host)
        if host_id is not None:
            found[when] = host_id
    return found


# The adjustments of a preview: the fixed list of dates, unticked dates, hosts chosen by
# the facilitator, and school holidays unticked (by their first day).
State = tuple[list[date], set[date], dict[date, int], set[date]]


def _state_params(
    on: list[date], dropped: set[date], fixed: dict[date, int], allowed: set[date]
) -> dict[str, str]:
    """The adjustments of a preview, compact enough for a URL."""
    params = {}
    if on:
        params["on"] = ",".join(d.isoformat() for d in sorted(set(on)))
    if dropped:
        params["drop"] = ",".join(d.isoformat() for d in sorted(dropped))
    if fixed:
        params["fixed"] = ",".join(f"{d.isoformat()}:{h}" for d, h in sorted(fixed.items()))
    if allowed:
        params["allow"] = ",".join(d.isoformat() for d in sorted(allowed))
    return params


def _shown_state(source: Any) -> State:
    """The adjustments as the preview showed them (hidden fields or the URL)."""
    return (
        _iso_list(source.get("on", "")),
        set(_iso_list(source.get("drop", ""))),
        _fixed_map(source.get("fixed", "")),
        set(_iso_list(source.get("allow", ""))),
    )


def poll_params(source: Any) -> dict[str, str]:
    """The season poll a plan is made from and the dates dropped on its grid, carried
    through the preview like its other adjustments (empty: no poll)."""
    poll_id = parse_id(source.get("poll", ""))
    if poll_id is None:
        return {}
    params = {"poll": str(poll_id)}
    dropped = sorted(set(_iso_list(source.get("polldrop", ""))))
    if dropped:
        params["polldrop"] = ",".join(d.isoformat() for d in dropped)
    return params


def _school_choice(shown: set[date]) -> set[date]:
    """The school holidays unticked after the facilitator's changes in the preview: each
    shown one ticked applies, unticked allows sessions; the others stay as they were."""
    allowed = set(shown)
    for raw in request.form.getlist("school_shown"):
        try:
            start = date.fromisoformat(raw)
        except ValueError:
            continue
        if request.form.get(f"school-{raw}"):
            allowed.discard(start)
        else:
            allowed.add(start)
    return allowed


def _row_state() -> tuple[list[date], set[date], dict[date, int], list[str]]:
    """The adjustments after the facilitator's changes in the preview's rows (unticked or
    re-ticked dates, other hosts, an added date). Without changes: the state as shown."""
    shown_on, shown_dropped, shown_fixed, _allowed = _shown_state(request.form)
    rows: list[date] = []
    dropped: set[date] = set()
    fixed: dict[date, int] = {}
    problems: list[str] = []
    for raw in request.form.getlist("shown"):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            continue
        rows.append(day)
        if request.form.get(f"toggle-{raw}") and not request.form.get(f"keep-{raw}"):
            dropped.add(day)
        host = parse_id(request.form.get(f"host-{raw}", ""))
        if host is not None and (
            request.form.get(f"fixed-{raw}") or str(host) != request.form.get(f"auto-{raw}")
        ):
            fixed[day] = host
    added: date | None = None
    raw = request.form.get("add_date", "").strip()
    if raw:
        try:
            added = parse_dates(raw)[0]
        except (ValueError, IndexError):
            problems.append(raw)
    if added is None and dropped == shown_dropped and fixed == shown_fixed:
        return shown_on, shown_dropped, shown_fixed, problems
    # A change: from now on the dates are a fixed list, so that unticking a date gives one
    # session fewer and adding one gives one more.
    on = list(shown_on or rows)
    if added is not None:
        on.append(added)
        dropped.discard(added)
    return on, dropped, fixed, problems


def _plan_input(
    form: PlanForm,
    on: list[date],
    dropped: set[date],
    fixed: dict[date, int],
    allowed: set[date],
) -> planning.PlanInput:
    poll = poll_params(request.form if request.method == "POST" else request.args)
    return planning.PlanInput(
        poll_id=int(poll["poll"]) if poll else None,
        poll_dropped=frozenset(_iso_list(poll.get("polldrop", ""))),
        kind=form.pattern.data,
        start_on=form.start_on.data,
        weekday=int(form.weekday.data or 1),
        interval_weeks=form.interval_weeks.data or 4,
        nth=int(form.nth.data or 2),
        dates=tuple(parse_dates(form.dates.data or "")) if form.pattern.data == DATES else (),
        count=form.count.data,
        until=form.until.data,
        start_time=form.start_time.data or time(19, 0),
        duration=form.duration.data or 150,
        title=form.title.data or _("Network session"),
        rsvp_days=form.rsvp_days.data,
        expected=form.expected.data,
        on=tuple(sorted(set(on))),
        dropped=frozenset(dropped),
        fixed=fixed,
        allowed=frozenset(allowed),
    )


def _pattern_key(values: Any) -> str:
    """The fields that decide the dates: when they change, the preview starts afresh."""
    return "|".join(values.get(name, "") for name in PATTERN_FIELDS)


def _preview_url(network: Network, values: Any, state: dict[str, str]) -> str:
    params = {name: values.get(name, "") for name in PLAN_FIELDS}
    return url_for(
        "sessions.plan_season",
        slug=network.slug,
        preview="1",
        **{k: v for k, v in params.items() if v != ""},
        **state,
        _anchor="preview",
    )


def _planning_error(form: PlanForm, exc: rotation.PlanningError) -> None:
    name, message = PLANNING_ERRORS[exc.code]
    getattr(form, name).errors = [*getattr(form, name).errors, message()]


@bp.route("/networks/<slug>/plan", methods=["GET", "POST"])
@requires(NETWORK)
def plan_season(network: Network) -> str | Response:
    """Plan a season. Post/redirect/get: every post redirects to the preview (a GET that
    writes nothing, so Back and Reload are harmless) or, after saving, to the timeline."""
    if network.is_archived:
        flash(_("This network is archived. Reactivate it to plan sessions."), "error")
        return redirect(url_for("networks.network_view", slug=network.slug))
    today = _today(network)
    locale = current_locale()
    result = None
    if request.method == "POST":
        form = PlanForm()
        if form.validate_on_submit():
            shown = _shown_state(request.form)
            on, dropped, fixed, problems = _row_state()
            allowed = _school_choice(shown[3])
            if request.form.get("shown_key") != _pattern_key(request.form):
                # Another pattern: the preview's dates and hosts no longer apply (unticked
                # school holidays still do).
                on, dropped, fixed = [], set(), {}
            for raw in problems:
                flash(_("“%(value)s” is not a date; write e.g. 12/01/2027.", value=raw), "error")
            state = _state_params(on, dropped, fixed, allowed)
            if request.form.get("action") == "save" and not problems:
                if state != _state_params(*shown):
                    flash(_("Your changes are in the plan below. Check it and save."), "info")
                else:
                    return _save(network, form, shown, today, locale)
            state |= poll_params(request.form)
            return redirect(_preview_url(network, request.form, state), code=303)
    else:
        form = PlanForm(formdata=request.args if request.args else None, meta={"csrf": False})
        if not request.args:
            _start_from_defaults(form, planning.defaults(network, today))
        elif request.args.get("preview") and form.validate():
            try:
                result = planning.preview(
                    network, _plan_input(form, *_shown_state(request.args)), today, locale
                )
            except rotation.PlanningError as exc:
                _planning_error(form, exc)
            else:
                if result.plan.truncated:
                    flash(
                        _(
                            "Only the first %(num)d sessions are planned; plan the rest later.",
                            num=rotation.MAX_SESSIONS,
                        ),
                        "error",
                    )
                if result.first_in_past:
                    form.start_time.errors = [
                        *form.start_time.errors,
                        _(
                            "The first session, on %(date)s, would start in the past.",
                            date=format_day(result.first_in_past, locale),
                        ),
                    ]
    expected, estimated = planning.expected_attendance(network)
    state = _state_params(*_shown_state(request.args)) | poll_params(request.args) if result else {}
    return render_template(
        "scheduling/plan.html",
        network=network,
        form=form,
        preview=result,
        state=state,
        shown_key=_pattern_key(request.args),
        expected_estimated=estimated and form.expected.data == expected,
        rule_labels=rule_labels(),
        skip_label=skip_label,
        reason_label=reason_label,
        passed_label=passed_label,
        blackouts=services.network_blackouts(network),
        school_holiday_name=lambda h: school_holiday_labels(h.school_year)[h.holiday.key],
    )


def _start_from_defaults(form: PlanForm, found: planning.PlanDefaults) -> None:
    form.pattern.data = found.kind
    form.weekday.data = str(found.weekday)
    form.interval_weeks.data = found.interval_weeks
    form.nth.data = str(found.nth)
    form.start_time.data = found.start_time
    form.duration.data = found.duration
    if found.title:
        form.title.data = found.title
    form.rsvp_days.data = found.rsvp_days
    form.start_on.data = found.start_on
    form.expected.data = found.expected


def _save(
    network: Network,
    form: PlanForm,
    shown: State,
    today: date,
    locale: str,
) -> Response:
    back = _preview_url(network, request.form, _state_params(*shown) | poll_params(request.form))
    try:
        saved = planning.save(
            network,
            _plan_input(form, *shown),
            request.form.get("signature", ""),
            current_user if current_user.is_authenticated else None,
            today,
            locale,
        )
    except rotation.PlanningError:
        return redirect(back, code=303)
    except planning.PlanProblem as exc:
        if exc.code == "changed":
            flash(
                _(
                    "The plan changed since your preview (e.g. another session was "
                    "added). Check it and save again."
                ),
                "error",
            )
        elif exc.code == "empty":
            flash(_("There is nothing to save: the plan has no sessions."), "error")
        return redirect(back, code=303)
    flash(
        ngettext("%(num)d session planned.", "%(num)d sessions planned.", len(saved)),
        "success",
    )
    # An explicit fragment: browsers would otherwise keep the preview's "#preview".
    return redirect(url_for("sessions.timeline", slug=network.slug, _anchor="upcoming"), code=303)


def passed_label(code: str) -> str:
    """Why a current member gets no turn in the plan."""
    return {
        rotation.PASSED_NOT_WILLING: _("does not host"),
        rotation.PASSED_NO_CONTACT: _("no active contact person to confirm"),
        rotation.PASSED_TOO_SMALL: _("room too small for the expected attendance"),
        rotation.PASSED_CLOSED: _("closed on every date of this plan"),
        rotation.PASSED_HAD_TURN: _("already hosted in this round"),
        rotation.PASSED_LEAVES: _("its membership ends before its turn"),
        rotation.PASSED_LATER: _("its turn comes after this plan"),
    }[code]


@bp.route("/networks/<slug>/sessions")
@requires(NETWORK)
@scoped_view(lambda network: [changes.network_scope(network.id)])
def timeline(network: Network) -> str:
    """Past and upcoming sessions with their hosts, the hosting tally and blackout periods."""
    return _render_timeline(network, PeriodForm(prefix="blackout"))


PAST_SHOWN = 10  # past sessions on the timeline before "show the older ones"
TALLY_SHOWN = 12  # members in the hosting tally, next in line first, before "show all"


def _render_timeline(network: Network, blackout_form: PeriodForm) -> str:
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
    return render_template(
        "scheduling/timeline.html",
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
            network, _today(network), planning.expected_attendance(network)[0]
        ),
        blackouts=services.network_blackouts(network),
        blackout_form=blackout_form,
        school_years=offered_school_years(_today(network)),
        passed_label=passed_label,
        tally_shown=None if request.args.get("tally") == "all" else TALLY_SHOWN,
        past_all=request.args.get("past") == "all",
    )


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


def school_holiday_labels(school_year: int) -> dict[str, str]:
    """The names of the Flemish school holidays, with the school year."""
    years = f"{school_year}–{school_year + 1}"
    return {
        schoolholidays.AUTUMN: _("Autumn holidays %(years)s", years=years),
        schoolholidays.CHRISTMAS: _("Christmas holidays %(years)s", years=years),
        schoolholidays.SPRING: _("Carnival holidays %(years)s", years=years),
        schoolholidays.EASTER: _("Easter holidays %(years)s", years=years),
        schoolholidays.SUMMER: _("Summer holidays %(years)s", years=years),
    }


def offered_school_years(today: date) -> list[int]:
    """The school year running today and the next one."""
    current = schoolholidays.school_year_of(today)
    return [current, current + 1]


@bp.route("/networks/<slug>/blackouts/school-holidays", methods=["POST"])
@requires(NETWORK)
def school_holidays_add(network: Network) -> Response:
    """The Flemish school holidays of a school year as periods without sessions, in one click."""
    school_year = parse_id(request.form.get("school_year", ""))
    back = redirect(url_for("sessions.timeline", slug=network.slug) + "#blackouts")
    if school_year not in offered_school_years(_today(network)):
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
    return render_template("scheduling/session_time.html", network=network, form=form, session=None)


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
        "scheduling/session_edit.html", network=session.network, form=form, session=session
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
        "scheduling/session_time.html", network=network, form=form, session=session
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
        "scheduling/session_swap.html", network=network, form=form, session=session
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


# --- conflicts -----------------------------------------------------------------------------------


def conflict_labels() -> dict[str, str]:
    """What is wrong with a planned session's host."""
    return {
        rotation.CONFLICT_UNAVAILABLE: _("the host is closed that day"),
        rotation.CONFLICT_BLACKOUT: _("the date falls in a period without sessions"),
        rotation.CONFLICT_NOT_WILLING: _("the host no longer hosts"),
        rotation.CONFLICT_NOT_MEMBER: _("the host is no longer a member"),
        rotation.CONFLICT_NO_CONTACT: _("the host has no active contact person"),
        rotation.CONFLICT_TOO_SMALL: _("the host's room is too small for the expected attendance"),
        rotation.CONFLICT_DECLINED: _("the host said it cannot host this session"),
    }


def flash_conflicts(flags: list[planning.Flag]) -> None:
    """After a change: name the planned sessions that now have a problem, with links."""
    if not flags:
        return
    labels = conflict_labels()
    locale = current_locale()
    items = Markup("; ").join(
        Markup('<a href="{url}">{day} · {host}</a> ({what})').format(
            url=url_for("pages.session_view", session_id=f.session.id),
            day=format_day(local_date(f.session.starts_at, f.session.network.timezone), locale),
            host=f.session.host.name,
            what=", ".join(labels[c] for c in f.codes),
        )
        for f in flags
    )
    heading = ngettext(
        "This change affects %(num)d planned session:",
        "This change affects %(num)d planned sessions:",
        len(flags),
    )
    flash(Markup("{heading} {items}.").format(heading=heading, items=items), "error")


@signals.facility_changed.connect
def _on_facility_changed(facility_id: int, **_: Any) -> None:
    if has_request_context():
        flash_conflicts(planning.conflicts_for_facility(facility_id))


@signals.facilities_changed.connect
def _on_facilities_changed(facility_ids: tuple[int, ...], **_: Any) -> None:
    if has_request_context():
        flash_conflicts(planning.conflicts_for_facilities(facility_ids))


@bp.app_context_processor
def _conflict_helpers() -> dict[str, Any]:
    def session_flag(session: Session) -> dict[str, Any] | None:
        """The problem of a session's host and the planner's proposal, for the session page."""
        if session.is_cancelled or session.ends_at <= utcnow():
            return None
        found = [f for f in planning.conflicts(session.network) if f.session.id == session.id]
        if not found:
            return None
        labels = conflict_labels()
        return {
            "labels": [labels[c] for c in found[0].codes],
            "proposal": planning.propose_host(session, _today(session.network)),
            "blackout": rotation.CONFLICT_BLACKOUT in found[0].codes,
        }

    return {
        "session_flag": session_flag,
        "conflict_labels": conflict_labels,
        "reason_label": reason_label,
        "rule_labels": rule_labels(),
    }


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
