"""What the results modules (results, publication) share: the batch states results may be
corrected and published in, and the paper's blueprint snapshot of a batch (pass mark, partial
credit, sections)."""

from __future__ import annotations

from examsys.assembly.models import Paper
from examsys.assembly.queries import CHINESE_NUMERALS
from examsys.bank import qtypes
from examsys.delivery.models import Batch, BatchState
from examsys.extensions import db

PUBLISHED_STATES = frozenset({BatchState.PUBLISHED, BatchState.ARCHIVED})
CORRECTABLE_STATES = frozenset({BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED})


def blueprint_snapshot(batch: Batch) -> dict:
    """The blueprint snapshot of the batch's paper ({} without a paper)."""
    paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
    return paper.blueprint_snapshot if paper is not None else {}


def section_meta(batch: Batch) -> list[dict]:
    out = []
    for i, s in enumerate(blueprint_snapshot(batch).get("sections") or []):
        out.append({"index": i, "numeral": CHINESE_NUMERALS[i] if i < len(CHINESE_NUMERALS) else str(i + 1),
                    "type": s["type"], "name": qtypes.LABELS.get(s["type"], s["type"])})
    return out
