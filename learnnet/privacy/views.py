"""For admins: what learnnet holds about a contact (page and JSON), and erasing it."""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from learnnet.access import ADMIN, CONTACT, requires
from learnnet.extensions import db
from learnnet.networks.models import Contact
from learnnet.networks.rules import parse_id
from learnnet.privacy import services
from learnnet.privacy.blueprint import bp


def _contact(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    return contact


@bp.route("/admin/contacts/<int:contact_id>/data")
@requires(ADMIN)
def contact_data(contact_id: int) -> str:
    """Everything learnnet holds about a person, readable; with the JSON and erasing."""
    contact = _contact(contact_id)
    return render_template(
        "privacy/contact_data.html", contact=contact, data=services.export(contact)
    )


@bp.route("/admin/contacts/<int:contact_id>/data.json")
@requires(ADMIN)
def contact_data_json(contact_id: int) -> Response:
    """The same, as a JSON file (data portability)."""
    contact = _contact(contact_id)
    body = json.dumps(services.export(contact), ensure_ascii=False, indent=2)
    response = Response(body, content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="contact-{contact.id}.json"'
    return response


@bp.route("/admin/contacts/<int:contact_id>/erase", methods=["POST"])
@requires(ADMIN)
def contact_erase(contact_id: int) -> Response:
    """Erase a person: name and details go, the counts reports need stay."""
    contact = _contact(contact_id)
    if request.form.get("confirm") != "erase":
        flash(_("Tick the box to confirm that this person is to be erased."), "error")
        return redirect(url_for("privacy.contact_data", contact_id=contact.id), code=303)
    facility_id = contact.facility_id
    services.erase(contact)
    flash(_("The person has been erased; their answers and attendance still count."), "success")
    return redirect(url_for("networks.facility_view", facility_id=facility_id), code=303)


@bp.route("/contacts/<int:contact_id>/merge", methods=["POST"])
@requires(CONTACT)
def contact_merge(contact: Contact) -> Response:
    """One person listed twice at a facility: fold this contact into another one of the
    same facility (answers, attendance and history move; the trail records it)."""
    back = redirect(url_for("networks.contact_edit", contact_id=contact.id) + "#merge", code=303)
    ident = parse_id(request.form.get("into", ""))
    keeper = db.session.get(Contact, ident) if ident is not None else None
    if keeper is None or keeper.facility_id != contact.facility_id or keeper.id == contact.id:
        flash(
            _(
                "Choose the other listing of this person at %(facility)s.",
                facility=contact.facility.name,
            ),
            "error",
        )
        return back
    if not contact.active:
        flash(_("This contact no longer works here; nothing was merged."), "error")
        return back
    name = contact.name
    services.merge_contacts(contact, keeper)
    flash(
        _(
            "%(name)s and %(other)s are now one person: %(other)s. Answers, attendance and "
            "history are kept.",
            name=name,
            other=keeper.name,
        ),
        "success",
    )
    return redirect(url_for("networks.facility_view", facility_id=keeper.facility_id), code=303)
