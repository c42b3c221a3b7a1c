"""Who may see and do what in satisfaction (满意度): each rule a Decision with a stable code.

The province sees every organisation's satisfaction, a city administrator those of its own city,
an organisation's administrator its own; supervisors of the authority record interviews and read
them. Questionnaires belong to the province (no city) or to one city."""

from __future__ import annotations

from typing import Any

from examsys.permissions.core import ALLOW, Decision, Permission, Role, deny, has_permission
from examsys.permissions.oversight import oversees


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def may_view_satisfaction(user: Any, organisation: Any, *, supervised: bool = False) -> Decision:
    """An organisation's satisfaction, comments and interviews: the province, the organisation's
    city, the organisation's own administrator, and the authority's supervisors while they
    supervise one of its batches (`supervised`: the caller found a running assignment)."""
    if oversees(user, organisation):
        return ALLOW
    if _signed_in(user) and has_permission(user, Permission.FINDING_ANSWER) and user.organisation_id == organisation.id:
        return ALLOW
    if supervised and _signed_in(user) and user.has_role(Role.SUPERVISOR):
        return ALLOW
    return deny("satisfaction.not_yours", "无权查看该机构的满意度")


def may_answer_comment(user: Any, organisation_id: int) -> Decision:
    """A candidate's comment is answered by the administrator of the organisation that examined."""
    if has_permission(user, Permission.FINDING_ANSWER) and user.organisation_id == organisation_id:
        return ALLOW
    return deny("satisfaction.answer_denied", "只有本机构的管理员可以答复考生意见")


def may_manage_questionnaires(user: Any) -> Decision:
    """Building and distributing questionnaires: the province and the city administrators."""
    if _signed_in(user) and (user.has_role(Role.PROVINCIAL_ADMIN) or user.has_role(Role.CITY_ADMIN)):
        return ALLOW
    return deny("questionnaire.denied", "只有省级或市级管理员可以管理调查问卷")


def may_edit_questionnaire(user: Any, questionnaire: Any) -> Decision:
    """A questionnaire is changed by its owner: the province (any), a city administrator only its
    own city's."""
    if not may_manage_questionnaires(user):
        return may_manage_questionnaires(user)
    if user.has_role(Role.PROVINCIAL_ADMIN):
        return ALLOW
    if questionnaire.city_id is not None and questionnaire.city_id == user.organisation.city_id:
        return ALLOW
    return deny("questionnaire.not_your_city", "只能管理本市的调查问卷")


def may_distribute_to(user: Any, questionnaire: Any, organisation: Any) -> Decision:
    """A questionnaire goes to the batches of organisations its owner oversees (`organisation`:
    the batch's)."""
    allowed = may_edit_questionnaire(user, questionnaire)
    if not allowed:
        return allowed
    if oversees(user, organisation) and (questionnaire.city_id is None
                                         or organisation.city_id == questionnaire.city_id):
        return ALLOW
    return deny("questionnaire.batch_not_yours", "只能向本辖区机构的批次发放问卷")


def may_record_interview(user: Any, organisation: Any, *, supervised: bool = False) -> Decision:
    """Interviews (个别访谈) are recorded by the authority: the province, the organisation's city
    and supervisors while they supervise one of its batches (`supervised`)."""
    if oversees(user, organisation) or (supervised and _signed_in(user) and user.has_role(Role.SUPERVISOR)):
        return ALLOW
    return deny("interview.denied", "只有督导员或省、市级管理员可以记录个别访谈")


__all__ = ["may_answer_comment", "may_distribute_to", "may_edit_questionnaire", "may_manage_questionnaires",
           "may_record_interview", "may_view_satisfaction"]
