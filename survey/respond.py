"""The officer's path: join code, what we keep, linkage code, questions, thank you.

Nothing here reads the client's address or user agent, and nothing it stores carries a time of
day. The browser-session cookie holds only the survey's own state (a random nonce, the keyed
linkage hashes until the answers are in, the waves already answered) and ends with the browser.
"""
from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, g, redirect, render_template, request, session,
                   url_for)
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import ServiceUnavailable

from . import joincode, linkage, publishing, services
from .errors import render_error
from .extensions import db, limiter
from .forms import (ABOUT_FIELDS, JoinForm, check_about, check_posted, linkage_answers,
                    linkage_form, survey_form)
from .models import Agency, Unit, Wave, WaveKind, WaveStatus, utcnow
from .survey_page import AgencyView, WaveView, cached_items, render_survey

bp = Blueprint("respond", __name__)

#: Guessing join codes, typed or in a link, counts against one limit; right codes never do.
join_limit = limiter.shared_limit(
    lambda: current_app.config["JOIN_LIMIT"], scope="join-code",
    deduct_when=lambda response: g.get("join_failed", False),
    error_message="Too many wrong codes from this network. Wait a minute, then try again.")


def get_wave(code: str) -> Wave | None:
    code = joincode.normalize(code)
    if not joincode.is_well_formed(code):
        return None
    return db.session.scalar(sa.select(Wave).options(joinedload(Wave.agency))
                             .where(Wave.join_code == code))


def get_wave_or_404(code: str) -> Wave:
    wave = get_wave(code)
    if wave is None:
        g.join_failed = True
        abort(404, f"No survey uses the code {code[:12]}. Check the code and try again.")
    return wave


def accepting(wave: Wave, now: dt.datetime) -> bool:
    """Open, or closed so recently that an officer who started in time can still send."""
    if wave.sealed_at is not None:
        return False
    status = wave.status(now)
    if status is WaveStatus.OPEN:
        return True
    grace = dt.timedelta(minutes=current_app.config["SUBMIT_GRACE_MINUTES"])
    return status is WaveStatus.CLOSED and now - wave.closes_at <= grace


def unavailable(wave: Wave):
    """The page for a wave that is not open, saying which (not yet, or closed) and when."""
    return render_template("respond/unavailable.html", wave=wave,
                           status=wave.status()), 403


def asks_linkage(wave: Wave) -> bool:
    """Pulses are one-off snapshots: only training waves ask for the linkage code."""
    return wave.agency.ask_linkage and wave.kind is not WaveKind.PULSE


def about_choices(wave: Wave) -> tuple[list[tuple[str, int, str]], list[str]]:
    """A pulse's optional unit choices (form value, id, name) and shifts; none for training."""
    if wave.kind is not WaveKind.PULSE:
        return [], []
    units = db.session.execute(sa.select(Unit.id, Unit.name)
                               .where(Unit.agency_id == wave.agency_id).order_by(Unit.name))
    return [(str(u.id), u.id, u.name) for u in units], list(wave.agency.shifts or [])


def wave_view(wave: Wave) -> WaveView:
    units, shifts = about_choices(wave)
    view = WaveView(wave.id, wave.join_code, wave.label, wave.kind, wave.instrument_id,
                    AgencyView(wave.agency.name, wave.agency.min_group_size),
                    asks_linkage(wave), tuple(units), tuple(shifts))
    current_app.extensions.setdefault("survey_waves", {})[wave.join_code] = view
    return view


def answered(wave: Wave) -> bool:
    return wave.id in session.get("done", [])


def _linkage_key(wave: Wave) -> str:
    return f"link{wave.id}"


@bp.route("/", methods=["GET", "POST"])
@bp.route("/join", methods=["GET", "POST"])
@join_limit
def join():
    """Type a join code."""
    form = JoinForm()
    if form.validate_on_submit():
        wave = get_wave(form.code.data)
        if wave is not None:
            return redirect(url_for(".notice", code=wave.join_code))
        g.join_failed = True
        form.code.errors.append(
            f"No survey uses the code “{form.code.data.strip()[:20]}”. Check the code on the "
            "screen or handout (letters and numbers only) and try again.")
    return render_template("respond/join.html", form=form)


@bp.route("/privacy")
def privacy():
    """What is and is not kept, in full."""
    return render_template("respond/privacy.html")


@bp.route("/s/<code>")
@join_limit
def notice(code):
    """The QR target: what we keep, before any question."""
    wave = get_wave_or_404(code)
    if code != wave.join_code:
        return redirect(url_for(".notice", code=wave.join_code))
    if wave.status() is not WaveStatus.OPEN:
        return unavailable(wave)
    return render_template("respond/notice.html", wave=wave, agency=wave.agency,
                           items=len(cached_items(wave.instrument_id)))


@bp.route("/s/<code>/code", methods=["GET", "POST"])
def linkage_code(code):
    """The optional self-generated code that links before and after answers."""
    wave = get_wave_or_404(code)
    if not asks_linkage(wave):
        return redirect(url_for(".questions", code=wave.join_code))
    if not accepting(wave, utcnow()):
        return unavailable(wave)
    form = linkage_form()
    if form.validate_on_submit():
        answers = {} if form.skip.data else linkage_answers(form)
        session[_linkage_key(wave)] = linkage.hash_linkage(
            answers, secret=current_app.config["LINKAGE_SECRET"], salt=wave.agency.linkage_salt)
        return redirect(url_for(".questions", code=wave.join_code))
    return render_template("respond/linkage.html", wave=wave, form=form)


@bp.route("/s/<code>/questions", methods=["GET", "POST"])
def questions(code):
    """The survey itself; answers kept on every re-render."""
    wave = get_wave_or_404(code)
    if answered(wave):
        return redirect(url_for(".thanks", code=wave.join_code))
    now = utcnow()
    if not accepting(wave, now):
        return unavailable(wave)
    items = cached_items(wave.instrument_id)
    if request.method == "GET" and asks_linkage(wave) and _linkage_key(wave) not in session:
        return redirect(url_for(".linkage_code", code=wave.join_code))
    session.setdefault(f"nonce{wave.id}", secrets.token_urlsafe(24))

    view = wave_view(wave)
    if request.method == "POST":
        answers = check_posted(items, request.form, extra=ABOUT_FIELDS)
        unit_id, shift = check_about(request.form, {key: i for key, i, _ in view.units},
                                     list(view.shifts))
        form = survey_form(items)
        if form.validate_on_submit():
            try:
                services.record_response(
                    wave, answers, linkage=session.get(_linkage_key(wave)),
                    unit_id=unit_id, shift=shift,
                    key=services.response_id(current_app.config["SECRET_KEY"],
                                             session[f"nonce{wave.id}"]),
                    today=services.local_date(wave.agency, now))
            except OperationalError:
                db.session.rollback()
                return render_survey(view, items, form, problem=UNREACHABLE), 503
            except services.WaveSealed:
                return unavailable(wave)
            finish(wave)
            return redirect(url_for(".thanks", code=wave.join_code))
    else:
        form = survey_form(items)
    return render_survey(view, items, form)


UNREACHABLE = ("We could not save your answers just now. They are still here: wait a moment, "
               "then press Send again.")


def finish(wave: Wave) -> None:
    """Forget the survey's state except that this wave is answered (for a resend or back)."""
    session.pop(_linkage_key(wave), None)
    session.pop(f"nonce{wave.id}", None)
    session["done"] = [*session.get("done", []), wave.id]


@bp.route("/results/<token>")
def results(token):
    """The agency's results for its officers: the latest pulse and "you said, we did"."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.results_token == token[:64]))
    if agency is None:
        abort(404, "There is no results page at this address.")
    publishing.publish_due(agency.id)
    result = publishing.latest(publishing.agency_subject(agency.id), agency.min_group_size)
    body = publishing.part(result, "results.html")
    return render_template("respond/results.html", agency=agency,
                           body=Markup(body.decode()) if body else None)


@bp.route("/s/<code>/thanks")
def thanks(code):
    """Confirmation that the answers are in."""
    wave = get_wave_or_404(code)
    return render_template("respond/thanks.html", wave=wave, agency=wave.agency,
                           answered=answered(wave))


@bp.errorhandler(CSRFError)
def csrf_error(error):
    """An expired survey session must not lose the answers: re-render them with a note."""
    code = (request.view_args or {}).get("code")
    if request.endpoint == "respond.questions" and code:
        wave = get_wave_or_404(code)
        items = cached_items(wave.instrument_id)
        check_posted(items, request.form, extra=ABOUT_FIELDS)
        session.setdefault(f"nonce{wave.id}", secrets.token_urlsafe(24))
        form = survey_form(items)
        form.validate()
        return render_survey(wave_view(wave), items, form, problem=(
            "This page was open a long time, so we need you to press Send once more. "
            "Your answers are still here.")), 400
    abort(400, "This form had expired. Go back, reload the page and try again.")


@bp.errorhandler(OperationalError)
def database_unreachable(error):
    """The database cannot be reached: an officer who pressed Send keeps every answer."""
    try:
        db.session.rollback()
    except OperationalError:
        pass
    code = joincode.normalize((request.view_args or {}).get("code", ""))
    view = current_app.extensions.get("survey_waves", {}).get(code)
    items = current_app.extensions.get("survey_items", {}).get(view.instrument_id) \
        if view else None
    if request.endpoint == "respond.questions" and request.method == "POST" and items:
        return render_survey(view, items, survey_form(items), problem=UNREACHABLE), 503
    current_app.logger.error("database unreachable on a respondent page")
    return render_error(ServiceUnavailable(
        "The survey cannot be reached for a moment. Nothing was saved: wait a minute, then "
        "try again."))
