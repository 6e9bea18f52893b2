"""`flask users ...`: the only way the first user comes to exist. No default credentials."""
import sys

import click
from flask.cli import AppGroup

from app.audit import services as audit
from app.users import services
from app.auth.models import ROLES
from app.errors import ApiError
from app.extensions import db

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--full-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username, role, full_name, password_stdin):
    """Create a user; asks for the password twice unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(username, password, role, full_name=full_name)
        audit.record("user.create", target_type="user", target_id=user.id, actor_username="cli",
                     role=role, via="cli")
        db.session.commit()
    except ApiError as exc:
        db.session.rollback()
        details = "; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
        raise click.ClickException(f"{exc.message}: {details}") from None
    click.echo(f"Created {role} {user.username} (id {user.id}).")
