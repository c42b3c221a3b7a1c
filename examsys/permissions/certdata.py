"""Who may do what with certificate data (证书数据): each rule a Decision with a stable code.

An organisation sees and reports its own batches (the exam admin checks and reports, the
organisation's administrator explains problems and re-reports returned records); the city
administrator sees the organisations of their city and enters returns for them, as does the
province for every organisation; the province alone sets the warning rules."""

from __future__ import annotations

from typing import Any

from examsys.permissions.core import ALLOW, Decision, Permission, deny, has_permission
from examsys.permissions.oversight import oversees


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _own(user: Any, organisation: Any) -> bool:
    return user.organisation_id == organisation.id


def may_view_certdata(user: Any, organisation: Any) -> Decision:
    """An organisation's certificate data: its own users holding CERTDATA_VIEW, its city, the province."""
    if _signed_in(user) and has_permission(user, Permission.CERTDATA_VIEW) and (
            user.organisation_id == organisation.id or oversees(user, organisation)):
        return ALLOW
    return deny("certdata.view_denied", "无权查看该机构的证书数据")


def may_report_certdata(user: Any, organisation: Any) -> Decision:
    """Checking a batch's records and reporting them: the organisation's exam admin."""
    if _signed_in(user) and has_permission(user, Permission.CERTDATA_REPORT) and _own(user, organisation):
        return ALLOW
    return deny("certdata.report_denied", "只有本机构的考务管理员可以检查和上报证书数据")


def may_explain_problem(user: Any, organisation: Any) -> Decision:
    """A written explanation of a check problem: the organisation's administrator."""
    if _signed_in(user) and has_permission(user, Permission.CERTDATA_EXPLAIN) and _own(user, organisation):
        return ALLOW
    return deny("certdata.explain_denied", "只有本机构的管理员可以对检查问题作出说明")


def may_resubmit_record(user: Any, organisation: Any) -> Decision:
    """Re-reporting a returned record after fixing it: the organisation's exam admin or administrator."""
    if _signed_in(user) and user.organisation_id == organisation.id and (
            has_permission(user, Permission.CERTDATA_REPORT) or has_permission(user, Permission.CERTDATA_EXPLAIN)):
        return ALLOW
    return deny("certdata.resubmit_denied", "只有本机构可以重新上报被退回的记录")


def may_enter_return(user: Any, organisation: Any) -> Decision:
    """Entering records the provincial platform returned: the province, or the organisation's city."""
    if _signed_in(user) and has_permission(user, Permission.CERTDATA_RETURN) and oversees(user, organisation):
        return ALLOW
    return deny("certdata.return_denied", "只能为本市（或全省）评价机构登记退回记录")


def may_set_warning_rules(user: Any) -> Decision:
    """The warning rules (预警规则): the province."""
    if _signed_in(user) and has_permission(user, Permission.CERTDATA_RULES):
        return ALLOW
    return deny("certdata.rules_denied", "只有省级管理员可以设置预警规则")


def may_handle_warning(user: Any, organisation: Any) -> Decision:
    """Seeing, acknowledging and closing an organisation's warning: its city and the province."""
    if _signed_in(user) and has_permission(user, Permission.CERTDATA_RETURN) and oversees(user, organisation):
        return ALLOW
    return deny("certdata.warning_denied", "只能处理本市（或全省）评价机构的预警")


__all__ = ["may_enter_return", "may_explain_problem", "may_handle_warning", "may_report_certdata",
           "may_resubmit_record", "may_set_warning_rules", "may_view_certdata"]
