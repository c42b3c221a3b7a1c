"""Who may see and keep the campaign's records (质量提升行动): the console and the workforce
(trainings, qualifications, dispatches, warnings). Each rule a Decision with a stable code.

The province sees and records everything; a city administrator (市级管理员) sees the figures of
their own city and keeps its training and its organisations' examiners' records; an organisation's
administrator sees its own staff's certificates, trainings and dispatches. Supervisors are
qualified and dispatched by the province only (they are the authority's)."""

from __future__ import annotations

from typing import Any

from examsys.permissions.core import ALLOW, Decision, Permission, Role, deny, has_permission


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _city_of(user: Any) -> int | None:
    return user.organisation.city_id if user.has_role(Role.CITY_ADMIN) else None


def may_view_campaign(user: Any, city_id: int | None, organisation: Any = None) -> Decision:
    """The console's figures of the province (city and organisation None), a city or an
    organisation: the province for all, a city administrator for their city and its organisations."""
    if not _signed_in(user):
        return deny("campaign.denied", "无权查看质量提升行动数据")
    if user.has_role(Role.PROVINCIAL_ADMIN):
        return ALLOW
    own = _city_of(user)
    if own is not None:
        if organisation is not None and organisation.city_id == own and city_id in (None, own):
            return ALLOW
        if organisation is None and city_id == own:
            return ALLOW
    return deny("campaign.not_your_city", "只能查看本市的质量提升行动数据")


def may_view_workforce(user: Any, city_id: int | None = None, organisation: Any = None) -> Decision:
    """Workforce records: the province; a city administrator for their city (or an organisation in
    it); an organisation's administrator for their own organisation."""
    if not _signed_in(user):
        return deny("workforce.denied", "无权查看培训与资格记录")
    if user.has_role(Role.PROVINCIAL_ADMIN):
        return ALLOW
    own = _city_of(user)
    if own is not None and ((organisation is not None and organisation.city_id == own)
                            or (organisation is None and city_id == own)):
        return ALLOW
    if (organisation is not None and has_permission(user, Permission.USER_MANAGE)
            and user.organisation_id == organisation.id):
        return ALLOW
    return deny("workforce.not_yours", "只能查看本市或本机构的培训与资格记录")


def may_keep_records(user: Any) -> Decision:
    """Recording trainings, qualifications and dispatches at all: the province and the cities."""
    if _signed_in(user) and (user.has_role(Role.PROVINCIAL_ADMIN) or user.has_role(Role.CITY_ADMIN)):
        return ALLOW
    return deny("workforce.records_denied", "培训、资格认定和派遣由省级和市级管理员登记")


def may_record_training(user: Any, city_id: int | None) -> Decision:
    """A training course and its attendance: the province for any (city None: the province's own
    course); a city administrator for their own city's courses."""
    if _signed_in(user) and user.has_role(Role.PROVINCIAL_ADMIN):
        return ALLOW
    if _signed_in(user) and city_id is not None and _city_of(user) == city_id:
        return ALLOW
    return deny("training.not_your_city", "只能登记本市举办的培训")


def may_qualify(user: Any, person: Any, kind: str) -> Decision:
    """资格认定 and dispatch of `person`: the province for anyone; a city administrator for the
    examiners of organisations in their city; supervisors only by the province."""
    if _signed_in(user) and user.has_role(Role.PROVINCIAL_ADMIN):
        return ALLOW
    if kind == "supervisor":
        return deny("qualification.supervisor_province_only", "督导员的资格认定和派遣由省级管理员办理")
    if _signed_in(user) and _city_of(user) is not None and person.organisation.city_id == _city_of(user):
        return ALLOW
    return deny("qualification.not_your_city", "只能为本市评价机构的考评员办理资格认定和派遣")


__all__ = ["may_keep_records", "may_qualify", "may_record_training", "may_view_campaign", "may_view_workforce"]
