"""The queue jobs travel on: Huey, chosen because it is small, well kept, and has both a SQLite
store (the embedded default: one file beside the instance, nothing more to run) and a Redis store
(several workers or nodes), with the same consumer for both; Celery and RQ need a broker
service even on one machine.

A job travels as its id only: the Job row holds everything else, so a message lost with the
queue's store costs nothing that `examsys jobs worker` does not restore at start
(services.requeue_unfinished)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

EXTENSION = "examsys_jobs"


def init_app(app: Flask, execute: Callable[[int], None]) -> None:
    """Wire the queue: `execute(job_id)` runs a job inside the app. Nothing is opened until a job
    is enqueued or a worker starts."""
    app.extensions[EXTENSION] = {"execute": execute}


def _built(app: Flask) -> dict:
    state = app.extensions[EXTENSION]
    if "huey" not in state:
        state["huey"], state["task"] = _build(app, state["execute"])
    return state


def _build(app: Flask, execute: Callable[[int], None]):
    """The app's Huey, from its configuration, with the one task that runs a job by id."""
    if app.config.get("EXAMSYS_JOBS_IMMEDIATE"):
        huey: Huey = MemoryHuey("examsys-jobs", immediate=True, results=False)
    elif app.config.get("EXAMSYS_REDIS_URL"):
        huey = RedisHuey("examsys-jobs", url=app.config["EXAMSYS_REDIS_URL"], results=False)
    else:
        folder = Path(app.config["EXAMSYS_JOB_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("examsys-jobs", filename=str(folder / "queue.db"), results=False)

    @huey.task(name="examsys.run_job")
    def run_job(job_id: int) -> None:
        with app.app_context():
            execute(job_id)

    return huey, run_job


def huey_of(app: Flask | None = None) -> Huey:
    return _built(app or current_app._get_current_object())["huey"]


def enqueue(job_id: int) -> None:
    """Hand a job to the worker (in immediate mode: run it now, in this process)."""
    _built(current_app._get_current_object())["task"](job_id)


def put_progress(job_id: int, percent: int, stage: str) -> None:
    """A running job's progress, kept in the queue's store (not the database: the job's own
    transaction is open meanwhile, and on SQLite a second writer would wait for it)."""
    huey_of().put(f"progress:{job_id}", (percent, stage))


def progress_of(job_id: int) -> tuple[int, str] | None:
    value = huey_of().get(f"progress:{job_id}", peek=True)
    return (int(value[0]), str(value[1])) if value else None


def drop_progress(job_id: int) -> None:
    huey_of().get(f"progress:{job_id}")  # a read without peek removes it


__all__ = ["drop_progress", "enqueue", "huey_of", "init_app", "progress_of", "put_progress"]
