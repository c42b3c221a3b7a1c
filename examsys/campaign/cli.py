"""`examsys campaign …`: `report` prints the year's targets as live numbers
(examsys.campaign.console.cli); `warnings` evaluates the certificate-data warning rules (run
daily) and prints the warnings it raised."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from examsys import transaction
from examsys.campaign.certdata import warnings
from examsys.campaign.console.cli import report_command


@click.group("campaign", help="质量提升行动：年度目标与证书数据预警 (campaign targets and certificate-data warnings).")
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


campaign_cli.add_command(report_command)
