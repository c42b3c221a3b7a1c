"""What changed between two versions of the indicator system: dimensions and indicators added,
removed and changed, field by field, in Chinese (the version pages, the process record)."""

from __future__ import annotations

from dataclasses import dataclass

from examsys.supervision.indicators.defaults import DIRECTIONS, SOURCES

FIELD_LABELS = {"code": "编号", "dimension": "维度", "name": "名称", "weight": "权重", "kind": "评分方式",
                "source": "数据来源", "direction": "方向", "full": "满分阈值", "zero": "零分阈值", "rule": "评分规则",
                "evidence": "评分依据", "key_tasks": "对应重点任务"}
KIND_LABELS = {"computed": "系统计算", "entered": "督导录入"}


@dataclass(frozen=True)
class Change:
    kind: str  # "added" | "removed" | "changed"
    what: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        label = {"added": "新增", "removed": "删除", "changed": "修改"}[self.kind]
        return f"{label}{self.what}" + (f"：{'；'.join(self.details)}" if self.details else "")


def _show(field: str, value, dims: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field == "dimension":
        return dims.get(value, value)
    if field == "kind":
        return KIND_LABELS.get(value, value)
    if field == "source":
        return SOURCES[value][0] if value in SOURCES else value
    if field == "direction":
        return DIRECTIONS.get(value, value)
    if field in ("full", "zero"):
        return f"{value:.0%}"
    if field == "key_tasks":
        return "、".join(str(t) for t in value)
    return str(value)


def changes(old: dict, new: dict) -> list[Change]:
    """What changed from `old` to `new` (two contents): dimensions and indicators added, removed
    and changed, field by field."""
    out: list[Change] = []
    old_dims = {d["key"]: d["name"] for d in old.get("dimensions", [])}
    new_dims = {d["key"]: d["name"] for d in new.get("dimensions", [])}
    for key, name in new_dims.items():
        if key not in old_dims:
            out.append(Change("added", f"维度「{name}」"))
        elif old_dims[key] != name:
            out.append(Change("changed", f"维度「{old_dims[key]}」", (f"名称：{old_dims[key]} → {name}",)))
    out.extend(Change("removed", f"维度「{name}」") for key, name in old_dims.items() if key not in new_dims)
    old_inds = {i["code"]: i for i in old.get("indicators", [])}
    new_inds = {i["code"]: i for i in new.get("indicators", [])}
    for code, ind in new_inds.items():
        was = old_inds.get(code)
        if was is None:
            out.append(Change("added", f"指标 {code} {ind['name']}", (
                f"权重 {ind['weight']}", KIND_LABELS.get(ind["kind"], ind["kind"]))))
            continue
        fields = tuple(f"{FIELD_LABELS[f]}：{_show(f, was.get(f), old_dims)} → {_show(f, ind.get(f), new_dims)}"
                       for f in FIELD_LABELS if was.get(f) != ind.get(f))
        if fields:
            out.append(Change("changed", f"指标 {code} {ind['name']}", fields))
    out.extend(Change("removed", f"指标 {code} {ind['name']}") for code, ind in old_inds.items()
               if code not in new_inds)
    return out


def diff(old: dict, new: dict) -> list[str]:
    return [str(c) for c in changes(old, new)]
