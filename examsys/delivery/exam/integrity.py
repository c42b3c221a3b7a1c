"""Integrity signals: evidence for proctors, never verdicts.

Client-reported (allow-listed kinds, size-capped, capped per attempt): page hidden, focus lost,
copy, paste, fullscreen exit. Server-observed: IP or browser change, concurrent login, a save
after a long silence, implausibly fast answering, Safe Exam Browser check failures and use of a
replaced session.

Safe Exam Browser (optional per batch): when `batch.seb_config_key` is set, every attempt
request must carry `X-SafeExamBrowser-ConfigKeyHash` = SHA-256(absolute request URL + config
key), compared in constant time. The URL is the one the browser asked for, so behind a proxy
the app must see the public scheme and host (ProxyFix)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from examsys import audit, clock
from examsys.audit.actions import AuditAction
from examsys.delivery.models import Attempt, Batch, IntegrityEvent
from examsys.errors import ValidationError
from examsys.extensions import db

CLIENT_KINDS = frozenset({"page_hidden", "focus_lost", "copy", "paste", "fullscreen_exit"})
SERVER_KINDS = frozenset({"ip_change", "user_agent_change", "concurrent_login", "long_silence",
                          "fast_answering", "seb_check_failed", "stale_session"})
# What each kind of evidence is called wherever people read it (proctor console, supervision).
KIND_LABELS = {
    "page_hidden": "页面被隐藏（切换窗口或标签页）", "focus_lost": "考试页面失去焦点", "copy": "复制",
    "paste": "粘贴", "fullscreen_exit": "退出全屏", "ip_change": "IP 地址变化", "user_agent_change": "浏览器变化",
    "concurrent_login": "重复登录", "long_silence": "长时间无响应", "fast_answering": "答题过快",
    "seb_check_failed": "安全考试浏览器校验失败", "stale_session": "已被取代的登录仍在访问",
}
SOURCE_LABELS = {"client": "考生端报告", "server": "服务器记录"}
DATA_LABELS = {"length": "字数", "from": "原为", "to": "变为", "silent_seconds": "无响应（秒）",
               "answered": "已答题数", "elapsed_seconds": "用时（秒）"}
MAX_DATA_BYTES = 1024
MAX_CLIENT_EVENTS_PER_ATTEMPT = 2000
LONG_SILENCE = timedelta(minutes=5)
# Faster than this many seconds per answered item, over at least FAST_MIN_ITEMS items.
FAST_SECONDS_PER_ITEM = 2.0
FAST_MIN_ITEMS = 10
SEB_HEADER = "X-SafeExamBrowser-ConfigKeyHash"


def _parse_time(value: Any, now: datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else now
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            parsed.astimezone(UTC)  # stored in UTC: year 1 at +14:00 or 9999 at -14:00 overflows
        except (ValueError, OverflowError):
            return now
        return parsed if parsed.tzinfo else now
    return now


def record_client_event(attempt: Attempt, kind: str, data: Any = None, occurred_at: Any = None) -> \
        IntegrityEvent | None:
    """Store one client-reported event. Raises ValidationError for a kind outside the allow-list
    or data that is not a small JSON object; returns None (dropped) past the per-attempt cap."""
    if kind not in CLIENT_KINDS:
        raise ValidationError("不支持的事件类型", field="kind")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ValidationError("事件数据应为对象", field="data")
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_DATA_BYTES:
        raise ValidationError(f"事件数据不能超过 {MAX_DATA_BYTES} 字节", field="data")
    count = db.session.scalar(select(func.count(IntegrityEvent.id)).where(
        IntegrityEvent.attempt_id == attempt.id, IntegrityEvent.source == "client")) or 0
    if count >= MAX_CLIENT_EVENTS_PER_ATTEMPT:
        return None
    now = clock.now()
    event = IntegrityEvent(attempt_id=attempt.id, kind=kind, source="client", data=data,
                           occurred_at=_parse_time(occurred_at, now), received_at=now)
    db.session.add(event)
    db.session.flush()
    _chain(event, attempt.batch.organisation_id)
    return event


def _chain(event: IntegrityEvent, organisation_id: int | None) -> None:
    """The signal's link in the attempt's chain (integrity_events stays the proctors' index)."""
    audit.record(AuditAction.ATTEMPT_SIGNAL_RECORDED, object_type="attempt", object_id=event.attempt_id,
                 organisation_id=organisation_id,
                 data={"kind": event.kind, "source": event.source, "data": event.data,
                       "occurred_at": event.occurred_at.isoformat()})


def _recorded(attempt_id: int, kind: str) -> bool:
    return db.session.scalar(select(IntegrityEvent.id).where(
        IntegrityEvent.attempt_id == attempt_id, IntegrityEvent.kind == kind).limit(1)) is not None


def record_server_event(attempt: Attempt | int, kind: str, data: dict | None = None, *,
                        once: bool = False) -> IntegrityEvent | None:
    """Store a server-observed fact about an attempt (or attempt id); with once=True only the
    first of its kind per attempt."""
    if kind not in SERVER_KINDS:
        raise ValueError(f"unknown server integrity event {kind!r}")
    attempt_id = attempt if isinstance(attempt, int) else attempt.id
    if once and _recorded(attempt_id, kind):
        return None
    now = clock.now()
    event = IntegrityEvent(attempt_id=attempt_id, kind=kind, source="server", data=data or {},
                           occurred_at=now, received_at=now)
    db.session.add(event)
    db.session.flush()
    organisation_id = attempt.batch.organisation_id if not isinstance(attempt, int) else db.session.scalar(
        select(Batch.organisation_id).join(Attempt, Attempt.batch_id == Batch.id).where(Attempt.id == attempt_id))
    _chain(event, organisation_id)
    return event


def save_facts(attempt_id: int, *, now: datetime, started_at: datetime, answered: int,
               previous_seen: datetime | None, previous_ip: str | None,
               previous_user_agent: str | None, ip: str | None, user_agent: str | None) -> list:
    """Server facts around one save, as (kind, data, once) to record: IP or browser change, a
    save after a long silence, fast answering (`answered`: items answered after the save). A
    once-only fact already recorded for the attempt is left out. Reads only; `record_facts`
    stores them."""
    facts = []
    if ip and previous_ip and ip != previous_ip:
        facts.append(("ip_change", {"from": previous_ip, "to": ip}, False))
    if user_agent and previous_user_agent and user_agent[:255] != previous_user_agent:
        facts.append(("user_agent_change", {"from": previous_user_agent[:120], "to": user_agent[:120]}, False))
    if previous_seen is not None and now - previous_seen > LONG_SILENCE:
        facts.append(("long_silence", {"silent_seconds": int((now - previous_seen).total_seconds())}, False))
    elapsed = (now - started_at).total_seconds()
    if answered >= FAST_MIN_ITEMS and elapsed < answered * FAST_SECONDS_PER_ITEM \
            and not _recorded(attempt_id, "fast_answering"):
        facts.append(("fast_answering", {"answered": answered, "elapsed_seconds": int(elapsed)}, True))
    return facts


def record_facts(attempt_id: int, facts: list) -> None:
    for kind, data, once in facts:
        record_server_event(attempt_id, kind, data, once=once)


def seb_expected(url: str, config_key: str) -> str:
    return hashlib.sha256((url + config_key).encode("utf-8")).hexdigest()


def seb_ok(config_key: str | None, url: str, header: str | None) -> bool:
    """True when the batch needs no SEB, or the header matches for this URL (constant time)."""
    if not config_key:
        return True
    if not header:
        return False
    return hmac.compare_digest(seb_expected(url, config_key).encode(), header.strip().lower().encode())


__all__ = ["CLIENT_KINDS", "DATA_LABELS", "KIND_LABELS", "SEB_HEADER", "SERVER_KINDS", "SOURCE_LABELS",
           "record_client_event", "record_facts", "record_server_event", "save_facts", "seb_expected", "seb_ok"]
