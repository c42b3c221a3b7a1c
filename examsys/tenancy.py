"""Tenancy: every query for organisation-owned rows goes through these helpers.

A user sees their own organisation's rows; the provincial admin sees all. Another
organisation's object is reported as "not found" (404), never as "forbidden", so that
its existence is not revealed.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select

from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import sees_all_organisations

M = TypeVar("M")


def scoped(model: type[M], user: Any, stmt: Select | None = None) -> Select:
    """SELECT of `model` limited to what `user` may see."""
    stmt = stmt if stmt is not None else select(model)
    if sees_all_organisations(user):
        return stmt
    return stmt.where(model.organisation_id == user.organisation_id)  # type: ignore[attr-defined]


def get_scoped(model: type[M], ident: Any, user: Any) -> M:
    """Fetch one row by primary key within the user's scope, or raise NotFound."""
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound("未找到该对象")
    if not sees_all_organisations(user) and obj.organisation_id != user.organisation_id:  # type: ignore[attr-defined]
        raise NotFound("未找到该对象")
    return obj
