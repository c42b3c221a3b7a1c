"""The `examsys` command group: Flask's commands (db upgrade, run, …) plus examsys's own."""

from __future__ import annotations

import getpass
import json

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from examsys import create_app, transaction
from examsys.accounts import services
from examsys.accounts.models import Organisation, OrgKind
from examsys.assembly.solve_cli import assembly_cli
from examsys.audit.archive.cli import archive_cli
from examsys.audit.cli import audit_cli
from examsys.bank.cli import bank_cli
from examsys.delivery.cli import delivery_cli
from examsys.demo.loader import load_demo
from examsys.extensions import db
from examsys.permissions import Role
from examsys.supervision.cli import supervision_cli


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False,
             help="examsys: 职业技能等级认定在线考试与题库系统 (online exams and question banks).\n\n"
                  "Each of examsys's own commands is one transaction: it commits when the command succeeds "
                  "and writes nothing when it fails (每条命令为一个事务：成功则提交，失败则不写入).")
def main() -> None:
    """Entry point of the `examsys` console script."""


# Added to the group itself, not to the app's commands: `examsys supervision draw` must run
# without a database or the web app's configuration.
main.add_command(supervision_cli)


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


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print the demo logins as one JSON object.")
@with_appcontext
@transaction.command
def demo(as_json: bool) -> None:
    """Load the demo data (idempotent) and print the demo logins."""
    summary = load_demo()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo("演示机构 / demo organisations:")
    for org in summary["organisations"]:
        click.echo(f"  {org['code']:<10} {org['name']}（{org['kind']}）")
    click.echo("演示账户 / demo logins (demo only):")
    for user in summary["users"]:
        click.echo(f"  {user['username']:<16} {user['password']:<18} "
                   f"{','.join(user['roles']):<20} {user['organisation']}")
    for batch in summary.get("batches", []):
        click.echo(f"演示批次 / demo batch: #{batch['id']} {batch['name']}（{batch['state']}）")
    if summary.get("candidates"):
        click.echo("演示考生（准考证号 身份证号 考场口令）/ demo candidates — exam login at /exam/:")
        for cand in summary["candidates"][:10]:
            click.echo(f"  {cand['name']:<6} {cand['ticket_no']}  {cand['id_number']}  {cand.get('access_code', '')}")
        if len(summary["candidates"]) > 10:
            click.echo(f"  … {len(summary['candidates']) - 10} more: examsys demo --json")


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(demo)
    app.cli.add_command(bank_cli)
    app.cli.add_command(assembly_cli)
    app.cli.add_command(delivery_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(archive_cli)
