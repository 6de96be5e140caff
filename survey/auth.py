"""Staff sign-in. Officers never sign in."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from . import accounts, lockout
from .errors import render_error
from .extensions import db
from .services import audit
from .forms import ConfirmForm, LoginForm, SetPasswordForm
from .models import Role
from .web import start_staff_session

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: Where each role lands after signing in.
HOME = {Role.ADMIN: "admin.index", Role.TRAINER: "trainer.index",
        Role.LEADER: "leadership.index"}


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME[current_user.role]))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        counters = lockout.buckets(email)
        if lockout.blocked(counters):
            return render_error(TooManyRequests(
                "Too many failed sign-ins for this account from here. Wait a while and try "
                "again, or ask an administrator to unlock the account."))
        user, ok = accounts.authenticate(email, form.password.data)
        if not ok:
            lockout.failed(counters)
            form.password.errors.append("That e-mail and password do not match an active account.")
            if user is not None:
                audit(user.agency_id, user, "auth.login_failed", user.email)
                db.session.commit()
        else:
            login_user(user)
            start_staff_session()
            audit(user.agency_id, user, "auth.login", user.email)
            db.session.commit()
            response = redirect(safe_next(request.args.get("next")) or url_for(HOME[user.role]))
            lockout.remember_device(response, email)
            return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: every session of the account ends, on every device."""
    if ConfirmForm().validate_on_submit():
        if current_user.is_authenticated:
            accounts.end_sessions(current_user._get_current_object(), current_user,
                                  "signed out")
        logout_user()
        flash("You are signed out, on this device and every other.")
    return redirect(url_for("auth.login"))


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token):
    """A one-time link from an administrator: set a password, then you are signed in."""
    link = accounts.find_link(token)
    if link is None:
        return render_template("auth/link_expired.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        problem = accounts.password_problem(form.password.data, link.staff_user)
        if problem:
            form.password.errors.append(problem)
        else:
            user = accounts.use_link(link, form.password.data)
            logout_user()
            login_user(user)
            start_staff_session()
            flash("Your password is set and you are signed in.")
            return redirect(url_for(HOME[user.role]))
    return render_template("auth/welcome.html", form=form, user=link.staff_user,
                           invite=link.purpose.value == "invite")
