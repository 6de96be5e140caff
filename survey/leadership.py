"""Leadership: the agency's cultural temperature, its pulses, the culture-change tracker and the
program's monthly figures."""
from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from . import comments, jobs, publishing, queries, services, web
from .access import role_required
from .bank import tracker_frameworks, tracker_steps
from .extensions import db
from .forms import MAX_COUNT, FiguresForm, FiguresUploadForm, PulseForm, TrackerForm
from .models import Role, Wave, WaveKind

bp = Blueprint("leadership", __name__, url_prefix="/leadership")

LEADERS = (Role.ADMIN, Role.LEADER)


@bp.route("/")
@role_required(*LEADERS)
def index():
    """The cultural temperature at a glance, over time, and by unit and shift: as published
    when the latest pulse closed; open pulses show their counts only."""
    agency = current_user.agency
    waiting = db.session.scalars(sa.select(Wave).where(
        Wave.agency_id == agency.id, Wave.kind == WaveKind.PULSE, Wave.sealed_at.is_(None))
        .order_by(Wave.opens_at)).all()  # the pulses not published yet: their counts only
    context = publishing.page_context(publishing.agency_subject(agency.id), agency, waiting,
                                      show_error=current_user.role is Role.ADMIN,
                                      whole_agency=True)
    return web.render_published("leadership/index.html", **context)


@bp.route("/brief")
@role_required(*LEADERS)
def brief():
    """The latest published pulse on one page, to hand out: published with the dashboard."""
    agency = current_user.agency
    context = publishing.page_context(publishing.agency_subject(agency.id), agency, [],
                                      show_error=current_user.role is Role.ADMIN,
                                      whole_agency=True, name="brief.html")
    return web.render_published("leadership/brief.html", **context)


@bp.route("/brief-<any(letter, a4):paper>.pdf")
@role_required(*LEADERS)
def brief_pdf(paper):
    """The pulse brief as a PDF on Letter or A4, as published."""
    return publishing.download(publishing.agency_subject(current_user.agency_id),
                               current_user.agency, f"brief-{paper}.pdf",
                               f"pulse-brief-{paper}.pdf")


@bp.route("/dashboard.<any(csv, json):fmt>")
@role_required(*LEADERS)
def export(fmt):
    """The published dashboard's tables, as the page shows them."""
    return publishing.download_tables(publishing.agency_subject(current_user.agency_id),
                                      current_user.agency, fmt, "dashboard",
                                      "culture-dashboard", "trend")


@bp.route("/pulses", methods=["GET", "POST"])
@role_required(*LEADERS)
def pulses():
    """The agency's pulses, and a form to schedule the next one, due on the agency's cadence."""
    pulses = queries.pulse_list(current_user.agency_id)
    last = pulses["date"].max() if len(pulses) else None
    due = services.next_pulse_date(current_user.agency, last.date() if last is not None else None,
                                   services.local_date(current_user.agency))
    form = PulseForm(opens_on=due)
    if form.validate_on_submit():
        wave = services.start_pulse(current_user.agency, current_user,
                                    opens_on=form.opens_on.data, days_open=form.days_open.data,
                                    headcount=form.headcount.data)
        publishing.schedule(wave)
        flash(f"Pulse scheduled. Its code is {wave.join_code}.")
        return redirect(url_for(".pulses"))
    statements = len(services.agency_instrument(current_user.agency, "pulse").entries)
    return render_template("leadership/pulses.html", form=form, pulses=pulses,
                           k=current_user.agency.min_group_size, statements=statements)


@bp.route("/tracker")
@role_required(*LEADERS)
def tracker():
    """The culture-change steps: status, date, owner, notes."""
    items = services.tracker_items(current_user.agency)
    steps = tracker_steps()
    return render_template("leadership/tracker.html", steps=steps, items=items,
                           frameworks=tracker_frameworks())


@bp.route("/tracker/<code>", methods=["GET", "POST"])
@role_required(*LEADERS)
def tracker_item(code):
    """Update one step; the change is audited."""
    items = services.tracker_items(current_user.agency)
    if code not in items:
        abort(404, "There is no such step in the tracker.")
    item = items[code]
    step = next(s for s in tracker_steps() if s.code == code)
    form = TrackerForm(obj=item, status=item.status.value, theme=item.theme or "")
    form.theme.data = form.theme.data or ""  # a step with no theme holds None
    form.theme.choices = [SelectChoice(code, label)
                          for code, label in [("", "None"), *theme_choices(item.theme)]]
    if form.validate_on_submit():
        services.update_tracker_item(item, current_user, status=form.status.data,
                                     done_on=form.done_on.data, owner=form.owner.data or "",
                                     notes=form.notes.data or "",
                                     shared_note=form.shared_note.data or "",
                                     theme=form.theme.data or None)
        jobs.enqueue("publish_agency", current_user.agency_id)
        flash(f"“{step.label}” updated.")
        return redirect(url_for(".tracker") + f"#step-{code}")
    return render_template("leadership/tracker_item.html", form=form, step=step, item=item)


def theme_choices(also: str | None = None) -> list[tuple[str, str]]:
    """The research's themes, then the agency's own that its comments carry."""
    own = sorted({t for _, found in services.taggable_comments(current_user.agency)
                  for _, themes in found for t in themes if t.startswith("own:")}
                 | ({also} if also and also.startswith("own:") else set()))
    return [(code, label) for code, label in comments.THEMES.items()] + \
        [(t, comments.theme_label(t)) for t in own]


@bp.route("/comments", methods=["GET", "POST"], endpoint="comments")
@role_required(*LEADERS)
def comments_page():
    """What officers wrote to closed pulses (where enough of them did), to tag with themes."""
    agency = current_user.agency
    if request.method == "POST":
        try:
            comment_id = uuid.UUID(request.form.get("comment", ""))
        except ValueError:
            abort(400, "That form named no comment. Nothing was changed.")
        themes = comments.checked_themes(request.form.getlist("theme"),
                                         request.form.get("own", ""))
        if themes is None:
            abort(400, "A theme was not on the list, or your own is longer than "
                       f"{comments.OWN_THEME_LENGTH} characters. Nothing was changed.")
        if not services.tag_comment(agency, current_user, comment_id, themes):
            abort(404, "There is no such comment to tag.")
        jobs.enqueue("publish_agency", agency.id)
        flash("Themes saved.")
        return redirect(url_for(".comments") + f"#c-{comment_id}")
    pulses = [(wave, [(comment, tagged, next((comments.theme_label(t) for t in tagged
                                              if t.startswith("own:")), ""))
                      for comment, tagged in found])
              for wave, found in services.taggable_comments(agency)]
    return render_template("leadership/comments.html", pulses=pulses, themes=theme_choices(),
                           prompts=comments.PROMPTS, counts=services.theme_counts(agency),
                           minimum=agency.min_comment_group_size)


@bp.route("/figures", methods=["GET", "POST"])
@role_required(*LEADERS)
def figures():
    """Monthly program counts, typed in or uploaded."""
    form = FiguresForm()
    upload = FiguresUploadForm()
    if form.validate_on_submit():
        rows = [(form.month.data, m, form[m].data) for m in services.PROGRAM_MEASURES
                if form[m].data is not None]
        services.save_program_figures(current_user.agency, current_user, rows)
        jobs.enqueue("publish_agency", current_user.agency_id)
        flash(f"Figures for {form.month.data:%B %Y} saved.")
        return redirect(url_for(".figures"))
    table = queries.program_figures(current_user.agency_id)
    return render_template("leadership/figures.html", form=form, upload=upload, table=table,
                           measures=services.PROGRAM_MEASURES)


@bp.route("/figures/upload", methods=["POST"])
@role_required(*LEADERS)
def upload_figures():
    """A CSV of monthly counts; a bad row refuses the whole file, naming the row."""
    upload = FiguresUploadForm()
    if not upload.validate_on_submit():
        flash("Choose a CSV file to upload.")
        return redirect(url_for(".figures"))
    try:
        rows = parse_figures_csv(upload.file.data.read().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        flash(f"Nothing was saved: {error}")
        return redirect(url_for(".figures"))
    services.save_program_figures(current_user.agency, current_user, rows)
    jobs.enqueue("publish_agency", current_user.agency_id)
    flash(f"{len(rows)} figures saved.")
    return redirect(url_for(".figures"))


def parse_figures_csv(text: str) -> list[tuple[dt.date, str, int]]:
    """Rows of month (YYYY-MM) and one column per measure into (month, measure, value)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "month" not in reader.fieldnames:
        raise ValueError("the file needs a 'month' column")
    unknown = [f for f in reader.fieldnames if f != "month"
               and f not in services.PROGRAM_MEASURES]
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}")
    rows = []
    for number, record in enumerate(reader, start=2):
        try:
            month = dt.datetime.strptime(record["month"].strip(), "%Y-%m").date()
        except ValueError:
            raise ValueError(f"row {number}: month must look like 2026-03") from None
        for measure in services.PROGRAM_MEASURES:
            cell = (record.get(measure) or "").strip()
            if not cell:
                continue
            if not (cell.isascii() and cell.isdigit()) or int(cell) > MAX_COUNT:
                raise ValueError(f"row {number}: {measure} must be a whole number, not {cell!r}")
            rows.append((month, measure, int(cell)))
    return rows
