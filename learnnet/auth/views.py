"""Login, logout, own account, language choice and account administration."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from learnnet.access import ADMIN, PUBLIC, USER, requires
from learnnet.auth import bp, services
from learnnet.auth.forms import LoginForm, PasswordForm, ProfileForm, UserForm
from learnnet.auth.models import User
from learnnet.extensions import db, limiter


def safe_next(target: str | None) -> str | None:
    """Follow ``?next=`` only to a path on this site (no scheme, host or '//' tricks)."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def _account_key() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))


def _failed(response: Response) -> bool:
    """Only failed attempts count towards the login limits."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
)
def login() -> str | Response:
    """Log in with email and password; the session starts afresh."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            target = safe_next(request.args.get("next"))
            lang = flask_session.get("lang")
            flask_session.clear()  # a new session (and cookie) at login: no fixation
            if lang:
                flask_session["lang"] = lang
            login_user(user)
            flask_session.permanent = True
            return redirect(target or url_for("pages.dashboard"))
        error = _("That email address and password do not match an active account.")
    return render_template("auth/login.html", form=form, error=error)


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
                user, name=profile.name.data or user.name, locale=profile.locale.data or None
            )
            flash(_("Your details are saved."), "success")
            return redirect(url_for("auth.account"))
        if "password-submit" in request.form and password.validate_on_submit():
            if not user.check_password(password.current_password.data or ""):
                password.current_password.errors = [_("This is not your current password.")]
            else:
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


@bp.route("/admin/users")
@requires(ADMIN)
def users() -> str:
    """All facilitator and admin accounts."""
    return render_template("auth/users.html", users=services.list_users())


def _email_taken(form: UserForm, user: User | None) -> bool:
    other = services.user_by_email(form.email.data or "")
    if other is not None and (user is None or other.id != user.id):
        form.email.errors = [_("There is already an account with this email address.")]
        return True
    return False


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires(ADMIN)
def user_new() -> str | Response:
    """Create a facilitator or admin account."""
    form = UserForm()
    if form.validate_on_submit() and not _email_taken(form, None):
        if not form.password.data:
            form.password.errors = [_("Choose a password for the new account.")]
        else:
            user = services.create_user(
                form.email.data or "",
                form.name.data or "",
                form.password.data,
                form.role.data,
                active=bool(form.active.data),
            )
            flash(_("Account for %(name)s created.", name=user.name), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def user_edit(user_id: int) -> str | Response:
    """Edit an account; deactivating it or setting a password ends its logins."""
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
            )
            if form.password.data:
                services.change_password(user, form.password.data)
            flash(_("Account of %(name)s saved.", name=user.name), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)


@bp.route("/healthz")
@requires(PUBLIC)
def healthz() -> tuple[dict[str, str], int]:
    """For load balancers: the app runs and reaches its database."""
    from sqlalchemy import text

    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}, 200
