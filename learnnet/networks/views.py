"""Pages for networks, members, facilities, contacts and the member-list CSV."""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadSignature, Signer
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from learnnet import changes, sections, signals
from learnnet.access import (
    ADMIN,
    CONTACT,
    FACILITY,
    MEMBER_FACILITY,
    NETWORK,
    NETWORK_CREATOR,
    USER,
    can_see_people,
    facilitates,
    needing_consent,
    requires,
)
from learnnet.audit import services as audit_services
from learnnet.audit.models import AuditEvent
from learnnet.auth.services import active_facilitator_choices
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks import checks, csvio, services
from learnnet.networks.blueprint import bp
from learnnet.networks.forms import (
    AddMemberForm,
    ConfirmImportForm,
    ContactForm,
    FacilityForm,
    FacilitySearchForm,
    ImportForm,
    LeaveForm,
    NetworkForm,
    NewMemberForm,
)
from learnnet.networks.models import Contact, Facility, Membership, MembershipRequest, Network
from learnnet.networks.rules import parse_id
from learnnet.pagecache import cached_view, scoped_view
from learnnet.templating import current_locale
from learnnet.timefmt import local_today

# The form's fields; "willing_to_host" is a yes/no choice, read apart.
FACILITY_FIELDS = tuple(f for f in checks.FACILITY_FIELDS if f != "willing_to_host")
CONTACT_FIELDS = checks.CONTACT_FIELDS


def _facility_data(form: FacilityForm) -> dict[str, Any]:
    data = {name: getattr(form, name).data for name in FACILITY_FIELDS}
    for name in FACILITY_FIELDS:
        if data[name] is None and name != "room_capacity":
            data[name] = ""
    data["willing_to_host"] = form.willing_to_host.data == "1"
    return data


def _duplicate_facility_message(existing: Facility) -> str:
    return _(
        "%(name)s in %(postcode)s already exists. "
        "Add the existing facility to the network instead.",
        name=existing.name,
        postcode=existing.postcode,
    )


# --- networks -----------------------------------------------------------------


def _facilitator_choices(form: NetworkForm) -> None:
    """Names only: facilitators need not see every account's email address."""
    users = active_facilitator_choices()
    names = [u.name for u in users]
    form.facilitators.choices = [
        (u.id, u.name if names.count(u.name) == 1 else f"{u.name} ({u.email.split('@')[0][:2]}…)")
        for u in users
    ]


def _network_data(form: NetworkForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "slug": form.slug.data or "",
        "description": form.description.data or "",
        "region": form.region.data or "",
        "timezone": form.timezone.data,
    }


@bp.route("/networks/new", methods=["GET", "POST"])
@requires(NETWORK_CREATOR)
def network_new() -> str | Response:
    """Start a new learning network; its creator facilitates it (admins and the accounts
    an admin granted the right, see :func:`learnnet.access.can_create_networks`)."""
    form = NetworkForm()
    _facilitator_choices(form)
    if request.method == "GET":
        form.facilitators.data = [current_user.id]
    if form.validate_on_submit():
        try:
            network = services.create_network(
                current_user, _network_data(form), form.facilitators.data or []
            )
        except services.DuplicateSlug:
            form.slug.errors = [_("Another network already uses this web address.")]
        else:
            flash(_("Network %(name)s created.", name=network.name), "success")
            return redirect(url_for("networks.network_view", slug=network.slug))
    return render_template("networks/network_form.html", form=form, network=None)


MEMBER_SORTS: dict[str, Any] = {
    "name": lambda m: m.facility.name_key,
    "city": lambda m: (m.facility.city.casefold(), m.facility.name_key),
    "hosting": lambda m: (not m.facility.willing_to_host, m.facility.name_key),
    "since": lambda m: (m.joined_on, m.facility.name_key),
}
DIRECTORY_SORTS: dict[str, Any] = {
    "name": lambda c: c.name.casefold(),
    "facility": lambda c: (c.facility.name_key, c.name.casefold()),
    "function": lambda c: ((c.function or "~").casefold(), c.name.casefold()),
}


def _sorted(items: list[Any], sort: str, keys: dict[str, Any]) -> tuple[list[Any], str]:
    """``items`` ordered by ``sort`` (a key of ``keys``, ``-key`` reversed), and the sort used."""
    key = sort.removeprefix("-")
    if key not in keys:
        return items, "name"
    return sorted(items, key=keys[key], reverse=sort.startswith("-")), sort


@bp.route("/networks/<slug>")
@requires(NETWORK)
@scoped_view(lambda network: [changes.network_scope(network.id)])
def network_view(network: Network) -> str:
    """The next sessions, the members and their contacts, the directory, former members.
    The member and directory tables sort by their columns (``?sort=``, ``?dsort=``)."""
    lists = sections.kept(
        "network-lists",
        [changes.network_scope(network.id)],
        lambda: network_lists(network),
        key=network.id,
        per_page=True,
    )
    return render_template(
        "networks/network.html",
        network=network,
        lists=lists,
        requests=services.pending_requests(network) if lists.has_requests else [],
        next_sessions=next_sessions(network),
        now=utcnow(),
        bridges_shown=request.args.get("bridges") == "all" or lists.members_count <= INLINE_ROWS,
        show_url=_show_url(network),
    )


@dataclass(frozen=True)
class NetworkLists:
    """The network page's long lists, rendered, with their counts: they read members,
    contacts and memberships, never an answer, so a page rendered anew after an answer
    takes them as they were (:mod:`learnnet.sections`)."""

    members_count: int
    directory_count: int
    former_count: int
    has_requests: bool
    members: Markup
    directory: Markup


def network_lists(network: Network) -> NetworkLists:
    """Render the member table, the directory and the former members (sorted as asked)."""
    page = services.network_page(network, with_requests=True)
    page.current, sort = _sorted(page.current, request.args.get("sort", ""), MEMBER_SORTS)
    page.directory, dsort = _sorted(page.directory, request.args.get("dsort", ""), DIRECTORY_SORTS)

    def sort_url(param: str, anchor: str) -> Any:
        args = _kept_args(param, "slug")
        return lambda key: url_for(
            "networks.network_view", slug=network.slug, **args, **{param: key}, _anchor=anchor
        )

    context = {
        "network": network,
        "page": page,
        "sort": sort,
        "dsort": dsort,
        "member_sort_url": sort_url("sort", "members"),
        "directory_sort_url": sort_url("dsort", "directory"),
        # A long directory (about 75 KB for 200 members) is one link away, so the
        # members' table is what the page brings first.
        "directory_shown": request.args.get("directory") == "all"
        or len(page.directory) <= INLINE_ROWS,
        "show_url": _show_url(network),
    }
    return NetworkLists(
        members_count=len(page.current),
        directory_count=len(page.directory),
        former_count=len(page.former),
        has_requests=bool(page.requests),
        members=sections.render("networks/_members_table.html", **context),
        directory=sections.render("networks/_directory.html", **context),
    )


def _show_url(network: Network) -> Any:
    return lambda part: url_for(
        "networks.network_view",
        slug=network.slug,
        **_kept_args(part, "slug"),
        **{part: "all"},
        _anchor=part,
    )


INLINE_ROWS = 30  # a directory or bridges picture this small is shown without asking


def _kept_args(*replaced: str) -> dict[str, str]:
    """The query string to carry into a sort link: without the parameters the link sets
    itself and without ``url_for``'s own (``_anchor``, ``_external``…), which a typed or
    crafted URL could otherwise pass in."""
    return {k: v for k, v in request.args.items() if k not in replaced and not k.startswith("_")}


def next_sessions(network: Network, limit: int = 3) -> list[Any]:
    """The network's next sessions (not cancelled) with their hosts, in one statement."""
    from learnnet.sessions.models import CANCELLED, Session

    return list(
        db.session.scalars(
            select(Session)
            .join(Facility, Facility.id == Session.host_facility_id)
            .options(contains_eager(Session.host))
            .where(
                Session.network_id == network.id,
                Session.status != CANCELLED,
                Session.starts_at > utcnow(),
            )
            .order_by(Session.starts_at)
            .limit(limit)
        )
    )


@bp.route("/networks/<slug>/edit", methods=["GET", "POST"])
@requires(NETWORK)
def network_edit(network: Network) -> str | Response:
    """Change name, theme, region, time zone and facilitators."""
    form = NetworkForm(obj=network)
    _facilitator_choices(form)
    if request.method == "GET":
        form.facilitators.data = [u.id for u in network.facilitators]
    if form.validate_on_submit():
        ids = form.facilitators.data or []
        if not ids:
            form.facilitators.errors = [_("A network needs at least one facilitator.")]
        elif not current_user.is_admin and current_user.id not in ids:
            form.facilitators.errors = [
                _("You cannot remove yourself; ask another facilitator or an admin.")
            ]
        else:
            try:
                services.update_network(network, _network_data(form), ids)
            except services.DuplicateSlug:
                form.slug.errors = [_("Another network already uses this web address.")]
            else:
                flash(_("Network saved."), "success")
                return redirect(url_for("networks.network_view", slug=network.slug))
    return render_template("networks/network_form.html", form=form, network=network)


@bp.route("/networks/<slug>/archive", methods=["POST"])
@requires(NETWORK)
def network_archive(network: Network) -> Response:
    """Archive or reactivate (``action=reactivate``) a network."""
    reactivate = request.form.get("action") == "reactivate"
    services.set_network_status(network, archived=not reactivate)
    flash(_("Network reactivated.") if reactivate else _("Network archived."), "success")
    return redirect(url_for("networks.network_view", slug=network.slug))


# --- members -----------------------------------------------------------------------------


@bp.route("/networks/<slug>/members/new", methods=["GET", "POST"])
@requires(NETWORK)
def member_new(network: Network) -> str | Response:
    """Register a new facility and make it a member."""
    form = NewMemberForm()
    if request.method == "GET":
        form.willing_to_host.data = "1"
    if form.validate_on_submit():
        try:
            facility = services.create_facility(
                _facility_data(form), network, form.joined_on.data or local_today()
            )
        except services.DuplicateFacility as exc:
            form.name.errors = [_duplicate_facility_message(exc.existing)]
        else:
            flash(_("%(name)s is now a member.", name=facility.name), "success")
            return redirect(url_for("networks.facility_view", facility_id=facility.id))
    return render_template("networks/member_new.html", form=form, network=network)


@bp.route("/networks/<slug>/members/add", methods=["GET", "POST"])
@requires(NETWORK)
def member_add(network: Network) -> str | Response:
    """An existing facility (perhaps a member of another network) joins this network, or is
    asked to join when its people belong to a network the user does not facilitate."""
    form = AddMemberForm()
    query = (request.args.get("q") or "").strip()[:100]
    candidates = services.facilities_not_in(network, query)
    if request.method == "POST":
        # Only the chosen facility needs to be a valid choice: no list of the whole register.
        raw = request.form.get("facility_id", "")
        ident = parse_id(raw)
        chosen = db.session.get(Facility, ident) if ident is not None else None
        form.facility_id.choices = [(chosen.id, chosen.name)] if chosen else [(0, "")]
    else:
        form.facility_id.choices = [(f.id, f.name) for f in candidates]
    if form.validate_on_submit():
        facility = db.session.get(Facility, form.facility_id.data)
        if facility is None:
            form.facility_id.errors = [_("Choose a facility.")]
        else:
            try:
                added = services.add_member(
                    network, facility, form.joined_on.data or local_today(), current_user
                )
            except services.AlreadyMember:
                form.facility_id.errors = [_("This facility is already a member.")]
            except services.AlreadyRequested:
                form.facility_id.errors = [
                    _("This facility has already been asked to join; it has not answered yet.")
                ]
            else:
                if isinstance(added, MembershipRequest):
                    flash(
                        _(
                            "%(name)s is a member of another network: its contact persons "
                            "have been asked to agree. Until then you see none of its people.",
                            name=facility.name,
                        ),
                        "success",
                    )
                    return redirect(
                        url_for("networks.network_view", slug=network.slug) + "#requests"
                    )
                flash(_("%(name)s is now a member.", name=facility.name), "success")
                return redirect(url_for("networks.network_view", slug=network.slug))
    return render_template(
        "networks/member_add.html",
        form=form,
        network=network,
        query=query,
        candidates=candidates,
        ask=needing_consent(current_user, [f.id for f in candidates]),
    )


def _network_request(network: Network, request_id: int) -> MembershipRequest:
    """The network's membership request of the URL, or 404."""
    found = db.session.get(MembershipRequest, request_id)
    if found is None or found.network_id != network.id:
        abort(404)
    return found


@bp.route("/networks/<slug>/requests/<int:request_id>/withdraw", methods=["POST"])
@requires(NETWORK)
def request_withdraw(network: Network, request_id: int) -> Response:
    """The facilitator no longer asks the facility to join."""
    pending = _network_request(network, request_id)
    try:
        services.withdraw_request(pending, current_user)
    except services.NotPending:
        flash(_("This request has already been answered or withdrawn."), "info")
    else:
        flash(_("The request to %(name)s is withdrawn.", name=pending.facility.name), "success")
    return redirect(url_for("networks.network_view", slug=network.slug) + "#members", code=303)


@bp.route("/networks/<slug>/requests/<int:request_id>/accept", methods=["POST"])
@requires(ADMIN)
def request_accept(slug: str, request_id: int) -> Response:
    """An admin accepts a membership request on the facility's behalf (e.g. it agreed by
    phone); the membership starts at once."""
    network = db.first_or_404(db.select(Network).where(Network.slug == slug))
    pending = _network_request(network, request_id)
    try:
        services.accept_request(pending, user=current_user)
    except services.NotPending:
        flash(_("This request has already been answered or withdrawn."), "info")
    else:
        flash(_("%(name)s is now a member.", name=pending.facility.name), "success")
        signals.facility_changed.send(pending.facility_id)
    return redirect(url_for("networks.network_view", slug=network.slug) + "#members", code=303)


@bp.route("/networks/<slug>/members/leave", methods=["GET", "POST"])
@requires(NETWORK)
def members_leave(network: Network) -> str | Response:
    """End a membership: one page with the member (``?membership=`` preselects it) and the
    date, instead of a form on every member of the network page."""
    current = [m for m in services.network_page(network).current]
    form = LeaveForm()
    chosen = parse_id(request.values.get("membership", ""))
    membership = next((m for m in current if m.id == chosen), None)
    error = None
    if request.method == "POST":
        if membership is None:
            error = _("Choose the facility that leaves.")
        if form.validate_on_submit() and membership is not None:
            try:
                services.leave(membership, form.left_on.data or local_today())
            except services.ServiceError:
                form.left_on.errors = [_("The leaving date cannot be before the joining date.")]
            else:
                flash(_("%(name)s has left the network.", name=membership.facility.name), "success")
                signals.facility_changed.send(membership.facility_id)
                return redirect(url_for("networks.network_view", slug=network.slug) + "#members")
    return render_template(
        "networks/member_leave.html",
        network=network,
        form=form,
        current=current,
        membership=membership,
        membership_error=error,
    )


@bp.route("/networks/<slug>/members/<int:membership_id>/leave", methods=["POST"])
@requires(NETWORK)
def member_leave(network: Network, membership_id: int) -> str | Response:
    """End a membership; the facility and its history stay."""
    membership = db.get_or_404(Membership, membership_id)
    if membership.network_id != network.id:
        abort(404)
    form = LeaveForm()
    if membership.left_on is not None:
        flash(_("This facility had already left."), "info")
    elif form.validate_on_submit():
        try:
            services.leave(membership, form.left_on.data or local_today())
        except services.ServiceError:
            flash(_("The leaving date cannot be before the joining date."), "error")
        else:
            flash(_("%(name)s has left the network.", name=membership.facility.name), "success")
            signals.facility_changed.send(membership.facility_id)
    else:
        flash(_("Enter a valid leaving date."), "error")
    return redirect(url_for("networks.network_view", slug=network.slug))


# --- CSV -----------------------------------------------------------------------------


def csv_messages() -> dict[str, str]:
    """Translated row errors for :mod:`learnnet.networks.csvio`: each names the column as
    the file wrote it (``column``) and shows the value that was wrong (``value``)."""
    return {
        "extra_cells": _("This line has more cells than the header."),
        "one_line": _("%(column)s holds a line break or another control character."),
        "conflict": _("%(column)s “%(value)s” differs from line %(line)s of the same facility."),
        "duplicate_contact": _("%(column)s “%(value)s” already appears on line %(line)s."),
        "name_required": _("%(column)s is empty: every line needs the facility's name."),
        "too_long": _("%(column)s is too long: at most %(max)d characters."),
        "postcode": _("%(column)s “%(value)s” is not a Belgian postcode of four digits."),
        "city_required": _("%(column)s is empty: every line needs the municipality."),
        "facility_email": _("%(column)s “%(value)s” is not a valid email address."),
        "capacity": _("%(column)s “%(value)s” is not a whole number from 1 to 1000."),
        "yes_no": _("%(column)s “%(value)s”: write ja or nee."),
        "contact_name_required": _("%(column)s is empty, but the line has other contact details."),
        "contact_email": _("%(column)s “%(value)s” is not a valid email address."),
        "language": _("%(column)s “%(value)s”: write nl or en."),
        "website": _("%(column)s “%(value)s” is not a web address; write e.g. www.example.be."),
    }


def csv_file_error(error: csvio.CsvFileError) -> str:
    """A translated message for a file that cannot be read at all."""
    kind, _sep, detail = str(error).partition(":")
    messages = {
        "empty": _("The file is empty."),
        "binary": _("This is not a text file. Save the spreadsheet as CSV and try again."),
        "encoding": _("The file's character encoding is not recognised. Save it as CSV UTF-8."),
        "size": _("The file is larger than 1 MB."),
        "syntax": _("The file is not valid CSV (check the quotes)."),
        "norows": _("The file has a header row but no data rows."),
        "rows": _("The file has more than %(num)d rows.", num=csvio.MAX_ROWS),
        "missing": _("Required columns are missing: %(columns)s.", columns=detail),
        "unknown": _(
            "Unknown columns: %(columns)s. See the list of columns below.", columns=detail
        ),
        "duplicate": _("The column %(column)s appears twice.", column=detail),
    }
    return messages.get(kind, messages["syntax"])


def _payload_signer(network: Network) -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=f"member-import:{network.id}")


def import_payload(network: Network, data: bytes) -> str:
    """The previewed file for the confirm form: compressed, then signed for this network."""
    packed = base64.urlsafe_b64encode(zlib.compress(data, 6))
    return _payload_signer(network).sign(packed).decode("ascii")


def read_import_payload(network: Network, payload: str) -> bytes | None:
    """The file back from :func:`import_payload`; None when it was not made here for this
    network (changed, forged, or larger than an upload may be)."""
    limit = current_app.config["CSV_MAX_BYTES"]
    try:
        packed = _payload_signer(network).unsign(payload.encode("ascii"))
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.urlsafe_b64decode(packed), limit + 1)
    except (BadSignature, UnicodeError, binascii.Error, zlib.error):
        return None
    if len(data) > limit or not inflate.eof:
        return None
    return data


def _preview(network: Network, data: bytes, form: ImportForm) -> str | None:
    """Parse ``data`` and work out what the import would do (nothing is written); render
    the preview, or None after a file error."""
    try:
        parsed = csvio.parse(data, csv_messages(), current_app.config["CSV_MAX_BYTES"])
    except csvio.CsvFileError as exc:
        form.file.errors = [csv_file_error(exc)]
        return None
    plan = None
    confirm = None
    partial = None
    if parsed.valid:
        plan = services.plan_import(
            network, parsed.facilities, columns=parsed.columns, actor=current_user
        )
        confirm = ConfirmImportForm(payload=import_payload(network, data))
    elif parsed.error_count < len(parsed.rows):
        # What "import the valid lines" would do, counted exactly as the import will.
        valid = csvio.parse(csvio.valid_lines(parsed), csv_messages())
        if valid.valid:
            plan = services.plan_import(
                network, valid.facilities, columns=valid.columns, actor=current_user
            )
            partial = ConfirmImportForm(payload=import_payload(network, data), valid_only="1")
    return render_template(
        "networks/import_preview.html",
        network=network,
        parsed=parsed,
        plan=plan,
        confirm=confirm,
        partial=partial,
        columns=[csvio.DUTCH_HEADERS[c] if _dutch() else c for c in csvio.COLUMNS],
    )


@bp.route("/networks/<slug>/import", methods=["GET", "POST"])
@requires(NETWORK)
def member_import(network: Network) -> str | Response:
    """Upload a member list; the preview lists every line's errors before anything is written."""
    form = ImportForm()
    try:
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        form.file.errors = [_("The file is larger than 1 MB.")]
        submitted = False
    if submitted:
        data = form.file.data.read(current_app.config["CSV_MAX_BYTES"] + 1)
        page = _preview(network, data, form)
        if page is not None:
            return page
    return render_template(
        "networks/import.html",
        network=network,
        form=form,
        columns=[csvio.DUTCH_HEADERS[c] if _dutch() else c for c in csvio.COLUMNS],
    )


@bp.route("/networks/<slug>/import/confirm", methods=["POST"])
@requires(NETWORK)
def member_import_confirm(network: Network) -> str | Response:
    """Import the previewed file: validated again, written in one transaction."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    data = read_import_payload(network, form.payload.data or "")
    if data is None:
        abort(400)
    try:
        parsed = csvio.parse(data, csv_messages(), current_app.config["CSV_MAX_BYTES"])
        if form.valid_only.data == "1" and not parsed.valid:
            parsed = csvio.parse(csvio.valid_lines(parsed), csv_messages())
    except csvio.CsvFileError:
        abort(400)
    if not parsed.valid:
        upload = ImportForm()
        return _preview(network, data, upload) or redirect(
            url_for("networks.member_import", slug=network.slug)
        )
    plan = services.apply_import(
        network, parsed.facilities, local_today(), columns=parsed.columns, actor=current_user
    )
    flash(
        _(
            "Import done. New facilities: %(new)d; updated: %(updated)d; new members: "
            "%(members)d; new contacts: %(contacts)d.",
            new=plan.new_facilities,
            updated=plan.updated_facilities,
            members=plan.new_members,
            contacts=plan.new_contacts,
        ),
        "success",
    )
    if plan.requested:
        flash(
            ngettext(
                "%(num)d facility of another network has been asked to join.",
                "%(num)d facilities of other networks have been asked to join.",
                len(plan.requested),
            ),
            "info",
        )
    if plan.changed_facility_ids:  # e.g. no longer willing to host, a smaller room
        signals.facilities_changed.send(tuple(plan.changed_facility_ids))
    return redirect(url_for("networks.network_view", slug=network.slug))


def _dutch() -> bool:
    return current_locale().startswith("nl")


@bp.route("/networks/<slug>/import/template.csv")
@requires(NETWORK)
def member_import_template(network: Network) -> Response:
    """An empty member list with every column, headers in the interface's language."""
    name = "ledenlijst-sjabloon.csv" if _dutch() else "member-list-template.csv"
    return Response(
        csvio.write([], dutch=_dutch()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


@bp.route("/networks/<slug>/members.csv")
@requires(NETWORK)
def member_export(network: Network) -> Response:
    """Download the current members and their contacts, in the import format."""
    body = csvio.write(services.export_rows(network), dutch=_dutch())
    filename = f"{network.slug}-leden-{local_today().isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


# --- facilities and contacts -----------------------------------------------------------------


@bp.route("/facilities")
@requires(USER)
@cached_view
def facilities() -> str:
    """Search and filter the facilities of my networks."""
    form = FacilitySearchForm(request.args)
    networks = services.visible_networks(current_user)
    form.network.choices = [(0, _("All networks"))] + [(n.id, n.name) for n in networks]
    form.validate()
    network_id = form.network.data if form.network.data in {n.id for n in networks} else None
    sort = request.args.get("sort", "name")
    if sort.removeprefix("-") not in services.FACILITY_SORTS:
        sort = "name"
    text = (form.q.data or "")[:100]
    results = services.search_facilities(
        current_user,
        text=text,
        network_id=network_id,
        hosts_only=bool(form.hosts.data),
        sort=sort,
    )
    args = {k: v for k, v in _kept_args("sort").items() if v}

    def sort_url(key: str) -> str:
        return url_for("networks.facilities", **args, sort=key)

    return render_template(
        "networks/facilities.html",
        form=form,
        facilities=results,
        people=services.search_people(current_user, text) if text else [],
        sort=sort,
        sort_url=sort_url,
        sort_choices=[
            ("name", _("Name")),
            ("city", _("Municipality")),
            ("-contacts", _("Most contacts")),
            ("-hosting", _("Willing to host first")),
        ],
    )


@bp.route("/facilities/<int:facility_id>")
@requires(FACILITY)
@cached_view
def facility_view(facility: Facility) -> str:
    """A facility's details, contacts and memberships (current and past)."""
    return render_facility(facility)


def render_facility(facility: Facility, period_form: Any = None) -> str:
    """The facility page; ``period_form`` carries a rejected unavailability with its errors."""
    from learnnet.sessions.forms import PeriodForm
    from learnnet.sessions.services import unavailability_of

    memberships = sorted(facility.memberships, key=lambda m: (m.left_on is not None, m.joined_on))
    return render_template(
        "networks/facility.html",
        facility=facility,
        memberships=memberships,
        unavailable=unavailability_of(facility),
        hosted=hosting_history(facility),
        now=utcnow(),
        period_form=(period_form or PeriodForm(prefix="closed")).for_facility(),
        can_manage={m.network_id: facilitates(current_user, m.network) for m in memberships},
        can_see_people=can_see_people(current_user, facility.id),
        history=audit_services.for_facility(
            facility.id, with_people=can_see_people(current_user, facility.id)
        ),
        undo_url=lambda e: url_for(
            "networks.facility_undo", facility_id=facility.id, event_id=e.id
        ),
    )


def hosting_history(facility: Facility) -> list[Any]:
    """The sessions the facility hosts or hosted, latest first, in the networks the user
    facilitates (admins: all networks), with their networks, in two statements."""
    from learnnet.networks.models import network_facilitator
    from learnnet.sessions.models import Session

    query = (
        select(Session)
        .where(Session.host_facility_id == facility.id)
        .options(selectinload(Session.network))
        .order_by(Session.starts_at.desc())
    )
    if not current_user.is_admin:
        mine = select(network_facilitator.c.network_id).where(
            network_facilitator.c.user_id == current_user.id
        )
        query = query.where(Session.network_id.in_(mine))
    return list(db.session.scalars(query))


@bp.route("/facilities/<int:facility_id>/edit", methods=["GET", "POST"])
@requires(MEMBER_FACILITY)
def facility_edit(facility: Facility) -> str | Response:
    """Change a facility's address, room and hosting details."""
    form = FacilityForm(obj=facility)
    if request.method == "GET":
        form.willing_to_host.data = "1" if facility.willing_to_host else "0"
    if form.validate_on_submit():
        try:
            services.update_facility(facility, _facility_data(form))
        except services.DuplicateFacility as exc:
            form.name.errors = [_duplicate_facility_message(exc.existing)]
        else:
            flash(_("Facility saved."), "success")
            signals.facility_changed.send(facility.id)
            return redirect(url_for("networks.facility_view", facility_id=facility.id))
    return render_template("networks/facility_form.html", form=form, facility=facility)


def _contact_data(form: ContactForm) -> dict[str, Any]:
    data = {name: getattr(form, name).data for name in CONTACT_FIELDS}
    data["phone"] = data["phone"] or ""
    data["function"] = data["function"] or ""
    return data


@bp.route("/facilities/<int:facility_id>/contacts/new", methods=["GET", "POST"])
@requires(MEMBER_FACILITY)
def contact_new(facility: Facility) -> str | Response:
    """Add a person who works at the facility."""
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.create_contact(facility, _contact_data(form) | {"active": True})
        except services.DuplicateContact:
            form.email.errors = [_("A contact with this email address already exists here.")]
        else:
            flash(_("Contact added."), "success")
            return redirect(url_for("networks.facility_view", facility_id=facility.id))
    return render_template("networks/contact_form.html", form=form, facility=facility, contact=None)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires(CONTACT)
def contact_edit(contact: Contact) -> str | Response:
    """Change a contact's details, directory consent or whether they still work there."""
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            services.update_contact(contact, _contact_data(form))
        except services.DuplicateContact:
            form.email.errors = [_("A contact with this email address already exists here.")]
        else:
            flash(_("Contact saved."), "success")
            signals.facility_changed.send(contact.facility_id)
            return redirect(url_for("networks.facility_view", facility_id=contact.facility_id))
    return render_template(
        "networks/contact_form.html", form=form, facility=contact.facility, contact=contact
    )


@bp.route("/facilities/<int:facility_id>/history/<int:event_id>/undo", methods=["POST"])
@requires(MEMBER_FACILITY)
def facility_undo(facility: Facility, event_id: int) -> Response:
    """Undo a change to a shared facility or one of its people (another network's too)."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.facility_id != facility.id:
        abort(404)
    model = {"facility": Facility, "contact": Contact}.get(event.entity)
    try:
        if model is None:
            raise audit_services.CannotUndo("kind")
        audit_services.undo(event, model)
    except audit_services.CannotUndo:
        db.session.rollback()
        flash(
            _(
                "This change cannot be undone: it was changed again since, "
                "or is not a change of details."
            ),
            "error",
        )
    else:
        flash(_("The change has been undone."), "success")
        signals.facility_changed.send(facility.id)
    return redirect(
        url_for("networks.facility_view", facility_id=facility.id) + "#history", code=303
    )
