"""The Chinese words the process-record pages use for what events hold: the kinds of object an
event is about, the fields services put into `data`, and the coded values some of them carry.

A key nobody named here is shown as it is stored: add its label here when a service starts
recording a new one.
"""

from __future__ import annotations

from examsys.accounts.models import ORG_KIND_LABELS
from examsys.delivery.models.attempts import ATTEMPT_STATUS_LABELS
from examsys.delivery.models.batches import BATCH_STATE_LABELS
from examsys.permissions import ROLE_LABELS

# The audit name of each kind of object (the part of an action before the dot).
OBJECT_LABELS: dict[str, str] = {
    "organisation": "机构", "user": "用户", "candidate": "考生", "permission": "访问权限",
    "standard": "职业标准", "knowledge_range": "鉴定范围", "assessment_point": "鉴定点",
    "item": "试题", "item_version": "试题版本", "asset": "试题素材",
    "paper_blueprint": "组卷细目表", "paper": "试卷",
    "batch": "考试批次", "roster_entry": "考生名单", "candidate_session": "考生登录",
    "attempt": "作答", "incident": "考场记录", "survey_response": "满意度调查",
    "mark": "阅卷", "result_review": "成绩复核", "score_correction": "成绩更正",
    "score_review_request": "成绩复核申请", "audit_log": "过程记录",
}

FIELD_LABELS: dict[str, str] = {
    # who and what
    "username": "用户名", "display_name": "姓名", "name": "名称", "code": "代码", "kind": "类型",
    "roles": "角色", "active": "启用", "certificates": "证书", "user_id": "用户", "until": "锁定至",
    "ticket_no": "准考证号", "reason": "原因", "comment": "意见", "note": "说明", "path": "访问路径",
    "sha256": "SHA-256", "bytes": "字节数", "satisfied": "是否满意", "id_number": "证件号码",
    # standards and bank
    "edition": "版本", "levels": "等级", "level": "等级", "standard_id": "职业标准", "range": "鉴定范围",
    "parent": "上级范围", "importance": "重要程度", "ranges": "鉴定范围数", "points": "鉴定点数",
    "replace": "替换原有结构", "source": "来源", "old_standard_id": "原职业标准", "old_edition": "原版本",
    "mapping": "鉴定点对照", "items_flagged": "标记待修订的试题", "items_moved": "迁移的试题数",
    "from_standard_id": "原职业标准", "to_standard_id": "新职业标准", "point_id": "鉴定点",
    "item_id": "试题", "version_id": "试题版本", "number": "版本号", "qtype": "题型", "status": "状态",
    "withdrawn": "撤回的版本", "previous_status": "原状态", "fault_report_id": "错误报告",
    "similar": "相似试题", "final": "终审", "field_comments": "逐项意见", "files": "文件",
    "count": "数量", "by_type": "各题型数量", "approved": "直接入库", "partial": "部分导入",
    "skipped": "跳过", "errors": "错误数", "id_ranges": "试题编号范围", "filename": "文件名",
    "mime": "文件类型", "size": "大小", "width": "宽度", "height": "高度", "reused": "复用",
    # assembly
    "blueprint_id": "组卷细目表", "seed": "随机种子", "forms": "试卷册别", "stats": "求解统计",
    "items": "题数", "form": "试卷册别", "position": "题序", "form_item_id": "试卷题目",
    "old_version_id": "原试题版本", "new_version_id": "新试题版本", "reasons": "原因",
    "duration_minutes": "考试时长（分钟）", "total_points": "总分", "pass_mark": "合格分数线",
    "sections": "题型部分",
    # batches
    "venue": "考点", "window_start": "考试开始时间", "window_end": "考试结束时间", "paper_id": "试卷",
    "supervisor_id": "督导员", "seb_config_key": "安全考试浏览器配置密钥", "rooms": "考场",
    "markers": "阅卷人", "proctors": "监考人员", "capacity": "容量", "candidates": "考生人数",
    "snapshot": "批次信息", "file": "文件", "photos": "照片数", "photos_file": "照片文件",
    "removed": "移除人数", "filing_change_id": "备案变更", "changes": "变更", "window_note": "说明",
    "grace_seconds": "交卷宽限（秒）", "start_jitter_seconds": "错峰开考最长延迟（秒）",
    "candidates_per_proctor": "每名考评员最多监考人数", "min_proctors_per_room": "每个考场最少考评员人数",
    "review_apply_days": "复核申请期限（工作日）", "review_answer_days": "复核答复期限（工作日）",
    "require_access_code": "须输入考场口令", "shuffle_items": "试题乱序", "shuffle_options": "选项乱序",
    # exam
    "trigger": "触发方式", "attempt_id": "作答", "attempt": "作答", "batch_id": "批次", "room_id": "考场",
    "started_at": "开始时间", "finished_at": "结束时间", "deadline_at": "截止时间",
    "deadline": "截止时间", "answered": "已答题数", "order_seed": "题序种子", "minutes": "延长分钟数",
    "extension_id": "延时记录", "deadlines": "调整的截止时间", "previous": "原状态",
    "session_id": "登录会话", "replaced_by": "取代它的登录", "replaced": "被取代的登录",
    "ip": "IP 地址", "old_ip": "原 IP 地址", "new_ip": "新 IP 地址", "data": "数据",
    "occurred_at": "发生时间", "head": "链头哈希", "entry": "考生名单（登录链）",
    "entry_size": "登录链长度", "entry_head": "登录链链头哈希", "after": "之后", "from": "原状态", "to": "新状态",
    # scoring
    "results": "成绩数", "new": "新增", "checked": "核对数", "findings": "发现问题数", "passed": "通过",
    "item_score_id": "题目得分", "original": "分数", "corrected": "更正后分数", "total": "总分",
    "notice_days": "公示天数", "notice_ends_at": "公示截止时间", "roster_entry_id": "考生名单",
    "scope": "复核范围", "due_at": "答复期限", "outcome": "答复结果", "overdue": "逾期",
    "auto_total": "客观题得分", "to_mark": "待阅卷题数", "partial_credit": "部分得分",
    "score": "分数", "final_score": "最终得分", "marker": "阅卷人",
    # the record itself
    "format": "格式", "rows": "条数", "filters": "筛选条件",
    # pairs (see presenting.changes): the field both sides describe
    "state": "状态", "version": "试题版本", "value": "内容",
}

# Coded values shown in words: per kind of object ("*": any), per field.
_ATTEMPT_STATUS = {s.value: label for s, label in ATTEMPT_STATUS_LABELS.items()}
_ROLES = {r.value: label for r, label in ROLE_LABELS.items()}
VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "*": {"roles": _ROLES},
    "attempt": {"status": _ATTEMPT_STATUS, "previous": _ATTEMPT_STATUS},
    "batch": {"state": {s.value: label for s, label in BATCH_STATE_LABELS.items()},
              "trigger": {"first_start": "首位考生开始作答"}},
    "organisation": {"kind": {k.value: label for k, label in ORG_KIND_LABELS.items()}},
}


CANDIDATE_ROLE = "candidate"
CANDIDATE_LABEL = "考生"


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def object_label(object_type: str | None) -> str:
    return OBJECT_LABELS.get(object_type or "", object_type or "")


def role_labels(roles: str | None) -> list[str]:
    """The Chinese names of a stored comma-separated role list (`candidate` included)."""
    out = []
    for value in (roles or "").split(","):
        value = value.strip()
        if value == CANDIDATE_ROLE:
            out.append(CANDIDATE_LABEL)
        elif value:
            out.append(_ROLES.get(value, value))
    return out


def value_words(object_type: str | None, key: str) -> dict[str, str]:
    """{stored value: words} for `key` in events about `object_type` (empty when none)."""
    return VALUE_LABELS.get(object_type or "", {}).get(key) or VALUE_LABELS["*"].get(key) or {}
