"""`flask compliance check PHONE --campaign ID [--at ISO] [--state ST] [--zip ZIP]`."""
import json
from datetime import datetime

import click
from flask.cli import AppGroup

from app.campaigns.models import Campaign
from app.compliance import services
from app.errors import ApiError
from app.extensions import db

compliance_cli = AppGroup("compliance", help="Ask the calling rules about a number.")


@compliance_cli.command("check")
@click.argument("phone")
@click.option("--campaign", "campaign_id", type=int, required=True, help="The campaign's id.")
@click.option("--at", "at", default=None, help="ISO 8601 instant with its offset (default now).")
@click.option("--state", default=None, help="For a number that is not a contact: its US state.")
@click.option("--zip", "postal", default=None, help="For a number that is not a contact: its ZIP code.")
def check_command(phone, campaign_id, at, state, postal):
    """Print whether PHONE may be called for the campaign, why not, and from when (JSON)."""
    when = None
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("not an ISO 8601 date and time", param_hint="--at") from None
        if when.tzinfo is None:
            raise click.BadParameter("give the UTC offset (e.g. 2026-12-04T20:30:00-05:00)", param_hint="--at")
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"No campaign {campaign_id}.")
    try:
        answer = services.check_number(campaign, phone, when, state=state, postal=postal)
    except ApiError as exc:
        details = "; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
        raise click.ClickException(f"{exc.message}: {details}") from None
    click.echo(json.dumps(answer, indent=2))
