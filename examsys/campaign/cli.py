"""`examsys campaign …`: the campaign's background work. `warnings` evaluates the certificate-data
warning rules (run daily) and prints the warnings it raised."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from examsys import transaction
from examsys.campaign.certdata import warnings


@click.group("campaign", help="质量提升行动：证书数据预警等后台任务 (campaign jobs: certificate-data warnings).")
def campaign_cli() -> None:
    pass


@campaign_cli.command("warnings")
@with_appcontext
@transaction.command
def warnings_command() -> None:
    """Evaluate the certificate-data warning rules and raise new warnings (run daily)."""
    raised = warnings.evaluate()
    for w in raised:
        click.echo(f"{w.organisation.name}：{w.message}")
    click.echo(f"raised {len(raised)} warning(s)")
