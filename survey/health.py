"""`/healthz`, for a load balancer: can this server reach the database?"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """200 ``{"database": "ok"}`` when ``SELECT 1`` works, else 503 ``"unreachable"``."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        reply, status = {"database": "ok"}, 200
    except SQLAlchemyError:
        reply, status = {"database": "unreachable"}, 503
    response = jsonify(reply)
    response.headers["Cache-Control"] = "no-store"
    return response, status
