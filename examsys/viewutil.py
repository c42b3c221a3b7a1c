"""Small helpers shared by the HTML views of every domain: the one way a view runs its service
call so that a refusal is shown on the page that asked.

Views never commit: the request does (examsys.web.ExamsysFlask). `attempt` runs the call in a
SAVEPOINT (examsys.transaction.attempt), so a refused call leaves nothing of itself behind except
what its service asked to keep (`transaction.on_rollback`), while the page is rendered as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import flash

from examsys import transaction
from examsys.errors import Conflict, DomainError, PermissionDenied
from examsys.extensions import db

T = TypeVar("T")

# Browsers drop tabs and newlines anywhere in a URL and C0 controls and spaces around it, and
# read a backslash as a slash: "/\t/evil" and "/\\evil" both lead to another host. So these
# go first, and the check runs on what the browser would actually follow.
_DROPPED = re.compile(r"[\x00-\x20\x7f-\x9f\s]")

# More error lines than this are left in the refusal's details, not flashed.
MAX_EXTRA_ERRORS = 30


def safe_next(target: str | None) -> str | None:
    """`target` (a `next` parameter) if it is a path on this site, else None: no scheme, no host,
    after dropping control characters and whitespace as a browser would."""
    cleaned = _DROPPED.sub("", target or "")
    if not cleaned.startswith("/") or "\\" in cleaned:
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or cleaned.startswith("//"):
        return None
    return cleaned


def show_refusal(error: DomainError, form: Any = None) -> None:
    """Put the refusal's message on the form field it names, or flash it; flash the further error
    lines it carries in details["errors"] (beyond those listed in the message)."""
    target = getattr(form, error.field, None) if form is not None and error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, error.message]
    else:
        flash(error.message, "error")
    for extra in error.details.get("errors", [])[20:20 + MAX_EXTRA_ERRORS]:
        flash(extra, "error")


def attempt(action: Callable[[], T], *, success: str | None = None, form: Any = None,
            show: bool = True) -> tuple[T | None, DomainError | None]:
    """Run one service call: (result, None) with `success` flashed, or (None, the refusal) with
    nothing of the call written and its message shown (`show_refusal`, unless `show` is False for
    a view that renders the refusal itself). A concurrency failure (ConcurrentChange) is not
    shown on the form: it fails the whole request with the 409 page."""
    result, error = transaction.attempt(action)
    if error is None:
        if success:
            flash(success, "success")
        return result, None
    if show:
        show_refusal(error, form)
    return None, error


def dry_run(action: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    """Run `action` for real inside a SAVEPOINT that is then rolled back, whatever happens: a
    preview that promises exactly what the confirmation will do, and leaves nothing behind.
    Returns (result, None) or (None, the refusal)."""
    savepoint = db.session.begin_nested()
    try:
        return action(), None
    except DomainError as exc:
        return None, exc
    finally:
        savepoint.rollback()


def perform(action: Callable[[], object], *, success: str) -> bool:
    """`attempt` for a post that redirects: flash `success` or the refusal; returns whether it
    worked. A refusal of who is asking (PermissionDenied) is not a message on the page: it
    refuses the request (403, recorded by the error path)."""
    _result, error = attempt(action, success=success, show=False)
    if isinstance(error, PermissionDenied):
        raise error
    if error is not None:
        show_refusal(error)
        return False
    return True


def refusal_status(error: DomainError | None, default: int = 200) -> int:
    """The status of a page that shows a refusal on its own form: 409 when the refusal is a
    conflict (the object changed or no longer allows the change), else `default`."""
    return error.status if isinstance(error, Conflict) else default
