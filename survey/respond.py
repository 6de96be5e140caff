"""The officer's path: join code, what we keep, linkage code, questions, thank you.

Nothing here reads the client's address or user agent, and nothing it stores carries a time of
day. The browser-session cookie (signed without a time: survey/web.py) ends with the browser and
holds only the survey's own state: while an officer answers, the form token, a random nonce
(from which the response's key is derived, so a double tap stores one response) and, after the
personal-code step, that code's keyed hashes; after Send, nothing but a keyed mark per answered
wave (so a resend or the back button does not answer twice).

The hashes stay in the cookie from the code step to Send because the code step and the
questions are two pages (post/redirect/get): the alternatives are a URL, which browser history
keeps, or a hidden field, which would make the code step post the questions page itself. They
are keyed with LINKAGE_SECRET, which never leaves the server, so the cookie alone tests no
guess; they leave the cookie at Send. If the cookie is lost before Send, the officer is asked
for the personal code again, answers kept, rather than sending without it.

Every page that could tell whether a join code exists counts a wrong code against one limit;
below the notice page, a closed or unopened survey answers like a wrong code to a browser that
did not start it, and the thank-you page names no agency to a browser that did not answer.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, g, redirect, render_template, request, session,
                   url_for)
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, ServiceUnavailable

from . import comments, joincode, linkage, publishing, services, web
from .errors import render_error
from .extensions import db, limiter
from .bank import linkage_elements
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


def no_such_code(code: str) -> NotFound:
    """What a wrong code gets (and, below the notice page, a survey this browser did not start
    and that is not open): counted against the join-code limit."""
    g.join_failed = True
    return NotFound(f"No survey uses the code {code[:12]}. Check the code and try again.")


def get_wave_or_404(code: str) -> Wave:
    wave = get_wave(code)
    if wave is None:
        raise no_such_code(code)
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
                    AgencyView(wave.agency.name, wave.agency.min_group_size,
                               wave.agency.min_comment_group_size),
                    asks_linkage(wave), tuple(units), tuple(shifts),
                    comments.PROMPTS.get(wave.comment_prompt or ""))
    current_app.extensions.setdefault("survey_waves", {})[wave.join_code] = view
    return view


def _done_mark(wave: Wave) -> str:
    """What the cookie keeps of an answered wave: a keyed mark, not the wave's id."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"answered:{wave.id}".encode(), hashlib.sha256).hexdigest()[:16]


def answered(wave: Wave) -> bool:
    return _done_mark(wave) in session.get("done", [])


def _linkage_key(wave: Wave) -> str:
    return f"link{wave.id}"


def _nonce_key(wave: Wave) -> str:
    return f"nonce{wave.id}"


def started(wave: Wave) -> bool:
    """Has this browser begun (or sent) this survey? Then it may hear that it is closed."""
    return answered(wave) or _nonce_key(wave) in session or _linkage_key(wave) in session


def closed_to(wave: Wave, code: str):
    """A survey that no longer (or not yet) takes answers: the officer who began it is told
    so; any other browser gets exactly what a wrong code gets."""
    if not started(wave):
        raise no_such_code(code)
    return unavailable(wave)


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
    session.setdefault(_nonce_key(wave), secrets.token_urlsafe(24))
    units, shifts = about_choices(wave)
    keeps = {"code": asks_linkage(wave), "unit_shift": bool(units or shifts),
             "retention": wave.agency.retention_months, "kind": wave.kind.value,
             "comment": bool(comments.PROMPTS.get(wave.comment_prompt or "")),
             "comment_minimum": wave.agency.min_comment_group_size}
    return render_template("respond/notice.html", wave=wave, agency=wave.agency,
                           items=len(cached_items(wave.instrument_id)), keeps=keeps)


@bp.route("/s/<code>/code", methods=["GET", "POST"])
@join_limit
def linkage_code(code):
    """The optional self-generated code that links before and after answers."""
    wave = get_wave_or_404(code)
    if not accepting(wave, utcnow()):
        return closed_to(wave, code)
    if not asks_linkage(wave):
        return redirect(url_for(".questions", code=wave.join_code))
    session.setdefault(_nonce_key(wave), secrets.token_urlsafe(24))
    form = linkage_form()
    carried = carried_answers(wave)
    if form.validate_on_submit():
        answers = {} if form.skip.data else linkage_answers(form)
        session[_linkage_key(wave)] = linkage.hash_linkage(
            answers, secret=current_app.config["LINKAGE_SECRET"], salt=wave.agency.linkage_salt)
        if carried:  # asked again after the cookie was lost: back to the answers, kept
            items = cached_items(wave.instrument_id)
            return render_survey(wave_view(wave), items, survey_form(items), problem=(
                "Thank you. Your answers are still here: check them and press Send."))
        return redirect(url_for(".questions", code=wave.join_code))
    return render_template("respond/linkage.html", wave=wave, form=form, carried=carried)


def carried_answers(wave: Wave) -> list[tuple[str, str]]:
    """Survey answers posted along with the code step (when it is asked again); 400 on a
    forged one, as on the survey page."""
    if request.method != "POST":
        return []
    items = cached_items(wave.instrument_id)
    extra = (*ABOUT_FIELDS, "skip", "proceed", *(e.code for e in linkage_elements()))
    check_posted(items, request.form, extra=extra)
    fields = {item.field for item in items} | set(ABOUT_FIELDS)
    return [(key, value) for key, value in request.form.items(multi=True) if key in fields]


def ask_code_again(wave: Wave, status: int = 200):
    """The cookie holding the personal code was lost before Send: ask for the code again,
    carrying the answers, rather than storing them without it."""
    form = linkage_form(formdata=None)
    return render_template("respond/linkage.html", wave=wave, form=form,
                           carried=carried_answers(wave), problem=(
                               "Your browser lost the personal code you gave, so we need it "
                               "once more. Your answers are kept: after this step you are back "
                               "at them, and nothing is sent until you press Send.")), status


@bp.route("/s/<code>/questions", methods=["GET", "POST"])
@join_limit
def questions(code):
    """The survey itself; answers kept on every re-render."""
    wave = get_wave_or_404(code)
    if answered(wave):
        return redirect(url_for(".thanks", code=wave.join_code))
    now = utcnow()
    if not accepting(wave, now):
        return closed_to(wave, code)
    items = cached_items(wave.instrument_id)
    lost_code = asks_linkage(wave) and _linkage_key(wave) not in session
    if request.method == "GET" and lost_code:
        return redirect(url_for(".linkage_code", code=wave.join_code))
    session.setdefault(_nonce_key(wave), secrets.token_urlsafe(24))

    view = wave_view(wave)
    if request.method == "POST":
        answers = check_posted(items, request.form, extra=(*ABOUT_FIELDS, "comment"))
        unit_id, shift = check_about(request.form, {key: i for key, i, _ in view.units},
                                     list(view.shifts))
        if lost_code:
            return ask_code_again(wave)
        form = survey_form(items)
        comment = request.form.get("comment", "") if view.prompt else ""
        if len(comment) > comments.MAX_LENGTH:
            return render_survey(view, items, form, problem=(
                f"Your comment is {len(comment)} characters long: please shorten it to "
                f"{comments.MAX_LENGTH}. Your answers are still here.")), 400
        if form.validate_on_submit():
            try:
                services.record_response(
                    wave, answers, linkage=session.get(_linkage_key(wave)),
                    unit_id=unit_id, shift=shift,
                    key=services.response_id(current_app.config["SECRET_KEY"],
                                             session[_nonce_key(wave)]),
                    today=services.local_date(wave.agency, now))
            except OperationalError:
                db.session.rollback()
                return render_survey(view, items, form, problem=UNREACHABLE), 503
            except services.WaveSealed:
                return unavailable(wave)
            text = comments.clean_comment(comment)
            if text:
                try:
                    services.record_comment(wave, text)
                except OperationalError:  # the answers are in; only the comment is lost
                    db.session.rollback()
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
    session.pop(_nonce_key(wave), None)
    session.pop("csrf_token", None)  # the next form makes a new one
    session["done"] = [*session.get("done", []), _done_mark(wave)]


RESULTS_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@bp.route("/results/<token>")
def results(token):
    """The agency's results for its officers: the latest pulse and "you said, we did"."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.results_token == token)) \
        if RESULTS_TOKEN.fullmatch(token) else None
    if agency is None:
        abort(404, "There is no results page at this address.")
    publishing.publish_due(agency.id)
    body = publishing.published_part(publishing.agency_subject(agency.id),
                                     agency.min_group_size, "results.html").body
    return web.render_published("respond/results.html", body, agency=agency)


@bp.route("/s/<code>/thanks")
@join_limit
def thanks(code):
    """Confirmation that the answers are in; to a browser that did not send them, the same
    page for every code, real or not, naming no agency."""
    wave = get_wave(code)
    if wave is None or not answered(wave):
        return render_template("respond/thanks.html", wave=None, agency=None, answered=False)
    return render_template("respond/thanks.html", wave=wave, agency=wave.agency,
                           answered=True)


EXPIRED = "This page was open a long time, so we need you to press {button} once more."


@bp.errorhandler(CSRFError)
def csrf_error(error):
    """A missing or stale form token (a long-open page, a cookie lost or blocked): the same
    page again with what was typed and a note, never a server error and never a log line."""
    try:
        return _resubmit(request.endpoint, (request.view_args or {}).get("code"))
    except HTTPException as problem:  # a forged form or a wrong code: its own answer
        return render_error(problem)


def _resubmit(endpoint: str | None, code: str | None):
    if endpoint in ("respond.join",):
        form = JoinForm()
        form.code.errors = [EXPIRED.format(button="Start the survey")]
        return render_template("respond/join.html", form=form), 400
    wave = get_wave(code) if code else None
    if wave is not None and answered(wave):  # a resend after Send (the token went with it)
        return redirect(url_for(".thanks", code=wave.join_code))
    if endpoint == "respond.linkage_code" and wave is not None:
        form = linkage_form()
        return render_template("respond/linkage.html", wave=wave, form=form,
                               carried=carried_answers(wave),
                               problem=EXPIRED.format(button="Continue")), 400
    if endpoint == "respond.questions" and wave is not None:
        items = cached_items(wave.instrument_id)
        check_posted(items, request.form, extra=ABOUT_FIELDS)
        if asks_linkage(wave) and _linkage_key(wave) not in session:
            return ask_code_again(wave, 400)
        session.setdefault(_nonce_key(wave), secrets.token_urlsafe(24))
        form = survey_form(items)
        form.validate()
        return render_survey(wave_view(wave), items, form, problem=(
            "This page was open a long time, so we need you to press Send once more. "
            "Your answers are still here.")), 400
    if code and wave is None:
        raise no_such_code(code)
    raise BadRequest("This form had expired. Go back, reload the page and try again.")


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
