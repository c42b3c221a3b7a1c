"""What answer checking needs of an item (its AnswerSpec), cached per process."""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import bindparam, select

from examsys.assembly.models import PaperFormItem
from examsys.assembly.queries import EFFECTIVE_VERSION_ID
from examsys.bank.models import ItemVersion
from examsys.delivery.exam import answers
from examsys.delivery.models import Attempt
from examsys.errors import NotFound
from examsys.extensions import db

# Per-process cache of what answer checking needs, keyed by (form item, effective version): item
# versions on a frozen paper never change, and a replacement changes the key, so an entry can
# never be stale. Bounded; correctness never depends on it (a miss just reads the version).
_SPEC_CACHE: OrderedDict[tuple[int, int], answers.AnswerSpec] = OrderedDict()
_SPEC_CACHE_SIZE = 4096
_SPEC_LOCK = threading.Lock()

_fi = PaperFormItem.__table__
_ITEM = select(_fi.c.form_id, EFFECTIVE_VERSION_ID).where(_fi.c.id == bindparam("item_ref"))


def spec_for(form_item_id: int, version_id: int) -> answers.AnswerSpec:
    key = (form_item_id, version_id)
    with _SPEC_LOCK:
        spec = _SPEC_CACHE.get(key)
        if spec is not None:
            _SPEC_CACHE.move_to_end(key)
            return spec
    version = db.session.get(ItemVersion, version_id)
    spec = answers.spec_of(version.qtype.value, version.content or {})
    with _SPEC_LOCK:
        _SPEC_CACHE[key] = spec
        while len(_SPEC_CACHE) > _SPEC_CACHE_SIZE:
            _SPEC_CACHE.popitem(last=False)
    return spec


def answer_spec(attempt: Attempt, form_item_id: int) -> answers.AnswerSpec:
    """The AnswerSpec of item `form_item_id` of this attempt's form (NotFound otherwise)."""
    row = db.session.connection().execute(_ITEM, {"item_ref": form_item_id}).first()
    if row is None or row[0] != attempt.form_id:
        raise NotFound("试题不存在")
    return spec_for(form_item_id, row[1])
