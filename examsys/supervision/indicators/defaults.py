"""The default indicator set (version 1, label 2026.1) as plain data, the campaign's eight key
tasks it is derived from, and the computations a computed indicator may name as its source.

The migration that creates the versioned sets stores a frozen copy of DEFAULT_CONTENT as version
1 (a migration never imports code that may change later); tests build their schema with
create_all() and seed it from here (`versions.seed_default`), and a test checks the two agree.
docs/supervision-indicators.md documents the mapping from key task to indicator."""

from __future__ import annotations

DEFAULT_LABEL = "2026.1"

# The campaign's eight key tasks the indicators serve (docs/supervision-indicators.md).
KEY_TASKS = {
    1: "健全评价机构管理制度",
    2: "规范评价机构备案与目录管理",
    3: "加强题库建设与线上理论考试",
    4: "考评人员持证上岗与考场建设",
    5: "加强评价过程质量督导",
    6: "推进证书信息与数据共享",
    7: "开展双随机抽查与问题整改",
    8: "提升评价服务质量与满意度",
}

# What a computed indicator may be computed from (examsys.supervision.indicators.compute), with
# the direction that is better: "at_least" (a share to reach) or "at_most" (a share to stay under).
SOURCES = {
    "filing_punctuality": ("按期备案批次占比（考前 5 日以上备案）", "at_least"),
    "certified_staff": ("考评员持证上岗占比", "at_least"),
    "online_theory": ("线上理论考试批次占比", "at_least"),
    "bank_renewed": ("在现行版本标准上组织的批次占比", "at_least"),
    "findings_on_time": ("抽查问题按期整改销号占比", "at_least"),
    "satisfaction": ("考生满意及以上占比", "at_least"),
    "return_rate": ("证书上报数据退回率（退回记录 ÷ 上报记录）", "at_most"),
}

DIRECTIONS = {"at_least": "越高越好", "at_most": "越低越好"}


def _c(code, dim, name, weight, rule, source, full, zero, evidence, tasks):
    direction = SOURCES[source][1]
    return {"code": code, "dimension": dim, "name": name, "weight": weight, "kind": "computed", "source": source,
            "direction": direction, "full": full, "zero": zero, "rule": rule, "evidence": evidence,
            "key_tasks": list(tasks)}


def _e(code, dim, name, weight, rule, evidence, tasks):
    return {"code": code, "dimension": dim, "name": name, "weight": weight, "kind": "entered", "source": None,
            "direction": None, "full": None, "zero": None, "rule": rule, "evidence": evidence,
            "key_tasks": list(tasks)}


DEFAULT_CONTENT = {
    "dimensions": [
        {"key": "system", "name": "制度建设"},
        {"key": "bank", "name": "题库"},
        {"key": "site", "name": "场所设备"},
        {"key": "staff", "name": "队伍"},
        {"key": "process", "name": "过程管理"},
        {"key": "results", "name": "结果与服务"},
    ],
    "indicators": [
        _e("S1", "system", "评价管理制度健全（考务、保密、回避、申诉）", 8, "查阅制度文本，齐全 100，缺一项扣 25",
           "考务、保密、回避、申诉制度文本", (1, 5)),
        _c("S2", "system", "评价前备案及时", 8, "按期备案批次占比（考前 5 日以上备案为按期），100% 为满分",
           "filing_punctuality", 1.0, 0.0, "系统内批次备案时间与考试时间", (2, 5)),
        _e("B1", "bank", "题库依据现行国家职业标准建设", 8, "查阅题库与标准版本对应关系，逐项评分",
           "题库与国家职业标准版本对照表", (3,)),
        _c("B2", "bank", "标准变更后题库及时更新", 6, "在现行版本标准上组织的批次占比，100% 为满分",
           "bank_renewed", 1.0, 0.0, "系统内批次所用标准版本", (3,)),
        _c("B3", "bank", "理论知识考试线上化", 8, "在本系统线上组织的理论考试批次占比，100% 为满分",
           "online_theory", 1.0, 0.0, "系统内批次与试卷记录", (3, 6)),
        _e("F1", "site", "考场与设备符合要求（视频监控、身份核验）", 8, "现场核查考场、监控与设备，逐项评分",
           "现场核查记录与照片", (4,)),
        _c("T1", "staff", "考评员持证上岗", 10, "批次考评员持有有效考评员证的占比，100% 为满分",
           "certified_staff", 1.0, 0.0, "系统内批次考评员及其证书", (4, 5)),
        _e("T2", "staff", "督导员、考评员队伍建设与培训", 6, "查阅培训记录，逐项评分",
           "培训计划、签到与考核记录", (4,)),
        _c("P1", "process", "抽查发现问题按期整改", 10, "按期整改销号的抽查问题占比，100% 为满分",
           "findings_on_time", 1.0, 0.0, "系统内抽查发现与整改记录", (5, 7)),
        _e("P2", "process", "评价过程记录完整可追溯", 8, "抽查批次过程记录与档案核查，逐项评分",
           "抽查批次的过程记录与档案", (5, 7)),
        _c("R1", "results", "考生满意度", 8, "满意度调查中满意及以上的占比，90% 为满分", "satisfaction", 0.9, 0.0,
           "系统内考后满意度调查与问卷", (8,)),
        _e("R2", "results", "证书信息与数据按时报送", 6, "查阅证书数据报送与回传记录，逐项评分",
           "证书数据报送与回传记录", (6, 8)),
        _c("R3", "results", "证书数据退回率", 6,
           "上报证书数据被退回的占比，5% 及以下满分，20% 及以上不得分，其间按比例",
           "return_rate", 0.05, 0.20, "系统内证书数据上报与退回登记", (6, 8)),
    ],
}
