"""Command-line tasks: `flask create-user`, `flask demo`, `flask bank check`."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from . import demo, services
from .bank import current_bank
from .extensions import db
from .models import Agency, Role


@click.command("create-user")
@click.argument("email")
@click.option("--agency", "agency_name", required=True,
              help="The agency's name; it is created if it does not exist yet.")
@click.option("--name", default="", help="The person's name as staff see it.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value,
              show_default=True)
@click.option("--timezone", default="UTC", show_default=True,
              help="The agency's time zone, when the agency is created.")
@click.password_option(help="At least 10 characters; asked for when not given.")
@with_appcontext
def create_user(email, agency_name, name, role, timezone, password):
    """Create a staff account (the first administrator, for example)."""
    agency = services.get_or_create_agency(agency_name, timezone=timezone)
    try:
        user = services.create_staff_user(agency, email=email, name=name or email, role=role,
                                          password=password)
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
        click.echo("Loading demo data...")
        demo.load()
        click.echo("Demo data loaded.")
    elif not if_empty:
        raise click.ClickException("The database already holds data: demo data only goes into "
                                   "an empty database.")
    if db.session.scalar(sa.select(Agency.id).where(Agency.name == demo.AGENCY)) is None:
        return
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
    """Rewrite the respondent tables so row order reveals nothing (run nightly by a scheduler)."""
    click.echo(services.scramble_response_order())


def init_app(app: Flask) -> None:
    for command in (create_user, demo_command, bank_group, charts_bundle, responses_group):
        app.cli.add_command(command)
