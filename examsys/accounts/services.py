"""Accounts: organisations, users and roles, authentication with lock-out, login sessions,
candidates with encrypted ID numbers. Every change records an audit event; nothing commits here."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import select

from examsys import audit, clock, transaction
from examsys.accounts import throttle
from examsys.accounts.candidates import (
    ID_PURPOSE,
    create_candidate,
    find_candidates_by_id_number,
    id_index,
    photo_path,
    reveal_id_number,
    set_candidate_photo,
)
from examsys.accounts.models import (
    DEFAULT_CITY_CODE,
    DEFAULT_CITY_NAME,
    Certificate,
    CertificateKind,
    City,
    Organisation,
    OrgKind,
    User,
    UserRole,
    UserSession,
)
from examsys.accounts.passwords import check_password_policy, hash_password, hasher
from examsys.accounts.passwords import dummy_hash as _dummy_hash
from examsys.accounts.passwords import verify as _verify
from examsys.audit import services as audit_services
from examsys.audit.actions import AuditAction
from examsys.errors import AuthenticationFailed, Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import (
    Role,
    may_appoint_supervisors,
    may_grant_roles,
    may_manage_user,
    may_manage_users_of,
    may_reset_password,
)

GENERIC_LOGIN_ERROR = "用户名或密码错误，或账户暂时无法登录。请稍后重试或联系机构管理员。"


# --- organisations ---------------------------------------------------------------------------


def default_city() -> City:
    """The province's own entry among the cities (made on first use)."""
    city = db.session.scalar(select(City).where(City.code == DEFAULT_CITY_CODE))
    if city is None:
        city = create_city(DEFAULT_CITY_CODE, DEFAULT_CITY_NAME)
    return city


def create_city(code: str, name: str) -> City:
    """Raises Conflict if the code is taken, ValidationError on an empty code or name."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationError("城市代码和名称不能为空")
    if db.session.scalar(select(City).where(City.code == code)):
        raise Conflict(f"城市代码 {code} 已存在", field="code")
    city = City(code=code, name=name)
    db.session.add(city)
    db.session.flush()
    audit.record(AuditAction.CITY_CREATED, obj=city, data={"code": code, "name": name})
    return city


def cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.code)))


def create_organisation(code: str, name: str, kind: OrgKind, city: City | None = None) -> Organisation:
    """In `city` (the province's own entry if none). Raises Conflict if the code is taken,
    ValidationError on an empty code or name."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationError("机构代码和名称不能为空")
    if db.session.scalar(select(Organisation).where(Organisation.code == code)):
        raise Conflict(f"机构代码 {code} 已存在", field="code")
    city = city or default_city()
    org = Organisation(code=code, name=name, kind=kind, active=True, city_id=city.id)
    db.session.add(org)
    db.session.flush()
    audit.record(AuditAction.ORGANISATION_CREATED, obj=org, organisation_id=org.id,
                 data={"code": code, "name": name, "kind": kind.value, "city": city.code})
    return org


def update_organisation(org: Organisation, *, name: str, kind: OrgKind, active: bool,
                        city: City | None = None) -> None:
    before = {"name": org.name, "kind": org.kind.value, "active": org.active, "city": org.city_id}
    org.name, org.kind, org.active = name.strip(), kind, active
    if city is not None:
        org.city_id = city.id
    after = {"name": org.name, "kind": org.kind.value, "active": org.active, "city": org.city_id}
    db.session.flush()
    audit.record(AuditAction.ORGANISATION_UPDATED, obj=org, organisation_id=org.id,
                 data={"before": before, "after": after})


# --- users -----------------------------------------------------------------------------------


@dataclass
class CertificateInput:
    kind: CertificateKind
    number: str
    valid_until: date


def _check_roles_allowed(actor: User | None, org: Organisation, roles: set[Role],
                         held: frozenset[Role] = frozenset()) -> None:
    """The roles a user may end up with; `held` are those they hold already (a supervisor
    appointed before the authority alone appointed them keeps the role when edited)."""
    if not roles:
        raise ValidationError("至少选择一个角色", field="roles")
    if Role.PROVINCIAL_ADMIN in roles and org.kind != OrgKind.AUTHORITY:
        raise ValidationError("省级管理员只能属于省级人社部门", field="roles")
    granted = roles - held
    may_grant_roles(actor, granted | (roles & {Role.PROVINCIAL_ADMIN})).enforce()
    if Role.SUPERVISOR in granted and org.kind != OrgKind.AUTHORITY:
        raise ValidationError("督导员只能属于省级人社部门", field="roles")


def _supervisor_certificates(certificates) -> set[tuple]:
    return {(c.number.strip(), c.valid_until) for c in certificates if c.kind == CertificateKind.SUPERVISOR}


def _check_certificates_allowed(actor: User | None, before, after) -> None:
    """督导员证 are recorded by the authority only: anyone else leaves them as they are."""
    if _supervisor_certificates(before) != _supervisor_certificates(after):
        may_appoint_supervisors(actor).enforce()


def create_user(
    actor: User | None,
    org: Organisation,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: set[Role],
    certificates: list[CertificateInput] | None = None,
) -> User:
    """Raises PermissionDenied, ValidationError (policy, roles) or Conflict (username taken)."""
    may_manage_users_of(actor, org.id).enforce()
    username = username.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{3,64}", username):
        raise ValidationError("用户名须为3–64位字母、数字、下划线、点或连字符", field="username")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict("该用户名已被使用", field="username")
    check_password_policy(password, username=username)
    _check_roles_allowed(actor, org, roles)
    _check_certificates_allowed(actor, [], certificates or [])
    user = User(organisation_id=org.id, username=username, display_name=display_name.strip(),
                password_hash=hash_password(password), active=True)
    user.role_rows = [UserRole(role=r) for r in sorted(roles)]
    for c in certificates or []:
        user.certificates.append(Certificate(kind=c.kind, number=c.number.strip(),
                                             valid_until=c.valid_until))
    db.session.add(user)
    db.session.flush()
    audit.record(AuditAction.USER_CREATED, obj=user, data={
        "username": username, "roles": sorted(r.value for r in roles),
        "certificates": [{"kind": c.kind.value, "number": c.number} for c in certificates or []]})
    return user


def update_user(
    actor: User,
    user: User,
    *,
    expected_version: int,
    display_name: str,
    roles: set[Role],
    active: bool,
    certificates: list[CertificateInput],
) -> None:
    """Raises PermissionDenied, ValidationError, or Conflict when someone else saved first."""
    may_manage_user(actor, user).enforce()
    if user.version != expected_version:
        raise Conflict("该用户已被他人修改，请刷新后重试")
    _check_roles_allowed(actor, user.organisation, roles, held=user.roles)
    _check_certificates_allowed(actor, user.certificates, certificates)
    if user.id == actor.id and not active:
        raise ValidationError("不能停用自己的账户", field="active")
    before = {"display_name": user.display_name, "roles": sorted(r.value for r in user.roles),
              "active": user.active,
              "certificates": [[c.kind.value, c.number, c.valid_until.isoformat()]
                               for c in user.certificates]}
    user.display_name = display_name.strip()
    user.active = active
    current = {Role(r.role): r for r in user.role_rows}
    user.role_rows = [current.get(r) or UserRole(role=r) for r in sorted(roles)]
    user.certificates = [Certificate(kind=c.kind, number=c.number.strip(), valid_until=c.valid_until)
                         for c in certificates]
    if not active:
        end_all_sessions(user, reason="deactivated")
    db.session.flush()
    after = {"display_name": user.display_name, "roles": sorted(r.value for r in roles),
             "active": active,
             "certificates": [[c.kind.value, c.number, c.valid_until.isoformat()]
                              for c in certificates]}
    audit.record(AuditAction.USER_UPDATED, obj=user, data={"before": before, "after": after})


def reset_password(actor: User | None, user: User, new_password: str) -> None:
    may_reset_password(actor, user).enforce()
    check_password_policy(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    end_all_sessions(user, reason="password_reset")
    db.session.flush()
    audit.record(AuditAction.USER_PASSWORD_RESET, obj=user, data={"username": user.username})


# --- authentication and sessions ---------------------------------------------------------------


def authenticate(username: str, password: str) -> User:
    """Return the user, or raise AuthenticationFailed with one message for every failure
    (unknown user, wrong password, locked, inactive) so that none reveals whether the user exists.
    Every attempt costs the same: the password is checked against the account's hash, or against a
    dummy hash of the same parameters when there is no account, before anything else is decided;
    and an unknown username locks after as many failures as a real one (accounts.throttle).
    A failure is counted toward the lock-out and audited through `transaction.on_rollback`: those
    records survive the refusal, nothing else the request wrote does."""
    name = username.strip()
    user = db.session.scalar(select(User).where(User.username == name))
    now = clock.now()
    ok = _verify(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None:
        key = throttle.key_for("user", name)
        locked = throttle.locked_until(key) is not None
        _keep_failed_login(None, username[:64], "locked" if locked else "unknown",
                           throttle_key=None if locked else key)
        raise AuthenticationFailed(GENERIC_LOGIN_ERROR)
    if user.locked_until is not None and user.locked_until > now:
        _keep_failed_login(user.id, user.username, "locked")
        raise AuthenticationFailed(GENERIC_LOGIN_ERROR)
    if not ok or not user.active or not user.organisation.active:
        _keep_failed_login(user.id, user.username, "password" if not ok else "inactive")
        raise AuthenticationFailed(GENERIC_LOGIN_ERROR)
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    return user


def _keep_failed_login(user_id: int | None, username: str, reason: str, *, throttle_key: str | None = None) -> None:
    """Have the refusal's error path record a failed login: a wrong password (or an unknown
    username, counted under `throttle_key`) counts toward the lock-out (at the threshold the
    account or name locks for a while and the count starts again), and every failure is audited."""

    def record_failure() -> None:
        cfg = current_app.config
        user = db.session.get(User, user_id) if user_id is not None else None
        if throttle_key is not None:
            throttle.record_failure(throttle_key, threshold=cfg["EXAMSYS_LOCKOUT_THRESHOLD"],
                                    base=timedelta(minutes=cfg["EXAMSYS_LOCKOUT_MINUTES"]))
        if user is not None and reason == "password":
            user.failed_logins += 1
            if user.failed_logins >= cfg["EXAMSYS_LOCKOUT_THRESHOLD"]:
                user.locked_until = clock.now() + timedelta(minutes=cfg["EXAMSYS_LOCKOUT_MINUTES"])
                user.failed_logins = 0
                audit.record(AuditAction.USER_LOCKED, obj=user, data={"until": user.locked_until.isoformat()})
            db.session.flush()
        audit.record(AuditAction.USER_LOGIN_FAILED, obj=user, data={"username": username, "reason": reason})

    transaction.on_rollback(record_failure)


def start_session(user: User, *, ip: str | None, user_agent: str | None) -> UserSession:
    now = clock.now()
    sess = UserSession(token=secrets.token_urlsafe(32), user_id=user.id, created_at=now,
                       last_seen_at=now, ip=ip, user_agent=(user_agent or "")[:255] or None)
    db.session.add(sess)
    db.session.flush()
    user.current_session_token = sess.token
    audit.record(AuditAction.USER_LOGGED_IN, obj=user, data={"username": user.username},
                 context=audit_services.context_for(user))
    return sess


def end_session(token: str, *, reason: str) -> None:
    sess = db.session.get(UserSession, token)
    if sess is None or sess.ended_at is not None:
        return
    sess.ended_at = clock.now()
    sess.end_reason = reason
    db.session.flush()
    audit.record(AuditAction.USER_LOGGED_OUT if reason == "logout" else AuditAction.USER_SESSION_ENDED,
                 object_type="user", object_id=sess.user_id, data={"reason": reason})


def end_all_sessions(user: User, *, reason: str) -> None:
    now = clock.now()
    for sess in db.session.scalars(select(UserSession).where(
            UserSession.user_id == user.id, UserSession.ended_at.is_(None))):
        sess.ended_at = now
        sess.end_reason = reason


def load_session_user(token: str) -> User | None:
    """The user of a live session, or None when the token is unknown, ended, idle or too old.
    Expiry is recorded on the session row (the request's commit persists it)."""
    if not token:
        return None
    sess = db.session.get(UserSession, token)
    if sess is None or sess.ended_at is not None:
        return None
    cfg = current_app.config
    now = clock.now()
    if now - sess.last_seen_at > timedelta(minutes=cfg["EXAMSYS_SESSION_IDLE_MINUTES"]):
        end_session(token, reason="idle_timeout")
        return None
    if now - sess.created_at > timedelta(minutes=cfg["EXAMSYS_SESSION_ABSOLUTE_MINUTES"]):
        end_session(token, reason="absolute_timeout")
        return None
    user = sess.user
    if not user.active or not user.organisation.active:
        return None
    # Touching last_seen at most once a minute keeps idle tracking without a write per request;
    # the write waits for the request's commit, so the view never runs holding a write lock for it.
    if now - sess.last_seen_at > timedelta(seconds=60):
        transaction.before_commit(partial(setattr, sess, "last_seen_at", now))
    user.current_session_token = token
    return user


__all__ = ["ID_PURPOSE", "check_password_policy", "hash_password", "hasher",
           "create_candidate", "find_candidates_by_id_number", "id_index", "photo_path",
           "reveal_id_number", "set_candidate_photo"]
