"""Small helpers shared by the HTML views of every domain."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from examsys.errors import DomainError
from examsys.extensions import db


def perform(action: Callable[[], object], *, success: str) -> bool:
    """Run one service call and commit it (the request's single commit), flashing `success`; on a
    domain error roll back and flash its message instead. Returns whether it worked."""
    try:
        action()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return False
    flash(success, "success")
    return True
