"""How process-record events read to a person: the action's label, the actor with their roles,
the organisation and the object by name (resolved in bulk, one query per kind of object on a
page), `data` as labelled details and before/after changes, times in Beijing time, and the same
as flat text for exports.

Nothing here knows about requests: a link is an (endpoint, arguments) pair that the caller turns
into a URL, or leaves out, depending on who is looking.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from examsys import clock
from examsys.accounts.models import Candidate, Organisation, User
from examsys.assembly.models import Paper, PaperBlueprint
from examsys.audit.actions import label_for
from examsys.audit.labels import CANDIDATE_LABEL, field_label, object_label, role_labels, value_words
from examsys.audit.models import AuditEvent
from examsys.bank.models import Item, ItemVersion
from examsys.delivery.models import (
    Attempt,
    Batch,
    CandidateSession,
    Incident,
    ItemScore,
    Mark,
    ResultReview,
    RosterEntry,
    ScoreCorrection,
    ScoreReviewRequest,
    SurveyResponse,
)
from examsys.standards.models import AssessmentPoint, KnowledgeRange, Standard

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
CANDIDATE_PREFIX = "candidate:"
NOTHING = "—"

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


@dataclass(frozen=True)
class ObjectRef:
    """An object by name, and the page that shows it (endpoint and arguments), if any."""

    name: str
    endpoint: str | None = None
    args: tuple = ()


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


# --- objects by name, in bulk ------------------------------------------------------------------


def _candidate_of(name: str, ticket: str) -> str:
    return f"{name}（{ticket}）"


def _by_id(session, columns, ids) -> list:
    return list(session.execute(select(*columns).where(columns[0].in_(ids))))


def _entries(session, model, ids, suffix: str = "") -> dict[int, ObjectRef]:
    """Objects of one roster entry (or entries themselves): named after the candidate, linked to
    the batch."""
    entry_id = RosterEntry.id if model is RosterEntry else model.roster_entry_id
    stmt = select(model.id, RosterEntry.batch_id, RosterEntry.ticket_no, Candidate.name)
    if model is not RosterEntry:
        stmt = stmt.join(RosterEntry, RosterEntry.id == entry_id)
    rows = session.execute(stmt.join(Candidate, Candidate.id == RosterEntry.candidate_id).where(model.id.in_(ids)))
    return {r[0]: ObjectRef(_candidate_of(r[3], r[2]) + suffix, "delivery.batch", (("batch_id", r[1]),))
            for r in rows}


def _batch_named(session, model, ids, endpoint: str, word: str) -> dict[int, ObjectRef]:
    rows = session.execute(select(model.id, Batch.id, Batch.name).join(Batch, Batch.id == model.batch_id)
                           .where(model.id.in_(ids)))
    return {r[0]: ObjectRef(f"{r[2]} · {word} #{r[0]}", endpoint, (("batch_id", r[1]),)) for r in rows}


def _simple(model, endpoint: str, arg: str, name: Callable[[Any], str], *columns):
    def resolve(session, ids):
        return {r[0]: ObjectRef(name(r), endpoint, ((arg, r[0]),))
                for r in _by_id(session, [model.id, *columns], ids)}
    return resolve


def _in_standard(model):
    def resolve(session, ids):
        return {r[0]: ObjectRef(f"{r[1]} {r[2]}", "standards.detail", (("standard_id", r[3]),))
                for r in _by_id(session, [model.id, model.code, model.name, model.standard_id], ids)}
    return resolve


def _item_versions(session, ids):
    return {r[0]: ObjectRef(f"试题 #{r[1]} 第 {r[2]} 版", "bank.item_detail", (("item_id", r[1]),))
            for r in _by_id(session, [ItemVersion.id, ItemVersion.item_id, ItemVersion.number], ids)}


def _attempts(session, ids):
    return _entries(session, Attempt, ids, " 的作答")


def _corrections(session, ids):
    rows = session.execute(select(ScoreCorrection.id, Attempt.batch_id, RosterEntry.ticket_no, Candidate.name)
                           .join(Attempt, Attempt.id == ScoreCorrection.attempt_id)
                           .join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id)
                           .join(Candidate, Candidate.id == RosterEntry.candidate_id)
                           .where(ScoreCorrection.id.in_(ids)))
    return {r[0]: ObjectRef(f"{_candidate_of(r[3], r[2])} 的成绩更正", "delivery.results", (("batch_id", r[1]),))
            for r in rows}


def _marks(session, ids):
    rows = session.execute(select(Mark.id, ItemScore.batch_id, ItemScore.marking_code)
                           .join(ItemScore, ItemScore.id == Mark.item_score_id).where(Mark.id.in_(ids)))
    return {r[0]: ObjectRef(f"评卷码 {r[2] or NOTHING}", "delivery.batch", (("batch_id", r[1]),)) for r in rows}


RESOLVERS: dict[str, Callable] = {
    "organisation": _simple(Organisation, "accounts.organisation_edit", "org_id", lambda r: r[1], Organisation.name),
    "user": _simple(User, "accounts.user_edit", "user_id", lambda r: f"{r[1]}（{r[2]}）",
                    User.display_name, User.username),
    "candidate": _simple(Candidate, "accounts.candidate_detail", "candidate_id", lambda r: r[1], Candidate.name),
    "standard": _simple(Standard, "standards.detail", "standard_id", lambda r: f"{r[1]}（{r[2]}，{r[3]}版）",
                        Standard.name, Standard.code, Standard.edition),
    "knowledge_range": _in_standard(KnowledgeRange),
    "assessment_point": _in_standard(AssessmentPoint),
    "item": _simple(Item, "bank.item_detail", "item_id", lambda r: f"试题 #{r[0]}"),
    "item_version": _item_versions,
    "paper_blueprint": _simple(PaperBlueprint, "assembly.blueprint_edit", "blueprint_id", lambda r: r[1],
                               PaperBlueprint.name),
    "paper": _simple(Paper, "assembly.paper", "paper_id", lambda r: r[1], Paper.name),
    "batch": _simple(Batch, "delivery.batch", "batch_id", lambda r: r[1], Batch.name),
    "roster_entry": lambda s, ids: _entries(s, RosterEntry, ids),
    "candidate_session": lambda s, ids: _entries(s, CandidateSession, ids, " 的登录"),
    "survey_response": lambda s, ids: _entries(s, SurveyResponse, ids, " 的满意度调查"),
    "score_review_request": lambda s, ids: _entries(s, ScoreReviewRequest, ids, " 的成绩复核申请"),
    "attempt": _attempts,
    "incident": lambda s, ids: _batch_named(s, Incident, ids, "delivery.batch", "考场记录"),
    "result_review": lambda s, ids: _batch_named(s, ResultReview, ids, "delivery.results", "成绩复核"),
    "score_correction": _corrections,
    "mark": _marks,
}


def resolve_objects(session, refs: Iterable[tuple[str, Any]]) -> dict[tuple[str, int], ObjectRef]:
    """{(object type, id): ObjectRef} for every ref that still exists: one query per type."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, ident in refs:
        if kind in RESOLVERS and ident is not None and str(ident).isdigit():
            wanted[kind].add(int(ident))
    out: dict[tuple[str, int], ObjectRef] = {}
    for kind, ids in wanted.items():
        for ident, ref in RESOLVERS[kind](session, sorted(ids)).items():
            out[(kind, ident)] = ref
    return out


def _tickets(session, tickets: set[str]) -> dict[str, str]:
    if not tickets:
        return {}
    return dict(session.execute(select(RosterEntry.ticket_no, Candidate.name)
                                .join(Candidate, Candidate.id == RosterEntry.candidate_id)
                                .where(RosterEntry.ticket_no.in_(sorted(tickets)))).all())


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
        return (_candidate_of(name, ticket) if name else ticket), [CANDIDATE_LABEL]
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
        candidates=_tickets(session, tickets), link=link)
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
