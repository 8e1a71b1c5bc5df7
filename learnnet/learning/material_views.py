"""Pages of the materials: facilitators add and delete files on the session page and per
werkjaar; members see, download and add them through their personal link.

Every file URL carries a random id and is checked on each request: the facilitator's
through the network of the URL, the member's through their facility's membership today.
Files are sent with their real type, ``nosniff``, no caching by shared caches, and as a
download except photos.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField

from learnnet.access import NETWORK, PERSONAL_LINK, SESSION, requires
from learnnet.learning import material_services as services
from learnnet.learning import material_store
from learnnet.learning import materials as rules
from learnnet.learning.material_models import Material
from learnnet.networks.models import Contact, Network
from learnnet.networks.rules import parse_id
from learnnet.sessions.models import Session
from learnnet.templating import current_locale
from learnnet.timefmt import format_span, local_today

bp = Blueprint("materials", __name__)

UPLOADS = {
    "materials.session_materials",
    "materials.network_materials",
    "materials.member_materials",
}


def _store() -> material_store.MaterialStore:
    return material_store.store_for(current_app.config)


def _limit() -> int:
    return services.max_bytes(current_app.config)


def _megabytes() -> str:
    return format_decimal(round(_limit() / services.MiB, 1))


def refusals() -> dict[str, str]:
    """Why a file was refused, in words for the field it belongs to."""
    return {
        rules.EMPTY: _("This file is empty (0 bytes). Choose another file."),
        rules.TOO_LARGE: _("This file is too large: at most %(mb)s MB.", mb=_megabytes()),
        rules.UNKNOWN_TYPE: _(
            "This is not a file learnnet accepts, whatever its name says. Send a PDF, an "
            "office document (Word, Excel, PowerPoint, OpenDocument) or a photo (JPEG, "
            "PNG, WebP)."
        ),
        rules.ZIP_BOMB: _(
            "This document unpacks to far more than it weighs; it is refused to protect "
            "the computers that would open it."
        ),
        rules.MACROS: _("Documents with macros are not accepted. Save it without macros."),
        rules.BROKEN: _("This file is damaged or protected with a password."),
        rules.PHOTO_CONSENT: _(
            "This is a photo: tick that no child can be recognised on it, or that the "
            "parents' consent is on file. Then choose the photo again."
        ),
    }


class MaterialForm(FlaskForm):
    """A file, and for a photo the uploader's confirmation about the children on it."""

    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file."))])
    photo_confirmed = BooleanField(
        _l("Photo: no child can be recognised on it, or the parents' consent is on file")
    )


class WerkjaarMaterialForm(MaterialForm):
    werkjaar = SelectField(_l("Werkjaar"), choices=[])


class MemberMaterialForm(MaterialForm):
    session = SelectField(_l("Session"), choices=[])


def _describe(form: MaterialForm) -> MaterialForm:
    form.file.description = _(
        "PDF, an office document (Word, Excel, PowerPoint, OpenDocument) or a photo "
        "(JPEG, PNG, WebP); at most %(mb)s MB. Photos are stored without their "
        "location and camera details.",
        mb=_megabytes(),
    )
    return form


def _add(form: MaterialForm, **kwargs: Any) -> Material | None:
    """Keep the form's file, or put the reason it was refused next to its field."""
    upload = form.file.data
    data = upload.read(_limit() + 1)
    try:
        return services.add(
            _store(),
            data=data,
            filename=upload.filename or "",
            photo_confirmed=bool(form.photo_confirmed.data),
            today=local_today(),
            limit=_limit(),
            **kwargs,
        )
    except rules.Refused as exc:
        field = form.photo_confirmed if exc.code == rules.PHOTO_CONSENT else form.file
        field.errors = [refusals()[exc.code]]
        return None


def _added(material: Material) -> None:
    flash(_("“%(name)s” has been added.", name=material.name), "success")


def send_material(material: Material) -> Response:
    """The file with safe headers: its real type, never sniffed, never kept by a shared
    cache, a download unless it is a photo, sandboxed if a browser shows it."""
    data = services.read(_store(), material)
    if data is None:
        abort(404)
    kind = services.kind_of(material)
    response = send_file(
        io.BytesIO(data),
        mimetype=kind.mimetype,
        as_attachment=not kind.is_photo,
        download_name=material.name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# --- the facilitator ----------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/materials", methods=["GET", "POST"])
@requires(SESSION)
def session_materials(session: Session) -> Any:
    """A session's files, and adding one (the session page has the short form)."""
    form = _describe(MaterialForm())
    if form.validate_on_submit():
        material = _add(form, network=session.network, session=session, user=current_user)
        if material is not None:
            _added(material)
            return redirect(
                url_for("pages.session_view", session_id=session.id) + "#materials", code=303
            )
    status = 400 if request.method == "POST" else 200
    return render_template(
        "learning/material_session.html",
        session=session,
        network=session.network,
        form=form,
        materials=services.for_session(session.id),
    ), status


def werkjaar_choices(today: date) -> list[tuple[str, str]]:
    """This werkjaar and the next, e.g. "2026-2027"."""
    start = rules.werkjaar_start(today)
    return [(str(y), f"{y}-{y + 1}") for y in (start, start + 1)]


@bp.route("/networks/<slug>/materials", methods=["GET", "POST"])
@requires(NETWORK)
def network_materials(network: Network) -> Any:
    """The network's files per werkjaar (not of one session), and adding one."""
    form = _describe(WerkjaarMaterialForm())
    form.werkjaar.choices = werkjaar_choices(local_today(network.timezone))
    if form.validate_on_submit():
        material = _add(form, network=network, werkjaar=int(form.werkjaar.data), user=current_user)
        if material is not None:
            _added(material)
            return redirect(url_for("materials.network_materials", slug=network.slug), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "learning/material_network.html",
        network=network,
        form=form,
        werkjaren=services.for_werkjaren(network.id),
    ), status


@bp.route("/networks/<slug>/materials/<material_id>")
@requires(NETWORK)
def material_file(network: Network, material_id: str) -> Response:
    """A file of the network, for its facilitators."""
    material = services.find(network.id, material_id)
    if material is None:
        abort(404)
    return send_material(material)


@bp.route("/networks/<slug>/materials/<material_id>/delete", methods=["POST"])
@requires(NETWORK)
def material_delete(network: Network, material_id: str) -> Response:
    """Delete a file (a second tap on a deleted one only says it is gone)."""
    material = services.find(network.id, material_id)
    if material is None:
        flash(_("This file has already been deleted."), "success")
        return redirect(url_for("materials.network_materials", slug=network.slug), code=303)
    session_id, name = material.session_id, material.name
    services.delete_material(_store(), material)
    flash(_("“%(name)s” has been deleted.", name=name), "success")
    if session_id is not None:
        return redirect(
            url_for("pages.session_view", session_id=session_id) + "#materials", code=303
        )
    return redirect(url_for("materials.network_materials", slug=network.slug), code=303)


# --- the member, through the personal link ------------------------------------------------


def _token() -> str:
    return (request.view_args or {}).get("token", "")


@bp.route("/m/<token>/materials", methods=["GET", "POST"])
@requires(PERSONAL_LINK)
def member_materials(contact: Contact) -> Any:
    """Add a file to a session of one's network (the member page lists the files)."""
    today = local_today()
    sessions = services.upload_sessions(contact, today)
    form = _describe(MemberMaterialForm())
    locale = current_locale()
    form.session.choices = [("", _("Choose a session"))] + [
        (
            str(s.id),
            f"{format_span(s.starts_at, s.ends_at, s.network.timezone, locale)} · {s.network.name}",
        )
        for s in sessions
    ]
    if request.method == "GET" and (ident := parse_id(request.args.get("session", ""))):
        form.session.data = str(ident)
    if form.validate_on_submit():
        chosen = next((s for s in sessions if str(s.id) == form.session.data), None)
        if chosen is None:
            form.session.errors = [_("Choose the session the file belongs to.")]
        else:
            material = _add(form, network=chosen.network, session=chosen, contact=contact)
            if material is not None:
                _added(material)
                return redirect(url_for("rsvp.member", token=_token()) + "#materials", code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "learning/material_member.html",
        contact=contact,
        token=_token(),
        form=form,
        sessions=sessions,
    ), status


def _visible(contact: Contact, material_id: str) -> Material | None:
    material = services.find(None, material_id)
    if material is None or not services.visible_to(material, contact, local_today()):
        return None
    return material


@bp.route("/m/<token>/materials/<material_id>")
@requires(PERSONAL_LINK)
def member_material_file(contact: Contact, material_id: str) -> Response:
    """A file of one of the member's networks; any other is not found."""
    material = _visible(contact, material_id)
    if material is None:
        abort(404)
    return send_material(material)


@bp.route("/m/<token>/materials/<material_id>/remove", methods=["POST"])
@requires(PERSONAL_LINK)
def member_material_remove(contact: Contact, material_id: str) -> Response:
    """A member deletes a file they added themselves."""
    material = _visible(contact, material_id)
    back = redirect(url_for("rsvp.member", token=_token()) + "#materials", code=303)
    if material is None:
        flash(_("This file has already been deleted."), "success")
        return back
    if material.uploaded_by_contact_id != contact.id:
        flash(_("Only the person who added a file, or the facilitator, can delete it."), "error")
        return back
    name = material.name
    services.delete_material(_store(), material)
    flash(_("“%(name)s” has been deleted.", name=name), "success")
    return back


# --- the pieces the shared pages include --------------------------------------------------


def human_size(size: int) -> str:
    """ "240 kB", "1,4 MB" in the page's language."""
    if size < 1024 * 1024:
        return _("%(num)s kB", num=format_decimal(max(1, round(size / 1024))))
    return _("%(num)s MB", num=format_decimal(round(size / (1024 * 1024), 1)))


def _template_helpers() -> dict[str, Any]:
    def session_materials_of(session: Session) -> list[Material]:
        return services.for_session(session.id)

    def member_materials_of(contact: Contact) -> list[services.NetworkMaterials]:
        return services.for_contact(contact, local_today())

    return {
        "materials_of_session": session_materials_of,
        "materials_of_member": member_materials_of,
        "material_size": human_size,
        "material_kind": services.kind_of,
    }


def _raise_upload_limit() -> None:
    """Upload forms take files up to MATERIALS_MAX_MB (and the form around them); every
    other request keeps MAX_CONTENT_LENGTH. Runs first, before anything reads the body."""
    if request.endpoint in UPLOADS:
        request.max_content_length = _limit() + services.MiB


@bp.errorhandler(413)
def _too_large(error: Any) -> Response:
    """Far above the limit (the body was not even read): back to the form, saying so."""
    flash(_("This file is too large: at most %(mb)s MB.", mb=_megabytes()), "error")
    return redirect(request.path, code=303)


def init_app(app: Flask) -> None:
    """Register the blueprint, its helpers for the shared templates, the upload size, the
    trail of materials and the store's transaction hooks."""
    from learnnet.audit import trail

    app.register_blueprint(bp)
    app.jinja_env.globals.update(_template_helpers())
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_upload_limit)
    trail.track(Material, "material")
    material_store.register()
