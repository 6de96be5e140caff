"""Error pages that say what went wrong in plain words."""
from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from .extensions import db

TITLES = {
    400: "Something in that request was not right",
    403: "You do not have access to that page",
    404: "Page not found",
    405: "That action is not allowed here",
    413: "That was too much data",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "The survey is briefly unavailable",
}


def render_error(error: HTTPException):
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    return render_template("errors/error.html", code=code,
                           title=TITLES.get(code, error.name),
                           message=error.description), code


def form_expired(error: CSRFError):
    """A staff form without a valid token (expired, from another site, cookies blocked)."""
    return render_error(BadRequest(
        "This form had expired or did not come from this site, so nothing was saved. Go back, "
        "reload the page and try again."))


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(CSRFError, form_expired)
