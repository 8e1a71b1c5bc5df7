"""Attendance pages: the sheet, check-in (facilitator, host, self), reports, CSV, certificate."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from learnnet.access import CONTACT, NETWORK, PERSONAL_LINK, PUBLIC, SESSION, requires, use_locale
from learnnet.attendance import checkin_code, rules, services
from learnnet.attendance.blueprint import bp
from learnnet.attendance.forms import WalkInForm
from learnnet.attendance.models import STATUSES, Attendance
from learnnet.extensions import db, limiter
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Network
from learnnet.networks.rules import parse_id
from learnnet.pdf import PdfUnavailable, unavailable_page
from learnnet.qr import qr_svg
from learnnet.rsvp.contacts import DEVICE_COOKIE, remembered_contact
from learnnet.sessions.models import Session
from learnnet.sessions.services import current_member_names
from learnnet.templating import current_locale
from learnnet.timefmt import local_today

# The check-in pages scan personal codes with the camera; every other page keeps it off.
CAMERA_ALLOWED = "camera=(self), microphone=(), geolocation=()"
PERSON_KEY = re.compile(r"[ca][0-9]{1,10}")  # a check-in row: c<contact id> or a<attendance id>


def status_labels() -> dict[str, str]:
    """Present / absent / excused, in words."""
    return {"present": _("Present"), "absent": _("Absent"), "excused": _("Excused")}


def error_message(code: str) -> str:
    """Why attendance could not be recorded."""
    return {
        rules.CANCELLED: _("This session was cancelled: there is no attendance to record."),
        rules.NOT_STARTED: _(
            "This session has not started yet. Check-in opens an hour before the start."
        ),
        rules.STALE: _(
            "This check-in code is no longer valid: check-in for this session has closed."
        ),
        "not_member": _("This person does not belong to a member facility of this network."),
        "status": _("Choose present, absent or excused."),
    }.get(code, _("The attendance could not be saved."))


# --- the sheet and check-in -------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/sheet")
@requires(SESSION)
def sheet(session: Session) -> str:
    """A printable A4 attendance sheet with a signature column and rows for walk-ins."""
    return render_template(
        "attendance/sheet.html",
        session=session,
        network=session.network,
        rows=services.rows(session),
    )


def _walk_in_form(session: Session) -> WalkInForm:
    form = WalkInForm(prefix="walkin")
    form.facility_id.choices = [
        (0, _("Guest (no member facility)")),
        *current_member_names(session.network),
    ]
    return form


def _checkin_page(
    session: Session,
    *,
    action: Any,
    walk_in_action: str,
    form: WalkInForm | None = None,
    host: bool = False,
    code_typed: str = "",
    code_error: str = "",
) -> Response:
    setting = db.session.get(services.CheckinSetting, session.id)
    code_contact = None
    if not code_typed and not code_error and request.method == "GET" and request.args.get("code"):
        # A phone's own camera app opened the link in a member's QR: ready to confirm.
        code_typed = request.args["code"][: checkin_code.MAX_TYPED]
        code_contact = services.contact_for_code(session, code_typed)
        if code_contact is None:
            code_error = code_unknown_message()
    page = render_template(
        "attendance/checkin.html",
        session=session,
        network=session.network,
        rows=services.rows(session),
        action=action,
        walk_in_action=walk_in_action,
        form=form or _walk_in_form(session),
        labels=status_labels(),
        closed=rules.closed_reason(
            session.is_cancelled, session.starts_at, session.ends_at, utcnow()
        ),
        closed_message=error_message,
        host=host,
        host_may=bool(setting and setting.host_may_check_in),
        history=services.history(session)[:30] if not host else [],
        q=(request.args.get("q") or "").strip()[:120],
        now=utcnow(),
        code_typed=code_typed,
        code_error=code_error,
        code_contact=code_contact,
    )
    response = make_response(page)
    response.headers["Permissions-Policy"] = CAMERA_ALLOWED  # the personal-code scanner
    return response


@bp.route("/sessions/<int:session_id>/checkin")
@requires(SESSION)
def checkin(session: Session) -> Response:
    """Check-in on a phone or tablet: one tap per person; corrections any time after."""
    return _checkin_page(
        session,
        action=url_for("attendance.checkin_record", session_id=session.id),
        walk_in_action=url_for("attendance.checkin_walk_in", session_id=session.id),
    )


def _record_from_form(session: Session, **actor: Any) -> None:
    key = request.form.get("person", "")
    status = request.form.get("status", "")
    try:
        ident = parse_id(key[1:])
        if key.startswith("c") and ident is not None:
            contact = db.session.get(Contact, ident)
            if contact is None:
                raise services.AttendanceError("not_member")
            services.record(session, contact, status, **actor)
        elif key.startswith("a") and ident is not None:
            row = db.session.get(Attendance, ident)
            if row is None or row.session_id != session.id or actor.get("via") != "facilitator":
                raise services.AttendanceError("not_member")
            services.record_guest(row, status, by_user=actor["by_user"])
        else:
            raise services.AttendanceError("not_member")
    except services.AttendanceError as exc:
        db.session.rollback()
        flash(error_message(exc.code), "error")


def _anchor() -> str:
    """Back to the row just tapped: ``#p-c12``; nothing when ``person`` is no row's key
    (a header cannot carry what a browser sent, e.g. "c12\r\n")."""
    key = request.form.get("person", "")
    return f"#p-{key}" if PERSON_KEY.fullmatch(key) else ""


def code_unknown_message() -> str:
    """Why a personal check-in code checked nobody in."""
    return _(
        "Nobody on this list has this check-in code. Check the characters, "
        "or find the name in the list."
    )


def _record_code(session: Session, back: str, render: Any, **actor: Any) -> Any:
    """A personal check-in code, scanned or typed: that person is present. A wrong code
    shows the page again with the message next to the field and what was typed."""
    typed = (request.form.get("code") or "").strip()[: checkin_code.MAX_TYPED]
    contact = services.contact_for_code(session, typed)
    if contact is None:
        return render(code_typed=typed, code_error=code_unknown_message()), 400
    try:
        services.record(session, contact, "present", **actor)
    except services.AttendanceError as exc:
        db.session.rollback()
        return render(code_typed=typed, code_error=error_message(exc.code)), 400
    flash(_("%(name)s is checked in: present.", name=contact.name), "success")
    return redirect(back + "#code-checkin", code=303)


@bp.route("/sessions/<int:session_id>/checkin", methods=["POST"])
@requires(SESSION)
def checkin_record(session: Session) -> Any:
    """Record one person's attendance (one request, with or without JavaScript): a tap
    on their row, or their personal check-in code."""
    here = url_for("attendance.checkin", session_id=session.id)
    if "code" in request.form:
        walk_in = url_for("attendance.checkin_walk_in", session_id=session.id)
        return _record_code(
            session,
            here,
            lambda **kw: _checkin_page(
                session,
                action=url_for("attendance.checkin_record", session_id=session.id),
                walk_in_action=walk_in,
                **kw,
            ),
            via="facilitator",
            by_user=current_user,
        )
    _record_from_form(session, via="facilitator", by_user=current_user)
    return redirect(here + _anchor(), code=303)


@bp.route("/sessions/<int:session_id>/checkin/rest-absent", methods=["POST"])
@requires(SESSION)
def checkin_rest_absent(session: Session) -> Response:
    """At the end of check-in: everyone on the list not recorded yet is absent."""
    try:
        count = services.mark_rest_absent(session, current_user)
    except services.AttendanceError as exc:
        db.session.rollback()
        flash(error_message(exc.code), "error")
    else:
        flash(
            ngettext("%(num)d person marked absent.", "%(num)d people marked absent.", count),
            "success",
        )
    return redirect(url_for("attendance.checkin", session_id=session.id), code=303)


@bp.route("/sessions/<int:session_id>/walk-in", methods=["POST"])
@requires(SESSION)
def checkin_walk_in(session: Session) -> Any:
    """Add someone who came without being on the list, marked present."""
    form = _walk_in_form(session)
    if form.validate_on_submit():
        try:
            services.add_walk_in(
                session,
                name=form.name.data.strip(),
                facility_id=form.facility_id.data or None,
                organisation=(form.organisation.data or "").strip(),
                email=form.email.data or None,
                by_user=current_user,
            )
        except services.AttendanceError as exc:
            db.session.rollback()
            flash(error_message(exc.code), "error")
        except Exception as exc:  # a duplicate email at that facility
            from learnnet.networks.services import DuplicateContact

            if not isinstance(exc, DuplicateContact):
                raise
            db.session.rollback()
            form.email.errors = [
                _("A contact with this email address already exists at that facility.")
            ]
            return _checkin_page(
                session,
                action=url_for("attendance.checkin_record", session_id=session.id),
                walk_in_action=url_for("attendance.checkin_walk_in", session_id=session.id),
                form=form,
            ), 400
        else:
            flash(
                _("%(name)s was added and marked present.", name=form.name.data.strip()), "success"
            )
            return redirect(url_for("attendance.checkin", session_id=session.id), code=303)
    return _checkin_page(
        session,
        action=url_for("attendance.checkin_record", session_id=session.id),
        walk_in_action=url_for("attendance.checkin_walk_in", session_id=session.id),
        form=form,
    ), 400


@bp.route("/sessions/<int:session_id>/checkin/settings", methods=["POST"])
@requires(SESSION)
def checkin_settings(session: Session) -> Response:
    """Let the host check people in through their personal link, or not."""
    services.set_host_checkin(session, request.form.get("host_may_check_in") == "1")
    flash(_("Check-in settings saved."), "success")
    return redirect(url_for("attendance.checkin", session_id=session.id), code=303)


@bp.route("/sessions/<int:session_id>/checkin/qr")
@requires(SESSION)
def checkin_qr(session: Session) -> str:
    """The session's QR code to show at the venue: members scan it to check themselves in."""
    url = url_for(
        "attendance.self_checkin", code=services.self_checkin_code(session), _external=True
    )
    return render_template(
        "attendance/qr.html", session=session, network=session.network, url=url, qr=qr_svg(url)
    )


# --- the host through the personal link ------------------------------------------------------


def _host_session(contact: Contact, session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None or not services.host_may_check_in(session, contact):
        abort(404)
    return session


@bp.route("/m/<token>/sessions/<int:session_id>/checkin", methods=["GET", "POST"])
@requires(PERSONAL_LINK)
def host_checkin(contact: Contact, session_id: int) -> Any:
    """A host contact checks people in, when the facilitator allows it."""
    session = _host_session(contact, session_id)
    token = request.view_args["token"]  # type: ignore[index]
    here = url_for("attendance.host_checkin", token=token, session_id=session.id)
    if request.method == "POST" and "code" in request.form:
        return _record_code(
            session,
            here,
            lambda **kw: _checkin_page(session, action=here, walk_in_action="", host=True, **kw),
            via="host",
            by_contact=contact,
        )
    if request.method == "POST":
        _record_from_form(session, via="host", by_contact=contact)
        return redirect(here + _anchor(), code=303)
    return _checkin_page(session, action=here, walk_in_action="", host=True)


# --- self check-in with the QR code ------------------------------------------------------------


@bp.route("/checkin/<code>", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit("60 per 10 minutes")
def self_checkin(code: str) -> Any:
    """A member scans the session's QR code with the phone that holds their personal link."""
    g.token_page = True  # the code admits anyone to check in: no Referer, no caching
    session = services.session_for_code(code)
    if session is None:
        abort(404)
    contact = remembered_contact(request.cookies.get(DEVICE_COOKIE, ""))
    problem = None
    done = False
    if contact is not None and request.method == "POST":
        try:
            services.record(session, contact, "present", via="self", by_contact=contact)
            done = True
        except services.AttendanceError as exc:
            db.session.rollback()
            problem = error_message(exc.code)
    if contact is not None:
        use_locale(contact.preferred_language)
    reason = rules.closed_reason(
        session.is_cancelled, session.starts_at, session.ends_at, utcnow(), by_self=True
    )
    existing = None
    if contact is not None:
        existing = db.session.scalar(
            db.select(Attendance).where(
                Attendance.session_id == session.id, Attendance.contact_id == contact.id
            )
        )
    return render_template(
        "attendance/self.html",
        session=session,
        network=session.network,
        contact=contact,
        done=done or (existing is not None and existing.status == "present"),
        problem=problem or (error_message(reason) if reason else None),
    )


# --- reports ----------------------------------------------------------------------------------


def _csv(data: bytes, name: str) -> Response:
    response = Response(data, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _variant() -> str:
    return "comma" if request.args.get("variant") == "comma" else "excel"


@bp.route("/sessions/<int:session_id>/attendance.csv")
@requires(SESSION)
def session_csv(session: Session) -> Response:
    """Who was there, per person, with their answer."""
    labels = status_labels()
    body = [
        [r.name, r.facility, labels.get(r.status or "", ""), _("yes") if r.said_yes else ""]
        for r in services.rows(session)
    ]
    header = [_("Name"), _("Facility"), _("Attendance"), _("Registered")]
    day = session.starts_at.date().isoformat()
    return _csv(services.csv_bytes(header, body, _variant()), f"aanwezigheid-{day}.csv")


@bp.route("/networks/<slug>/attendance")
@requires(NETWORK)
def network_attendance(network: Network) -> str:
    """Attendance over the season: per session, per facility, hosts, hours; a chart."""
    from learnnet.attendance import svg

    report = services.network_report(network)
    locale = current_locale()
    from learnnet.timefmt import format_day, local_date

    bars = [
        (format_day(local_date(s.starts_at, network.timezone), locale), float(n), s.host.name)
        for s, n, _h in report.sessions
    ]
    chart = svg.bar_chart_svg(bars, title=_("Present per session"), unit="") if bars else ""
    return render_template("attendance/network.html", network=network, report=report, chart=chart)


@bp.route("/networks/<slug>/attendance.csv")
@requires(NETWORK)
def network_csv(network: Network) -> Response:
    """Per facility: sessions attended, of how many, people present."""
    report = services.network_report(network)
    header = [
        _("Facility"),
        _("Sessions attended"),
        _("Sessions held since joining"),
        _("People present"),
    ]
    body = [list(row) for row in report.facilities]
    return _csv(services.csv_bytes(header, body, _variant()), f"aanwezigheid-{network.slug}.csv")


def _period_arg() -> tuple[str, date, date]:
    raw = request.args.get("period", "")
    bounds = rules.period(raw)
    if bounds is None:
        start, end = rules.werkjaar_of(local_today())
        raw = f"{start.year}-{end.year}"
        bounds = (start, end)
    return raw, bounds[0], bounds[1]


@bp.route("/contacts/<int:contact_id>/attendance")
@requires(CONTACT)
def contact_attendance(contact: Contact) -> str:
    """The sessions a person attended, and their hours; the certificate."""
    label, start, end = _period_arg()
    lines = services.attended(contact, start, end)
    return render_template(
        "attendance/contact.html",
        contact=contact,
        lines=lines,
        period=label,
        total=sum(line.hours for line in lines),
        periods=_period_choices(),
    )


def _period_choices() -> list[str]:
    start, _end = rules.werkjaar_of(local_today())
    years = [f"{y}-{y + 1}" for y in range(start.year, start.year - 4, -1)]
    return years + [str(y) for y in range(local_today().year, local_today().year - 4, -1)]


@bp.route("/contacts/<int:contact_id>/attendance.csv")
@requires(CONTACT)
def contact_csv(contact: Contact) -> Response:
    """A person's attended sessions with hours."""
    label, start, end = _period_arg()
    header = [_("Date"), _("Network"), _("Host"), _("Session"), _("Hours")]
    body = [
        [
            line.session.starts_at.astimezone().date().isoformat(),
            line.session.network.name,
            line.session.host.name,
            line.session.title,
            line.hours,
        ]
        for line in services.attended(contact, start, end)
    ]
    return _csv(services.csv_bytes(header, body, _variant()), f"attest-{contact.id}-{label}.csv")


@bp.route("/contacts/<int:contact_id>/certificate")
@requires(CONTACT)
def certificate(contact: Contact) -> Any:
    """The attendance certificate for a period, as a printable page or a PDF."""
    label, start, end = _period_arg()
    document = services.certificate_for(contact, label, start, end, current_user)
    return _certificate_response(document, label)


def _certificate_response(document: Any, label: str) -> Any:
    """The certificate as a printable page, or a PDF with ``?format=pdf``."""
    from learnnet.attendance import certificate as cert

    if "-" in label:  # a werkjaar: say so, with a proper dash
        shown = _("werkjaar %(years)s", years=label.replace("-", "–"))
        document = dataclasses.replace(document, period_label=shown)
    locale = current_locale()
    if request.args.get("format") == "pdf":
        try:
            data = cert.render_pdf(document, locale)
        except PdfUnavailable:
            args = {k: v for k, v in request.args.items() if k != "format"}
            return unavailable_page(url_for(request.endpoint, **request.view_args, **args))
        response = Response(data, content_type="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="attest-{label}.pdf"'
        return response
    return cert.render_html(document, locale)


# --- the member's own history and certificate, through the personal link ----------------------


@bp.route("/m/<token>/history")
@requires(PERSONAL_LINK)
def member_history(contact: Contact) -> str:
    """The member's past sessions in every network (present, absent, excused), hours per
    werkjaar with the certificate of each, and their facility's hosting turns."""
    return render_template(
        "attendance/member_history.html",
        contact=contact,
        token=request.view_args["token"],  # type: ignore[index]
        history=services.member_history(contact),
        labels=status_labels(),
    )


@bp.route("/m/<token>/certificate")
@requires(PERSONAL_LINK)
def member_certificate(contact: Contact) -> Any:
    """The member's own certificate for a werkjaar: the very document the facilitator
    makes, signed by the facilitators of the networks it lists."""
    label, start, end = _period_arg()
    signers = services.certificate_signers(contact, start, end)
    document = services.certificate_for(contact, label, start, end, None, signed_by=signers)
    return _certificate_response(document, label)


@bp.route("/sessions/<int:session_id>/attendance")
@requires(SESSION)
def session_attendance(session: Session) -> str:
    """Per facility: present, absent, excused, no-shows and unannounced visitors."""
    return render_template(
        "attendance/session_report.html",
        session=session,
        network=session.network,
        lines=services.session_report(session),
        labels=status_labels(),
    )


def statuses() -> tuple[str, ...]:
    """The three statuses, in order."""
    return STATUSES


# --- what other rooms' pages show -------------------------------------------------------------


def host_checkin_url(session: Session, contact: Contact, token: str) -> str | None:
    """Template helper (member page): the host's check-in page, when allowed."""
    if contact.facility_id != session.host_facility_id:
        return None
    from flask import g

    if "host_checkin_sessions" not in g:  # one statement per page, however many sessions
        g.host_checkin_sessions = services.sessions_with_host_checkin()
    if session.id not in g.host_checkin_sessions:
        return None
    return url_for("attendance.host_checkin", token=token, session_id=session.id)


def personal_checkin(session: Session, contact: Contact) -> dict[str, str]:
    """Template helper (member page, during the check-in window): the contact's own
    check-in code for this session as a QR of the check-in link, and the typed form."""
    code = services.personal_code(session, contact)
    url = url_for("attendance.checkin", session_id=session.id, code=code.long, _external=True)
    return {"svg": qr_svg(url), "short": code.short, "url": url}


def self_checkin_state(session: Session, contact: Contact) -> str | None:
    """Template helper (member page): "open" during the session's self check-in window
    (an hour before the start to an hour after the end), "done" once the member is
    checked in, None outside the window (no statement then)."""
    if rules.closed_reason(
        session.is_cancelled, session.starts_at, session.ends_at, utcnow(), by_self=True
    ):
        return None
    status = db.session.scalar(
        db.select(Attendance.status).where(
            Attendance.session_id == session.id, Attendance.contact_id == contact.id
        )
    )
    return "done" if status == "present" else "open"


@bp.route("/m/<token>/sessions/<int:session_id>/here", methods=["POST"])
@requires(PERSONAL_LINK)
def member_here(contact: Contact, session_id: int) -> Response:
    """ "Ik ben er" on the member's own page: self check-in during the window, from any
    browser that opens the personal link (no cookie, no QR code needed)."""
    token = request.view_args["token"]  # type: ignore[index]
    session = db.session.get(Session, session_id)
    if session is None:
        abort(404)
    try:
        services.record(session, contact, "present", via="self", by_contact=contact)
    except services.AttendanceError as exc:
        db.session.rollback()
        flash(error_message(exc.code), "error")
    else:
        flash(_("Welcome, %(name)s! You are checked in.", name=contact.name), "success")
    return redirect(url_for("rsvp.member", token=token) + f"#session-{session.id}", code=303)


def bridges_labels() -> dict[str, str]:
    """The words of the bridges picture (``{placeholders}`` filled in by the svg module)."""
    return {
        "summary": _(
            "{visited} of {total} members have visited at least one other; {pairs} connections."
        ),
        "summary_one": _(
            "{visited} of {total} members have visited at least one other; 1 connection."
        ),
        "reading": _(
            "Each line runs from the visiting member to the host; a thicker line means more visits."
        ),
        "node_title": _(
            "{name}: visited {visited} of {of} other members; "
            "{visitors} other members came to visit."
        ),
        "edge_title": _("{visitor} visited {host}: {visits} times"),
        "edge_title_one": _("{visitor} visited {host}: once"),
        "legend_direction": _("visitor → host; thicker = more visits"),
        "legend_ring": _("ring: share of the other members visited"),
        "legend_isolated": _("open circle: no visits yet, either way"),
        "empty": _("No members yet."),
    }


def network_bridges(network: Network) -> Any:
    """Template helper (network page): the bridges picture and who has visited whom."""
    from learnnet.attendance import svg

    result = services.network_bridges(network)
    if not result.members:
        return None
    picture = svg.bridges_svg(
        result.members,
        result.bridges.edges,
        title=_("Who has visited whom"),
        labels=bridges_labels(),
    )
    return {"svg": picture, "bridges": result.bridges}


def init_app(app: Any) -> None:
    """Template helpers for the member page and the network page."""

    @app.context_processor
    def _attendance_helpers() -> dict[str, Any]:
        return {
            "host_checkin_url": host_checkin_url,
            "network_bridges": network_bridges,
            "self_checkin_state": self_checkin_state,
            "personal_checkin": personal_checkin,
        }
