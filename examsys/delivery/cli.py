"""`examsys delivery …` commands. Register with `app.cli.add_command(delivery_cli)`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from examsys import clock, transaction
from examsys.delivery.exam import services as exam


@click.group("delivery", help="考试实施：收卷等后台任务 (exam delivery jobs).")
def delivery_cli() -> None:
    pass


@delivery_cli.command("sweep")
@with_appcontext
@transaction.command
def sweep_command() -> None:
    """Finalise open attempts past deadline + grace at their deadline (run every minute).

    Committed every SWEEP_CHUNK attempts: each closing seals the attempt into its batch's chain,
    whose next link stays taken until the commit, so one long transaction would keep every
    proctor action and late touch of that batch waiting for the whole sweep."""
    now = clock.now()
    ids, closed = exam.overdue_ids(now), 0
    for start in range(0, len(ids), exam.SWEEP_CHUNK):
        closed += exam.sweep(now, ids[start:start + exam.SWEEP_CHUNK])
        transaction.commit()
    click.echo(f"finalised {closed} attempt(s)")
