"""Publishing: a wave's figures are computed once, when it has closed, and kept unchanged.

The pipeline, for every way a wave can close (a trainer's Close, its close time, a pulse's end):

1. **Seal** at the end of the grace period: the wave takes no answer after this (a submission
   checks the seal in its own transaction, see :func:`survey.services.record_response`).
2. **Compute** from sealed waves only: the cohort report (tables, sentences, chart specs and
   server-drawn SVGs), every download (report JSON and CSVs, response-level CSV, Excel, SPSS,
   codebook), then the agency's dashboard and officers' page, which build on what was published.
3. **Store** it all as a new version of a :class:`~survey.models.PublishedResult`, in one
   transaction: readers see the old version or the new one, never half of one.
4. **Scramble**: the respondent tables are rewritten so that neither PostgreSQL (`xmin`,
   `ctid`, physical order) nor the SQLite file and its write-ahead log keep arrival order (last,
   so that the log ends empty).

Pages and downloads read the latest complete version (two queries); nothing they show moves
while a wave is open, so no figure can be subtracted from the next to single out one officer.
A run that fails stores a failed version with its reason (administrators see it) and leaves the
previous version in place; the job queue retries it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from . import charts as page_charts
from . import comments, exports, jobs, network, reports
from .bank import curriculum_topics
from .extensions import db
from .models import (Agency, Cohort, Comment, PublicationStatus, PublishedPart, PublishedResult,
                     Wave, WaveKind, utcnow)
from .queries import cohort_frames, response_counts

#: The version of the methods behind published figures; `flask results publish` after a change.
METHOD = "2026.12.2"  # .2: the briefs, favourable shares


# --- When -----------------------------------------------------------------------------------

def grace() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["SUBMIT_GRACE_MINUTES"])


def publishes_at(closes_at: dt.datetime | None) -> dt.datetime | None:
    """When a wave closing at `closes_at` is sealed and published: after the grace period."""
    return None if closes_at is None else closes_at + grace()


def due_wave_ids(agency_id: int | None = None, now: dt.datetime | None = None) -> list[int]:
    """Waves past their close and grace period but not yet sealed (one query)."""
    now = now or utcnow()
    statement = sa.select(Wave.id).where(Wave.sealed_at.is_(None), Wave.opens_at.is_not(None),
                                         Wave.closes_at <= now - grace()).order_by(Wave.id)
    if agency_id is not None:
        statement = statement.where(Wave.agency_id == agency_id)
    return list(db.session.scalars(statement))


def publish_due(agency_id: int | None = None, waves: list[Wave] | None = None) -> list[int]:
    """Ask for the publishing of every wave that is due (what `flask results publish --due` and
    the worker's scheduler run). With `waves`, a page's own waves, already loaded, only those
    are checked, with no query: a page never waits for a scheduler to show its own figures."""
    if waves is None:
        due = due_wave_ids(agency_id)
    else:
        cutoff = utcnow() - grace()
        due = [w.id for w in waves if w.sealed_at is None and w.opens_at is not None
               and w.closes_at is not None and w.closes_at <= cutoff]
    for wave_id in due:
        jobs.enqueue("publish_wave", wave_id)
    if agency_id is not None and _snapshot_due(agency_id):
        jobs.enqueue("publish_agency", agency_id)
    return due


def _snapshot_due(agency_id: int) -> bool:
    """An agency with interim snapshots and an open pulse whose last snapshot is a day old."""
    agency = db.session.get(Agency, agency_id)  # already loaded by the page: no query
    if agency is None or not agency.interim_results:
        return False
    opened = db.session.scalar(sa.select(Wave.id).where(
        Wave.agency_id == agency_id, Wave.kind == WaveKind.PULSE, Wave.sealed_at.is_(None),
        Wave.opens_at <= utcnow()).limit(1))
    if opened is None:
        return False
    newest = db.session.scalar(sa.select(sa.func.max(PublishedResult.created_at)).where(
        PublishedResult.subject == agency_subject(agency_id),
        PublishedResult.status == PublicationStatus.COMPLETE))
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=dt.timezone.utc)
    return newest is None or utcnow() - newest >= SNAPSHOT_INTERVAL


def schedule(wave: Wave) -> None:
    """A wave was just opened, closed or scheduled: publish it when its grace period is over
    (a worker's scheduler runs it then; the due check of staff pages is the backstop)."""
    at = publishes_at(wave.closes_at)
    delay = at - utcnow() if at else None
    if delay is not None and delay.total_seconds() > 0:
        jobs.enqueue("publish_wave", wave.id, delay=delay)
    else:
        jobs.enqueue("publish_wave", wave.id)


# --- Seal and scramble ----------------------------------------------------------------------

def seal(wave_id: int, now: dt.datetime | None = None) -> bool:
    """Seal the wave if its grace period is over; True when it is sealed (now or before)."""
    now = now or utcnow()
    db.session.execute(sa.update(Wave).where(
        Wave.id == wave_id, Wave.sealed_at.is_(None), Wave.closes_at <= now - grace())
        .values(sealed_at=now))
    db.session.commit()
    return db.session.scalar(sa.select(Wave.sealed_at).where(Wave.id == wave_id)) is not None


def scramble() -> str:
    """Leave no arrival order in the respondent tables or the database files.

    PostgreSQL: every row rewritten in one transaction (one `xmin` for all), then CLUSTER on the
    random primary keys (physical order and `ctid` follow the keys). SQLite: the write-ahead
    log checkpointed into the file, the file rebuilt by VACUUM (pages in key order), and the log
    truncated to nothing.
    """
    engine = db.session.get_bind()
    db.session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE response SET wave_id = wave_id"))
            conn.execute(sa.text("UPDATE answer SET value = value"))
            conn.execute(sa.text("UPDATE comment SET text = text"))
            conn.execute(sa.text("CLUSTER response USING pk_response"))
            conn.execute(sa.text("CLUSTER answer USING pk_answer"))
            conn.execute(sa.text("CLUSTER comment USING pk_comment"))
        return "respondent tables rewritten in random-key order"
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return "database file rebuilt in key order; write-ahead log emptied"
    return "nothing to do"


# --- Store and read -------------------------------------------------------------------------

@dataclass
class Part:
    name: str
    media_type: str
    body: bytes | str


def store(agency_id: int, subject: str, k: int, basis: dict, parts: list[Part], *,
          interim: bool = False) -> PublishedResult:
    """A new complete version of `subject`, with its parts, in one transaction; or the latest
    version itself when it holds exactly these parts (a run that changes nothing publishes
    nothing new)."""
    digest = hashlib.sha256()
    # Excel, SPSS and PDF files stamp the time they were written; they hold what responses.csv
    # and the brief's page part hold.
    for p in sorted((p for p in parts if not p.name.endswith((".xlsx", ".sav", ".pdf"))),
                    key=lambda p: p.name):
        body = p.body.encode() if isinstance(p.body, str) else p.body
        digest.update(f"{p.name}\0{p.media_type}\0{len(body)}\0".encode() + body)
    basis = {**basis, "digest": digest.hexdigest()}
    previous = latest(subject)
    if (previous is not None and previous.k == k and previous.interim == interim
            and previous.basis.get("digest") == basis["digest"]):
        return previous
    result = PublishedResult(agency_id=agency_id, subject=subject, version=_next_version(subject),
                             status=PublicationStatus.COMPLETE, k=k, basis=basis,
                             interim=interim, error="")
    db.session.add(result)
    db.session.flush()
    db.session.execute(sa.insert(PublishedPart), [
        {"result_id": result.id, "name": p.name, "media_type": p.media_type,
         "body": zlib.compress(p.body.encode() if isinstance(p.body, str) else p.body, 6)}
        for p in parts])
    db.session.commit()
    return result


def _next_version(subject: str) -> int:
    latest = db.session.scalar(sa.select(sa.func.max(PublishedResult.version))
                               .where(PublishedResult.subject == subject))
    return (latest or 0) + 1


def record_failure(agency_id: int, subject: str, error: BaseException) -> None:
    """A failed run: its reason kept, no parts; the previous complete version stays in use."""
    k = db.session.get(Agency, agency_id).min_group_size  # a staff page has it: no query or 5
    db.session.add(PublishedResult(
        agency_id=agency_id, subject=subject, version=_next_version(subject),
        status=PublicationStatus.FAILED, k=k, basis={"method": METHOD},
        error=f"{type(error).__name__}: {error}"[:2000]))
    db.session.commit()


def forget(agency_id: int, subjects: list[str] | None = None) -> None:
    """Delete published results (every version) of these subjects, or all of the agency's:
    for data that must go (a deleted class, answers past their retention). Not committed."""
    statement = sa.select(PublishedResult.id).where(PublishedResult.agency_id == agency_id)
    if subjects is not None:
        statement = statement.where(PublishedResult.subject.in_(subjects))
    ids = list(db.session.scalars(statement))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.session.execute(sa.delete(PublishedPart).where(PublishedPart.result_id.in_(chunk)))
        db.session.execute(sa.delete(PublishedResult).where(PublishedResult.id.in_(chunk)))


def latest(subject: str, k: int | None = None) -> PublishedResult | None:
    """The latest complete version of `subject` (one query). With `k`, only a version
    published under that minimum group size (a raised minimum makes older figures stale)."""
    statement = (sa.select(PublishedResult).where(
        PublishedResult.subject == subject,
        PublishedResult.status == PublicationStatus.COMPLETE)
        .order_by(PublishedResult.version.desc()).limit(1))
    if k is not None:
        statement = statement.where(PublishedResult.k >= k)
    return db.session.scalar(statement)


def failures(agency_id: int, limit: int = 20) -> list[PublishedResult]:
    """The agency's recent failed runs whose subject has not published since (one query)."""
    rows = db.session.scalars(sa.select(PublishedResult).where(
        PublishedResult.agency_id == agency_id)
        .order_by(PublishedResult.id.desc()).limit(500)).all()
    newest = {}
    for row in rows:
        newest.setdefault(row.subject, row)
    return [r for r in newest.values() if r.status is PublicationStatus.FAILED][:limit]


def part(result: PublishedResult | None, name: str) -> bytes | None:
    """One stored part of a published result (one query)."""
    if result is None:
        return None
    body = db.session.scalar(sa.select(PublishedPart.body).where(
        PublishedPart.result_id == result.id, PublishedPart.name == name))
    return None if body is None else zlib.decompress(body)


class Published(NamedTuple):
    """What a page or a download shows: the result, one part's bytes and media type, and the
    newest run when that run failed."""
    result: PublishedResult | None
    body: bytes | None
    media_type: str | None
    failure: PublishedResult | None


def published_part(subject: str, k: int, name: str = "page.html") -> Published:
    """The latest complete version of `subject` published under a minimum group of at least
    `k` (a raised minimum makes older figures stale), its part `name`, and the newest run when
    that run failed. One statement when the newest run is complete and current, as it nearly
    always is; two or three otherwise."""
    def newest(*where):
        row = db.session.execute(
            sa.select(PublishedResult, PublishedPart.body, PublishedPart.media_type)
            .outerjoin(PublishedPart, sa.and_(PublishedPart.result_id == PublishedResult.id,
                                              PublishedPart.name == name))
            .where(PublishedResult.subject == subject, *where)
            .order_by(PublishedResult.version.desc()).limit(1)).first()
        return (None, None, None) if row is None else tuple(row)

    complete = PublishedResult.status == PublicationStatus.COMPLETE
    result, body, media_type = newest()
    failure = None
    if result is not None and result.status is PublicationStatus.FAILED:
        failure, (result, body, media_type) = result, newest(complete)
    if result is not None and result.k < k:
        result, body, media_type = newest(complete, PublishedResult.k >= k)
    return Published(result, None if body is None else zlib.decompress(body), media_type,
                     failure)


# --- What a cohort publishes ----------------------------------------------------------------

def cohort_subject(cohort_id: int) -> str:
    return f"cohort:{cohort_id}"


def agency_subject(agency_id: int) -> str:
    return f"agency:{agency_id}"


def _render(template: str, **context) -> str:
    """A stored page part, rendered outside any real request (links are relative to the app's
    root), so it holds nothing of whoever reads it later."""
    with current_app.test_request_context("/"):
        return current_app.jinja_env.get_template(template).render(**context)


def _brief_parts(template: str, title: str, tz: str, **context) -> list[Part]:
    """A one-page brief: its page part, and the same body as a PDF on Letter and on A4, laid
    out with the brief's own stylesheet (the one its page links)."""
    body = _render(template, **context)
    with current_app.open_resource("static/css/brief.css") as fh:
        style = fh.read().decode()
    made = utcnow().astimezone(ZoneInfo(tz)).strftime("%-d %B %Y")
    # The stylesheet is kept with them: the PDFs leave the digest (they stamp their time), the
    # sheet they were laid out with does not, so a new layout publishes new PDFs.
    parts = [Part("brief.html", "text/html", body), Part("brief.css", "text/css", style)]
    for paper, size in exports.PAPERS.items():
        document = _render("brief_print.html", body=Markup(body), title=title, paper=size,
                           style=Markup(style), made=made)
        parts.append(Part(f"brief-{paper}.pdf", "application/pdf", exports.to_pdf(document)))
    return parts


def _table_parts(stem: str, tables: dict[str, pd.DataFrame], **meta) -> list[Part]:
    parts = [Part(f"{stem}.json", "application/json", exports.to_json(tables, **meta))]
    parts += [Part(f"{stem}-{name}.csv", "text/csv", exports.to_csv(table))
              for name, table in tables.items()]
    return parts


def _basis(waves: list[Wave], counts: dict[int, int]) -> dict:
    return {"method": METHOD, "waves": {str(w.id): counts.get(w.id, 0) for w in waves},
            "instruments": sorted({w.instrument_id for w in waves}),
            "responses": sum(counts.get(w.id, 0) for w in waves),
            "surveys": ", ".join(w.label.lower() for w in waves) or "no survey"}


def shown_means(cohort: Cohort) -> frozenset:
    """(wave, construct) of every scale mean any earlier publication of the class showed."""
    shown = set()
    results = db.session.scalars(sa.select(PublishedResult).where(
        PublishedResult.subject == cohort_subject(cohort.id),
        PublishedResult.status == PublicationStatus.COMPLETE)).all()
    waves = {w.label: w.id for w in cohort.waves}
    for result in results:
        body = part(result, "report.json")
        for row in json.loads(body)["tables"]["scale_means"] if body else []:
            if not row["withheld"] and row["wave_label"] in waves:
                shown.add((waves[row["wave_label"]], row["construct"]))
    return frozenset(shown)


def cohort_parts(cohort: Cohort) -> tuple[list[Part], reports.CohortReport]:
    """Everything a cohort's published result holds, computed from its sealed waves."""
    data = cohort_frames(cohort)  # loaded once for the report and the response files
    result = reports.cohort_report(cohort, shown_means(cohort), data)
    figures = page_charts.cohort_charts(result)
    parts = [Part("page.html", "text/html", _render(
        "trainer/_report_body.html", report=result, figures=figures,
        headline_rule=reports.HEADLINE_RULE,
        reliability_min_n=reports.RELIABILITY_MIN_N))]
    topics = curriculum_topics()
    parts += _brief_parts("trainer/_brief_body.html", f"{cohort.name}: training brief",
                          cohort.agency.timezone, cohort=cohort, report=result,
                          topics=[topics[t].label for t in cohort.topic_codes if t in topics],
                          figure=figures.get("means"), lines=reports.brief_lines(result),
                          lower=[row.construct_name for row in result.reliable.itertuples()
                                 if getattr(row, "favourable", "higher") == "lower"],
                          withheld=reports.withheld_summary(result.tables))
    parts += _table_parts("report", result.tables, cohort=cohort.name, held_on=cohort.held_on,
                          minimum_group_size=result.k, sentences=result.sentences,
                          effect_size_in_sentences=reports.HEADLINE_EFFECT,
                          effect_size_why=reports.HEADLINE_WHY,
                          headline_rule=reports.HEADLINE_RULE)
    data = reports.response_data(cohort, data)
    notes = pd.DataFrame({"note": data.notes or ["All waves included."]})
    parts += [
        Part("responses.csv", "text/csv", exports.to_csv(data.rows)),
        Part("responses.xlsx", "application/vnd.openxmlformats-officedocument."
             "spreadsheetml.sheet", exports.to_xlsx({"responses": data.rows,
                                                     "codebook": data.codebook,
                                                     "notes": notes})),
        Part("responses.sav", "application/x-spss-sav", exports.to_sav(
            data.rows, column_labels=data.rows.attrs["column_labels"],
            value_labels=data.value_labels, documents=data.rows.attrs["documents"])),
        Part("codebook.csv", "text/csv", exports.to_csv(data.codebook)),
        Part("summary.json", "application/json", json.dumps({
            "rows": len(data.rows), "tables": list(result.tables), "notes": data.notes})),
    ]
    return parts, result


def publish_cohort(cohort_id: int) -> PublishedResult | None:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        return None
    sealed = [w for w in cohort.waves if w.sealed_at is not None]
    counts = response_counts([w.id for w in sealed])
    parts, result = cohort_parts(cohort)
    basis = {**_basis(sealed, counts), "tables": list(result.tables)}
    return store(cohort.agency_id, cohort_subject(cohort.id), result.k, basis, parts)


# --- What an agency publishes: the dashboard and the officers' page ---------------------------

def published_cohort_means(agency: Agency, cohorts: list[Cohort] | None = None
                           ) -> pd.DataFrame:
    """The scale means each cohort's latest published report shows (withheld rows included,
    with their reasons), with the cohort's label and date: of `cohorts`, or of all the
    agency's."""
    rows = []
    for cohort in agency.cohorts if cohorts is None else cohorts:
        result = latest(cohort_subject(cohort.id), agency.min_group_size)
        body = part(result, "report.json")
        if body is None:
            continue
        # By label: a withheld row keeps its label but not its numbers (the wave id included).
        kinds = {w.label: w.kind.value for w in cohort.waves}
        for row in json.loads(body)["tables"]["scale_means"]:
            rows.append({**row, "cohort": cohort.id, "cohort_label": cohort.name,
                         "date": pd.Timestamp(cohort.held_on),
                         "wave_kind": kinds.get(row["wave_label"])})
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["n"] = frame["n"].astype(float)
        frame["mean"] = frame["mean"].astype(float)
    return frame


#: Interim snapshots of an open pulse: at most one a day.
SNAPSHOT_INTERVAL = dt.timedelta(days=1)


def _pulse_of(board: reports.Dashboard) -> dict | None:
    """The pulses row of the latest pulse the glance shows (its responses, participation)."""
    if board.glance.empty or "wave" not in board.glance or board.pulses.empty:
        return None
    latest = board.glance.sort_values("date")["wave"].iloc[-1]
    row = board.pulses.loc[board.pulses["wave"] == latest]
    return row.iloc[0].to_dict() if len(row) else None


def previous_tables(agency: Agency) -> tuple[dict[str, pd.DataFrame], set]:
    """The pulse tables of the agency's latest published dashboard, and the open pulses whose
    figures must not move yet (their last snapshot is less than SNAPSHOT_INTERVAL old)."""
    result = latest(agency_subject(agency.id), agency.min_group_size)
    body = part(result, "dashboard.json")
    if body is None:
        return {}, set()
    tables = {name: pd.DataFrame(rows) for name, rows in json.loads(body)["tables"].items()
              if name in ("trend", "units", "shifts")}
    frozen = set()
    if result.interim and utcnow() - result.created_at < SNAPSHOT_INTERVAL:
        frozen = set(db.session.scalars(sa.select(Wave.id).where(
            Wave.agency_id == agency.id, Wave.kind == WaveKind.PULSE,
            Wave.sealed_at.is_(None))))
    return tables, frozen


def pulse_comments(agency: Agency) -> dict | None:
    """What officers wrote to the latest closed pulse's open question, as the dashboard shows
    it: every comment in random order when at least the agency's comment minimum wrote one,
    else none (and no count below the minimum). Never from an open pulse, whose comments could
    be told apart by comparing two snapshots. None when that pulse asked no question."""
    wave = db.session.scalar(sa.select(Wave).where(
        Wave.agency_id == agency.id, Wave.kind == WaveKind.PULSE, Wave.sealed_at.is_not(None))
        .order_by(Wave.opens_at.desc()).limit(1))
    if wave is None or not wave.comment_prompt:
        return None
    from .services import theme_counts
    texts = list(db.session.scalars(sa.select(Comment.text).where(Comment.wave_id == wave.id)))
    shown = comments.shown_comments(texts, agency.min_comment_group_size)
    themes = [row for row in theme_counts(agency) if row["opened"] == wave.opens_at] \
        if shown else []
    return {"prompt": comments.PROMPTS.get(wave.comment_prompt, ""), "opened": wave.opens_at,
            "texts": shown, "minimum": agency.min_comment_group_size, "themes": themes}


def themes_told(said: dict | None, items: dict) -> list[dict]:
    """For the officers' page: the latest closed pulse's themes (never its comments' words)
    with the steps linked to each and what officers are told about them."""
    if not said or not said["themes"]:
        return []
    from .bank import tracker_steps
    labels = {s.code: s.label for s in tracker_steps()}
    return [{**row, "done": [{"step": labels.get(code, code), "note": item.shared_note}
                             for code, item in items.items()
                             if item.theme == row["theme"] and item.shared_note]}
            for row in said["themes"]]


def agency_parts(agency: Agency) -> tuple[list[Part], reports.Dashboard]:
    from .services import tracker_items
    items = tracker_items(agency)
    previous, frozen = previous_tables(agency)
    board = reports.dashboard(agency, items, published_cohort_means(agency), previous, frozen)
    closed = network.latest_closed(board.trend, board.pulses)
    board.benchmark = network.agency_benchmark(agency, closed)
    if len(board.benchmark):
        board.benchmark = board.benchmark.merge(
            board.glance[["construct", "construct_name", "mean", "favourable"]], on="construct")
    figures = page_charts.dashboard_charts(board)
    officers = reports.officer_results(board, items)
    said = pulse_comments(agency)
    parts = [Part("page.html", "text/html", _render("leadership/_dashboard_body.html",
                                                   board=board, figures=figures,
                                                   comments=said,
                                                   network_on=agency.benchmark_opt_in)),
             Part("results.html", "text/html", _render("respond/_results_body.html",
                                                      result=officers,
                                                      themes=themes_told(said, items)))]
    parts += _brief_parts("leadership/_brief_body.html", f"{agency.name}: pulse brief",
                          agency.timezone, agency=agency, board=board,
                          lines=reports.pulse_brief_lines(board),
                          latest_pulse=_pulse_of(board),
                          figure=figures.get("outcomes"),
                          outcome_name=next((row["name"] for row in board.outcomes_of(
                              page_charts.OUTCOME_SCALE)), ""),
                          themes=(said or {}).get("themes", [])[:3])
    parts += _table_parts("dashboard", board.tables, agency=agency.name,
                          minimum_group_size=board.k)
    if agency.benchmark_opt_in:  # its contribution to the others' benchmarks
        parts.append(Part(network.SUMMARY_PART, "application/json", network.summary(closed)))
    return parts, board


def publish_agency(agency_id: int) -> PublishedResult | None:
    # One publication of an agency at a time (its benchmark's group history is read and
    # written on its row); SQLite writes one at a time anyway and ignores FOR UPDATE.
    agency = db.session.scalar(sa.select(Agency).where(Agency.id == agency_id)
                               .with_for_update())
    if agency is None:
        return None
    sealed = db.session.scalars(sa.select(Wave).where(
        Wave.agency_id == agency_id, Wave.kind == WaveKind.PULSE, Wave.sealed_at.is_not(None))
        .order_by(Wave.opens_at)).all()
    counts = response_counts([w.id for w in sealed])
    parts, board = agency_parts(agency)
    basis = {**_basis(sealed, counts), "tables": list(board.tables),
             "surveys": f"{len(sealed)} closed pulse{'' if len(sealed) == 1 else 's'}"}
    interim = agency.interim_results and bool(db.session.scalar(sa.select(Wave.id).where(
        Wave.agency_id == agency.id, Wave.kind == WaveKind.PULSE, Wave.sealed_at.is_(None),
        Wave.opens_at <= utcnow()).limit(1)))
    result = store(agency.id, agency_subject(agency.id), board.k, basis, parts, interim=interim)
    db.session.commit()  # the benchmark's group history, when the parts were the same
    return result


# --- Jobs -----------------------------------------------------------------------------------

@jobs.job("publish_wave")
def publish_wave(wave_id: int) -> None:
    """Seal, scramble and publish one wave's subject, then the agency's views."""
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        return
    already = wave.sealed_at is not None
    if not seal(wave_id):
        return  # not due yet (reopened, or asked for early): its own time will come
    # The class's other surveys that are due are sealed with it: one publication, not one whose
    # figures a second one, minutes later, must then work around.
    for other in due_wave_ids(wave.agency_id):
        if db.session.get(Wave, other).cohort_id == wave.cohort_id:
            seal(other)
    subject = (cohort_subject(wave.cohort_id) if wave.cohort_id
               else agency_subject(wave.agency_id))
    done = latest(subject)
    if already and done is not None and str(wave_id) in done.basis.get("waves", {}):
        return  # published already (a second schedule of the same close)
    wave = db.session.get(Wave, wave_id)
    if wave.cohort_id is not None:
        publish_cohort(wave.cohort_id)
    publish_agency(wave.agency_id)
    scramble()  # last, so that SQLite's write-ahead log ends empty


@jobs.job("publish_cohort")
def _publish_cohort_job(cohort_id: int) -> None:
    publish_cohort(cohort_id)


@jobs.job("publish_agency")
def _publish_agency_job(agency_id: int) -> None:
    publish_agency(agency_id)


@jobs.job("republish")
def _republish_job(agency_id: int) -> None:
    republish(agency_id)


def _subject_of(name: str, args: tuple) -> tuple[int, str] | None:
    """(agency id, subject) a failed job was publishing, for its failure record."""
    if name == "publish_wave":
        wave = db.session.get(Wave, args[0])
        if wave is None:
            return None
        return wave.agency_id, (cohort_subject(wave.cohort_id) if wave.cohort_id
                                else agency_subject(wave.agency_id))
    if name == "publish_cohort":
        cohort = db.session.get(Cohort, args[0])
        return (cohort.agency_id, cohort_subject(cohort.id)) if cohort else None
    if name in ("publish_agency", "republish"):
        return args[0], agency_subject(args[0])
    if name == "compare":
        return args[0], compare_subject(args[0], args[1])
    return None


def _on_failure(name: str, args: tuple, error: BaseException) -> None:
    found = _subject_of(name, args)
    if found is not None:
        record_failure(*found, error)


jobs.FAILURE_HOOKS.append(_on_failure)


def republish(agency_id: int | None = None, *, progress=lambda n: None) -> int:
    """Publish every subject again from its sealed waves (after a bank or method fix), each
    old version staying in use until its new one is complete. Returns the number published."""
    statement = sa.select(Agency.id).order_by(Agency.id)
    if agency_id is not None:
        statement = statement.where(Agency.id == agency_id)
    done = 0
    for aid in db.session.scalars(statement).all():
        # Comparisons are kept per selection: computed again when next asked for.
        forget(aid, list(db.session.scalars(sa.select(PublishedResult.subject).where(
            PublishedResult.agency_id == aid, PublishedResult.subject.like("compare:%")))))
        db.session.commit()
        due = [w for w in due_wave_ids(aid) if seal(w)]
        cohorts = db.session.scalars(sa.select(Cohort.id).where(
            Cohort.agency_id == aid, Cohort.waves.any(Wave.sealed_at.is_not(None)))).all()
        for cohort_id in cohorts:
            publish_cohort(cohort_id)
            done += 1
            progress(1)
        publish_agency(aid)
        done += 1
        progress(1)
        if due:
            scramble()
    return done


def publish_steps(agency_id: int | None = None) -> int:
    statement = sa.select(sa.func.count(sa.distinct(Wave.cohort_id))).where(
        Wave.sealed_at.is_not(None), Wave.cohort_id.is_not(None))
    agencies = sa.select(sa.func.count()).select_from(Agency)
    if agency_id is not None:
        statement = statement.where(Wave.agency_id == agency_id)
        agencies = agencies.where(Agency.id == agency_id)
    return (db.session.scalar(statement) or 0) + (db.session.scalar(agencies) or 0)


# --- Compare: one selection of cohorts, computed in a job and kept --------------------------

def compare_subject(agency_id: int, cohort_ids: list[int]) -> str:
    """A selection's subject: the cohorts and the versions of their published results, so that
    a new publication makes a new comparison (and the old one is never shown beside it)."""
    versions = db.session.execute(sa.select(PublishedResult.subject,
                                            sa.func.max(PublishedResult.version))
                                  .where(PublishedResult.subject.in_(
                                      [cohort_subject(c) for c in cohort_ids]),
                                      PublishedResult.status == PublicationStatus.COMPLETE)
                                  .group_by(PublishedResult.subject)).all()
    k = db.session.get(Agency, agency_id).min_group_size  # a staff page has it: no query
    key = json.dumps([sorted(cohort_ids), sorted(map(list, versions)), k, METHOD])
    return f"compare:{agency_id}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


@jobs.job("compare")
def publish_compare(agency_id: int, cohort_ids: list[int]) -> PublishedResult | None:
    subject = compare_subject(agency_id, cohort_ids)
    if latest(subject) is not None:
        return None
    agency = db.session.get(Agency, agency_id)
    cohorts = db.session.scalars(sa.select(Cohort).where(
        Cohort.agency_id == agency_id, Cohort.id.in_(cohort_ids))
        .order_by(Cohort.held_on, Cohort.id)).all()
    comparison = reports.compare_cohorts(cohorts, agency.min_group_size,
                                         published=published_cohort_means(agency, cohorts))
    figures = page_charts.compare_charts(comparison)
    parts = [Part("page.html", "text/html", _render(
        "trainer/_compare_body.html", comparison=comparison,
        figure=page_charts.forest(comparison), figures=figures,
        reliability_min_n=reports.RELIABILITY_MIN_N))]
    parts += _table_parts("compare", comparison.tables, minimum_group_size=comparison.k)
    basis = {"method": METHOD, "cohorts": sorted(cohort_ids), "tables": list(comparison.tables),
             "responses": 0, "surveys": f"{len(cohorts)} classes' closed surveys"}
    return store(agency_id, subject, comparison.k, basis, parts)


def compare(agency_id: int, cohort_ids: list[int]) -> tuple[
        PublishedResult | None, bytes | None, str]:
    """The kept comparison of these cohorts with its page part, or None while it is being
    computed (asked for here: inline it is ready at once, with a worker on the next visit);
    and its subject."""
    publish_due(agency_id)
    subject = compare_subject(agency_id, cohort_ids)
    shown = published_part(subject, 0)
    if shown.result is None:
        jobs.enqueue("compare", agency_id, sorted(cohort_ids))
        shown = published_part(subject, 0)
    return shown.result, shown.body, subject


def open_counts(waves: list[Wave], now: dt.datetime | None = None) -> list[dict]:
    """The waves not sealed yet that have opened: their counts and when they publish."""
    now = now or utcnow()
    waiting = [w for w in waves if w.sealed_at is None and w.opens_at is not None
               and w.opens_at <= now]
    counts = response_counts([w.id for w in waiting])
    return [{"label": w.label if w.kind is not WaveKind.PULSE
             else f"Pulse opened {w.opens_at:%-d %b %Y}", "count": counts[w.id],
             "publishes_at": publishes_at(w.closes_at)} for w in waiting]


# --- What a page needs to show a published result -------------------------------------------

def page_context(subject: str, agency: Agency, waves: list[Wave], *,
                 show_error: bool = False, whole_agency: bool = False,
                 name: str = "page.html") -> dict:
    """The latest published result of `subject` with its page part (as stored bytes, for
    `web.render_published`), the waves still open (their counts only) and the last failed run,
    if the newest run failed. Asks first for any wave that is due, so a page never waits for a
    scheduler to publish: its own `waves` (those not sealed are all it needs), or every wave
    of the agency for a page built on all of them (`whole_agency`). `name` is the page part
    (the full page, or the one-page brief)."""
    publish_due(agency.id, None if whole_agency else waves)
    shown = published_part(subject, agency.min_group_size, name)
    if shown.result is None and shown.failure is None and subject == agency_subject(agency.id):
        # The dashboard also shows the tracker and program figures: it exists from the start.
        jobs.enqueue("publish_agency", agency.id)
        shown = published_part(subject, agency.min_group_size, name)
    result, body, _, failure = shown
    return {"result": result, "body": body,
            "tables": (result.basis.get("tables", []) if result else []),
            "k": result.k if result else agency.min_group_size, "tz": agency.timezone,
            "waiting": open_counts(waves), "failure": failure, "show_error": show_error}


def download(subject: str, agency: Agency, name: str, filename: str):
    """A stored download of the latest published result, or a clear 404."""
    from flask import abort
    publish_due(agency.id)
    shown = published_part(subject, agency.min_group_size, name)
    if shown.result is None and shown.failure is None and subject == agency_subject(agency.id):
        jobs.enqueue("publish_agency", agency.id)
        shown = published_part(subject, agency.min_group_size, name)
    if shown.body is None:
        abort(404, "Nothing is published here yet: results appear when a survey has closed.")
    return exports.download(shown.body, filename, shown.media_type)


def download_tables(subject: str, agency: Agency, fmt: str, part_stem: str, filename: str,
                    default_table: str):
    """All of a published result's tables as its JSON, or the table named in ``?table=`` as
    CSV (`default_table` without one)."""
    from flask import request
    if fmt == "json":
        return download(subject, agency, f"{part_stem}.json", f"{filename}.json")
    name = exports.table_name(request.args.get("table", default_table))
    return download(subject, agency, f"{part_stem}-{name}.csv", f"{filename}-{name}.csv")
