"""Planning a season (the plan form and its preview) and the words for the planner's reasons,
skips and conflicts, which the session pages reuse."""

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

from learnnet import signals
from learnnet.access import NETWORK, requires
from learnnet.models import utcnow
from learnnet.networks.models import Network
from learnnet.networks.rules import parse_id
from learnnet.planning import planning, rotation, schoolholidays
from learnnet.planning import services as planning_services
from learnnet.planning.blueprint import bp
from learnnet.planning.forms import PlanForm, parse_dates
from learnnet.planning.recurrence import DATES
from learnnet.sessions.models import Session
from learnnet.templating import current_locale
from learnnet.timefmt import format_day, local_date, to_local


def network_today(network: Network) -> date:
    """Today in the network's time zone."""
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
        "planning.plan_season",
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
    today = network_today(network)
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
        "planning/plan.html",
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
        blackouts=planning_services.network_blackouts(network),
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
        codes = planning.conflict_codes_of(session)
        if not codes:
            return None
        labels = conflict_labels()
        return {
            "labels": [labels[c] for c in codes],
            "proposal": planning.propose_host(session, network_today(session.network)),
            "blackout": rotation.CONFLICT_BLACKOUT in codes,
        }

    return {
        "session_flag": session_flag,
        "conflict_labels": conflict_labels,
        "reason_label": reason_label,
        "rule_labels": rule_labels(),
    }
