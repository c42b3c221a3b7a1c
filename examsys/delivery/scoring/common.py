"""Helpers shared by the results modules (results, publication): reviewer checks and the
paper's blueprint snapshot of a batch."""

from __future__ import annotations

from examsys.assembly.queries import CHINESE_NUMERALS
from examsys.bank import qtypes
from examsys.delivery.models import (
    Batch,
    BatchState,
)
from examsys.errors import PermissionDenied
from examsys.extensions import db
from examsys.permissions import Permission, has_permission

PUBLISHED_STATES = frozenset({BatchState.PUBLISHED, BatchState.ARCHIVED})
CORRECTABLE_STATES = frozenset({BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED})


def _require_reviewer(actor, batch: Batch) -> None:
    if not has_permission(actor, Permission.RESULT_REVIEW) or actor.organisation_id != batch.organisation_id:
        raise PermissionDenied("需要本机构的成绩复核权限")


def _paper(batch: Batch):
    from examsys.assembly.models import Paper

    return db.session.get(Paper, batch.paper_id) if batch.paper_id else None


def _snapshot(batch: Batch) -> dict:
    paper = _paper(batch)
    return paper.blueprint_snapshot if paper is not None else {}


def section_meta(batch: Batch) -> list[dict]:
    out = []
    for i, s in enumerate(_snapshot(batch).get("sections") or []):
        out.append({"index": i, "numeral": CHINESE_NUMERALS[i] if i < len(CHINESE_NUMERALS) else str(i + 1),
                    "type": s["type"], "name": qtypes.LABELS.get(s["type"], s["type"])})
    return out
