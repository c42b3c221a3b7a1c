"""The main navigation: one list of (endpoint, label, description, permission); each user sees the
entries whose permission they hold and whose endpoint exists in this app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from examsys.permissions import Permission, has_permission


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: str
    desc: str
    permission: Permission | None  # None: every signed-in user (the published supervision pages)


NAV: list[NavEntry] = [
    NavEntry("bank.items", _l("题库"), _l("试题编写、版本与入库状态"), Permission.ITEM_VIEW),
    NavEntry("bank.review_queue", _l("审题"), _l("待审核的试题版本"), Permission.ITEM_REVIEW),
    NavEntry("standards.index", _l("职业标准"), _l("国家职业标准与鉴定要素细目表"), Permission.STANDARD_VIEW),
    NavEntry("assembly.blueprints", _l("组卷"), _l("细目表、组卷与试卷"), Permission.BLUEPRINT_MANAGE),
    NavEntry("delivery.batches", _l("考务"), _l("评价批次、备案与考场"), Permission.BATCH_VIEW),
    NavEntry("delivery.proctor_batches", _l("监考"), _l("考场实时情况、加时与违纪处理"), Permission.PROCTOR_CONSOLE),
    NavEntry("delivery.marking_index", _l("阅卷"), _l("主观题双评与仲裁"), Permission.MARK),
    NavEntry("supervision.index", _l("督导"), _l("督导批次的过程记录、异常提示、督导发现与督导表"),
             Permission.SUPERVISE),
    NavEntry("directory.index", _l("机构目录"), _l("评价机构目录：备案范围、有效期与状态（公开）"), None),
    NavEntry("plans.index", _l("双随机"), _l("年度抽查计划、随机种子承诺与抽取结果（公开）"), None),
    NavEntry("indicators.index", _l("督导指标"), _l("质量督导指标体系的各个版本、修订内容与发布（公开）"), None),
    NavEntry("spotchecks.index", _l("整改"), _l("督导抽查发现的问题与本机构的整改答复"), Permission.FINDING_ANSWER),
    NavEntry("oversight.index", _l("质量督导"), _l("督导档案、抽查整改、指标评分与定期评估"), Permission.CITY_OVERSEE),
    NavEntry("satisfaction.index", _l("满意度"), _l("考生满意度、考生意见答复、问卷调查与个别访谈"),
             Permission.SATISFACTION_VIEW),
    NavEntry("certdata.index", _l("证书数据"), _l("证书数据检查与上报、退回登记、退回率与预警"),
             Permission.CERTDATA_VIEW),
    NavEntry("console.index", _l("质量提升行动"), _l("年度目标的实时数据：各市、各机构完成情况与年度工作总结"),
             Permission.CITY_OVERSEE),
    NavEntry("workforce.index", _l("培训与资格"), _l("评价管理人员培训、考评员与督导员资格认定、派遣与到期预警"),
             Permission.WORKFORCE_VIEW),
    NavEntry("accounts.candidates", _l("考生"), _l("考生信息（身份证号加密保存）"), Permission.CANDIDATE_VIEW),
    NavEntry("accounts.users", _l("用户"), _l("本机构的用户、角色与证书"), Permission.USER_MANAGE),
    NavEntry("accounts.organisations", _l("机构"), _l("评价机构与用人单位"), Permission.ORG_MANAGE),
    NavEntry("audit.events", _l("审计日志"), _l("所有操作的留痕记录"), Permission.AUDIT_VIEW),
    NavEntry("health.status", _l("系统状态"), _l("数据库与过程记录的校验结果"), Permission.AUDIT_VIEW),
]


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    desc: str
    prefix: str


def nav_links() -> list[NavLink]:
    links = []
    for entry in NAV:
        if entry.endpoint not in current_app.view_functions:
            continue
        if entry.permission is None and not current_user.is_authenticated:
            continue
        if entry.permission is not None and not has_permission(current_user, entry.permission):
            continue
        # "accounts.users" is active on accounts.user_new, accounts.user_edit, …
        prefix = entry.endpoint[:-1] if entry.endpoint.endswith("s") else entry.endpoint
        links.append(NavLink(url_for(entry.endpoint), str(entry.label), str(entry.desc), prefix))
    return links
