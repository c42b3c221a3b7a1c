"""`examsys delivery …` commands. Register with `app.cli.add_command(delivery_cli)`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from examsys import transaction
from examsys.delivery.exam import services as exam


@click.group("delivery", help="考试实施：收卷等后台任务 (exam delivery jobs).")
def delivery_cli() -> None:
    pass


@delivery_cli.command("sweep")
@with_appcontext
@transaction.command
def sweep_command() -> None:
    """Finalise open attempts past deadline + grace at their deadline (run every minute)."""
    closed = exam.sweep()
    click.echo(f"finalised {closed} attempt(s)")
