"""The process record's vocabulary: every audit action, named once, with its Chinese label.

An action is `<object>.<past participle>`: the object is the audit name of the model the event
is about (its `__audit_type__`, else its table name: the `object_type` stored beside the action),
the verb says what happened to it, always in the past participle (`paper.frozen`,
`user.login_failed`). Events about no stored object (a refused request) are named after what was
refused (`permission.denied`); exports of the record itself are about the `audit_log` as a whole
(`audit_log.exported`), not one stored row.

`record()` accepts only members of `AuditAction`; a new kind of event gets a member here first.
Stored rows keep the value (a plain string), so renaming a member's value needs a migration of
audit_events.action; the log pages show `label_for(row.action)`.
"""

from __future__ import annotations

import enum


class AuditAction(enum.StrEnum):
    # accounts
    ORGANISATION_CREATED = "organisation.created"
    ORGANISATION_UPDATED = "organisation.updated"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 - an action name, not a password
    USER_LOGGED_IN = "user.logged_in"
    USER_LOGIN_FAILED = "user.login_failed"
    USER_LOCKED = "user.locked"
    USER_LOGGED_OUT = "user.logged_out"
    USER_SESSION_ENDED = "user.session_ended"
    CANDIDATE_CREATED = "candidate.created"
    CANDIDATE_ID_REVEALED = "candidate.id_revealed"
    CANDIDATE_PHOTO_SET = "candidate.photo_set"
    PERMISSION_DENIED = "permission.denied"
    # standards
    STANDARD_CREATED = "standard.created"
    STANDARD_UPDATED = "standard.updated"
    STANDARD_EDITION_CREATED = "standard.edition_created"
    STANDARD_TREE_LOADED = "standard.tree_loaded"
    STANDARD_WEIGHTS_SET = "standard.weights_set"
    STANDARD_ITEMS_IMPORTED = "standard.items_imported"
    KNOWLEDGE_RANGE_CREATED = "knowledge_range.created"
    KNOWLEDGE_RANGE_UPDATED = "knowledge_range.updated"
    KNOWLEDGE_RANGE_DELETED = "knowledge_range.deleted"
    ASSESSMENT_POINT_CREATED = "assessment_point.created"
    ASSESSMENT_POINT_UPDATED = "assessment_point.updated"
    ASSESSMENT_POINT_RETIRED = "assessment_point.retired"
    ASSESSMENT_POINT_RESTORED = "assessment_point.restored"
    # bank
    ITEM_CREATED = "item.created"
    ITEM_EDITED = "item.edited"
    ITEM_RETIRED = "item.retired"
    ITEM_FAULT_REPORTED = "item.fault_reported"
    ITEM_FLAGGED_FOR_REVISION = "item.flagged_for_revision"
    ITEM_ENEMY_GROUP_SET = "item.enemy_group_set"
    ITEM_EDITION_CHANGED = "item.edition_changed"
    ITEM_VERSION_SUBMITTED = "item_version.submitted"
    ITEM_VERSION_APPROVED = "item_version.approved"
    ITEM_VERSION_RETURNED = "item_version.returned"
    ASSET_UPLOADED = "asset.uploaded"
    # assembly
    PAPER_BLUEPRINT_CREATED = "paper_blueprint.created"
    PAPER_BLUEPRINT_UPDATED = "paper_blueprint.updated"
    PAPER_BLUEPRINT_ASSEMBLY_FAILED = "paper_blueprint.assembly_failed"
    PAPER_ASSEMBLED = "paper.assembled"
    PAPER_FROZEN = "paper.frozen"
    PAPER_DISCARDED = "paper.discarded"
    PAPER_ITEM_REPLACED = "paper.item_replaced"
    # batches
    BATCH_CREATED = "batch.created"
    BATCH_UPDATED = "batch.updated"
    BATCH_FILED = "batch.filed"
    BATCH_FILING_CHANGED = "batch.filing_changed"
    BATCH_STATE_CHANGED = "batch.state_changed"
    BATCH_OPENED = "batch.opened"
    BATCH_EXTENDED = "batch.extended"
    BATCH_ROSTER_IMPORTED = "batch.roster_imported"
    BATCH_ROSTER_CLEARED = "batch.roster_cleared"
    BATCH_DEMO_WINDOW_SET = "batch.demo_window_set"
    BATCH_RESULTS_COMPUTED = "batch.results_computed"
    BATCH_RESULTS_PUBLISHED = "batch.results_published"
    # exam
    ROSTER_ENTRY_LOGIN_FAILED = "roster_entry.login_failed"
    ROSTER_ENTRY_SEB_CHECK_FAILED = "roster_entry.seb_check_failed"
    CANDIDATE_SESSION_OPENED = "candidate_session.opened"
    CANDIDATE_SESSION_REPLACED = "candidate_session.replaced"
    CANDIDATE_SESSION_CLOSED = "candidate_session.closed"
    ATTEMPT_STARTED = "attempt.started"
    ATTEMPT_SUBMITTED = "attempt.submitted"
    ATTEMPT_TIMED_OUT = "attempt.timed_out"
    ATTEMPT_TERMINATED = "attempt.terminated"
    ATTEMPT_REOPENED = "attempt.reopened"
    ATTEMPT_EXTENDED = "attempt.extended"
    ATTEMPT_STALE_SESSION_USED = "attempt.stale_session_used"
    ATTEMPT_ANSWER_SAVED = "attempt.answer_saved"
    ATTEMPT_SIGNAL_RECORDED = "attempt.signal_recorded"
    ATTEMPT_SEALED = "attempt.sealed"
    INCIDENT_NOTED = "incident.noted"
    INCIDENT_EXTRA_TIME_GRANTED = "incident.extra_time_granted"
    INCIDENT_ATTEMPT_REOPENED = "incident.attempt_reopened"
    INCIDENT_ATTEMPT_TERMINATED = "incident.attempt_terminated"
    SURVEY_RESPONSE_SUBMITTED = "survey_response.submitted"
    # scoring
    ATTEMPT_SCORED = "attempt.scored"
    MARK_GIVEN = "mark.given"
    RESULT_REVIEW_RECORDED = "result_review.recorded"
    SCORE_CORRECTION_REQUESTED = "score_correction.requested"
    SCORE_CORRECTION_SELF_APPROVAL_REFUSED = "score_correction.self_approval_refused"
    SCORE_CORRECTION_APPROVED = "score_correction.approved"
    SCORE_CORRECTION_REJECTED = "score_correction.rejected"
    SCORE_REVIEW_REQUEST_SUBMITTED = "score_review_request.submitted"
    SCORE_REVIEW_REQUEST_ANSWERED = "score_review_request.answered"
    # statistics
    BATCH_STATISTICS_FLAGS_REPORTED = "batch.statistics_flags_reported"
    BATCH_STATISTICS_COMPUTED = "batch.statistics_computed"
    KEY_FIX_CONFIRMED = "key_fix.confirmed"
    KEY_FIX_APPLIED = "key_fix.applied"
    SCORE_CORRECTION_REGRADED = "score_correction.regraded"
    # process record
    AUDIT_LOG_EXPORTED = "audit_log.exported"
    # supervision
    SUPERVISION_ASSIGNMENT_CREATED = "supervision_assignment.created"
    SUPERVISION_ASSIGNMENT_ENDED = "supervision_assignment.ended"
    CONFLICT_DECLARATION_DECLARED = "conflict_declaration.declared"
    ATTEMPT_VIEWED_FOR_SUPERVISION = "attempt.viewed_for_supervision"
    SUPERVISION_FINDING_RECORDED = "supervision_finding.recorded"
    SUPERVISION_FORM_CREATED = "supervision_form.created"
    SUPERVISION_FORM_UPDATED = "supervision_form.updated"
    SUPERVISION_FORM_SIGNED = "supervision_form.signed"
    CITY_CREATED = "city.created"
    DIRECTORY_ENTRY_FILED = "directory_entry.filed"
    DIRECTORY_ENTRY_CHANGED = "directory_entry.changed"
    SUPERVISION_PLAN_CREATED = "supervision_plan.created"
    SUPERVISION_DRAW_COMMITTED = "supervision_draw.committed"
    SUPERVISION_DRAW_PERFORMED = "supervision_draw.performed"
    SPOT_CHECK_RECORDED = "spot_check.recorded"
    SPOT_FINDING_RECORDED = "spot_finding.recorded"
    SPOT_FINDING_ANSWERED = "spot_finding.answered"
    SPOT_FINDING_CLOSED = "spot_finding.closed"
    SPOT_FINDING_REOPENED = "spot_finding.reopened"
    SPOT_CHECK_VIEWED = "spot_check.viewed"
    INDICATOR_SCORE_ENTERED = "indicator_score.entered"
    INDICATOR_SET_DRAFTED = "indicator_set.drafted"
    INDICATOR_SET_CHANGED = "indicator_set.changed"
    INDICATOR_SET_PUBLISHED = "indicator_set.published"
    INDICATOR_SET_DISCARDED = "indicator_set.discarded"
    ORGANISATION_FILE_VIEWED = "organisation.file_viewed"
    ASSESSMENT_DECIDED = "assessment.decided"
    # campaign: satisfaction
    SURVEY_COMMENT_ANSWERED = "survey_comment.answered"
    QUESTIONNAIRE_CREATED = "questionnaire.created"
    QUESTIONNAIRE_CHANGED = "questionnaire.changed"
    QUESTIONNAIRE_PUBLISHED = "questionnaire.published"
    QUESTIONNAIRE_COPIED = "questionnaire.copied"
    QUESTIONNAIRE_CLOSED = "questionnaire.closed"
    QUESTIONNAIRE_DISTRIBUTED = "questionnaire.distributed"
    QUESTIONNAIRE_RESPONSE_SUBMITTED = "questionnaire_response.submitted"
    QUESTIONNAIRE_LOGIN_FAILED = "questionnaire.login_failed"
    INTERVIEW_RECORDED = "interview.recorded"
    # certificate data (campaign)
    CERT_CHECK_PERFORMED = "cert_check.performed"
    CERT_PROBLEM_EXPLAINED = "cert_problem.explained"
    CERT_REPORT_SUBMITTED = "cert_report.submitted"
    CERT_REPORT_EXPORTED = "cert_report.exported"
    CERT_RETURN_ENTERED = "cert_return.entered"
    CERT_RECORD_RESUBMITTED = "cert_record.resubmitted"
    CERT_WARNING_RULE_UPDATED = "cert_warning_rule.updated"
    CERT_WARNING_RAISED = "cert_warning.raised"
    CERT_WARNING_ACKNOWLEDGED = "cert_warning.acknowledged"
    CERT_WARNING_CLOSED = "cert_warning.closed"
    # campaign: workforce
    TRAINING_COURSE_RECORDED = "training_course.recorded"
    TRAINING_COURSE_ATTENDANCE_RECORDED = "training_course.attendance_recorded"
    QUALIFICATION_GRANTED = "qualification.granted"
    DISPATCH_RECORDED = "dispatch.recorded"
    # batch archive
    BATCH_ARCHIVE_BUILT = "batch.archive_built"
    BATCH_ARCHIVE_DOWNLOADED = "batch.archive_downloaded"
    # long work (examsys.jobs)
    JOB_REQUESTED = "job.requested"
    JOB_FAILED = "job.failed"

    @property
    def object_type(self) -> str:
        """The audit name of the model this action is about (the part before the dot)."""
        return self.value.partition(".")[0]

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[AuditAction, str] = {
    AuditAction.ORGANISATION_CREATED: "创建机构",
    AuditAction.ORGANISATION_UPDATED: "修改机构信息",
    AuditAction.USER_CREATED: "创建用户",
    AuditAction.USER_UPDATED: "修改用户",
    AuditAction.USER_PASSWORD_RESET: "重置用户密码",
    AuditAction.USER_LOGGED_IN: "用户登录",
    AuditAction.USER_LOGIN_FAILED: "用户登录失败",
    AuditAction.USER_LOCKED: "账号被锁定",
    AuditAction.USER_LOGGED_OUT: "用户退出登录",
    AuditAction.USER_SESSION_ENDED: "用户会话结束",
    AuditAction.CANDIDATE_CREATED: "创建考生",
    AuditAction.CANDIDATE_ID_REVEALED: "查看考生完整证件号码",
    AuditAction.CANDIDATE_PHOTO_SET: "上传考生照片",
    AuditAction.PERMISSION_DENIED: "拒绝越权访问",
    AuditAction.STANDARD_CREATED: "创建职业标准",
    AuditAction.STANDARD_UPDATED: "修改职业标准",
    AuditAction.STANDARD_EDITION_CREATED: "创建职业标准新版本",
    AuditAction.STANDARD_TREE_LOADED: "导入知识结构",
    AuditAction.STANDARD_WEIGHTS_SET: "设置鉴定比重",
    AuditAction.STANDARD_ITEMS_IMPORTED: "批量导入试题",
    AuditAction.KNOWLEDGE_RANGE_CREATED: "创建鉴定范围",
    AuditAction.KNOWLEDGE_RANGE_UPDATED: "修改鉴定范围",
    AuditAction.KNOWLEDGE_RANGE_DELETED: "删除鉴定范围",
    AuditAction.ASSESSMENT_POINT_CREATED: "创建鉴定点",
    AuditAction.ASSESSMENT_POINT_UPDATED: "修改鉴定点",
    AuditAction.ASSESSMENT_POINT_RETIRED: "停用鉴定点",
    AuditAction.ASSESSMENT_POINT_RESTORED: "恢复鉴定点",
    AuditAction.ITEM_CREATED: "创建试题",
    AuditAction.ITEM_EDITED: "修改试题（新版本）",
    AuditAction.ITEM_RETIRED: "停用试题",
    AuditAction.ITEM_FAULT_REPORTED: "报告试题错误",
    AuditAction.ITEM_FLAGGED_FOR_REVISION: "标记试题待修订",
    AuditAction.ITEM_ENEMY_GROUP_SET: "设置互斥题组",
    AuditAction.ITEM_EDITION_CHANGED: "试题随新版职业标准迁移",
    AuditAction.ITEM_VERSION_SUBMITTED: "提交试题审核",
    AuditAction.ITEM_VERSION_APPROVED: "审核通过入库",
    AuditAction.ITEM_VERSION_RETURNED: "审核退回",
    AuditAction.ASSET_UPLOADED: "上传试题素材",
    AuditAction.PAPER_BLUEPRINT_CREATED: "创建组卷细目表",
    AuditAction.PAPER_BLUEPRINT_UPDATED: "修改组卷细目表",
    AuditAction.PAPER_BLUEPRINT_ASSEMBLY_FAILED: "组卷失败",
    AuditAction.PAPER_ASSEMBLED: "组卷",
    AuditAction.PAPER_FROZEN: "试卷定稿",
    AuditAction.PAPER_DISCARDED: "作废试卷",
    AuditAction.PAPER_ITEM_REPLACED: "试卷换题",
    AuditAction.BATCH_CREATED: "创建考试批次",
    AuditAction.BATCH_UPDATED: "修改考试批次",
    AuditAction.BATCH_FILED: "批次评价前备案",
    AuditAction.BATCH_FILING_CHANGED: "变更备案信息",
    AuditAction.BATCH_STATE_CHANGED: "批次状态变更",
    AuditAction.BATCH_OPENED: "批次开考",
    AuditAction.BATCH_EXTENDED: "全批次延长考试时间",
    AuditAction.BATCH_ROSTER_IMPORTED: "导入考生名单",
    AuditAction.BATCH_ROSTER_CLEARED: "清空考生名单",
    AuditAction.BATCH_DEMO_WINDOW_SET: "设置演示批次考试时间",
    AuditAction.BATCH_RESULTS_COMPUTED: "计算成绩",
    AuditAction.BATCH_RESULTS_PUBLISHED: "发布成绩并公示",
    AuditAction.ROSTER_ENTRY_LOGIN_FAILED: "考生登录失败",
    AuditAction.ROSTER_ENTRY_SEB_CHECK_FAILED: "安全考试浏览器校验失败",
    AuditAction.CANDIDATE_SESSION_OPENED: "考生登录",
    AuditAction.CANDIDATE_SESSION_REPLACED: "考生登录被新登录取代",
    AuditAction.CANDIDATE_SESSION_CLOSED: "考生退出登录",
    AuditAction.ATTEMPT_STARTED: "开始作答",
    AuditAction.ATTEMPT_SUBMITTED: "交卷",
    AuditAction.ATTEMPT_TIMED_OUT: "超时收卷",
    AuditAction.ATTEMPT_TERMINATED: "违纪终止作答",
    AuditAction.ATTEMPT_REOPENED: "重新开放作答",
    AuditAction.ATTEMPT_EXTENDED: "延长考生作答时间",
    AuditAction.ATTEMPT_STALE_SESSION_USED: "已被取代的登录仍在访问",
    AuditAction.ATTEMPT_ANSWER_SAVED: "保存答案",
    AuditAction.ATTEMPT_SIGNAL_RECORDED: "记录异常信号",
    AuditAction.ATTEMPT_SEALED: "封存作答记录",
    AuditAction.INCIDENT_NOTED: "考场情况记录",
    AuditAction.INCIDENT_EXTRA_TIME_GRANTED: "考场记录：延长时间",
    AuditAction.INCIDENT_ATTEMPT_REOPENED: "考场记录：重新开放作答",
    AuditAction.INCIDENT_ATTEMPT_TERMINATED: "考场记录：违纪终止",
    AuditAction.SURVEY_RESPONSE_SUBMITTED: "提交满意度调查",
    AuditAction.ATTEMPT_SCORED: "客观题评分",
    AuditAction.MARK_GIVEN: "主观题阅卷给分",
    AuditAction.RESULT_REVIEW_RECORDED: "成绩复核",
    AuditAction.SCORE_CORRECTION_REQUESTED: "申请更正成绩",
    AuditAction.SCORE_CORRECTION_SELF_APPROVAL_REFUSED: "拒绝本人审批成绩更正",
    AuditAction.SCORE_CORRECTION_APPROVED: "批准成绩更正",
    AuditAction.SCORE_CORRECTION_REJECTED: "驳回成绩更正",
    AuditAction.SCORE_REVIEW_REQUEST_SUBMITTED: "考生申请成绩复核",
    AuditAction.SCORE_REVIEW_REQUEST_ANSWERED: "答复成绩复核申请",
    # statistics
    AuditAction.BATCH_STATISTICS_FLAGS_REPORTED: "统计标记报告至题库",
    AuditAction.BATCH_STATISTICS_COMPUTED: "计算试题与试卷统计",
    AuditAction.KEY_FIX_CONFIRMED: "确认答案更正",
    AuditAction.KEY_FIX_APPLIED: "答案更正后重新评分",
    AuditAction.SCORE_CORRECTION_REGRADED: "因答案更正更正成绩",
    # process record
    AuditAction.AUDIT_LOG_EXPORTED: "导出过程记录",
    # supervision
    AuditAction.SUPERVISION_ASSIGNMENT_CREATED: "委派督导员",
    AuditAction.SUPERVISION_ASSIGNMENT_ENDED: "结束督导委派",
    AuditAction.CONFLICT_DECLARATION_DECLARED: "督导员申报利益冲突",
    AuditAction.ATTEMPT_VIEWED_FOR_SUPERVISION: "督导员查阅考生作答记录",
    AuditAction.SUPERVISION_FINDING_RECORDED: "记录督导发现",
    AuditAction.SUPERVISION_FORM_CREATED: "新建内部督导表",
    AuditAction.SUPERVISION_FORM_UPDATED: "填写内部督导表",
    AuditAction.SUPERVISION_FORM_SIGNED: "签署内部督导表",
    AuditAction.CITY_CREATED: "新增城市",
    AuditAction.DIRECTORY_ENTRY_FILED: "评价机构列入目录（备案）",
    AuditAction.DIRECTORY_ENTRY_CHANGED: "评价机构目录信息变更",
    AuditAction.SUPERVISION_PLAN_CREATED: "制定双随机抽查计划",
    AuditAction.SUPERVISION_DRAW_COMMITTED: "承诺抽取随机种子",
    AuditAction.SUPERVISION_DRAW_PERFORMED: "双随机抽取批次",
    AuditAction.SPOT_CHECK_RECORDED: "记录评价中抽查",
    AuditAction.SPOT_FINDING_RECORDED: "记录抽查问题",
    AuditAction.SPOT_FINDING_ANSWERED: "机构答复整改",
    AuditAction.SPOT_FINDING_CLOSED: "整改销号",
    AuditAction.SPOT_FINDING_REOPENED: "整改重新打开",
    AuditAction.SPOT_CHECK_VIEWED: "查阅他机构抽查记录",
    AuditAction.INDICATOR_SCORE_ENTERED: "录入督导指标评分",
    AuditAction.INDICATOR_SET_DRAFTED: "新建督导指标体系草稿版本",
    AuditAction.INDICATOR_SET_CHANGED: "修改督导指标体系草稿",
    AuditAction.INDICATOR_SET_PUBLISHED: "发布督导指标体系版本",
    AuditAction.INDICATOR_SET_DISCARDED: "删除督导指标体系草稿",
    AuditAction.ORGANISATION_FILE_VIEWED: "查阅机构督导档案",
    AuditAction.ASSESSMENT_DECIDED: "定期评估结论",
    AuditAction.SURVEY_COMMENT_ANSWERED: "机构答复考生意见",
    AuditAction.QUESTIONNAIRE_CREATED: "创建调查问卷",
    AuditAction.QUESTIONNAIRE_CHANGED: "修改调查问卷",
    AuditAction.QUESTIONNAIRE_PUBLISHED: "发布调查问卷",
    AuditAction.QUESTIONNAIRE_COPIED: "复制调查问卷",
    AuditAction.QUESTIONNAIRE_CLOSED: "结束调查问卷",
    AuditAction.QUESTIONNAIRE_DISTRIBUTED: "向批次考生发放问卷",
    AuditAction.QUESTIONNAIRE_RESPONSE_SUBMITTED: "考生提交调查问卷",
    AuditAction.QUESTIONNAIRE_LOGIN_FAILED: "问卷身份核验失败",
    AuditAction.INTERVIEW_RECORDED: "记录个别访谈",
    # certificate data (campaign)
    AuditAction.CERT_CHECK_PERFORMED: "证书数据检查",
    AuditAction.CERT_PROBLEM_EXPLAINED: "证书数据问题说明",
    AuditAction.CERT_REPORT_SUBMITTED: "证书数据上报",
    AuditAction.CERT_REPORT_EXPORTED: "导出证书数据上报文件",
    AuditAction.CERT_RETURN_ENTERED: "登记证书数据退回",
    AuditAction.CERT_RECORD_RESUBMITTED: "退回证书数据重新上报",
    AuditAction.CERT_WARNING_RULE_UPDATED: "修改证书数据预警规则",
    AuditAction.CERT_WARNING_RAISED: "发出证书数据预警",
    AuditAction.CERT_WARNING_ACKNOWLEDGED: "知悉证书数据预警",
    AuditAction.CERT_WARNING_CLOSED: "关闭证书数据预警",
    # campaign: workforce
    AuditAction.TRAINING_COURSE_RECORDED: "登记培训",
    AuditAction.TRAINING_COURSE_ATTENDANCE_RECORDED: "登记培训签到",
    AuditAction.QUALIFICATION_GRANTED: "资格认定（发证或换证）",
    AuditAction.DISPATCH_RECORDED: "派遣考评员或督导员",
    # batch archive
    AuditAction.BATCH_ARCHIVE_BUILT: "生成批次档案",
    AuditAction.BATCH_ARCHIVE_DOWNLOADED: "下载批次档案",
    AuditAction.JOB_REQUESTED: "提交后台任务",
    AuditAction.JOB_FAILED: "后台任务失败",
}


def label_for(action: str | None) -> str:
    """The Chinese label of a stored action; a string that is no member (rows written before the
    vocabulary, or by a newer release) is shown as it is."""
    try:
        return AuditAction(action).label
    except ValueError:
        return action or ""
