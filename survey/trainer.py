"""The trainer's side: cohorts, their waves, the room page with the QR code."""
from __future__ import annotations

import datetime as dt

import segno
import sqlalchemy as sa
from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect,
                   render_template, request, url_for)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from . import publishing, reports, services, web
from .access import (can_manage, get_cohort, get_wave, manages_class, readable_cohorts,
                     reads_class, role_required)
from .bank import curriculum_topics
from .extensions import db
from .forms import CohortForm, ConfirmForm
from .models import Cohort, Role, StaffUser, Unit, Wave
from .queries import response_counts

bp = Blueprint("trainer", __name__, url_prefix="/trainer")

STAFF = (Role.ADMIN, Role.TRAINER, Role.LEADER)
MANAGERS = (Role.ADMIN, Role.TRAINER)


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
        sa.select(Cohort).where(Cohort.agency_id == current_user.agency_id, readable_cohorts())
        .options(selectinload(Cohort.waves), selectinload(Cohort.trainer))
        .order_by(Cohort.held_on.desc(), Cohort.id.desc())).all()
    counts = response_counts([w.id for c in cohorts for w in c.waves])
    return render_template("trainer/index.html", cohorts=cohorts, counts=counts,
                           can_manage=current_user.role in MANAGERS)


def _agency_choices():
    """The agency's units and the staff who can run a class, for the cohort form."""
    units = db.session.scalars(sa.select(Unit).where(Unit.agency_id == current_user.agency_id)
                               .order_by(Unit.name)).all()
    trainers = db.session.scalars(sa.select(StaffUser).where(
        StaffUser.agency_id == current_user.agency_id, StaffUser.active,
        StaffUser.role.in_(MANAGERS)).order_by(StaffUser.name)).all()
    return units, trainers


def _picked(options, wanted_id):
    return next((o for o in options if o.id == wanted_id), None)


@bp.route("/cohorts/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_cohort():
    """Create a cohort with its before and after waves."""
    units, trainers = _agency_choices()
    form = CohortForm(units=units, trainers=trainers, trainer_id=current_user.id)
    if form.validate_on_submit():
        cohort = services.create_cohort(
            current_user.agency, name=form.name.data, held_on=form.held_on.data,
            trainer=_picked(trainers, form.trainer_id.data),
            unit=_picked(units, form.unit_id.data), location=form.location.data or "",
            topics=form.topics.data, followups=form.followups.data, by=current_user,
            co_trainers=[t for t in trainers if t.id in form.co_trainer_ids.data])
        if form.open_pre.data:
            services.open_wave(cohort.waves[0], current_app.config["WAVE_OPEN_HOURS"],
                               by=current_user)
        flash(f"Class “{cohort.name}” created.")
        return redirect(url_for(".cohort", cohort_id=cohort.id))
    return render_template("trainer/new_cohort.html", form=form)


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
@manages_class
def edit_cohort(cohort_id):
    """Change a cohort's details, or add follow-ups."""
    cohort = get_cohort(cohort_id)
    units, trainers = _agency_choices()
    form = CohortForm(units=units, trainers=trainers, obj=cohort, unit_id=cohort.unit_id or 0,
                      topics=cohort.topic_codes, co_trainer_ids=[t.id for t in cohort.co_trainers],
                      followups=[w.followup_days for w in cohort.waves if w.followup_days])
    if form.validate_on_submit():
        services.update_cohort(cohort, name=form.name.data, held_on=form.held_on.data,
                               trainer=_picked(trainers, form.trainer_id.data),
                               unit=_picked(units, form.unit_id.data),
                               location=form.location.data or "", topics=form.topics.data,
                               followups=form.followups.data, by=current_user,
                               co_trainers=[t for t in trainers
                                            if t.id in form.co_trainer_ids.data])
        flash("Class updated.")
        return redirect(url_for(".cohort", cohort_id=cohort.id))
    return render_template("trainer/new_cohort.html", form=form, cohort=cohort)


@bp.route("/cohorts/<int:cohort_id>")
@role_required(*STAFF)
@reads_class
def cohort(cohort_id):
    """One cohort: its topics, waves, join codes and counts."""
    cohort = get_cohort(cohort_id)
    counts = response_counts([w.id for w in cohort.waves])
    topics = curriculum_topics()
    return render_template("trainer/cohort.html", cohort=cohort, counts=counts,
                           topics=[topics[t].label for t in cohort.topic_codes if t in topics],
                           form=ConfirmForm(), can_manage=can_manage(cohort))


@bp.route("/waves/<int:wave_id>/open", methods=["POST"])
@role_required(*MANAGERS)
@manages_class
def open_wave(wave_id):
    """Open a wave now."""
    wave = get_wave(wave_id)
    if wave.sealed_at is not None:
        flash(f"{wave.label} survey has closed and its results are published: it cannot open "
              "again.")
    elif ConfirmForm().validate_on_submit():
        services.open_wave(wave, current_app.config["WAVE_OPEN_HOURS"], by=current_user)
        publishing.schedule(wave)
        flash(f"{wave.label} survey is open. Code: {wave.join_code}.")
    return redirect(url_for(".cohort", cohort_id=wave.cohort_id))


@bp.route("/waves/<int:wave_id>/close", methods=["POST"])
@role_required(*MANAGERS)
@manages_class
def close_wave(wave_id):
    """Close a wave now."""
    wave = get_wave(wave_id)
    if ConfirmForm().validate_on_submit():
        services.close_wave(wave, by=current_user)
        publishing.schedule(wave)
        at = publishing.publishes_at(wave.closes_at)
        flash(f"{wave.label} survey is closed. Officers who had started can still send for "
              f"{current_app.config['SUBMIT_GRACE_MINUTES']} minutes; the results are "
              f"published at {web.local_time(at, wave.agency.timezone, '%H:%M')}."
              if wave.sealed_at is None else f"{wave.label} survey is closed and its results "
              "are published.")
    return redirect(url_for(".cohort", cohort_id=wave.cohort_id))


@bp.route("/waves/<int:wave_id>/room")
@role_required(*STAFF)
@reads_class
def room(wave_id):
    """The page for the projector: a large QR code, the join code, the count of answers."""
    wave = get_wave(wave_id)
    url = survey_url(wave)
    qr = segno.make_qr(url, error="m").svg_inline(scale=10, border=4, omitsize=True)
    return render_template("trainer/room.html", wave=wave, url=url, qr=qr,
                           count=response_counts([wave.id])[wave.id])


@bp.route("/waves/<int:wave_id>/qr.svg")
@role_required(*STAFF)
@reads_class
def qr_svg(wave_id):
    """The QR code alone, as an SVG file to print or paste into slides."""
    wave = get_wave(wave_id)
    svg = segno.make_qr(survey_url(wave), error="m").svg_inline(scale=10, border=4)
    return Response(svg, mimetype="image/svg+xml", headers={
        "Content-Disposition": f'inline; filename="survey-{wave.join_code}.svg"'})


@bp.route("/waves/<int:wave_id>/count.json")
@role_required(*STAFF)
@reads_class
def count(wave_id):
    """The live count the room page polls."""
    wave = get_wave(wave_id)
    return jsonify(count=response_counts([wave.id])[wave.id], status=wave.status().value)


# --- Reports -------------------------------------------------------------------------------------

@bp.route("/cohorts/<int:cohort_id>/report")
@role_required(*STAFF)
@reads_class
def report(cohort_id):
    """The cohort report as published when its surveys closed; open surveys show counts only."""
    return _published_page(cohort_id, "trainer/report.html", "page.html")


@bp.route("/cohorts/<int:cohort_id>/brief")
@role_required(*STAFF)
@reads_class
def brief(cohort_id):
    """The class on one page, to hand out: published with its report."""
    return _published_page(cohort_id, "trainer/brief.html", "brief.html")


def _published_page(cohort_id: int, template: str, name: str):
    """`template` around the part `name` of the class's published result (the report or the
    brief), with the counts of its open surveys."""
    cohort = get_cohort(cohort_id)
    context = publishing.page_context(publishing.cohort_subject(cohort.id), cohort.agency,
                                      cohort.waves, show_error=current_user.role is Role.ADMIN,
                                      name=name)
    return web.render_published(template, cohort=cohort, **context)


@bp.route("/cohorts/<int:cohort_id>/brief-<any(letter, a4):paper>.pdf")
@role_required(*STAFF)
@reads_class
def brief_pdf(cohort_id, paper):
    """The class brief as a PDF on Letter or A4, as published."""
    cohort = get_cohort(cohort_id)
    return publishing.download(publishing.cohort_subject(cohort.id), cohort.agency,
                               f"brief-{paper}.pdf", f"cohort-{cohort.id}-brief-{paper}.pdf")


@bp.route("/cohorts/<int:cohort_id>/report.<any(csv, json):fmt>")
@role_required(*STAFF)
@reads_class
def report_export(cohort_id, fmt):
    """The published report's tables, as the page shows them."""
    cohort = get_cohort(cohort_id)
    return publishing.download_tables(publishing.cohort_subject(cohort.id), cohort.agency, fmt,
                                      "report", f"cohort-{cohort.id}-report", "change")


def _comparison_from_request():
    """The cohorts the compare page's filters pick, and the filters as given."""
    all_cohorts = db.session.scalars(
        sa.select(Cohort).where(Cohort.agency_id == current_user.agency_id, readable_cohorts())
        .options(selectinload(Cohort.trainer), selectinload(Cohort.topics))
        .order_by(Cohort.held_on, Cohort.id)).all()
    args = request.args
    picked = {int(i) for i in args.getlist("cohort") if i.isdigit()}
    start = _date(args.get("start"))
    end = _date(args.get("end"))
    trainer_id = int(args["trainer"]) if args.get("trainer", "").isdigit() else None
    chosen = reports.filter_cohorts(all_cohorts, trainer_id=trainer_id,
                                    topic=args.get("topic") or None, start=start, end=end)
    if picked:
        chosen = [c for c in chosen if c.id in picked]
    filters = {"cohort": picked, "start": start, "end": end, "trainer": trainer_id,
               "topic": args.get("topic") or ""}
    return all_cohorts, chosen, filters


def _date(text):
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.route("/compare")
@role_required(*STAFF)
def compare():
    """Cohorts side by side, from their published results: computed once per selection in a
    job and kept; while it is computed the page says so."""
    all_cohorts, chosen, filters = _comparison_from_request()
    result, body, _ = (publishing.compare(current_user.agency_id, [c.id for c in chosen])
                       if chosen else (None, None, None))
    trainers = db.session.scalars(sa.select(StaffUser).where(
        StaffUser.agency_id == current_user.agency_id,
        StaffUser.role.in_([Role.TRAINER, Role.ADMIN])).order_by(StaffUser.name)).all()
    return web.render_published("trainer/compare.html", chosen=chosen, result=result,
                           body=body,
                           tables=result.basis.get("tables", []) if result else [],
                           all_cohorts=all_cohorts, filters=filters, trainers=trainers,
                           topics=curriculum_topics(), query=request.query_string.decode())


@bp.route("/compare.<any(csv, json):fmt>")
@role_required(*STAFF)
def compare_export(fmt):
    """The comparison's tables, as the page shows them (once computed)."""
    _, chosen, _ = _comparison_from_request()
    if not chosen:
        abort(404, "No class matches these choices.")
    _, _, subject = publishing.compare(current_user.agency_id, [c.id for c in chosen])
    return publishing.download_tables(subject, current_user.agency, fmt, "compare",
                                      "cohort-comparison", "changes")


#: Roles that may download response-level data (leaders see aggregates only).
EXPORTERS = (Role.ADMIN, Role.TRAINER)


@bp.route("/cohorts/<int:cohort_id>/responses.<any(csv, xlsx, sav):fmt>")
@role_required(*EXPORTERS)
@manages_class
def responses_export(cohort_id, fmt):
    """Response-level data for evaluators, as published when the surveys closed: no linkage
    hashes, small waves left out, nothing from a survey still open."""
    cohort = get_cohort(cohort_id)
    response = publishing.download(publishing.cohort_subject(cohort.id), cohort.agency,
                                   f"responses.{fmt}", f"cohort-{cohort.id}-responses.{fmt}")
    services.audit(cohort.agency_id, current_user, "export.responses", f"cohort {cohort.id}",
                   format=fmt)
    db.session.commit()
    return response


@bp.route("/cohorts/<int:cohort_id>/codebook.csv")
@role_required(*EXPORTERS)
@manages_class
def codebook(cohort_id):
    """What each column of the response-level files means."""
    cohort = get_cohort(cohort_id)
    return publishing.download(publishing.cohort_subject(cohort.id), cohort.agency,
                               "codebook.csv", f"cohort-{cohort.id}-codebook.csv")
