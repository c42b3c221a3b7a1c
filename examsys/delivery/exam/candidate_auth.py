"""Candidate login: admission-ticket number + ID number (+ the room's access code when the batch
asks for it) → a Bearer token for the JSON API.

- Every failure answers with the same Chinese message, so the endpoint reveals neither which
  tickets exist nor which part was wrong; failures are audited (ticket only, never the ID) by
  the error path, after the request's rollback (`transaction.on_rollback`).
- The ID number is compared through the candidate's keyed blind index, never decrypted.
- One live session per roster entry: a new login ends the older one (`end_reason="replaced"`);
  both are logged. The old token then gets 401 with code `session_replaced`, and its first use
  after that is recorded (again after the rollback) as evidence for the proctors.
- The token is `secrets.token_urlsafe(32)`; only its SHA-256 is stored.
- Failures are counted per ticket number, whether or not it exists (examsys.accounts.throttle):
  after EXAMSYS_CANDIDATE_LOCKOUT_THRESHOLD of them the ticket is locked for a while, twice as
  long after each further lock-out (up to a cap), and a locked ticket is refused with 429 before
  anything else is checked; a successful sign-in clears the count.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import joinedload

from examsys import audit, clock, rawsql, transaction
from examsys.accounts import idnumber, throttle
from examsys.accounts.candidates import id_index
from examsys.accounts.models import Candidate
from examsys.audit import chain
from examsys.audit.actions import AuditAction
from examsys.audit.services import AuditContext
from examsys.delivery.exam import integrity
from examsys.delivery.models import Attempt, Batch, BatchRoom, BatchState, CandidateSession, RosterEntry
from examsys.errors import AuthenticationFailed, RateLimited, SessionReplaced
from examsys.extensions import db

LOGIN_FAILED = "准考证号、身份证号或考场口令不正确，或当前不在考试时间内"
SESSION_INVALID = "登录已失效，请重新登录"
SESSION_REPLACED_MESSAGE = "您的账号已在其他地方登录，本页面已失效"
# Exams run in FILED/OPEN batches; PUBLISHED lets a candidate come back to see the result.
LOGIN_STATES = (BatchState.FILED, BatchState.OPEN, BatchState.PUBLISHED)
SESSION_LIFETIME = timedelta(hours=12)
LAST_SEEN_EVERY = timedelta(seconds=60)


def session_live(ended_at, created_at, now) -> bool:
    """A session counts until it is ended (logout, replaced) or SESSION_LIFETIME old."""
    return ended_at is None and now - created_at <= SESSION_LIFETIME


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def candidate_context(entry: RosterEntry, *, ip: str | None, user_agent: str | None) -> AuditContext:
    """Audit actor for a candidate's own actions (candidates are not staff users)."""
    return audit_context(entry.ticket_no, entry.batch.organisation_id, ip=ip, user_agent=user_agent)


def audit_context(ticket_no: str, organisation_id: int, *, ip: str | None, user_agent: str | None) -> AuditContext:
    """`candidate_context` from the ticket number and the batch's organisation."""
    return AuditContext(user_id=None, label=f"candidate:{ticket_no}", roles="candidate",
                        organisation_id=organisation_id, ip=ip, user_agent=(user_agent or "")[:255] or None)


def _fail(ticket_no: str, reason: str, *, ip, user_agent, organisation_id=None) -> AuthenticationFailed:
    """The refusal to raise; its audit event, and the failure's count toward the ticket's lock-out,
    are written by the error path after the rollback."""
    context = AuditContext(label=f"candidate:{ticket_no[:32]}", ip=ip, user_agent=(user_agent or "")[:255] or None)

    def keep() -> None:
        if reason not in ("locked", "bad_ticket"):  # a name that cannot be a ticket is not counted
            cfg = current_app.config
            throttle.record_failure(
                throttle.key_for("ticket", ticket_no), threshold=cfg["EXAMSYS_CANDIDATE_LOCKOUT_THRESHOLD"],
                base=timedelta(minutes=cfg["EXAMSYS_CANDIDATE_LOCKOUT_MINUTES"]), escalate=True,
                cap=timedelta(minutes=cfg["EXAMSYS_CANDIDATE_LOCKOUT_MAX_MINUTES"]))
        audit.record(AuditAction.ROSTER_ENTRY_LOGIN_FAILED, object_type="roster_entry", object_id=None,
                     organisation_id=organisation_id,
                     data={"ticket_no": ticket_no[:32], "reason": reason}, context=context)

    transaction.on_rollback(keep)
    return AuthenticationFailed(LOGIN_FAILED)


def _refuse_if_locked(ticket_no: str, *, ip, user_agent, known: tuple | None = None) -> bool:
    """RateLimited (429, with the seconds to wait) while the ticket number is locked; else
    whether it has failures counted (a successful sign-in then clears them). `known`: the lock
    as already read (`throttle.state`)."""
    counted, until = known or throttle.lookup(throttle.key_for("ticket", ticket_no))
    if until is None:
        return counted
    wait = max(1, math.ceil((until - clock.now()).total_seconds()))
    _fail(ticket_no, "locked", ip=ip, user_agent=user_agent)
    raise RateLimited(_("该准考证号登录失败次数过多，已暂停登录，请 %(n)d 分钟后再试，或联系监考老师",
                        n=(wait + 59) // 60), details={"retry_after": wait})


# Built once: building a statement (and its cache key) costs more than running it. With the
# entry, what signing in needs besides: the ticket's lock-out, whether the entry has a live
# session (only then are they read) and the head of the entry's chain (its sign-ins). Columns,
# not ORM objects: loading the entry, candidate, batch and room as objects took half a sign-in's
# CPU, and every candidate of a start storm signs in.
_LIVE_SESSIONS = select(CandidateSession).where(CandidateSession.roster_entry_id == bindparam("entry_id"),
                                                CandidateSession.ended_at.is_(None))
# The new session, in Core: the ORM's unit of work for this one INSERT cost a sixth of a sign-in.
_OPEN_SESSION = insert(CandidateSession.__table__).values(
    token_hash=bindparam("token_hash"), roster_entry_id=bindparam("entry_id"), created_at=bindparam("now"),
    last_seen_at=bindparam("now"), ip=bindparam("ip"), user_agent=bindparam("user_agent"),
).returning(CandidateSession.__table__.c.id)
_ENTRY_HEAD = chain.head_columns(chain.entry_scope_sql(RosterEntry.id))
_re, _cand, _b, _room = RosterEntry.__table__, Candidate.__table__, Batch.__table__, BatchRoom.__table__
_SIGN_IN = (select(_re.c.id, _re.c.ticket_no, _re.c.seat_no, _re.c.batch_id, _cand.c.name,
                   _cand.c.id_number_masked, _cand.c.id_number_index, _b.c.name.label("batch_name"),
                   _b.c.organisation_id, _b.c.require_access_code, _b.c.state, _room.c.name.label("room_name"),
                   _room.c.access_code, *throttle.columns(bindparam("throttle_key")),
                   select(CandidateSession.id).where(CandidateSession.roster_entry_id == _re.c.id,
                                                     CandidateSession.ended_at.is_(None)).exists().label("live"),
                   _ENTRY_HEAD[0].label("head_seq"), _ENTRY_HEAD[1].label("head_hash"))
            .select_from(_re.join(_cand, _cand.c.id == _re.c.candidate_id).join(_b, _b.c.id == _re.c.batch_id)
                         .outerjoin(_room, _room.c.id == _re.c.room_id))
            .where(_re.c.ticket_no == bindparam("ticket_no")))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """What a sign-in answers with of the candidate's roster entry."""

    entry_id: int
    ticket_no: str
    seat_no: int | None
    exam_id: int
    exam_name: str
    organisation_id: int
    name: str
    id_number_masked: str
    room: str | None


def login(ticket_no: str, id_number: str, access_code: str | None = None, *, ip: str | None,
          user_agent: str | None) -> tuple[str, SignedIn]:
    """(token, the signed-in entry). Raises AuthenticationFailed (one generic message) for any
    failure; the failure's audit event is recorded by the error path, after the rollback."""
    ticket_no = (ticket_no or "").strip() if isinstance(ticket_no, str) else ""
    id_number = id_number if isinstance(id_number, str) else ""
    access_code = access_code if isinstance(access_code, str) else None
    if not ticket_no or len(ticket_no) > 32:
        raise _fail(ticket_no, "bad_ticket", ip=ip, user_agent=user_agent)
    # One statement for the entry, what signing in reads of it (batch, candidate, room) and the
    # ticket number's lock-out; a ticket that is on no roster has its lock read on its own.
    db.session.flush()  # what this transaction has pending first, as the ORM's autoflush would
    row = rawsql.fetch(db.session.connection(), _SIGN_IN,
                       {"ticket_no": ticket_no, "throttle_key": throttle.key_for("ticket", ticket_no)})
    counted = _refuse_if_locked(ticket_no, ip=ip, user_agent=user_agent,
                                known=throttle.state(row.throttle_found, row.throttle_until)
                                if row is not None else None)
    try:
        wanted = id_index(idnumber.validate(id_number))
    except idnumber.InvalidIdNumber:
        wanted = None
    if row is None:
        raise _fail(ticket_no, "unknown_ticket", ip=ip, user_agent=user_agent)
    org_id = row.organisation_id
    if wanted is None or not hmac.compare_digest(row.id_number_index.encode(), wanted.encode()):
        raise _fail(ticket_no, "id_mismatch", ip=ip, user_agent=user_agent, organisation_id=org_id)
    if row.require_access_code:
        expected = row.access_code or ""
        given = (access_code or "").strip().upper()
        if not expected or not hmac.compare_digest(expected.upper().encode(), given.encode()):
            raise _fail(ticket_no, "access_code", ip=ip, user_agent=user_agent, organisation_id=org_id)
    if row.state not in LOGIN_STATES:
        raise _fail(ticket_no, f"batch_{row.state.value}", ip=ip, user_agent=user_agent,
                    organisation_id=org_id)

    if counted:
        throttle.clear(throttle.key_for("ticket", ticket_no))
    now = clock.now()
    ctx = audit_context(row.ticket_no, org_id, ip=ip, user_agent=user_agent)
    older = list(db.session.scalars(_LIVE_SESSIONS, {"entry_id": row.id})) if row.live else []
    token = secrets.token_urlsafe(32)
    conn = db.session.connection()
    session_id = rawsql.run(conn, _OPEN_SESSION, {
        "token_hash": token_hash(token), "entry_id": row.id, "now": now, "ip": ip or None,
        "user_agent": (user_agent or "")[:255] or None})[0]
    if older:
        db.session.execute(update(CandidateSession)
                           .where(CandidateSession.id.in_([s.id for s in older]),
                                  CandidateSession.ended_at.is_(None))
                           .values(ended_at=now, end_reason="replaced")
                           .execution_options(synchronize_session=False))
        for old in older:
            db.session.refresh(old)
            audit.record(AuditAction.CANDIDATE_SESSION_REPLACED, obj=old, object_type="candidate_session",
                         organisation_id=org_id, context=ctx,
                         data={"ticket_no": row.ticket_no, "replaced_by": session_id,
                               "old_ip": old.ip, "new_ip": ip})
        attempt = db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == row.id))
        if attempt is not None:
            integrity.record_server_event(attempt, "concurrent_login", {
                "old_session": older[-1].id, "new_session": session_id, "old_ip": older[-1].ip, "new_ip": ip})
    audit.record(AuditAction.CANDIDATE_SESSION_OPENED, object_type="candidate_session", object_id=session_id,
                 scope=chain.entry_scope(row.id), organisation_id=org_id, context=ctx,
                 data={"ticket_no": row.ticket_no, "replaced": [s.id for s in older]},
                 head=None if older else (row.head_seq or 0, row.head_hash or chain.GENESIS))
    return token, SignedIn(entry_id=row.id, ticket_no=row.ticket_no, seat_no=row.seat_no, exam_id=row.batch_id,
                           exam_name=row.batch_name, organisation_id=org_id, name=row.name,
                           id_number_masked=row.id_number_masked, room=row.room_name)


# Built once, as _SIGN_IN: it runs on every candidate request.
_AUTHENTICATE = (select(CandidateSession, Attempt)
                 .outerjoin(Attempt, Attempt.roster_entry_id == CandidateSession.roster_entry_id)
                 .where(CandidateSession.token_hash == bindparam("token_hash"))
                 .options(joinedload(CandidateSession.roster_entry).joinedload(RosterEntry.batch)))


def authenticate(bearer: str | None, *, defer_touch: bool = False, path: str = "",
                 ip: str | None = None) -> CandidateSession:
    """The live session of a Bearer token. Raises SessionReplaced (a newer login ended it; its
    use at `path` from `ip` is recorded after the rollback) or AuthenticationFailed (missing,
    unknown, ended or expired).

    One query loads the session with its roster entry, batch and (if started) attempt, so the
    request's later `entry.batch` / `db.session.get(Attempt, ...)` come from the identity map.
    `last_seen_at` is written at most once a minute; with `defer_touch` the caller does it later
    (`touch_due` / `touch`), e.g. inside its own short write transaction."""
    if not bearer:
        raise AuthenticationFailed(SESSION_INVALID)
    row = db.session.execute(_AUTHENTICATE, {"token_hash": token_hash(bearer)}).first()
    if row is None:
        raise AuthenticationFailed(SESSION_INVALID)
    session = row[0]
    # The identity map holds objects weakly: keep the attempt alive for the rest of the request.
    session.preloaded_attempt = row[1]
    if session.ended_at is not None:
        if session.end_reason == "replaced":
            session_id = session.id
            transaction.on_rollback(lambda: record_stale_use(session_id, path=path, ip=ip))
            raise SessionReplaced(SESSION_REPLACED_MESSAGE, details={"session_id": session_id})
        raise AuthenticationFailed(SESSION_INVALID)
    now = clock.now()
    if not session_live(session.ended_at, session.created_at, now):
        raise AuthenticationFailed(SESSION_INVALID)
    if not defer_touch and touch_due(session, now):
        touch(session, now)
    return session


def touch_due(session: CandidateSession, now=None) -> bool:
    return touch_due_at(session.last_seen_at, now or clock.now())


def touch_due_at(last_seen_at, now) -> bool:
    """Whether a session last seen at `last_seen_at` is due its last-seen write at `now`."""
    return now - last_seen_at > LAST_SEEN_EVERY


def touch(session: CandidateSession, now=None) -> None:
    """Record that the session is alive. Throttled by callers (`touch_due`): a write per request
    would serialise every autosave behind it."""
    touch_id(session.id, now)
    db.session.expire(session, ["last_seen_at"])


_TOUCH = (update(CandidateSession.__table__).where(CandidateSession.__table__.c.id == bindparam("p_session"))
          .values(last_seen_at=bindparam("p_now")))


def touch_id(session_id: int, now=None) -> None:
    """`touch` by id, without the ORM object (the autosave fast path has none)."""
    db.session.connection().execute(_TOUCH, {"p_session": session_id, "p_now": now or clock.now()})


def logout(session: CandidateSession) -> None:
    if session.ended_at is None:
        db.session.execute(update(CandidateSession).where(CandidateSession.id == session.id,
                                                          CandidateSession.ended_at.is_(None))
                           .values(ended_at=clock.now(), end_reason="logout")
                           .execution_options(synchronize_session=False))
        db.session.refresh(session)
        entry = session.roster_entry
        audit.record(AuditAction.CANDIDATE_SESSION_CLOSED, obj=session, object_type="candidate_session",
                     organisation_id=entry.batch.organisation_id,
                     context=candidate_context(entry, ip=session.ip, user_agent=session.user_agent))


def record_stale_use(session_id: int, *, path: str, ip: str | None) -> None:
    """Log, once per replaced session, that its old tab kept calling: a replaced session still in
    use is evidence of a second device or person, for the proctors."""
    session = db.session.get(CandidateSession, session_id)
    if session is None:
        return
    attempt = db.session.scalar(select(Attempt).where(Attempt.roster_entry_id == session.roster_entry_id))
    if attempt is None:
        return
    seen = db.session.scalars(select(integrity.IntegrityEvent.data).where(
        integrity.IntegrityEvent.attempt_id == attempt.id, integrity.IntegrityEvent.kind == "stale_session"))
    if any((d or {}).get("session_id") == session.id for d in seen):
        return
    integrity.record_server_event(attempt, "stale_session", {"session_id": session.id, "path": path[:200],
                                                             "ip": ip})
    entry = session.roster_entry
    audit.record(AuditAction.ATTEMPT_STALE_SESSION_USED, obj=attempt,
                 data={"session_id": session.id, "path": path[:200]},
                 context=candidate_context(entry, ip=ip, user_agent=None))


__all__ = ["LOGIN_FAILED", "SignedIn", "audit_context", "authenticate", "candidate_context", "login", "logout",
           "record_stale_use",
           "session_live", "token_hash", "touch", "touch_due",
           "touch_due_at", "touch_id"]
