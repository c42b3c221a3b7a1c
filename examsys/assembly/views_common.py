"""What the pages of paper assembly share: the `bp` blueprint (routes in ``views`` for paper
blueprints and ``views_papers`` for papers), the permissions they ask for, labels for templates,
and loading a paper's standard."""

from __future__ import annotations

from flask import Blueprint

from examsys.assembly import formats
from examsys.assembly.models import PaperStatus
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import Permission
from examsys.standards.models import LEVELS, Standard

bp = Blueprint("assembly", __name__, url_prefix="/assembly")
MANAGE, ASSEMBLE, VIEW = Permission.BLUEPRINT_MANAGE, Permission.PAPER_ASSEMBLE, Permission.PAPER_VIEW
STATUS_LABELS = {PaperStatus.DRAFT: "草稿", PaperStatus.FROZEN: "已定稿", PaperStatus.RETIRED: "已停用"}


@bp.context_processor
def _helpers():
    return {"TYPE_NAMES": formats.TYPE_NAMES, "LEVELS": LEVELS, "STATUS_LABELS": STATUS_LABELS}


def get_standard(standard_id: int | None) -> Standard:
    standard = db.session.get(Standard, standard_id) if standard_id else None
    if standard is None:
        raise NotFound("未找到该职业标准")
    return standard
