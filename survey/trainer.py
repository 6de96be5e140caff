"""The trainer's side: cohorts, their waves, the room page with the QR code."""
from __future__ import annotations

import segno
import sqlalchemy as sa
from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect,
                   render_template, url_for)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from . import services
from .auth import role_required
from .bank import curriculum_topics
from .extensions import db
from .forms import CohortForm, ConfirmForm
from .models import Cohort, Role, Unit, Wave
from .queries import response_counts

bp = Blueprint("trainer", __name__, url_prefix="/trainer")

STAFF = (Role.ADMIN, Role.TRAINER, Role.LEADER)
MANAGERS = (Role.ADMIN, Role.TRAINER)


def get_cohort(cohort_id: int) -> Cohort:
    """The cohort, if it belongs to the signed-in user's agency; else 404."""
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or cohort.agency_id != current_user.agency_id:
        abort(404, "There is no such class in your agency.")
    return cohort


def get_wave(wave_id: int) -> Wave:
    """The wave, if it belongs to the signed-in user's agency; else 404."""
    wave = db.session.get(Wave, wave_id)
    if wave is None or wave.agency_id != current_user.agency_id:
        abort(404, "There is no such survey in your agency.")
    return wave


def survey_url(wave: Wave) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("respond.notice", code=wave.join_code)
    return url_for("respond.notice", code=wave.join_code, _external=True)


@bp.route("/")
@role_required(*STAFF)
def index():
    """The agency's cohorts, newest first, with their waves and response counts."""
    cohorts = db.session.scalars(
        sa.select(Cohort).where(Cohort.agency_id == current_user.agency_id)
        .options(selectinload(Cohort.waves), selectinload(Cohort.trainer))
        .order_by(Cohort.held_on.desc(), Cohort.id.desc())).all()
    counts = response_counts([w.id for c in cohorts for w in c.waves])
    return render_template("trainer/index.html", cohorts=cohorts, counts=counts,
                           can_manage=current_user.role in MANAGERS)


@bp.route("/cohorts/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_cohort():
    """Create a cohort with its before and after waves."""
    units = db.session.scalars(sa.select(Unit).where(Unit.agency_id == current_user.agency_id)
                               .order_by(Unit.name)).all()
    form = CohortForm(units=units)
    if form.validate_on_submit():
        unit = next((u for u in units if u.id == form.unit_id.data), None)
        cohort = services.create_cohort(
            current_user.agency, name=form.name.data, held_on=form.held_on.data,
            trainer=current_user, unit=unit, location=form.location.data or "",
            topics=form.topics.data)
        if form.open_pre.data:
            services.open_wave(cohort.waves[0], current_app.config["WAVE_OPEN_HOURS"])
        flash(f"Class “{cohort.name}” created.")
        return redirect(url_for(".cohort", cohort_id=cohort.id))
    return render_template("trainer/new_cohort.html", form=form)


@bp.route("/cohorts/<int:cohort_id>")
@role_required(*STAFF)
def cohort(cohort_id):
    """One cohort: its topics, waves, join codes and counts."""
    cohort = get_cohort(cohort_id)
    counts = response_counts([w.id for w in cohort.waves])
    topics = curriculum_topics()
    return render_template("trainer/cohort.html", cohort=cohort, counts=counts,
                           topics=[topics[t].label for t in cohort.topic_codes if t in topics],
                           form=ConfirmForm(), can_manage=current_user.role in MANAGERS)


@bp.route("/waves/<int:wave_id>/open", methods=["POST"])
@role_required(*MANAGERS)
def open_wave(wave_id):
    """Open a wave now."""
    wave = get_wave(wave_id)
    if ConfirmForm().validate_on_submit():
        services.open_wave(wave, current_app.config["WAVE_OPEN_HOURS"])
        flash(f"{wave.label} survey is open. Code: {wave.join_code}.")
    return redirect(url_for(".cohort", cohort_id=wave.cohort_id))


@bp.route("/waves/<int:wave_id>/close", methods=["POST"])
@role_required(*MANAGERS)
def close_wave(wave_id):
    """Close a wave now."""
    wave = get_wave(wave_id)
    if ConfirmForm().validate_on_submit():
        services.close_wave(wave)
        flash(f"{wave.label} survey is closed.")
    return redirect(url_for(".cohort", cohort_id=wave.cohort_id))


@bp.route("/waves/<int:wave_id>/room")
@role_required(*STAFF)
def room(wave_id):
    """The page for the projector: a large QR code, the join code, the count of answers."""
    wave = get_wave(wave_id)
    url = survey_url(wave)
    qr = segno.make_qr(url, error="m").svg_inline(scale=10, border=4, omitsize=True)
    return render_template("trainer/room.html", wave=wave, url=url, qr=qr,
                           count=response_counts([wave.id])[wave.id])


@bp.route("/waves/<int:wave_id>/qr.svg")
@role_required(*STAFF)
def qr_svg(wave_id):
    """The QR code alone, as an SVG file to print or paste into slides."""
    wave = get_wave(wave_id)
    svg = segno.make_qr(survey_url(wave), error="m").svg_inline(scale=10, border=4)
    return Response(svg, mimetype="image/svg+xml", headers={
        "Content-Disposition": f'inline; filename="survey-{wave.join_code}.svg"'})


@bp.route("/waves/<int:wave_id>/count.json")
@role_required(*STAFF)
def count(wave_id):
    """The live count the room page polls."""
    wave = get_wave(wave_id)
    return jsonify(count=response_counts([wave.id])[wave.id], status=wave.status().value)
