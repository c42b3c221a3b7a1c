"""Recording audit events. record() only adds to the session: the caller's transaction commits it
together with the change it describes, or rolls both back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context

from examsys import clock
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent
from examsys.extensions import db

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _encode_controls(value: Any) -> Any:
    """Control characters in logged values are escaped so a log line can't forge another one."""
    if isinstance(value, str):
        return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    if isinstance(value, dict):
        return {str(k): _encode_controls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_controls(v) for v in value]
    return value


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and from where; captured per request by the web layer."""

    user_id: int | None = None
    label: str | None = None
    roles: str | None = None
    organisation_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None


# Set by the web layer: builds the context of the current request (the signed-in user, the
# client's address) the first time an event needs it, so requests that record nothing (most of
# them, e.g. autosave) never pay for it.
_request_context_provider = None


def set_request_context_provider(provider) -> None:
    global _request_context_provider
    _request_context_provider = provider


def current_context() -> AuditContext:
    """The ambient context of the current request, or an empty one (CLI, background jobs)."""
    if has_request_context():
        ctx = g.get("audit_context")
        if ctx is None and _request_context_provider is not None:
            ctx = g.audit_context = _request_context_provider()
        if ctx is not None:
            return ctx
    return AuditContext()


def context_for(user: Any) -> AuditContext:
    """The ambient request context, acting as `user` (e.g. the moment a login succeeds)."""
    base = current_context()
    return AuditContext(user_id=user.id, label=user.username,
                        roles=",".join(sorted(r.value for r in user.roles)),
                        organisation_id=user.organisation_id, ip=base.ip,
                        user_agent=base.user_agent)


def record(
    action: AuditAction,
    *,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    data: dict | None = None,
    organisation_id: int | None = None,
    context: AuditContext | None = None,
) -> AuditEvent:
    """Add one audit event to the current transaction (flushed, not committed).

    `obj` may be any model with an `id` (and optionally `organisation_id`); its class's
    audit name (`__audit_type__` or table name) becomes object_type.

    Raises ValueError for an action that is not an AuditAction (a plain string is accepted only
    if it is a member's value) and for one about another kind of object than `obj`/`object_type`.
    """
    action = AuditAction(action)
    ctx = context or current_context()
    if obj is not None:
        object_type = object_type or getattr(obj, "__audit_type__", None) or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if organisation_id is None:
            organisation_id = getattr(obj, "organisation_id", None)
    if object_type is not None and object_type != action.object_type:
        raise ValueError(f"audit action {action.value!r} is not about a {object_type!r}")
    if organisation_id is None:
        organisation_id = ctx.organisation_id
    event = AuditEvent(
        occurred_at=clock.now(),
        action=action.value,
        actor_user_id=ctx.user_id,
        actor_label=_encode_controls(ctx.label),
        actor_roles=ctx.roles,
        organisation_id=organisation_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        data=_encode_controls(data or {}),
        ip=ctx.ip,
        user_agent=_encode_controls((ctx.user_agent or "")[:255]) or None,
    )
    db.session.add(event)
    db.session.flush()
    return event
