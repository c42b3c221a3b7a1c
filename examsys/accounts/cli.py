"""`examsys create-admin`: the first provincial administrator, with a password typed in."""

from __future__ import annotations

import getpass

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from examsys import transaction
from examsys.accounts import services
from examsys.accounts.models import Organisation, OrgKind
from examsys.extensions import db
from examsys.permissions import Role


@click.command("create-admin")
@click.option("--username", prompt="用户名 / username")
@click.option("--name", "display_name", prompt="姓名 / name")
@click.option("--org-code", default="PROVINCE", show_default=True,
              help="Code of the provincial authority organisation (created if missing).")
@click.option("--org-name", default="省人力资源和社会保障厅", show_default=True)
@with_appcontext
@transaction.command
def create_admin(username: str, display_name: str, org_code: str, org_name: str) -> None:
    """Create a provincial administrator with a password you type in (never a default one)."""
    password = getpass.getpass("密码 / password: ")
    if password != getpass.getpass("再次输入 / repeat: "):
        raise click.ClickException("两次输入的密码不一致 / passwords differ")
    org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        org = services.create_organisation(org_code, org_name, OrgKind.AUTHORITY)
    services.create_user(None, org, username=username, display_name=display_name,
                         password=password, roles={Role.PROVINCIAL_ADMIN})
    click.echo(f"created provincial admin {username}")
