"""Command-line tasks: accounts, demo data, the item bank, maintenance (purge, archive)."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from . import accounts, demo, jobs, lifecycle, publishing, services
from .bank import current_bank
from .extensions import db
from .models import Agency, Role, Wave


@click.command("create-user")
@click.argument("email")
@click.option("--agency", "agency_name", required=True,
              help="The agency's name; it is created if it does not exist yet.")
@click.option("--name", default="", help="The person's name as staff see it.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value,
              show_default=True)
@click.option("--timezone", default="UTC", show_default=True,
              help="The agency's time zone, when the agency is created.")
@click.option("--platform-admin", is_flag=True,
              help="May create agencies (the hosting organisation's administrators).")
@click.password_option(help="At least 12 characters, not a common password; asked for when "
                            "not given.")
@with_appcontext
def create_user(email, agency_name, name, role, timezone, platform_admin, password):
    """Create a staff account (the first administrator, for example)."""
    agency = services.get_or_create_agency(agency_name, timezone=timezone)
    try:
        user = accounts.create_staff_user(agency, email=email, name=name or email, role=role,
                                          password=password, platform_admin=platform_admin)
    except ValueError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.role.value} {user.email} in {agency.name}.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the logins) when the "
              "database already holds data.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True,
              help="Where the app will answer, for the printed links.")
@with_appcontext
def demo_command(if_empty, base_url):
    """Fill an empty database with a demo agency, logins, cohorts and responses."""
    if demo.is_empty():
        with click.progressbar(length=demo.STEPS, label="Loading demo data and publishing its results",
                               file=sys.stderr) as bar:
            demo.load(progress=bar.update)
        click.echo("Demo data loaded and its closed surveys' results published.")
    elif not if_empty:
        raise click.ClickException("The database already holds data: demo data only goes into "
                                   "an empty database.")
    if db.session.scalar(sa.select(Agency.id).where(Agency.name == demo.AGENCY)) is None:
        return
    for what in demo.keep_alive():
        click.echo(f"Nothing of the demo was open today: opened {what}.")
    click.echo(f"\nThe app will answer on {base_url}/")
    click.echo(f"Staff sign-in: {base_url}/auth/login (password for each: {demo.PASSWORD})")
    for email, _, role in demo.USERS:
        click.echo(f"  {role.value:8} {email}")
    for wave in demo.demo_join_codes():
        what = f"{wave.label}, {wave.cohort.name}" if wave.cohort else wave.label
        click.echo(f"Open now ({what}): {base_url}/s/{wave.join_code}  "
                   f"(or type {wave.join_code} on {base_url}/)")


bank_group = AppGroup("bank", help="The item bank.")


@bank_group.command("check")
def bank_check():
    """Validate the item bank files and summarise them."""
    bank = current_bank()
    click.echo(f"Item bank version {bank.version}: {len(bank.items)} items, "
               f"{len(bank.constructs)} constructs.")
    for code, construct in bank.constructs.items():
        click.echo(f"  {code:14} {len(bank.items_of(code))} items  {construct.name}")


@click.command("charts-bundle")
def charts_bundle():
    """Write the Vega, Vega-Lite and Vega-Embed bundle the chart pages load (no CDN)."""
    from .charts import BUNDLE_PATH, build_bundle
    BUNDLE_PATH.write_text(build_bundle())
    click.echo(f"Wrote {BUNDLE_PATH}")


responses_group = AppGroup("responses", help="Respondent data maintenance.")


@responses_group.command("scramble")
def responses_scramble():
    """Rewrite the respondent tables so row order reveals nothing (publishing does this each
    time a wave closes; this is for a database restored from elsewhere)."""
    click.echo(publishing.scramble())


results_group = AppGroup("results", help="Published results.")


def _publish_all(agency_id, label):
    with click.progressbar(length=publishing.publish_steps(agency_id), label=label,
                           file=sys.stderr) as bar:
        return publishing.republish(agency_id, progress=bar.update)


@results_group.command("publish")
@click.option("--due", is_flag=True, help="Only the waves whose close and grace period have "
              "passed (what a scheduler runs every few minutes as a backstop).")
@click.option("--agency", "agency_name", help="Only this agency (default: every agency).")
def results_publish(due, agency_name):
    """Publish results again from sealed waves (after an item-bank or method fix); each old
    result stays in use until its new one is complete."""
    agency_id = None
    if agency_name:
        agency_id = db.session.scalar(sa.select(Agency.id).where(Agency.name == agency_name))
        if agency_id is None:
            raise click.ClickException(f"No agency called {agency_name}.")
    if due:
        waves = publishing.due_wave_ids(agency_id)
        for wave_id in waves:
            publishing.publish_wave(wave_id)
        click.echo(f"Published {len(waves)} wave{'' if len(waves) == 1 else 's'} that were due.")
        return
    done = _publish_all(agency_id, "Publishing")
    click.echo(f"Published {done} results.")


jobs_group = AppGroup("jobs", help="The background job worker.")


@jobs_group.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
def jobs_worker(burst):
    """Run publishing and Compare jobs from the Redis queue (JOBS_BACKEND=rq)."""
    if jobs.backend() != "rq":
        raise click.ClickException("JOBS_BACKEND is 'inline' (no REDIS_URL): jobs run where "
                                   "they are asked for, and no worker is needed.")
    jobs.work(burst=burst)


@responses_group.command("purge")
@click.option("--agency", "agency_name", help="Only this agency (default: every agency).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Purge as if today were this date (default: today in each agency's zone).")
def responses_purge(agency_name, today):
    """Delete responses older than each agency's retention period (run daily by a scheduler)."""
    query = sa.select(Agency).order_by(Agency.name)
    if agency_name:
        query = query.where(Agency.name == agency_name)
    agencies = db.session.scalars(query).all()
    if agency_name and not agencies:
        raise click.ClickException(f"No agency called {agency_name}.")
    total = 0
    for agency in agencies:
        if not agency.retention_months:
            click.echo(f"{agency.name}: no retention period set, nothing deleted.")
            continue
        steps = len(agency_wave_ids(agency))
        with click.progressbar(length=steps, label=f"{agency.name}",
                               file=sys.stderr) as bar:
            deleted = lifecycle.purge_expired(
                agency, today=today.date() if today else None, progress=bar.update)
        cutoff = lifecycle.retention_cutoff(agency, today.date() if today else None)
        click.echo(f"{agency.name}: deleted {deleted} responses submitted before "
                   f"{cutoff.isoformat()} ({agency.retention_months}-month retention).")
        total += deleted
    click.echo(f"Done: {total} responses deleted.")


def agency_wave_ids(agency: Agency) -> list[int]:
    return db.session.scalars(sa.select(Wave.id).where(Wave.agency_id == agency.id)).all()


@click.command("archive")
@click.argument("output", type=click.Path(dir_okay=False, writable=True))
@click.option("--agency", "agency_name", required=True, help="The agency's name.")
@with_appcontext
def archive_command(output, agency_name):
    """Write an agency's full archive (a zip, no linkage hashes) to OUTPUT."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == agency_name))
    if agency is None:
        raise click.ClickException(f"No agency called {agency_name}.")
    with click.progressbar(length=lifecycle.archive_steps(agency), label="Archiving",
                           file=sys.stderr) as bar:
        body = lifecycle.agency_archive(agency, progress=bar.update)
    services.audit(agency.id, None, "archive.write", output, bytes=len(body))
    db.session.commit()
    with open(output, "wb") as fh:
        fh.write(body)
    click.echo(f"Wrote {output} ({len(body):,} bytes).")


def init_app(app: Flask) -> None:
    for command in (create_user, demo_command, bank_group, charts_bundle, responses_group,
                    results_group, jobs_group, archive_command):
        app.cli.add_command(command)
