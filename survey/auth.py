"""Staff sign-in. Officers never sign in."""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_user, logout_user

from . import accounts
from .extensions import db, limiter
from .services import audit
from .forms import ConfirmForm, LoginForm, SetPasswordForm
from .models import Role, StaffUser

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: Where each role lands after signing in.
HOME = {Role.ADMIN: "trainer.index", Role.TRAINER: "trainer.index",
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
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"],
               deduct_when=lambda response: response.status_code != 302,
               error_message="Too many failed sign-ins from this network. Wait a minute, then "
                             "try again.")
def login():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME[current_user.role]))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(StaffUser).where(
            StaffUser.email == form.email.data.strip().lower()))
        if user is None or not user.check_password(form.password.data) or not user.active:
            form.password.errors.append("That e-mail and password do not match an active account.")
            if user is not None:
                audit(user.agency_id, user, "auth.login_failed", user.email)
                db.session.commit()
        else:
            login_user(user)
            audit(user.agency_id, user, "auth.login", user.email)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")) or url_for(HOME[user.role]))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out."""
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash("You are signed out.")
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
            flash("Your password is set and you are signed in.")
            return redirect(url_for(HOME[user.role]))
    return render_template("auth/welcome.html", form=form, user=link.staff_user,
                           invite=link.purpose.value == "invite")
