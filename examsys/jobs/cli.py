"""`examsys jobs`: the worker that runs long work off the web workers, and a look at the queue."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from examsys.extensions import db
from examsys.jobs import queue, services
from examsys.jobs.models import Job


@click.group("jobs", help="后台任务：批次档案等耗时工作的执行进程 (the job worker).")
def jobs_cli() -> None:
    pass


@jobs_cli.command("worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16),
              help="同时执行的任务数 (jobs run at once, in threads).")
@with_appcontext
def worker(workers: int) -> None:
    """Run jobs until stopped (Ctrl-C / SIGTERM). At start, jobs a stopped worker left running are
    marked failed and queued ones are queued again."""
    failed, requeued = services.requeue_unfinished()
    click.echo(f"examsys jobs: {requeued} 个任务重新排队，{failed} 个中断的任务标记为失败")
    huey = queue.huey_of(current_app._get_current_object())
    huey.create_consumer(workers=workers, worker_type="thread", check_worker_health=True).run()


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def list_jobs(limit: int) -> None:
    """The latest jobs: id, kind, state, progress, requester."""
    for job in db.session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
        click.echo(f"#{job.id}\t{job.kind}\t{job.state_label}\t{job.progress}%\t{job.requested_by.username}"
                   f"\t{job.error or job.result_name or ''}")
