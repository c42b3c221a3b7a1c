"""The kinds of job. A domain registers each kind it offers, at import, with:

- `run(job, progress) -> Result`: does the work in the worker, inside the job's unit of work
  (it may flush process-record events; they commit with the job's completion), writing its file
  to `result_path` and calling `progress(fraction, stage)` as it goes;
- `may_view(user, job) -> bool`: who besides the requester may see the job and take its result
  (the same rule as the object's own page);
- `on_download(job)`: what a download records (flushes), if anything;
- `link(job)`: a page the finished job's page links to (what the job made; for a failed job,
  where to change what made it fail), if any.

The registry is the only coupling: the jobs package imports no domain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Result:
    """What a job made: its file (written under the job directory) and the name to download it as."""

    path: Path
    download_name: str
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str  # Chinese, as the jobs page shows it (gettext msgid)
    run: Callable[..., Result]
    may_view: Callable[[Any, Any], bool]
    on_download: Callable[[Any], None] | None = None
    # read_only: `run` writes nothing but its file and job.params (a PDF), so the worker ends the
    # long read before it records the result. writes_early: `run` writes from its start (an
    # import), so its unit of work takes the database's write lock first (SQLite).
    read_only: bool = False
    writes_early: bool = False
    # link(job) -> (label msgid, url) | None: where a finished job's page sends the user besides
    # the download (e.g. the paper a job assembled), if anywhere.
    link: Callable[[Any], tuple[str, str] | None] | None = None


_KINDS: dict[str, JobKind] = {}


def N_(message: str) -> str:  # the name pybabel extracts by default
    """Marks a kind's label for the message catalogue without translating it here: the label is
    recorded in Chinese (JOB_REQUESTED) and translated where a page shows it."""
    return message


def register(kind: JobKind) -> JobKind:
    """Register a kind of job (at import of the domain module that offers it). Raises ValueError
    for a name registered twice by different code."""
    known = _KINDS.get(kind.name)
    if known is not None and known.run is not kind.run:
        raise ValueError(f"job kind {kind.name!r} registered twice")
    _KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> JobKind:
    """Raises KeyError for a kind nobody registered (e.g. a job left by an older version)."""
    return _KINDS[name]


def known(name: str) -> bool:
    return name in _KINDS


__all__ = ["N_", "JobKind", "Progress", "Result", "known", "kind_of", "register"]
