"""Roles, permissions, the role table, access decisions, the object policies every domain
shares, the route declarations (@require, @login_only, @public, @custom_auth) and template can().

Every endpoint declares its access rule: @require(Permission.X), @login_only or @public. A
before_request hook refuses any endpoint that declared nothing, so a new route without a
declared permission fails closed (and fails the route-inventory test).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, request
from flask_login import current_user

from examsys.errors import Conflict, PermissionDenied
from examsys.extensions import login_manager

if TYPE_CHECKING:
    from examsys.accounts.models import User

class Role(enum.StrEnum):
    PROVINCIAL_ADMIN = "provincial_admin"
    ORG_ADMIN = "org_admin"
    WRITER = "writer"
    REVIEWER = "reviewer"
    EXAM_ADMIN = "exam_admin"
    PROCTOR = "proctor"
    SUPERVISOR = "supervisor"
    CITY_ADMIN = "city_admin"  # 各市: oversees the organisations of its own organisation's city


ROLE_LABELS: dict[Role, str] = {
    Role.PROVINCIAL_ADMIN: "省级管理员",
    Role.ORG_ADMIN: "机构管理员",
    Role.WRITER: "命题专家",
    Role.REVIEWER: "审题专家",
    Role.EXAM_ADMIN: "考务管理员",
    Role.PROCTOR: "考评员（监考）",
    Role.SUPERVISOR: "督导员",
    Role.CITY_ADMIN: "市级管理员",
}


class Permission(enum.StrEnum):
    ORG_MANAGE = "org.manage"  # create and edit organisations (province-wide)
    USER_MANAGE = "user.manage"  # manage the users of one's own organisation
    CANDIDATE_VIEW = "candidate.view"
    CANDIDATE_MANAGE = "candidate.manage"
    CANDIDATE_ID_REVEAL = "candidate.id_reveal"  # see an ID number in full (audited)
    AUDIT_VIEW = "audit.view"
    STANDARD_VIEW = "standard.view"
    STANDARD_MANAGE = "standard.manage"
    ITEM_VIEW = "item.view"
    ITEM_WRITE = "item.write"
    ITEM_REVIEW = "item.review"
    BANK_IMPORT = "bank.import"
    BANK_EXPORT = "bank.export"
    BLUEPRINT_MANAGE = "blueprint.manage"
    PAPER_ASSEMBLE = "paper.assemble"
    PAPER_VIEW = "paper.view"
    BATCH_MANAGE = "batch.manage"
    BATCH_VIEW = "batch.view"
    PROCTOR_CONSOLE = "proctor.console"
    MARK = "mark"
    RESULT_REVIEW = "result.review"
    SUPERVISE = "supervise"
    SUPERVISION_ASSIGN = "supervision.assign"  # the authority assigns supervisors to batches
    DIRECTORY_MANAGE = "directory.manage"  # filing records of the directory (province: all; city: its own)
    CITY_OVERSEE = "city.oversee"  # supervision files, rectifications and assessments of a city's organisations
    INDICATORS_MANAGE = "indicators.manage"  # draft, edit and publish versions of the indicator system (province)
    FINDING_ANSWER = "finding.answer"  # an organisation answers spot-check findings with its rectification
    SATISFACTION_VIEW = "satisfaction.view"  # satisfaction pages; what each sees is decided per organisation
    CERTDATA_VIEW = "certdata.view"  # certificate data pages (own organisation, or the city's / province's)
    CERTDATA_REPORT = "certdata.report"  # check a batch's certificate data and report it
    CERTDATA_EXPLAIN = "certdata.explain"  # explain a check problem (the organisation's administrator)
    CERTDATA_RETURN = "certdata.return"  # enter records the provincial platform returned (退回)
    CERTDATA_RULES = "certdata.rules"  # configure the warning rules (预警规则)
    WORKFORCE_VIEW = "workforce.view"  # trainings, qualifications, dispatches and warnings (province, city, org)


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PROVINCIAL_ADMIN: frozenset(
        {P.ORG_MANAGE, P.USER_MANAGE, P.CANDIDATE_VIEW, P.AUDIT_VIEW, P.STANDARD_VIEW,
         P.STANDARD_MANAGE, P.ITEM_VIEW, P.PAPER_VIEW, P.BATCH_VIEW, P.SUPERVISE, P.SUPERVISION_ASSIGN,
         P.DIRECTORY_MANAGE, P.CITY_OVERSEE, P.SATISFACTION_VIEW, P.CERTDATA_VIEW, P.CERTDATA_RETURN,
         P.CERTDATA_RULES, P.WORKFORCE_VIEW, P.INDICATORS_MANAGE}
    ),
    Role.ORG_ADMIN: frozenset(
        {P.USER_MANAGE, P.CANDIDATE_VIEW, P.CANDIDATE_MANAGE, P.CANDIDATE_ID_REVEAL, P.AUDIT_VIEW,
         P.STANDARD_VIEW, P.ITEM_VIEW, P.BANK_EXPORT, P.PAPER_VIEW, P.BATCH_VIEW, P.FINDING_ANSWER,
         P.SATISFACTION_VIEW, P.CERTDATA_VIEW, P.CERTDATA_EXPLAIN, P.WORKFORCE_VIEW}
    ),
    Role.WRITER: frozenset({P.STANDARD_VIEW, P.ITEM_VIEW, P.ITEM_WRITE, P.BANK_IMPORT}),
    Role.REVIEWER: frozenset({P.STANDARD_VIEW, P.ITEM_VIEW, P.ITEM_REVIEW, P.BANK_EXPORT}),
    Role.EXAM_ADMIN: frozenset(
        {P.CANDIDATE_VIEW, P.CANDIDATE_MANAGE, P.CANDIDATE_ID_REVEAL, P.STANDARD_VIEW, P.ITEM_VIEW,
         P.BLUEPRINT_MANAGE, P.PAPER_ASSEMBLE, P.PAPER_VIEW, P.BATCH_MANAGE, P.BATCH_VIEW,
         P.RESULT_REVIEW, P.CERTDATA_VIEW, P.CERTDATA_REPORT}
    ),
    Role.PROCTOR: frozenset({P.BATCH_VIEW, P.PROCTOR_CONSOLE, P.MARK, P.CANDIDATE_VIEW}),
    Role.SUPERVISOR: frozenset({P.BATCH_VIEW, P.SUPERVISE, P.AUDIT_VIEW, P.PAPER_VIEW, P.SATISFACTION_VIEW}),
    Role.CITY_ADMIN: frozenset({P.DIRECTORY_MANAGE, P.CITY_OVERSEE, P.SATISFACTION_VIEW, P.CERTDATA_VIEW,
                                P.CERTDATA_RETURN, P.WORKFORCE_VIEW}),
}


def permissions_for(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)


def has_permission(user: Any, permission: Permission) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return permission in user.permissions


# --- decisions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The answer of an access rule: allowed, or refused with a stable `code` (what callers and
    tests compare) and a Chinese `message` (what people read). `status` says what kind of
    refusal it is: 403 for who is asking, 409 for the state of the object."""

    allowed: bool
    code: str = "ok"
    message: str = ""
    status: int = 403

    def __bool__(self) -> bool:
        return self.allowed

    def enforce(self) -> None:
        """Raise the refusal as a DomainError (PermissionDenied or Conflict) with this code."""
        if self.allowed:
            return
        exc = (Conflict if self.status == 409 else PermissionDenied)(self.message)
        exc.code = self.code
        raise exc


ALLOW = Decision(True)


def deny(code: str, message: str, *, status: int = 403) -> Decision:
    return Decision(False, code, message, status)


# --- object policies ---------------------------------------------------------------------------


def sees_all_organisations(user: User) -> bool:
    return user.has_role(Role.PROVINCIAL_ADMIN)


def can_access_org_object(user: User, organisation_id: int | None) -> bool:
    """Tenancy: an organisation-owned object is visible to its own organisation and the province."""
    if user is None or not user.is_authenticated:
        return False
    return sees_all_organisations(user) or organisation_id == user.organisation_id


def can_access_held_object(user: User, organisation_ids) -> bool:
    """Tenancy of an object several organisations hold at once (an image stored once, by content
    hash, for each organisation that uploaded it): visible to each of them and the province."""
    return any(can_access_org_object(user, oid) for oid in organisation_ids)


def is_assigned_supervisor(user: Any, batch: Any) -> bool:
    """The user is a supervisor (督导员) of the authority with a running assignment to this batch
    (examsys.supervision: `batch.supervision_assignments`)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.has_role(Role.SUPERVISOR):
        return False
    return any(a.supervisor_id == user.id and a.ended_at is None
               for a in getattr(batch, "supervision_assignments", ()))


def can_view_batch(user: Any, batch: Any) -> bool:
    """A batch is seen by its own organisation and the province, by the supervisor the authority
    assigned to it (督导员, of the authority) and by its assigned staff."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if sees_all_organisations(user) or batch.organisation_id == user.organisation_id:
        return True
    if is_assigned_supervisor(user, batch):
        return True
    return any(s.user_id == user.id for s in batch.staff)


def can_manage_batch(user: Any, batch: Any) -> bool:
    """Changing a batch: exam admins of its own organisation only (not the province, not the
    supervisor)."""
    return has_permission(user, Permission.BATCH_MANAGE) and batch.organisation_id == user.organisation_id


def is_batch_proctor(user: Any, batch: Any) -> bool:
    return any(s.user_id == user.id and s.role == "proctor" for s in batch.staff)


def can_proctor(user: Any, batch: Any) -> bool:
    """A batch's console: PROCTOR_CONSOLE and being one of its proctors."""
    return has_permission(user, Permission.PROCTOR_CONSOLE) and is_batch_proctor(user, batch)


# --- route declarations ------------------------------------------------------------------------

ACCESS_ATTR = "_examsys_access"


def require(*perms: Permission) -> Callable:
    """Route decorator: the user must be logged in and hold every permission listed."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            for perm in perms:
                if not has_permission(current_user, perm):
                    abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, ("permission", tuple(perms)))
        return wrapped

    return decorator


def login_only(view: Callable) -> Callable:
    """Any logged-in staff user (e.g. the home page, logout, own profile)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    setattr(wrapped, ACCESS_ATTR, ("login", ()))
    return wrapped


def public(view: Callable) -> Callable:
    """Deliberately open to anonymous users (login page, health check). Listed in PUBLIC_ENDPOINTS."""
    setattr(view, ACCESS_ATTR, ("public", ()))
    return view


def custom_auth(view: Callable) -> Callable:
    """The view authenticates by other means (e.g. a candidate's Bearer token) and checks it itself."""
    setattr(view, ACCESS_ATTR, ("custom", ()))
    return view


# The explicit allowlist the route sweep checks @public against.
PUBLIC_ENDPOINTS = frozenset({"static", "accounts.login", "health.health", "set_language",
                              "exam.login", "exam.app", "api.openapi",
                              # a distributed questionnaire: the candidate signs in with ticket + ID number
                              "satisfaction.respond"})


def declared_access(view: Callable | None) -> tuple[str, tuple] | None:
    return getattr(view, ACCESS_ATTR, None) if view is not None else None


def enforce_declared_access() -> None:
    """before_request: refuse endpoints that declared no access rule (fail closed)."""
    endpoint = request.endpoint
    if endpoint is None:
        return  # 404 / 405 are handled by Flask
    view = current_app.view_functions.get(endpoint)
    if endpoint == "static":
        return
    if declared_access(view) is None:
        abort(403)


def can(permission: str) -> bool:
    """Template helper: {% if can('item.write') %}."""
    return has_permission(current_user, Permission(permission))


# === delivery: who may staff, mark, review and publish a batch's exam ===========================
