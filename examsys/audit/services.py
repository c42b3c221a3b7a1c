"""Recording process events. record() appends to the event's chain inside the caller's
transaction (examsys.audit.chain): the transaction commits it together with the change it
describes, or rolls both back and frees the link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context

from examsys import clock
from examsys.audit import chain, history
from examsys.audit.actions import AuditAction
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


def scope_for(obj: Any, object_type: str | None, object_id: Any, organisation_id: int | None,
              ctx: AuditContext) -> str:
    """The chain an event joins (examsys.audit.chain): the attempt's own chain for what the
    candidate or the system did in it; the roster entry's chain for a candidate's sign-ins; the
    batch's chain for staff actions on an attempt and for anything of a batch; else the
    organisation's."""
    if object_type == "attempt" and ctx.user_id is None and object_id is not None:
        return chain.attempt_scope(int(object_id))
    if object_type == "candidate_session" and obj is not None:
        return chain.entry_scope(obj.roster_entry_id)
    batch_id = None
    if obj is not None:
        batch_id = obj.id if object_type == "batch" else getattr(obj, "batch_id", None)
    elif object_type == "batch" and object_id is not None:
        batch_id = int(object_id)
    if batch_id is not None:
        return chain.batch_scope(batch_id)
    return chain.org_scope(organisation_id)


def record(
    action: AuditAction,
    *,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    data: dict | None = None,
    organisation_id: int | None = None,
    context: AuditContext | None = None,
    scope: str | None = None,
    head: tuple[int, str] | None = None,
) -> chain.Link:
    """Append one event to its chain in the current transaction (not committed); returns its link
    (row id, scope, seq, entry_hash).

    `obj` may be any model with an `id` (and optionally `organisation_id`, `batch_id`); its
    class's audit name (`__audit_type__` or table name) becomes object_type. `scope`: the chain,
    when not the one `scope_for` derives. `head`: that chain's head as read earlier in this
    transaction (chain.append's `known`), sparing the read.

    Raises ValueError for an action that is not an AuditAction (a plain string is accepted only
    if it is a member's value) and for one about another kind of object than `obj`/`object_type`;
    ConcurrentChange when the chain stays contended.
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
    scope = scope or scope_for(obj, object_type, object_id, organisation_id, ctx)
    kind, ident = chain.parse_scope(scope)
    if kind == "attempt":
        history.forget_head(ident)  # the next save must not link to the previous save
    db.session.flush()  # the change this event describes is written first
    return chain.append(db.session.connection(), scope, {
        "occurred_at": clock.now(),
        "action": action.value,
        "actor_user_id": ctx.user_id,
        "actor_label": _encode_controls(ctx.label),
        "actor_roles": ctx.roles,
        "organisation_id": organisation_id,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "data": _encode_controls(data or {}),
        "ip": ctx.ip,
        "user_agent": _encode_controls((ctx.user_agent or "")[:255]) or None,
    }, known=head)


def seal_attempt(attempt: Any, *, head: tuple[int, str] | None = None) -> chain.Link:
    """Append the head (size and hash) of the attempt's chain, and of its roster entry's chain
    (the candidate's sign-ins) when it has one, to the batch's chain: from then on the batch's
    chain vouches for everything those chains held. Called at every close of the attempt (a
    reopened attempt is sealed again when it closes again). `head`: the attempt chain's head as
    this transaction just appended it (the closing event's link), sparing its read."""
    db.session.flush()
    conn = db.session.connection()
    size, head_hash = head if head is not None else chain.head(conn, chain.attempt_scope(attempt.id))
    data = {"attempt": attempt.id, "size": size, "head": head_hash}
    entry_size, entry_head = chain.head(conn, chain.entry_scope(attempt.roster_entry_id))
    if entry_size:
        data |= {"entry": attempt.roster_entry_id, "entry_size": entry_size, "entry_head": entry_head}
    return record(AuditAction.ATTEMPT_SEALED, obj=attempt, scope=chain.batch_scope(attempt.batch_id), data=data)

