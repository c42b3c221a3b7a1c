"""The solver's FormSpec built from a stored blueprint snapshot (the JSON the blueprint editor
saves and a paper keeps): shared by assembling and by re-checking a paper's compliance."""

from __future__ import annotations

from examsys.assembly import formats
from examsys.assembly.matching import information_spec
from examsys.errors import ValidationError


def _opt_int(value) -> int | None:
    return None if value in (None, "") else int(value)


def to_form_spec(data: dict, *, exclude: set[str] = frozenset()) -> formats.FormSpec:
    """The solver's FormSpec from a blueprint snapshot; raises ValidationError naming the rule."""
    try:
        return formats.FormSpec(
            sections=tuple(formats.Section(type=s["type"], count=int(s["count"]), points=float(s["points"]))
                           for s in data["sections"]),
            forms=int(data["forms"]),
            max_shared_items=int(data["max_shared_items"]),
            content=tuple(formats.ContentRule(kp_prefix=r["kp_prefix"], min=int(r.get("min") or 0),
                                              max=_opt_int(r.get("max")),
                                              types=tuple(r["types"]) if r.get("types") else None)
                          for r in data["content_rules"]),
            difficulty=tuple(formats.DifficultyRule(level=int(r["level"]), min=int(r.get("min") or 0),
                                                    max=_opt_int(r.get("max")))
                             for r in data["difficulty_rules"]),
            importance=tuple(formats.ImportanceRule(importance=r["importance"], min=int(r["min"]))
                             for r in data["importance_rules"]),
            exclude=frozenset(exclude),
            max_exposure=_opt_int(data.get("max_exposure")),
            **information_spec(data),
        )
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise ValidationError(f"细目表规则不完整或数值无效：{exc}") from exc
