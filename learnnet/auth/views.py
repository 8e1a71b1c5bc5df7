"""Login, logout, own account, language choice and account administration."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from learnnet.access import ADMIN, PUBLIC, USER, requires, use_locale
from learnnet.auth import services
from learnnet.auth.blueprint import bp
from learnnet.auth.forms import (
    MIN_PASSWORD,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    NewPasswordForm,
    PasswordForm,
    ProfileForm,
    UserForm,
)
from learnnet.auth.guard import ACCOUNT_ALL, LoginGuard
from learnnet.auth.models import User
from learnnet.extensions import db, limiter
from learnnet.mail import services as mail


def safe_next(target: str | None) -> str | None:
    """Follow ``?next=`` only to a path on this site (no scheme, host or '//' tricks)."""
    if not target:
        return None
    target = target.strip()
    try:
        parts = urlsplit(target)
    except ValueError:  # "//[::1": not a URL at all
        return None
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def _start_login(user: User) -> None:
    """A new session (and cookie) at login: no fixation; the chosen language stays."""
    lang = flask_session.get("lang")
    flask_session.clear()
    if lang:
        flask_session["lang"] = lang
    login_user(user)
    flask_session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login() -> str | Response:
    """Log in with email and password; the session starts afresh.

    Each attempt is counted before the password is checked (:mod:`learnnet.auth.guard`).
    """
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        guard = LoginGuard(form.email.data or "")
        if not guard.attempt():  # counted only when it reaches the password check
            return render_template("auth/login.html", form=form, error=_refused(guard)), 429
        user = services.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            guard.succeeded()
            target = safe_next(request.args.get("next"))
            _start_login(user)
            return redirect(target or url_for("pages.dashboard"))
        error = _("That email address and password do not match an active account.")
    return render_template("auth/login.html", form=form, error=error)


def _refused(guard: LoginGuard) -> str:
    """Why a login attempt was refused, and the way out."""
    if guard.refused_by == ACCOUNT_ALL:
        return _(
            "This account is locked for up to an hour after too many wrong passwords. "
            "Use “Forgot your password?” below: the link we mail you unlocks it."
        )
    return _("Too many attempts. Wait a few minutes and try again.")


@bp.route("/logout", methods=["POST"])
@requires(USER)
def logout() -> Response:
    """Log out everywhere: the account's other session cookies stop working too."""
    services.end_all_logins(current_user._get_current_object())
    logout_user()
    flask_session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@requires(PUBLIC)
def set_language() -> Response:
    """Switch the interface language (remembered on the account when logged in)."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    flask_session["lang"] = lang
    if current_user.is_authenticated:
        services.update_profile(current_user._get_current_object(), locale=lang)
    target = safe_next(request.form.get("next")) or url_for("pages.dashboard")
    return redirect(target)


@bp.route("/account", methods=["GET", "POST"])
@requires(USER)
def account() -> str | Response:
    """Own name, language and password."""
    user: User = current_user._get_current_object()
    profile = ProfileForm(prefix="profile", obj=user)
    password = PasswordForm(prefix="password")
    if request.method == "GET":
        profile.locale.data = user.locale or ""
    if request.method == "POST":
        if "profile-submit" in request.form and profile.validate_on_submit():
            services.update_profile(
                user,
                name=profile.name.data or user.name,
                locale=profile.locale.data or None,
                phone=profile.phone.data or "",
                show_phone=bool(profile.show_phone.data),
            )
            flash(_("Your details are saved."), "success")
            return redirect(url_for("auth.account"))
        if "password-submit" in request.form and password.validate_on_submit():
            guard = LoginGuard(user.email, scope="current-password")
            if not guard.attempt():
                abort(429)
            if not user.check_password(password.current_password.data or ""):
                password.current_password.errors = [_("This is not your current password.")]
            else:
                guard.succeeded()
                services.change_password(user, password.new_password.data or "")
                # Other sessions have ended; keep this one by logging in with the new token.
                flask_session.clear()
                login_user(user)
                flash(
                    _("Your password is changed. You are signed out on all other devices."),
                    "success",
                )
                return redirect(url_for("auth.account"))
    return render_template("auth/account.html", profile=profile, password=password)


def _reset_account_key() -> str:
    return "reset:" + services.normalise_email(request.form.get("email", ""))


@bp.route("/account/forgot", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit(
    lambda: current_app.config.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT", "5 per hour"),
    key_func=_reset_account_key,
    methods=["POST"],
    scope="reset-account",
)
@limiter.limit(
    lambda: current_app.config.get("PASSWORD_RESET_LIMIT_PER_ADDRESS", "20 per hour"),
    methods=["POST"],
    scope="reset-address",
)
def forgot_password() -> str:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # Looking the address up, writing the mail and sending it all happen after the
        # answer has gone: before, an existing account's answer came 1.1 ms later.
        mail.after_response(
            services.request_password_reset, form.email.data or "", str(get_locale())
        )
        return render_template(
            "auth/forgot_sent.html",
            email=form.email.data or "",
            valid_for=timedelta(seconds=services.token_max_age(services.RESET)),
        )
    return render_template("auth/forgot.html", form=form)


def _password_by_link(token: str, purpose: str) -> str | Response | tuple[str, int]:
    """Shared by the invitation and reset pages: check the link, then choose a password."""
    g.token_page = True  # no Referer, no caching: the URL holds a secret
    user = services.user_for_account_token(token, purpose)
    if user is None:
        return render_template("auth/link_invalid.html", purpose=purpose), 404
    if user.locale in current_app.config["LANGUAGES"]:
        use_locale(user.locale)  # the page speaks the account's own language
    form = NewPasswordForm()
    if purpose == services.INVITE:  # a new account: say how to choose one, not just how long
        form.new_password.description = _(
            "At least %(num)d characters. A few words you will remember work well, e.g. "
            "a short sentence.",
            num=MIN_PASSWORD,
        )
    if form.validate_on_submit():
        if not services.set_password_by_link(user, form.new_password.data or ""):
            return render_template("auth/link_invalid.html", purpose=purpose), 404
        LoginGuard(user.email).unlock()  # the mailed link proves the owner
        _start_login(user)
        if purpose == services.INVITE:
            flash(_("Welcome, %(name)s! Your password is set.", name=user.name), "success")
        else:
            flash(_("Your new password is set. You are logged in."), "success")
        return redirect(url_for("pages.dashboard"))
    return render_template(
        "auth/set_password.html", form=form, user=user, welcome=purpose == services.INVITE
    )


@bp.route("/account/reset/<reset_token>", methods=["GET", "POST"])
@requires(PUBLIC)
def reset_password(reset_token: str) -> str | Response | tuple[str, int]:
    """Choose a new password through the one-time link of a reset mail."""
    return _password_by_link(reset_token, services.RESET)


@bp.route("/account/welcome/<invite_token>", methods=["GET", "POST"])
@requires(PUBLIC)
def welcome(invite_token: str) -> str | Response | tuple[str, int]:
    """Choose a first password through the one-time link of an invitation."""
    return _password_by_link(invite_token, services.INVITE)


@bp.route("/admin/users")
@requires(ADMIN)
def users() -> str:
    """All facilitator and admin accounts."""
    return render_template("auth/users.html", users=services.list_users())


def _email_taken(form: InviteForm | UserForm, user: User | None) -> bool:
    other = services.user_by_email(form.email.data or "")
    if other is not None and (user is None or other.id != user.id):
        form.email.errors = [_("There is already an account with this email address.")]
        return True
    return False


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires(ADMIN)
def user_new() -> str | Response:
    """Create a facilitator or admin account and mail its owner an invitation link."""
    form = InviteForm()
    if form.validate_on_submit() and not _email_taken(form, None):
        user = services.invite_user(
            form.email.data or "",
            form.name.data or "",
            form.role.data,
            locale=form.locale.data or None,
            invited_by=current_user._get_current_object(),
            may_create_networks=bool(form.may_create_networks.data),
        )
        flash(
            _(
                "Account for %(name)s created. An invitation to choose a password is on its "
                "way to %(email)s.",
                name=user.name,
                email=user.email,
            ),
            "success",
        )
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def user_edit(user_id: int) -> str | Response:
    """Edit an account; deactivating it ends its logins."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if form.validate_on_submit() and not _email_taken(form, user):
        if user.id == current_user.id and (not form.active.data or form.role.data != user.role):
            form.active.errors = [_("You cannot deactivate or demote your own account.")]
        else:
            services.update_user(
                user,
                name=form.name.data or "",
                email=form.email.data or "",
                role=form.role.data or user.role,
                active=bool(form.active.data),
                may_create_networks=bool(form.may_create_networks.data),
            )
            flash(_("Account of %(name)s saved.", name=user.name), "success")
            return redirect(url_for("auth.users"))
    return render_template(
        "auth/user_form.html",
        form=form,
        user=user,
        can_invite=services.can_resend_invitation(user),
    )


@bp.route("/admin/users/<int:user_id>/invite", methods=["POST"])
@requires(ADMIN)
def user_invite(user_id: int) -> Response:
    """Mail a new invitation to an account that never logged in; older links stop working."""
    user = db.get_or_404(User, user_id)
    if services.resend_invitation(user, invited_by=current_user._get_current_object()):
        flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")
    elif not user.active:
        flash(_("Activate the account before sending an invitation."), "error")
    else:
        flash(
            _(
                "%(name)s has logged in before. They can use “Forgot your password?” on the "
                "login page.",
                name=user.name,
            ),
            "error",
        )
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.route("/healthz")
@requires(PUBLIC)
def healthz() -> tuple[dict[str, str], int]:
    """For load balancers and monitoring: can this app serve, and what does it depend on?

    503 when the database cannot be reached (take this server out of rotation). When only
    the rate-limit store (Redis) is down the answer stays 200, because every server shares
    it and taking them all out would stop the site: the limits count per worker meanwhile,
    and the body says ``"status": "degraded"`` with the failing dependency, for monitoring.
    """
    from sqlalchemy import text

    from learnnet.extensions import counters, shared_store_ok

    checks = {"database": "ok", "rate_limits": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        checks["database"] = "unreachable"
    if not shared_store_ok() or counters.degraded:
        checks["rate_limits"] = "unreachable"
    if checks["database"] != "ok":
        return {"status": "down", **checks}, 503
    if checks["rate_limits"] != "ok":
        return {"status": "degraded", **checks}, 200
    return {"status": "ok", **checks}, 200
