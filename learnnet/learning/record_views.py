"""The yearly record (*jaaroverzicht*) of a facility in a network: page, PDF and CSV.

For the network's facilitators (from the network page) and, through the personal link,
for the facility's own contacts. A contact sees only their own facility's record, and
only for a network it is or was a member of; a facilitator sees the names of a
facility's people only while they may see its people at all (``access.can_see_people``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learnnet.access import NETWORK, PERSONAL_LINK, can_see_people, requires
from learnnet.attendance import certificate as cert
from learnnet.attendance.services import csv_bytes
from learnnet.extensions import db
from learnnet.learning import record_services as services
from learnnet.learning.record import werkjaar_label
from learnnet.networks.models import Contact, Facility, Network
from learnnet.pdf import PdfUnavailable, unavailable_page, weasyprint_html
from learnnet.templating import current_locale

bp = Blueprint("record", __name__)


def question_labels() -> dict[str, str]:
    """The evaluation's questions in the evaluation's own words."""
    from learnnet.learning.evaluation_views import question_labels as labels

    return labels()


def _page(network: Network, facility: Facility, show_names: bool) -> services.RecordPage:
    page = services.load(network, facility, request.args.get("werkjaar"), show_names=show_names)
    if page is None:
        abort(404)
    return page


def _facility(facility_id: int) -> Facility:
    facility = db.session.get(Facility, facility_id)
    if facility is None:
        abort(404)
    return facility


def _member_network(contact: Contact, network_id: int) -> Network:
    network = db.session.get(Network, network_id)
    if network is None:
        abort(404)
    return network


def _render_page(page: services.RecordPage, *, token: str | None) -> str:
    return render_template(
        "learning/record.html",
        page=page,
        record=page.record,
        token=token,
        labels=question_labels(),
        werkjaar_label=werkjaar_label,
    )


def _pdf(page: services.RecordPage) -> Response | tuple[str, int]:
    """The record as an A4 PDF, rendered by WeasyPrint from ``record_pdf.html``; assets
    load from the static folder only (the certificate's fetcher). Without Pango: a page
    that says so, with the print version (see learnnet.pdf)."""
    from flask import current_app

    try:
        html_class = weasyprint_html()
    except PdfUnavailable:  # the same record as a page, which the browser prints
        endpoint = (request.endpoint or "").removesuffix("_pdf")
        return unavailable_page(url_for(endpoint, **request.view_args, **request.args))
    html = render_template(
        "learning/record_pdf.html",
        page=page,
        record=page.record,
        labels=question_labels(),
        document_locale=current_locale(),
    )
    root = cert.static_root()
    from pathlib import Path

    fetcher = cert.static_fetcher(Path(current_app.static_folder or ""), root)
    data = html_class(string=html, base_url=root, url_fetcher=fetcher).write_pdf()
    response = Response(data, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(page)}.pdf"'
    return response


def _filename(page: services.RecordPage) -> str:
    """'jaaroverzicht-2026-2027-<network slug>-<facility id>': ASCII, no quotes."""
    return f"jaaroverzicht-{page.record.label}-{page.network.slug}-{page.facility.id}"


def csv_rows(page: services.RecordPage) -> tuple[list[str], list[list[object]]]:
    """The record as one table: a line per fact, its kind in the first column (so a
    spreadsheet filters it), people's names only when the reader may see them."""
    header = [_("Part"), _("Date"), _("Session"), _("Person"), _("Hours"), _("Text"), _("Status")]
    body: list[list[object]] = []
    rec = page.record
    for a in rec.attended:
        who = a.people if page.show_names else (_("%(num)d people", num=len(a.people)),)
        if not page.show_names:
            body.append([_("present"), a.day.isoformat(), a.title, who[0], a.person_hours, "", ""])
            continue
        for name in who:
            body.append([_("present"), a.day.isoformat(), a.title, name, a.hours, "", ""])
    for h in rec.hosted:
        body.append([_("hosted"), h.day.isoformat(), h.title, "", "", "", ""])
    for g in rec.goals:
        body.append(
            [_("learning goal covered"), "", "", "", "", f"{g.theme}: {g.text}", g.sessions]
        )
    for p in rec.action_points:
        body.append(
            [
                _("agreement"),
                p.due_on.isoformat() if p.due_on else "",
                p.session_day.isoformat(),
                p.owner_name if page.show_names else "",
                "",
                " — ".join((p.what, *p.notes)),
                _("done") if p.done else _("open"),
            ]
        )
    labels = question_labels()
    for q in rec.quotes:
        body.append(
            [_("what we shared"), q.day.isoformat(), labels.get(q.question, ""), "", "", q.text, ""]
        )
    return header, body


def _csv(page: services.RecordPage) -> Response:
    variant = "comma" if request.args.get("variant") == "comma" else "excel"
    header, body = csv_rows(page)
    response = Response(csv_bytes(header, body, variant), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(page)}.csv"'
    return response


# --- the facilitator ---------------------------------------------------------------------------


@bp.route("/networks/<slug>/facilities/<int:facility_id>/jaaroverzicht")
@requires(NETWORK)
def facility_record(network: Network, facility_id: int) -> str:
    """A member facility's jaaroverzicht, for the network's facilitators."""
    facility = _facility(facility_id)
    page = _page(network, facility, can_see_people(current_user, facility.id))
    return _render_page(page, token=None)


@bp.route("/networks/<slug>/facilities/<int:facility_id>/jaaroverzicht.pdf")
@requires(NETWORK)
def facility_record_pdf(network: Network, facility_id: int) -> Response | tuple[str, int]:
    """The jaaroverzicht as a PDF for the quality dossier."""
    facility = _facility(facility_id)
    return _pdf(_page(network, facility, can_see_people(current_user, facility.id)))


@bp.route("/networks/<slug>/facilities/<int:facility_id>/jaaroverzicht.csv")
@requires(NETWORK)
def facility_record_csv(network: Network, facility_id: int) -> Response:
    """The jaaroverzicht as CSV."""
    facility = _facility(facility_id)
    return _csv(_page(network, facility, can_see_people(current_user, facility.id)))


# --- the facility's own contacts, through the personal link -------------------------------------


@bp.route("/m/<token>/networks/<int:network_id>/jaaroverzicht")
@requires(PERSONAL_LINK)
def member_record(contact: Contact, network_id: int) -> str:
    """The contact's own facility's jaaroverzicht in a network it is or was in."""
    page = _page(_member_network(contact, network_id), contact.facility, True)
    return _render_page(page, token=request.view_args["token"])  # type: ignore[index]


@bp.route("/m/<token>/networks/<int:network_id>/jaaroverzicht.pdf")
@requires(PERSONAL_LINK)
def member_record_pdf(contact: Contact, network_id: int) -> Response | tuple[str, int]:
    """The own facility's jaaroverzicht as a PDF."""
    return _pdf(_page(_member_network(contact, network_id), contact.facility, True))


@bp.route("/m/<token>/networks/<int:network_id>/jaaroverzicht.csv")
@requires(PERSONAL_LINK)
def member_record_csv(contact: Contact, network_id: int) -> Response:
    """The own facility's jaaroverzicht as CSV."""
    return _csv(_page(_member_network(contact, network_id), contact.facility, True))


# --- what other pages show ------------------------------------------------------------------------


def record_networks(contact: Contact) -> list[Network]:
    """Template helper (member pages): the networks the contact's facility is or was in,
    each with a jaaroverzicht (one statement)."""
    from sqlalchemy import select

    from learnnet.networks.models import Membership

    return list(
        db.session.scalars(
            select(Network)
            .join(Membership, Membership.network_id == Network.id)
            .where(Membership.facility_id == contact.facility_id)
            .distinct()
            .order_by(Network.name)
        )
    )


def record_werkjaar(day: Any) -> str:
    """Template helper (network page): the werkjaar of a day, e.g. the one a former member
    left in, as ``?werkjaar=`` takes it."""
    from learnnet.learning.record import start_year_of

    return werkjaar_label(start_year_of(day))


def init_app(app: Any) -> None:
    """Register the blueprint and the member pages' helper."""
    app.register_blueprint(bp)

    @app.context_processor
    def _record_helpers() -> dict[str, Any]:
        return {"record_networks": record_networks, "record_werkjaar": record_werkjaar}
