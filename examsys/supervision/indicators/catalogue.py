"""The indicator sets, versioned: a set never changes once published (a change is a new
version, and scores keep the version they were given under). Each indicator has a dimension, a
weight (the weights of a set sum to 100), a scoring rule and the campaign key tasks it serves
(docs/supervision-indicators.md documents the mapping).

A computed indicator names its computation (`examsys.supervision.indicators.compute`): its
value is a share in [0, 1] and its score is `min(100, 100 × value / target)`. An entered one is
scored 0–100 by a supervisor (or by the organisation itself, for internal supervision) with
evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

DIMENSIONS = {
    "system": "制度建设",
    "bank": "题库",
    "site": "场所设备",
    "staff": "队伍",
    "process": "过程管理",
    "results": "结果与服务",
}


@dataclass(frozen=True)
class Indicator:
    code: str
    dimension: str
    name: str
    weight: int
    rule: str  # how it is scored, in words (shown on the pages)
    compute: str | None = None  # the computation's key, or None: entered with evidence
    target: float = 1.0  # a computed value at or above the target scores 100
    key_tasks: tuple[int, ...] = field(default_factory=tuple)

    @property
    def dimension_label(self) -> str:
        return DIMENSIONS[self.dimension]

    @property
    def computed(self) -> bool:
        return self.compute is not None


@dataclass(frozen=True)
class IndicatorSet:
    version: str
    published: str
    indicators: tuple[Indicator, ...]

    def get(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    def by_dimension(self) -> dict[str, list[Indicator]]:
        out: dict[str, list[Indicator]] = {d: [] for d in DIMENSIONS}
        for ind in self.indicators:
            out[ind.dimension].append(ind)
        return out


# (code, dimension, name, weight, rule, computation or None, target, key tasks)
_V2026_1 = [
    ("S1", "system", "评价管理制度健全（考务、保密、回避、申诉）", 8, "查阅制度文本，齐全 100，缺一项扣 25",
     None, 1.0, (1, 5)),
    ("S2", "system", "评价前备案及时", 8, "按期备案批次占比（考前 5 日以上备案为按期）",
     "filing_punctuality", 1.0, (2, 5)),
    ("B1", "bank", "题库依据现行国家职业标准建设", 8, "查阅题库与标准版本对应关系，逐项评分", None, 1.0, (3,)),
    ("B2", "bank", "标准变更后题库及时更新", 6, "在现行版本标准上组织的批次占比", "bank_renewed", 1.0, (3,)),
    ("B3", "bank", "理论知识考试线上化", 8, "在本系统线上组织的理论考试批次占比", "online_theory", 1.0, (3, 6)),
    ("F1", "site", "考场与设备符合要求（视频监控、身份核验）", 10, "现场核查考场、监控与设备，逐项评分",
     None, 1.0, (4,)),
    ("T1", "staff", "考评员持证上岗", 12, "批次考评员持有有效考评员证的占比", "certified_staff", 1.0, (4, 5)),
    ("T2", "staff", "督导员、考评员队伍建设与培训", 6, "查阅培训记录，逐项评分", None, 1.0, (4,)),
    ("P1", "process", "抽查发现问题按期整改", 12, "按期整改销号的抽查问题占比", "findings_on_time", 1.0, (5, 7)),
    ("P2", "process", "评价过程记录完整可追溯", 8, "抽查批次过程记录与档案核查，逐项评分", None, 1.0, (5, 7)),
    ("R1", "results", "考生满意度", 8, "满意度调查中满意及以上的占比（90% 为满分）", "satisfaction", 0.9, (8,)),
    ("R2", "results", "证书信息与数据按时报送", 6, "查阅证书数据报送与回传记录，逐项评分", None, 1.0, (6, 8)),
]
SETS: dict[str, IndicatorSet] = {
    "2026.1": IndicatorSet("2026.1", "2026-01-01", tuple(
        Indicator(code, dim, name, weight, rule, comp, target, tasks)
        for code, dim, name, weight, rule, comp, target, tasks in _V2026_1)),
}
CURRENT = "2026.1"

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


def current() -> IndicatorSet:
    return SETS[CURRENT]


def score_of(indicator: Indicator, value: float | None) -> float | None:
    if value is None:
        return None
    return round(min(100.0, 100.0 * value / indicator.target), 1)
