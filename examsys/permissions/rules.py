"""Who may do what to which object, per domain: each rule returns a Decision with a stable
code (what callers and tests compare) and a Chinese message (what people read)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from examsys.accounts.models import User

from examsys.permissions.core import (
    ALLOW,
    Decision,
    Permission,
    Role,
    can_access_org_object,
    can_manage_batch,
    deny,
    has_permission,
    is_assigned_supervisor,
    sees_all_organisations,
)

# --- accounts ------------------------------------------------------------------------------------
# Rules on users and candidates. `actor` None is the system itself (CLI, demo loader).


def may_manage_users_of(actor: User | None, organisation_id: int) -> Decision:
    """Users are managed within one's own organisation; the province manages every one."""
    if actor is None or sees_all_organisations(actor) or actor.organisation_id == organisation_id:
        return ALLOW
    return deny("accounts.other_organisation", "只能管理本机构的用户")


def may_manage_user(actor: Any, target: Any) -> Decision:
    """USER_MANAGE, and the target is of one's own organisation (the province: any)."""
    if not has_permission(actor, Permission.USER_MANAGE) or not can_access_org_object(
            actor, target.organisation_id):
        return deny("accounts.other_organisation", "只能管理本机构的用户")
    return ALLOW


def may_grant_roles(actor: Any, roles: set[Role] | frozenset[Role]) -> Decision:
    """Only a provincial admin makes another provincial admin, or appoints a supervisor (督导员
    are the authority's, never appointed by the organisation they supervise)."""
    if Role.PROVINCIAL_ADMIN in roles and actor is not None and not actor.has_role(Role.PROVINCIAL_ADMIN):
        return deny("accounts.grant_provincial_admin", "只有省级管理员可以授予省级管理员角色")
    if Role.SUPERVISOR in roles:
        return may_appoint_supervisors(actor)
    return ALLOW


def may_appoint_supervisors(actor: Any) -> Decision:
    """Appointing supervisors and recording their certificates (督导员证): the provincial
    authority only (`actor` None: the system itself)."""
    if actor is None or actor.has_role(Role.PROVINCIAL_ADMIN):
        return ALLOW
    return deny("accounts.appoint_supervisor",
                "督导员由省级人力资源社会保障部门任命，机构不能授予督导员角色或登记督导员证")


def may_reset_password(actor: Any, target: Any) -> Decision:
    """One's own password, or that of a user one manages."""
    if actor is None or actor.id == target.id or may_manage_user(actor, target):
        return ALLOW
    return deny("accounts.reset_password_denied", "无权重置该用户的密码")


def may_reveal_id_number(user: Any, candidate_org_id: int) -> Decision:
    """A full ID number: CANDIDATE_ID_REVEAL, for candidates of one's own organisation."""
    if has_permission(user, Permission.CANDIDATE_ID_REVEAL) and can_access_org_object(user, candidate_org_id):
        return ALLOW
    return deny("candidate.reveal_denied", "无权查看完整身份证号码")


# --- bank ----------------------------------------------------------------------------------------
# Who may write, review, retire, report and import items. Refusals about who is asking are 403;
# refusals about the state of the version (not submitted, already reviewed by this reviewer) are
# 409. Callers act on `code` / `status`, never on the message.


def may_search_items(user: Any) -> Decision:
    """Searching the bank: ITEM_VIEW (tenancy then limits what is found)."""
    if has_permission(user, Permission.ITEM_VIEW):
        return ALLOW
    return deny("bank.view_denied", "无权查看题库")


def may_write_items(user: Any, organisation_id: int) -> Decision:
    """Writing (create, edit, submit) the items of an organisation: ITEM_WRITE in it."""
    if has_permission(user, Permission.ITEM_WRITE) and user.organisation_id == organisation_id:
        return ALLOW
    return deny("bank.write_denied", "无权编写本机构的试题")


def may_review(user: Any, version: Any) -> Decision:
    """Reviewing an item version: holds ITEM_REVIEW, is of the item's organisation, and did not
    write this version (four eyes)."""
    if user is None or not has_permission(user, Permission.ITEM_REVIEW):
        return deny("review.no_permission", "您没有审题权限")
    if user.organisation_id != version.item.organisation_id:
        return deny("review.other_organisation", "只能审核本机构的试题")
    if version.author_id == user.id:
        return deny("review.own_version", "不能审核自己编写的试题版本")
    return ALLOW


def may_approve(user: Any, version: Any) -> Decision:
    """`may_review`, and the version awaits review and this reviewer has not reviewed it yet
    (where two approvals are required, the second comes from another reviewer)."""
    decision = may_review(user, version)
    if not decision:
        return decision
    if getattr(version.status, "value", version.status) != "submitted":
        return deny("review.not_submitted", "该版本不在待审核状态", status=409)
    if any(r.reviewer_id == user.id for r in version.reviews):
        return deny("review.already_reviewed", "您已审核过该版本，须由另一位审题专家审核", status=409)
    return ALLOW


def may_review_any(user: Any) -> Decision:
    """Reviewing at all (e.g. a batch approval): ITEM_REVIEW."""
    if has_permission(user, Permission.ITEM_REVIEW):
        return ALLOW
    return deny("review.no_permission", "您没有审题权限")


def may_retire_item(user: Any, item: Any) -> Decision:
    """Retiring an item: a reviewer of its organisation."""
    if has_permission(user, Permission.ITEM_REVIEW) and user.organisation_id == item.organisation_id:
        return ALLOW
    return deny("bank.retire_denied", "无权停用该试题")


def may_report_fault(user: Any, item: Any) -> Decision:
    """Reporting a faulty item: anyone who may see it (ITEM_VIEW, own organisation or province)."""
    if has_permission(user, Permission.ITEM_VIEW) and can_access_org_object(user, item.organisation_id):
        return ALLOW
    return deny("bank.report_denied", "无权报告该试题")


def may_confirm_key(user: Any, item: Any) -> Decision:
    """Confirming the right key of an item after an exam (so that the batch can be regraded): a
    reviewer of the item's own organisation."""
    if has_permission(user, Permission.ITEM_REVIEW) and user.organisation_id == item.organisation_id:
        return ALLOW
    return deny("analysis.confirm_key_denied", "需要本机构的审题权限才能确认答案")


def may_set_enemy_group(user: Any, item: Any) -> Decision:
    """Grouping items that give each other away: a writer or reviewer of the item's organisation."""
    if ((has_permission(user, Permission.ITEM_WRITE) or has_permission(user, Permission.ITEM_REVIEW))
            and user.organisation_id == item.organisation_id):
        return ALLOW
    return deny("bank.enemy_group_denied", "无权修改该试题的互斥组")


def may_import_items(user: Any, organisation_id: int, *, approve: bool = False) -> Decision:
    """Importing into an organisation's bank: BANK_IMPORT in it; arriving approved also needs
    ITEM_REVIEW (the importer vouches for every item as a reviewer)."""
    if not has_permission(user, Permission.BANK_IMPORT) or user.organisation_id != organisation_id:
        return deny("bank.import_denied", "无权向本机构题库导入试题")
    if approve and not has_permission(user, Permission.ITEM_REVIEW):
        return deny("bank.import_approve_denied", "您没有审题权限，导入的试题只能作为草稿")
    return ALLOW


# Each rule answers with a Decision: a stable code that callers and tests compare, and the
# Chinese message people read. Callers `.enforce()` it, or test `.allowed` / `.code`.


def may_staff_batch(user: Any, organisation_id: int, duty: str | None = None) -> Decision:
    """Proctors and markers of a batch are proctors (考评员) of the batch's own organisation.
    `duty` ("proctor" / "marker") only words the message."""
    if user.organisation_id == organisation_id and user.has_role(Role.PROCTOR):
        return ALLOW
    tail = {"proctor": "，不能安排监考", "marker": "，不能安排阅卷"}.get(duty or "", "")
    return deny("not_org_proctor", f"{user.display_name} 不是本机构的考评员{tail}")


def may_be_supervisor(user: Any) -> Decision:
    """A batch's supervisor (督导员) holds the supervisor role."""
    if user is not None and user.has_role(Role.SUPERVISOR):
        return ALLOW
    name = user.display_name if user is not None else "所选人员"
    return deny("not_supervisor", f"{name} 不是督导员")


def may_supervise_batch(user: Any, batch: Any) -> Decision:
    """Reading a batch's whole process record as its supervisor: SUPERVISE, and a running
    assignment of this batch by the authority. Callers answer a refusal with 404 (the batch's
    existence is not revealed)."""
    if has_permission(user, Permission.SUPERVISE) and is_assigned_supervisor(user, batch):
        return ALLOW
    return deny("supervision.not_assigned", "该批次没有委派给您督导")


def may_assign_supervisor(actor: Any, supervisor: Any, batch: Any, *, conflicted: bool) -> Decision:
    """The authority assigns a supervisor to a batch of any organisation: SUPERVISION_ASSIGN; the
    supervisor holds the role and belongs neither to the batch's organisation nor to one they
    declared a conflict of interest with (`conflicted`)."""
    if not has_permission(actor, Permission.SUPERVISION_ASSIGN):
        return deny("supervision.assign_denied", "只有省级管理员可以委派督导员")
    decision = may_be_supervisor(supervisor)
    if not decision:
        return deny("supervision.not_supervisor", decision.message, status=409)
    if supervisor.organisation_id == batch.organisation_id:
        return deny("supervision.own_organisation",
                    f"{supervisor.display_name} 属于被督导机构，不能督导本机构的批次", status=409)
    if conflicted:
        return deny("supervision.conflict_declared",
                    f"{supervisor.display_name} 已申报与该机构存在利益冲突，不能委派", status=409)
    return ALLOW


def may_print_tickets(user: Any, batch: Any) -> Decision:
    """Admission tickets carry personal data: the batch's managers and its own staff (holding the
    proctor console) print them."""
    if can_manage_batch(user, batch):
        return ALLOW
    if has_permission(user, Permission.PROCTOR_CONSOLE) and any(s.user_id == user.id for s in batch.staff):
        return ALLOW
    return deny("not_batch_staff", "只有本批次的考务管理员和考评员可以打印准考证")


def may_download_archive(user: Any, batch: Any) -> Decision:
    """A batch archive holds the whole record of the batch: the exam admins and org admins of the
    batch's organisation, the provincial admins, and the supervisor the authority assigned to it
    (who takes it away to check)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return deny("archive_denied", "无权下载批次档案")
    if user.has_role(Role.PROVINCIAL_ADMIN) or is_assigned_supervisor(user, batch):
        return ALLOW
    if user.organisation_id == batch.organisation_id and (user.has_role(Role.EXAM_ADMIN)
                                                          or user.has_role(Role.ORG_ADMIN)):
        return ALLOW
    return deny("archive_denied", "只有本机构的考务管理员、机构管理员、省级管理员和委派的督导员可以下载批次档案")


def may_mark(user: Any, batch: Any) -> Decision:
    """Markers hold MARK in the batch's organisation; when the batch lists markers, only they mark."""
    if has_permission(user, Permission.MARK) and user.organisation_id == batch.organisation_id:
        markers = {s.user_id for s in batch.staff if s.role == "marker"}
        if not markers or user.id in markers:
            return ALLOW
    return deny("not_marker", "您不是本批次的评卷人")


def may_mark_item(user: Any, item_score: Any) -> Decision:
    """Two independent marks and an arbitration: nobody marks the same item twice, nor
    arbitrates an item they marked."""
    if any(m.marker_id == user.id for m in item_score.marks):
        return deny("marked_already", "同一评卷人不能重复评阅同一题，也不能仲裁自己评过的题")
    return ALLOW


def may_handle_results(user: Any, batch: Any) -> Decision:
    """Computing, reviewing, correcting and publishing results: RESULT_REVIEW in the batch's
    own organisation."""
    if has_permission(user, Permission.RESULT_REVIEW) and user.organisation_id == batch.organisation_id:
        return ALLOW
    return deny("not_result_reviewer", "需要本机构的成绩复核权限")


def may_review_results(user: Any, batch: Any, *, computed_by: set[int] | frozenset[int],
                       marked_in_batch: bool) -> Decision:
    """复核 is a second person's check: neither who computed the results (`computed_by`: their
    user ids) nor anyone who marked an item of the batch."""
    decision = may_handle_results(user, batch)
    if not decision:
        return decision
    if user.id in computed_by:
        return deny("reviewer_computed", "复核须由计分以外的另一人完成")
    if marked_in_batch:
        return deny("reviewer_marked", "参与本批次阅卷的人员不能复核本批次成绩")
    return ALLOW


def may_decide_correction(user: Any, correction: Any, batch: Any) -> Decision:
    """Four eyes: a score correction is approved or rejected by someone other than who asked."""
    decision = may_handle_results(user, batch)
    if not decision:
        return decision
    if user.id == correction.requested_by_id:
        return deny("self_approval", "成绩更正须由申请人以外的第二人审批")
    return ALLOW


# --- yes/no forms for templates and lists ---------------------------------------------------------


def can_review(user: Any, version: Any) -> bool:
    return bool(may_review(user, version))
