"""Small helpers shared by the HTML views of every domain."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from examsys import transaction
from examsys.errors import PermissionDenied


def perform(action: Callable[[], object], *, success: str) -> bool:
    """Run one service call in a SAVEPOINT (`transaction.attempt`), flashing `success`; on a
    domain error nothing of the call is written and its message is flashed instead. A refusal
    of who is asking (PermissionDenied) is not a message on the page: it refuses the request
    (403, recorded by the error path). Returns whether it worked; the request commits."""
    _result, error = transaction.attempt(action)
    if isinstance(error, PermissionDenied):
        raise error
    if error is not None:
        flash(error.message, "error")
        return False
    flash(success, "success")
    return True
