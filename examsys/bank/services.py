"""The bank's domain operations, in one place for views, the CLI and other domains.

Implementation is split by concern: `items` (create, edit, retire, faults, revision flags),
`workflow` (submit, review, batch approval, the review policy), `diff` (version comparison),
`importing` (bulk import of parsed drafts). Search, similarity, assets, rich text and the
question-type registry are modules of their own (`search`, `similarity`, `assets`, `richtext`,
`qtypes`).

Every operation flushes and never commits; each state change records one audit event. What each
raises is documented on the function (examsys.errors: ValidationError, Conflict,
PermissionDenied, NotFound).
"""

from examsys.bank.diff import DiffRow, FieldDiff, version_diff
from examsys.bank.importing import ImportReport, import_drafts
from examsys.bank.items import (
    carry_over,
    content_hash,
    create_item,
    enemy_group_members,
    flag_needs_revision,
    open_fault_reports,
    prepare_content,
    report_fault,
    retire,
    save_edit,
    search_text_for,
    set_enemy_group,
)
from examsys.bank.models import Item, ItemVersion
from examsys.bank.workflow import (
    SimilarWarning,
    approve,
    batch_approve,
    return_version,
    similar_to,
    submit,
)
from examsys.permissions import can_review, may_approve, may_review  # the review policy, re-exported


def write_item(author, org, *, submit_for_review: bool = False, **fields) -> Item:
    """The editor's "save" of a new item: `create_item`, then, when asked, `submit` its first
    version for review, as one operation (both or neither). Raises what those raise."""
    item = create_item(author, org, **fields)
    if submit_for_review:
        submit(author, item.latest_version)
    return item


def write_version(author, item: Item, *, submit_for_review: bool = False, **fields) -> ItemVersion:
    """The editor's "save" of an edit: `save_edit`, then, when asked, `submit` the new version.
    Raises what those raise."""
    version = save_edit(author, item, **fields)
    if submit_for_review:
        submit(author, version)
    return version


__all__ = [
    "DiffRow", "FieldDiff", "ImportReport", "SimilarWarning", "approve", "batch_approve", "can_review",
    "carry_over",
    "content_hash", "create_item", "enemy_group_members", "set_enemy_group",
    "flag_needs_revision", "import_drafts", "open_fault_reports",
    "prepare_content", "report_fault", "retire", "return_version", "may_approve", "may_review", "save_edit",
    "search_text_for", "similar_to", "submit", "version_diff", "write_item", "write_version",
]
