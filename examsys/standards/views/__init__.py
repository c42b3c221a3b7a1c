"""Pages of the standards domain: the `bp` blueprint, with the list, detail, downloads, coverage
and worklist pages (`pages`), editing a standard and its knowledge tree (`edit`), and Excel tree
import and new editions (`imports`) in their own modules; shared helpers are in `common`.
"""

from __future__ import annotations

from flask import Blueprint

from examsys.standards import coverage as cov
from examsys.standards import services
from examsys.standards.models import IMPORTANCE_LABELS, LEVELS

bp = Blueprint("standards", __name__, url_prefix="/standards")


@bp.context_processor
def _helpers():
    return {"LEVELS": LEVELS, "IMPORTANCE_LABELS": IMPORTANCE_LABELS, "CHANGE_LABELS": services.CHANGE_LABELS,
            "QTYPE_SHORT": cov.QTYPE_SHORT}


from examsys.standards.views import edit, imports, pages  # noqa: E402,F401  (routes register on bp)
