"""The blueprint's option to match the forms' test information at the pass mark, as the app sees
it: validating the tolerance, the FormSpec fields it becomes, and what the paper's report says
about the item parameters used. The solver's side is ``information`` (model) and ``checker``."""

from __future__ import annotations

from examsys.assembly import formats
from examsys.assembly.formats import num


def information_problems(data: dict) -> list[str]:
    """Chinese messages for a tolerance that is out of range or set with fewer than two forms."""
    tolerance = data.get("info_tolerance")
    if tolerance in (None, ""):
        return []
    if not 0 < num(tolerance, -1) <= formats.MAX_INFO_TOLERANCE:
        return [f"测验信息量容差须大于 0 且不超过 {formats.MAX_INFO_TOLERANCE:g}（%），不匹配请留空"]
    if data.get("per_candidate"):
        # One form per candidate redraws each item within its interchangeable class, which keeps
        # every count the blueprint sets but not the forms' information: refused, not silently lost.
        return ["一人一卷的各份试卷由同类试题轮换生成，不能再按测验信息量匹配：请清空该容差，或取消一人一卷"]
    if num(data.get("forms")) < 2:
        return ["测验信息量容差用于让各套试卷在合格线处的信息量相当，至少需要 2 套试卷："
                "请把试卷套数改为 2 套及以上，或清空该容差"]
    return []


def information_spec(data: dict) -> dict:
    """FormSpec fields: the tolerance, and the pass fraction (pass mark over total points) that
    fixes θ_cut over the eligible pool; nothing when the blueprint does not match information."""
    tolerance = data.get("info_tolerance")
    if tolerance in (None, ""):
        return {}
    return {"info_tolerance": float(tolerance),
            "pass_fraction": float(data["pass_mark"]) / float(data["total_points"])}


def information_stats(data: dict, estimated: dict[int, tuple[float, float]], forms) -> dict:
    """For the paper's report: how many chosen items had 2PL estimates from exam data (the others
    took the fallback parameters of their difficulty level), and how many in the bank had them."""
    if data.get("info_tolerance") is None or len(forms) < 2:
        return {}
    chosen = {int(i) for f in forms for i in f.items}
    return {"irt_items": sum(1 for i in chosen if i in estimated), "irt_chosen_items": len(chosen),
            "irt_bank_items": len(estimated)}
