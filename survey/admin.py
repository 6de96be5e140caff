"""Administration: accounts, agency settings, survey versions, the audit log and the archive.

An agency administrator sees and changes only their own agency; a platform administrator (the
hosting organisation) may also create agencies.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user

from . import (accounts, attention, auditlog, exports, instruments, jobs, lifecycle, lockout, mail,
               publishing)
from .access import agency_row, get_cohort, role_required
from .bank import current_bank
from .extensions import db
from .forms import (AgencyForm, ConfirmForm, InstrumentForm, InviteForm, LocalItemForm,
                    SettingsForm, StaffForm, survey_form)
from .models import (Agency, Cadence, Cohort, Instrument, LinkPurpose, Response, Role,
                     StaffUser, Unit, WaveKind, utcnow)
from .queries import instrument_items
from .survey_page import AgencyView, WaveView, render_survey
from .services import audit

bp = Blueprint("admin", __name__, url_prefix="/admin")

admin_required = role_required(Role.ADMIN)


def get_staff(user_id: int) -> StaffUser:
    return agency_row(StaffUser, user_id, "There is no such account in your agency.")


def get_instrument(instrument_id: int) -> Instrument:
    """A version the agency may look at: its own, or one of the item bank's."""
    instrument = db.session.get(Instrument, instrument_id)
    if instrument is None or instrument.agency_id not in (None, current_user.agency_id):
        abort(404, "There is no such survey version for your agency.")
    return instrument


def show_link(user: StaffUser, token: str, purpose: LinkPurpose, **extra):
    """The page that shows a one-time link once, e-mailing it too when SMTP is configured."""
    url, hours = link_url(token), accounts.LINK_HOURS[purpose]
    mailed = mail.send_link(user, url, purpose, hours)
    return render_template("admin/link.html", user=user, url=url, hours=hours,
                           invite=purpose is LinkPurpose.INVITE, mailed=mailed,
                           mail_configured=mail.configured(), **extra)


def link_url(token: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    path = url_for("auth.welcome", token=token)
    return base.rstrip("/") + path if base else url_for("auth.welcome", token=token,
                                                        _external=True)


@bp.route("/")
@admin_required
def index():
    """What needs attention (failed publishing, open surveys, invitations), the latest changes,
    and the agency's accounts."""
    agency, now = current_user.agency, utcnow()
    staff = db.session.scalars(sa.select(StaffUser).where(
        StaffUser.agency_id == agency.id)
        .order_by(StaffUser.active.desc(), StaffUser.name)).all()
    recent = auditlog.entries(agency.id, agency.timezone, auditlog.Filters(), per_page=5)
    return render_template("admin/index.html", staff=staff, agency=agency,
                           failures=publishing.failures(agency.id),
                           open_surveys=attention.open_surveys(agency.id, now),
                           invitations=attention.pending_invitations(agency.id, now),
                           recent=recent, kinds=auditlog.KINDS)


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_required
def invite():
    """Create an account and show its one-time invitation link."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user, token = accounts.invite_staff(current_user.agency, email=form.email.data,
                                                name=form.name.data, role=form.role.data,
                                                by=current_user)
        except ValueError as error:
            form.email.errors.append(str(error))
        else:
            return show_link(user, token, LinkPurpose.INVITE)
    return render_template("admin/invite.html", form=form)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@admin_required
def staff(user_id):
    """Change an account's role, or switch it off."""
    user = get_staff(user_id)
    form = StaffForm(obj=user, role=user.role.value)
    if form.validate_on_submit():
        try:
            accounts.change_staff(user, role=form.role.data, active=form.active.data,
                                  by=current_user)
        except ValueError as error:
            form.role.errors.append(str(error))
        else:
            flash(f"{user.name}'s account is saved.")
            return redirect(url_for(".index"))
    return render_template("admin/staff.html", user=user, form=form, link_form=ConfirmForm())


@bp.route("/staff/<int:user_id>/link", methods=["POST"])
@admin_required
def new_link(user_id):
    """A new one-time link: an invitation again, or a password reset."""
    user = get_staff(user_id)
    if not ConfirmForm().validate_on_submit() or not user.active:
        abort(400, "Switch the account on before making a link for it.")
    purpose = LinkPurpose.RESET if user.password_hash else LinkPurpose.INVITE
    return show_link(user, accounts.issue_link(user, purpose, current_user), purpose)


@bp.route("/staff/<int:user_id>/sessions", methods=["POST"])
@admin_required
def end_sessions(user_id):
    """Sign the account out everywhere: every session of it ends at its next request."""
    user = get_staff(user_id)
    if ConfirmForm().validate_on_submit():
        accounts.end_sessions(user, current_user, "ended by an administrator")
        flash(f"{user.name} is signed out on every device.")
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for(".staff", user_id=user.id))


@bp.route("/staff/<int:user_id>/unlock", methods=["POST"])
@admin_required
def unlock(user_id):
    """Clear the failed sign-ins counted against the account, so it can sign in again."""
    user = get_staff(user_id)
    if ConfirmForm().validate_on_submit():
        lockout.clear_account(user.email)
        audit(user.agency_id, current_user, "account.unlock", user.email)
        db.session.commit()
        flash(f"{user.name} can sign in again.")
    return redirect(url_for(".staff", user_id=user.id))


# --- Settings -------------------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    """Group sizes, the linkage code, units and shifts, the pulse cadence and retention."""
    agency = current_user.agency
    form = SettingsForm(data={**_settings_of(agency),
                              "units": "\n".join(u.name for u in agency.units),
                              "shifts": "\n".join(agency.shifts or [])})
    if form.validate_on_submit():
        problem = _save_settings(agency, form)
        if problem:
            form.units.errors.append(problem)
        else:
            flash("Settings saved.")
            return redirect(url_for(".settings"))
    return render_template("admin/settings.html", form=form, agency=agency)


def _save_settings(agency: Agency, form: SettingsForm) -> str | None:
    """Apply the settings form; a reason when a unit cannot be removed (nothing changed then)."""
    wanted = form.unit_names
    removed = [u for u in agency.units if u.name not in wanted]
    for unit in removed:
        used = db.session.scalar(sa.select(sa.func.count()).select_from(Response)
                                 .where(Response.unit_id == unit.id)) \
            + db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)
                                .where(Cohort.unit_id == unit.id))
        if used:
            return (f"“{unit.name}” has answers or classes recorded against it, so it stays. "
                    "Put it back in the list.")
    before = _settings_of(agency)
    for unit in removed:
        db.session.delete(unit)
    have = {u.name for u in agency.units}
    for name in wanted:
        if name not in have:
            db.session.add(Unit(agency_id=agency.id, name=name))
    agency.min_group_size = form.min_group_size.data
    agency.min_comment_group_size = form.min_comment_group_size.data
    agency.comment_prompt = form.comment_prompt.data or None
    agency.ask_linkage = form.ask_linkage.data
    agency.interim_results = form.interim_results.data
    agency.trainers_read_all_reports = form.trainers_read_all_reports.data
    agency.shifts = form.shift_names
    agency.pulse_cadence = Cadence(form.pulse_cadence.data)
    agency.headcount = form.headcount.data
    agency.retention_months = form.retention_months.data
    agency.kind = form.kind.data or None
    agency.state = form.state.data or None
    agency.program_model = form.program_model.data or None
    agency.benchmark_opt_in = form.benchmark_opt_in.data
    db.session.flush()
    db.session.refresh(agency)
    after = _settings_of(agency)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        audit(agency.id, current_user, "agency.settings", agency.name, changes=changed)
    db.session.commit()
    if {"min_group_size", "interim_results", "min_comment_group_size"} & set(changed):
        # Figures published under the old minimum are not shown; publish under the new one.
        jobs.enqueue("republish", agency.id)
    elif {"benchmark_opt_in", "state", "headcount", "kind", "program_model"} & set(changed):
        jobs.enqueue("publish_agency", agency.id)  # the benchmark shows, goes or regroups
    return None


def _settings_of(agency: Agency) -> dict:
    return {"min_group_size": agency.min_group_size,
            "min_comment_group_size": agency.min_comment_group_size,
            "comment_prompt": agency.comment_prompt or "",
            "ask_linkage": agency.ask_linkage, "interim_results": agency.interim_results,
            "trainers_read_all_reports": agency.trainers_read_all_reports,
            "units": sorted(u.name for u in agency.units),
            "shifts": list(agency.shifts or []), "pulse_cadence": agency.pulse_cadence.value,
            "headcount": agency.headcount, "retention_months": agency.retention_months,
            "kind": agency.kind or "", "state": agency.state or "",
            "program_model": agency.program_model or "",
            "benchmark_opt_in": agency.benchmark_opt_in}


# --- Survey versions ------------------------------------------------------------------------------

@bp.route("/surveys")
@admin_required
def surveys():
    """The item bank's scales with their sources, each survey's current version, and history."""
    agency = current_user.agency
    current = {key: instruments.agency_instrument(agency, key)
               for key in instruments.INSTRUMENT_KEYS}
    db.session.commit()  # publishing the bank's standard version on first use
    plans = {key: instruments.plan_of(i) for key, i in current.items()}
    bank = current_bank()
    return render_template("admin/surveys.html", bank=bank, current=current, plans=plans,
                           versions=instruments.versions(agency),
                           local=instruments.local_items(agency),
                           label=instruments.instrument_label)


@bp.route("/surveys/<key>", methods=["GET", "POST"])
@admin_required
def edit_survey(key):
    """Pick the scales and local statements of the training survey or the pulse."""
    if key not in instruments.INSTRUMENT_KEYS:
        abort(404, "There is no such survey.")
    agency = current_user.agency
    current = instruments.agency_instrument(agency, key)
    plan = instruments.plan_of(current)
    bank = current_bank()
    local = instruments.local_items(agency)
    form = InstrumentForm(constructs=list(plan.constructs), local_items=list(plan.local_items))
    form.constructs.choices = [(c.code, c.name) for c in bank.constructs.values()]
    form.local_items.choices = [(i.id, f"{i.text} ({i.construct.name})") for i in local]
    if form.validate_on_submit():
        picked = instruments.Plan(tuple(form.constructs.data), tuple(form.local_items.data))
        try:
            published = instruments.publish_agency_instrument(agency, key, picked, current_user)
        except ValueError as error:
            form.constructs.errors.append(str(error))
        else:
            flash(f"Published {instruments.instrument_label(published)}. New surveys use it; "
                  "surveys already created keep their version." if published
                  else "Nothing changed, so no new version was published.")
            return redirect(url_for(".surveys"))
    return render_template("admin/edit_survey.html", form=form, key=key, current=current,
                           bank=bank, label=instruments.instrument_label)


@bp.route("/items/new", methods=["GET", "POST"])
@admin_required
def new_item():
    """Add a local statement to one of the bank's scales; publishes a new version at once."""
    bank = current_bank()
    form = LocalItemForm()
    form.construct.choices = [(c.code, c.name) for c in bank.constructs.values()]
    form.scale.choices = [(s.code, f"{s.labels[0]} … {s.labels[-1]} ({s.min}–{s.max})")
                          for s in bank.scales.values()]
    if form.validate_on_submit():
        try:
            item, published = instruments.add_local_item(
                current_user.agency, text=form.text.data, construct=form.construct.data,
                reverse_keyed=form.reverse_keyed.data, scale=form.scale.data,
                key=form.instrument.data, by=current_user)
        except ValueError as error:
            form.text.errors.append(str(error))
        else:
            count = len(published.entries)
            flash(f"Statement {item.code} added; published "
                  f"{instruments.instrument_label(published)}: {count} statements, "
                  f"{instruments.answer_time(count)} to answer."
                  + (f" That is more than {instruments.PULSE_WARNING}: a pulse is meant to be "
                     "short, and long ones lose answers." if published.key == "pulse"
                     and count > instruments.PULSE_WARNING else ""))
            return redirect(url_for(".surveys"))
    return render_template("admin/new_item.html", form=form)


@bp.route("/surveys/version/<int:instrument_id>/preview", methods=["GET", "POST"])
@admin_required
def preview(instrument_id):
    """The survey exactly as an officer sees it. Nothing is stored, whatever is sent."""
    instrument = get_instrument(instrument_id)
    agency = current_user.agency
    items = instrument_items(instrument.id)
    pulse = instrument.key == "pulse"
    units = tuple((str(u.id), u.id, u.name) for u in agency.units) if pulse else ()
    view = WaveView(0, "PREVIEW", instruments.instrument_label(instrument),
                    WaveKind.PULSE if pulse else WaveKind.PRE, instrument.id,
                    AgencyView(agency.name, agency.min_group_size), False, units,
                    tuple(agency.shifts or []) if pulse else ())
    form = survey_form(items)
    note = None
    if request.method == "POST" and form.validate_on_submit():
        note = ("Every statement has an answer or “Prefer not to answer”. This is a preview: "
                "nothing was stored.")
    return render_survey(view, items, form, preview=note or True)


# --- Audit log, archive, cohorts ------------------------------------------------------------------

@bp.route("/audit")
@admin_required
def audit_log():
    """Who changed what, when: newest first, 50 to a page, filtered by who, kind and dates."""
    agency = current_user.agency
    staff = db.session.execute(sa.select(StaffUser.id, StaffUser.name).where(
        StaffUser.agency_id == agency.id).order_by(StaffUser.name)).all()
    filters, problems = auditlog.parse_filters(request.args, {s.id for s in staff})
    found = auditlog.entries(agency.id, agency.timezone, filters)
    status = 400 if problems else 200
    if not problems and found.page > found.pages:
        problems.append(f"There is no page {found.page}: what you chose fills "
                        f"{found.pages} page{'s' if found.pages != 1 else ''}.")
        status = 404
    return render_template("admin/audit.html", found=found, filters=filters, staff=staff,
                           kinds=auditlog.KINDS, problems=problems, agency=agency), status


@bp.route("/archive")
@admin_required
def archive():
    """What the archive holds, and the button that downloads it."""
    return render_template("admin/archive.html", agency=current_user.agency)


@bp.route("/archive.zip")
@admin_required
def archive_download():
    """The whole agency in one zip (no linkage hashes; small surveys left out)."""
    agency = current_user.agency
    body = lifecycle.agency_archive(agency)
    audit(agency.id, current_user, "archive.download", agency.name, bytes=len(body))
    db.session.commit()
    return exports.download(body, f"{lifecycle.slug(agency.name)}-archive.zip",
                            "application/zip")


@bp.route("/cohorts/<int:cohort_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_cohort(cohort_id):
    """Delete a class and every answer given in it, after confirmation."""
    cohort = get_cohort(cohort_id)
    form = ConfirmForm()
    responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.wave_id.in_([w.id for w in cohort.waves]))) if cohort.waves else 0
    if form.validate_on_submit() and request.form.get("confirm_name", "").strip() == cohort.name:
        name = cohort.name
        deleted = lifecycle.delete_cohort(cohort, current_user)
        flash(f"Class “{name}” and its {deleted} responses are deleted.")
        return redirect(url_for("trainer.index"))
    mismatch = request.method == "POST"
    return render_template("admin/delete_cohort.html", cohort=cohort, form=form,
                           responses=responses, mismatch=mismatch), (400 if mismatch else 200)


# --- Agencies (platform administrators) -----------------------------------------------------------

@bp.route("/agencies", methods=["GET", "POST"])
@admin_required
def agencies():
    """Every agency on this installation, and a new one with its first administrator."""
    if not current_user.platform_admin:
        abort(403, "Only the platform's administrators manage agencies.")
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency, token = accounts.create_agency(
                form.name.data, timezone=form.timezone.data.strip(),
                admin_email=form.admin_email.data, admin_name=form.admin_name.data,
                by=current_user)
        except ValueError as error:
            form.name.errors.append(str(error))
        else:
            return show_link(agency.staff[0], token, LinkPurpose.INVITE, agency=agency)
    rows = db.session.execute(
        sa.select(Agency.id, Agency.name, Agency.created_at,
                  sa.func.count(StaffUser.id).label("staff"))
        .outerjoin(StaffUser, StaffUser.agency_id == Agency.id)
        .group_by(Agency.id).order_by(Agency.name)).all()
    return render_template("admin/agencies.html", form=form, rows=rows)
