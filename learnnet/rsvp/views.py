"""The personal-link pages (member answers, host confirmation, colleagues) and the
facilitator's actions on answers: on someone's behalf, invitations, reminders, links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from learnnet import changes, sections
from learnnet.access import CONTACT, NETWORK, PERSONAL_LINK, PUBLIC, SESSION, requires
from learnnet.extensions import db, limiter
from learnnet.mail import services as mail
from learnnet.models import utcnow
from learnnet.networks import services as networks
from learnnet.networks.models import Contact, MembershipRequest, Network
from learnnet.networks.rules import parse_id
from learnnet.networks.services import DuplicateContact
from learnnet.pagecache import cached
from learnnet.planning.recurrence import local_to_utc
from learnnet.qr import qr_svg
from learnnet.rsvp import contacts, notify, rules, services
from learnnet.rsvp.blueprint import bp
from learnnet.rsvp.forms import (
    AnswerForm,
    ColleagueForm,
    HostDeclineForm,
    HostDetailsForm,
    LostLinkForm,
    MessageForm,
    OnBehalfForm,
    ReopenForm,
)
from learnnet.rsvp.models import MAYBE, NO, YES
from learnnet.sessions import services as scheduling
from learnnet.sessions.models import Session
from learnnet.timefmt import local_date


def answer_errors() -> dict[str, str]:
    """Why an answer was refused, in words."""
    return {
        "answer": _("Choose an answer."),
        "note": _("The note is too long (at most 500 characters)."),
        "session": _("This session does not exist."),
        "not_member": _("This session is not one of your networks."),
        rules.CANCELLED: _("This session has been cancelled; answers are closed."),
        rules.STARTED: _("This session has started; answers are closed."),
        rules.DEADLINE: _("Answers for this session are closed (the deadline has passed)."),
        "colleague": _("You can only answer for colleagues of your own facility."),
    }


def answer_message(outcome: services.Outcome, contact: Contact, own: bool) -> str:
    """What the member sees after answering."""
    rsvp = outcome.rsvp
    if not outcome.changed:
        return _("Your answer was already saved.")
    if rsvp.answer == YES and rsvp.waitlisted:
        if own:
            return _(
                "The session is full: you are on the waitlist. "
                "We will mail you when a seat comes free."
            )
        return _("The session is full: %(name)s is on the waitlist.", name=contact.name)
    if own:
        return {
            YES: _("Thank you! You are registered."),
            MAYBE: _("Saved: maybe. Let us know when you are sure."),
            NO: _("Saved: you are not coming. Thank you for letting us know."),
        }[rsvp.answer]
    return {
        YES: _("%(name)s is registered.", name=contact.name),
        MAYBE: _("Saved: %(name)s maybe comes.", name=contact.name),
        NO: _("Saved: %(name)s is not coming.", name=contact.name),
    }[rsvp.answer]


FULL_CARDS = 5  # sessions shown in full on the member's page; the later ones as rows
LATER_SHOWN = 30  # compact rows after the cards; the rest one link away (?later=all)


def _member_page(
    contact: Contact,
    status: int = 200,
    errors: dict[int, str] | None = None,
    typed: dict[int, str] | None = None,
    colleague_form: ColleagueForm | None = None,
    host_forms: dict[int, tuple[HostDeclineForm, HostDetailsForm]] | None = None,
    message_form: MessageForm | None = None,
    same_colleague: Contact | None = None,
    scopes: list[str] | None = None,
) -> tuple[str, int]:
    """The member's page; ``scopes``: what it reads (:func:`_member_scopes`), when the
    caller has them already."""
    show_all = request.args.get("all") == "1"
    later_all = show_all or request.args.get("later") == "all"
    keep = set(errors or {})  # a session sent back with an error stays in view
    page = services.member_page(
        contact,
        first=None if later_all else FULL_CARDS + LATER_SHOWN,
        also=keep | {_ready_session_id()} - {None},
    )
    message_form = message_form or MessageForm(prefix="message", formdata=None)
    submitted = host_forms or {}

    def forms_for(session: Session) -> tuple[HostDeclineForm, HostDetailsForm]:
        """The host's two forms of a session: as sent back with errors, or fresh."""
        if session.id in submitted:
            return submitted[session.id]
        return (
            HostDeclineForm(prefix=f"decline-{session.id}", formdata=None),
            HostDetailsForm(prefix=f"host-{session.id}", formdata=None, obj=session),
        )

    ready = _ready_answer(page, contact)
    shown = page.sessions
    if not later_all:  # the ready answer's session is worked out, not shown as a row
        first = {u.id for u in page.upcoming[: FULL_CARDS + LATER_SHOWN]}
        shown = [ms for ms in page.sessions if ms.session.id in first or ms.session.id in keep]
    return render_template(
        "rsvp/member.html",
        page=page,
        contact=contact,
        requests=networks.requests_to_facility(contact.facility_id),
        token=request.view_args["token"] if request.view_args else "",
        now=utcnow(),
        errors=errors or {},
        typed=typed or {},
        colleague_form=colleague_form or ColleagueForm(prefix="colleague"),
        map_url=notify.map_url,
        full_cards=FULL_CARDS,
        show_all=show_all,
        sessions_shown=shown,
        sessions_hidden=len(page.upcoming) - len(shown),
        # The rows' answers come back to the page with every row (see _back).
        later_query="?later=all" if request.args.get("later") == "all" and not show_all else "",
        host_forms=forms_for,
        same_colleague=same_colleague,
        ready=ready,
        parts=sections.kept(
            "member-parts",
            scopes if scopes is not None else _member_scopes(contact),
            lambda: member_parts(contact, page, message_form),
            key=contact.id,
            per_page=True,
            per_browser=True,  # its forms carry this browser's CSRF token
        ),
    ), status


@dataclass(frozen=True)
class MemberParts:
    """The member page's facilitators, minutes, materials, theme, learning questions and
    the programmes of her sessions, rendered: they read no answer, so a page rendered anew
    after one keeps them."""

    reach_line: Markup
    minutes: Markup
    reach: Markup
    learning: Markup  # the theme and her learning questions
    programmes: dict[int, Markup]  # per coming session: its programme, as a card shows it


def member_parts(
    contact: Contact, page: services.MemberPage, message_form: MessageForm
) -> MemberParts:
    """Render the parts of the member page that read no answer (see MemberParts)."""
    message_form.session.choices = _message_choices(page)
    context = {
        "contact": contact,
        "page": page,
        "token": request.view_args["token"] if request.view_args else "",
        "now": utcnow(),
        "message_form": message_form,
        "facilitators": facilitators_of(page.networks),
    }
    return MemberParts(
        learning=sections.render("learning/_member_learning.html", **context),
        programmes={
            ms.session.id: sections.render(
                "learning/_member_programme.html", s=ms.session, **context
            )
            for ms in page.sessions
        },
        reach_line=sections.render("rsvp/_reach_line.html", **context),
        minutes=sections.render("rsvp/_member_minutes_part.html", **context),
        reach=sections.render("rsvp/_member_reach_part.html", **context),
    )


def _member_scopes(contact: Contact) -> list[str]:
    """What a member's page reads: her own rows, her facility's and its networks'."""
    return [
        changes.contact_scope(contact.id),
        changes.facility_scope(contact.facility_id),
        *(changes.network_scope(n) for n in changes.facility_networks([contact.facility_id])),
    ]


def facilitators_of(networks: list[Network]) -> list[tuple[Any, list[str]]]:
    """Who to reach: each active facilitator of these networks once, with the names of
    the networks they lead (a member of two networks may have two)."""
    found: dict[int, tuple[Any, list[str]]] = {}
    for network in networks:
        for user in network.facilitators:
            if user.active:
                found.setdefault(user.id, (user, []))[1].append(network.name)
    return sorted(found.values(), key=lambda pair: pair[0].name.casefold())


def _message_choices(page: services.MemberPage) -> list[tuple[str, str]]:
    """The sessions a message can be about: the member's coming ones, not cancelled."""
    from learnnet.templating import current_locale
    from learnnet.timefmt import format_span

    locale = current_locale()
    networks = {n.id: n for n in page.networks}
    several = len(page.networks) > 1
    return [
        (
            str(u.id),
            format_span(u.starts_at, u.ends_at, networks[u.network_id].timezone, locale)
            + (f" · {networks[u.network_id].name}" if several else ""),
        )
        for u in page.upcoming
        if not u.is_cancelled
    ]


def _ready_session_id() -> int | None:
    """The session of ``?session=…&answer=…`` (a mail's answer button), if well formed."""
    if request.args.get("answer", "") not in (YES, MAYBE, NO):
        return None
    return parse_id(request.args.get("session", ""))


def _ready_answer(page: Any, contact: Contact) -> dict[str, Any] | None:
    """``?session=…&answer=…`` from a mail's answer button: that answer, ready to confirm,
    for one of the member's own sessions that is open for answers (else nothing)."""
    value = request.args.get("answer", "")
    ident = _ready_session_id()
    if ident is None:
        return None
    found = next((ms for ms in page.sessions if ms.session.id == ident), None)
    if found is None or found.closed:
        return None
    labels = {
        YES: _("Confirm: I am coming"),
        MAYBE: _("Confirm: maybe"),
        NO: _("Confirm: I am not coming"),
    }
    return {"session": found.session, "answer": value, "label": labels[value]}


def _back(token: str, session_id: int | None = None) -> Response:
    """To the member's page at the session; to the page with every row when the answer
    came from there (a row beyond the first ones is not on the shorter page)."""
    anchor = f"#session-{session_id}" if session_id else ""
    later = "all" if request.args.get("later") == "all" else None
    return redirect(url_for("rsvp.member", token=token, later=later) + anchor, code=303)


@bp.route("/m/<token>")
@requires(PERSONAL_LINK)
def member(contact: Contact) -> Response:
    """The member's own page: upcoming sessions, one-tap answers, colleagues.

    The phone that opens it remembers whose link it is (a signed, HttpOnly cookie), so
    that scanning a session's check-in QR code later identifies the member.
    """
    scopes = _member_scopes(contact)
    response = make_response(*cached(lambda: _member_page(contact, scopes=scopes), scopes=scopes))
    contacts.remember_device(response, contact)
    return response


@bp.route("/m/<token>/sessions/<int:session_id>", methods=["POST"])
@requires(PERSONAL_LINK)
def member_answer(contact: Contact, session_id: int) -> Any:
    """Answer for oneself or a colleague of the same facility (never anyone else)."""
    token = request.view_args["token"]  # type: ignore[index]
    form = AnswerForm()
    target = contact
    raw = (form.contact.data or "").strip()
    if raw and raw != str(contact.id):
        ident = parse_id(raw)
        colleague = db.session.get(Contact, ident) if ident is not None else None
        if (
            colleague is None
            or colleague.facility_id != contact.facility_id
            or not colleague.active
        ):
            flash(answer_errors()["colleague"], "error")
            return _back(token, session_id)
        target = colleague
    if not form.validate_on_submit():
        if form.note.errors:
            return _member_page(
                contact, 400, {session_id: form.note.errors[0]}, {session_id: form.note.data or ""}
            )
        flash(answer_errors()["answer"], "error")
        return _back(token, session_id)
    try:
        outcome = services.answer(
            session_id, target, form.answer.data, form.note.data or "", by_contact=contact
        )
    except services.AnswerError as exc:
        db.session.rollback()
        flash(answer_errors().get(exc.code, _("Your answer could not be saved.")), "error")
        return _back(token, session_id)
    flash(answer_message(outcome, target, target.id == contact.id), "success")
    if request.form.get("confirm_choice"):  # the confirm form carries the choice: remember it
        services.remember_confirm_choice(contact, bool(request.form.get("confirm_by_mail")))
    if target.id == contact.id and contact.confirm_by_mail and outcome.changed:
        notify.confirmation(outcome.rsvp)
        db.session.commit()
        flash(_("A confirmation mail with the event is on its way."), "success")
    for promoted in outcome.promoted:
        if promoted.contact_id == contact.id:
            flash(_("A seat came free: you are now registered."), "success")
        elif promoted.contact.facility_id == contact.facility_id:
            flash(_("%(name)s gets the free seat.", name=promoted.contact.name), "success")
    return _back(token, session_id)


@bp.route("/m/<token>/confirmations", methods=["POST"])
@requires(PERSONAL_LINK)
def member_confirmations(contact: Contact) -> Response:
    """The member's choice: a confirmation mail with the event after each of her answers
    on the web, or none (the default)."""
    token = request.view_args["token"]  # type: ignore[index]
    wanted = bool(request.form.get("confirm_by_mail"))
    services.remember_confirm_choice(contact, wanted)
    flash(
        _("After each answer you get a confirmation mail with the event.")
        if wanted
        else _("You get no confirmation mail after an answer."),
        "success",
    )
    return redirect(url_for("rsvp.member", token=token) + "#confirmations", code=303)


@bp.route("/m/<token>/sessions/<int:session_id>/host", methods=["POST"])
@requires(PERSONAL_LINK)
def member_host_confirm(contact: Contact, session_id: int) -> Response:
    """A contact of the host facility confirms that they host the session."""
    token = request.view_args["token"]  # type: ignore[index]
    session = db.session.get(Session, session_id)
    if session is None or session.host_facility_id != contact.facility_id:
        abort(404)
    if session.is_cancelled or session.starts_at <= utcnow():
        flash(_("This session can no longer be confirmed."), "error")
    else:
        scheduling.confirm_host(session, contact.id)
        flash(_("Thank you! You have confirmed that you host this session."), "success")
    return _back(token, session_id)


def _hosted(contact: Contact, session_id: int) -> Session:
    """The session, when the contact's facility hosts it (else 404)."""
    session = db.session.get(Session, session_id)
    if session is None or session.host_facility_id != contact.facility_id or not contact.active:
        abort(404)
    return session


def _host_may_answer(session: Session) -> bool:
    if session.is_cancelled or session.starts_at <= utcnow():
        flash(_("This session can no longer be changed."), "error")
        return False
    return True


@bp.route("/m/<token>/sessions/<int:session_id>/host/decline", methods=["POST"])
@requires(PERSONAL_LINK)
def member_host_decline(contact: Contact, session_id: int) -> Any:
    """The host's "no, we cannot": the session is flagged for the facilitator, who gets
    a message and the planner's proposal for another host on the session page."""
    token = request.view_args["token"]  # type: ignore[index]
    session = _hosted(contact, session_id)
    form = HostDeclineForm(prefix=f"decline-{session.id}")
    if not form.validate_on_submit():
        details = HostDetailsForm(prefix=f"host-{session.id}", formdata=None, obj=session)
        return _member_page(contact, 400, host_forms={session.id: (form, details)})
    if _host_may_answer(session):
        scheduling.decline_host(session, contact.id, form.reason.data or "")
        notify.host_declined(session, contact)
        db.session.commit()
        flash(
            _(
                "Thank you for letting us know. The facilitator has been told and will "
                "look for another host."
            ),
            "success",
        )
    return _back(token, session_id)


@bp.route("/m/<token>/sessions/<int:session_id>/host/details", methods=["POST"])
@requires(PERSONAL_LINK)
def member_host_details(contact: Contact, session_id: int) -> Any:
    """The host fills in what it will show and the practical information."""
    token = request.view_args["token"]  # type: ignore[index]
    session = _hosted(contact, session_id)
    form = HostDetailsForm(prefix=f"host-{session.id}")
    if not form.validate_on_submit():
        decline = HostDeclineForm(prefix=f"decline-{session.id}", formdata=None)
        return _member_page(contact, 400, host_forms={session.id: (decline, form)})
    if _host_may_answer(session):
        scheduling.update_host_details(
            session, form.host_showcase.data or "", form.practical_info.data or ""
        )
        flash(_("Saved. Everyone coming sees it on their page."), "success")
    return _back(token, session_id)


@bp.route("/m/<token>/requests/<int:request_id>", methods=["POST"])
@requires(PERSONAL_LINK)
def member_request_answer(contact: Contact, request_id: int) -> Response:
    """A contact agrees (``decision=accept``) or not (``decline``) that a network which asked
    their facility to join makes it a member; only then does that network see its people."""
    token = request.view_args["token"]  # type: ignore[index]
    asked = db.session.get(MembershipRequest, request_id)
    if asked is None or asked.facility_id != contact.facility_id:
        abort(404)
    decision = request.form.get("decision")
    name = asked.network.name
    try:
        if decision == "accept":
            networks.accept_request(asked, contact=contact)
            flash(_("Thank you! Your facility is now a member of %(name)s.", name=name), "success")
        elif decision == "decline":
            networks.decline_request(asked, contact)
            flash(_("Declined: %(name)s does not add your facility.", name=name), "success")
        else:
            flash(_("Choose Accept or Decline."), "error")
    except networks.NotPending:
        flash(_("This request has already been answered or withdrawn."), "info")
    return redirect(url_for("rsvp.member", token=token) + "#requests", code=303)


@bp.route("/m/<token>/messages", methods=["POST"])
@requires(PERSONAL_LINK)
def member_message(contact: Contact) -> Any:
    """A short message to the facilitators about one of the member's sessions."""
    token = request.view_args["token"]  # type: ignore[index]
    form = MessageForm(prefix="message")
    form.session.choices = []  # checked by the service: one of the member's sessions
    if form.validate_on_submit():
        ident = parse_id(form.session.data or "")
        try:
            message = services.add_member_message(contact, ident or 0, form.body.data or "")
        except services.MessageError:
            db.session.rollback()
            form.session.errors = [_("Choose one of your sessions.")]
        else:
            notify.send_member_message(message)
            flash(
                _("Your message has been sent to the facilitator. The answer comes by mail.")
                if contact.email
                else _("Your message has been sent to the facilitator."),
                "success",
            )
            return redirect(url_for("rsvp.member", token=token) + "#contact", code=303)
    return _member_page(contact, 400, message_form=form)


@bp.route("/m/<token>/colleagues", methods=["POST"])
@requires(PERSONAL_LINK)
def member_colleague_add(contact: Contact) -> Any:
    """Add a colleague of the member's own facility."""
    token = request.view_args["token"]  # type: ignore[index]
    form = ColleagueForm(prefix="colleague")
    if form.validate_on_submit():
        name, email = form.name.data.strip(), form.email.data
        same = services.same_colleague(contact, name, email)
        decision = form.decision.data
        if same is not None and decision == "same":
            back = redirect(url_for("rsvp.member", token=token) + "#colleagues", code=303)
            if same.id == contact.id:
                flash(_("That is you: you are listed already."), "info")
            elif services.use_colleague(same):
                flash(_("%(name)s is listed as your colleague again.", name=same.name), "success")
            else:
                flash(_("%(name)s is already listed as your colleague.", name=same.name), "info")
            return back
        email_taken = same is not None and email and (same.email or "") == email.strip().lower()
        if same is not None and (decision != "other" or email_taken):
            # Ask first: "Is this Emma Wouters?" (the same address is always the same person).
            return _member_page(contact, 200, colleague_form=form, same_colleague=same)
        try:
            colleague = services.add_colleague(contact, name, email)
        except DuplicateContact:
            db.session.rollback()
            form.email.errors = [_("A colleague with this email address is already listed.")]
        else:
            flash(_("%(name)s has been added as your colleague.", name=colleague.name), "success")
            return redirect(url_for("rsvp.member", token=token) + "#colleagues", code=303)
    return _member_page(contact, 400, colleague_form=form)


def _lost_link_key() -> str:
    return "link-again:" + (request.form.get("email", "") or "").strip().lower()


@bp.route("/m/lost", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit(
    lambda: current_app.config.get("LINK_AGAIN_LIMIT_PER_EMAIL", "3 per hour"),
    key_func=_lost_link_key,
    methods=["POST"],
    scope="link-again-email",
)
@limiter.limit(
    lambda: current_app.config.get("LINK_AGAIN_LIMIT_PER_ADDRESS", "20 per hour"),
    methods=["POST"],
    scope="link-again-address",
)
def lost_link() -> Any:
    """ "I lost my link": the personal link mailed again to an active contact's address.

    The answer is the same whether or not the address belongs to anyone, and it is sent
    before the address is even looked up (like the password-reset form), so neither its
    words nor its timing tell who is a contact person."""

    form = LostLinkForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        mail.after_response(notify.send_link_again, email)
        return render_template("rsvp/lost_sent.html", email=email)
    return render_template("rsvp/lost.html", form=form), 400 if request.method == "POST" else 200


# --- the facilitator's side ------------------------------------------------------------------


@bp.route("/contacts/<int:contact_id>/link")
@requires(CONTACT)
def contact_link(contact: Contact) -> str:
    """The contact's personal link: copy it, print a slip with a QR code, or renew it."""
    link = contacts.ensure_link(contact)
    db.session.commit()
    url = url_for("rsvp.member", token=contacts.token_of(link), _external=True)
    return render_template(
        "rsvp/contact_link.html",
        contact=contact,
        url=url,
        qr_svg=qr_svg(url),
        issued=link.created_at,
        slip="slip" in request.args,
    )


@bp.route("/contacts/<int:contact_id>/link/renew", methods=["POST"])
@requires(CONTACT)
def contact_link_renew(contact: Contact) -> Response:
    """Revoke the contact's link (it stops working at once, and so does the calendar feed
    its page offered) and issue a new one."""
    contacts.reissue_link(contact)
    flash(
        _(
            "A new personal link has been made; the old one no longer works, nor does the "
            "calendar subscription made with it."
        ),
        "success",
    )
    return redirect(url_for("rsvp.contact_link", contact_id=contact.id), code=303)


def _session_page(
    session: Session, contact: Contact | None = None, anchor: str = "answers"
) -> Response:
    """Back to the session's answers; after an answer on someone's behalf, to their row;
    after sending mail, to the messages at the top that say what was sent."""
    anchor = f"person-{contact.id}" if contact is not None else anchor
    return redirect(url_for("pages.session_view", session_id=session.id, _anchor=anchor), code=303)


@bp.route("/sessions/<int:session_id>/answers", methods=["POST"])
@requires(SESSION)
def session_answer(session: Session) -> Response:
    """The facilitator sets an answer on a member's behalf (e.g. after a phone call)."""
    form = OnBehalfForm()
    raw = form.contact.data or ""
    ident = parse_id(raw)
    contact = db.session.get(Contact, ident) if ident is not None else None
    if contact is None or not form.validate_on_submit():
        flash(_("Choose a person and an answer."), "error")
        return _session_page(session)
    try:
        outcome = services.answer(
            session.id, contact, form.answer.data, form.note.data or "", by_user=current_user
        )
    except services.AnswerError as exc:
        db.session.rollback()
        flash(answer_errors().get(exc.code, _("The answer could not be saved.")), "error")
        return _session_page(session)
    flash(answer_message(outcome, contact, False), "success")
    for promoted in outcome.promoted:
        flash(_("%(name)s moves up from the waitlist.", name=promoted.contact.name), "success")
    return _session_page(session, contact)


@bp.route("/networks/<slug>/invitations", methods=["GET", "POST"])
@requires(NETWORK)
def network_invitations(network: Network) -> Any:
    """Invite to every upcoming session at once: see who would get what, then send.
    Sessions whose answers are closed are listed apart, never sent from here."""
    rows = notify.pending_invitations(network)
    closed = {s.id for s, _people in rows if not notify.answers_open(s)}
    open_rows = [(s, people) for s, people in rows if s.id not in closed]
    if request.method == "POST":
        queued = notify.send_season_invitations([s for s, people in open_rows if people])
        _flash_progress(queued, INVITATIONS)
        return redirect(url_for("rsvp.network_invitations", slug=network.slug), code=303)
    return render_template(
        "rsvp/invitations.html",
        network=network,
        rows=rows,
        closed=closed,
        total=sum(len(people) for _s, people in open_rows),
        recipients=len({c.id for _s, people in open_rows for c in people}),
    )


def _open_for_mail(session: Session) -> bool:
    if session.is_cancelled or session.starts_at <= utcnow():
        flash(_("This session is cancelled or has started; no messages are sent."), "error")
        return False
    return True


INVITATIONS, INFORMATION, REMINDERS = "invitations", "information", "reminders"


def _flash_progress(queued: list[Any], what: str) -> None:
    """Say what happened to the messages just queued: how many went out already and how
    many are still waiting for the mail sender (never "sent" for what was only queued)."""
    if not queued:
        flash(
            _("Nobody to remind: everyone answered or was reminded today.")
            if what == REMINDERS
            else _("Everyone with an email address has been invited already."),
            "success",
        )
        return
    progress = mail.send_now(m.id for m in queued)
    total = len(queued)
    if progress.sent == total:
        text = {
            INVITATIONS: ngettext("%(num)d invitation sent.", "%(num)d invitations sent.", total),
            INFORMATION: ngettext(
                "%(num)d information mail sent.", "%(num)d information mails sent.", total
            ),
            REMINDERS: ngettext("%(num)d reminder sent.", "%(num)d reminders sent.", total),
        }[what]
    else:
        text = {
            INVITATIONS: ngettext(
                "%(num)d invitation ready to send;", "%(num)d invitations ready to send;", total
            ),
            INFORMATION: ngettext(
                "%(num)d information mail ready to send;",
                "%(num)d information mails ready to send;",
                total,
            ),
            REMINDERS: ngettext(
                "%(num)d reminder ready to send;", "%(num)d reminders ready to send;", total
            ),
        }[what]
        text += " " + ngettext(
            "%(num)d has already been sent.", "%(num)d have already been sent.", progress.sent
        )
        if progress.waiting:
            text += " " + _("The others leave within minutes; the session page shows how far.")
    if progress.failed:
        text += " " + ngettext(
            "%(num)d could not be delivered.", "%(num)d could not be delivered.", progress.failed
        )
    flash(text, "error" if progress.failed else "success")


def _invitations_sent(queued: list[Any]) -> None:
    _flash_progress(queued, INVITATIONS)


@bp.route("/sessions/<int:session_id>/invitations", methods=["POST"])
@requires(SESSION)
def session_invite(session: Session) -> Response:
    """Send the invitation to every expected contact who has not had it yet; when answers
    are closed, ask the facilitator first (reopen, or inform without asking)."""
    if _open_for_mail(session):
        if not notify.answers_open(session):
            return redirect(url_for("rsvp.session_closed", session_id=session.id), code=303)
        _invitations_sent(notify.send_invitations(session))
    return _session_page(session, anchor="flashes")


@bp.route("/sessions/<int:session_id>/closed", methods=["GET", "POST"])
@requires(SESSION)
def session_closed(session: Session) -> Any:
    """Answers for the session are closed: reopen them until a new day and invite, or send
    an information mail that asks no answer."""
    if not _open_for_mail(session):
        return _session_page(session, anchor="flashes")
    form = ReopenForm()
    tz = session.network.timezone
    if request.method == "POST" and form.validate_on_submit():
        if form.action.data == "inform":
            _flash_progress(notify.send_invitations(session, information=True), INFORMATION)
            return _session_page(session, anchor="flashes")
        day = form.rsvp_deadline.data
        today = local_date(utcnow(), tz)
        if day is None:
            form.rsvp_deadline.errors = [_("Enter the day until which members can answer.")]
        elif day < today or day > local_date(session.starts_at, tz):
            form.rsvp_deadline.errors = [_("Choose a day from today until the day of the session.")]
        else:
            deadline = min(local_to_utc(day, time(23, 59), tz), session.starts_at)
            scheduling.update_details(session, {"rsvp_deadline": deadline})
            _invitations_sent(notify.send_invitations(session))
            return _session_page(session, anchor="flashes")
    elif request.method == "POST":
        form.rsvp_deadline.errors = form.rsvp_deadline.errors or [_("Enter a date.")]
    return render_template(
        "rsvp/closed.html",
        network=session.network,
        session=session,
        form=form,
        to_invite=len(notify.to_invite(session)),
        deadline=session.rsvp_deadline,
    ), (400 if request.method == "POST" else 200)


@bp.route("/sessions/<int:session_id>/nudges", methods=["POST"])
@requires(SESSION)
def session_nudge(session: Session) -> Response:
    """Remind the contacts who have not answered (not when answers are closed)."""
    if _open_for_mail(session):
        if not notify.answers_open(session):
            flash(
                _("Answers are closed: reopen them before you remind anyone."),
                "error",
            )
            return redirect(url_for("rsvp.session_closed", session_id=session.id), code=303)
        _flash_progress(notify.send_nudges(session), REMINDERS)
    return _session_page(session, anchor="flashes")


@bp.route("/sessions/<int:session_id>/host-request", methods=["POST"])
@requires(SESSION)
def session_host_request(session: Session) -> Response:
    """Ask the host's contacts by email to confirm."""
    if _open_for_mail(session):
        count = notify.send_host_requests(session)
        flash(
            ngettext(
                "Request sent to %(num)d contact of the host.",
                "Request sent to %(num)d contacts of the host.",
                count,
            )
            if count
            else _(
                "No request sent: the host has no contact with an email address, "
                "or was asked today."
            ),
            "success" if count else "error",
        )
    return redirect(url_for("pages.session_view", session_id=session.id), code=303)
