"""Who may do what in the authority's oversight (the directory, 双随机 plans, spot checks and
rectification, supervision files, periodic assessment): each rule a Decision with a stable code.

The province sees every organisation; a city administrator (市级管理员) sees the organisations of
the city of their own organisation; an organisation sees its own records."""

from __future__ import annotations

from typing import Any

from examsys.permissions.core import ALLOW, Decision, Permission, Role, deny, has_permission


def oversees(user: Any, organisation: Any) -> bool:
    """The province, or the city administrator of the organisation's city."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.PROVINCIAL_ADMIN):
        return True
    return user.has_role(Role.CITY_ADMIN) and user.organisation.city_id == organisation.city_id


def may_manage_directory(actor: Any, organisation: Any) -> Decision:
    """Filing records (备案) and directory status: the province for every organisation, a city
    administrator for the organisations of their city (`actor` None: the system itself)."""
    if actor is None:
        return ALLOW
    if has_permission(actor, Permission.DIRECTORY_MANAGE) and oversees(actor, organisation):
        return ALLOW
    return deny("directory.not_your_city", "只能管理本市评价机构的备案信息")


def may_run_plans(actor: Any) -> Decision:
    """双随机 plans, their seeds and draws: the provincial authority."""
    if actor is None or has_permission(actor, Permission.SUPERVISION_ASSIGN):
        return ALLOW
    return deny("supervision.plan_denied", "只有省级管理员可以制定抽查计划和抽取批次")


def may_view_organisation_file(user: Any, organisation: Any) -> Decision:
    """A supervision file (督导档案): the province, the organisation's city and the organisation
    itself (its own administrator)."""
    if oversees(user, organisation):
        return ALLOW
    if (user is not None and getattr(user, "is_authenticated", False) and user.organisation_id == organisation.id
            and has_permission(user, Permission.FINDING_ANSWER)):
        return ALLOW
    return deny("supervision.file_denied", "无权查看该机构的督导档案")


def may_view_spot_check(user: Any, check: Any, organisation: Any) -> Decision:
    """A spot check and its findings: its supervisor, the organisation checked, its city and the
    province."""
    if user is not None and getattr(user, "is_authenticated", False) and check.supervisor_id == user.id:
        return ALLOW
    return may_view_organisation_file(user, organisation)


def may_answer_finding(user: Any, finding: Any) -> Decision:
    """The checked organisation answers its findings (整改): FINDING_ANSWER of that organisation."""
    if has_permission(user, Permission.FINDING_ANSWER) and user.organisation_id == finding.organisation_id:
        return ALLOW
    return deny("finding.answer_denied", "只有被检查机构的管理员可以答复整改")


def may_close_finding(user: Any, check: Any) -> Decision:
    """Closing or reopening a finding: the supervisor who recorded the check."""
    if user is not None and has_permission(user, Permission.SUPERVISE) and check.supervisor_id == user.id:
        return ALLOW
    return deny("finding.close_denied", "只有记录检查的督导员可以关闭或重新打开整改")


def may_assess(actor: Any) -> Decision:
    """Periodic assessment (定期评估) and its decision on the directory: the province."""
    if actor is None or actor.has_role(Role.PROVINCIAL_ADMIN):
        return ALLOW
    return deny("assessment.denied", "只有省级管理员可以作出定期评估结论")


def may_score_indicators(user: Any, organisation: Any) -> Decision:
    """Entering indicator scores: the province or the organisation's city on it (supervision),
    the organisation's administrator on itself (internal supervision)."""
    if oversees(user, organisation) or (
            has_permission(user, Permission.FINDING_ANSWER) and user.organisation_id == organisation.id):
        return ALLOW
    return deny("indicator.score_denied", "无权为该机构录入指标评分")


def may_manage_indicators(actor: Any) -> Decision:
    """Drafting, editing and publishing versions of the indicator system: the province."""
    if actor is None or has_permission(actor, Permission.INDICATORS_MANAGE):
        return ALLOW
    return deny("indicator.manage_denied", "只有省级管理员可以修改和发布督导指标体系")


__all__ = ["may_answer_finding", "may_assess", "may_close_finding", "may_manage_directory", "may_manage_indicators",
           "may_run_plans", "may_score_indicators", "may_view_organisation_file", "may_view_spot_check", "oversees"]
