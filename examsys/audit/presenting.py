"""How process-record events read to a person: the action's label, the actor with their roles,
the organisation and the object by name (resolved in bulk by ``objects``), `data` as labelled
details and before/after changes, times in Beijing time, and the same as flat text for exports.

Nothing here knows about requests: a link is an (endpoint, arguments) pair that the caller turns
into a URL, or leaves out, depending on who is looking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from examsys import clock
from examsys.accounts.models import Organisation, User
from examsys.audit.actions import label_for
from examsys.audit.labels import CANDIDATE_LABEL, field_label, object_label, role_labels, value_words
from examsys.audit.models import AuditEvent
from examsys.audit.objects import NOTHING, candidate_of, resolve_objects, ticket_names

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
CANDIDATE_PREFIX = "candidate:"

# Keys of `data` that hold the id of another object: shown by that object's name.
REF_KEYS: dict[str, str] = {
    "batch_id": "batch", "attempt_id": "attempt", "attempt": "attempt", "paper_id": "paper",
    "item_id": "item", "user_id": "user", "supervisor_id": "user", "standard_id": "standard",
    "old_standard_id": "standard", "from_standard_id": "standard", "to_standard_id": "standard",
    "blueprint_id": "paper_blueprint", "version_id": "item_version", "old_version_id": "item_version",
    "new_version_id": "item_version", "roster_entry_id": "roster_entry", "point_id": "assessment_point",
}
# Pairs of keys recorded side by side for one field: (before key, after key, the field).
PAIRS: tuple[tuple[str, str, str], ...] = (
    ("from", "to", "state"), ("from_standard_id", "to_standard_id", "standard_id"),
    ("original", "corrected", "score"), ("old_ip", "new_ip", "ip"),
    ("old_version_id", "new_version_id", "version_id"),
)


@dataclass
class Value:
    text: str
    link: str | None = None


@dataclass
class Detail:
    label: str
    value: Value


@dataclass
class Change:
    label: str
    before: Value
    after: Value
    changed: bool = True


@dataclass
class PresentedEvent:
    event: AuditEvent
    when: str
    action: str
    actor: str
    roles: list[str]
    organisation: str
    object_kind: str
    object: Value | None
    details: list[Detail] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def chain(self) -> str:
        return f"{self.event.scope} #{self.event.seq}"


Linker = Callable[[str, dict], str | None]


def _no_links(_endpoint: str, _args: dict) -> str | None:
    return None


# --- values ------------------------------------------------------------------------------------


def format_time(moment: datetime | None) -> str:
    local = clock.to_display(moment)
    return local.strftime(TIME_FORMAT) if local else ""


def _iso_to_local(text: str) -> str | None:
    if not ISO_TIME.fullmatch(text):
        return None
    try:
        return format_time(datetime.fromisoformat(text))
    except ValueError:
        return None


def format_value(value: Any, words: dict[str, str] | None = None) -> str:
    """A stored value as text: yes/no, times in Beijing time, lists joined, objects as
    `label: value` pairs, coded values in `words`."""
    if value is None or value == "" or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        if words and value in words:
            return words[value]
        return _iso_to_local(value) or value
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        sep = " / " if any(isinstance(v, dict | list) for v in value) else "、"
        return sep.join(format_value(v, words) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{field_label(str(k))}：{format_value(v, value_words(None, str(k)))}"
                        for k, v in value.items())
    return str(value)


# --- data → details and changes ----------------------------------------------------------------


@dataclass
class _Raw:
    """`data` split into (key, value) details and (field, before, after) changes, unformatted."""

    details: list[tuple[str, Any, str]] = field(default_factory=list)  # key, value, label prefix
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def split_data(data: dict | None) -> _Raw:
    """Find the before/after pairs services record (`before`/`after` objects or values, a
    `changes` map of {field: {before, after}}, `x_before` beside `x_after`/`x_at`/`x`, and the
    PAIRS); everything else is a detail."""
    rest = dict(data or {})
    out = _Raw()
    if "before" in rest and "after" in rest:
        before, after = rest.pop("before"), rest.pop("after")
        if isinstance(before, dict | None) and isinstance(after, dict | None) and (before or after):
            before, after = before or {}, after or {}
            for key in [*before, *(k for k in after if k not in before)]:
                out.changes.append((str(key), before.get(key), after.get(key)))
        else:
            out.changes.append(("value", before, after))
    elif isinstance(rest.get("after"), dict):  # a creation recorded as its state after
        rest = {**rest.pop("after"), **rest}
    changes = rest.get("changes")
    if isinstance(changes, dict) and all(isinstance(v, dict) and {"before", "after"} >= set(v)
                                         for v in changes.values()):
        rest.pop("changes")
        out.changes.extend((str(k), v.get("before"), v.get("after")) for k, v in changes.items())
    for old, new, name in PAIRS:
        if old in rest and new in rest:
            out.changes.append((name, rest.pop(old), rest.pop(new)))
    for key in [k for k in rest if k.endswith("_before")]:
        base = key.removesuffix("_before")
        for after_key in (f"{base}_after", f"{base}_at", base):
            if after_key in rest:
                out.changes.append((base, rest.pop(key), rest.pop(after_key)))
                break
    for key, value in rest.items():
        if isinstance(value, dict) and value and not any(isinstance(v, dict) for v in value.values()):
            # a recorded snapshot: one row per field, so that its references are named too
            out.details.extend((str(k), v, f"{field_label(key)} · ") for k, v in value.items())
        else:
            out.details.append((key, value, ""))
    return out


def _refs_in(raw: _Raw) -> Iterable[tuple[str, int]]:
    for key, value, _prefix in raw.details:
        if key in REF_KEYS and isinstance(value, int) and not isinstance(value, bool):
            yield REF_KEYS[key], value
    for key, before, after in raw.changes:
        if key in REF_KEYS:
            for value in (before, after):
                if isinstance(value, int) and not isinstance(value, bool):
                    yield REF_KEYS[key], value


# --- events ------------------------------------------------------------------------------------


@dataclass
class _Lookups:
    objects: dict
    users: dict
    orgs: dict
    candidates: dict
    link: Linker


def _value(lookups: _Lookups, key: str, value: Any, object_type: str | None) -> Value:
    if key in REF_KEYS and isinstance(value, int) and not isinstance(value, bool):
        ref = lookups.objects.get((REF_KEYS[key], value))
        if ref is not None:
            return Value(ref.name, lookups.link(ref.endpoint, dict(ref.args)) if ref.endpoint else None)
        return Value(f"#{value}")
    return Value(format_value(value, value_words(object_type, key)))


def _change(lookups: _Lookups, key: str, before: Any, after: Any, object_type: str | None) -> Change:
    b, a = _value(lookups, key, before, object_type), _value(lookups, key, after, object_type)
    return Change(field_label(key), b, a, b.text != a.text)


def _actor(event: AuditEvent, lookups: _Lookups) -> tuple[str, list[str]]:
    label = event.actor_label or ""
    if label.startswith(CANDIDATE_PREFIX):
        ticket = label.removeprefix(CANDIDATE_PREFIX)
        name = lookups.candidates.get(ticket)
        return (candidate_of(name, ticket) if name else ticket), [CANDIDATE_LABEL]
    user = lookups.users.get(event.actor_user_id)
    if user is not None:
        return f"{user[0]}（{user[1]}）", role_labels(event.actor_roles)
    if label:
        return label, role_labels(event.actor_roles)
    return ("（系统）" if event.ip is None else "（未登录）"), []


def _object(event: AuditEvent, raw: _Raw, lookups: _Lookups) -> Value | None:
    if event.object_type is None:
        return None
    ref = lookups.objects.get((event.object_type, int(event.object_id))) \
        if (event.object_id or "").isdigit() else None
    if ref is not None:
        return Value(ref.name, lookups.link(ref.endpoint, dict(ref.args)) if ref.endpoint else None)
    if event.object_type == "audit_log":
        return Value(object_label("audit_log"), lookups.link("audit.events", {}))
    plain = {k: v for k, v, prefix in raw.details if not prefix}
    named = plain.get("name") or plain.get("code")
    if named:
        return Value(str(named))
    return Value(f"#{event.object_id}" if event.object_id else NOTHING)


def present(session, events: list[AuditEvent], link: Linker = _no_links) -> list[PresentedEvent]:
    """The events as people read them; names of actors, organisations and objects (also those
    that details refer to) are looked up in bulk, a few queries for the whole list."""
    raws = [split_data(e.data) for e in events]
    refs = [(e.object_type, e.object_id) for e in events]
    refs += [ref for raw in raws for ref in _refs_in(raw)]
    user_ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    org_ids = {e.organisation_id for e in events if e.organisation_id is not None}
    tickets = {e.actor_label.removeprefix(CANDIDATE_PREFIX) for e in events
               if (e.actor_label or "").startswith(CANDIDATE_PREFIX)}
    lookups = _Lookups(
        objects=resolve_objects(session, refs),
        users={r[0]: (r[1], r[2]) for r in session.execute(
            select(User.id, User.display_name, User.username).where(User.id.in_(sorted(user_ids))))}
        if user_ids else {},
        orgs=dict(session.execute(select(Organisation.id, Organisation.name)
                                  .where(Organisation.id.in_(sorted(org_ids)))).all()) if org_ids else {},
        candidates=ticket_names(session, tickets), link=link)
    out = []
    for event, raw in zip(events, raws, strict=True):
        actor, roles = _actor(event, lookups)
        kind = event.object_type
        out.append(PresentedEvent(
            event=event, when=format_time(event.occurred_at), action=label_for(event.action),
            actor=actor, roles=roles,
            organisation=lookups.orgs.get(event.organisation_id, NOTHING) if event.organisation_id else NOTHING,
            object_kind=object_label(kind), object=_object(event, raw, lookups),
            details=[Detail(prefix + field_label(k), _value(lookups, k, v, kind)) for k, v, prefix in raw.details],
            changes=[_change(lookups, k, before, after, kind) for k, before, after in raw.changes]))
    return out


# --- export ------------------------------------------------------------------------------------

EXPORT_HEADER = ("时间（北京时间）", "操作", "操作人", "角色", "机构", "对象类型", "对象", "详情",
                 "IP 地址", "记录链", "序号", "哈希")


def details_text(p: PresentedEvent) -> str:
    """Details and changes as one line of text: `label: value`, `label: before → after`."""
    parts = [f"{c.label}：{c.before.text} → {c.after.text}" for c in p.changes if c.changed]
    parts += [f"{d.label}：{d.value.text}" for d in p.details]
    return "；".join(parts)


def flatten(p: PresentedEvent) -> tuple:
    """One export row, in EXPORT_HEADER's order."""
    e = p.event
    return (p.when, p.action, p.actor, "、".join(p.roles), p.organisation, p.object_kind,
            p.object.text if p.object else "", details_text(p), e.ip or "", e.scope, e.seq, e.entry_hash)
